"""The HiGHS direct MIP (an independent peer of the benchmark) agrees with ``solve``."""

from __future__ import annotations

from dataclasses import replace
from importlib.util import find_spec

import pytest

from benchmarks.highs_direct import ENGINE, solve_highs_direct
from matching.instance import (
    Beneficiary,
    Dwelling,
    Fund,
    Instance,
    Pin,
    Point,
    Policy,
    Room,
    SharedFlat,
)
from matching.params import SolveParams
from matching.result import Result
from matching.solve import solve
from matching.validate import validate
from scenarios.synthetic import generate

FOGGIA = Point(41.4622, 15.5446)
LIMIT = 20.0


def person(i: int, gender: str = "M", **kw: object) -> Beneficiary:
    b = Beneficiary(
        id=f"B{i}",
        adults=1,
        minors=0,
        gender=gender,  # type: ignore[arg-type]
        income_cents=60000,
        work=FOGGIA,
        max_commute_km=15.0,
        priority=2,
    )
    return replace(b, **kw)  # type: ignore[arg-type]


def flat(rooms: tuple[int, ...], fid: str = "F1") -> SharedFlat:
    return SharedFlat(
        id=fid,
        lat=41.47,
        lon=15.55,
        rent_per_bed_cents=15000,
        rooms=tuple(Room(f"{fid}-R{k}", n) for k, n in enumerate(rooms)),
    )


def dwelling(did: str = "D1", **kw: object) -> Dwelling:
    d = Dwelling(id=did, lat=41.465, lon=15.548, area_m2=60, bedrooms=2, rent_cents=40000)
    return replace(d, **kw)  # type: ignore[arg-type]


def round_of(
    bens: tuple[Beneficiary, ...],
    dws: tuple[Dwelling, ...] = (),
    flats: tuple[SharedFlat, ...] = (),
    funds: tuple[Fund, ...] | None = None,
    pinned: tuple[Pin, ...] = (),
    cap: int | None = None,
) -> Instance:
    policy = Policy() if cap is None else replace(Policy(), max_contribution_cents=cap)
    return Instance(
        name="t",
        policy=policy,
        beneficiaries=bens,
        dwellings=dws,
        shared_flats=flats,
        pinned=pinned,
        funds=(Fund("regional", 100_000_000),) if funds is None else funds,
    )


def gender_mix() -> Instance:
    bens = (person(1, "F"), person(2, "F"), person(3, "M"), person(4, "M", priority=5))
    return round_of(bens, flats=(flat((2, 1)),))


def knapsack() -> Instance:
    bens = (
        person(1, income_cents=0, tags=("v",)),
        person(2, income_cents=0, tags=("v",)),
        person(3, income_cents=0),
    )
    funds = (Fund("general", 12 * 40000), Fund("victims", 12 * 40000, ("v",)))
    return round_of(
        bens, dws=(dwelling("D1"), dwelling("D2"), dwelling("D3")), funds=funds, cap=40000
    )


def pinned_room() -> Instance:
    bens = (person(1, "F"), person(2, "M"), person(3, "M", priority=1), person(4, "F"))
    near = dwelling("NEAR", lat=41.4625, lon=15.5450, rent_cents=40000)
    far = dwelling("FAR", lat=41.52, lon=15.60, rent_cents=20000)
    return round_of(
        bens, dws=(near, far), flats=(flat((1, 1)),), pinned=(Pin("B2", "F1", "F1-R0"),)
    )


def peer(inst: Instance) -> Result:
    res = solve_highs_direct(inst, LIMIT)
    assert validate(inst, res) == []
    assert res.engine["name"] == ENGINE and res.engine["highspy"]
    return res


def agrees(inst: Instance) -> Result:
    mine = peer(inst)
    ref = solve(inst, SolveParams(time_limit=LIMIT))
    assert ref.status == "OPTIMAL"
    assert mine.status == "OPTIMAL", mine.stages
    assert mine.objective.weight == ref.objective.weight
    assert mine.bound_weight == mine.objective.weight
    assert mine.objective.contribution_cents == ref.objective.contribution_cents
    assert mine.objective.commute_m == ref.objective.commute_m
    assert len(mine.stages) == 3 and all(s["proven"] for s in mine.stages)
    return mine


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_synthetic_xs_matches_solve(seed: int) -> None:
    agrees(generate("XS", seed))


@pytest.mark.parametrize("make", [gender_mix, knapsack, pinned_room])
def test_hand_made_rounds_match_solve(make: object) -> None:
    res = agrees(make())  # type: ignore[operator]
    assert res.unassigned or res.assignments


def test_pinned_room_is_kept() -> None:
    res = peer(pinned_room())
    assert res.assignment_of("B2").room == "F1-R0"  # type: ignore[union-attr]


def test_pins_that_break_a_rule_are_infeasible() -> None:
    inst = round_of(
        (person(1), person(2)), dws=(dwelling(),), pinned=(Pin("B1", "D1"), Pin("B2", "D1"))
    )
    res = peer(inst)
    assert res.status == "INFEASIBLE" and not res.assignments


def test_weight_only_is_feasible_not_optimal() -> None:
    inst = generate("XS", 1)
    res = solve_highs_direct(inst, LIMIT, stages=1)
    assert validate(inst, res) == []
    assert res.status == "FEASIBLE" and len(res.stages) == 1
    assert res.bound_weight == res.objective.weight


def test_highspy_is_installed_but_never_imported_here() -> None:
    # highspy is a dependency (the benchmark's peer). Tests only look it up: highspy and
    # OR-Tools clash in one process (both ship HiGHS), so importing it here would break
    # every later OR-Tools import of the run; the peer runs it in a child process.
    assert find_spec("highspy") is not None


def test_a_worker_that_overruns_gives_an_unknown_result_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import subprocess

    import benchmarks.highs_direct as hd

    def stuck(problem: object, timeout: float) -> dict[str, object]:
        raise subprocess.TimeoutExpired(cmd="highs worker", timeout=timeout)

    monkeypatch.setattr(hd, "_run_worker", stuck)
    inst = generate("XS", 1)
    res = solve_highs_direct(inst, 5)
    assert validate(inst, res) == []
    assert res.status == "UNKNOWN" and not res.assignments
    assert {u.reasons for u in res.unassigned} == {("no_solution_in_time",)}
    assert res.bound_weight is not None and res.bound_weight > 0
