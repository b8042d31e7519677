"""The policy options of the contract: the strict priority mode.

The engine's strict optimum equals enumeration (each priority class's weight maximised in
turn, highest first, then contribution and commute), the independent validator finds no
inversion in it, and refuses a weighted optimum whose left-out household could take a
lower-priority household's unit.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, event, given, note, settings

from matching.audit import audit
from matching.instance import Instance, dumps, instance_to_dict
from matching.params import SolveParams
from matching.solve import solve
from matching.validate import validate
from tests.matching.test_audit import contested
from tests.strategies import exhaustive

SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def strict(inst: Instance) -> Instance:
    return replace(inst, policy=replace(inst.policy, priority_mode="strict"))


@SETTINGS
@given(contested(pressed=True))
def test_strict_optimum_equals_enumeration(inst: Instance) -> None:
    inst = strict(inst)
    note(dumps(instance_to_dict(inst), indent=None))
    res = solve(inst, SolveParams(time_limit=20, seed=0))
    assert validate(inst, res) == []
    best = exhaustive(inst)
    if best is None:
        assert inst.pinned and res.status == "INFEASIBLE"
        return
    assert res.status == "OPTIMAL"
    assert (res.objective.weight, res.objective.contribution_cents, res.objective.commute_m) == (
        best.weight,
        best.contribution_cents,
        best.commute_m,
    )
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
