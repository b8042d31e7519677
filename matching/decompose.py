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
   ``DecomposeParams.part_pairs`` (estimated by exact eligibility on a sample of
   households). Pairs across parts are given up: each household is offered ``1/k`` of
   the units it could take, still hundreds in a dense component.

Small components are packed together into parts of about the same size (that is
exact: they share no pair).

**The funds couple the parts.** Each part is solved by price-and-branch
(:mod:`matching.pricing`: its repaired matching and small master reach 99.6% of a
part's bound in 20-40 s, where the whole formulation's LP does not finish), and each
fund is shared out as the parts start: a part receives the money still left (less what
the parts under way hold) times its share of the fund's remaining demand (the weight
of the households of the parts not yet started the fund may pay for), plus what its
pinned placements need, set aside for it from the start. What a part does not spend
(the second stage minimises the contribution) comes back when it ends, for the parts
after it, so no money is left idle because of the split and no fund is ever
overspent. The guarantee's capacity and the budget for opening shuttle lines are shared
out the same way, by the parts' households (a line two parts open is paid by each out
of its own share: never more than the budget).

**Parts at once.** The parts are tasks (:func:`solve_part`: a picklable
:class:`PartTask` in, a :class:`PartOutcome` out) of any ``concurrent.futures``
executor: ``params.decompose.workers`` of them run at once on a Dask cluster
(``housing solve --part-workers N`` starts a local one, ``--scheduler`` joins a real
one), each given that many times its share of the time left; one worker solves them in
this process, one after the other. A part never waits for another (the money is handed
out as each starts), so with N workers the run takes the plan, the parts as a list
schedule, and the bound (``benchmarks/cluster.py`` measures it and models it for N).

**The stitch** (:func:`stitch`) follows the parts: a replica offers each household
only its own part's homes, so a household may be left out while a home within its
reach, dealt to another part, stays empty. The households the parts left out are then
offered, as one more round solved by price-and-branch, every dwelling nobody took and
every shared flat with a bed free (its occupants pinned to their flat, their
money given back to the funds so that the stitch may pay for them from another fund).
Before it, every payment moves to the narrowest fund that may make it
(:func:`narrow_first`; each part's too, before what it leaves goes back). Its search
starts from the allocation it extends (the occupants in their rooms), so it is never
worse than the parts. A household may also be left out because every home within its
reach is taken: the stitch then offers some taken dwellings too (``stitch_moves``),
those within reach of such a household whose occupant could live in a free home first,
found by checking each household against its nearest homes (a k-d tree) rather than
listing every pair; the occupants are free to move (a chain of two moves across the
parts). It has ``DecomposeParams.stitch_share`` of the time, and whatever the parts
and the bound's check (run first) leave; it runs where only the funds are shared
across the round (no shuttle lines to open, no guarantee fund). XL seed 1 on two
workers, on the same parts: 5,327 more weight without the moves, 6,957 with 3,000
taken dwellings offered.

**Time.** Each part's share of the time includes listing its pairs, less what the
latest parts took past their shares (handing out, the search's last step, bringing the
result back), so that on a slower machine the schedule does not fall behind and leave
the last parts unsearched.

**The bound** is on the whole round: no allocation places a household that has no
eligible pair at all, so the weight of those that have one bounds objective 1. Every
household with a pair in its part counts; one without is checked against every unit of
its component (exactly, with the round's whole budgets). That bound ignores the funds;
the money's own (:mod:`matching.moneybound`: the households that may be placed, each at
the least a home within its reach could cost, as a knapsack over the budgets) is
computed too and the smaller kept. It only tells where most households need money to be
placed at all; where cheap homes are many but few, the money binds through the homes,
which neither bound sees. The result's status is ``FEASIBLE``.

Unassigned households of a replica part carry, after their reasons within the part, the
reason ``other_parts_not_searched``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from matching import geo
from matching.budget import Budget
from matching.eligibility import Arrays, Pairs, eligible_among, eligible_pairs
from matching.explain import empty_result, explain_unassigned, pin_conflicts
from matching.instance import Fund, Instance, Pin, Policy
from matching.model.payers import FundTable, cost_cents
from matching.model.space import Universe
from matching.moneybound import least_costs_by_cells, money_bound
from matching.params import DecomposeParams, SolveParams
from matching.result import (
    Assignment,
    Result,
    Status,
    Unassigned,
    lines_opened,
    objective_of,
    result_format,
)
from matching.stage import Progress, ProgressEvent
from matching.strategies.priced import solve_priced

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

logger = logging.getLogger("matching.decompose")

KM_PER_DEGREE_MAX = 112.0
"""A degree of latitude or longitude is never longer than this."""
OTHER_PARTS = "other_parts_not_searched"
NOT_SEARCHED = "part_not_searched_in_time"
STITCH_MARGIN = 0.012
"""The share of the limit kept after the stitch, for the money's bound and the result (at
XL on two workers they took under 1 s of the 18 s that 2% kept)."""


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


def _cell_keys(lat: FloatArray, lon: FloatArray, cell_deg: float) -> IntArray:
    i = np.floor(lat / cell_deg).astype(np.int64)
    j = np.floor(lon / cell_deg).astype(np.int64)
    return (i + 1_000_000) * 10_000_000 + (j + 1_000_000)


def _cell_centres(keys: IntArray, cell_deg: float) -> tuple[FloatArray, FloatArray]:
    i = keys // 10_000_000 - 1_000_000
    j = keys % 10_000_000 - 1_000_000
    return (i + 0.5).astype(np.float64) * cell_deg, (j + 0.5).astype(np.float64) * cell_deg


def components(
    inst: Instance, cell_deg: float = DecomposeParams.cell_deg
) -> tuple[IntArray, IntArray, int]:
    """Component label of every household and unit, and how many components.

    Two households in different components have no unit they could both take, and a
    household has no eligible unit outside its component. Units no household can reach
    get label ``-1``.
    """
    nb, nu = len(inst.beneficiaries), inst.n_units
    b_lat = np.array([b.work.lat for b in inst.beneficiaries], dtype=np.float64)
    b_lon = np.array([b.work.lon for b in inst.beneficiaries], dtype=np.float64)
    reach = (
        np.array([b.max_commute_km for b in inst.beneficiaries], dtype=np.float64)
        / inst.policy.circuity
        * geo.SPHERE_MARGIN
        + 1e-3
    )
    u_lat = np.array(
        [d.lat for d in inst.dwellings] + [f.lat for f in inst.shared_flats], dtype=np.float64
    )
    u_lon = np.array(
        [d.lon for d in inst.dwellings] + [f.lon for f in inst.shared_flats], dtype=np.float64
    )
    hk, h_of = np.unique(_cell_keys(b_lat, b_lon, cell_deg), return_inverse=True)
    uk, u_of = np.unique(_cell_keys(u_lat, u_lon, cell_deg), return_inverse=True)
    h_reach = np.zeros(hk.size)
    np.maximum.at(h_reach, h_of, reach)
    hla, hlo = _cell_centres(hk, cell_deg)
    ula, ulo = _cell_centres(uk, cell_deg)
    dist = geo.haversine_km(hla[:, None], hlo[:, None], ula[None, :], ulo[None, :])
    # at most half a cell's diagonal between a point and its cell's centre
    half_diagonal = 0.5 * cell_deg * KM_PER_DEGREE_MAX * math.sqrt(2.0)
    # the haversine on the mean sphere is within 0.5% of the geodesic: a wide margin
    linked = np.asarray(dist * 0.99 - 2 * half_diagonal <= h_reach[:, None])
    ri, ci = np.nonzero(linked)
    n = hk.size + uk.size
    rows, cols = [ri], [hk.size + ci]
    by_line: list[IntArray] = []
    walk = inst.policy.walk_km
    for k, line in enumerate(inst.shuttles):
        # a line joins the cells near any of its stops: a household whose work is near
        # one stop may be housed near any other (one more node per line)
        node = n + k
        near_h = np.zeros(hk.size, dtype=bool)
        near_u = np.zeros(uk.size, dtype=bool)
        for st in line.stops:
            reach_km = (walk or 0.0) * geo.SPHERE_MARGIN + 2 * half_diagonal + 1e-3
            near_h |= geo.haversine_km(hla, hlo, st.lat, st.lon) * 0.99 <= reach_km
            near_u |= geo.haversine_km(ula, ulo, st.lat, st.lon) * 0.99 <= reach_km
        hh, uu = np.flatnonzero(near_h), np.flatnonzero(near_u)
        rows += [hh, hk.size + uu]
        cols += [np.full(hh.size, node), np.full(uu.size, node)]
        by_line.append(uu)
    size = n + len(inst.shuttles)
    graph = sparse.coo_matrix(
        (np.ones(sum(r.size for r in rows)), (np.concatenate(rows), np.concatenate(cols))),
        shape=(size, size),
    )
    count, label = csgraph.connected_components(graph, directed=False)
    b_comp = label[h_of].astype(np.int64) if nb else np.zeros(0, np.int64)
    u_cell_comp = label[hk.size : n].astype(np.int64)
    reached = np.zeros(uk.size, dtype=bool)
    reached[ci] = True
    for uu in by_line:  # units near a line's stops may be reached by riding it
        reached[uu] = True
    u_comp = np.where(reached[u_of], u_cell_comp[u_of], -1) if nu else np.zeros(0, np.int64)
    return b_comp, u_comp.astype(np.int64), int(count)


# --------------------------------------------------------------------------- the plan


def _sub_instance(
    inst: Instance,
    name: str,
    households: IntArray,
    dwellings: IntArray,
    flats: IntArray,
    funds: Sequence[Fund] | None = None,
    policy: Policy | None = None,
) -> Instance:
    bs = tuple(inst.beneficiaries[i] for i in households.tolist())
    ds = tuple(inst.dwellings[i] for i in dwellings.tolist())
    fs = tuple(inst.shared_flats[i] for i in flats.tolist())
    b_ids = {b.id for b in bs}
    u_ids = {d.id for d in ds} | {f.id for f in fs}
    pinned = tuple(p for p in inst.pinned if p.beneficiary in b_ids and p.unit in u_ids)
    forbidden = tuple(f for f in inst.forbidden if f.beneficiary in b_ids and f.unit in u_ids)
    return Instance(
        name=name,
        policy=inst.policy if policy is None else policy,
        funds=tuple(inst.funds if funds is None else funds),
        beneficiaries=bs,
        dwellings=ds,
        shared_flats=fs,
        pinned=pinned,
        forbidden=forbidden,
        shuttles=inst.shuttles,
        format=inst.format,
    )


def _split_units(nd: int, units: IntArray) -> tuple[IntArray, IntArray]:
    return units[units < nd], units[units >= nd] - nd


def _estimate_pairs(
    inst: Instance,
    households: IntArray,
    units: IntArray,
    rng: np.random.Generator,
    sample_households: int,
) -> float:
    """The pairs of ``households`` x ``units``, from exact eligibility on a sample."""
    if households.size == 0 or units.size == 0:
        return 0.0
    take = (
        households
        if households.size <= sample_households
        else np.sort(rng.choice(households, sample_households, replace=False))
    )
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


def plan(inst: Instance, params: DecomposeParams, seed: int = 0) -> Plan:
    """Components, their pair estimates, and the parts (see the module docstring)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    nd = len(inst.dwellings)
    part_pairs = params.part_pairs
    b_comp, u_comp, n_comp = components(inst, params.cell_deg)
    b_keys = _cell_keys(
        np.array([b.work.lat for b in inst.beneficiaries]),
        np.array([b.work.lon for b in inst.beneficiaries]),
        params.cell_deg,
    )
    u_keys = _cell_keys(
        np.array([d.lat for d in inst.dwellings] + [f.lat for f in inst.shared_flats]),
        np.array([d.lon for d in inst.dwellings] + [f.lon for f in inst.shared_flats]),
        params.cell_deg,
    )
    b_order, u_order = np.argsort(b_comp, kind="stable"), np.argsort(u_comp, kind="stable")
    b_bounds = np.searchsorted(b_comp[b_order], np.arange(n_comp + 1))
    u_bounds = np.searchsorted(u_comp[u_order], np.arange(n_comp + 1))
    unit_of_pin = {p.beneficiary: inst.unit_index[p.unit] for p in inst.pinned}

    parts: list[Part] = []
    small: list[tuple[float, int, IntArray, IntArray]] = []
    total = 0.0
    for c in range(n_comp):
        hh = np.sort(b_order[b_bounds[c] : b_bounds[c + 1]])
        uu = np.sort(u_order[u_bounds[c] : u_bounds[c + 1]])
        if hh.size == 0:
            continue
        est = _estimate_pairs(inst, hh, uu, rng, params.sample_households)
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
            parts.append(
                Part(
                    households=hh[hp == p],
                    dwellings=d,
                    flats=f,
                    replica=True,
                    component=c,
                    est_pairs=est / (k * k),
                )
            )
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
        parts.append(
            Part(
                households=hh,
                dwellings=d,
                flats=f,
                replica=False,
                component=b[0][1],
                est_pairs=sum(x[0] for x in b),
            )
        )
    return Plan(
        parts=parts,
        household_component=b_comp,
        unit_component=u_comp,
        components=n_comp,
        est_pairs=total,
        seconds=time.perf_counter() - t0,
    )


# --------------------------------------------------------------------------- solving


def _pin_reserves(
    inst: Instance, parts: Sequence[Part], pins: Pairs, pins_inst: Instance
) -> IntArray:
    """Money set aside, per (part, fund), for the contributions of pinned placements.

    Each pinned placement with a contribution is charged to the eligible fund with the
    most money not yet set aside, so that the parts after the first cannot find their
    pinned placements unfunded because an earlier part spent the money. ``pins`` are
    the eligible pairs of ``pins_inst``, the round restricted to its pinned households.
    """
    reserve = np.zeros((len(parts), len(inst.funds)), dtype=np.int64)
    if not inst.pinned:
        return reserve
    part_of = np.full(len(inst.beneficiaries), -1, dtype=np.int64)
    for p, part in enumerate(parts):
        part_of[part.households] = p
    table = FundTable.of(inst)
    free = table.budget.copy()
    one_off = Universe.of(pins_inst, pins).one_off
    for pin in inst.pinned:
        bi = inst.beneficiary_index[pin.beneficiary]
        sl = pins.of_beneficiary(pins_inst.beneficiary_index[pin.beneficiary])
        options = np.flatnonzero(pins.unit[sl] == pins_inst.unit_index[pin.unit]) + sl.start
        if options.size == 0 or part_of[bi] < 0:
            continue
        # the cheapest way the pin may be let (its terms) is what is surely needed
        need = int(
            cost_cents(
                pins.contribution_cents[options],
                inst.months(inst.beneficiaries[bi]),
                one_off[options],
            ).min()
        )
        ok = [k for k in range(table.n) if table.ok[k, bi] and free[k] >= need]
        if need == 0 or not ok:
            continue
        k = max(ok, key=lambda k: int(free[k]))
        free[k] -= need
        reserve[part_of[bi], k] += need
    return reserve


def _caps(policy: Policy) -> list[int | None]:
    """What else the round shares out besides its funds: the guarantee's capacity and
    the budget for opening shuttle lines (None: the round has no such limit)."""
    g = policy.guarantee
    return [None if g is None else g.capacity_cents, policy.transport_budget_cents]


def _caps_used(inst: Instance, assignments: Sequence[Assignment]) -> list[int]:
    """What placements take of the caps: their guaranteed terms' exposure, and the
    cost of the lines they open."""
    g = inst.policy.guarantee
    exposure = 0
    if g is not None:
        dwellings = {d.id: d for d in inst.dwellings}
        for a in assignments:
            d = dwellings.get(a.unit)
            if d is not None and a.term is not None:
                term = next(t for t in d.terms if t.id == a.term)
                if term.guaranteed:
                    exposure += term.rent_cents * g.months
    lines = sum(inst.line_costs[x] for x in lines_opened(assignments, inst.line_costs))
    return [exposure, lines]


def _pin_cap_reserves(
    inst: Instance, parts: Sequence[Part], pins: Pairs, pins_inst: Instance
) -> IntArray:
    """Per (part, cap), what its pinned placements surely take of the caps (each at its
    least: a plain rent needs no guarantee, the household's own way to work no line)."""
    reserve = np.zeros((len(parts), 2), dtype=np.int64)
    g = inst.policy.guarantee
    part_of = np.full(len(inst.beneficiaries), -1, dtype=np.int64)
    for p, part in enumerate(parts):
        part_of[part.households] = p
    line_cost = [inst.line_cost(x) for x in inst.shuttles]
    for pin in inst.pinned:
        bi = inst.beneficiary_index[pin.beneficiary]
        sl = pins.of_beneficiary(pins_inst.beneficiary_index[pin.beneficiary])
        ui = pins_inst.unit_index[pin.unit]
        options = np.flatnonzero(pins.unit[sl] == ui) + sl.start
        if options.size == 0 or part_of[bi] < 0:
            continue
        exposure, lines = [], []
        for o in options.tolist():
            term = int(pins.term[o])
            t = pins_inst.dwellings[ui].terms[term] if term >= 0 else None
            guaranteed = g is not None and t is not None and t.guaranteed
            exposure.append(t.rent_cents * g.months if guaranteed and t and g else 0)
            line = int(pins.line[o])
            lines.append(line_cost[line] if line >= 0 else 0)
        reserve[part_of[bi]] += [min(exposure), min(lines)]
    return reserve


def _cap_shares(
    parts: Sequence[Part], left: Sequence[int | None], p: int, reserve: IntArray
) -> list[int | None]:
    """What part ``p`` receives of each cap: its pinned placements' reserve, and its
    share of the rest by its households among those of the parts not yet started."""
    rest = sum(q.households.size for q in parts[p:])
    shares: list[int | None] = []
    for c, cap in enumerate(left):
        if cap is None:
            shares.append(None)
        elif p == len(parts) - 1 or rest == 0:
            shares.append(cap)
        else:
            spare = max(0, cap - int(reserve[p:, c].sum()))
            own = int(reserve[p, c]) + spare * int(parts[p].households.size) // rest
            shares.append(min(cap, own))
    return shares


def _fund_shares(
    parts: Sequence[Part],
    left: Sequence[int],
    p: int,
    reserve: IntArray,
    weights: IntArray,
    tags_ok: npt.NDArray[np.bool_],
) -> list[int]:
    """What part ``p`` receives of each fund: its pinned placements' reserve, and its
    share of the rest by the weight of the households the fund may pay for."""
    shares = []
    for k, money in enumerate(left):
        demand = [float(weights[q.households][tags_ok[k, q.households]].sum()) for q in parts[p:]]
        rest = sum(demand)
        spare = max(0, money - int(reserve[p:, k].sum()))
        if p == len(parts) - 1:
            shares.append(money)
        elif rest <= 0:
            shares.append(min(money, int(reserve[p, k])))
        else:
            shares.append(min(money, int(reserve[p, k]) + int(spare * demand[0] // rest)))
    return shares


@dataclass(frozen=True)
class PartTask:
    """What a worker needs to solve one part: picklable, and no clock of this process."""

    index: int
    instance: Instance
    params: SolveParams
    seconds: float
    """The part's share of the time, listing its pairs included."""
    hard_seconds: float
    """What was left of the whole run when the part was handed out: never exceeded by
    more than the moment a part always gets."""


@dataclass(frozen=True)
class PartOutcome:
    """A solved part, as it comes back from its worker."""

    index: int
    result: Result
    pairs: int
    with_pair: IntArray
    """The part's households (indices into its instance) that have an eligible pair."""
    eligibility_seconds: float
    seconds: float
    """The part's wall-clock time in its worker: eligibility and search."""


def solve_part(task: PartTask, progress: Progress | None = None) -> PartOutcome:
    """List a part's pairs and solve it by price-and-branch (run in a worker)."""
    t0 = time.perf_counter()
    pairs = eligible_pairs(task.instance)
    seconds = min(task.seconds, task.hard_seconds) - (time.perf_counter() - t0)
    # a part always gets a moment to place someone
    res = solve_priced(task.instance, task.params, progress, Budget.start(max(0.5, seconds)), pairs)
    return PartOutcome(
        index=task.index,
        result=res,
        pairs=len(pairs),
        with_pair=np.unique(pairs.beneficiary).astype(np.int64),
        eligibility_seconds=pairs.seconds,
        seconds=time.perf_counter() - t0,
    )


def _typical(overruns: Sequence[float]) -> float:
    """What the latest parts took past their share (the median of the last five), or
    nothing before any part is done."""
    last = sorted(overruns[-5:])
    return max(0.0, last[len(last) // 2]) if last else 0.0


class _InThisProcess(Executor):
    """An executor that runs each task at once, in this process (one worker)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


def _spent(
    inst: Instance, assignments: Sequence[Assignment], fund_pos: dict[str, int]
) -> list[int]:
    spent = [0] * len(fund_pos)
    for a in assignments:
        if a.fund is not None:
            spent[fund_pos[a.fund]] += (
                a.contribution_cents * inst.months(inst.beneficiary(a.beneficiary))
                + a.one_off_cents
            )
    return spent


def solve_decomposed(
    inst: Instance,
    params: SolveParams,
    progress: Progress | None,
    budget: Budget,
    executor: Executor | None = None,
) -> Result:
    """Solve ``inst`` in parts (see the module docstring); a ``FEASIBLE`` result.

    Each part is solved by price-and-branch (:mod:`matching.strategies.priced`) within
    its share of ``budget``, the share of its estimated pairs among those left. With an
    ``executor`` (e.g. a Dask cluster's) and ``params.decompose.workers`` above one,
    that many parts are solved at once, each handed out with its share of the money
    left when it starts (what it leaves comes back when it ends), so no fund is ever
    overspent; without one, the parts are solved one after the other in this process.
    """
    t0 = time.perf_counter()
    stitching = params.decompose.stitch_share > 0 and stitch_applies(inst)
    run = budget.keep(
        params.decompose.bound_share + (params.decompose.stitch_share if stitching else 0.0)
    )
    pins_inst: Instance | None = None
    pins = None
    if inst.pinned:
        # a pinned placement that breaks a rule makes the round infeasible; checked on
        # the pinned households' own pairs, before any part could lose sight of it
        who = np.unique([inst.beneficiary_index[p.beneficiary] for p in inst.pinned])
        pins_inst = _sub_instance(
            inst, "pins", who, np.arange(len(inst.dwellings)), np.arange(len(inst.shared_flats))
        )
        pins = eligible_pairs(pins_inst)
        conflicts = pin_conflicts(pins_inst, pins)
        if conflicts:
            out = empty_result(
                inst,
                "INFEASIBLE",
                "round_infeasible",
                time.perf_counter() - t0,
                {"conflicts": conflicts},
                "cp-sat",
            )
            return replace(out, engine={"strategy": "parts", "decomposition": None})
    pl = plan(inst, params.decompose, params.seed)
    weights = np.array([inst.weight(b) for b in inst.beneficiaries], dtype=np.int64)
    table = FundTable.of(inst)
    left = [f.budget_cents for f in inst.funds]
    fund_pos = {f.id: k for k, f in enumerate(inst.funds)}
    has_pair = np.zeros(len(inst.beneficiaries), dtype=bool)
    assignments: list[Assignment] = []
    unassigned: list[Unassigned] = []
    timings = {"plan": pl.seconds, "eligibility": 0.0}
    done_weight = 0
    n_pairs = 0
    statuses: dict[str, int] = {}
    reserve = np.zeros((len(pl.parts), len(inst.funds)), dtype=np.int64)
    # the guarantee's capacity and the lines' budget are shared out like the funds
    caps_left = _caps(inst.policy)
    cap_reserve = np.zeros((len(pl.parts), 2), dtype=np.int64)
    caps_given: dict[int, list[int | None]] = {}
    if pins is not None and pins_inst is not None:
        reserve = _pin_reserves(inst, pl.parts, pins, pins_inst)
        cap_reserve = _pin_cap_reserves(inst, pl.parts, pins, pins_inst)
    slots = params.decompose.workers if executor is not None else 1
    pool: Executor = executor if executor is not None and slots > 1 else _InThisProcess()
    pinned_ids = {pin.beneficiary for pin in inst.pinned}
    in_flight: dict[Future[PartOutcome], tuple[int, list[int], float, float]] = {}
    overruns: list[float] = []
    nxt = 0

    def hand_out(p: int) -> None:
        part = pl.parts[p]
        shares = _fund_shares(pl.parts, left, p, reserve, weights, table.ok)
        for k, s in enumerate(shares):
            left[k] -= s
        funds = [replace(f, budget_cents=s) for f, s in zip(inst.funds, shares, strict=True)]
        caps = _cap_shares(pl.parts, caps_left, p, cap_reserve)
        caps_left[:] = [
            None if c is None else c - (h or 0) for c, h in zip(caps_left, caps, strict=True)
        ]
        caps_given[p] = caps
        g = inst.policy.guarantee
        policy = replace(
            inst.policy,
            guarantee=None if g is None else replace(g, capacity_cents=caps[0] or 0),
            transport_budget_cents=caps[1],
        )
        sub = _sub_instance(
            inst,
            f"{inst.name}#part{p + 1}",
            part.households,
            part.dwellings,
            part.flats,
            funds,
            policy,
        )
        # the part's share of the workers' time left: its estimated pairs among those
        # of the parts not yet done (one worker: its share of the time left)
        est_left = sum(q.est_pairs for q in pl.parts[p:]) + sum(
            pl.parts[q].est_pairs for q, _, _, _ in in_flight.values()
        )
        share = min(1.0, slots * max(part.est_pairs, 1.0) / max(est_left, 1.0))
        # what a part takes past its share (handing it out, the search's last step,
        # bringing it back), as measured on the parts done, comes out of the share: on a
        # slower machine the schedule would fall behind and the last parts go unsearched
        granted = max(0.0, share * run.left() - _typical(overruns))
        task = PartTask(p, sub, params, granted, max(0.0, run.left()))
        started = time.perf_counter() - t0
        if isinstance(pool, _InThisProcess):
            base = done_weight

            def relay(ev: ProgressEvent, base: int = base) -> None:
                if progress is not None and ev.stage == "weight" and ev.incumbent is not None:
                    progress(
                        ProgressEvent("weight", base + ev.incumbent, None, time.perf_counter() - t0)
                    )

            fut = pool.submit(solve_part, task, relay)
        else:
            fut = pool.submit(solve_part, task)
        in_flight[fut] = (p, shares, started, granted)

    def not_searched(p: int) -> None:
        part = pl.parts[p]
        statuses["NOT_SEARCHED"] = statuses.get("NOT_SEARCHED", 0) + 1
        part.report = {"households": int(part.households.size), "status": "NOT_SEARCHED"}
        unassigned.extend(
            Unassigned(
                inst.beneficiaries[b].id,
                (NOT_SEARCHED,),
                {"search": "the time limit ran out first"},
            )
            for b in part.households.tolist()
        )

    try:
        while nxt < len(pl.parts) or in_flight:
            while nxt < len(pl.parts) and len(in_flight) < slots:
                p, nxt = nxt, nxt + 1
                if run.expired() and not (part_ids(inst, pl.parts[p]) & pinned_ids):
                    # the time is spent: the part is not searched (its pinned placements,
                    # if any, still are, so that they stay)
                    not_searched(p)
                else:
                    hand_out(p)
            if not in_flight:
                continue
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: in_flight[f][0]):
                p, shares, started, granted = in_flight.pop(fut)
                got = fut.result()
                took = time.perf_counter() - t0 - started
                overruns.append(took - granted)
                part, res = pl.parts[p], got.result
                # what the part did not spend goes back to the parts after it, once its
                # payments are made by the narrowest funds that may make them
                unspent = [
                    h - s
                    for h, s in zip(shares, _spent(inst, res.assignments, fund_pos), strict=True)
                ]
                moved, unspent = narrow_first(inst, res.assignments, unspent, table)
                res = replace(res, assignments=tuple(moved))
                for k, back in enumerate(unspent):
                    left[k] += back
                given = caps_given.pop(p)
                used = _caps_used(inst, res.assignments)
                caps_left[:] = [
                    None if c is None else c + (h or 0) - u
                    for c, h, u in zip(caps_left, given, used, strict=True)
                ]
                timings["eligibility"] += got.eligibility_seconds
                n_pairs += got.pairs
                has_pair[part.households[got.with_pair]] = True
                statuses[res.status] = statuses.get(res.status, 0) + 1
                part.report = {
                    "households": int(part.households.size),
                    "units": int(part.dwellings.size + part.flats.size),
                    "replica": part.replica,
                    "pairs": got.pairs,
                    "status": res.status,
                    "weight": res.objective.weight,
                    "bound": res.bound_weight,
                    "seconds": round(got.seconds, 2),
                    "granted": round(granted, 2),
                    "started": round(started, 2),
                    "ended": round(time.perf_counter() - t0, 2),
                }
                logger.info("part %d/%d: %s", p + 1, len(pl.parts), part.report)
                if res.status == "INFEASIBLE":
                    details = dict(res.unassigned[0].details) if res.unassigned else {}
                    bad = empty_result(
                        inst,
                        "INFEASIBLE",
                        "round_infeasible",
                        time.perf_counter() - t0,
                        details,
                        "cp-sat",
                    )
                    return replace(
                        bad,
                        engine={"strategy": "parts", "decomposition": _report(pl, n_pairs, slots)},
                    )
                assignments.extend(res.assignments)
                for u in res.unassigned:
                    if part.replica and OTHER_PARTS not in u.reasons:
                        u = replace(u, reasons=(*u.reasons, OTHER_PARTS))
                    unassigned.append(u)
                done_weight += res.objective.weight
                if progress is not None:
                    progress(ProgressEvent("weight", done_weight, None, time.perf_counter() - t0))
    finally:
        for fut in in_flight:
            fut.cancel()

    # the bound's check of the households without a pair in their part comes first
    # (the stitch finds no pair the check would not), within its share
    t = time.perf_counter()
    last = budget.keep(params.decompose.stitch_share) if stitching else budget
    checked = _check_pairless(inst, pl, has_pair, last.deadline - 0.005 * budget.limit)
    timings["bound"] = time.perf_counter() - t
    stitched: dict[str, Any] | None = None
    if stitching and unassigned:
        # the stitch: what the parts and the check left of the time, but a moment for
        # the money's bound
        t = time.perf_counter()
        left_out = [u.beneficiary for u in unassigned]
        seconds = budget.keep(STITCH_MARGIN).left()
        st = stitch(inst, params, assignments, left_out, left, seconds, table)
        timings["stitch"] = time.perf_counter() - t
        if st is not None:
            stitched = st.report
            assignments = st.assignments
            unassigned = [u for u in unassigned if u.beneficiary not in st.placed] + st.dropped
            if progress is not None and st.placed:
                weight = objective_of(assignments, inst.weights, inst.line_costs).weight
                progress(ProgressEvent("weight", weight, None, time.perf_counter() - t0))
    may_place = has_pair | ~checked
    paired_bound = int(weights[may_place].sum())
    bound = paired_bound
    money: int | None = None
    if params.decompose.money_bound and inst.funds:
        # the money: the households that may be placed, each at the least a home
        # within its reach could cost, as a knapsack over the funds
        t = time.perf_counter()
        least = least_costs_by_cells(inst)
        least[~may_place] = -1
        mb = money_bound(inst, least)
        if math.isfinite(mb.bound):
            money = math.floor(mb.bound + 1e-6 * max(1.0, abs(mb.bound)))
            bound = min(bound, money)
        timings["money_bound"] = time.perf_counter() - t
    objective = objective_of(assignments, inst.weights, inst.line_costs)
    bound = max(bound, objective.weight)
    if progress is not None:
        progress(ProgressEvent("weight", None, float(bound), time.perf_counter() - t0))
    status: Status = (
        "FEASIBLE"
        if assignments
        or statuses.get("UNKNOWN", 0) + statuses.get("NOT_SEARCHED", 0) < len(pl.parts)
        else "UNKNOWN"
    )
    order = inst.beneficiary_index
    unassigned.sort(key=lambda u: order[u.beneficiary])
    assignments.sort(key=lambda a: order[a.beneficiary])
    return Result(
        instance=inst.name,
        status=status,
        objective=objective,
        bound_weight=bound,
        assignments=tuple(assignments),
        unassigned=tuple(unassigned),
        solve_seconds=0.0,
        format=result_format(inst.v2),
        lines_opened=lines_opened(assignments, inst.line_costs),
        engine={
            "strategy": "parts",
            "pairs": n_pairs,
            "decomposition": _report(pl, n_pairs, slots),
            "part_statuses": statuses,
            "stitch": stitched,
            "bounds": {"households_with_a_pair": paired_bound, "money": money},
        },
        timings=timings,
    )


# --------------------------------------------------------------------------- stitch


@dataclass(frozen=True)
class Stitched:
    """What the stitch changed: the placements it made and the occupants it re-let."""

    assignments: list[Assignment]
    """Every placement of the round after the stitch."""
    placed: set[str]
    """The households it placed (they were left out by the parts)."""
    report: dict[str, Any]
    dropped: list[Unassigned] = field(default_factory=list)
    """Occupants of the dwellings it re-let left without a home (each for a heavier
    household), with their reasons."""


def stitch_applies(inst: Instance) -> bool:
    """Whether the stitch may run: not where something other than the funds is shared
    across the round (shuttle lines to open, the guarantee's capacity)."""
    return not inst.shuttles and inst.policy.guarantee is None


def narrow_first(
    inst: Instance,
    assignments: Sequence[Assignment],
    left: Sequence[int],
    table: FundTable | None = None,
) -> tuple[list[Assignment], list[int]]:
    """The same placements, each paid where it can be by the fund that may pay for the
    fewest households, and the money each fund then has left.

    Which fund pays changes nothing a placement costs or counts for, but each part
    chose among the funds with only its share of each: a payment a fund for some tags
    could make, made by a fund for everyone, takes money that only the latter may spend
    on the households still left out. Payments move, one at a time, to a narrower fund
    with the money for them (never over a budget). Each part's placements are moved
    within the money it was handed before what it leaves goes back, and every
    placement again before the stitch.
    """
    table = FundTable.of(inst) if table is None else table
    fund_pos = {f.id: k for k, f in enumerate(inst.funds)}
    breadth = table.ok.sum(axis=1)
    narrower = [
        sorted((g for g in range(table.n) if breadth[g] < breadth[k]), key=lambda g: breadth[g])
        for k in range(table.n)
    ]
    left = list(left)
    out = []
    for a in assignments:
        if a.fund is not None:
            k = fund_pos[a.fund]
            b = inst.beneficiary_index[a.beneficiary]
            cost = a.contribution_cents * inst.months(inst.beneficiaries[b]) + a.one_off_cents
            g = next((g for g in narrower[k] if table.ok[g, b] and left[g] >= cost), None)
            if g is not None:
                left[g] -= cost
                left[k] += cost
                a = replace(a, fund=inst.funds[g].id)
        out.append(a)
    return out, left


NEAR = 48
"""How many of the nearest homes :func:`_movable` checks per household."""


def _nearest_eligible(
    sub: Instance, arr: Arrays, who: IntArray, units: IntArray, near: int = NEAR
) -> tuple[IntArray, IntArray]:
    """The eligible pairs (household, unit) among each of ``who``'s ``near`` nearest
    ``units`` (indices into ``sub``), checked pair by pair."""
    none = np.empty(0, dtype=np.int64)
    if who.size == 0 or units.size == 0:
        return none, none
    k = min(near, int(units.size))
    _, nn = cKDTree(arr.u_vec[units]).query(arr.b_vec[who], k=k)
    bi = np.repeat(who, k)
    ui = units[np.asarray(nn, dtype=np.int64).reshape(-1)]
    ok = eligible_among(sub, bi, ui, arr)
    return bi[ok], ui[ok]


EXPLAIN_SHARE = 0.05
"""The share of the stitch's time kept for explaining the occupants it leaves out (at XL
3.6 s of 117)."""
MOVER_OPTIONS = 64
"""How many homes of the stitch an occupant free to move is compared with: its own
dwelling and the nearest others (a chain needs one; all of them would triple the
stitch's pairs and the time to list them)."""


def _nearest_units(sub: Instance, who: IntArray, k: int) -> tuple[IntArray, IntArray]:
    """(households, units): each of ``who`` (indices into ``sub``) with its ``k`` units
    nearest its work."""
    u_lat = [d.lat for d in sub.dwellings] + [f.lat for f in sub.shared_flats]
    u_lon = [d.lon for d in sub.dwellings] + [f.lon for f in sub.shared_flats]
    k = min(k, len(u_lat))
    if k == 0 or who.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    tree = cKDTree(geo.unit_vectors(np.array(u_lat), np.array(u_lon)))
    work = [sub.beneficiaries[b].work for b in who.tolist()]
    _, nn = tree.query(
        geo.unit_vectors(np.array([w.lat for w in work]), np.array([w.lon for w in work])), k=k
    )
    return np.repeat(who, k), np.asarray(nn, dtype=np.int64).reshape(-1)


def _movable(
    inst: Instance,
    left_out: IntArray,
    taken: dict[str, list[Assignment]],
    empty: IntArray,
    flats: IntArray,
    limit: int,
) -> tuple[IntArray, dict[str, Any]]:
    """The taken dwellings (indices into ``inst.dwellings``, at most ``limit``, the
    ``info["chains"]`` that make a chain first) within
    reach of a household in ``left_out`` that no ``empty`` dwelling or free bed of
    ``flats`` within its reach is found for, whose occupant such a home is found for:
    a chain of two moves places the household. Those most such households reach come
    first; then, if ``limit`` allows, the other taken dwellings such households reach.

    Listing every pair of the left-out households with every taken dwelling, and of
    their occupants with every free home, takes minutes at XL: each household is
    checked against its :data:`NEAR` nearest homes of each kind instead (a k-d tree on
    the points), so a chain may be missed, never one made that breaks a rule (the
    stitch lists the pairs it offers in full)."""
    none = np.empty(0, dtype=np.int64)
    if limit <= 0 or left_out.size == 0:
        return none, {}
    t = time.perf_counter()
    staff = {p.beneficiary for p in inst.pinned}
    index = inst.beneficiary_index
    cand = np.array(
        [
            i
            for i, d in enumerate(inst.dwellings)
            if d.id in taken and not any(a.beneficiary in staff for a in taken[d.id])
        ],
        dtype=np.int64,
    )
    if cand.size == 0:
        return none, {}
    occupant = np.array(
        [index[taken[inst.dwellings[d].id][0].beneficiary] for d in cand.tolist()],
        dtype=np.int64,
    )
    # one round of the left-out and the occupants, the taken dwellings and free homes
    hh = np.unique(np.concatenate([left_out, occupant]))
    dw = np.sort(np.concatenate([cand, empty]))
    sub = _sub_instance(inst, "reach", hh, dw, flats)
    arr = Arrays.of(sub)
    nd = dw.size
    s_left = np.searchsorted(hh, left_out)
    s_cand = np.searchsorted(dw, cand)
    s_occ = np.searchsorted(hh, occupant)
    s_empty = np.searchsorted(dw, empty)
    s_flats = nd + np.arange(flats.size, dtype=np.int64)
    # the left-out households a free home is found for need no chain
    has_home = np.zeros(len(sub.beneficiaries), dtype=bool)
    for units in (s_empty, s_flats):
        b, _ = _nearest_eligible(sub, arr, s_left, units)
        has_home[b] = True
    stuck = s_left[~has_home[s_left]]
    # the taken dwellings each left-out household reaches, and those stuck ones reach
    b, u = _nearest_eligible(sub, arr, s_left, s_cand)
    pos = np.searchsorted(s_cand, u)
    weights = sub.weight_array.astype(np.int64)[b]
    need = ~has_home[b]
    pull = np.zeros(cand.size, dtype=np.int64)
    np.add.at(pull, pos[need], weights[need])
    hits = np.zeros(cand.size, dtype=np.int64)
    np.add.at(hits, pos, 1)
    reached = np.flatnonzero(hits > 0)
    # the occupants of those a free home is found for may move
    may_move = np.zeros(cand.size, dtype=bool)
    for units in (s_empty, s_flats):
        ob, _ = _nearest_eligible(sub, arr, s_occ[reached], units)
        may_move[reached] |= np.isin(s_occ[reached], ob)
    chain = reached[may_move[reached] & (pull[reached] > 0)]
    rest = reached[~(may_move[reached] & (pull[reached] > 0))]
    order = np.concatenate(
        [
            chain[np.lexsort((-hits[chain], -pull[chain]))],
            rest[np.lexsort((-hits[rest], ~may_move[rest]))],
        ]
    )[:limit]
    info = {
        "left_out": int(left_out.size),
        "stuck": int(stuck.size),
        "reached": int(reached.size),
        "may_move": int(may_move.sum()),
        "chains": int(chain.size),
        "offered": int(order.size),
        "seconds": round(time.perf_counter() - t, 2),
    }
    return cand[order], info


def stitch(
    inst: Instance,
    params: SolveParams,
    assignments: Sequence[Assignment],
    left_out: Sequence[str],
    left: Sequence[int],
    seconds: float,
    table: FundTable | None = None,
) -> Stitched | None:
    """Offer the households the parts left out the homes nobody took, across the parts,
    and some of the taken dwellings within their reach, whose occupants may move.

    A replica part offers each household only its own share of the homes, so a
    household may be left out while a home within its reach, in another part, stays
    empty. The stitch is one more round: the left-out households, the dwellings no
    placement took and the shared flats with a bed free, whose occupants are pinned to
    their flat (they stay, but their room may change and their contribution may be
    paid from another fund: the money their placements took is given back to the funds
    for the stitch to share out again). A household may also be left out because every
    home within its reach is taken, while the household in one of them could live in a
    home nobody took: up to ``params.decompose.stitch_moves`` taken dwellings within the
    left-out households' reach are offered too (:func:`_movable`), their occupants free
    to stay, to move to one of the :data:`MOVER_OPTIONS` homes of the stitch nearest
    them or, only for a heavier household, to be left out (with their reasons, from
    the units within their reach: :func:`_explain_left_out`). Every other payment
    first moves to the narrowest fund that may make it (:func:`narrow_first`). Solved
    by price-and-branch like a part, within ``seconds``. None when there is nothing to
    stitch; when its result is not better, the placements are those given, their
    payments moved.
    """
    budget = Budget.start(seconds)
    if not left_out or seconds <= 1.0:
        return None
    fund_pos = {f.id: k for k, f in enumerate(inst.funds)}
    assignments, left = narrow_first(inst, assignments, left, table)
    taken: dict[str, list[Assignment]] = {}
    for a in assignments:
        taken.setdefault(a.unit, []).append(a)
    dwellings = np.array(
        [i for i, d in enumerate(inst.dwellings) if d.id not in taken], dtype=np.int64
    )
    flats, occupants = [], []
    for i, f in enumerate(inst.shared_flats):
        inside = taken.get(f.id, [])
        if len(inside) < f.beds:
            flats.append(i)
            occupants.extend(inside)
    if dwellings.size == 0 and not flats:
        return None
    index = inst.beneficiary_index
    out_idx = np.array(sorted(index[b] for b in left_out), dtype=np.int64)
    moves, moves_info = _movable(
        inst,
        out_idx,
        taken,
        dwellings,
        np.array(flats, dtype=np.int64),
        params.decompose.stitch_moves,
    )
    moves = np.sort(moves)
    movers = [taken[inst.dwellings[d].id][0] for d in moves.tolist()]
    released = occupants + movers
    who = np.array(
        sorted(set(out_idx.tolist()) | {index[a.beneficiary] for a in released}),
        dtype=np.int64,
    )
    # the released placements' money goes back to the funds: the stitch pays again
    funds = list(left)
    for k, s in enumerate(_spent(inst, released, fund_pos)):
        funds[k] += s
    sub = _sub_instance(
        inst,
        f"{inst.name}#stitch",
        who,
        np.sort(np.concatenate([dwellings, moves])),
        np.array(flats, dtype=np.int64),
        [replace(f, budget_cents=m) for f, m in zip(inst.funds, funds, strict=True)],
    )
    kept = {p.beneficiary: p for p in sub.pinned}
    # an occupant keeps its flat; its room may change, so that the free beds may be
    # arranged into rooms the left-out may share
    pins = [kept.get(a.beneficiary, Pin(a.beneficiary, a.unit)) for a in occupants]
    pinned_ids = {p.beneficiary for p in pins} | set(kept)
    sub = replace(sub, pinned=(*pins, *(p for p in sub.pinned if p.beneficiary not in pinned_ids)))
    only = np.full(len(sub.beneficiaries), -1, dtype=np.int64)
    for a in occupants:
        only[sub.beneficiary_index[a.beneficiary]] = sub.unit_index[a.unit]
    among = None
    if movers:
        # an occupant free to move: its dwelling and the homes nearest it
        mv = np.array([sub.beneficiary_index[a.beneficiary] for a in movers], dtype=np.int64)
        home = np.array([sub.unit_index[a.unit] for a in movers], dtype=np.int64)
        bi, ui = _nearest_units(sub, mv, MOVER_OPTIONS)
        among = (np.concatenate([bi, mv]), np.concatenate([ui, home]))
    pairs = eligible_pairs(sub, only=only, among=among)
    eligibility = pairs.seconds
    report: dict[str, Any] = {
        "households": len(left_out),
        "occupants": len(occupants),
        "dwellings": int(dwellings.size),
        "flats": len(flats),
        "moves": moves_info,
        "pairs": len(pairs),
        "eligibility_seconds": round(eligibility, 2),
    }
    if budget.left() <= 1.0:
        return Stitched(list(assignments), set(), report)
    # the households still left out keep the reasons their parts gave: not explained again
    # the released placements as they are start the search: never worse than them
    # the occupants it may leave out are explained after it (4 s at XL), within the time
    run = budget.keep(EXPLAIN_SHARE if movers else 0.0)
    res = solve_priced(sub, params, None, run, pairs, explain=False, start=released)
    placed = {a.beneficiary for a in res.assignments}
    before = sum(inst.weight(inst.beneficiary(a.beneficiary)) for a in released)
    gain = res.objective.weight - before
    report.update(
        status=res.status,
        gain=gain,
        bound_gain=None if res.bound_weight is None else res.bound_weight - before,
        seconds=round(budget.elapsed(), 2),
        # where its time went (pricing, starts, each stage): what a faster stitch must cut
        timings={k: round(v, 2) for k, v in res.timings.items()},
        stages=[
            {k: s.get(k) for k in ("objective", "status", "value", "bound", "seconds")}
            for s in res.stages
        ],
    )
    if res.status not in ("OPTIMAL", "FEASIBLE") or gain <= 0 or not pinned_ids <= placed:
        logger.info("stitch kept nothing: %s", report)
        return Stitched(list(assignments), set(), report)
    gone = {a.beneficiary for a in released}
    out = [a for a in assignments if a.beneficiary not in gone] + list(res.assignments)
    left_home = {a.beneficiary for a in movers} - placed
    t = time.perf_counter()
    dropped = _explain_left_out(sub, pairs, res.assignments, left_home) if left_home else []
    report["explain_seconds"] = round(time.perf_counter() - t, 2)
    homes = {a.beneficiary: a.unit for a in movers}
    report["moved"] = sum(1 for a in res.assignments if homes.get(a.beneficiary, a.unit) != a.unit)
    report["dropped"] = len(dropped)
    logger.info("stitch: %s", report)
    return Stitched(out, placed - gone, report, dropped)


def _explain_left_out(
    sub: Instance, pairs: Pairs, assignments: Sequence[Assignment], who: set[str]
) -> list[Unassigned]:
    """Why the households ``who`` of ``sub`` are left out by ``assignments``, as
    :func:`explain_unassigned` says, looking only at the units within their reach: the
    placements there (each with its own unit), the money the others spent taken off the
    budgets. Replaying every placement of the stitch took 16 s at XL."""
    index = sub.beneficiary_index
    mine = np.array(sorted(index[b] for b in who), dtype=np.int64)
    units = np.unique(pairs.unit[np.isin(pairs.beneficiary, mine)])
    near = set(units.tolist())
    inside = [a for a in assignments if sub.unit_index[a.unit] in near]
    fund_pos = {f.id: k for k, f in enumerate(sub.funds)}
    spent = _spent(sub, [a for a in assignments if sub.unit_index[a.unit] not in near], fund_pos)
    hh = np.unique(np.concatenate([mine, [index[a.beneficiary] for a in inside]]).astype(np.int64))
    nd = len(sub.dwellings)
    small = _sub_instance(sub, f"{sub.name}#left", hh, units[units < nd], units[units >= nd] - nd)
    only = np.full(hh.size, -1, dtype=np.int64)
    for a in inside:
        only[small.beneficiary_index[a.beneficiary]] = small.unit_index[a.unit]
    # the pairs as the round's budgets allow them; the rows with the money left
    small_pairs = eligible_pairs(small, only=only)
    funds = tuple(
        replace(f, budget_cents=f.budget_cents - s) for f, s in zip(sub.funds, spent, strict=True)
    )
    # a household with no pair at all is told about the round's units
    paired = set(pairs.beneficiary[np.isin(pairs.beneficiary, mine)].tolist())
    unpaired = {b for b in who if index[b] not in paired}
    out = explain_unassigned(
        replace(small, funds=funds), small_pairs, inside, False, only=who - unpaired
    )
    if unpaired:
        out += explain_unassigned(sub, pairs.subset(mine[:0]), [], False, only=unpaired)
    return sorted(out, key=lambda u: index[u.beneficiary])


def part_ids(inst: Instance, part: Part) -> set[str]:
    """The ids of a part's households."""
    return {inst.beneficiaries[b].id for b in part.households.tolist()}


def _report(pl: Plan, n_pairs: int, workers: int = 1) -> dict[str, Any]:
    return {
        "components": pl.components,
        "parts": len(pl.parts),
        "workers": workers,
        "estimated_pairs": round(pl.est_pairs),
        "pairs_in_parts": n_pairs,
        "plan_seconds": round(pl.seconds, 2),
        "by_part": [q.report for q in pl.parts],
    }


def _check_pairless(
    inst: Instance, pl: Plan, has_pair: npt.NDArray[np.bool_], deadline: float
) -> npt.NDArray[np.bool_]:
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
            block = hh[s : s + 2_000]
            found = eligible_pairs(_sub_instance(inst, "bound", block, d, f))
            none = np.ones(block.size, dtype=bool)
            none[np.unique(found.beneficiary)] = False
            known_none[block[none]] = True
    return known_none
