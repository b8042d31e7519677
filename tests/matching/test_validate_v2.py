"""The independent checker on instance@2: seasons, shuttles, landlords' terms, safety.

A hand-made round uses every instance@2 rule at once; the engine's result for it must be
valid, and each tampering (of the round or of the result) must be reported by exactly
the violation code of the rule it breaks.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from matching.instance import Instance, instance_from_dict
from matching.params import SolveParams
from matching.result import Result
from matching.solve import solve
from matching.validate import VIOLATION_CODES, validate

WORK = {"lat": 41.4584, "lon": 15.5519}  # Foggia
FAR_WORK = {"lat": 41.70, "lon": 15.40}  # near San Severo, 30 km away

BASE: dict[str, Any] = {
    "format": "housing-match/instance@2",
    "name": "season-and-line",
    "policy": {
        "affordability_ratio": 0.30,
        "max_contribution_cents": 30000,
        "circuity": 1.3,
        "objective_unit": "persons",
        "horizon": {"start": "2027-01", "months": 12},
        "walk_km": 1.0,
        "transport_budget_cents": 1_500_000,
        "guarantee": {"capacity_cents": 200_000, "months": 3},
    },
    "funds": [{"id": "regional", "budget_cents": 10_000_000, "eligible_tags": []}],
    "beneficiaries": [
        {
            "id": "B1",
            "adults": 1,
            "minors": 0,
            "gender": "M",
            "income_cents": 70_000,
            "work": WORK,
            "max_commute_km": 10.0,
            "needs_step_free": False,
            "priority": 5,
            "accepts": ["bed"],
            "stay": {"from": "2027-07", "to": "2027-09"},
        },
        {
            "id": "B2",
            "adults": 1,
            "minors": 0,
            "gender": "F",
            "income_cents": 70_000,
            "work": WORK,
            "max_commute_km": 10.0,
            "needs_step_free": False,
            "priority": 4,
            "accepts": ["bed"],
            "stay": {"from": "2027-10", "to": "2027-12"},
        },
        {
            "id": "B3",
            "adults": 2,
            "minors": 1,
            "gender": "F",
            "income_cents": 90_000,
            "work": WORK,
            "max_commute_km": 10.0,
            "needs_step_free": False,
            "priority": 3,
            "accepts": ["dwelling"],
            "areas": ["071024"],
        },
        {
            "id": "B4",
            "adults": 1,
            "minors": 0,
            "gender": "M",
            "income_cents": 60_000,
            "work": FAR_WORK,
            "max_commute_km": 5.0,
            "needs_step_free": False,
            "priority": 2,
            "accepts": ["dwelling"],
        },
    ],
    "dwellings": [
        {
            "id": "D1",
            "lat": 41.4622,
            "lon": 15.5446,
            "area_m2": 62,
            "bedrooms": 2,
            "terms": [
                {"id": "market", "rent_cents": 62_000},
                {
                    "id": "agreed",
                    "rent_cents": 43_000,
                    "one_off_cents": 150_000,
                    "guaranteed": True,
                },
            ],
            "step_free": False,
            "max_occupants": None,
            "children_ok": True,
            "area": "071024",
        },
        {
            "id": "D2",
            "lat": 41.4710,
            "lon": 15.5610,
            "area_m2": 40,
            "bedrooms": 1,
            "rent_cents": 30_000,
            "step_free": False,
            "max_occupants": None,
            "children_ok": True,
        },
    ],
    "shared_flats": [
        {
            "id": "F1",
            "lat": 41.4700,
            "lon": 15.5600,
            "rent_per_bed_cents": 17_000,
            "step_free": True,
            "rooms": [{"id": "F1-R1", "beds": 2}, {"id": "F1-R2", "beds": 1}],
            "available": {"from": "2027-06", "to": "2027-12"},
        },
    ],
    "shuttles": [
        {
            "id": "L1",
            "stops": [
                {"id": "S1", "lat": 41.70, "lon": 15.401},
                {"id": "S2", "lat": 41.47, "lon": 15.561},
            ],
            "seats": 4,
            "monthly_cost_cents": 100_000,
            "running": False,
        },
    ],
}


def make_instance(mutate: Callable[[dict[str, Any]], object] | None = None) -> Instance:
    data = copy.deepcopy(BASE)
    if mutate is not None:
        mutate(data)
    return instance_from_dict(data)


@pytest.fixture(scope="module")
def base() -> tuple[Instance, Result]:
    inst = make_instance()
    return inst, solve(inst, SolveParams(time_limit=20))


def test_the_engines_result_uses_every_rule_and_is_valid(base: tuple[Instance, Result]) -> None:
    inst, res = base
    assert validate(inst, res) == []
    assert res.status == "OPTIMAL" and res.format == "housing-match/result@2"
    by = {a.beneficiary: a for a in res.assignments}
    # the bed is used twice over the year: July to September, then October to December
    assert by["B1"].unit == by["B2"].unit == "F1"
    # the market rent is over the cap: the agreed terms, guaranteed, with their one-off
    assert (by["B3"].unit, by["B3"].term, by["B3"].one_off_cents) == ("D1", "agreed", 150_000)
    assert by["B3"].cost_cents == (43_000 - 27_000) * 12 + 150_000
    # B4 works 30 km away: the line opens and brings it home
    assert (by["B4"].unit, by["B4"].shuttle) == ("D2", "L1")
    assert res.lines_opened == ("L1",)
    assert res.objective.money_cents == sum(a.cost_cents for a in res.assignments) + 1_200_000


def _assignment(res: Result, bid: str, **changes: Any) -> Result:
    return dataclasses.replace(
        res,
        assignments=tuple(
            dataclasses.replace(a, **changes) if a.beneficiary == bid else a
            for a in res.assignments
        ),
    )


# (code, change to the instance dict): the engine's result on the base must break it
INSTANCE_TAMPERING: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
    (
        "unit_not_available",
        lambda d: d["shared_flats"][0].update(available={"from": "2027-08", "to": "2027-12"}),
    ),
    (
        "in_safety_zone",
        lambda d: d["beneficiaries"][0].update(
            avoid=[{"lat": 41.47, "lon": 15.56, "radius_km": 2}]
        ),
    ),
    ("outside_areas", lambda d: d["beneficiaries"][2].update(areas=["071020"])),
    ("shuttle_out_of_walk", lambda d: d["policy"].update(walk_km=0.05)),
    ("shuttle_over_seats", lambda d: d["shuttles"][0].update(seats=0)),
    ("transport_over_budget", lambda d: d["policy"].update(transport_budget_cents=1000)),
    ("guarantee_over_capacity", lambda d: d["policy"]["guarantee"].update(capacity_cents=1)),
]


@pytest.mark.parametrize(
    ("code", "mutate"), INSTANCE_TAMPERING, ids=[c for c, _ in INSTANCE_TAMPERING]
)
def test_instance_tampering_is_reported(
    base: tuple[Instance, Result], code: str, mutate: Callable[[dict[str, Any]], object]
) -> None:
    _, res = base
    assert [v.code for v in validate(make_instance(mutate), res)] == [code]


RESULT_TAMPERING: list[tuple[str, Callable[[Result], Result]]] = [
    ("format_mismatch", lambda r: dataclasses.replace(r, format="housing-match/result@1")),
    ("months_mismatch", lambda r: _assignment(r, "B1", months=4)),
    ("term_missing", lambda r: _assignment(r, "B3", term=None)),
    ("term_unknown", lambda r: _assignment(r, "B3", term="other")),
    ("term_not_null", lambda r: _assignment(r, "B1", term="market")),
    ("one_off_mismatch", lambda r: _assignment(r, "B3", one_off_cents=1)),
    ("cost_mismatch", lambda r: _assignment(r, "B3", cost_cents=1)),
    ("shuttle_unknown", lambda r: _assignment(r, "B4", shuttle="L9")),
    ("lines_opened_mismatch", lambda r: dataclasses.replace(r, lines_opened=())),
    (
        "objective_money_mismatch",
        lambda r: dataclasses.replace(
            r, objective=dataclasses.replace(r.objective, money_cents=r.objective.money_cents + 1)
        ),
    ),
]


@pytest.mark.parametrize(("code", "tamper"), RESULT_TAMPERING, ids=[c for c, _ in RESULT_TAMPERING])
def test_result_tampering_is_reported(
    base: tuple[Instance, Result], code: str, tamper: Callable[[Result], Result]
) -> None:
    inst, res = base
    found = [v.code for v in validate(inst, tamper(res))]
    if code == "shuttle_unknown":  # no known line: the far home is then out of reach too
        assert "shuttle_unknown" in found
        return
    assert found == [code]


def test_two_seasons_in_one_bed_are_fine_but_overlapping_ones_are_not(
    base: tuple[Instance, Result],
) -> None:
    _, res = base
    overlapping = make_instance(
        lambda d: d["beneficiaries"][1].update(stay={"from": "2027-09", "to": "2027-12"})
    )
    moved = _assignment(
        res, "B2", months=4, cost_cents=0
    )  # B2 pays 210 euro of a 170 euro bed: no cost
    codes = {v.code for v in validate(overlapping, moved)}
    room = next(a.room for a in res.assignments if a.beneficiary == "B1")
    same_room = {a.room for a in res.assignments if a.beneficiary in ("B1", "B2")} == {room}
    assert ("room_mixed_gender" in codes) == same_room


def test_every_v2_code_is_exercised() -> None:
    v2 = {
        "format_mismatch",
        "months_mismatch",
        "unit_not_available",
        "term_missing",
        "term_unknown",
        "term_not_null",
        "one_off_mismatch",
        "cost_mismatch",
        "in_safety_zone",
        "outside_areas",
        "shuttle_unknown",
        "shuttle_out_of_walk",
        "shuttle_over_seats",
        "lines_opened_mismatch",
        "transport_over_budget",
        "guarantee_over_capacity",
        "objective_money_mismatch",
    }
    assert v2 <= set(VIOLATION_CODES)
    exercised = {c for c, _ in INSTANCE_TAMPERING} | {c for c, _ in RESULT_TAMPERING}
    assert exercised == v2
