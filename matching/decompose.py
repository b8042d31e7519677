"""Decomposition: rounds too large even to list their eligible pairs, solved in parts.

A region-wide round (XL: 200,000 households and 100,000 units) has billions of eligible
pairs: listing them would take most of an hour and tens of GiB. Two facts make it
tractable:

1. **Commute limits split the region into independent components.** A household can
   only be placed within its maximum commute of its workplace, so households and units
   fall into groups no pair crosses (the Capitanata, the Salento, ...). Components are
   found on a grid of 0.1° cells: two cells are linked when some point of one is within
   the largest reach of a household of the other. The linking is a superset of the real
   pairs, so components found this way never separate a real pair: solving them apart
   loses nothing, except through the funds they share.
2. **A component too large to solve whole is split into replicas.** Its households are
   dealt round-robin, in the order of their workplace cell, into ``k`` parts, and its
   dwellings and shared flats likewise by their location cell: each part is a sample of
   the whole component with the same geography at ``1/k`` of its density, holding about
   ``1/k²`` of its pairs. ``k`` is the smallest that brings a part under
   ``SolveParams.decompose_part_pairs`` (estimated by exact eligibility on a sample of
   households). Pairs across parts are given up: each household is offered ``1/k`` of
   the units it could take, still hundreds in a dense component.

Small components are packed together into parts of about the same size (that is
exact: they share no pair).

**The funds couple the parts.** Parts are solved one after the other, each by
price-and-branch (:mod:`matching.pricing`: its repaired matching and small master reach
99.6% of a part's bound in 20-40 s, where the whole formulation's LP does not finish),
and each fund is shared out as it goes: a part receives the money still
left times its share of the fund's remaining demand (the weight of the households of
the remaining parts the fund may pay for), plus what its pinned placements need, set
aside for it from the start. What a part does not spend (the second stage
minimises the contribution) is carried over to the parts after it, so no money is left
idle because of the split and no fund is ever overspent.

**The bound** is on the whole round: no allocation places a household that has no
eligible pair at all, so the weight of those that have one bounds objective 1. Every
household with a pair in its part counts; one without is checked against every unit of
its component (exactly, with the round's whole budgets). It is a weak bound where money
binds (it ignores the funds), and the result says so: its status is ``FEASIBLE``.

Unassigned households of a replica part carry, after their reasons within the part, the
reason ``other_parts_not_searched``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph

from matching import geo
from matching.eligibility import eligible_pairs
from matching.explain import empty_result, pin_conflicts
from matching.instance import Fund, Instance
from matching.params import SolveParams
from matching.result import Assignment, Result, Status, Unassigned, objective_of

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

logger = logging.getLogger("matching.decompose")

CELL_DEG = 0.1
"""Side of a grid cell, in degrees of latitude and of longitude."""
_CELL_HALF_DIAGONAL_KM = 0.5 * CELL_DEG * 112.0 * math.sqrt(2.0)
"""At most half a cell's diagonal (a degree is at most 112 km on either axis)."""
SAMPLE_HOUSEHOLDS = 300
"""Households per component whose pairs are listed to estimate the component's pairs."""
BOUND_SHARE = 0.08
"""Share of the time limit kept for the bound's check of households without a pair."""
OTHER_PARTS = "other_parts_not_searched"


@dataclass
class Part:
    """The households and units solved together."""

    households: IntArray
    dwellings: IntArray
    flats: IntArray
    replica: bool
    """A replica of a split component (pairs to other parts exist and were given up)."""
    component: int
    est_pairs: float
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """How a round is decomposed."""

    parts: list[Part]
    household_component: IntArray
    unit_component: IntArray
    components: int
    est_pairs: float
    seconds: float


# --------------------------------------------------------------------------- components


def _cell_keys(lat: FloatArray, lon: FloatArray) -> IntArray:
    i = np.floor(lat / CELL_DEG).astype(np.int64)
    j = np.floor(lon / CELL_DEG).astype(np.int64)
    return (i + 10_000) * 100_000 + (j + 10_000)


def _cell_centres(keys: IntArray) -> tuple[FloatArray, FloatArray]:
    i = keys // 100_000 - 10_000
    j = keys % 100_000 - 10_000
    return (i + 0.5).astype(np.float64) * CELL_DEG, (j + 0.5).astype(np.float64) * CELL_DEG


def components(inst: Instance) -> tuple[IntArray, IntArray, int]:
    """Component label of every household and unit, and how many components.

    Two households in different components have no unit they could both take, and a
    household has no eligible unit outside its component. Units no household can reach
    get label ``-1``.
    """
    nb, nu = len(inst.beneficiaries), inst.n_units
    b_lat = np.array([b.work.lat for b in inst.beneficiaries], dtype=np.float64)
    b_lon = np.array([b.work.lon for b in inst.beneficiaries], dtype=np.float64)
    reach = np.array([b.max_commute_km for b in inst.beneficiaries], dtype=np.float64) \
        / inst.policy.circuity * geo.SPHERE_MARGIN + 1e-3
    u_lat = np.array([d.lat for d in inst.dwellings] + [f.lat for f in inst.shared_flats],
                     dtype=np.float64)
    u_lon = np.array([d.lon for d in inst.dwellings] + [f.lon for f in inst.shared_flats],
                     dtype=np.float64)
    hk, h_of = np.unique(_cell_keys(b_lat, b_lon), return_inverse=True)
    uk, u_of = np.unique(_cell_keys(u_lat, u_lon), return_inverse=True)
    h_reach = np.zeros(hk.size)
    np.maximum.at(h_reach, h_of, reach)
    hla, hlo = _cell_centres(hk)
    ula, ulo = _cell_centres(uk)
    dist = geo.haversine_km(hla[:, None], hlo[:, None], ula[None, :], ulo[None, :])
    # the haversine on the mean sphere is within 0.5% of the geodesic: a wide margin
    linked = np.asarray(dist * 0.99 - 2 * _CELL_HALF_DIAGONAL_KM <= h_reach[:, None])
    ri, ci = np.nonzero(linked)
    n = hk.size + uk.size
    graph = sparse.coo_matrix((np.ones(ri.size), (ri, hk.size + ci)), shape=(n, n))
    count, label = csgraph.connected_components(graph, directed=False)
    b_comp = label[h_of].astype(np.int64) if nb else np.zeros(0, np.int64)
    u_cell_comp = label[hk.size:].astype(np.int64)
    reached = np.zeros(uk.size, dtype=bool)
    reached[ci] = True
    u_comp = np.where(reached[u_of], u_cell_comp[u_of], -1) if nu else np.zeros(0, np.int64)
    return b_comp, u_comp.astype(np.int64), int(count)


# --------------------------------------------------------------------------- the plan


def _sub_instance(inst: Instance, name: str, households: IntArray, dwellings: IntArray,
                  flats: IntArray, funds: Sequence[Fund] | None = None) -> Instance:
    bs = tuple(inst.beneficiaries[i] for i in households.tolist())
    ds = tuple(inst.dwellings[i] for i in dwellings.tolist())
    fs = tuple(inst.shared_flats[i] for i in flats.tolist())
    b_ids = {b.id for b in bs}
    u_ids = {d.id for d in ds} | {f.id for f in fs}
    pinned = tuple(p for p in inst.pinned if p.beneficiary in b_ids and p.unit in u_ids)
    forbidden = tuple(f for f in inst.forbidden if f.beneficiary in b_ids and f.unit in u_ids)
    return Instance(name=name, policy=inst.policy,
                    funds=tuple(inst.funds if funds is None else funds), beneficiaries=bs,
                    dwellings=ds, shared_flats=fs, pinned=pinned, forbidden=forbidden)


def _split_units(nd: int, units: IntArray) -> tuple[IntArray, IntArray]:
    return units[units < nd], units[units >= nd] - nd


def _estimate_pairs(inst: Instance, households: IntArray, units: IntArray,
                    rng: np.random.Generator) -> float:
    """The pairs of ``households`` x ``units``, from exact eligibility on a sample."""
    if households.size == 0 or units.size == 0:
        return 0.0
    take = households if households.size <= SAMPLE_HOUSEHOLDS else np.sort(
        rng.choice(households, SAMPLE_HOUSEHOLDS, replace=False))
    d, f = _split_units(len(inst.dwellings), units)
    sample = _sub_instance(inst, "sample", take, d, f)
    return len(eligible_pairs(sample)) * households.size / take.size


def _deal(order_keys: IntArray, k: int, rng: np.random.Generator) -> IntArray:
    """Part of each item: round-robin in the order of its cell (random within a cell)."""
    n = order_keys.size
    shuffled = rng.permutation(n)
    order = shuffled[np.argsort(order_keys[shuffled], kind="stable")]
    part = np.empty(n, dtype=np.int64)
    part[order] = np.arange(n) % k
    return part


def plan(inst: Instance, part_pairs: int, seed: int = 0) -> Plan:
    """Components, their pair estimates, and the parts (see the module docstring)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    nd = len(inst.dwellings)
    b_comp, u_comp, n_comp = components(inst)
    b_keys = _cell_keys(np.array([b.work.lat for b in inst.beneficiaries]),
                        np.array([b.work.lon for b in inst.beneficiaries]))
    u_keys = _cell_keys(
        np.array([d.lat for d in inst.dwellings] + [f.lat for f in inst.shared_flats]),
        np.array([d.lon for d in inst.dwellings] + [f.lon for f in inst.shared_flats]))
    b_order, u_order = np.argsort(b_comp, kind="stable"), np.argsort(u_comp, kind="stable")
    b_bounds = np.searchsorted(b_comp[b_order], np.arange(n_comp + 1))
    u_bounds = np.searchsorted(u_comp[u_order], np.arange(n_comp + 1))
    unit_of_pin = {p.beneficiary: inst.unit_index[p.unit] for p in inst.pinned}

    parts: list[Part] = []
    small: list[tuple[float, int, IntArray, IntArray]] = []
    total = 0.0
    for c in range(n_comp):
        hh = np.sort(b_order[b_bounds[c]:b_bounds[c + 1]])
        uu = np.sort(u_order[u_bounds[c]:u_bounds[c + 1]])
        if hh.size == 0:
            continue
        est = _estimate_pairs(inst, hh, uu, rng)
        total += est
        k = max(1, math.ceil(math.sqrt(est / max(1, part_pairs))))
        k = min(k, hh.size, max(1, uu.size))
        if k == 1:
            small.append((est, c, hh, uu))
            continue
        hp = _deal(b_keys[hh], k, rng)
        up = _deal(u_keys[uu], k, rng)
        where = dict(zip(uu.tolist(), up.tolist(), strict=True))
        for n, b in enumerate(hh.tolist()):  # a pinned household goes with its unit
            u = unit_of_pin.get(inst.beneficiaries[b].id)
            if u is not None and u in where:
                hp[n] = where[u]
        for p in range(k):
            d, f = _split_units(nd, uu[up == p])
            parts.append(Part(households=hh[hp == p], dwellings=d, flats=f, replica=True,
                              component=c, est_pairs=est / (k * k)))
    # small components are independent of each other: packed into parts, exactly
    small.sort(key=lambda s: -s[0])
    bins: list[list[tuple[float, int, IntArray, IntArray]]] = []
    for item in small:
        for b in bins:
            if sum(x[0] for x in b) + item[0] <= part_pairs:
                b.append(item)
                break
        else:
            bins.append([item])
    for b in bins:
        hh = np.sort(np.concatenate([x[2] for x in b]))
        uu = np.sort(np.concatenate([x[3] for x in b]))
        d, f = _split_units(nd, uu)
        parts.append(Part(households=hh, dwellings=d, flats=f, replica=False,
                          component=b[0][1], est_pairs=sum(x[0] for x in b)))
    return Plan(parts=parts, household_component=b_comp, unit_component=u_comp,
                components=n_comp, est_pairs=total, seconds=time.perf_counter() - t0)


# --------------------------------------------------------------------------- solving


def _pin_reserves(inst: Instance, parts: Sequence[Part]) -> IntArray:
    """Money set aside, per (part, fund), for the contributions of pinned placements.

    Each pinned placement with a contribution is charged to the eligible fund with the
    most money not yet set aside, so that the parts after the first cannot find their
    pinned placements unfunded because an earlier part spent the money.
    """
    reserve = np.zeros((len(parts), len(inst.funds)), dtype=np.int64)
    if not inst.pinned:
        return reserve
    part_of = np.full(len(inst.beneficiaries), -1, dtype=np.int64)
    for p, part in enumerate(parts):
        part_of[part.households] = p
    free = np.array([f.budget_cents for f in inst.funds], dtype=np.int64)
    months = inst.policy.contribution_months
    for pin in inst.pinned:
        bi = inst.beneficiary_index[pin.beneficiary]
        ui = inst.unit_index[pin.unit]
        ben = inst.beneficiaries[bi]
        nd = len(inst.dwellings)
        rent = inst.dwellings[ui].rent_cents if ui < nd \
            else inst.shared_flats[ui - nd].rent_per_bed_cents
        need = max(0, rent - inst.policy.pay(ben.income_cents)) * months
        ok = [k for k, f in enumerate(inst.funds) if f.eligible(ben.tags) and free[k] >= need]
        if need == 0 or not ok or part_of[bi] < 0:
            continue
        k = max(ok, key=lambda k: int(free[k]))
        free[k] -= need
        reserve[part_of[bi], k] += need
    return reserve


def _fund_shares(parts: Sequence[Part], left: Sequence[int], p: int, reserve: IntArray,
                 weights: IntArray, tags_ok: npt.NDArray[np.bool_]) -> list[int]:
    """What part ``p`` receives of each fund: its pinned placements' reserve, and its
    share of the rest by the weight of the households the fund may pay for."""
    shares = []
    for k, money in enumerate(left):
        demand = [float(weights[q.households][tags_ok[k, q.households]].sum())
                  for q in parts[p:]]
        rest = sum(demand)
        spare = max(0, money - int(reserve[p:, k].sum()))
        if p == len(parts) - 1:
            shares.append(money)
        elif rest <= 0:
            shares.append(min(money, int(reserve[p, k])))
        else:
            shares.append(min(money, int(reserve[p, k]) + int(spare * demand[0] // rest)))
    return shares


def solve_decomposed(inst: Instance, params: SolveParams,
                     solve_part: Callable[..., Result], progress: Any = None,
                     event: Callable[..., Any] | None = None) -> Result:
    """Solve ``inst`` in parts (see the module docstring); a ``FEASIBLE`` result.

    ``solve_part(sub_instance, params, progress=..., pairs=...)`` solves one part (the
    staged engine); ``event(stage, incumbent, bound, elapsed)`` builds a progress event.
    """
    t0 = time.perf_counter()
    deadline = t0 + params.time_limit * (1 - BOUND_SHARE)
    if inst.pinned:
        # a pinned placement that breaks a rule makes the round infeasible; checked on
        # the pinned households' own pairs, before any part could lose sight of it
        who = np.unique([inst.beneficiary_index[p.beneficiary] for p in inst.pinned])
        sub = _sub_instance(inst, "pins", who, np.arange(len(inst.dwellings)),
                            np.arange(len(inst.shared_flats)))
        conflicts = pin_conflicts(sub, eligible_pairs(sub))
        if conflicts:
            out = empty_result(inst, "INFEASIBLE", "round_infeasible",
                               time.perf_counter() - t0, {"conflicts": conflicts}, "cp-sat")
            return replace(out, engine={"decomposition": None})
    pl = plan(inst, params.decompose_part_pairs, params.seed)
    weights = np.array([inst.weight(b) for b in inst.beneficiaries], dtype=np.int64)
    tags_ok = np.array([[f.eligible(b.tags) for b in inst.beneficiaries] for f in inst.funds],
                       dtype=bool).reshape(len(inst.funds), len(inst.beneficiaries))
    left = [f.budget_cents for f in inst.funds]
    months = inst.policy.contribution_months
    fund_pos = {f.id: k for k, f in enumerate(inst.funds)}
    has_pair = np.zeros(len(inst.beneficiaries), dtype=bool)
    assignments: list[Assignment] = []
    unassigned: list[Unassigned] = []
    timings = {"plan": pl.seconds, "eligibility": 0.0}
    done_weight = 0
    n_pairs = 0
    statuses: dict[str, int] = {}
    reserve = _pin_reserves(inst, pl.parts)
    for p, part in enumerate(pl.parts):
        shares = _fund_shares(pl.parts, left, p, reserve, weights, tags_ok)
        funds = [replace(f, budget_cents=s) for f, s in zip(inst.funds, shares, strict=True)]
        sub = _sub_instance(inst, f"{inst.name}#part{p + 1}", part.households, part.dwellings,
                            part.flats, funds)
        pairs = eligible_pairs(sub)
        timings["eligibility"] += pairs.seconds
        n_pairs += len(pairs)
        has_pair[part.households[np.unique(pairs.beneficiary)]] = True
        est_left = sum(q.est_pairs for q in pl.parts[p:]) or 1.0
        share_t = (deadline - time.perf_counter()) * max(part.est_pairs, 1.0) / est_left
        base = done_weight

        def relay(ev: Any, base: int = base) -> None:
            if progress is not None and event is not None and ev.stage == "weight" \
                    and ev.incumbent is not None:
                progress(event("weight", base + ev.incumbent, None, time.perf_counter() - t0))

        # price-and-branch on every part (see the module docstring)
        res = solve_part(sub, replace(params, time_limit=max(0.5, share_t),
                                      pricing_min_pairs=0), progress=relay, pairs=pairs)
        statuses[res.status] = statuses.get(res.status, 0) + 1
        part.report = {"households": int(part.households.size),
                       "units": int(part.dwellings.size + part.flats.size),
                       "replica": part.replica, "pairs": len(pairs), "status": res.status,
                       "weight": res.objective.weight, "bound": res.bound_weight,
                       "seconds": round(res.solve_seconds, 2)}
        logger.info("part %d/%d: %s", p + 1, len(pl.parts), part.report)
        if res.status == "INFEASIBLE":
            details = dict(res.unassigned[0].details) if res.unassigned else {}
            out = empty_result(inst, "INFEASIBLE", "round_infeasible",
                               time.perf_counter() - t0, details, "cp-sat")
            return replace(out, engine={"decomposition": _report(pl, n_pairs)})
        for a in res.assignments:
            if a.fund is not None:
                left[fund_pos[a.fund]] -= a.contribution_cents * months
        assignments.extend(res.assignments)
        for u in res.unassigned:
            if part.replica and OTHER_PARTS not in u.reasons:
                u = replace(u, reasons=(*u.reasons, OTHER_PARTS))
            unassigned.append(u)
        done_weight += res.objective.weight
        if progress is not None and event is not None:
            progress(event("weight", done_weight, None, time.perf_counter() - t0))

    t = time.perf_counter()
    checked = _check_pairless(inst, pl, has_pair, t0 + params.time_limit * 0.995)
    timings["bound"] = time.perf_counter() - t
    bound = int(weights[has_pair | ~checked].sum())
    objective = objective_of(assignments, {b.id: int(w) for b, w in
                                           zip(inst.beneficiaries, weights.tolist(),
                                               strict=True)})
    bound = max(bound, objective.weight)
    if progress is not None and event is not None:
        progress(event("weight", None, float(bound), time.perf_counter() - t0))
    status: Status = "FEASIBLE" if assignments or statuses.get("UNKNOWN", 0) < len(pl.parts) \
        else "UNKNOWN"
    order = inst.beneficiary_index
    unassigned.sort(key=lambda u: order[u.beneficiary])
    assignments.sort(key=lambda a: order[a.beneficiary])
    timings["total"] = time.perf_counter() - t0
    return Result(instance=inst.name, status=status, objective=objective, bound_weight=bound,
                  assignments=tuple(assignments), unassigned=tuple(unassigned),
                  solve_seconds=timings["total"],
                  engine={"pairs": n_pairs, "decomposition": _report(pl, n_pairs),
                          "part_statuses": statuses},
                  timings=timings)


def _report(pl: Plan, n_pairs: int) -> dict[str, Any]:
    return {"components": pl.components, "parts": len(pl.parts),
            "estimated_pairs": round(pl.est_pairs), "pairs_in_parts": n_pairs,
            "plan_seconds": round(pl.seconds, 2), "by_part": [q.report for q in pl.parts]}


def _check_pairless(inst: Instance, pl: Plan, has_pair: npt.NDArray[np.bool_],
                    deadline: float) -> npt.NDArray[np.bool_]:
    """Which households without a pair in their part were checked against their whole
    component and found to have none anywhere (``True``: known to have no pair)."""
    known_none = np.zeros(len(inst.beneficiaries), dtype=bool)
    nd = len(inst.dwellings)
    todo = np.flatnonzero(~has_pair)
    if todo.size == 0:
        return known_none
    comp = pl.household_component[todo]
    for c in np.unique(comp).tolist():
        if time.perf_counter() > deadline:
            break
        hh = todo[comp == c]
        uu = np.flatnonzero(pl.unit_component == c)
        d, f = _split_units(nd, uu)
        for s in range(0, hh.size, 2_000):
            if time.perf_counter() > deadline:
                break
            block = hh[s:s + 2_000]
            found = eligible_pairs(_sub_instance(inst, "bound", block, d, f))
            none = np.ones(block.size, dtype=bool)
            none[np.unique(found.beneficiary)] = False
            known_none[block[none]] = True
    return known_none
