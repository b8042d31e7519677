"""instance@2: the engine's optimum equals exhaustive enumeration on small random rounds
with seasons, terms, a guarantee, a shuttle line, safety zones and areas."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings

from matching.greedy import solve_greedy
from matching.instance import Instance
from matching.params import SolveParams
from matching.solve import solve
from matching.validate import validate
from tests.strategies import exhaustive_v2, instances_v2

SETTINGS = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@SETTINGS
@given(
    instances_v2(max_beneficiaries=5)
    | instances_v2(line=True)
    | instances_v2(max_beneficiaries=5, crowded=True)
)
def test_v2_optimum_equals_enumeration(inst: Instance) -> None:
    res = solve(inst, SolveParams(time_limit=20, seed=0))
    assert validate(inst, res) == []
    best = exhaustive_v2(inst)
    event("infeasible" if best is None else f"{len(res.assignments)} placed")
    if any(a.shuttle for a in res.assignments):
        event("a placement rides a line")
    if any(a.term for a in res.assignments):
        event("a placement on terms")
    units = [a.unit for a in res.assignments if a.room is None]
    rooms = [(a.unit, a.room) for a in res.assignments if a.room is not None]
    if len(set(units)) < len(units) or len(set(rooms)) < len(rooms):
        event("a home or room used in turn")
    if best is None:
        assert inst.pinned
        assert res.status == "INFEASIBLE"
        return
    assert res.status == "OPTIMAL", res.stages
    assert res.objective.weight == best.weight
    assert res.bound_weight == best.weight
    assert res.objective.money_cents == best.money_cents
    assert res.objective.commute_m == best.commute_m


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances_v2(pins=False))
def test_v2_greedy_is_valid_and_never_beats_the_optimum(inst: Instance) -> None:
    greedy = solve_greedy(inst)
    assert validate(inst, greedy) == []
    best = exhaustive_v2(inst)
    assert best is not None
    assert greedy.objective.weight <= best.weight


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(instances_v2(line=True) | instances_v2(crowded=True))
def test_v2_priced_and_decomposed_solves_are_valid_and_bounded(inst: Instance) -> None:
    from matching.params import DecomposeParams, PricingParams

    best = exhaustive_v2(inst)
    for params in (
        SolveParams(time_limit=10, pricing=PricingParams(min_pairs=0)),
        SolveParams(time_limit=10, decompose=DecomposeParams(min_cells=1, part_pairs=4)),
    ):
        res = solve(inst, params)
        assert validate(inst, res) == []
        if best is None:
            assert res.status == "INFEASIBLE"
            continue
        assert res.bound_weight is not None
        assert res.objective.weight <= best.weight <= res.bound_weight
