"""SCIP as the second engine of a stage, and the exact integer check of its answers."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from matching.eligibility import eligible_pairs
from matching.instance import Instance
from matching.mip import solve_mip
from matching.model.build import Hold, build_formulation, satisfies
from tests.strategies import exhaustive, instances


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_beneficiaries=5))
def test_scip_stage_one_equals_enumeration(inst: Instance) -> None:
    form = build_formulation(inst, eligible_pairs(inst))
    out = solve_mip(form, 0, (), time_limit=20)
    best = exhaustive(inst)
    if best is None:
        assert out.status == "INFEASIBLE"
        return
    assert out.status == "OPTIMAL"
    assert satisfies(form, out.chosen, out.rooms)
    assert form.value(0, out.chosen) == best.weight


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_beneficiaries=5, pins=False))
def test_scip_respects_holds_and_satisfies_rejects_what_breaks_them(inst: Instance) -> None:
    best = exhaustive(inst)
    assert best is not None
    form = build_formulation(inst, eligible_pairs(inst))
    holds = [Hold(0, "==", best.weight)]
    out = solve_mip(form, 1, holds, time_limit=20)
    assert out.status == "OPTIMAL"
    assert satisfies(form, out.chosen, out.rooms, holds)
    assert form.value(1, out.chosen) == best.contribution_cents
    if best.weight > 0:
        assert not satisfies(form, out.chosen, out.rooms, [Hold(0, "==", best.weight + 1)])


def test_satisfies_rejects_a_dwelling_given_twice() -> None:
    from scenarios.synthetic import generate

    inst = generate("XS", 1)
    form = build_formulation(inst, eligible_pairs(inst))
    nd = len(inst.dwellings)
    cols = max((c for u, c in form.vars.by_unit.items() if u < nd), key=len)
    assert len({int(form.columns.beneficiary[j]) for j in cols}) >= 2
    two = [cols[0], next(j for j in cols
                         if form.columns.beneficiary[j] != form.columns.beneficiary[cols[0]])]
    assert satisfies(form, two[:1], {})
    assert not satisfies(form, two, {})
