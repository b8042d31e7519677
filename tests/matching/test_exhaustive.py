"""The engine's optimum equals exhaustive enumeration on small random instances."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings

from matching.instance import Instance
from matching.params import SolveParams
from matching.solve import solve
from matching.validate import validate
from tests.strategies import exhaustive, instances

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances(max_beneficiaries=5))
def test_optimum_equals_enumeration(inst: Instance) -> None:
    res = solve(inst, SolveParams(time_limit=20, seed=0))
    assert validate(inst, res) == []
    best = exhaustive(inst)
    event("infeasible" if best is None else f"{len(best.placements)} placed")
    if best is None:
        # only the pinned placement can make a round infeasible
        assert inst.pinned
        assert res.status == "INFEASIBLE"
        return
    assert res.status == "OPTIMAL"
    assert res.objective.weight == best.weight
    assert res.bound_weight == best.weight
    assert res.objective.contribution_cents == best.contribution_cents
    # objective 3 is the contract's sum of whole metres: equal exactly
    assert res.objective.commute_m == best.commute_m


@SETTINGS
@given(instances(pins=False))
def test_greedy_is_valid_and_never_beats_the_optimum(inst: Instance) -> None:
    from matching.greedy import solve_greedy

    greedy = solve_greedy(inst)
    assert validate(inst, greedy) == []
    best = exhaustive(inst)
    assert best is not None
    assert greedy.objective.weight <= best.weight
