"""The reasons instance@2's rules give a household left out, each in a tiny round.

Every result is checked by the independent validator; a safety zone is never shown.
"""

from __future__ import annotations

import json
import logging

import pytest

from matching.instance import (
    INSTANCE_FORMAT_V2,
    Beneficiary,
    Dwelling,
    Fund,
    Guarantee,
    Instance,
    Point,
    Policy,
    Room,
    SharedFlat,
    Shuttle,
    Span,
    Stop,
    Term,
    Zone,
)
from matching.params import SolveParams
from matching.result import Result, Unassigned
from matching.solve import solve
from matching.validate import validate

FOGGIA = Point(41.4622, 15.5446)
SAN_SEVERO = Point(41.6856, 15.3815)
JAN = 2027 * 12
YEAR = Span(JAN, JAN + 11)


def ben(
    bid: str,
    *,
    work: Point = FOGGIA,
    reach: float = 10.0,
    priority: int = 1,
    stay: Span | None = None,
    accepts: tuple[str, ...] = ("dwelling", "bed"),
    **kw: object,
) -> Beneficiary:
    return Beneficiary(
        bid, 1, 0, "M", 100_000, work, reach, False, priority, accepts, (), stay=stay, **kw
    )  # type: ignore[arg-type]


def dwelling(did: str, at: Point = FOGGIA, **kw: object) -> Dwelling:
    fields: dict[str, object] = {"rent_cents": 20_000, **kw}
    return Dwelling(
        did,
        at.lat + 0.001,
        at.lon,
        50,
        1,
        step_free=False,
        max_occupants=None,
        children_ok=True,
        **fields,
    )  # type: ignore[arg-type]


def round_of(
    bens: list[Beneficiary],
    dws: list[Dwelling],
    flats: tuple[SharedFlat, ...] = (),
    lines: tuple[Shuttle, ...] = (),
    **policy: object,
) -> Instance:
    pol = Policy(horizon=YEAR, **policy)  # type: ignore[arg-type]
    return Instance(
        "v2",
        pol,
        (Fund("regional", 10**8),),
        tuple(bens),
        tuple(dws),
        flats,
        shuttles=lines,
        format=INSTANCE_FORMAT_V2,
    )


def left_out(inst: Instance, bid: str) -> Unassigned:
    res = solve(inst, SolveParams(time_limit=10))
    assert validate(inst, res) == []
    u = res.unassigned_of(bid)
    assert u is not None, res.assignments
    return u


def test_no_home_free_for_the_whole_stay() -> None:
    b = ben("B1", stay=Span(JAN + 5, JAN + 9))
    summer_only = dwelling("D1", available=Span(JAN + 6, JAN + 8))
    assert left_out(round_of([b], [summer_only]), "B1").reasons == ("unit_not_available",)


def test_a_home_taken_for_part_of_the_stay_is_taken() -> None:
    first = ben("B1", stay=Span(JAN, JAN + 6), priority=5)
    later = ben("B2", stay=Span(JAN + 6, JAN + 11))
    u = left_out(round_of([first, later], [dwelling("D1")]), "B2")
    assert u.reasons == ("units_taken",)
    assert u.details["taken"] == [{"unit": "D1", "by": ["B1"], "weights": [5]}]


def test_seasons_that_do_not_meet_share_the_home() -> None:
    first = ben("B1", stay=Span(JAN, JAN + 5))
    later = ben("B2", stay=Span(JAN + 6, JAN + 11))
    inst = round_of([first, later], [dwelling("D1")])
    res = solve(inst, SolveParams(time_limit=10))
    assert validate(inst, res) == []
    assert [a.unit for a in res.assignments] == ["D1", "D1"]


def test_outside_the_households_areas() -> None:
    b = ben("B1", areas=("071024",))
    assert left_out(round_of([b], [dwelling("D1", area="071051")]), "B1").reasons == (
        "outside_areas",
    )


def test_a_safety_zone_is_the_only_reason_and_is_never_shown() -> None:
    zone = Zone(FOGGIA.lat + 0.001, FOGGIA.lon + 0.0005, 2.5)
    b = ben("B1", avoid=(zone,))
    inst = round_of([b], [dwelling("D1")])
    res = solve(inst, SolveParams(time_limit=10))
    assert validate(inst, res) == []
    u = res.unassigned_of("B1")
    assert u is not None and u.reasons == ("safety",) and dict(u.details) == {}
    text = json.dumps(res.to_dict())
    for secret in (f"{zone.lat}", f"{zone.lon}", "2.5", "radius"):
        assert secret not in text


def test_other_obstacles_are_given_without_the_zone() -> None:
    zone = Zone(FOGGIA.lat + 0.001, FOGGIA.lon + 0.0005, 2.5)
    b = ben("B1", avoid=(zone,), stay=Span(JAN, JAN + 2))
    inst = round_of([b], [dwelling("D1", available=Span(JAN + 6, JAN + 11))])
    u = left_out(inst, "B1")
    assert "safety" not in u.reasons and "unit_not_available" in u.reasons
    assert "safety" not in json.dumps(dict(u.details))


def line(seats: int = 1, running: bool = True, cost: int = 100_000) -> Shuttle:
    return Shuttle(
        "L1",
        (
            Stop("S1", SAN_SEVERO.lat, SAN_SEVERO.lon + 0.003),
            Stop("S2", FOGGIA.lat + 0.003, FOGGIA.lon),
        ),
        seats,
        cost,
        running,
    )


def test_a_line_brings_a_far_home_within_reach() -> None:
    far = ben("B1", work=SAN_SEVERO, reach=5.0)
    inst = round_of([far], [dwelling("D1")], lines=(line(),), walk_km=1.0)
    res = solve(inst, SolveParams(time_limit=10))
    assert validate(inst, res) == []
    (a,) = res.assignments
    assert a.shuttle == "L1" and a.commute_km > 5.0


def test_no_seat_left_on_the_line() -> None:
    one = ben("B1", work=SAN_SEVERO, reach=5.0, priority=5)
    two = ben("B2", work=SAN_SEVERO, reach=5.0)
    inst = round_of(
        [one, two],
        [dwelling("D1"), dwelling("D2", at=Point(41.47, 15.55))],
        lines=(line(seats=1),),
        walk_km=1.5,
    )
    u = left_out(inst, "B2")
    # the first home went to B1; the other is reached only by the full line
    assert sorted(u.reasons) == ["no_seat_on_line", "units_taken"]


def test_a_line_the_budget_cannot_open() -> None:
    far = ben("B1", work=SAN_SEVERO, reach=5.0)
    inst = round_of(
        [far],
        [dwelling("D1")],
        lines=(line(running=False),),
        walk_km=1.0,
        transport_budget_cents=1000,
    )
    assert left_out(inst, "B1").reasons == ("transport_budget_exhausted",)


def test_no_line_within_walking_distance() -> None:
    far = ben("B1", work=Point(41.2654, 15.8993), reach=5.0)  # Cerignola: no stop near
    inst = round_of([far], [dwelling("D1")], lines=(line(),), walk_km=1.0)
    assert left_out(inst, "B1").reasons == ("no_unit_within_commute", "no_line_within_walk")


def test_the_guarantee_has_too_little_left() -> None:
    guaranteed = (Term("agreed", 20_000, guaranteed=True),)
    one = ben("B1", priority=5)
    two = ben("B2")
    inst = round_of(
        [one, two],
        [
            dwelling("D1", terms=guaranteed, rent_cents=0),
            dwelling("D2", terms=guaranteed, rent_cents=0, at=Point(41.47, 15.55)),
        ],
        guarantee=Guarantee(capacity_cents=60_000, months=3),
    )
    # the first home went to B1; the other's guaranteed terms find the guarantee spent
    assert sorted(left_out(inst, "B2").reasons) == ["guarantee_exhausted", "units_taken"]


def test_rooms_chosen_per_stay_keep_genders_apart_month_by_month() -> None:
    woman = Beneficiary(
        "W", 1, 0, "F", 100_000, FOGGIA, 10.0, False, 5, ("bed",), (), stay=Span(JAN, JAN + 5)
    )
    man = Beneficiary(
        "M", 1, 0, "M", 100_000, FOGGIA, 10.0, False, 1, ("bed",), (), stay=Span(JAN + 3, JAN + 8)
    )
    late = Beneficiary(
        "L", 1, 0, "M", 100_000, FOGGIA, 10.0, False, 1, ("bed",), (), stay=Span(JAN + 6, JAN + 11)
    )
    flat = SharedFlat("F1", FOGGIA.lat, FOGGIA.lon + 0.001, 10_000, False, (Room("F1-R1", 2),))
    inst = round_of([woman, man, late], [], flats=(flat,))
    res: Result = solve(inst, SolveParams(time_limit=10))
    assert validate(inst, res) == []
    placed = {a.beneficiary for a in res.assignments}
    # the man overlaps the woman's months: he cannot share her room; the late man can
    assert placed == {"W", "L"}
    u = res.unassigned_of("M")
    assert u is not None and u.reasons == ("rooms_taken_by_other_gender",)


def test_no_safety_zone_reaches_a_log(caplog: pytest.LogCaptureFixture) -> None:
    """Solving, explaining and validating with every log on: the zone is in none."""
    zone = Zone(41.46123, 15.54987, 2.75)
    b = ben("B1", avoid=(zone,))
    inst = round_of([b, ben("B2")], [dwelling("D1"), dwelling("D2", at=Point(41.6, 15.4))])
    with caplog.at_level(logging.DEBUG):
        res = solve(inst, SolveParams(time_limit=10, log=True))
        assert validate(inst, res) == []
    text = caplog.text + json.dumps(res.to_dict())
    for secret in ("41.46123", "15.54987", "2.75"):
        assert secret not in text
