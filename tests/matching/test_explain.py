"""Tests of the reasons :mod:`matching.explain` gives for each household left out.

Each test builds a tiny round (one to four households, one to three units) in which one
reason code must come first, solves it, validates the result with the independent
checker, and checks the reason and the details behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from geopy.distance import geodesic

from matching.eligibility import eligible_pairs
from matching.explain import REASONS, explain_unassigned
from matching.instance import (
    Beneficiary,
    Dwelling,
    Forbidden,
    Fund,
    Gender,
    Instance,
    Pin,
    Point,
    Policy,
    Room,
    SharedFlat,
    UnitKind,
)
from matching.params import SolveParams
from matching.result import Result, Unassigned
from matching.solve import solve
from matching.validate import validate

FOGGIA = (41.4622, 15.5446)
FOGGIA_CENTRE = (41.4584, 15.5519)
FOGGIA_STATION = (41.4666, 15.5567)
CERIGNOLA = (41.2654, 15.8993)
CERIGNOLA_CENTRE = (41.2660, 15.9030)
BARI = (41.1171, 16.8719)
CIRCUITY = 1.3
POLICY = Policy()  # ratio 0.30, cap 30000, 12 months, circuity 1.3, persons


def commute(a: tuple[float, float], b: tuple[float, float]) -> float:
    return CIRCUITY * float(geodesic(a, b).km)


def ben(
    bid: str,
    *,
    adults: int = 1,
    minors: int = 0,
    gender: Gender = "M",
    income_cents: int = 100_000,
    work: tuple[float, float] = FOGGIA,
    max_commute_km: float = 10.0,
    needs_step_free: bool = False,
    priority: int = 1,
    accepts: tuple[UnitKind, ...] = ("dwelling", "bed"),
    tags: tuple[str, ...] = (),
) -> Beneficiary:
    return Beneficiary(
        bid,
        adults=adults,
        minors=minors,
        gender=gender,
        income_cents=income_cents,
        work=Point(*work),
        max_commute_km=max_commute_km,
        needs_step_free=needs_step_free,
        priority=priority,
        accepts=accepts,
        tags=tags,
    )


def dwelling(
    did: str,
    at: tuple[float, float] = FOGGIA_CENTRE,
    *,
    area_m2: float = 60,
    bedrooms: int = 2,
    rent_cents: int = 20_000,
    step_free: bool = False,
    max_occupants: int | None = None,
    children_ok: bool = True,
) -> Dwelling:
    return Dwelling(
        did,
        at[0],
        at[1],
        area_m2=area_m2,
        bedrooms=bedrooms,
        rent_cents=rent_cents,
        step_free=step_free,
        max_occupants=max_occupants,
        children_ok=children_ok,
    )


def flat(
    fid: str,
    at: tuple[float, float] = FOGGIA_STATION,
    *,
    rent: int = 15_000,
    beds: Sequence[int] = (2,),
    step_free: bool = False,
) -> SharedFlat:
    rooms = tuple(Room(f"{fid}-R{k + 1}", n) for k, n in enumerate(beds))
    return SharedFlat(fid, at[0], at[1], rent_per_bed_cents=rent, step_free=step_free, rooms=rooms)


REGIONAL = Fund("regional", 10_000_000)


def instance(
    beneficiaries: Sequence[Beneficiary],
    dwellings: Sequence[Dwelling] = (),
    flats: Sequence[SharedFlat] = (),
    funds: Sequence[Fund] = (REGIONAL,),
    pinned: Sequence[Pin] = (),
    forbidden: Sequence[Forbidden] = (),
) -> Instance:
    return Instance(
        name="explain-test",
        policy=POLICY,
        funds=tuple(funds),
        beneficiaries=tuple(beneficiaries),
        dwellings=tuple(dwellings),
        shared_flats=tuple(flats),
        pinned=tuple(pinned),
        forbidden=tuple(forbidden),
    )


def run(inst: Instance) -> Result:
    """Solve, validate, and check the reasons' general promises."""
    res = solve(inst, SolveParams(time_limit=10, seed=0))
    assert validate(inst, res) == []
    for u in res.unassigned:
        assert u.reasons, f"{u.beneficiary} has no reason"
        assert set(u.reasons) <= set(REASONS), u.reasons
        assert len(set(u.reasons)) == len(u.reasons)
    if res.status == "OPTIMAL":
        assert all("not_reached_in_time" not in u.reasons for u in res.unassigned)
    return res


def left_out(res: Result, bid: str) -> Unassigned:
    u = res.unassigned_of(bid)
    assert u is not None, f"{bid} was placed: {res.assignment_of(bid)}"
    return u


# --------------------------------------------------------------------------- no unit ever


def test_no_unit_within_commute() -> None:
    inst = instance([ben("B1", max_commute_km=50.0)], [dwelling("D1", BARI)])
    res = run(inst)
    assert res.status == "OPTIMAL"
    u = left_out(res, "B1")
    assert u.reasons[0] == "no_unit_within_commute"
    assert u.details["units_within_commute"] == 0
    assert u.details["max_commute_km"] == 50.0
    # about 153 km by the spec's commute; reported to the metre
    assert u.details["nearest_unit_km"] == pytest.approx(commute(FOGGIA, BARI), rel=0.01)


def test_nearest_unit_km_is_the_spec_commute() -> None:
    limit = 152.7
    spec_km = commute(FOGGIA, BARI)
    assert spec_km > limit  # rule 5 rejects the pair
    inst = instance([ben("B1", max_commute_km=limit)], [dwelling("D1", BARI)])
    u = left_out(run(inst), "B1")
    assert u.reasons[0] == "no_unit_within_commute"
    assert u.details["nearest_unit_km"] > limit
    assert u.details["nearest_unit_km"] == pytest.approx(round(spec_km, 3), abs=1e-3)


def test_no_unit_within_commute_when_no_unit_at_all() -> None:
    res = run(instance([ben("B1")]))
    u = left_out(res, "B1")
    assert u.reasons == ("no_unit_within_commute",)


def test_unit_type_not_accepted_family_accepting_only_beds() -> None:
    family = ben("B1", adults=2, minors=1, accepts=("bed",))
    inst = instance([family], [dwelling("D1")], [flat("F1")])
    u = left_out(run(inst), "B1")
    assert u.reasons[0] == "unit_type_not_accepted"
    assert u.details["units_within_commute"] == 2


def test_unit_type_not_accepted_single_wanting_a_dwelling_among_flats() -> None:
    single = ben("B1", accepts=("dwelling",))
    inst = instance([single], flats=[flat("F1"), flat("F2", FOGGIA_CENTRE)])
    u = left_out(run(inst), "B1")
    assert u.reasons == ("unit_type_not_accepted",)
    assert u.details["units_within_commute"] == 2


def test_too_large() -> None:
    # 40 m², 1 bedroom: DM 5/7/1975 allows 2 persons; the family has 5
    family = ben("B1", adults=2, minors=3, accepts=("dwelling",))
    inst = instance([family], [dwelling("D1", area_m2=40, bedrooms=1)])
    u = left_out(run(inst), "B1")
    assert u.reasons[0] == "too_large"
    assert u.details["rejected_by"] == {"too_large": 1}
    assert u.details["examples"] == [{"unit": "D1", "rules": ["too_large"]}]


def test_too_large_by_the_certificate() -> None:
    # the law allows 4 in 60 m², the certificate only 2
    couple_and_child = ben("B1", adults=2, minors=1)
    inst = instance([couple_and_child], [dwelling("D1", area_m2=60, max_occupants=2)])
    u = left_out(run(inst), "B1")
    assert u.reasons[0] == "too_large"


def test_children_not_allowed() -> None:
    family = ben("B1", adults=1, minors=1)
    inst = instance([family], [dwelling("D1", children_ok=False)])
    u = left_out(run(inst), "B1")
    assert u.reasons == ("children_not_allowed",)
    assert u.details["examples"] == [{"unit": "D1", "rules": ["children_not_allowed"]}]


def test_not_step_free() -> None:
    b = ben("B1", needs_step_free=True)
    inst = instance([b], [dwelling("D1", step_free=False)], [flat("F1", step_free=False)])
    u = left_out(run(inst), "B1")
    assert u.reasons == ("not_step_free",)
    assert u.details["rejected_by"] == {"not_step_free": 2}


def test_unaffordable_at_cap() -> None:
    # pays nothing; rent 400 euro > cap 300 euro
    b = ben("B1", income_cents=0, accepts=("dwelling",))
    inst = instance([b], [dwelling("D1", rent_cents=40_000)])
    u = left_out(run(inst), "B1")
    assert u.reasons == ("unaffordable_at_cap",)
    assert u.details["examples"] == [{"unit": "D1", "rules": ["unaffordable_at_cap"]}]


def test_no_fund_can_pay_tagged_fund_only() -> None:
    b = ben("B1", income_cents=0, tags=("informal_settlement",), accepts=("dwelling",))
    victims = Fund("victims", 10_000_000, ("exploitation_victim",))
    inst = instance([b], [dwelling("D1", rent_cents=20_000)], funds=[victims])
    u = left_out(run(inst), "B1")
    assert u.reasons == ("no_fund_can_pay",)
    assert u.details["examples"] == [{"unit": "D1", "rules": ["no_fund_can_pay"]}]


def test_no_fund_can_pay_budget_below_one_placement() -> None:
    # contribution 200 euro a month, 2,400 a year; the only fund has 2,000
    b = ben("B1", income_cents=0, accepts=("dwelling",))
    inst = instance([b], [dwelling("D1", rent_cents=20_000)], funds=[Fund("regional", 200_000)])
    u = left_out(run(inst), "B1")
    assert u.reasons == ("no_fund_can_pay",)


def test_forbidden() -> None:
    inst = instance([ben("B1")], [dwelling("D1")], forbidden=[Forbidden("B1", "D1")])
    u = left_out(run(inst), "B1")
    assert u.reasons == ("forbidden",)
    assert u.details["examples"] == [{"unit": "D1", "rules": ["forbidden"]}]


def test_several_rules_most_frequent_first() -> None:
    family = ben("B1", adults=2, minors=3)
    inst = instance(
        [family],
        [
            dwelling("D1", area_m2=40, bedrooms=1),
            dwelling("D2", FOGGIA_STATION, area_m2=45, bedrooms=1),
            dwelling("D3", FOGGIA, area_m2=90, children_ok=False),
        ],
    )
    u = left_out(run(inst), "B1")
    assert u.reasons == ("too_large", "children_not_allowed")
    assert u.details["rejected_by"] == {"too_large": 2, "children_not_allowed": 1}


# --------------------------------------------------------------------------- allocation


def test_units_taken_names_the_holder_and_its_higher_weight() -> None:
    strong = ben("B1", priority=5, accepts=("dwelling",))
    weak = ben("B2", priority=1, accepts=("dwelling",))
    inst = instance([strong, weak], [dwelling("D1")])
    res = run(inst)
    assert res.status == "OPTIMAL"
    a = res.assignment_of("B1")
    assert a is not None and a.unit == "D1"
    u = left_out(res, "B2")
    assert u.reasons == ("units_taken",)
    assert u.details["weight"] == 1
    assert u.details["eligible_units"] == 1
    assert u.details["taken"] == [{"unit": "D1", "by": ["B1"], "weights": [5]}]


def test_units_taken_by_beds_of_the_same_gender() -> None:
    men = [ben(f"B{k}", priority=4 - k, accepts=("bed",)) for k in (1, 2, 3)]
    inst = instance(men, flats=[flat("F1", beds=(2,))])
    res = run(inst)
    u = left_out(res, "B3")
    assert u.reasons == ("units_taken",)
    assert u.details["taken"] == [{"unit": "F1", "by": ["B1", "B2"], "weights": [3, 2]}]


def test_rooms_taken_by_other_gender() -> None:
    # one room of two beds: the woman (higher weight) takes it, the man may not share it
    woman = ben("B1", gender="F", priority=5, accepts=("bed",))
    man = ben("B2", gender="M", priority=1, accepts=("bed",))
    inst = instance([woman, man], flats=[flat("F1", beds=(2,))])
    res = run(inst)
    assert res.status == "OPTIMAL"
    a = res.assignment_of("B1")
    assert a is not None and (a.unit, a.room) == ("F1", "F1-R1")
    u = left_out(res, "B2")
    assert u.reasons == ("rooms_taken_by_other_gender",)
    assert u.details["taken"] == [{"unit": "F1", "by": ["B1"], "weights": [5]}]


def test_rooms_taken_by_other_gender_two_rooms() -> None:
    # two 2-bed rooms: two women (pinned apart) leave one free bed in each room
    w1 = ben("B1", gender="F", priority=5, accepts=("bed",))
    w2 = ben("B2", gender="F", priority=5, accepts=("bed",))
    man = ben("B3", gender="M", priority=1, accepts=("bed",))
    inst = instance(
        [w1, w2, man],
        flats=[flat("F1", beds=(2, 2))],
        pinned=[Pin("B1", "F1", "F1-R1"), Pin("B2", "F1", "F1-R2")],
    )
    res = run(inst)
    assert res.status == "OPTIMAL"
    u = left_out(res, "B3")
    assert u.reasons == ("rooms_taken_by_other_gender",)
    assert sorted(u.details["taken"][0]["by"]) == ["B1", "B2"]


def test_funds_exhausted() -> None:
    # the fund pays one year of 100 euro a month; B1 (Foggia) outweighs B2 (Cerignola)
    b1 = ben("B1", income_cents=0, priority=5, accepts=("dwelling",))
    b2 = ben("B2", income_cents=0, priority=1, work=CERIGNOLA, accepts=("dwelling",))
    inst = instance(
        [b1, b2],
        [dwelling("D1", rent_cents=10_000), dwelling("D2", CERIGNOLA_CENTRE, rent_cents=8_000)],
        funds=[Fund("regional", 150_000)],
    )
    res = run(inst)
    assert res.status == "OPTIMAL"
    a = res.assignment_of("B1")
    assert a is not None and a.unit == "D1" and a.fund == "regional"
    u = left_out(res, "B2")
    assert u.reasons == ("funds_exhausted",)
    assert u.details["funds_left_cents"] == {"regional": 150_000 - 12 * 10_000}
    assert u.details["needed_cents"] == 12 * 8_000


def test_funds_exhausted_lists_only_eligible_funds() -> None:
    b1 = ben("B1", income_cents=0, priority=5, accepts=("dwelling",))
    b2 = ben("B2", income_cents=0, priority=1, work=CERIGNOLA, accepts=("dwelling",))
    victims = Fund("victims", 5_000_000, ("exploitation_victim",))
    inst = instance(
        [b1, b2],
        [dwelling("D1", rent_cents=10_000), dwelling("D2", CERIGNOLA_CENTRE, rent_cents=10_000)],
        funds=[Fund("regional", 120_000), victims],
    )
    u = left_out(run(inst), "B2")
    assert u.reasons == ("funds_exhausted",)
    assert u.details["funds_left_cents"] == {"regional": 0}
    assert u.details["needed_cents"] == 120_000


def test_zero_priority() -> None:
    b = ben("B1", priority=0)
    inst = instance([b], [dwelling("D1", rent_cents=10_000)])  # pays 300 euro: no contribution
    res = run(inst)
    assert res.status == "OPTIMAL"
    u = left_out(res, "B1")
    assert u.reasons == ("zero_priority",)
    assert u.details["weight"] == 0


def test_not_reached_in_time_when_not_optimal() -> None:
    # explain an allocation that leaves a free, fundable unit unused (as a search
    # stopped early would): the household is "not reached in time"
    inst = instance(
        [ben("B1"), ben("B2", work=CERIGNOLA)], [dwelling("D1"), dwelling("D2", CERIGNOLA_CENTRE)]
    )
    pairs = eligible_pairs(inst)
    out = {u.beneficiary: u for u in explain_unassigned(inst, pairs, [], proven=False)}
    assert out["B1"].reasons == ("not_reached_in_time",)
    assert out["B1"].details["search"] == "stopped early"
    assert out["B2"].reasons == ("not_reached_in_time",)


# --------------------------------------------------------------------------- rounds


def test_round_infeasible_pin_breaks_a_rule() -> None:
    family = ben("B1", adults=2, minors=3)
    other = ben("B2")
    inst = instance(
        [family, other],
        [dwelling("D1", area_m2=40, bedrooms=1), dwelling("D2")],
        pinned=[Pin("B1", "D1")],
    )
    res = run(inst)
    assert res.status == "INFEASIBLE"
    assert res.assignments == ()
    assert {u.beneficiary for u in res.unassigned} == {"B1", "B2"}
    for u in res.unassigned:
        assert u.reasons == ("round_infeasible",)
    conflicts = res.unassigned[0].details["conflicts"]
    assert len(conflicts) == 1
    assert "B1" in conflicts[0] and "D1" in conflicts[0] and "too_large" in conflicts[0]


PIN_BREAKS: dict[str, tuple[Beneficiary, Dwelling, tuple[Forbidden, ...]]] = {
    "too_large": (ben("B1", adults=2, minors=3), dwelling("D1", area_m2=40, bedrooms=1), ()),
    "children_not_allowed": (ben("B1", minors=1), dwelling("D1", children_ok=False), ()),
    "not_step_free": (ben("B1", needs_step_free=True), dwelling("D1"), ()),
    "no_unit_within_commute": (ben("B1"), dwelling("D1", BARI), ()),
    "unaffordable_at_cap": (ben("B1", income_cents=0), dwelling("D1", rent_cents=40_000), ()),
    "unit_type_not_accepted": (ben("B1", accepts=("bed",)), dwelling("D1"), ()),
    "forbidden": (ben("B1"), dwelling("D1"), (Forbidden("B1", "D1"),)),
}


@pytest.mark.parametrize("rule", sorted(PIN_BREAKS))
def test_round_infeasible_conflict_names_the_rule(rule: str) -> None:
    b, d, forbidden = PIN_BREAKS[rule]
    inst = instance(
        [b, ben("B2")],
        [d, dwelling("D2", FOGGIA_STATION)],
        pinned=[Pin("B1", "D1")],
        forbidden=forbidden,
    )
    res = run(inst)
    assert res.status == "INFEASIBLE"
    assert all(u.reasons == ("round_infeasible",) for u in res.unassigned)
    (conflict,) = res.unassigned[0].details["conflicts"]
    assert conflict == f"pinned B1 -> D1 breaks: {rule}"


def test_round_infeasible_pins_over_the_funds() -> None:
    # each pinned placement needs 200 euro a month; the fund pays one year of one
    b1 = ben("B1", income_cents=0)
    b2 = ben("B2", income_cents=0)
    inst = instance(
        [b1, b2],
        [dwelling("D1", rent_cents=20_000), dwelling("D2", FOGGIA_STATION, rent_cents=20_000)],
        funds=[Fund("regional", 300_000)],
        pinned=[Pin("B1", "D1"), Pin("B2", "D2")],
    )
    res = run(inst)
    assert res.status == "INFEASIBLE"
    assert all(u.reasons == ("round_infeasible",) for u in res.unassigned)
    # one fund may pay them: the pins certainly overspend it
    assert res.unassigned[0].details["conflicts"] == [
        "budget of fund regional: the pinned B1, B2 need 480000, at most 300000 fit"
    ]


def test_round_infeasible_pins_over_two_funds_together() -> None:
    # either fund pays any one pin, neither pays two, and there are three pins: no single
    # fund is certainly overspent, only the solver can tell, and says they do not fit
    bens = [ben(f"B{i}", income_cents=0) for i in (1, 2, 3)]
    inst = instance(
        bens,
        [
            dwelling("D1", rent_cents=20_000),
            dwelling("D2", FOGGIA_STATION, rent_cents=20_000),
            dwelling("D3", FOGGIA, rent_cents=20_000),
        ],
        funds=[Fund("regional", 300_000), Fund("municipal", 250_000)],
        pinned=[Pin("B1", "D1"), Pin("B2", "D2"), Pin("B3", "D3")],
    )
    res = run(inst)
    assert res.status == "INFEASIBLE"
    assert res.unassigned[0].details["conflicts"] == [
        "the pinned placements' contributions do not fit in the funds"
    ]


def test_round_infeasible_two_pins_on_one_dwelling() -> None:
    inst = instance(
        [ben("B1"), ben("B2")], [dwelling("D1")], pinned=[Pin("B1", "D1"), Pin("B2", "D1")]
    )
    res = run(inst)
    assert res.status == "INFEASIBLE"
    conflicts: list[Any] = res.unassigned[0].details["conflicts"]
    assert any("D1" in c and "B1" in c and "B2" in c for c in conflicts), conflicts
    assert all(u.reasons == ("round_infeasible",) for u in res.unassigned)


def test_round_infeasible_pinned_room_mixed_genders() -> None:
    inst = instance(
        [ben("B1", gender="F"), ben("B2", gender="M")],
        flats=[flat("F1", beds=(2, 1))],
        pinned=[Pin("B1", "F1", "F1-R1"), Pin("B2", "F1", "F1-R1")],
    )
    res = run(inst)
    assert res.status == "INFEASIBLE"
    conflicts = res.unassigned[0].details["conflicts"]
    assert any("mixed genders" in c and "F1-R1" in c for c in conflicts), conflicts


# --------------------------------------------------------------------------- all at once


def test_mixed_round_every_reason_is_known_and_optimal_has_no_not_reached() -> None:
    bs = [
        ben("B1", priority=5, accepts=("dwelling",)),
        ben("B2", priority=1, accepts=("dwelling",)),
        ben("B3", gender="F", priority=4, accepts=("bed",)),
        ben("B4", gender="M", priority=2, accepts=("bed",), needs_step_free=True),
    ]
    inst = instance(bs, [dwelling("D1"), dwelling("D2", BARI)], [flat("F1", beds=(1, 1))])
    res = run(inst)
    assert res.status == "OPTIMAL"
    placed = {a.beneficiary for a in res.assignments}
    assert placed == {"B1", "B3"}
    assert left_out(res, "B2").reasons == ("units_taken",)
    assert left_out(res, "B4").reasons == ("not_step_free",)
