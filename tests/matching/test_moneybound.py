"""The money-aware bounds: every one of them at least the optimum, on enumerated rounds,
and tight where the money binds (budgets cut to a fifth).

``least_costs_by_cells`` (the XL bound's costs, from a grid) never exceeds the least
cost of the listed pairs; the knapsack's Lagrangian is valid at any fund prices; the
priced engine's bound, once the money binds, searches the fund prices of the matching
bound and comes within a few households of the optimum.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.eligibility import eligible_pairs
from matching.instance import Instance
from matching.model.payers import FundTable
from matching.model.space import Universe
from matching.moneybound import (
    knapsack_bound,
    lagrangian,
    least_costs,
    least_costs_by_cells,
    money_bound,
)
from matching.params import PricingParams, SolveParams
from matching.solve import solve
from matching.validate import validate
from scenarios.synthetic import generate
from tests.strategies import exhaustive, exhaustive_v2, instances, instances_v2

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def cut(inst: Instance, factor: float) -> Instance:
    """The round with every fund's budget multiplied by ``factor``."""
    return inst.replace(
        funds=tuple(
            dataclasses.replace(f, budget_cents=int(f.budget_cents * factor)) for f in inst.funds
        )
    )


def _least(inst: Instance) -> np.ndarray:
    pairs = eligible_pairs(inst)
    return least_costs(inst, pairs, Universe.of(inst, pairs).one_off)


@SETTINGS
@given(instances(max_beneficiaries=6, max_dwellings=3, max_flats=2), st.sampled_from([1.0, 0.3]))
def test_the_knapsack_bounds_the_optimum(inst: Instance, factor: float) -> None:
    inst = cut(inst, factor)
    best = exhaustive(inst)
    exact = _least(inst)
    cells = least_costs_by_cells(inst)
    has = exact >= 0
    # the grid's costs are lower bounds of the listed ones, and find every household
    # that has an option
    assert np.all(cells[has] >= 0)
    assert np.all(cells[has] <= exact[has])
    if best is None:  # the pins make it infeasible: nothing to bound
        return
    assert money_bound(inst, exact).bound >= best.weight - 1e-9
    assert money_bound(inst, cells).bound >= best.weight - 1e-9


@SETTINGS
@given(instances_v2(max_beneficiaries=4))
def test_the_grid_costs_hold_for_terms_seasons_and_lines(inst: Instance) -> None:
    exact = _least(inst)
    cells = least_costs_by_cells(inst)
    has = exact >= 0
    assert np.all(cells[has] >= 0) and np.all(cells[has] <= exact[has])
    best = exhaustive_v2(inst)
    if best is not None:
        assert money_bound(inst, cells).bound >= best.weight - 1e-9


@SETTINGS
@given(
    instances(max_beneficiaries=6, max_dwellings=3, max_flats=2),
    st.lists(st.floats(0.0, 1e-3), min_size=3, max_size=3),
)
def test_the_lagrangian_is_valid_at_any_prices(inst: Instance, mu: list[float]) -> None:
    inst = cut(inst, 0.3)
    best = exhaustive(inst)
    if best is None:
        return
    table = FundTable.of(inst)
    weight = inst.weight_array.astype(np.float64)
    prices = np.array(mu[: table.n], dtype=np.float64)
    assert lagrangian(weight, _least(inst), table.ok, table.budget, prices) >= best.weight - 1e-9


def test_the_knapsack_lp_is_the_least_lagrangian() -> None:
    # two households needing 60 and 50 cents, one fund of 100: the LP takes one whole
    # and 40/50 of the other; its price makes the Lagrangian equal it
    weight = np.array([3.0, 2.0])
    least = np.array([60, 50], dtype=np.int64)
    ok = np.ones((1, 2), dtype=bool)
    budget = np.array([100], dtype=np.int64)
    mb = knapsack_bound(weight, least, ok, budget)
    assert mb.bound == pytest.approx(3.0 + 2.0 * 40 / 50, rel=1e-6)
    assert mb.prices[0] > 0
    # a free household counts whole; one with no fund that may pay counts nothing
    least2 = np.array([0, 50, -1], dtype=np.int64)
    mb2 = knapsack_bound(np.array([1.0, 2.0, 5.0]), least2, np.zeros((1, 3), bool), budget)
    assert mb2.bound == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("seed", [1, 2])
def test_where_the_money_binds_the_priced_bound_knows_it(seed: int) -> None:
    inst = cut(generate("S", seed), 0.2)
    whole = solve(inst, SolveParams(time_limit=60))
    assert validate(inst, whole) == []
    assert whole.status == "OPTIMAL"
    res = solve(inst, SolveParams(time_limit=60, pricing=PricingParams(min_pairs=0)))
    assert validate(inst, res) == []
    assert res.engine["strategy"] == "priced"
    best = whole.objective.weight
    # the matching with free budgets is 16-30% above the optimum here; the fund prices
    # bring the bound within 1%, and the allocation to the optimum's 1%
    assert best <= res.bound_weight <= 1.01 * best
    assert res.objective.weight >= 0.99 * best


def test_greedy_skipping_what_a_fund_cannot_pay_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Greedy leaves out, before trying them, the columns their fund can no longer pay
    (where the money runs out, most of them): the allocation is the one it made trying
    every column, and it keeps every budget."""
    from matching.greedy import greedy
    from matching.model.rules import declare
    from matching.packing import Packing

    inst = cut(generate("S", 1), 0.2)
    pairs = eligible_pairs(inst)

    def run() -> list[tuple[int, int, int]]:
        out = greedy(declare(Universe.of(inst, pairs)))
        assert out is not None
        c = out.columns
        return sorted(zip(c.pair.tolist(), c.fund.tolist(), c.room.tolist(), strict=True))

    skipping = run()
    # a fund row that some auxiliary variable relieves is never skipped: all of them here
    monkeypatch.setattr(Packing, "relieves", lambda self, row: True)
    trying_all = run()
    assert skipping == trying_all
    assert any(f >= 0 for _, f, _ in skipping)


def test_where_the_money_binds_a_master_without_duals_still_searches_prices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first master's fund duals steer the search of fund prices; when its solve
    gives none (out of time), the common price is searched from zero, and the bound
    still counts the money."""
    from matching import pricing

    inst = cut(generate("S", 1), 0.2)
    whole = solve(inst, SolveParams(time_limit=60))
    assert whole.status == "OPTIMAL" and validate(inst, whole) == []
    solve_lp = pricing.Master.solve
    calls: list[int] = []

    def first_out_of_time(self: pricing.Master, time_limit: float) -> pricing.MasterLP:
        calls.append(len(self.cols))
        out = solve_lp(self, time_limit)
        if len(calls) > 1:
            return out
        return dataclasses.replace(out, optimal=False)

    monkeypatch.setattr(pricing.Master, "solve", first_out_of_time)
    res = solve(inst, SolveParams(time_limit=60, pricing=PricingParams(min_pairs=0)))
    assert calls
    assert validate(inst, res) == []
    assert res.engine["strategy"] == "priced"
    assert res.engine["pricing"]["iterations"] == 1  # the loop ended on the first master
    best = whole.objective.weight
    # the matching with free budgets is 16-30% above the optimum here
    assert best <= res.bound_weight <= 1.05 * best
    assert res.objective.weight >= 0.97 * best
