"""The MIP solvers (HiGHS, SCIP) as a stage's other engine, and the exact integer check of
their answers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from matching.instance import Instance
from matching.model.formulation import Formulation, Hold, Solution
from matching.solvers.mip import one_sided, solve_mip
from matching.strategies.common import prepare
from tests.strategies import exhaustive, instances


def build_formulation(inst: Instance) -> Formulation | None:
    return prepare(inst).form


@pytest.mark.parametrize("solver", ["highs", "scip"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_beneficiaries=5))
def test_mip_stage_one_equals_enumeration(solver: str, inst: Instance) -> None:
    form = build_formulation(inst)
    best = exhaustive(inst)
    if form is None:  # the pins break a rule
        assert best is None
        return
    out = solve_mip(form, 0, (), time_limit=20, solver_name=solver)
    if best is None:
        assert out.status == "INFEASIBLE"
        return
    assert out.status == "OPTIMAL" and out.solution is not None
    assert form.satisfies(out.solution)
    assert form.value(0, out.solution) == best.weight


@pytest.mark.parametrize("solver", ["highs", "scip"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_beneficiaries=5, pins=False))
def test_mip_respects_holds_and_satisfies_rejects_what_breaks_them(
    solver: str, inst: Instance
) -> None:
    best = exhaustive(inst)
    assert best is not None
    form = build_formulation(inst)
    assert form is not None
    holds = [Hold(0, "==", best.weight)]
    out = solve_mip(form, 1, holds, time_limit=20, solver_name=solver)
    assert out.status == "OPTIMAL" and out.solution is not None
    assert form.satisfies(out.solution, holds)
    assert form.value(1, out.solution) == best.contribution_cents
    if best.weight > 0:
        assert not form.satisfies(out.solution, [Hold(0, "==", best.weight + 1)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_beneficiaries=5, pins=False))
def test_the_commute_stage_meets_both_holds_exactly(inst: Instance) -> None:
    """The MIP holds a proven term on one side only (``one_sided``): its answer still
    meets both held values exactly and is the enumerated lexicographic optimum."""
    best = exhaustive(inst)
    assert best is not None
    form = build_formulation(inst)
    assert form is not None
    holds = [Hold(0, "==", best.weight), Hold(1, "==", best.contribution_cents)]
    assert [one_sided(form, h).sense for h in holds] == [">=", "<="]
    out = solve_mip(form, 2, holds, time_limit=20)
    assert out.status == "OPTIMAL" and out.solution is not None
    assert form.satisfies(out.solution, holds)
    assert form.value(2, out.solution) == best.commute_m


def test_a_hold_not_proven_keeps_its_side() -> None:
    from scenarios.synthetic import generate

    form = build_formulation(generate("XS", 1))
    assert form is not None
    for sense in (">=", "<="):
        h = Hold(0, sense, 7)  # type: ignore[arg-type]
        assert one_sided(form, h) is h


def test_satisfies_rejects_a_dwelling_given_twice() -> None:
    import numpy as np

    from scenarios.synthetic import generate

    inst = generate("XS", 1)
    form = build_formulation(inst)
    assert form is not None
    nd = len(inst.dwellings)
    units, counts = np.unique(form.columns.unit[form.columns.unit < nd], return_counts=True)
    cols = np.flatnonzero(form.columns.unit == units[np.argmax(counts)]).tolist()
    assert len({int(form.columns.beneficiary[j]) for j in cols}) >= 2
    two = [
        cols[0],
        next(j for j in cols if form.columns.beneficiary[j] != form.columns.beneficiary[cols[0]]),
    ]
    no_rooms = np.zeros(form.space.n_aux, dtype=np.int64)
    assert form.satisfies(Solution.of(two[:1], no_rooms))
    assert not form.satisfies(Solution.of(two, no_rooms))
