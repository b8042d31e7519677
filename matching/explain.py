"""Why each unassigned beneficiary was left out: machine-readable reasons.

The reason codes are the engine's own (the spec leaves them to it). Each unassigned
beneficiary gets at least one, most frequent first, and ``details`` that name the
units, rules, funds and competing placements behind them.

No unit could ever take the household (a rule of the spec rejects every pair):

============================  =======================================================
``no_unit_within_commute``    no unit of a kind it accepts lies within its max commute
``unit_type_not_accepted``    units within reach are of a kind it does not accept, or
                              beds while the household is not a single adult
``too_large``                 dwellings within reach hold fewer persons (DM 5/7/1975
                              or the certificate's maximum)
``children_not_allowed``      dwellings within reach do not take minors
``not_step_free``             units within reach are not step-free
``unaffordable_at_cap``       the contribution would exceed the cap even at the maximum
``no_fund_can_pay``           the contribution is positive and no fund may pay it (no
                              eligible tag, or over a whole eligible budget)
``forbidden``                 staff excluded the pair
``unit_not_available``        instance@2: no unit within reach is free for the whole
                              stay (no home free for part of a stay is offered)
``outside_areas``             instance@2: the units within reach are outside the
                              areas the household may live in
``safety``                    instance@2: a safety zone keeps the household out of the
                              units within reach; given alone, with no details, when
                              it is the only obstacle (the zone is never shown)
``no_line_within_walk``       instance@2: (after ``no_unit_within_commute``) no
                              shuttle line stops within walking distance of work
============================  =======================================================

Some unit could take it, but this round's allocation did not place it there:

================================  ===================================================
``units_taken``                   every such unit went to other placements (named,
                                  with their weight: higher, or equal and cheaper)
``rooms_taken_by_other_gender``   free beds remain only in rooms given to another
                                  gender
``funds_exhausted``               a unit was free but no eligible fund had enough left
``no_seat_on_line``               instance@2: the unit is reached only by a shuttle
                                  line with no seat left in some month of the stay
``transport_budget_exhausted``    instance@2: the line that would reach the unit is
                                  not running, and opening it is beyond the budget
``guarantee_exhausted``           instance@2: the dwelling's guaranteed terms need
                                  more of the guarantee fund than is left
``group_floor``                   a policy option: placing the household would take a
                                  group under the share of the placed reserved for it
``zero_priority``                 a unit was free and fundable, but its priority is 0,
                                  so placing it adds nothing to objective 1
``not_reached_in_time``           a unit was free and fundable: the search stopped
                                  before it proved the allocation optimal
``other_parts_not_searched``      the round was solved in parts (too large to solve
                                  whole, :mod:`matching.decompose`): the household was
                                  offered the units of its part only, and the reasons
                                  before this one are about those; then the homes
                                  no part took and the shared flats' free beds
``part_not_searched_in_time``     the round was solved in parts and the time limit
                                  ran out before the household's part was searched
================================  ===================================================

Rounds without an allocation: ``round_infeasible`` (the pinned placements themselves
break a rule; ``details.conflicts`` says which) and ``no_solution_in_time``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from matching import geo
from matching.eligibility import (
    Arrays,
    Pairs,
    commute_km,
    offer_masks,
    pair_masks,
    stop_distances,
    within_commute,
)
from matching.instance import Instance
from matching.model.columns import Columns
from matching.model.formulation import option_index
from matching.model.rules import declare
from matching.model.space import RowSpace, Universe
from matching.packing import Fit, Packing
from matching.result import Assignment, Objective, Result, Status, Unassigned, result_format

PAIR_RULES = (
    "unit_type_not_accepted",
    "too_large",
    "children_not_allowed",
    "not_step_free",
    "unaffordable_at_cap",
    "no_fund_can_pay",
    "forbidden",
    "unit_not_available",
    "outside_areas",
    "safety",
    "no_line_within_walk",
)
ALLOCATION_REASONS = (
    "units_taken",
    "rooms_taken_by_other_gender",
    "funds_exhausted",
    "no_seat_on_line",
    "transport_budget_exhausted",
    "guarantee_exhausted",
    "group_floor",
    "zero_priority",
    "not_reached_in_time",
    "other_parts_not_searched",
    "part_not_searched_in_time",
)
ROUND_REASONS = ("round_infeasible", "no_solution_in_time")
REASONS = ("no_unit_within_commute", *PAIR_RULES, *ALLOCATION_REASONS, *ROUND_REASONS)
MAX_DETAIL_UNITS = 5
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

REASON_TEXT = {
    "no_unit_within_commute": "no unit of a kind the household accepts is within its maximum "
    "commute",
    "unit_type_not_accepted": "the units within reach are of a kind the household does not "
    "accept (beds are for single adults only)",
    "too_large": "the dwellings within reach are too small for the household "
    "(DM 5 July 1975 or the certificate's maximum)",
    "children_not_allowed": "the dwellings within reach do not take minors",
    "not_step_free": "the units within reach are not step-free",
    "unaffordable_at_cap": "the contribution needed exceeds the cap",
    "no_fund_can_pay": "no fund may pay the contribution (eligibility tags, or a budget "
    "smaller than one placement)",
    "forbidden": "staff excluded the pair",
    "unit_not_available": "no home within reach is free for the whole stay",
    "outside_areas": "the homes within reach are outside the areas the household may live in",
    "safety": "for the household's safety, the homes within reach cannot be offered",
    "no_line_within_walk": "no shuttle line stops within walking distance of work",
    "no_seat_on_line": "no seat is left, in some month of the stay, on the line that would "
    "reach work",
    "transport_budget_exhausted": "the line that would reach work is not running, and the "
    "transport budget cannot open it",
    "guarantee_exhausted": "the guarantee fund has too little left for the dwelling's "
    "guaranteed terms",
    "group_floor": "placing the household would take a group under the share of the placed "
    "the policy reserves for it",
    "units_taken": "every unit the household could take went to other placements (of higher "
    "weight, or equal weight and cheaper)",
    "rooms_taken_by_other_gender": "free beds remain only in rooms given to another gender",
    "funds_exhausted": "a unit was free but no eligible fund had enough money left",
    "zero_priority": "the household has priority 0, so placing it adds nothing",
    "not_reached_in_time": "a unit was free and fundable: the search stopped before proving "
    "optimality",
    "other_parts_not_searched": "the round was solved in parts: only the units of the "
    "household's part were searched",
    "part_not_searched_in_time": "the round was solved in parts and the time limit ran out "
    "before the household's part was searched",
    "round_infeasible": "the pinned placements themselves break a rule",
    "no_solution_in_time": "no allocation was found within the time limit",
}


def pair_failures(
    inst: Instance, b: int, units: Sequence[int], arr: Arrays | None = None
) -> list[list[str]]:
    """For household index ``b``, the rule codes each unit index in ``units`` breaks.

    ``no_unit_within_commute`` stands for rule 5 (no shuttle line reaches the unit
    either). A dwelling with several terms breaks a terms rule only if every one of its
    terms does (the codes of its best terms are given).
    """
    arr = Arrays.of(inst) if arr is None else arr
    ui = np.asarray(units, dtype=np.int64)
    bi = np.full(ui.shape, b, dtype=np.int64)
    masks = pair_masks(inst, arr, bi, ui)
    km = commute_km(inst, arr, bi, ui)
    near = within_commute(inst, arr, bi, ui, km) | by_line(inst, arr, b, ui)
    banned = {
        inst.unit_index[f.unit] for f in inst.forbidden if f.beneficiary == inst.beneficiaries[b].id
    }
    out = []
    for k, u in enumerate(ui.tolist()):
        codes = [code for code, ok in masks.items() if not ok[k]]
        offers = np.arange(arr.u_offers[u], arr.u_offers[u + 1])
        offer_ok, _ = offer_masks(inst, arr, np.full(offers.shape, b), offers)
        failing: list[list[str]] = [
            [c for c, ok in offer_ok.items() if not ok[j]] for j in range(offers.size)
        ]
        best: list[str] = min(failing, key=len) if failing else []
        codes += best
        if not near[k]:
            codes.append("no_unit_within_commute")
        if u in banned:
            codes.append("forbidden")
        out.append(codes)
    return out


def by_line(inst: Instance, arr: Arrays, b: int, units: IntArray) -> BoolArray:
    """Which units a shuttle line brings within reach of household ``b``'s work: some
    stop of the line within walking distance of the unit, and one of work."""
    ok = np.zeros(units.shape, dtype=bool)
    walk = inst.policy.walk_km
    if walk is None:
        return ok
    for line in inst.shuttles:
        stops = np.array([[x.lat, x.lon] for x in line.stops], dtype=np.float64)
        _, near_work = stop_distances(arr.b_lat[b : b + 1], arr.b_lon[b : b + 1], stops, walk)
        if near_work.any():
            _, near_home = stop_distances(arr.u_lat[units], arr.u_lon[units], stops, walk)
            ok |= near_home.any(axis=1)
    return ok


def _no_pair_reasons(inst: Instance, arr: Arrays, b: int) -> tuple[list[str], dict[str, Any]]:
    """Reasons for a household none of whose options passes the rules."""
    ben = inst.beneficiaries[b]
    hav = geo.haversine_km(arr.b_lat[b], arr.b_lon[b], arr.u_lat, arr.u_lon)
    # the units the eligibility's pre-filter looks at, by the same test, and any unit a
    # shuttle line could bring within reach
    reach = geo.cos_reach(geo.sphere_reach_km(arr.b_max_km[b : b + 1], inst.policy.circuity))
    cand_mask = arr.u_vec @ arr.b_vec[b] >= reach[0]
    if inst.shuttles:
        cand_mask |= by_line(inst, arr, b, np.arange(inst.n_units))
    cand = np.flatnonzero(cand_mask)
    failures = pair_failures(inst, b, cand.tolist(), arr) if cand.size else []
    if ben.avoid and any(codes == ["safety"] for codes in failures):
        # a safety zone is what keeps the household out: nothing more is said, anywhere
        return ["safety"], {}
    if ben.avoid:  # the zones are never counted: each unit's other obstacles are given
        failures = [[c for c in codes if c != "safety"] for codes in failures]
    within = [
        (int(u), codes)
        for u, codes in zip(cand.tolist(), failures, strict=True)
        if "no_unit_within_commute" not in codes
    ]
    details: dict[str, Any] = {
        "units_within_commute": len(within),
        "max_commute_km": ben.max_commute_km,
    }
    kinds_ok = [(u, c) for u, c in within if "unit_type_not_accepted" not in c]
    if not kinds_ok:
        details["nearest_unit_km"] = None
        if hav.size and not ben.avoid:
            u = int(np.argmin(hav))
            details["nearest_unit_km"] = round(
                inst.policy.circuity
                * geo.geodesic_km(arr.b_lat[b], arr.b_lon[b], arr.u_lat[u], arr.u_lon[u]),
                3,
            )
        if within:
            return ["unit_type_not_accepted"], details
        reasons = ["no_unit_within_commute"]
        if inst.shuttles and not _stop_within_walk(inst, arr, b):
            reasons.append("no_line_within_walk")
        return reasons, details
    counts: Counter[str] = Counter(code for _, codes in kinds_ok for code in codes)
    details["rejected_by"] = dict(counts.most_common())
    details["examples"] = [
        {"unit": inst.unit_id(u), "rules": codes} for u, codes in kinds_ok[:MAX_DETAIL_UNITS]
    ]
    return [code for code, _ in counts.most_common()], details


def _stop_within_walk(inst: Instance, arr: Arrays, b: int) -> bool:
    walk = inst.policy.walk_km
    return walk is not None and any(
        geo.geodesic_km(arr.b_lat[b], arr.b_lon[b], x.lat, x.lon) <= walk
        for line in inst.shuttles
        for x in line.stops
    )


def encoded_aux(space: RowSpace, assignments: Sequence[Assignment]) -> npt.NDArray[np.int64]:
    """The rules' auxiliary values of an allocation in ``space``, read from its named
    placements (a rule's ``encode``: which rooms each gender holds); zero for a rule that
    cannot read them."""
    out = np.zeros(space.n_aux, dtype=np.int64)
    for i, b in enumerate(space.blocks):
        if b.encode is not None and b.n_aux:
            a0 = int(space.aux_start[i])
            out[a0 : a0 + b.n_aux] = b.encode(assignments)
    return out


def replay(space: RowSpace, pairs: Pairs, assignments: Sequence[Assignment]) -> Packing:
    """The rows' activities of an allocation, placement by placement.

    The rules' auxiliary values come from the named placements (a rule's ``encode``:
    which rooms each gender holds), so that a valid allocation always fits.
    """
    pack = Packing(space)
    aux = encoded_aux(space, assignments)
    for k in np.flatnonzero(aux).tolist():
        pack.raise_aux(k, int(aux[k]))
    for a in assignments:
        col = placement_column(space, pairs, a)
        if col is None:
            continue
        t = space.touch(col)
        pack.place(t.row.tolist(), t.coef.tolist(), Fit(True))
    return pack


def placement_column(space: RowSpace, pairs: Pairs, a: Assignment) -> Columns | None:
    """The model's column of a placement (its option, room and fund), or None if the
    placement has none (it breaks a pair rule, or a pin keeps the household elsewhere)."""
    inst = space.inst
    p = option_index(inst, pairs, a)
    if p < 0:
        return None
    cols = space.universe.columns(np.array([p], dtype=np.int64))
    want = next((k for k, f in enumerate(inst.funds) if f.id == a.fund), -2) if a.fund else -1
    room = -1
    nd = len(inst.dwellings)
    ui = inst.unit_index[a.unit]
    if ui >= nd and a.room is not None and space.universe.rooms.explicit[ui - nd]:
        room = [r.id for r in inst.shared_flats[ui - nd].rooms].index(a.room)
    js = np.flatnonzero((cols.fund == want) & (cols.room == room))
    return cols.subset(js[:1]) if js.size else None


def explain_unassigned(
    inst: Instance,
    pairs: Pairs,
    assignments: Sequence[Assignment],
    proven: bool,
    space: RowSpace | None = None,
    only: set[str] | None = None,
) -> list[Unassigned]:
    """Reasons for every beneficiary without a placement in ``assignments`` (of those
    in ``only``, when given).

    Each of the household's eligible pairs is tried against the allocation's rows
    (:class:`~matching.packing.Packing`): the rule whose row stops it gives the reason
    (its ``blocker``); a pair that would fit is ``zero_priority`` or
    ``not_reached_in_time``. ``proven`` says whether objective 1 was proven optimal; it
    only changes the wording of ``not_reached_in_time`` in the details.
    """
    space = declare(Universe.of(inst, pairs)) if space is None else space
    placed = {a.beneficiary for a in assignments}
    weight = {b.id: inst.weight(b) for b in inst.beneficiaries}
    holders: dict[str, list[str]] = defaultdict(list)
    for a in assignments:
        holders[a.unit].append(a.beneficiary)
    pack = replay(space, pairs, assignments)
    funds = space.universe.funds
    _, fund_row = space.block("fund_budgets")
    arr: Arrays | None = None
    out: list[Unassigned] = []
    # the allocation does not change while it is explained: a row's reason is computed
    # once (at L with budgets cut to a fifth, 3.6M columns of 4,672 households are tried)
    row_reason: dict[int, str] = {}
    for bi, ben in enumerate(inst.beneficiaries):
        if ben.id in placed or (only is not None and ben.id not in only):
            continue
        sl = pairs.of_beneficiary(bi)
        cols = space.universe.columns(np.arange(sl.start, sl.stop, dtype=np.int64))
        if len(cols) == 0:
            arr = Arrays.of(inst) if arr is None else arr
            reasons, why = _no_pair_reasons(inst, arr, bi)
            if sl.start < sl.stop:  # pairs, but none this household may take (a pin)
                reasons, why = ["round_infeasible"], {"eligible_units": sl.stop - sl.start}
            out.append(Unassigned(ben.id, tuple(reasons) or ("not_reached_in_time",), why))
            continue
        t = space.touch(cols)
        order = np.argsort(t.col, kind="stable")
        starts = np.searchsorted(t.col[order], np.arange(len(cols) + 1))
        counts: Counter[str] = Counter()
        taken: list[dict[str, Any]] = []
        short: dict[str, int] = {}
        by_pair = np.lexsort((pairs.commute_km[cols.pair], cols.contribution_cents))
        # each pair's columns (its funds and rooms), in column order
        same = np.argsort(cols.pair, kind="stable")
        bounds = np.searchsorted(cols.pair[same], cols.pair, side="left").tolist()
        ends = np.searchsorted(cols.pair[same], cols.pair, side="right").tolist()
        same_list = same.tolist()
        seen: set[int] = set()
        for j0 in by_pair.tolist():
            p = int(cols.pair[j0])
            if p in seen:
                continue
            seen.add(p)
            code = ""
            for j in same_list[bounds[j0] : ends[j0]]:
                rows = t.row[order[starts[j] : starts[j + 1]]].tolist()
                coefs = t.coef[order[starts[j] : starts[j + 1]]].tolist()
                fit = pack.fits(rows, coefs)
                if fit.ok:
                    code = "free"
                    break
                this = row_reason.get(fit.blocking, "")
                if not this:
                    this = row_reason[fit.blocking] = space.reason(fit.blocking, pack.activity)
                code = this if not code or code == "funds_exhausted" else code
            uid = inst.unit_id(int(cols.unit[j0]))
            if code == "free":
                counts["zero_priority" if weight[ben.id] == 0 else "not_reached_in_time"] += 1
            elif code == "funds_exhausted":
                counts[code] += 1
                short[uid] = int(cols.cost_cents[j0])
            else:
                counts[code] += 1
                who = holders.get(uid, [])[:MAX_DETAIL_UNITS]
                taken.append({"unit": uid, "by": who, "weights": [weight[x] for x in who]})
        details: dict[str, Any] = {"eligible_units": len(seen), "weight": weight[ben.id]}
        if taken:
            details["taken"] = taken[:MAX_DETAIL_UNITS]
        if short:
            details["funds_left_cents"] = {
                f.id: int(space.hi[fund_row + k] - pack.act[fund_row + k])
                for k, f in enumerate(inst.funds)
                if funds.ok[k, bi]
            }
            details["needed_cents"] = min(short.values())
        if counts["not_reached_in_time"]:
            details["search"] = "objective 1 proven optimal" if proven else "stopped early"
        out.append(Unassigned(ben.id, tuple(c for c, _ in counts.most_common()), details))
    return out


def pin_conflicts(inst: Instance, pairs: Pairs, space: RowSpace | None = None) -> list[str]:
    """What makes the pinned placements themselves break a rule (empty if nothing found).

    A pinned pair that breaks a pair rule is named with the rules it breaks; then each
    rule's own conflicts (declared with its rows), and every row that the pinned
    placements load beyond what it can ever hold, whichever way they are paid. Whether
    the pinned contributions fit in the funds together is a packing question the solver
    answers.
    """
    space = declare(Universe.of(inst, pairs)) if space is None else space
    conflicts: list[str] = []
    arr = Arrays.of(inst)
    load = np.zeros(space.n_rows, dtype=np.float64)
    who: dict[int, list[str]] = defaultdict(list)
    pinned = [inst.beneficiary_index[pin.beneficiary] for pin in inst.pinned]
    # each pinned household's columns at once, grouped by household
    hh = np.unique(np.array(pinned, dtype=np.int64))
    spans = [pairs.of_beneficiary(b) for b in hh.tolist()]
    opts = np.concatenate(
        [np.arange(x.start, x.stop, dtype=np.int64) for x in spans] or [np.zeros(0, dtype=np.int64)]
    )
    cols = space.universe.columns(opts.astype(np.int64))
    group = np.searchsorted(hh, cols.beneficiary)
    n_cols = np.bincount(group, minlength=hh.size)
    usable: list[int] = []
    for pin, bi in zip(inst.pinned, pinned, strict=True):
        if n_cols[np.searchsorted(hh, bi)] == 0:
            rules = pair_failures(inst, bi, [inst.unit_index[pin.unit]], arr)[0]
            conflicts.append(
                f"pinned {pin.beneficiary} -> {pin.unit} breaks: {', '.join(rules) or 'a rule'}"
            )
        else:
            usable.append(bi)
    if usable:
        t = space.touch(cols)
        # a column's own entries, the last of a repeat (as a column's row is written)
        key = t.col.astype(np.int64) * space.n_rows + t.row
        _, last = np.unique(key[::-1], return_index=True)
        keep = key.size - 1 - last
        col, row, coef = t.col[keep], t.row[keep], t.coef[keep].astype(np.float64)
        # the least load any way of paying for a pin puts on a row: positive only on a
        # row every one of its household's columns touches
        g_row = group[col].astype(np.int64) * space.n_rows + row
        uniq, inv = np.unique(g_row, return_inverse=True)
        least = np.full(uniq.size, np.inf)
        np.minimum.at(least, inv, coef)
        grp, rw = uniq // space.n_rows, uniq % space.n_rows
        every = (np.bincount(inv, minlength=uniq.size) == n_cols[grp]) & (least > 0)
        rows_of: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for gi, ri, x in zip(
            grp[every].tolist(), rw[every].tolist(), least[every].tolist(), strict=True
        ):
            rows_of[int(hh[gi])].append((ri, x))
        # each pin in turn, as the rows name them
        for bi in usable:
            for ri, x in rows_of.get(bi, []):
                load[ri] += x
                who[ri].append(inst.beneficiaries[bi].id)
    conflicts += space.conflicts
    relieved = set(space.aux.row[space.aux.coef < 0].tolist())
    # a group floor's rows are met by placing more of the group, not a capacity: the
    # pinned placements alone never break them (the solver says whether the rest can)
    for i, b in enumerate(space.blocks):
        if b.rule == "group_floors":
            relieved.update(range(int(space.row_start[i]), int(space.row_start[i]) + b.n_rows))
    for r in np.flatnonzero(load > space.hi).tolist():
        if r in relieved:
            continue  # a capacity the rule shares out itself (its declared conflicts)
        conflicts.append(
            f"{space.name(r)}: the pinned {', '.join(who[r])} need "
            f"{load[r]:g}, at most {space.hi[r]:g} fit"
        )
    return conflicts


def empty_result(
    inst: Instance,
    status: Status,
    reason: str,
    seconds: float,
    details: dict[str, Any],
    engine: str,
    bound: int | None = None,
) -> Result:
    """A result with no allocation: everybody unassigned with the same reason."""
    return Result(
        instance=inst.name,
        status=status,
        objective=Objective(0, 0, 0.0, 0),
        bound_weight=bound,
        assignments=(),
        solve_seconds=seconds,
        engine={"name": engine},
        format=result_format(inst.v2),
        unassigned=tuple(Unassigned(b.id, (reason,), details) for b in inst.beneficiaries),
    )


def infeasible_result(
    inst: Instance,
    pairs: Pairs,
    seconds: float,
    engine: str,
    conflicts: list[str] | None = None,
    space: RowSpace | None = None,
) -> Result:
    """The ``INFEASIBLE`` result of a round whose pinned placements break a rule."""
    conflicts = pin_conflicts(inst, pairs, space) if conflicts is None else conflicts
    if not conflicts:
        conflicts = ["the pinned placements' contributions do not fit in the funds"]
    return empty_result(
        inst, "INFEASIBLE", "round_infeasible", seconds, {"conflicts": conflicts}, engine
    )
