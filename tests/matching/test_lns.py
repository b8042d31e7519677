"""The large neighbourhood search of a stage (:func:`matching.stage.search_large_neighbourhoods`):
it only ever replaces the incumbent by a better allocation that meets every rule, and a
round solved with it on every stage reaches the same optimum as without it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import matching.stage as stage
from matching.budget import Budget
from matching.eligibility import eligible_pairs
from matching.greedy import greedy
from matching.model.formulation import Solution
from matching.params import SolveParams, StageParams
from matching.solve import solve
from matching.strategies.common import prepare
from matching.validate import validate
from scenarios.synthetic import generate

#: the search on every model, however small, in small neighbourhoods
EVERYWHERE = StageParams(rins_min_columns=0, lns_units=6, lns_unplaced=20, lns_share=1.0)


def _state(seed: int, params: SolveParams) -> stage.StageState:
    inst = generate("S", seed)
    form = prepare(inst, eligible_pairs(inst)).form
    assert form is not None
    start = greedy(form.space, ())
    assert start is not None
    inc = Solution.of(form.lookup(start.columns), start.aux)
    s = stage.StageState(
        form=form,
        term=0,
        holds=(),
        incumbent=inc,
        budget=Budget.start(params.time_limit),
        params=params,
        progress=None,
        report=stage.StageReport(name="weight"),
    )
    stage.relax(s)
    return s


@pytest.mark.parametrize("seed", [1, 2])
def test_neighbourhoods_improve_greedy_within_the_rules(seed: int) -> None:
    s = _state(seed, SolveParams(time_limit=6.0, stage=EVERYWHERE))
    before = s.value()
    assert before is not None and s.lp_limit is not None and before < s.lp_limit
    stage.search_large_neighbourhoods(s)
    after = s.value()
    assert s.report.neighbourhoods > 0 and s.report.improved_by_neighbourhoods > 0
    assert after is not None and before < after <= s.lp_limit
    assert s.incumbent is not None and s.form.satisfies(s.incumbent)
    placed = s.form.columns.beneficiary[s.incumbent.chosen]
    assert len(np.unique(placed)) == len(placed)  # one placement per household


def test_the_search_stops_at_the_lp_bound() -> None:
    s = _state(3, SolveParams(time_limit=30.0, stage=EVERYWHERE))
    stage.search_large_neighbourhoods(s)
    if s.value() == s.lp_limit:  # met: proven by the LP, and no neighbourhood after it
        assert s.report.status == "OPTIMAL" and s.report.proven_by_lp
        n = s.report.neighbourhoods
        stage.search_large_neighbourhoods(s)
        assert s.report.neighbourhoods == n
    else:
        assert s.report.status == "UNKNOWN"


@pytest.mark.parametrize(("seed", "variant"), [(1, "plain"), (3, "full")])
def test_a_round_searched_by_neighbourhoods_reaches_the_same_optimum(
    seed: int, variant: str
) -> None:
    inst = generate("XS", seed, variant)
    plain = solve(inst, SolveParams(time_limit=60))
    lns = solve(inst, SolveParams(time_limit=60, stage=replace(EVERYWHERE, lns_share=0.2)))
    for res in (plain, lns):
        assert validate(inst, res) == []
        assert res.status == "OPTIMAL"
    assert lns.objective == plain.objective
    # every stage the LP did not settle went through the neighbourhoods
    assert all(st["neighbourhoods"] > 0 for st in lns.stages if not st["proven_by_lp"])


@pytest.mark.parametrize(
    ("field", "value"),
    [("lns_share", 0.0), ("lns_units", 0), ("lns_unplaced", 0), ("lns_round_dtime", 0.0)],
)
def test_lns_params_check_themselves(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        StageParams(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [2, 9])
def test_a_small_weight_stage_searches_around_the_lp_first(seed: int) -> None:
    # S models (about 4,000 columns) are below rins_min_columns: only the weight stage
    # (rins_small_terms) searches there, briefly (rins_small_dtime)
    s = _state(seed, SolveParams(time_limit=20.0))
    assert s.form.n < s.params.stage.rins_min_columns
    before = s.value()
    assert before is not None and s.lp_limit is not None and before < s.lp_limit
    stage.search_neighbourhood(s)
    after = s.value()
    assert s.cpsat is not None  # it searched
    assert after is not None and before < after <= s.lp_limit
    assert s.incumbent is not None and s.form.satisfies(s.incumbent)


def test_a_small_stage_not_named_does_not_search_around_the_lp() -> None:
    s = _state(2, SolveParams(time_limit=20.0, stage=StageParams(rins_small_terms=())))
    before = s.incumbent
    stage.search_neighbourhood(s)
    assert s.cpsat is None and s.incumbent is before


def test_a_round_searched_around_the_lp_on_small_stages_reaches_the_same_optimum() -> None:
    inst = generate("XS", 2)
    on = solve(inst, SolveParams(time_limit=60, stage=StageParams(rins_small_terms=(0, 1, 2))))
    off = solve(inst, SolveParams(time_limit=60, stage=StageParams(rins_small_terms=())))
    for res in (on, off):
        assert validate(inst, res) == []
        assert res.status == "OPTIMAL"
    assert on.objective == off.objective


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rins_small_dtime", 0.0),
        ("cpsat_first_dtime_weight", -1.0),
        ("rins_small_terms", (3,)),
        ("mip_first_terms", (0, 5)),
        ("mip_solver", "gurobi"),
    ],
)
def test_small_search_params_check_themselves(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        StageParams(**{field: value})  # type: ignore[arg-type]
