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
============================  =======================================================

Some unit could take it, but this round's allocation did not place it there:

================================  ===================================================
``units_taken``                   every such unit went to other placements (named,
                                  with their weight: higher, or equal and cheaper)
``rooms_taken_by_other_gender``   free beds remain only in rooms given to another
                                  gender
``funds_exhausted``               a unit was free but no eligible fund had enough left
``zero_priority``                 a unit was free and fundable, but its priority is 0,
                                  so placing it adds nothing to objective 1
``not_reached_in_time``           a unit was free and fundable: the search stopped
                                  before it proved the allocation optimal
``other_parts_not_searched``      the round was solved in parts (too large to solve
                                  whole, :mod:`matching.decompose`): the household was
                                  offered the units of its part only, and the reasons
                                  before this one are about those
================================  ===================================================

Rounds without an allocation: ``round_infeasible`` (the pinned placements themselves
break a rule; ``details.conflicts`` says which) and ``no_solution_in_time``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from matching import geo
from matching.eligibility import Arrays, Pairs, commute_km, rule_masks, within_commute
from matching.instance import Instance
from matching.result import Assignment, Objective, Result, Status, Unassigned

PAIR_RULES = ("unit_type_not_accepted", "too_large", "children_not_allowed", "not_step_free",
              "unaffordable_at_cap", "no_fund_can_pay", "forbidden")
ALLOCATION_REASONS = ("units_taken", "rooms_taken_by_other_gender", "funds_exhausted",
                      "zero_priority", "not_reached_in_time", "other_parts_not_searched")
ROUND_REASONS = ("round_infeasible", "no_solution_in_time")
REASONS = ("no_unit_within_commute", *PAIR_RULES, *ALLOCATION_REASONS, *ROUND_REASONS)
MAX_DETAIL_UNITS = 5

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
    "units_taken": "every unit the household could take went to other placements (of higher "
                   "weight, or equal weight and cheaper)",
    "rooms_taken_by_other_gender": "free beds remain only in rooms given to another gender",
    "funds_exhausted": "a unit was free but no eligible fund had enough money left",
    "zero_priority": "the household has priority 0, so placing it adds nothing",
    "not_reached_in_time": "a unit was free and fundable: the search stopped before proving "
                           "optimality",
    "other_parts_not_searched": "the round was solved in parts: only the units of the "
                                "household's part were searched",
    "round_infeasible": "the pinned placements themselves break a rule",
    "no_solution_in_time": "no allocation was found within the time limit",
}


def pair_failures(inst: Instance, b: int, units: Sequence[int],
                  arr: Arrays | None = None) -> list[list[str]]:
    """For beneficiary index ``b``, the rule codes each unit index in ``units`` breaks.

    ``no_unit_within_commute`` stands for rule 5 at pair level.
    """
    arr = Arrays.of(inst) if arr is None else arr
    ui = np.asarray(units, dtype=np.int64)
    bi = np.full(ui.shape, b, dtype=np.int64)
    masks, _ = rule_masks(inst, arr, bi, ui)
    km = commute_km(inst, arr, bi, ui)
    near = within_commute(inst, arr, bi, ui, km)
    banned = {inst.unit_index[f.unit] for f in inst.forbidden
              if f.beneficiary == inst.beneficiaries[b].id}
    out = []
    for k, u in enumerate(ui.tolist()):
        codes = [code for code, ok in masks.items() if not ok[k]]
        if not near[k]:
            codes.append("no_unit_within_commute")
        if u in banned:
            codes.append("forbidden")
        out.append(codes)
    return out


def _no_pair_reasons(inst: Instance, arr: Arrays, b: int) -> tuple[list[str], dict[str, Any]]:
    """Reasons for a beneficiary none of whose pairs passes the rules."""
    ben = inst.beneficiaries[b]
    hav = geo.haversine_km(arr.b_lat[b], arr.b_lon[b], arr.u_lat, arr.u_lon)
    # the units the eligibility's pre-filter looks at, by the same test
    reach = geo.cos_reach(geo.sphere_reach_km(arr.b_max_km[b:b + 1], inst.policy.circuity))
    cand = np.flatnonzero(arr.u_vec @ arr.b_vec[b] >= reach[0])
    failures = pair_failures(inst, b, cand.tolist(), arr) if cand.size else []
    within = [(int(u), codes) for u, codes in zip(cand.tolist(), failures, strict=True)
              if "no_unit_within_commute" not in codes]
    details: dict[str, Any] = {"units_within_commute": len(within),
                               "max_commute_km": ben.max_commute_km}
    kinds_ok = [(u, c) for u, c in within if "unit_type_not_accepted" not in c]
    if not kinds_ok:
        details["nearest_unit_km"] = None
        if hav.size:
            u = int(np.argmin(hav))
            details["nearest_unit_km"] = round(inst.policy.circuity * geo.geodesic_km(
                arr.b_lat[b], arr.b_lon[b], arr.u_lat[u], arr.u_lon[u]), 3)
        if within:
            return ["unit_type_not_accepted"], details
        return ["no_unit_within_commute"], details
    counts: Counter[str] = Counter(code for _, codes in kinds_ok for code in codes)
    details["rejected_by"] = dict(counts.most_common())
    details["examples"] = [{"unit": inst.unit_id(u), "rules": codes}
                           for u, codes in kinds_ok[:MAX_DETAIL_UNITS]]
    return [code for code, _ in counts.most_common()], details


def explain_unassigned(inst: Instance, pairs: Pairs, assignments: Sequence[Assignment],
                       proven: bool) -> list[Unassigned]:
    """Reasons for every beneficiary without a placement in ``assignments``.

    ``proven`` says whether objective 1 was proven optimal; it only changes the
    wording of ``not_reached_in_time`` in the details.
    """
    placed = {a.beneficiary: a for a in assignments}
    weight = {b.id: inst.weight(b) for b in inst.beneficiaries}
    nd = len(inst.dwellings)
    months = inst.policy.contribution_months
    dwelling_holder: dict[str, str] = {}
    room_people: dict[tuple[str, str], list[str]] = defaultdict(list)
    fund_left = {f.id: f.budget_cents for f in inst.funds}
    for a in assignments:
        if a.room is None:
            dwelling_holder[a.unit] = a.beneficiary
        else:
            room_people[a.unit, a.room].append(a.beneficiary)
        if a.fund is not None:
            fund_left[a.fund] -= a.contribution_cents * months
    arr: Arrays | None = None
    out: list[Unassigned] = []
    for bi, ben in enumerate(inst.beneficiaries):
        if ben.id in placed:
            continue
        sl = pairs.of_beneficiary(bi)
        if sl.start == sl.stop:
            arr = Arrays.of(inst) if arr is None else arr
            reasons, why = _no_pair_reasons(inst, arr, bi)
            out.append(Unassigned(ben.id, tuple(reasons), why))
            continue
        counts: Counter[str] = Counter()
        taken: list[dict[str, Any]] = []
        short: dict[str, int] = {}
        order = np.lexsort((pairs.commute_km[sl], pairs.contribution_cents[sl]))
        for k in order.tolist():
            p = sl.start + k
            ui = int(pairs.unit[p])
            uid = inst.unit_id(ui)
            if ui < nd:
                holder = dwelling_holder.get(uid)
                if holder is not None:
                    counts["units_taken"] += 1
                    taken.append({"unit": uid, "by": [holder], "weights": [weight[holder]]})
                    continue
            else:
                flat = inst.shared_flats[ui - nd]
                free_same = free_other = 0
                for r in flat.rooms:
                    people = room_people.get((uid, r.id), [])
                    spare = r.beds - len(people)
                    if spare <= 0:
                        continue
                    if not people or inst.beneficiary(people[0]).gender == ben.gender:
                        free_same += spare
                    else:
                        free_other += spare
                if free_same == 0:
                    holders = [x for r in flat.rooms for x in room_people.get((uid, r.id), [])]
                    code = "rooms_taken_by_other_gender" if free_other else "units_taken"
                    counts[code] += 1
                    taken.append({"unit": uid, "by": holders[:MAX_DETAIL_UNITS],
                                  "weights": [weight[x] for x in holders[:MAX_DETAIL_UNITS]]})
                    continue
            c = int(pairs.contribution_cents[p])
            if c > 0 and not any(f.eligible(ben.tags) and fund_left[f.id] >= c * months
                                 for f in inst.funds):
                counts["funds_exhausted"] += 1
                short[uid] = c * months
                continue
            counts["zero_priority" if weight[ben.id] == 0 else "not_reached_in_time"] += 1
        details = {"eligible_units": sl.stop - sl.start, "weight": weight[ben.id]}
        if taken:
            details["taken"] = taken[:MAX_DETAIL_UNITS]
        if short:
            details["funds_left_cents"] = {f.id: fund_left[f.id] for f in inst.funds
                                           if f.eligible(ben.tags)}
            details["needed_cents"] = min(short.values())
        if counts["not_reached_in_time"]:
            details["search"] = "objective 1 proven optimal" if proven else "stopped early"
        out.append(Unassigned(ben.id, tuple(c for c, _ in counts.most_common()), details))
    return out


def pin_conflicts(inst: Instance, pairs: Pairs) -> list[str]:
    """What makes the pinned placements themselves break a rule (empty if nothing found).

    Fund budgets are left to the solver: whether pinned contributions fit the funds
    is a packing question it answers.
    """
    conflicts: list[str] = []
    arr = Arrays.of(inst)
    nd = len(inst.dwellings)
    on_unit: dict[str, list[str]] = defaultdict(list)
    in_room: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pin in inst.pinned:
        bi, ui = inst.beneficiary_index[pin.beneficiary], inst.unit_index[pin.unit]
        sl = pairs.of_beneficiary(bi)
        if not np.any(pairs.unit[sl] == ui):
            rules = pair_failures(inst, bi, [ui], arr)[0]
            conflicts.append(f"pinned {pin.beneficiary} -> {pin.unit} breaks: "
                             f"{', '.join(rules) or 'a rule'}")
        on_unit[pin.unit].append(pin.beneficiary)
        if pin.room is not None:
            in_room[pin.unit, pin.room].append(pin.beneficiary)
    for unit, who in on_unit.items():
        ui = inst.unit_index[unit]
        if ui < nd and len(who) > 1:
            conflicts.append(f"dwelling {unit} is pinned to {len(who)} households: "
                             f"{', '.join(who)}")
        if ui >= nd and len(who) > inst.shared_flats[ui - nd].beds:
            conflicts.append(f"shared flat {unit} has {inst.shared_flats[ui - nd].beds} beds "
                             f"but {len(who)} pinned beneficiaries")
    for (unit, room), who in in_room.items():
        beds = next(r.beds for r in inst.shared_flat(unit).rooms if r.id == room)
        if len(who) > beds:
            conflicts.append(f"room {room} of {unit} has {beds} beds but {len(who)} pinned")
        if len({inst.beneficiary(x).gender for x in who}) > 1:
            conflicts.append(f"room {room} of {unit} is pinned to mixed genders")
    return conflicts


def empty_result(inst: Instance, status: Status, reason: str, seconds: float,
                 details: dict[str, Any], engine: str, bound: int | None = None) -> Result:
    """A result with no allocation: everybody unassigned with the same reason."""
    return Result(
        instance=inst.name, status=status, objective=Objective(0, 0, 0.0, 0), bound_weight=bound,
        assignments=(), solve_seconds=seconds, engine={"name": engine},
        unassigned=tuple(Unassigned(b.id, (reason,), details) for b in inst.beneficiaries),
    )


def infeasible_result(inst: Instance, pairs: Pairs, seconds: float, engine: str,
                      conflicts: list[str] | None = None) -> Result:
    """The ``INFEASIBLE`` result of a round whose pinned placements break a rule."""
    conflicts = pin_conflicts(inst, pairs) if conflicts is None else conflicts
    if not conflicts:
        conflicts = ["the pinned placements' contributions do not fit in the funds"]
    return empty_result(inst, "INFEASIBLE", "round_infeasible", seconds,
                        {"conflicts": conflicts}, engine)
