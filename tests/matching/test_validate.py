"""Tests of the independent result checker :mod:`matching.validate`.

A small round in the province of Foggia is built in code, with a hand-made valid result
(commutes computed here with geopy). Each test then breaks one thing and checks that
exactly the matching violation code is reported.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

import pytest
from geopy.distance import geodesic

import matching.instance as instance_module
from matching.instance import Instance, instance_from_dict, parse_json
from matching.result import Assignment, Objective, Result, Unassigned
from matching.validate import (
    VIOLATION_CODES,
    ValidationError,
    Violation,
    check,
    commute_m,
    legal_max_from_spec,
    pay_cents,
    validate,
)

FOGGIA = (41.4622, 15.5446)
FOGGIA_STATION = (41.4666, 15.5567)
FOGGIA_CENTRE = (41.4584, 15.5519)
SAN_SEVERO = (41.6856, 15.3815)
LUCERA = (41.5055, 15.3357)
CERIGNOLA = (41.2654, 15.8993)
CIRCUITY = 1.3


def placement(
    beneficiary: str,
    unit: str,
    room: str | None,
    fund: str | None,
    contribution_cents: int,
    commute_km: float,
) -> Assignment:
    """An assignment with its whole metres as the contract counts them."""
    return Assignment(
        beneficiary, unit, room, fund, contribution_cents, commute_km, commute_m(commute_km)
    )


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return CIRCUITY * float(geodesic(a, b).km)


BASE: dict[str, Any] = {
    "format": "housing-match/instance@1",
    "name": "foggia-test",
    "policy": {
        "affordability_ratio": Decimal("0.29"),
        "max_contribution_cents": 30000,
        "contribution_months": 12,
        "circuity": CIRCUITY,
        "objective_unit": "persons",
    },
    "funds": [
        {"id": "regional", "budget_cents": 10_000_000, "eligible_tags": []},
        {"id": "victims", "budget_cents": 1_000_000, "eligible_tags": ["exploitation_victim"]},
    ],
    "beneficiaries": [
        # a family of three in a San Severo flat; pay 29000, contribution 13000
        {
            "id": "B1",
            "adults": 2,
            "minors": 1,
            "gender": "F",
            "income_cents": 100_000,
            "work": {"lat": FOGGIA[0], "lon": FOGGIA[1]},
            "max_commute_km": 50.0,
            "needs_step_free": False,
            "priority": 5,
            "accepts": ["dwelling"],
        },
        # single man in a Lucera bed; pay 29, contribution 16971
        {
            "id": "B2",
            "adults": 1,
            "minors": 0,
            "gender": "M",
            "income_cents": 100,
            "work": {"lat": FOGGIA[0], "lon": FOGGIA[1]},
            "max_commute_km": 40.0,
            "needs_step_free": False,
            "priority": 3,
            "accepts": ["bed"],
            "tags": ["exploitation_victim"],
        },
        # single man in the same room; pay 58000, contribution 0
        {
            "id": "B3",
            "adults": 1,
            "minors": 0,
            "gender": "M",
            "income_cents": 200_000,
            "work": {"lat": FOGGIA[0], "lon": FOGGIA[1]},
            "max_commute_km": 40.0,
            "needs_step_free": False,
            "priority": 2,
            "accepts": ["dwelling", "bed"],
        },
        # left out
        {
            "id": "B4",
            "adults": 1,
            "minors": 0,
            "gender": "F",
            "income_cents": 80_000,
            "work": {"lat": CERIGNOLA[0], "lon": CERIGNOLA[1]},
            "max_commute_km": 5.0,
            "needs_step_free": False,
            "priority": 1,
            "accepts": ["dwelling", "bed"],
        },
        # pinned in a step-free Foggia flat; pay 14500, contribution 25500
        {
            "id": "B5",
            "adults": 1,
            "minors": 0,
            "gender": "F",
            "income_cents": 50_000,
            "work": {"lat": FOGGIA_STATION[0], "lon": FOGGIA_STATION[1]},
            "max_commute_km": 10.0,
            "needs_step_free": True,
            "priority": 4,
            "accepts": ["dwelling"],
        },
    ],
    "dwellings": [
        {
            "id": "D1",
            "lat": SAN_SEVERO[0],
            "lon": SAN_SEVERO[1],
            "area_m2": 62,
            "bedrooms": 2,
            "rent_cents": 42_000,
            "step_free": False,
            "max_occupants": None,
            "children_ok": True,
        },
        {
            "id": "D2",
            "lat": FOGGIA_CENTRE[0],
            "lon": FOGGIA_CENTRE[1],
            "area_m2": 45,
            "bedrooms": 1,
            "rent_cents": 40_000,
            "step_free": True,
            "max_occupants": 2,
            "children_ok": False,
        },
    ],
    "shared_flats": [
        {
            "id": "F1",
            "lat": LUCERA[0],
            "lon": LUCERA[1],
            "rent_per_bed_cents": 17_000,
            "step_free": False,
            "rooms": [{"id": "F1-R1", "beds": 2}, {"id": "F1-R2", "beds": 1}],
        },
    ],
    "pinned": [{"beneficiary": "B5", "unit": "D2"}],
    "forbidden": [{"beneficiary": "B4", "unit": "D1"}],
}

B1_KM = km(FOGGIA, SAN_SEVERO)
B2_KM = B3_KM = km(FOGGIA, LUCERA)
B5_KM = km(FOGGIA_STATION, FOGGIA_CENTRE)
BASE_ASSIGNMENTS = (
    placement("B1", "D1", None, "regional", 13_000, B1_KM),
    placement("B2", "F1", "F1-R1", "victims", 16_971, B2_KM),
    placement("B3", "F1", "F1-R1", None, 0, B3_KM),
    placement("B5", "D2", None, "regional", 25_500, B5_KM),
)
BASE_WEIGHT = 5 * 3 + 3 + 2 + 4


def make_instance(mutate: Callable[[dict[str, Any]], object] | None = None) -> Instance:
    data = copy.deepcopy(BASE)
    if mutate is not None:
        mutate(data)
    return instance_from_dict(data)


def person_weight(inst: Instance, bid: str) -> int:
    b = next(x for x in inst.beneficiaries if x.id == bid)
    factor = b.adults + b.minors if inst.policy.objective_unit == "persons" else 1
    return b.priority * factor


def make_result(
    inst: Instance,
    assignments: tuple[Assignment, ...] = BASE_ASSIGNMENTS,
    unassigned: tuple[Unassigned, ...] = (Unassigned("B4", ("no_unit_within_commute",)),),
    status: str = "OPTIMAL",
) -> Result:
    """A result whose objective is the sum of the reported figures."""
    weight = sum(person_weight(inst, a.beneficiary) for a in assignments)
    return Result(
        instance=inst.name,
        status=cast(Any, status),
        objective=Objective(
            weight,
            sum(a.contribution_cents for a in assignments),
            sum(a.commute_km for a in assignments),
            sum(a.commute_m for a in assignments),
        ),
        bound_weight=weight,
        assignments=assignments,
        unassigned=unassigned,
        solve_seconds=0.1,
    )


def change(result: Result, bid: str, **changes: Any) -> Result:
    """The result with one beneficiary's assignment changed (objective untouched)."""
    return dataclasses.replace(
        result,
        assignments=tuple(
            dataclasses.replace(a, **changes) if a.beneficiary == bid else a
            for a in result.assignments
        ),
    )


def rebuild(result: Result) -> Result:
    """The result with its objective (and bound) summed again from its assignments."""
    return dataclasses.replace(
        make_result(make_instance(), result.assignments, result.unassigned), status=result.status
    )


def codes(inst: Instance, result: Result) -> list[str]:
    return sorted(v.code for v in validate(inst, result))


# --------------------------------------------------------------------------- valid


def test_base_result_is_valid() -> None:
    inst = make_instance()
    result = make_result(inst)
    assert result.objective.weight == BASE_WEIGHT
    assert validate(inst, result) == []
    check(inst, result)  # does not raise


def test_base_figures_match_the_spec_by_hand() -> None:
    inst = make_instance()
    assert pay_cents(inst.policy, 100_000) == 29_000
    assert pay_cents(inst.policy, 50_000) == 14_500
    assert 30 < B1_KM < 45  # Foggia - San Severo, about 28 km as the crow flies


def test_households_objective_unit() -> None:
    inst = make_instance(lambda d: d["policy"].update(objective_unit="households"))
    result = make_result(inst)
    assert result.objective.weight == 5 + 3 + 2 + 4
    assert validate(inst, result) == []
    wrong = dataclasses.replace(
        result, objective=dataclasses.replace(result.objective, weight=BASE_WEIGHT)
    )
    assert codes(inst, wrong) == ["objective_weight_mismatch"]


def test_infeasible_result_with_nobody_placed_is_valid() -> None:
    inst = make_instance()
    everybody = tuple(Unassigned(b.id, ("pinned_infeasible",)) for b in inst.beneficiaries)
    for status in ("INFEASIBLE", "UNKNOWN"):
        result = make_result(inst, assignments=(), unassigned=everybody, status=status)
        assert validate(inst, result) == [], status


# --------------------------------------------------------------------------- pay


def test_pay_uses_the_exact_decimal_of_the_file() -> None:
    text = """{
      "format": "housing-match/instance@1", "name": "decimal",
      "policy": {"affordability_ratio": 0.29, "max_contribution_cents": 30000,
                 "contribution_months": 12, "circuity": 1.3, "objective_unit": "persons"},
      "funds": [{"id": "regional", "budget_cents": 100000, "eligible_tags": []}],
      "beneficiaries": [{"id": "B1", "adults": 1, "minors": 0, "gender": "X",
                         "income_cents": 100, "work": {"lat": 41.4622, "lon": 15.5446},
                         "max_commute_km": 5, "needs_step_free": false, "priority": 1,
                         "accepts": ["dwelling", "bed"]}],
      "dwellings": [{"id": "D1", "lat": 41.4584, "lon": 15.5519, "area_m2": 30,
                     "bedrooms": 1, "rent_cents": 100, "step_free": false,
                     "max_occupants": null, "children_ok": true}],
      "shared_flats": []
    }"""
    inst = instance_from_dict(parse_json(text))
    assert pay_cents(inst.policy, 100) == 29  # a binary float would give 28
    commute = inst.policy.circuity * float(geodesic((41.4622, 15.5446), (41.4584, 15.5519)).km)
    good = placement("B1", "D1", None, "regional", 71, commute)
    result = make_result(inst, assignments=(good,), unassigned=())
    assert validate(inst, result) == []
    claims_72 = change(result, "B1", contribution_cents=72)
    assert codes(inst, claims_72) == ["contribution_mismatch"]


# --------------------------------------------------------------------------- tampering

# (code, change to the instance dict); the result stays the base one, weight refreshed.
INSTANCE_TAMPERING: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
    ("dwelling_not_accepted", lambda d: d["beneficiaries"][0].update(accepts=["bed"])),
    ("dwelling_over_capacity", lambda d: d["dwellings"][0].update(max_occupants=2)),
    ("dwelling_over_capacity", lambda d: d["dwellings"][0].update(area_m2=41.9)),
    ("dwelling_over_capacity", lambda d: d["dwellings"][0].update(bedrooms=0)),
    ("dwelling_no_children", lambda d: d["dwellings"][0].update(children_ok=False)),
    ("not_step_free", lambda d: d["dwellings"][1].update(step_free=False)),
    ("not_step_free", lambda d: d["beneficiaries"][2].update(needs_step_free=True)),
    ("commute_too_long", lambda d: d["beneficiaries"][0].update(max_commute_km=B1_KM - 1e-3)),
    ("commute_too_long", lambda d: d["beneficiaries"][1].update(max_commute_km=B2_KM - 1e-3)),
    ("contribution_over_cap", lambda d: d["policy"].update(max_contribution_cents=25_499)),
    ("forbidden_pair", lambda d: d["forbidden"].append({"beneficiary": "B1", "unit": "D1"})),
    ("forbidden_pair", lambda d: d["forbidden"].append({"beneficiary": "B3", "unit": "F1"})),
    ("bed_not_accepted", lambda d: d["beneficiaries"][1].update(accepts=["dwelling"])),
    ("bed_not_single_adult", lambda d: d["beneficiaries"][2].update(minors=1)),
    ("bed_not_single_adult", lambda d: d["beneficiaries"][2].update(adults=2)),
    ("room_over_capacity", lambda d: d["shared_flats"][0]["rooms"][0].update(beds=1)),
    ("room_mixed_gender", lambda d: d["beneficiaries"][2].update(gender="X")),
    (
        "pin_not_honoured",
        lambda d: d["pinned"].append({"beneficiary": "B3", "unit": "F1", "room": "F1-R2"}),
    ),
    ("pin_not_honoured", lambda d: d["pinned"].append({"beneficiary": "B1", "unit": "D2"})),
    ("pin_not_honoured", lambda d: d["pinned"].append({"beneficiary": "B4", "unit": "D1"})),
    ("fund_ineligible", lambda d: d["funds"][1].update(eligible_tags=["minor_victim"])),
    ("fund_over_budget", lambda d: d["funds"][0].update(budget_cents=(13_000 + 25_500) * 12 - 1)),
    ("fund_over_budget", lambda d: d["policy"].update(contribution_months=60)),
]


@pytest.mark.parametrize(
    ("code", "mutate"),
    INSTANCE_TAMPERING,
    ids=[f"{c}-{k}" for k, (c, _) in enumerate(INSTANCE_TAMPERING)],
)
def test_instance_tampering_is_reported(
    code: str, mutate: Callable[[dict[str, Any]], object]
) -> None:
    assert validate(make_instance(), make_result(make_instance())) == []
    inst = make_instance(mutate)
    assert codes(inst, make_result(inst)) == [code]


def _drop_b4(r: Result) -> Result:
    return dataclasses.replace(r, unassigned=())


def _objective(r: Result, **changes: Any) -> Result:
    return dataclasses.replace(r, objective=dataclasses.replace(r.objective, **changes))


# (code, change to the base result)
RESULT_TAMPERING: list[tuple[str, Callable[[Result], Result]]] = [
    ("beneficiary_missing", _drop_b4),
    (
        "beneficiary_duplicated",
        lambda r: dataclasses.replace(r, unassigned=(*r.unassigned, Unassigned("B1", ("dup",)))),
    ),
    (
        "beneficiary_duplicated",
        lambda r: dataclasses.replace(r, unassigned=(*r.unassigned, Unassigned("B4", ("dup",)))),
    ),
    (
        "unknown_beneficiary",
        lambda r: dataclasses.replace(
            r, unassigned=(*r.unassigned, Unassigned("B999", ("ghost",)))
        ),
    ),
    ("unknown_unit", lambda r: change(r, "B1", unit="D999")),
    ("room_on_dwelling", lambda r: change(r, "B1", room="F1-R1")),
    ("room_missing", lambda r: change(r, "B3", room=None)),
    ("unknown_room", lambda r: change(r, "B3", room="F1-R9")),
    ("unknown_room", lambda r: change(r, "B3", room="D1")),
    (
        "dwelling_shared",
        lambda r: rebuild(
            change(
                r,
                "B3",
                unit="D2",
                room=None,
                commute_km=km(FOGGIA, FOGGIA_CENTRE),
                commute_m=commute_m(km(FOGGIA, FOGGIA_CENTRE)),
            )
        ),
    ),
    (
        "pin_not_honoured",
        lambda r: rebuild(
            dataclasses.replace(
                r,
                assignments=r.assignments[:3],
                unassigned=(*r.unassigned, Unassigned("B5", ("dropped",))),
            )
        ),
    ),
    ("contribution_mismatch", lambda r: change(r, "B2", contribution_cents=16_972)),
    ("contribution_mismatch", lambda r: change(r, "B3", contribution_cents=-1)),
    ("commute_mismatch", lambda r: change(r, "B1", commute_km=B1_KM + 0.0011)),
    ("commute_mismatch", lambda r: change(r, "B1", commute_km=B1_KM - 0.0011)),
    ("commute_mismatch", lambda r: change(r, "B1", commute_km=float("nan"))),
    ("commute_m_mismatch", lambda r: change(r, "B1", commute_m=commute_m(B1_KM) + 1)),
    ("fund_missing", lambda r: change(r, "B1", fund=None)),
    ("fund_not_null", lambda r: change(r, "B3", fund="regional")),
    ("fund_unknown", lambda r: change(r, "B1", fund="municipal")),
    ("fund_ineligible", lambda r: change(r, "B1", fund="victims")),
    ("objective_weight_mismatch", lambda r: _objective(r, weight=r.objective.weight - 1)),
    (
        "objective_contribution_mismatch",
        lambda r: _objective(r, contribution_cents=r.objective.contribution_cents + 1),
    ),
    (
        "objective_commute_mismatch",
        lambda r: _objective(r, commute_km=r.objective.commute_km + 0.0041),
    ),
    ("objective_commute_mismatch", lambda r: _objective(r, commute_km=float("nan"))),
    ("objective_commute_m_mismatch", lambda r: _objective(r, commute_m=r.objective.commute_m + 1)),
    (
        "bound_below_objective",
        lambda r: dataclasses.replace(r, bound_weight=r.objective.weight - 1),
    ),
    ("invalid_status", lambda r: dataclasses.replace(r, status=cast(Any, "DONE"))),
    ("assignments_without_solution", lambda r: dataclasses.replace(r, status="INFEASIBLE")),
    ("assignments_without_solution", lambda r: dataclasses.replace(r, status="UNKNOWN")),
    (
        "unassigned_without_reason",
        lambda r: dataclasses.replace(r, unassigned=(Unassigned("B4", ()),)),
    ),
    (
        "unassigned_without_reason",
        lambda r: dataclasses.replace(r, unassigned=(Unassigned("B4", ("",)),)),
    ),
]


@pytest.mark.parametrize(
    ("code", "tamper"),
    RESULT_TAMPERING,
    ids=[f"{c}-{k}" for k, (c, _) in enumerate(RESULT_TAMPERING)],
)
def test_result_tampering_is_reported(code: str, tamper: Callable[[Result], Result]) -> None:
    inst = make_instance()
    assert codes(inst, tamper(make_result(inst))) == [code]


def test_every_code_is_exercised() -> None:
    exercised = {c for c, _ in INSTANCE_TAMPERING} | {c for c, _ in RESULT_TAMPERING}
    exercised |= {"capacity_mismatch"}  # see test_data_layer_capacity_is_cross_checked
    # see tests/matching/test_policy_options.py, a weighted optimum refused as a strict one
    exercised |= {"priority_inversion"}
    # and test_floored_optimum_equals_enumeration there: an unfloored optimum refused
    exercised |= {"group_floor_unmet"}
    from tests.matching.test_validate_v2 import INSTANCE_TAMPERING as V2_INSTANCE
    from tests.matching.test_validate_v2 import RESULT_TAMPERING as V2_RESULT

    exercised |= {c for c, _ in V2_INSTANCE} | {c for c, _ in V2_RESULT}
    assert exercised == set(VIOLATION_CODES)


def test_violation_names_who_and_where() -> None:
    inst = make_instance()
    (v,) = validate(inst, change(make_result(inst), "B2", contribution_cents=16_972))
    assert (v.code, v.beneficiary, v.unit) == ("contribution_mismatch", "B2", "F1")
    assert "16972" in v.message and "16971" in v.message
    assert str(v).startswith("[contribution_mismatch] beneficiary B2, unit F1: ")
    assert str(Violation("invalid_status", None, None, "x")) == "[invalid_status] x"


def test_several_violations_are_all_reported() -> None:
    inst = make_instance(lambda d: d["dwellings"][0].update(children_ok=False))
    result = change(_drop_b4(make_result(inst)), "B3", fund="regional")
    assert codes(inst, result) == ["beneficiary_missing", "dwelling_no_children", "fund_not_null"]


def test_check_raises_listing_the_violations() -> None:
    inst = make_instance()
    with pytest.raises(ValidationError) as err:
        check(inst, change(_drop_b4(make_result(inst)), "B1", fund=None))
    assert isinstance(err.value, ValueError)
    assert [v.code for v in err.value.violations] == ["beneficiary_missing", "fund_missing"]
    assert "2 violation(s)" in str(err.value) and "[fund_missing]" in str(err.value)


# --------------------------------------------------------------------------- boundaries


def test_commute_exactly_at_the_limit_is_allowed() -> None:
    inst = make_instance(lambda d: d["beneficiaries"][0].update(max_commute_km=B1_KM))
    assert validate(inst, make_result(inst)) == []


def test_reported_commute_within_a_metre_is_accepted() -> None:
    inst = make_instance()
    result = change(make_result(inst), "B1", commute_km=B1_KM + 0.0009)
    assert validate(inst, result) == []


def test_objective_commute_tolerance_grows_with_assignments() -> None:
    inst = make_instance()
    result = make_result(inst)  # four assignments: 4e-3 km of slack
    assert validate(inst, _objective(result, commute_km=result.objective.commute_km + 0.0039)) == []


def test_budget_spent_exactly_is_allowed() -> None:
    inst = make_instance(lambda d: d["funds"][0].update(budget_cents=(13_000 + 25_500) * 12))
    assert validate(inst, make_result(inst)) == []


def test_contribution_exactly_at_the_cap_is_allowed() -> None:
    inst = make_instance(lambda d: d["policy"].update(max_contribution_cents=25_500))
    assert validate(inst, make_result(inst)) == []


def test_pin_without_room_accepts_any_room_and_pin_with_room_its_room() -> None:
    for pin in (
        {"beneficiary": "B3", "unit": "F1"},
        {"beneficiary": "B3", "unit": "F1", "room": "F1-R1"},
    ):
        inst = make_instance(lambda d, p=pin: d["pinned"].append(p))  # type: ignore[misc]
        assert validate(inst, make_result(inst)) == [], pin


def test_room_of_one_gender_filled_to_capacity_is_allowed() -> None:
    inst = make_instance(lambda d: d["beneficiaries"][2].update(gender="M"))
    assert validate(inst, make_result(inst)) == []


def test_bound_may_exceed_the_objective_and_may_be_absent() -> None:
    inst = make_instance()
    result = make_result(inst)
    assert (
        validate(inst, dataclasses.replace(result, bound_weight=BASE_WEIGHT + 7, status="FEASIBLE"))
        == []
    )
    assert validate(inst, dataclasses.replace(result, bound_weight=None)) == []


def test_objective_is_not_compared_when_an_assignment_cannot_be_resolved() -> None:
    inst = make_instance()
    result = dataclasses.replace(change(make_result(inst), "B1", unit="D999"), bound_weight=0)
    # the bound is then compared with the reported weight
    assert codes(inst, result) == ["bound_below_objective", "unknown_unit"]


# --------------------------------------------------------------------------- legal max


@pytest.mark.parametrize(
    ("area", "bedrooms", "expected"),
    [
        (13.9, 1, 0),
        (14, 1, 1),
        (27.9, 1, 1),
        (28, 2, 2),
        (41.99, 1, 2),
        (42, 3, 3),
        (55.9, 2, 3),
        (56, 2, 4),
        (65.9, 3, 4),
        (66, 3, 5),
        (75.5, 3, 5),
        (76, 3, 6),
        (106, 4, 9),
        (27.9, 0, 0),
        (28, 0, 1),
        (37.9, 0, 1),
        (38, 0, 2),
        (120, 0, 2),
    ],
)
def test_legal_max_from_the_spec(area: float, bedrooms: int, expected: int) -> None:
    assert legal_max_from_spec(area, bedrooms) == expected
    assert instance_module.legal_max_occupants(area, bedrooms) == expected


def test_legal_max_agrees_with_the_data_layer_on_a_grid() -> None:
    for tenths in range(0, 2000):
        for bedrooms in (0, 1, 3):
            area = tenths / 10
            assert legal_max_from_spec(area, bedrooms) == instance_module.legal_max_occupants(
                area, bedrooms
            ), (area, bedrooms)


def test_data_layer_capacity_is_cross_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    inst = make_instance()
    result = make_result(inst)
    monkeypatch.setattr(instance_module, "legal_max_occupants", lambda area, bedrooms: 99)
    found = validate(inst, result)
    assert [v.unit for v in found] == ["D1"]


# --------------------------------------------------------------------------- scale


@pytest.mark.slow
def test_twenty_thousand_assignments_take_one_geodesic_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The checker is linear: one geodesic per placement, whatever the round's size."""
    import matching.validate as validate_module

    n = 20_000
    beneficiaries = [
        {
            "id": f"B{k}",
            "adults": 1,
            "minors": 0,
            "gender": "MF"[k % 2],
            "income_cents": 100_000,
            "work": {"lat": FOGGIA[0], "lon": FOGGIA[1]},
            "max_commute_km": 60.0,
            "needs_step_free": False,
            "priority": 1,
            "accepts": ["dwelling", "bed"],
        }
        for k in range(n)
    ]
    dwellings = [
        {
            "id": f"D{k}",
            "lat": SAN_SEVERO[0] + k * 1e-6,
            "lon": SAN_SEVERO[1],
            "area_m2": 30,
            "bedrooms": 1,
            "rent_cents": 30_000,
            "step_free": False,
            "max_occupants": None,
            "children_ok": True,
        }
        for k in range(n)
    ]
    data = {
        **copy.deepcopy(BASE),
        "beneficiaries": beneficiaries,
        "dwellings": dwellings,
        "shared_flats": [],
        "pinned": [],
        "forbidden": [],
    }
    inst = instance_from_dict(data)
    assignments = tuple(
        placement(
            f"B{k}",
            f"D{k}",
            None,
            "regional",
            1_000,
            km(FOGGIA, (SAN_SEVERO[0] + k * 1e-6, SAN_SEVERO[1])),
        )
        for k in range(n)
    )
    result = make_result(inst, assignments=assignments, unassigned=())
    calls = 0
    real = validate_module.geodesic

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(validate_module, "geodesic", counting)
    validate_module._geodesic_km.cache_clear()  # the checker remembers its geodesics
    found = validate(inst, result)
    assert [v.code for v in found] == ["fund_over_budget"]  # 20000 * 1000 * 12 > 1e7
    assert calls == n
