"""Re-solves from an earlier result (``solve(previous=...)``): the same optimum as a fresh
solve after a refusal, and the earlier allocation found again as the start."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from matching.eligibility import eligible_pairs
from matching.greedy import greedy, start_from
from matching.instance import Forbidden, Instance, dumps, instance_to_dict
from matching.model.rules import declare
from matching.model.space import Universe
from matching.params import SolveParams
from matching.result import Result
from matching.solve import solve
from matching.validate import validate
from tests.strategies import instances, instances_v2

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PARAMS = SolveParams(time_limit=20, seed=0)


def _key(res: Result) -> tuple[int, int, int]:
    o = res.objective
    return (o.weight, o.contribution_cents, o.commute_m)


def _refused(inst: Instance, res: Result, k: int) -> Instance:
    """The round after the ``k``-th placed household refused its home."""
    a = res.assignments[k % len(res.assignments)]
    return replace(inst, forbidden=(*inst.forbidden, Forbidden(a.beneficiary, a.unit)))


@SETTINGS
@given(st.one_of(instances(), instances_v2()), st.integers(0, 50))
def test_a_resolve_from_the_earlier_result_finds_the_fresh_optimum(inst: Instance, k: int) -> None:
    note(dumps(instance_to_dict(inst), indent=None))
    first = solve(inst, PARAMS)
    assert validate(inst, first) == []
    assume(first.status == "OPTIMAL" and first.assignments)
    after = _refused(inst, first, k)
    warm = solve(after, PARAMS, previous=first)
    fresh = solve(after, PARAMS)
    assert validate(after, warm) == [] and validate(after, fresh) == []
    assert warm.status == fresh.status
    if fresh.status == "OPTIMAL":
        assert _key(warm) == _key(fresh)


@SETTINGS
@given(st.one_of(instances(), instances_v2()))
def test_the_earlier_allocation_is_the_start(inst: Instance) -> None:
    """On the same round, greedy started from the result's placements weighs what the
    result weighs: every placement maps to an option and fits again."""
    res = solve(inst, PARAMS)
    assert validate(inst, res) == []
    assume(res.status == "OPTIMAL")
    pairs = eligible_pairs(inst)
    start = start_from(inst, pairs, res.assignments)
    assert len(start) == len(res.assignments)
    out = greedy(declare(Universe.of(inst, pairs)), start)
    assert out is not None
    placed = set(out.columns.beneficiary.tolist())
    assert {inst.beneficiary_index[a.beneficiary] for a in res.assignments} <= placed
