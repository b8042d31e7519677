"""Independent checker of a result against its instance (the test oracle).

:func:`validate` recomputes every derived quantity of the contract
(``docs/problem.md``) on its own: the household's pay with the
exact decimal ratio, the contribution, the geodesic commute, the legal occupancy limit
and the weights. It never calls the solver nor the eligibility code, so that a bug there
cannot hide itself here. Only the frozen data layer (:mod:`matching.instance`,
:mod:`matching.result`) is shared.

Every problem found is a :class:`Violation` with a stable ``code`` (see
:data:`VIOLATION_CODES`). :func:`check` raises :class:`ValidationError` when there is any.

The checker is linear in the size of the result: one geodesic per assignment plus
dictionary look-ups.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from geopy.distance import geodesic

from matching.instance import (
    Beneficiary,
    Dwelling,
    Fund,
    Instance,
    Policy,
    SharedFlat,
    Shuttle,
    Span,
    month_text,
)
from matching.result import Assignment, Result, Unassigned, lines_opened

__all__ = [
    "COMMUTE_RULE_TOLERANCE_KM",
    "COMMUTE_TOLERANCE_KM",
    "VIOLATION_CODES",
    "ValidationError",
    "Violation",
    "check",
    "commute_km",
    "commute_m",
    "contribution_cents",
    "legal_max_from_spec",
    "pay_cents",
    "validate",
]

#: Slack allowed on rule 5 (``commute_km <= max_commute_km``): none, the rule is exact.
COMMUTE_RULE_TOLERANCE_KM = 0.0
#: Slack allowed between a reported commute and the recomputed one (per placement).
COMMUTE_TOLERANCE_KM = 1e-3

_STATUSES = ("OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN")
_NO_ALLOCATION = ("INFEASIBLE", "UNKNOWN")

#: Every violation code :func:`validate` can report, with its meaning.
VIOLATION_CODES: Mapping[str, str] = {
    # coverage of the beneficiaries
    "beneficiary_missing": "a beneficiary of the instance is neither assigned nor unassigned",
    "beneficiary_duplicated": "a beneficiary appears more than once across assignments "
    "and unassigned",
    "unknown_beneficiary": "an assignment or unassigned entry names a beneficiary not in the "
    "instance",
    # references of a placement
    "unknown_unit": "an assignment names a unit that is neither a dwelling nor a shared flat",
    "room_on_dwelling": "an assignment to a dwelling names a room",
    "room_missing": "an assignment to a shared flat names no room",
    "unknown_room": "an assignment names a room that is not in its shared flat",
    # dwelling rules 1-3 (rules 4-7 below are shared with beds)
    "dwelling_not_accepted": "rule 1: the beneficiary does not accept a dwelling",
    "dwelling_over_capacity": "rule 2: persons exceed the dwelling's max_occupants",
    "dwelling_no_children": "rule 3: a household with minors in a dwelling not children_ok",
    # bed rule 1
    "bed_not_accepted": "bed rule 1: the beneficiary does not accept a bed",
    "bed_not_single_adult": "bed rule 1: a bed given to a household that is not one adult "
    "without minors",
    # rules 4-7
    "not_step_free": "rule 4: a beneficiary needing step-free access in a unit that is not",
    "commute_too_long": "rule 5: the recomputed commute exceeds max_commute_km",
    "contribution_over_cap": "rule 6: the recomputed contribution exceeds max_contribution_cents",
    "forbidden_pair": "rule 7: the (beneficiary, unit) pair is forbidden",
    # across the round
    "dwelling_shared": "a dwelling holds more than one household (in some month)",
    "room_over_capacity": "a room holds more beneficiaries than it has beds (in some month)",
    "room_mixed_gender": "a room holds beneficiaries of different genders (in some month)",
    "pin_not_honoured": "a pinned beneficiary is not placed in its pinned unit (and room)",
    # reported figures of a placement
    "contribution_mismatch": "reported contribution_cents differs from the recomputed one",
    "commute_mismatch": "reported commute_km differs from the recomputed one by more than 1e-3 km",
    "commute_m_mismatch": "reported commute_m differs from floor(1000 * recomputed "
    "commute_km + 0.5)",
    # instance@2 (seasons, shuttles, landlords' terms, safety)
    "format_mismatch": "an instance@2 is answered by a result@1, or the other way round",
    "months_mismatch": "reported months differ from the months of the household's stay",
    "unit_not_available": "the unit is not available in every month of the stay",
    "term_missing": "a placement in a dwelling with terms names none of them",
    "term_unknown": "a placement names terms the dwelling does not have",
    "term_not_null": "a placement in a unit without terms names terms",
    "one_off_mismatch": "reported one_off_cents differs from the terms' one-off payment",
    "cost_mismatch": "reported cost_cents differs from contribution * months + one_off",
    "in_safety_zone": "the unit lies within one of the household's safety zones",
    "outside_areas": "the unit's area is not one the household may live in",
    "shuttle_unknown": "a placement names a line that is not in the instance",
    "shuttle_out_of_walk": "no stop of the line is within walking distance of the unit, or "
    "none of work",
    "shuttle_over_seats": "in some month, the adults riding a line exceed its seats",
    "lines_opened_mismatch": "lines_opened differs from the lines not running that placements ride",
    "transport_over_budget": "the opened lines cost more than the transport budget",
    "guarantee_over_capacity": "the guaranteed terms' exposures exceed the guarantee's capacity",
    "objective_money_mismatch": "objective money_cents differs from the recomputed costs "
    "and opened lines",
    # funds
    "fund_missing": "a placement with a positive contribution (instance@2: cost) names no fund",
    "fund_not_null": "a placement with a zero contribution (instance@2: cost) names a fund",
    "fund_unknown": "a placement names a fund not in the instance",
    "fund_ineligible": "the fund's eligible_tags share no tag with the beneficiary",
    "fund_over_budget": "sum(contribution * contribution_months) (instance@2: sum of costs) "
    "exceeds a fund's budget",
    # result-level figures
    "objective_weight_mismatch": "objective weight differs from the recomputed sum",
    "objective_contribution_mismatch": "objective contribution_cents differs from the "
    "recomputed sum",
    "objective_commute_mismatch": "objective commute_km differs from the recomputed sum by "
    "more than 1e-3 km per assignment",
    "objective_commute_m_mismatch": "objective commute_m (objective 3) differs from the "
    "recomputed sum of whole metres",
    "bound_below_objective": "bound.weight is below the objective weight",
    "invalid_status": "status is not OPTIMAL, FEASIBLE, INFEASIBLE or UNKNOWN",
    "assignments_without_solution": "an INFEASIBLE or UNKNOWN result has assignments",
    "unassigned_without_reason": "an unassigned entry carries no (non-empty string) reason",
    # policy options
    "priority_inversion": "strict priority mode: a household is left out while one of lower "
    "priority holds a unit the first could take in its place, every rule kept",
    "group_floor_unmet": "a group's placed households are under its floor's share of the "
    "placed while some household of the group that could be placed is not",
    # data layer cross-check
    "capacity_mismatch": "Dwelling.capacity of the data layer disagrees with the occupancy "
    "limit recomputed from the spec",
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule of the contract.

    Attributes
    ----------
    code : str
        A key of :data:`VIOLATION_CODES`.
    beneficiary : str or None
        The beneficiary concerned, if one is.
    unit : str or None
        The unit (dwelling or shared flat) concerned, if one is.
    message : str
        A human-readable explanation with the figures involved.
    """

    code: str
    beneficiary: str | None
    unit: str | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"beneficiary {self.beneficiary}" if self.beneficiary is not None else "",
                f"unit {self.unit}" if self.unit is not None else "",
            )
            if part
        )
        return f"[{self.code}] {where + ': ' if where else ''}{self.message}"


class ValidationError(ValueError):
    """A result that breaks the contract; ``violations`` lists every problem found.

    Parameters
    ----------
    violations : sequence of Violation
        The problems found (non-empty).
    """

    MAX_LISTED = 30

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        shown = self.violations[: self.MAX_LISTED]
        lines = [f"  - {v}" for v in shown]
        if len(self.violations) > len(shown):
            lines.append(f"  ... and {len(self.violations) - len(shown)} more")
        super().__init__(f"{len(self.violations)} violation(s):\n" + "\n".join(lines))


# --------------------------------------------------------------------------- derived


def pay_cents(policy: Policy, income_cents: int) -> int:
    """What a household pays each month: ``floor(affordability_ratio * income_cents)``.

    Parameters
    ----------
    policy : Policy
        The round's policy; its ratio is read as the decimal written in the file.
    income_cents : int
        The household's monthly income.

    Returns
    -------
    int
        The pay in cents, computed exactly (``0.29 * 100`` is 29, not 28).
    """
    # str() keeps the written decimal even if a float slipped in through code.
    ratio = Decimal(str(policy.affordability_ratio))
    return math.floor(ratio * Decimal(income_cents))


def contribution_cents(policy: Policy, income_cents: int, rent_cents: int) -> int:
    """The monthly rent contribution: ``max(0, rent - pay)``.

    Parameters
    ----------
    policy : Policy
        The round's policy.
    income_cents : int
        The household's monthly income.
    rent_cents : int
        ``rent_cents`` of a dwelling or ``rent_per_bed_cents`` of a shared flat.

    Returns
    -------
    int
        The contribution in cents.
    """
    return max(0, rent_cents - pay_cents(policy, income_cents))


def commute_km(policy: Policy, b: Beneficiary, lat: float, lon: float) -> float:
    """``circuity * geodesic_km(b.work, unit)`` on the WGS-84 ellipsoid.

    Parameters
    ----------
    policy : Policy
        The round's policy (for ``circuity``).
    b : Beneficiary
        The beneficiary (for the work place).
    lat, lon : float
        The unit's position.

    Returns
    -------
    float
        The commute in km.
    """
    km = _geodesic_km(b.work.lat, b.work.lon, lat, lon)
    return float(policy.circuity) * float(km)


@lru_cache(maxsize=1 << 20)
def _geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The geodesic on the WGS-84 ellipsoid in km (geopy), remembered: the strict mode's
    and the floors' checks try swaps that recompute the same commutes."""
    return float(geodesic((lat1, lon1), (lat2, lon2)).km)


def _sphere_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance on a sphere of the Earth's mean radius (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def commute_m(km: float) -> int:
    """Objective 3's whole metres of a commute: ``floor(1000 * commute_km + 0.5)``.

    Parameters
    ----------
    km : float
        The commute in km, as :func:`commute_km` computes it.

    Returns
    -------
    int
        The commute in whole metres, halves rounded up.
    """
    return math.floor(1000 * km + 0.5)


def legal_max_from_spec(area_m2: float, bedrooms: int) -> int:
    """Most occupants allowed by the occupancy standard (DM 5 July 1975), per the spec.

    The ``n``-th of the first four persons needs 14 m², each further one 10 m²; a studio
    (``bedrooms == 0``) needs 28 m² for one person, 38 m² for two, and holds at most two.
    Written independently of :func:`matching.instance.legal_max_occupants`, with exact
    comparisons of the area against the required surface (no rounding slack).

    Parameters
    ----------
    area_m2 : float
        Floor area of the dwelling.
    bedrooms : int
        Number of bedrooms (0 for a studio).

    Returns
    -------
    int
        The legal maximum number of occupants (0 when even one person does not fit).
    """
    if bedrooms == 0:
        return sum(1 for need in (28, 38) if area_m2 >= need)
    if area_m2 < 56:
        return sum(1 for n in range(1, 4 + 1) if area_m2 >= 14 * n)
    # 56 m² hold four; every further complete 10 m² holds one more. Start from the
    # float quotient, then settle on the exact threshold with integer surfaces.
    n = 4 + int((area_m2 - 56) // 10)
    while n > 4 and area_m2 < 56 + 10 * (n - 4):
        n -= 1
    while area_m2 >= 56 + 10 * (n + 1 - 4):
        n += 1
    return n


def _max_occupants(d: Dwelling) -> int:
    legal = legal_max_from_spec(d.area_m2, d.bedrooms)
    return legal if d.max_occupants is None else min(legal, d.max_occupants)


def _weight(objective_unit: str, b: Beneficiary) -> int:
    if objective_unit == "persons":
        return b.priority * (b.adults + b.minors)
    return b.priority


def _fund_eligible(fund: Fund, b: Beneficiary) -> bool:
    return not fund.eligible_tags or bool(set(fund.eligible_tags) & set(b.tags))


# --------------------------------------------------------------------------- checker


class _Checker:
    """Accumulates the violations of one (instance, result) pair."""

    def __init__(self, instance: Instance, result: Result, policy_options: bool = True) -> None:
        self.inst = instance
        self.res = result
        self.policy_options = policy_options
        """Whether to check the policy options (off for a trial swap's rules)."""
        self.out: list[Violation] = []
        self.benef: dict[str, Beneficiary] = {b.id: b for b in instance.beneficiaries}
        self.dwellings: dict[str, Dwelling] = {d.id: d for d in instance.dwellings}
        self.flats: dict[str, SharedFlat] = {f.id: f for f in instance.shared_flats}
        self.beds: dict[str, dict[str, int]] = {
            f.id: {r.id: r.beds for r in f.rooms} for f in instance.shared_flats
        }
        self.funds: dict[str, Fund] = {f.id: f for f in instance.funds}
        self.forbidden: set[tuple[str, str]] = {
            (fb.beneficiary, fb.unit) for fb in instance.forbidden
        }
        self.capacity: dict[str, int] = {d.id: _max_occupants(d) for d in instance.dwellings}
        self.lines: dict[str, Shuttle] = {x.id: x for x in instance.shuttles}
        self.riders: dict[tuple[str, int], int] = defaultdict(int)
        self.exposure = 0
        self._scratch: _Checker | None = None

    def add(self, code: str, beneficiary: str | None, unit: str | None, message: str) -> None:
        assert code in VIOLATION_CODES, code
        self.out.append(Violation(code, beneficiary, unit, message))

    # -- the whole run ----------------------------------------------------------------

    def run(self) -> list[Violation]:
        self.check_data_layer()
        self.check_status()
        self.check_coverage()
        self.check_unassigned()
        self.check_format()
        per_dwelling: dict[str, list[str]] = defaultdict(list)
        per_room: dict[tuple[str, str], list[str]] = defaultdict(list)
        fund_spent: dict[str, int] = defaultdict(int)
        first_placement: dict[str, Assignment] = {}
        weight = contribution = metres = money = 0
        commute = 0.0
        resolved = True
        for a in self.res.assignments:
            first_placement.setdefault(a.beneficiary, a)
            figures = self.check_assignment(a, per_dwelling, per_room, fund_spent)
            if figures is None:
                resolved = False
            else:
                weight += figures[0]
                contribution += figures[1]
                commute += figures[2]
                metres += figures[3]
                money += figures[4]
        self.check_dwellings(per_dwelling)
        self.check_rooms(per_room)
        self.check_budgets(fund_spent)
        money += self.check_shuttles()
        self.check_guarantee()
        if self.res.status not in _NO_ALLOCATION:
            self.check_pins(first_placement)
        if resolved:
            self.check_objective(weight, contribution, commute, metres, money)
        else:
            weight = self.res.objective.weight
        self.check_bound(weight)
        if self.inst.policy.group_floors and self.res.status not in _NO_ALLOCATION:
            self.check_floors()
        if self.policy_options and self.inst.policy.priority_mode == "strict" and not self.out:
            self.check_strict()
        return self.out

    # -- time (instance@2's seasons) --------------------------------------------------

    def months_of(self, b: Beneficiary) -> list[int]:
        """The months of ``b``'s stay as month numbers; one period without a horizon."""
        h = self.inst.policy.horizon
        if h is None:
            return [0]
        span = b.stay if b.stay is not None else h
        return list(range(span.first, span.last + 1))

    def n_months(self, b: Beneficiary) -> int:
        """``months(b)`` of the contract: the stay's months, or contribution_months."""
        if self.inst.policy.horizon is None:
            return self.inst.policy.contribution_months
        return len(self.months_of(b))

    def check_format(self) -> None:
        v2_in = self.inst.format == "housing-match/instance@2"
        v2_out = self.res.format == "housing-match/result@2"
        if v2_in != v2_out:
            self.add(
                "format_mismatch",
                None,
                None,
                f"instance {self.inst.format} answered by {self.res.format}",
            )

    # -- pieces -----------------------------------------------------------------------

    def check_data_layer(self) -> None:
        for d in self.inst.dwellings:
            if d.capacity != self.capacity[d.id]:
                self.add(
                    "capacity_mismatch",
                    None,
                    d.id,
                    f"data layer capacity {d.capacity} but the spec gives "
                    f"{self.capacity[d.id]} (area {d.area_m2} m², {d.bedrooms} "
                    f"bedroom(s), max_occupants {d.max_occupants})",
                )

    def check_status(self) -> None:
        status = self.res.status
        if status not in _STATUSES:
            self.add(
                "invalid_status",
                None,
                None,
                f"status {status!r} is not one of {', '.join(_STATUSES)}",
            )
        elif status in _NO_ALLOCATION and self.res.assignments:
            self.add(
                "assignments_without_solution",
                None,
                None,
                f"status {status} but {len(self.res.assignments)} assignment(s)",
            )

    def check_coverage(self) -> None:
        seen: Counter[str] = Counter(a.beneficiary for a in self.res.assignments)
        seen.update(u.beneficiary for u in self.res.unassigned)
        for bid, n in seen.items():
            if bid not in self.benef:
                self.add(
                    "unknown_beneficiary",
                    bid,
                    None,
                    f"{bid!r} is not a beneficiary of the instance",
                )
            elif n > 1:
                self.add(
                    "beneficiary_duplicated",
                    bid,
                    None,
                    f"appears {n} times across assignments and unassigned",
                )
        for b in self.inst.beneficiaries:
            if b.id not in seen:
                self.add(
                    "beneficiary_missing",
                    b.id,
                    None,
                    "appears in neither assignments nor unassigned",
                )

    def check_unassigned(self) -> None:
        for u in self.res.unassigned:
            reasons = u.reasons
            if not reasons or not all(isinstance(r, str) and r.strip() for r in reasons):
                self.add(
                    "unassigned_without_reason",
                    u.beneficiary,
                    None,
                    f"reasons must be a non-empty list of non-empty strings, got {list(reasons)!r}",
                )

    def check_assignment(
        self,
        a: Assignment,
        per_dwelling: dict[str, list[str]],
        per_room: dict[tuple[str, str], list[str]],
        fund_spent: dict[str, int],
    ) -> tuple[int, int, float, int, int] | None:
        """Check one placement; return its recomputed (weight, contribution, commute, metres,
        cost).

        ``None`` when the beneficiary or the unit is unknown, so that nothing can be
        recomputed (the reference error is reported elsewhere or here).
        """
        bid, uid = a.beneficiary, a.unit
        b = self.benef.get(bid)
        d = self.dwellings.get(uid)
        f = self.flats.get(uid)
        if d is None and f is None:
            self.add("unknown_unit", bid, uid, f"{uid!r} is not a unit of the instance")
        if d is not None:
            per_dwelling[uid].append(bid)
            if a.room is not None:
                self.add(
                    "room_on_dwelling",
                    bid,
                    uid,
                    f"{uid} is a dwelling but room {a.room!r} is given",
                )
        elif f is not None:
            if a.room is None:
                self.add("room_missing", bid, uid, f"{uid} is a shared flat but no room is given")
            elif a.room not in self.beds[uid]:
                self.add("unknown_room", bid, uid, f"room {a.room!r} is not in flat {uid}")
            else:
                per_room[(uid, a.room)].append(bid)
        if b is None or (d is None and f is None):
            self.check_fund_reference(a)
            return None

        policy = self.inst.policy
        one_off = 0
        if d is not None:
            rent, lat, lon, step_free = d.rent_cents, d.lat, d.lon, d.step_free
            self.check_dwelling_rules(b, d)
            if d.terms:
                term = next((t for t in d.terms if t.id == a.term), None)
                if a.term is None:
                    self.add(
                        "term_missing",
                        bid,
                        uid,
                        f"{uid} has terms; the placement names none of {[t.id for t in d.terms]}",
                    )
                    return None  # no rent to recompute anything with
                if term is None:
                    self.add("term_unknown", bid, uid, f"{uid} has no terms {a.term!r}")
                    return None
                else:
                    rent, one_off = term.rent_cents, term.one_off_cents
                    if term.guaranteed and policy.guarantee is not None:
                        self.exposure += term.rent_cents * policy.guarantee.months
            elif a.term is not None:
                self.add("term_not_null", bid, uid, f"{uid} has no terms, {a.term!r} is named")
            area, available = d.area, d.available
        else:
            assert f is not None
            rent, lat, lon, step_free = f.rent_per_bed_cents, f.lat, f.lon, f.step_free
            self.check_bed_rules(b, f)
            if a.term is not None:
                self.add("term_not_null", bid, uid, f"{uid} has no terms, {a.term!r} is named")
            area, available = f.area, f.available
        contrib = contribution_cents(policy, b.income_cents, rent)
        months = self.n_months(b)
        self.check_place(a, b, lat, lon, area, available)
        if a.shuttle is None:
            km = commute_km(policy, b, lat, lon)
            if not km <= b.max_commute_km + COMMUTE_RULE_TOLERANCE_KM:
                self.add(
                    "commute_too_long",
                    bid,
                    uid,
                    f"commute {km:.6f} km > max_commute_km {b.max_commute_km}",
                )
        else:
            km = self.check_ride(a, b, lat, lon)
        # rules 4, 6, 7
        if b.needs_step_free and not step_free:
            self.add("not_step_free", bid, uid, "needs step-free access; the unit is not")
        if contrib > policy.max_contribution_cents:
            self.add(
                "contribution_over_cap",
                bid,
                uid,
                f"contribution {contrib} > max_contribution_cents {policy.max_contribution_cents}",
            )
        if (bid, uid) in self.forbidden:
            self.add("forbidden_pair", bid, uid, "the pair is forbidden")
        # reported figures
        if a.contribution_cents != contrib:
            self.add(
                "contribution_mismatch",
                bid,
                uid,
                f"reported contribution_cents {a.contribution_cents}, recomputed "
                f"{contrib} (rent {rent}, pay {pay_cents(policy, b.income_cents)})",
            )
        if not abs(a.commute_km - km) <= COMMUTE_TOLERANCE_KM:
            self.add(
                "commute_mismatch",
                bid,
                uid,
                f"reported commute_km {a.commute_km}, recomputed {km:.6f}",
            )
        metres = commute_m(km)
        if a.commute_m != metres:
            self.add(
                "commute_m_mismatch",
                bid,
                uid,
                f"reported commute_m {a.commute_m}, recomputed {metres} (commute {km!r} km)",
            )
        cost = contrib * months + one_off
        if self.res.format == "housing-match/result@2":
            if a.months != months:
                self.add(
                    "months_mismatch",
                    bid,
                    uid,
                    f"reported months {a.months}, the stay has {months}",
                )
            if a.one_off_cents != one_off:
                self.add(
                    "one_off_mismatch",
                    bid,
                    uid,
                    f"reported one_off_cents {a.one_off_cents}, the terms say {one_off}",
                )
            if a.cost_cents != cost:
                self.add(
                    "cost_mismatch",
                    bid,
                    uid,
                    f"reported cost_cents {a.cost_cents}, recomputed {cost} "
                    f"({contrib} x {months} months + {one_off})",
                )
        # fund of this placement: it pays the cost (instance@1: contribution x months)
        if cost > 0 and a.fund is None:
            self.add("fund_missing", bid, uid, f"cost {cost} > 0 but fund is null")
        elif cost == 0 and a.fund is not None:
            self.add("fund_not_null", bid, uid, f"cost is 0 but fund {a.fund!r} is named")
        fund = self.check_fund_reference(a)
        if fund is not None:
            if not _fund_eligible(fund, b):
                self.add(
                    "fund_ineligible",
                    bid,
                    uid,
                    f"fund {fund.id} requires one of {list(fund.eligible_tags)}, "
                    f"beneficiary has {list(b.tags)}",
                )
            fund_spent[fund.id] += cost
        return _weight(policy.objective_unit, b), contrib, km, metres, cost

    def check_place(
        self,
        a: Assignment,
        b: Beneficiary,
        lat: float,
        lon: float,
        area: str | None,
        available: Span | None,
    ) -> None:
        """instance@2's pair rules: the whole stay, safety zones, acceptable areas."""
        months = self.months_of(b)
        h = self.inst.policy.horizon
        if h is not None:
            span = available if available is not None else h
            if not (span.first <= months[0] and months[-1] <= span.last):
                self.add(
                    "unit_not_available",
                    a.beneficiary,
                    a.unit,
                    f"stay {month_text(months[0])} to {month_text(months[-1])}, unit "
                    f"available {month_text(span.first)} to {month_text(span.last)}",
                )
        for z in b.avoid:
            if not _geodesic_km(z.lat, z.lon, lat, lon) > z.radius_km:
                # the zone itself is never written anywhere
                self.add(
                    "in_safety_zone",
                    a.beneficiary,
                    a.unit,
                    "the unit is within a safety zone of the household",
                )
                break
        if b.areas and area not in b.areas:
            self.add(
                "outside_areas",
                a.beneficiary,
                a.unit,
                f"area {area!r} is not among the household's areas {list(b.areas)}",
            )

    def check_ride(self, a: Assignment, b: Beneficiary, lat: float, lon: float) -> float:
        """The shuttle line of a placement: a stop within walking distance of the unit and
        one of work; returns the commute riding it (the least over such stops)."""
        line = self.lines.get(a.shuttle or "")
        if line is None:
            self.add(
                "shuttle_unknown",
                a.beneficiary,
                a.unit,
                f"line {a.shuttle!r} is not in the instance",
            )
            return a.commute_km
        walk = self.inst.policy.walk_km or 0.0
        circ = float(self.inst.policy.circuity)
        home = [(x, _geodesic_km(lat, lon, x.lat, x.lon)) for x in line.stops]
        work = [(x, _geodesic_km(b.work.lat, b.work.lon, x.lat, x.lon)) for x in line.stops]
        best: float | None = None
        for i, di in home:
            for j, dj in work:
                if di <= walk and dj <= walk:
                    km = di + circ * _geodesic_km(i.lat, i.lon, j.lat, j.lon) + dj
                    best = km if best is None else min(best, km)
        if best is None:
            self.add(
                "shuttle_out_of_walk",
                a.beneficiary,
                a.unit,
                f"line {line.id} has no stop within {walk} km of both the unit and work",
            )
            return a.commute_km
        for month in self.months_of(b):
            self.riders[line.id, month] += b.adults
        return best

    def check_shuttles(self) -> int:
        """Seats month by month, the lines opened and their budget; returns their cost."""
        full: set[str] = set()
        for (line_id, month), adults in sorted(self.riders.items()):
            seats = self.lines[line_id].seats
            if adults > seats and line_id not in full:  # said once per line
                full.add(line_id)
                when = f" in {month_text(month)}" if self.inst.policy.horizon else ""
                self.add(
                    "shuttle_over_seats",
                    None,
                    None,
                    f"line {line_id}{when}: {adults} adults on {seats} seats",
                )
        ridden = {a.shuttle for a in self.res.assignments if a.shuttle in self.lines}
        opened = sorted(x for x in ridden if x is not None and not self.lines[x].running)
        if self.res.format == "housing-match/result@2" and sorted(self.res.lines_opened) != opened:
            self.add(
                "lines_opened_mismatch",
                None,
                None,
                f"lines_opened {sorted(self.res.lines_opened)}, placements open {opened}",
            )
        pol = self.inst.policy
        months = pol.horizon.months if pol.horizon is not None else pol.contribution_months
        cost = sum(self.lines[x].monthly_cost_cents * months for x in opened)
        budget = pol.transport_budget_cents
        if opened and (budget is None or cost > budget):
            self.add(
                "transport_over_budget",
                None,
                None,
                f"opened lines {opened} cost {cost}, transport budget {budget}",
            )
        return cost

    def check_guarantee(self) -> None:
        g = self.inst.policy.guarantee
        if g is not None and self.exposure > g.capacity_cents:
            self.add(
                "guarantee_over_capacity",
                None,
                None,
                f"guaranteed terms expose {self.exposure} cents, capacity {g.capacity_cents}",
            )

    def check_fund_reference(self, a: Assignment) -> Fund | None:
        if a.fund is None:
            return None
        fund = self.funds.get(a.fund)
        if fund is None:
            self.add(
                "fund_unknown",
                a.beneficiary,
                a.unit,
                f"fund {a.fund!r} is not a fund of the instance",
            )
        return fund

    def check_dwelling_rules(self, b: Beneficiary, d: Dwelling) -> None:
        if "dwelling" not in b.accepts:
            self.add(
                "dwelling_not_accepted", b.id, d.id, f"accepts {list(b.accepts)}, not a dwelling"
            )
        persons = b.adults + b.minors
        cap = self.capacity[d.id]
        if persons > cap:
            self.add(
                "dwelling_over_capacity", b.id, d.id, f"{persons} person(s) > max_occupants {cap}"
            )
        if b.minors > 0 and not d.children_ok:
            self.add(
                "dwelling_no_children",
                b.id,
                d.id,
                f"{b.minors} minor(s) but the dwelling is not children_ok",
            )

    def check_bed_rules(self, b: Beneficiary, f: SharedFlat) -> None:
        if "bed" not in b.accepts:
            self.add("bed_not_accepted", b.id, f.id, f"accepts {list(b.accepts)}, not a bed")
        if b.adults != 1 or b.minors != 0:
            self.add(
                "bed_not_single_adult",
                b.id,
                f.id,
                f"{b.adults} adult(s) and {b.minors} minor(s); a bed is for one adult",
            )

    def check_dwellings(self, per_dwelling: Mapping[str, list[str]]) -> None:
        for uid, bids in per_dwelling.items():
            by_month: dict[int, list[str]] = defaultdict(list)
            for bid in bids:
                b = self.benef.get(bid)
                for month in self.months_of(b) if b is not None else [0]:
                    by_month[month].append(bid)
            for month, here in sorted(by_month.items()):
                if len(here) > 1:
                    when = f" in {month_text(month)}" if self.inst.policy.horizon else ""
                    self.add(
                        "dwelling_shared",
                        None,
                        uid,
                        f"holds {len(here)} households{when}: {', '.join(here)}",
                    )
                    break

    def check_rooms(self, per_room: Mapping[tuple[str, str], list[str]]) -> None:
        for (uid, room), bids in per_room.items():
            beds = self.beds[uid][room]
            by_month: dict[int, list[str]] = defaultdict(list)
            for bid in bids:
                b = self.benef.get(bid)
                for month in self.months_of(b) if b is not None else [0]:
                    by_month[month].append(bid)
            over = mixed = False
            for month, here in sorted(by_month.items()):
                when = f" in {month_text(month)}" if self.inst.policy.horizon else ""
                if len(here) > beds and not over:
                    over = True
                    self.add(
                        "room_over_capacity",
                        None,
                        uid,
                        f"room {room} has {beds} bed(s) but holds {len(here)}{when}: "
                        f"{', '.join(here)}",
                    )
                genders = {self.benef[bid].gender for bid in here if bid in self.benef}
                if len(genders) > 1 and not mixed:
                    mixed = True
                    self.add(
                        "room_mixed_gender",
                        None,
                        uid,
                        f"room {room} mixes genders {sorted(genders)}{when}: {', '.join(here)}",
                    )

    def check_budgets(self, fund_spent: Mapping[str, int]) -> None:
        for fid, spent in fund_spent.items():
            budget = self.funds[fid].budget_cents
            if spent > budget:
                self.add(
                    "fund_over_budget",
                    None,
                    None,
                    f"fund {fid} pays {spent} cents over the round, budget {budget}",
                )

    def check_pins(self, placement: Mapping[str, Assignment]) -> None:
        for p in self.inst.pinned:
            a = placement.get(p.beneficiary)
            want = p.unit if p.room is None else f"{p.unit} room {p.room}"
            if a is None:
                self.add(
                    "pin_not_honoured", p.beneficiary, p.unit, f"pinned to {want} but not placed"
                )
            elif a.unit != p.unit or (p.room is not None and a.room != p.room):
                got = a.unit if a.room is None else f"{a.unit} room {a.room}"
                self.add(
                    "pin_not_honoured",
                    p.beneficiary,
                    p.unit,
                    f"pinned to {want} but placed in {got}",
                )

    def check_objective(
        self, weight: int, contribution: int, commute: float, metres: int, money: int
    ) -> None:
        if self.res.format == "housing-match/result@2" and self.res.objective.money_cents != money:
            self.add(
                "objective_money_mismatch",
                None,
                None,
                f"reported money_cents {self.res.objective.money_cents}, recomputed {money}",
            )
        obj = self.res.objective
        if obj.weight != weight:
            self.add(
                "objective_weight_mismatch",
                None,
                None,
                f"reported weight {obj.weight}, recomputed {weight}",
            )
        if obj.contribution_cents != contribution:
            self.add(
                "objective_contribution_mismatch",
                None,
                None,
                f"reported contribution_cents {obj.contribution_cents}, recomputed {contribution}",
            )
        tol = COMMUTE_TOLERANCE_KM * max(1, len(self.res.assignments))
        if not abs(obj.commute_km - commute) <= tol:
            self.add(
                "objective_commute_mismatch",
                None,
                None,
                f"reported commute_km {obj.commute_km}, recomputed {commute:.6f} "
                f"(tolerance {tol:g})",
            )
        if obj.commute_m != metres:
            self.add(
                "objective_commute_m_mismatch",
                None,
                None,
                f"reported commute_m {obj.commute_m}, recomputed {metres}",
            )

    # -- policy options -----------------------------------------------------------------

    def check_strict(self) -> None:
        """The strict priority mode: no household left out while one of lower priority
        holds a unit the first could take instead (the holder left out, every other
        placement kept, every rule met), in any of its ways (room, terms, line, fund)."""
        if self.res.status in _NO_ALLOCATION:
            return
        placed = {a.beneficiary for a in self.res.assignments}
        pinned = {p.beneficiary for p in self.inst.pinned}
        holders: dict[str, list[Assignment]] = defaultdict(list)
        for a in self.res.assignments:
            if a.beneficiary not in pinned:  # a pinned household cannot be left out
                holders[a.unit].append(a)
        for b in self.inst.beneficiaries:
            if b.id in placed or b.priority <= 0:
                continue
            found = None
            for unit, held in holders.items():
                lower = [h for h in held if self.benef[h.beneficiary].priority < b.priority]
                if not lower or not self.might_reach(b, unit):
                    continue
                ways = self.ways(b, unit)
                for h in lower:
                    way = self.swap_that_fits(ways, h) if ways else None
                    if way is not None:
                        found = (h, way)
                        break
                if found is not None:
                    break
            if found is not None:
                h, way = found
                self.add(
                    "priority_inversion",
                    b.id,
                    h.unit,
                    f"{b.id} (priority {b.priority}) is left out while {h.beneficiary} "
                    f"(priority {self.benef[h.beneficiary].priority}) holds {h.unit}; {b.id} "
                    f"could take it ({way}) with every rule kept",
                )

    def might_reach(self, b: Beneficiary, unit: str) -> bool:
        """False only when ``b`` surely cannot reach ``unit`` (a quick test before the exact
        one): the great circle on a sphere is within 1% of the ellipsoid's geodesic, so a
        unit whose great-circle commute is 1% beyond reach, and that no line brings within
        reach, is out of reach."""
        d, f = self.dwellings.get(unit), self.flats.get(unit)
        x = d if d is not None else f
        assert x is not None
        circuity = float(self.inst.policy.circuity)
        if _sphere_km(b.work.lat, b.work.lon, x.lat, x.lon) * 0.99 * circuity <= b.max_commute_km:
            return True
        walk = self.inst.policy.walk_km
        if walk is None:
            return False
        for line in self.lines.values():
            near_work = any(
                _sphere_km(b.work.lat, b.work.lon, s.lat, s.lon) * 0.99 <= walk for s in line.stops
            )
            if near_work and any(
                _sphere_km(x.lat, x.lon, s.lat, s.lon) * 0.99 <= walk for s in line.stops
            ):
                return True
        return False

    def check_floors(self) -> None:
        """Group floors: the placed of each group are at least its share of all the placed,
        or every household of the group that could be placed on its own is placed."""
        placed = {a.beneficiary for a in self.res.assignments}
        for f in self.inst.policy.group_floors:
            group = [b for b in self.inst.beneficiaries if f.holds(b)]
            got = sum(1 for b in group if b.id in placed)
            if got >= f.share * len(placed):
                continue
            could = [b for b in group if b.id not in placed and self.has_option(b)]
            if could:
                self.add(
                    "group_floor_unmet",
                    could[0].id,
                    None,
                    f"{f.group}: {got} of the {len(placed)} placed, under the floor's share "
                    f"{f.share}, while {len(could)} of the group could be placed",
                )

    def has_option(self, b: Beneficiary) -> bool:
        """Whether ``b`` could be placed somewhere on its own (every rule of the pair, and a
        fund that may pay for it with the money for it)."""
        return any(
            self.might_reach(b, unit) and self.ways(b, unit)
            for unit in (*self.dwellings, *self.flats)
        )

    def ways(self, b: Beneficiary, unit: str) -> list[Assignment]:
        """Every placement of ``b`` in ``unit`` that breaks no rule of its own (room, terms,
        line, fund), with its figures recomputed."""
        d, f = self.dwellings.get(unit), self.flats.get(unit)
        rooms: list[str | None] = [r.id for r in f.rooms] if f is not None else [None]
        terms: list[str | None] = [t.id for t in d.terms] if d is not None and d.terms else [None]
        lines: list[str | None] = [None, *self.lines]
        funds: list[str | None] = [None, *self.funds]
        if self._scratch is None:
            self._scratch = _Checker(
                self.inst, dataclasses.replace(self.res, assignments=(), unassigned=()), False
            )
        scratch = self._scratch
        out = []
        for room in rooms:
            for term in terms:
                for line in lines:
                    for fund in funds:
                        trial = Assignment(
                            b.id, unit, room, fund, 0, 0.0, 0, term=term, shuttle=line
                        )
                        scratch.out = []
                        spent: dict[str, int] = defaultdict(int)
                        figures = scratch.check_assignment(
                            trial, defaultdict(list), defaultdict(list), spent
                        )
                        if figures is None or any(v.code not in _FIGURES for v in scratch.out):
                            continue
                        _, contrib, km, metres, cost = figures
                        if fund is not None and cost > self.funds[fund].budget_cents:
                            continue
                        one_off = 0
                        if d is not None and term is not None:
                            one_off = next(t.one_off_cents for t in d.terms if t.id == term)
                        out.append(
                            dataclasses.replace(
                                trial,
                                contribution_cents=contrib,
                                commute_km=km,
                                commute_m=metres,
                                months=self.n_months(b),
                                one_off_cents=one_off,
                                cost_cents=cost,
                            )
                        )
        return out

    def swap_that_fits(self, ways: Sequence[Assignment], h: Assignment) -> str | None:
        """One of ``ways`` (a household's placements in ``h``'s unit) that fits with ``h``
        left out, every rule kept."""
        others = [a for a in self.res.assignments if a.beneficiary != h.beneficiary]
        for way in ways:
            placed = [*others, way]
            trial = dataclasses.replace(
                self.res,
                assignments=tuple(placed),
                unassigned=tuple(
                    Unassigned(x.id, ("swap",), {})
                    for x in self.inst.beneficiaries
                    if x.id not in {a.beneficiary for a in placed}
                ),
                lines_opened=lines_opened(placed, self.inst.line_costs),
                bound_weight=None,
            )
            if not any(v.code not in _FIGURES for v in _Checker(self.inst, trial, False).run()):
                room = f" room {way.room}" if way.room else ""
                return f"{way.unit}{room}, fund {way.fund}" if way.fund else f"{way.unit}{room}"
        return None

    def check_bound(self, weight: int) -> None:
        bound = self.res.bound_weight
        if bound is not None and bound < weight:
            self.add(
                "bound_below_objective",
                None,
                None,
                f"bound weight {bound} < objective weight {weight}",
            )


_FIGURES = frozenset(
    {
        "contribution_mismatch",
        "commute_mismatch",
        "commute_m_mismatch",
        "months_mismatch",
        "one_off_mismatch",
        "cost_mismatch",
        "objective_weight_mismatch",
        "objective_contribution_mismatch",
        "objective_commute_mismatch",
        "objective_commute_m_mismatch",
        "objective_money_mismatch",
        "lines_opened_mismatch",
    }
)
"""Codes about reported figures, not rules: a trial placement's figures are not reported."""


def validate(instance: Instance, result: Result) -> list[Violation]:
    """Every way in which ``result`` breaks the contract for ``instance``.

    Parameters
    ----------
    instance : Instance
        The round that was solved.
    result : Result
        The engine's answer for it.

    Returns
    -------
    list of Violation
        Empty when the result is valid. Codes are the keys of :data:`VIOLATION_CODES`.

    Notes
    -----
    Everything is recomputed from the spec; the reported figures are only compared.
    An assignment whose beneficiary or unit is unknown is reported, and then the
    objective sums (which cannot be recomputed) are not compared. Pins are not checked
    for an ``INFEASIBLE`` or ``UNKNOWN`` result, which by definition places nobody.
    Budgets are summed with the recomputed contributions. ``bound.weight`` is compared
    with the recomputed weight (the reported one when it cannot be recomputed).
    """
    return _Checker(instance, result).run()


def check(instance: Instance, result: Result) -> None:
    """Raise when ``result`` breaks the contract for ``instance``.

    Parameters
    ----------
    instance : Instance
        The round that was solved.
    result : Result
        The engine's answer for it.

    Raises
    ------
    ValidationError
        Listing every :class:`Violation` found by :func:`validate`.
    """
    violations = validate(instance, result)
    if violations:
        raise ValidationError(violations)
