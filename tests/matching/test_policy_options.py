"""The policy options of the contract: the strict priority mode.

The engine's strict optimum equals enumeration (each priority class's weight maximised in
turn, highest first, then contribution and commute), the independent validator finds no
inversion in it, and refuses a weighted optimum whose left-out household could take a
lower-priority household's unit.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from matching.audit import audit
from matching.instance import GroupFloor, Instance, dumps, instance_from_dict, instance_to_dict
from matching.params import SolveParams
from matching.result import Result
from matching.solve import solve
from matching.validate import validate
from tests.matching.test_audit import contested
from tests.strategies import exhaustive

SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def solved_as_enumerated(inst: Instance) -> Result | None:
    """The engine's result, valid and equal to enumeration on all three objectives (None
    when pins leave the round without an allocation, as enumeration also finds)."""
    note(dumps(instance_to_dict(inst), indent=None))
    res = solve(inst, SolveParams(time_limit=20, seed=0))
    assert validate(inst, res) == []
    best = exhaustive(inst)
    if best is None:
        assert inst.pinned and res.status == "INFEASIBLE"
        return None
    assert res.status == "OPTIMAL"
    assert (res.objective.weight, res.objective.contribution_cents, res.objective.commute_m) == (
        best.weight,
        best.contribution_cents,
        best.commute_m,
    )
    return res


def strict(inst: Instance) -> Instance:
    return replace(inst, policy=replace(inst.policy, priority_mode="strict"))


@SETTINGS
@given(contested(pressed=True))
def test_strict_optimum_equals_enumeration(inst: Instance) -> None:
    inst = strict(inst)
    res = solved_as_enumerated(inst)
    if res is None:
        return
    assert res.bound_weight == res.objective.weight
    # no household left out for one of lower priority, unless a rule stops the swap
    for x in audit(inst, res, examine=0).inversions:
        if x.left_unit is None:
            event(f"left out: {x.why}")
            assert x.why not in ("improves", "tie") and not x.why.startswith("weight"), x


@SETTINGS
@given(contested(pressed=True))
def test_the_validator_refuses_an_inversion_in_the_strict_mode(inst: Instance) -> None:
    res = solve(inst, SolveParams(time_limit=20, seed=0))
    assert validate(inst, res) == []
    swappable = [
        x
        for x in audit(inst, res, examine=0).inversions
        if x.left_unit is None and x.why in ("weight", "tie", "contribution_cents", "commute_m")
    ]
    codes = {v.code for v in validate(strict(inst), res)}
    event("swappable" if swappable else "none")
    # the weighted optimum is a strict one exactly when no left-out household could swap
    assert ("priority_inversion" in codes) == bool(swappable), (swappable, codes)


def test_the_mode_is_read_written_and_off_by_default() -> None:
    from matching.instance import InstanceError, instance_from_dict

    data = {
        "format": "housing-match/instance@1",
        "name": "x",
        "policy": {
            "affordability_ratio": 0.3,
            "max_contribution_cents": 30000,
            "contribution_months": 12,
            "circuity": 1.3,
            "objective_unit": "persons",
        },
        "funds": [],
        "beneficiaries": [],
        "dwellings": [],
        "shared_flats": [],
    }
    assert instance_from_dict(data).policy.priority_mode == "weighted"
    assert "priority_mode" not in instance_to_dict(instance_from_dict(data))["policy"]
    data["policy"]["priority_mode"] = "strict"
    inst = instance_from_dict(data)
    assert inst.policy.priority_mode == "strict"
    assert instance_to_dict(inst)["policy"]["priority_mode"] == "strict"
    data["policy"]["priority_mode"] = "lottery"
    try:
        instance_from_dict(data)
    except InstanceError as e:
        assert "priority_mode" in str(e) and "weighted, strict" in str(e)
    else:
        raise AssertionError("an unknown mode was accepted")


def one_home_two_claims() -> Instance:
    """A single woman at priority 8 and a family of five at priority 2 who both fit the one
    dwelling: persons x priority prefers the family (10 > 8), strict priority the woman."""
    from matching.instance import instance_from_dict

    person = {
        "minors": 0,
        "income_cents": 0,
        "work": {"lat": 41.4622, "lon": 15.5446},
        "max_commute_km": 30.0,
        "needs_step_free": False,
        "accepts": ["dwelling"],
    }
    return instance_from_dict(
        {
            "format": "housing-match/instance@1",
            "name": "one-home-two-claims",
            "policy": {
                "affordability_ratio": 0.3,
                "max_contribution_cents": 60000,
                "contribution_months": 12,
                "circuity": 1.3,
                "objective_unit": "persons",
            },
            "funds": [{"id": "regional", "budget_cents": 10_000_000, "eligible_tags": []}],
            "beneficiaries": [
                {**person, "id": "SINGLE", "adults": 1, "gender": "F", "priority": 8},
                {**person, "id": "FAMILY", "adults": 2, "minors": 3, "gender": "M", "priority": 2},
            ],
            "dwellings": [
                {
                    "id": "D1",
                    "lat": 41.4584,
                    "lon": 15.5519,
                    "area_m2": 95,
                    "bedrooms": 3,
                    "rent_cents": 50_000,
                    "step_free": False,
                    "max_occupants": None,
                    "children_ok": True,
                }
            ],
            "shared_flats": [],
        }
    )


def test_the_weighted_optimum_is_refused_as_a_strict_one_and_the_strict_one_houses_the_single() -> (
    None
):
    inst = one_home_two_claims()
    weighted = solve(inst, SolveParams(time_limit=20, seed=0))
    assert validate(inst, weighted) == []
    assert [a.beneficiary for a in weighted.assignments] == ["FAMILY"]
    (v,) = validate(strict(inst), weighted)
    assert (v.code, v.beneficiary, v.unit) == ("priority_inversion", "SINGLE", "D1")
    assert "FAMILY" in v.message
    res = solve(strict(inst), SolveParams(time_limit=20, seed=0))
    assert validate(strict(inst), res) == []
    assert res.status == "OPTIMAL"
    assert [a.beneficiary for a in res.assignments] == ["SINGLE"]
    assert (res.objective.weight, res.bound_weight) == (8, 8)


# -- group floors -----------------------------------------------------------------------

GROUPS = (
    "gender:F",
    "gender:M",
    "household:single_adult",
    "household:family_with_minors",
    "tag:exploitation_victim",
)


@st.composite
def floored(draw: st.DrawFn) -> Instance:
    """A contested round with one or two group floors."""
    inst = draw(contested(pressed=True))
    groups = draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=2, unique=True))
    floors = tuple(
        GroupFloor(g, draw(st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal("1")])))
        for g in groups
    )
    return replace(inst, policy=replace(inst.policy, group_floors=floors))


@SETTINGS
@given(floored())
def test_floored_optimum_equals_enumeration(inst: Instance) -> None:
    res = solved_as_enumerated(inst)
    if res is None:
        return
    unfloored = solve(unfloored_inst(inst), SolveParams())
    assert validate(unfloored_inst(inst), unfloored) == []
    o, u = res.objective, unfloored.objective
    better = (-u.weight, u.contribution_cents, u.commute_m) < (
        -o.weight,
        o.contribution_cents,
        o.commute_m,
    )
    event("floor binds" if better else "free")
    # an allocation better than the floored optimum must break a floor: the validator says so
    if better:
        assert "group_floor_unmet" in {v.code for v in validate(inst, unfloored)}
        assert "unmet" in {f.met for f in audit(inst, unfloored, examine=0).floors}
    # the audit's swaps keep the floors (none it says improves the optimum), and it says
    # how each floor is met
    found = audit(inst, res, examine=0)
    assert all(x.why != "improves" for x in found.inversions)
    assert [f.group for f in found.floors] == [f.group for f in inst.policy.group_floors]
    assert "unmet" not in {f.met for f in found.floors}
    assert [f["met"] for f in found.to_dict()["floors"]] == [f.met for f in found.floors]


def test_floors_are_read_written_and_refused_when_malformed() -> None:
    from matching.instance import InstanceError, instance_from_dict

    data = instance_to_dict(one_home_two_claims())
    data["policy"]["group_floors"] = [{"group": "tag:exploitation_victim", "share": 0.25}]
    inst = instance_from_dict(data)
    assert inst.policy.group_floors == (GroupFloor("tag:exploitation_victim", Decimal("0.25")),)
    assert instance_from_dict(instance_to_dict(inst)) == inst
    for bad, field, words in (
        ({"group": "nationality:MA", "share": 0.2}, "group", "gender, household, tag"),
        ({"group": "gender:Q", "share": 0.2}, "group", "F, M, X"),
        ({"group": "household:crew", "share": 0.2}, "group", "single_adult"),
        ({"group": "gender:F", "share": 0}, "share", "greater than 0"),
        ({"group": "gender:F", "share": 1.5}, "share", "between 0 and 1"),
        ({"group": "gender:F", "share": 0.123456}, "share", "4 decimals"),
        ({"group": "gender:F"}, "share", "required"),
    ):
        data["policy"]["group_floors"] = [bad]
        try:
            instance_from_dict(data)
        except InstanceError as e:
            (err,) = e.errors
            assert err.field == f"group_floors[0].{field}" and words in err.message, err
        else:
            raise AssertionError(f"accepted {bad}")
    data["policy"]["group_floors"] = [
        {"group": "gender:F", "share": 0.2},
        {"group": "gender:F", "share": 0.3},
    ]
    try:
        instance_from_dict(data)
    except InstanceError as e:
        assert "has a floor already" in str(e)
    else:
        raise AssertionError("a group with two floors was accepted")


def test_a_floor_keeps_a_place_for_the_group() -> None:
    """One home, a single woman at priority 8, a family at priority 2 (which the weights
    prefer, 10 against 8): a floor reserving every placement for single adults houses the
    woman, and the audit says the floor is met by its share."""
    inst = one_home_two_claims()
    inst = replace(
        inst,
        policy=replace(
            inst.policy, group_floors=(GroupFloor("household:single_adult", Decimal("1")),)
        ),
    )
    res = solve(inst, SolveParams(time_limit=20, seed=0))
    assert validate(inst, res) == []
    assert [a.beneficiary for a in res.assignments] == ["SINGLE"]
    (floor,) = audit(inst, res).floors
    assert (floor.placed_in_group, floor.placed, floor.met) == (1, 1, "share")


def unfloored_inst(inst: Instance) -> Instance:
    return replace(inst, policy=replace(inst.policy, group_floors=()))


FLOOR_ALL_FROM_THE_LP = json.loads(
    '{"format":"housing-match/instance@1","name":"hypothesis","policy":{"affordability_ratio"'
    ':0.3,"max_contribution_cents":30000,"contribution_months":1,"circuity":1.0,"objective_un'
    'it":"persons","group_floors":[{"group":"gender:F","share":1.0}]},"funds":[{"id":"fund0",'
    '"budget_cents":3000,"eligible_tags":[]},{"id":"fund1","budget_cents":8000,"eligible_tags'
    '":["victim"]}],"beneficiaries":[{"id":"B0","adults":1,"minors":0,"gender":"F","income_ce'
    'nts":50000,"work":{"lat":41.5,"lon":15.5},"max_commute_km":25,"needs_step_free":false,"p'
    'riority":1,"accepts":["dwelling","bed"],"tags":[]},{"id":"B1","adults":1,"minors":0,"gen'
    'der":"M","income_cents":60004,"work":{"lat":41.5,"lon":15.5},"max_commute_km":25,"needs_'
    'step_free":false,"priority":3,"accepts":["dwelling","bed"],"tags":[]},{"id":"B2","adults'
    '":1,"minors":0,"gender":"F","income_cents":50000,"work":{"lat":41.5,"lon":15.5},"max_com'
    'mute_km":25,"needs_step_free":false,"priority":1,"accepts":["dwelling","bed"],"tags":[]}'
    ',{"id":"B3","adults":1,"minors":0,"gender":"F","income_cents":50004,"work":{"lat":41.5,"'
    'lon":15.5},"max_commute_km":25,"needs_step_free":false,"priority":1,"accepts":["dwelling'
    '","bed"],"tags":[]},{"id":"B4","adults":1,"minors":0,"gender":"F","income_cents":50000,"'
    'work":{"lat":41.5,"lon":15.5},"max_commute_km":25,"needs_step_free":false,"priority":1,"'
    'accepts":["dwelling","bed"],"tags":["victim"]}],"dwellings":[{"id":"D0","lat":41.5,"lon"'
    ':15.5,"area_m2":27,"bedrooms":1,"rent_cents":18002,"step_free":false,"max_occupants":nul'
    'l,"children_ok":true}],"shared_flats":[{"id":"F0","lat":41.5,"lon":15.5,"rent_per_bed_ce'
    'nts":18001,"step_free":false,"rooms":[{"id":"F0-R0","beds":2}]}],"pinned":[],"forbidden"'
    ":[]}"
)


def test_a_floor_waived_by_the_lp_is_not_waived_for_greedy() -> None:
    """The LP may place the whole group fractionally and set the floor's "all placed";
    greedy rounding from it must not start with the floor waived: here it placed the
    man alone (weight 3) while the women's share is 1, and the search kept that
    incumbent. The optimum places the two women who may be placed (weight 2)."""
    inst = instance_from_dict(FLOOR_ALL_FROM_THE_LP)
    res = solve(inst, SolveParams(time_limit=20, seed=0))
    assert validate(inst, res) == []
    best = exhaustive(inst)
    assert best is not None and res.status == "OPTIMAL"
    assert (res.objective.weight, res.objective.contribution_cents) == (
        best.weight,
        best.contribution_cents,
    )
    assert res.objective.weight == 2
    assert {a.beneficiary for a in res.assignments} == {"B3", "B4"}
