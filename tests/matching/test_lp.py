"""The LP relaxation bounds each stage, and reduced-cost fixing never drops an optimum."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings

from matching.eligibility import eligible_pairs
from matching.greedy import greedy
from matching.instance import Instance
from matching.model.formulation import Formulation, Solution
from matching.solvers.lp import prunable, solve_lp
from matching.strategies.common import prepare
from matching.validate import validate
from scenarios.synthetic import generate
from tests.strategies import exhaustive, instances

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def build_formulation(inst: Instance) -> Formulation:
    form = prepare(inst).form
    assert form is not None
    return form


def _optimal_columns(inst: Instance) -> tuple[list[int], int] | None:
    """The columns of the exhaustive optimum in the full formulation, and its weight."""
    best = exhaustive(inst)
    if best is None:
        return None
    form = build_formulation(inst)
    index = {
        (int(b), int(u), int(f)): j
        for j, (b, u, f) in enumerate(
            zip(form.columns.beneficiary, form.columns.unit, form.columns.fund, strict=True)
        )
    }
    fund = {f.id: k for k, f in enumerate(inst.funds)}
    cols = [
        index[inst.beneficiary_index[b], inst.unit_index[u], fund[f] if f else -1]
        for b, u, _room, f in best.placements
    ]
    return cols, best.weight


@SETTINGS
@given(instances(max_beneficiaries=5, pins=False))
def test_lp_bounds_the_weight_and_pruning_keeps_the_optimum(inst: Instance) -> None:
    found = _optimal_columns(inst)
    assert found is not None  # without pins, placing nobody is always feasible
    opt_cols, opt_weight = found
    form = build_formulation(inst)
    lp = solve_lp(form, 0)
    assert lp.optimal
    assert math.floor(lp.value + 1e-6) >= opt_weight
    start = greedy(form.space)
    assert start is not None
    chosen = form.lookup(start.columns)
    incumbent = form.value(0, Solution.of(chosen, start.aux))
    drop = prunable(form, 0, lp, incumbent)
    assert not drop[opt_cols].any()


def test_rounding_the_lp_down_is_feasible() -> None:
    inst = generate("S", 2)
    form = build_formulation(inst)
    lp = solve_lp(form, 0)
    chosen = np.flatnonzero(lp.x[: form.n] > 1 - 1e-6)
    x = np.zeros(form.size)
    x[chosen] = 1.0
    x[form.n :] = lp.x[form.n :]  # room counts as the LP set them (continuous)
    activity = form.matrix @ x
    assert np.all(activity <= form.space.hi + 1e-6)
    assert lp.value >= form.value(
        0, Solution.of(chosen, np.zeros(form.space.n_aux, dtype=np.int64))
    )


def test_infeasible_pins_make_the_lp_infeasible() -> None:
    from dataclasses import replace

    from matching.instance import Fund, Pin

    inst = generate("XS", 1)
    pairs = eligible_pairs(inst)
    paid = np.flatnonzero(pairs.contribution_cents > 0)
    b0, b1 = (int(pairs.beneficiary[paid[0]]), int(pairs.beneficiary[paid[-1]]))
    pins = (
        Pin(inst.beneficiaries[b0].id, inst.unit_id(int(pairs.unit[paid[0]]))),
        Pin(inst.beneficiaries[b1].id, inst.unit_id(int(pairs.unit[paid[-1]]))),
    )
    emptied = tuple(replace(f, budget_cents=0) for f in inst.funds)
    broke = inst.replace(pinned=pins, funds=(*emptied, Fund("tiny", 1)))
    assert prepare(broke).conflicts  # the pin checks say so before any solver...
    # ...and the formulation itself, built without them, has no solution either
    from matching.model.formulation import formulate
    from matching.model.rules import declare
    from matching.model.space import Universe

    universe = Universe.of(broke, eligible_pairs(broke))
    lp = solve_lp(formulate(declare(universe), universe.columns()), 0)
    assert lp.infeasible and not lp.optimal


def test_solve_uses_the_lp_and_still_validates() -> None:
    from matching.params import SolveParams
    from matching.solve import solve

    inst = generate("XS", 3)
    res = solve(inst, SolveParams(time_limit=30))
    assert validate(inst, res) == []
    assert res.status == "OPTIMAL"
    first = res.stages[0]
    assert first["lp_bound"] >= res.objective.weight
    assert res.bound_weight == res.objective.weight
