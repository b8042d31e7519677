"""Column generation over every eligible pair: a bound on the weight for rounds too large
to formulate whole, and the few pairs worth giving to the staged engine.

At L (20,000 households) a round has about 24 million eligible pairs and twice as many
columns (pair x paying fund): too many for one model. But the weight's LP relaxation
needs very few of them. :func:`price_pairs` solves it by column generation:

1. a *restricted master*: the LP relaxation over a small set of columns (each
   household's cheapest pairs, the greedy allocation's, the pinned ones), with every
   row of the full formulation, so that its duals price every column of the round;
2. *pricing*: with the master's row duals ``y`` (household, dwelling, room-bed, fund
   rows), the reduced cost of column (pair ``p``, fund ``k``) is
   ``weight(b) - y[b] - y[unit row of p] - y[fund k] * contribution * months``, computed
   for all pairs in NumPy blocks, never as a model; columns with a positive one enter
   the master (a few per household), and the master is solved again.

Whatever ``y >= 0`` is, ``sum(rhs * y) + sum(upper * max(0, reduced cost))`` over all the
variables of the *full* formulation is an upper bound on its LP, hence on the weight of
every allocation (Lagrangian duality; Farley's bound). It is computed at every pricing
pass, so the bound is valid even when the time runs out before the pricing finds
nothing more; once it does, the bound equals the full LP's value.

The rows are those the rules declare (:class:`~matching.model.space.RowSpace`), all of
them present in the master (a solver leaves out rows that cannot bind on its columns, but
a row absent from the master would have no dual to price with). The rules' auxiliary
variables (room counts) are few and always in the master. The household rows (the rule
that declares one row per household) are kept in the Lagrangian bound; every other row
is priced.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow
from ortools.linear_solver.python import model_builder_helper as mbh
from scipy import sparse

from matching.budget import Budget
from matching.eligibility import Pairs
from matching.model.columns import Columns
from matching.model.objectives.weight import weights
from matching.model.rules.funds import FundBudgets
from matching.model.space import RowSpace
from matching.params import PricingParams

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

logger = logging.getLogger("matching.pricing")

RC_TOL = 1e-6
"""Reduced costs above this (in weight units) enter the master."""


@dataclass(frozen=True)
class Round:
    """What the pricing reads of a round: its rows, its pairs, its households' weights."""

    space: RowSpace
    weight: FloatArray
    """Per household."""
    household_row: int
    """The first row of the rule declaring one row per household (row ``household_row +
    b`` is household ``b``'s)."""

    @staticmethod
    def of(space: RowSpace) -> Round:
        _, first = space.convexity()
        return Round(
            space=space, weight=weights(space.inst).astype(np.float64), household_row=first
        )

    @property
    def pairs(self) -> Pairs:
        return self.space.universe.pairs

    @property
    def n_funds(self) -> int:
        return self.space.universe.funds.n

    def blocks(self, block_pairs: int) -> Iterator[slice]:
        """Slices of about ``block_pairs`` pairs, each ending on a household's last pair."""
        pairs = self.pairs
        n = len(pairs)
        start = 0
        while start < n:
            stop = min(n, start + block_pairs)
            if stop < n:
                stop = int(np.searchsorted(pairs.beneficiary, pairs.beneficiary[stop - 1], "right"))
            yield slice(start, stop)
            start = stop

    def columns(self, sl: slice, ordered: bool = False) -> Columns:
        return self.space.universe.columns(
            np.arange(sl.start, sl.stop, dtype=np.int64), ordered=ordered
        )

    def priced_rows(self, cols: Columns, y: FloatArray) -> FloatArray:
        """Per column, what its rows other than its household's cost at duals ``y``."""
        t = self.space.touch(cols)
        keep = (t.row < self.household_row) | (
            t.row >= self.household_row + len(self.space.inst.beneficiaries)
        )
        return np.bincount(
            t.col[keep], weights=y[t.row[keep]] * t.coef[keep], minlength=len(cols)
        ).astype(np.float64)


class Master:
    """The restricted master: columns (pair, fund or -1) and every row of the round.

    Each solve is GLOP from scratch (with its presolve, which at L makes a cold solve
    faster than a warm one without it). Columns whose reduced cost falls well below
    zero leave it, so that it stays small; pricing brings back any that gains again.
    """

    def __init__(self, rnd: Round) -> None:
        self.rnd = rnd
        self.cols = rnd.space.universe.columns(np.zeros(0, dtype=np.int64))

    def add(self, cols: Columns) -> None:
        self.cols = Columns.concat([self.cols, cols])

    def keep(self, keep: BoolArray) -> None:
        self.cols = self.cols.subset(keep)

    def codes(self) -> IntArray:
        """The master's column codes ``pair * (funds + 1) + fund + 1``, sorted."""
        return np.sort(self.cols.codes(self.rnd.n_funds, self.rnd.space.max_rooms))

    def reduced_costs(self, y: FloatArray) -> FloatArray:
        rnd = self.rnd
        hh = y[rnd.household_row + self.cols.beneficiary]
        return np.asarray(rnd.weight[self.cols.beneficiary] - hh - rnd.priced_rows(self.cols, y))

    def solve(self, time_limit: float) -> MasterLP:
        space = self.rnd.space
        n, na = len(self.cols), space.n_aux
        t = space.touch(self.cols)
        a = space.aux
        matrix = sparse.csr_matrix(
            (
                np.concatenate([t.coef, a.coef]).astype(np.float64),
                (np.concatenate([t.row, a.row]), np.concatenate([t.col, n + a.col])),
            ),
            shape=(space.n_rows, n + na),
        )
        cost = np.concatenate([self.rnd.weight[self.cols.beneficiary], np.zeros(na)])
        upper = np.concatenate([np.ones(n), space.aux_upper.astype(np.float64)])
        model = mbh.ModelBuilderHelper()
        # (OR-Tools' stub types the arrays wrongly as ndarray[float64])
        fill: Any = model.fill_model_from_sparse_data
        fill(
            np.zeros(n + na),
            upper,
            cost,
            space.lo,
            space.hi,
            matrix,
        )
        model.set_maximize(True)
        solver = mbh.ModelSolverHelper("glop")
        solver.set_time_limit_in_seconds(max(0.1, time_limit))
        solver.solve(model)
        status = solver.status()
        if status != mbh.SolveStatus.OPTIMAL:
            return MasterLP(
                False,
                status == mbh.SolveStatus.INFEASIBLE,
                float("nan"),
                np.zeros(n),
                np.zeros(space.n_rows),
                np.zeros(na),
            )
        values = np.asarray(solver.variable_values(), dtype=np.float64)
        return MasterLP(
            True,
            False,
            float(solver.objective_value()),
            values[:n],
            np.asarray(solver.dual_values(), dtype=np.float64),
            values[n:],
        )


@dataclass(frozen=True)
class MasterLP:
    """A restricted master's LP solution."""

    optimal: bool
    infeasible: bool
    value: float
    x: FloatArray
    """Per column of the master (auxiliary variables not included)."""
    y: FloatArray
    """Row duals, signed so that every reduced cost is ``cost - A^T y``."""
    aux: FloatArray
    """The rules' auxiliary variables (room counts, lines opened)."""


@dataclass(frozen=True)
class Priced:
    """One pricing pass over every pair."""

    bound: float
    """The Lagrangian bound of these duals on the full LP of the weight."""
    new: Columns
    """Columns with a positive reduced cost not in the master (a few per household)."""


def valid_duals(space: RowSpace, y: FloatArray) -> FloatArray:
    """The duals with the sign each row needs (solver noise clipped): ``>= 0`` on a row
    with only an upper limit, ``<= 0`` with only a lower one, free on an equality."""
    upper_only = ~np.isfinite(space.lo)
    lower_only = ~np.isfinite(space.hi)
    return np.where(upper_only, np.maximum(0.0, y), np.where(lower_only, np.minimum(0.0, y), y))


def dual_bound_rows(rnd: Round, y: FloatArray) -> float:
    """The priced rows' and the auxiliary variables' share of the Lagrangian bound."""
    space = rnd.space
    nb = rnd.weight.shape[0]
    priced = np.ones(space.n_rows, dtype=bool)
    priced[rnd.household_row : rnd.household_row + nb] = False
    rhs = np.where(y >= 0, space.hi, space.lo)
    rows = float(np.dot(np.where(priced & (y != 0), rhs, 0.0), y))
    a = space.aux
    rc_aux = -np.bincount(a.col, weights=y[a.row] * a.coef, minlength=space.n_aux)
    return rows + float(np.dot(space.aux_upper, np.maximum(0.0, rc_aux)))


def price(
    rnd: Round, y: FloatArray, in_master: IntArray, per_household: int, block_pairs: int
) -> Priced:
    """Price every column of the round with duals ``y`` (made valid first).

    The bound relaxes every row but the households' with the duals ``y``: each
    household then takes its best column if that gains anything (exactly one if
    pinned), so it is ``sum(rhs * y)`` over the other rows, plus the auxiliary
    variables' positive reduced costs, plus each household's best ``weight - y .
    (its column's other rows)``. Any valid ``y`` gives a valid bound; the LP's optimal
    duals give the LP's value (their household duals are then exactly these best values).

    ``in_master`` holds the master's column codes, sorted. Returns the bound and up to
    ``per_household`` best new columns of each household with a positive reduced cost
    (against the master's household dual).
    """
    y = valid_duals(rnd.space, y)
    nb = rnd.weight.shape[0]
    nf = rnd.n_funds
    rows_part = dual_bound_rows(rnd, y)
    new: list[Columns] = []
    gain = np.full(nb, -np.inf)
    """Per household, its best column's ``weight - y . (other rows)``."""
    y_house = y[rnd.household_row : rnd.household_row + nb]
    for sl in rnd.blocks(block_pairs):
        cols = rnd.columns(sl)
        if len(cols) == 0:
            continue
        value = rnd.weight[cols.beneficiary] - rnd.priced_rows(cols, y)
        np.maximum.at(gain, cols.beneficiary, value)
        rc = value - y_house[cols.beneficiary]
        hit = np.flatnonzero(rc > RC_TOL)
        if hit.size and in_master.size:
            code = cols.codes(nf, rnd.space.max_rooms)[hit]
            pos = np.minimum(np.searchsorted(in_master, code), in_master.size - 1)
            hit = hit[in_master[pos] != code]
        if hit.size:
            # the best few per household
            bb = cols.beneficiary[hit]
            order = np.lexsort((-rc[hit], bb))
            hit, bb = hit[order], bb[order]
            rank = np.arange(bb.size) - np.searchsorted(bb, bb, "left")
            new.append(cols.subset(hit[rank < per_household]))
    has = np.isfinite(gain)
    pinned = np.isfinite(rnd.space.lo[rnd.household_row : rnd.household_row + nb])
    households = float(np.maximum(gain[has & ~pinned], 0.0).sum() + gain[has & pinned].sum())
    if np.any(pinned & ~has):
        households = float("inf")  # a pinned household without a column: no allocation
    empty = rnd.space.universe.columns(np.zeros(0, dtype=np.int64))
    merged = empty if not new else Columns.concat(new)
    return Priced(bound=rows_part + households, new=merged)


def _rank_in_group(group: IntArray) -> IntArray:
    """Position of each element within its run of equal ``group`` values (sorted runs)."""
    return np.arange(group.size) - np.searchsorted(group, group, "left")


def starting_pairs(rnd: Round, per_household: int, per_unit: int, block_pairs: int) -> IntArray:
    """A first master: each household's cheapest pairs and each unit's heaviest households.

    Households' pairs by least contribution, then commute; units' pairs by largest
    weight, then least contribution (so that every unit has a dual from the start).
    """
    pairs = rnd.pairs
    out: list[IntArray] = []
    c = np.minimum(pairs.contribution_cents, (1 << 22) - 1).astype(np.uint64)
    km = np.minimum(pairs.commute_m, (1 << 20) - 1).astype(np.uint64)
    for sl in rnd.blocks(block_pairs):
        bsl = pairs.beneficiary[sl]
        key = (bsl - bsl[0]).astype(np.uint64) << np.uint64(42) | c[sl] << np.uint64(20) | km[sl]
        order = np.argsort(key)
        out.append(sl.start + order[_rank_in_group(bsl[order]) < per_household])
    if per_unit > 0 and len(pairs):
        w = rnd.weight[pairs.beneficiary]
        heavy = (w.max() - w).astype(np.uint64)
        key = pairs.unit.astype(np.uint64) << np.uint64(40) | heavy << np.uint64(22) | c
        order = np.argsort(key)
        out.append(order[_rank_in_group(pairs.unit[order]) < per_unit])
    idx = np.concatenate(out) if out else np.zeros(0, np.int64)
    allowed = rnd.space.universe.allowed
    return np.unique(idx[allowed[idx]])


FLOW_SCALE = 1000
"""Arc values are rounded up to thousandths of a weight unit for the integer flow."""


@dataclass(frozen=True)
class FlowBound:
    """The round with its budgets priced instead of enforced, as a min-cost flow."""

    bound: float
    """An upper bound on the weight of every allocation (``inf`` if the flow failed)."""
    matched: IntArray
    """The pairs of the optimal matching (it may overspend funds and mix genders)."""
    fund: IntArray
    """The best fund (or -1) of each matched pair at these prices."""
    cost: IntArray
    """What that fund pays for each matched pair."""
    seconds: float


def best_columns(
    rnd: Round, fund_price: FloatArray, block_pairs: int
) -> tuple[FloatArray, IntArray, IntArray]:
    """Per pair, its best column's ``weight - fund_price . cost``, fund and cost."""
    n = len(rnd.pairs)
    value = np.full(n, -np.inf)
    fund = np.full(n, -1, dtype=np.int64)
    cost = np.zeros(n, dtype=np.int64)
    for sl in rnd.blocks(block_pairs):
        cols = rnd.columns(sl, ordered=True)
        if len(cols) == 0:
            continue
        mu = np.where(cols.fund >= 0, fund_price[np.maximum(cols.fund, 0)], 0.0)
        v = rnd.weight[cols.beneficiary] - mu * cols.cost_cents
        # ordered by pair then fund: the best of each pair's run
        order = np.lexsort((-v, cols.pair))
        first = order[np.r_[True, cols.pair[order][1:] != cols.pair[order][:-1]]]
        p = cols.pair[first]
        value[p], fund[p], cost[p] = v[first], cols.fund[first], cols.cost_cents[first]
    return value, fund, cost


def flow_bound(rnd: Round, fund_price: FloatArray, block_pairs: int = 1 << 21) -> FlowBound:
    """The Lagrangian bound that relaxes the funds' budgets, priced at ``fund_price >= 0``,
    and every rule's capacity but each unit's (:meth:`RowSpace.unit_capacity`).

    Without the budgets, and with each flat's beds shared by all genders (a relaxation
    too), an allocation is a bipartite b-matching: households to units, each unit up to
    the households its rules let it hold. A pair is worth its household's weight less the
    priced cost of its best fund. The best matching, plus ``sum(fund_price * budget)``,
    bounds every allocation's weight; with the LP's fund duals it equals the LP's value.
    It is solved exactly as a min-cost flow over every pair (OR-Tools), with values
    rounded up so that the bound stays valid.

    At zero prices (and integral weights) the flow is solved lexicographically: the
    most weight, then the least money. Its weight is then exact, and its pairs, heaviest
    and cheapest first, are a near-allocation: at L it spends 431 of the 437 million
    cents budgeted, and repaired by greedy it places 120,997 of the bound's 122,076.
    """
    t0 = time.perf_counter()
    inst = rnd.space.inst
    pairs = rnd.pairs
    nb, nu = len(inst.beneficiaries), inst.n_units
    mu = np.maximum(0.0, np.asarray(fund_price, dtype=np.float64))
    budget = rnd.space.universe.funds.budget.astype(np.float64)
    value, fund, cost = best_columns(rnd, mu, block_pairs)
    arc = np.flatnonzero(value > 0)  # an arc worth nothing never helps
    amount = cost[arc].astype(np.float64)
    w_arc = rnd.weight[pairs.beneficiary[arc]]
    lexicographic = not np.any(mu) and arc.size > 0 and bool(np.all(w_arc == np.round(w_arc)))
    scale = 1
    if lexicographic:
        # free budgets: the weight first, then the least money (exactly, one weight unit
        # being worth more than all the money of any matching); of the many matchings of
        # the same weight, the one that spends least is the one worth repairing
        euros = np.ceil(amount / 100.0).astype(np.int64)
        scale = int(euros.max()) * nb + 1
        # the flow's cost scaling multiplies costs by about the number of nodes
        lexicographic = scale * float(w_arc.max()) * (nb + nu + 3) < 2.0**62
    if lexicographic:
        gain = np.round(w_arc).astype(np.int64) * scale - euros
    else:
        gain = np.ceil(value[arc] * FLOW_SCALE).astype(np.int64)
    del value
    src, snk = nb + nu, nb + nu + 1
    cap_u = rnd.space.unit_capacity()
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.full(nb, src), pairs.beneficiary[arc], nb + np.arange(nu), [src]]),
        np.concatenate([np.arange(nb), nb + pairs.unit[arc], np.full(nu, snk), [snk]]),
        np.concatenate([np.ones(nb + arc.size, dtype=np.int64), cap_u, [nb]]),
        np.concatenate([np.zeros(nb, dtype=np.int64), -gain, np.zeros(nu + 1, dtype=np.int64)]),
    )
    supply = np.zeros(nb + nu + 2, dtype=np.int64)
    supply[src], supply[snk] = nb, -nb
    flow.set_nodes_supplies(np.arange(nb + nu + 2), supply)
    status = flow.solve()
    empty = np.zeros(0, np.int64)
    if status != flow.OPTIMAL:
        return FlowBound(float("inf"), empty, empty, empty, time.perf_counter() - t0)
    used = flow.flows(nb + np.arange(arc.size)) > 0
    matched = arc[used]
    if lexicographic:
        # the weight of the matching itself, an integer: heaviest and cheapest first
        matched = matched[np.lexsort((cost[matched], -rnd.weight[pairs.beneficiary[matched]]))]
        return FlowBound(
            float(np.round(w_arc[used]).sum()),
            matched,
            fund[matched],
            cost[matched],
            time.perf_counter() - t0,
        )
    total = -float(flow.optimal_cost()) / FLOW_SCALE + float(np.dot(mu, budget))
    # a margin for the sum of the budgets' products in floating point
    total += 1e-9 * max(1.0, abs(total))
    return FlowBound(total, matched, fund[matched], cost[matched], time.perf_counter() - t0)


def fund_spend(rnd: Round, fb: FlowBound) -> FloatArray:
    """What the matching of ``fb`` would take from each fund (its best fund per pair)."""
    spend = np.zeros(rnd.n_funds)
    paid = fb.fund >= 0
    np.add.at(spend, fb.fund[paid], fb.cost[paid].astype(np.float64))
    return spend


@dataclass(frozen=True)
class PriceSearch:
    """The best flow bound found over fund prices."""

    best: FlowBound
    price: FloatArray
    evaluations: int
    history: tuple[tuple[float, float], ...]
    """(seconds, bound) of each evaluation."""


def search_fund_prices(
    rnd: Round,
    target: float,
    deadline: float,
    first: FlowBound | None = None,
    max_evaluations: int = 24,
    block_pairs: int = 1 << 21,
    start: FloatArray | None = None,
) -> PriceSearch:
    """Fund prices that tighten :func:`flow_bound`: one common price, then each fund's.

    ``flow_bound(mu)`` is convex in the prices ``mu >= 0``, and ``budget - spend(mu)`` is
    a subgradient. At ``mu = 0`` the funds' spends are arbitrary (every fund a household
    may use costs it nothing), so the search first prices all funds alike: with one
    price ``lam`` the bound's slope is the total budget less the total spend, and a
    bisection (on a log scale) finds where the matching stops overspending. Projected
    subgradient steps on each fund's price follow, of length ``(bound - target) /
    |g|^2`` (``target``: a weight some allocation reaches), halved whenever a bound
    fails to improve. Every evaluated bound is valid, so stopping at any time keeps the
    best one. ``start`` (e.g. a master LP's fund duals) is evaluated first; when it
    beats zero, the common price is searched along it instead: ``t * start``, ``t``
    doubled or halved by the sign of the bound's slope ``start . (budget - spend)``
    until it changes, then narrowed where the slope, interpolated on a log scale, is
    zero (:func:`_slope_zero`).
    """
    t0 = time.perf_counter()
    nf = rnd.n_funds
    budget = rnd.space.universe.funds.budget.astype(np.float64)
    zero = np.zeros(nf)
    at_start = first is None and start is not None and bool(np.any(start > 0))
    mu0 = np.maximum(0.0, np.asarray(start, dtype=np.float64)) if at_start else zero
    fb = first if first is not None else flow_bound(rnd, mu0, block_pairs)
    best, best_mu = fb, mu0.copy()
    history = [(time.perf_counter() - t0, fb.bound)]
    n = 1
    last = fb.seconds

    def evaluate(mu: FloatArray) -> FlowBound:
        nonlocal best, best_mu, n, last
        out = flow_bound(rnd, mu, block_pairs)
        n += 1
        last = out.seconds
        history.append((time.perf_counter() - t0, out.bound))
        logger.info("fund prices %s: matching bound %.3f (%.1f s)", mu, out.bound, out.seconds)
        if out.bound < best.bound:
            best, best_mu = out, mu.copy()
        return out

    def time_for_one() -> bool:
        return n < max_evaluations and time.perf_counter() + 1.2 * last <= deadline

    if nf == 0 or not math.isfinite(fb.bound):
        return PriceSearch(best, best_mu, n, tuple(history))
    started = at_start
    if not at_start and start is not None and np.any(start > 0) and time_for_one():
        started = evaluate(np.maximum(0.0, np.asarray(start, dtype=np.float64))) is best
    if started:
        direction, at = best_mu.copy(), best
        t, lo_t, hi_t, g_lo, g_hi = 1.0, 0.0, math.inf, 0.0, 0.0
        for _ in range(10):
            if not time_for_one() or not math.isfinite(at.bound):
                break
            slope = float(np.dot(direction, budget - fund_spend(rnd, at)))
            if slope < 0:
                lo_t, g_lo = t, slope  # still overspent: dearer
            else:
                hi_t, g_hi = t, slope
            if math.isinf(hi_t):
                t = 2.0 * t
            elif lo_t == 0:
                t = 0.5 * t
            else:
                t = _slope_zero(lo_t, g_lo, hi_t, g_hi)
            if math.isfinite(hi_t) and lo_t > 0 and hi_t / lo_t < 1.02:
                break
            at = evaluate(t * direction)
    total_budget = float(budget.sum())
    pos_cost = rnd.pairs.contribution_cents > 0
    if not started and np.any(pos_cost) and float(fund_spend(rnd, fb).sum()) > total_budget:
        months = rnd.space.inst.policy.contribution_months
        amounts = rnd.pairs.contribution_cents[pos_cost].astype(np.float64) * months
        # a common price: bisection on log(lam) for the spend to meet the budgets
        lo = math.log(1e-6 * float(rnd.weight.max(initial=1.0)) / float(amounts.max()))
        hi = math.log(float(rnd.weight.max(initial=1.0)) / float(amounts.min()))
        for _ in range(12):
            if not time_for_one():
                break
            mid = 0.5 * (lo + hi)
            out = evaluate(np.full(nf, math.exp(mid)))
            if not math.isfinite(out.bound):
                break
            if float(fund_spend(rnd, out).sum()) > total_budget:
                lo = mid
            else:
                hi = mid
    mu, fb = best_mu.copy(), best
    scale = 1.0
    while time_for_one() and math.isfinite(fb.bound):
        g = budget - fund_spend(rnd, fb)
        g = np.where((mu <= 0) & (g > 0), 0.0, g)  # projected: a free fund stays free
        norm = float(np.dot(g, g))
        if norm <= 0 or fb.bound - target <= 1e-9 * max(1.0, abs(target)) or scale < 1e-3:
            break
        out = evaluate(np.maximum(0.0, mu - scale * (fb.bound - target) / norm * g))
        if out is best:
            mu, fb = best_mu.copy(), best
        else:
            scale *= 0.5
    return PriceSearch(best, best_mu, n, tuple(history))


@dataclass(frozen=True)
class PricingResult:
    """What column generation found."""

    bound: float
    """An upper bound on the weight of every allocation of the round (the full LP's
    value once ``converged``); ``inf`` when no master was solved."""
    lp_value: float
    """The last restricted master's value (a lower bound on the full LP)."""
    converged: bool
    infeasible: bool
    """The master with the pinned placements is infeasible: so is the round."""
    iterations: int
    columns: int
    """Columns in the last master."""
    keep: IntArray
    """Pairs worth giving to the integer search (sorted indices into the round's pairs):
    the last master's columns in its solution or within ``keep_rc`` of entering, the
    matching's pairs and the seed pairs."""
    x_pair: IntArray
    x_fund: IntArray
    x_room: IntArray
    x: FloatArray
    """The last master's solution: its columns with a positive value, largest first."""
    x_aux: FloatArray
    """...and its auxiliary variables' values."""
    seconds: float
    history: tuple[tuple[float, float, float], ...]
    """Per pass: (seconds, master value, bound)."""
    matching: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    """The pairs of the matching with free budgets (the most weight, then the least
    money), heaviest and cheapest first: empty without ``flows``."""
    priced_matching: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Where the money binds: the pairs of the best matching at the fund prices found,
    cheapest for their weight first (empty otherwise)."""


def price_pairs(
    space: RowSpace,
    budget: Budget,
    params: PricingParams,
    seed_pairs: IntArray | None = None,
    flows: bool = True,
    target: float | None = None,
    outer: Budget | None = None,
) -> PricingResult:
    """Column generation for the weight's LP over all of the round's pairs, and its bound.

    First the budgets are priced at zero and the round solved as a matching
    (:func:`flow_bound`): a bound, and a near-optimal matching whose pairs join the first
    master. Then pricing passes until nothing prices in or the time is up. The bound is
    the best of the matching's and of the pricing passes' Lagrangian bounds, all valid
    whether or not the loop converged. (The matching again at the master's fund duals
    did not pay for its time at L: 122,204 after one pass against 122,076 at zero.)

    ``budget`` bounds the whole (a pass or a flow under way finishes); ``params`` sets
    the first master, the passes and the share kept for the search of fund prices
    (:func:`search_fund_prices`); ``flows`` turns the matching bounds on (the pricing
    bound alone is weaker until the loop converges).

    When the matching with free budgets overspends a fund, the money binds: after the
    first pass, fund prices are searched from the master's fund duals
    (``params.money_share`` of the time left in ``outer``, the whole run's budget, else
    in ``budget``; ``target``, a weight some allocation reaches, steers the steps). The
    best matching at those prices spends about the budgets: its pairs join those kept,
    and it is returned as :attr:`PricingResult.priced_matching`.
    """
    t0 = time.perf_counter()
    p = params
    rnd = Round.of(space)
    pairs = rnd.pairs
    inst = space.inst
    allowed = space.universe.allowed
    pinned = np.flatnonzero(
        allowed
        & np.isin(pairs.beneficiary, [inst.beneficiary_index[x.beneficiary] for x in inst.pinned])
    )
    first = [starting_pairs(rnd, p.per_household, p.per_unit, p.block_pairs), pinned]
    if seed_pairs is not None:
        first.append(seed_pairs[allowed[seed_pairs]])
    bound = float("inf")
    history: list[tuple[float, float, float]] = []
    matched: list[IntArray] = []
    fb: FlowBound | None = None
    binds = False
    if flows:
        fb = flow_bound(rnd, np.zeros(rnd.n_funds), p.block_pairs)
        bound = fb.bound
        matched.append(fb.matched)
        first.append(fb.matched)
        history.append((time.perf_counter() - t0, float("nan"), fb.bound))
        logger.info("matching with free budgets: bound %.3f, %.1f s", fb.bound, fb.seconds)
        # the money binds when the matching with free budgets overspends some fund
        binds = bool(np.any(fund_spend(rnd, fb) > space.universe.funds.budget))
    money: PriceSearch | None = None
    fund_row = space.block(FundBudgets.name)[1] if rnd.n_funds else 0
    master = Master(rnd)
    master.add(space.universe.columns(np.unique(np.concatenate(first))))
    lp_value = float("nan")
    converged = False
    empty = np.zeros(0, dtype=np.int64)
    near_pairs, x_pair, x_fund, x_room, x_val = empty, empty, empty, empty, np.zeros(0)
    x_aux = np.zeros(space.n_aux)
    first_pairs = np.unique(np.concatenate(first[1:])) if len(first) > 1 else empty
    last_added = 0
    loop_end = budget.deadline - p.search_share * budget.limit if flows else budget.deadline
    it = 0
    while it < p.max_iterations:
        it += 1
        limit = loop_end - time.perf_counter()
        if binds and money is None:
            # the first master's fund duals direct the search of fund prices: its solve
            # is not cut short by the pricing's share (at L with budgets cut to a fifth,
            # on a slower machine, it needed 17 s of the 20 s left, and once more)
            limit = max(limit, p.money_share * (outer or budget).left())
        lp = master.solve(max(0.5, limit))
        if not lp.optimal:
            if lp.infeasible:
                return PricingResult(
                    float("inf"),
                    float("nan"),
                    False,
                    True,
                    it,
                    len(master.cols),
                    np.unique(master.cols.pair),
                    empty,
                    empty,
                    empty,
                    np.zeros(0),
                    x_aux,
                    time.perf_counter() - t0,
                    tuple(history),
                )
            break
        lp_value = lp.value
        y = valid_duals(space, lp.y)
        on = lp.x > 1e-9
        order = np.argsort(-lp.x[on], kind="stable")
        x_room = master.cols.room[on][order].astype(np.int64)
        x_aux = lp.aux
        x_pair, x_fund, x_val = (
            master.cols.pair[on][order],
            master.cols.fund[on][order],
            lp.x[on][order],
        )
        near = on | (master.reduced_costs(y) >= -p.keep_rc)
        near_pairs = np.unique(master.cols.pair[near])
        if money is None and binds:
            # the money binds: the matching bound at the master's fund prices (and on
            # from there) knows both the homes and the budgets
            money = search_fund_prices(
                rnd,
                # the master's value is below the LP's, hence below every bound: the
                # nearer target of the two
                max(lp_value, target if target is not None else lp_value),
                time.perf_counter() + p.money_share * (outer or budget).left(),
                first=fb,
                block_pairs=p.block_pairs,
                start=y[fund_row : fund_row + rnd.n_funds],
            )
            bound = _take_search(money, bound, matched, history, t0)
            if time.perf_counter() >= loop_end:
                break
        priced = price(rnd, y, master.codes(), p.add_per_household, p.block_pairs)
        bound = min(bound, priced.bound)
        history.append((time.perf_counter() - t0, lp_value, priced.bound))
        logger.info(
            "pricing pass %d: %d columns, master %.3f, bound %.3f, %d new, %.1f s",
            it,
            len(master.cols),
            lp_value,
            priced.bound,
            len(priced.new),
            time.perf_counter() - t0,
        )
        if len(priced.new) == 0 or bound - lp_value <= 1e-9 * max(1.0, abs(bound)):
            converged = True
            break
        if time.perf_counter() >= loop_end:
            break
        if len(master.cols) > p.max_columns:
            # the master grows slow to solve: drop what is far from entering, except
            # the columns the last pass brought (dropping those cycles)
            rc = master.reduced_costs(y)
            fresh = np.arange(len(master.cols)) >= len(master.cols) - last_added
            master.keep((lp.x > 1e-9) | (rc > -p.drop_below) | fresh)
        master.add(priced.new)
        last_added = len(priced.new)
    if binds and money is None and fb is not None:
        # the master gave no fund duals in time: the common price is searched from zero
        money = search_fund_prices(
            rnd,
            target if target is not None else 0.95 * fb.bound,
            time.perf_counter() + p.money_share * (outer or budget).left(),
            first=fb,
            block_pairs=p.block_pairs,
        )
        bound = _take_search(money, bound, matched, history, t0)
    if (
        fb is not None
        and money is None
        and p.search_share > 0
        and math.isfinite(bound)
        and time.perf_counter() < budget.deadline
    ):
        target = lp_value if math.isfinite(lp_value) else 0.99 * bound
        ps = search_fund_prices(rnd, target, budget.deadline, first=fb, block_pairs=p.block_pairs)
        bound = _take_search(ps, bound, matched, history, t0)
    keep = np.union1d(near_pairs, first_pairs)
    if matched:
        keep = np.union1d(keep, np.concatenate(matched))
    return PricingResult(
        bound=bound,
        lp_value=lp_value,
        converged=converged,
        infeasible=False,
        iterations=it,
        columns=len(master.cols),
        keep=keep,
        x_pair=x_pair,
        x_fund=x_fund,
        x_room=x_room,
        x=x_val,
        x_aux=x_aux,
        seconds=time.perf_counter() - t0,
        history=tuple(history),
        matching=fb.matched if fb is not None else empty,
        priced_matching=_by_value_for_money(rnd, money.best) if money is not None else empty,
    )


def _slope_zero(lo: float, g_lo: float, hi: float, g_hi: float) -> float:
    """Where the bound's slope, taken as linear in ``log t`` between ``lo`` (slope
    ``g_lo < 0``) and ``hi`` (``g_hi >= 0``), is zero: kept within the middle 80% of the
    bracket (on the log scale) so that it always shrinks. At L with budgets cut to a
    fifth it lands next to the price where the matching spends the budgets in one step,
    where halving the bracket took two (each matching 20 s there)."""
    f = min(0.9, max(0.1, g_lo / (g_lo - g_hi)))
    return math.exp(math.log(lo) + f * (math.log(hi) - math.log(lo)))


def _take_search(
    ps: PriceSearch,
    bound: float,
    matched: list[IntArray],
    history: list[tuple[float, float, float]],
    t0: float,
) -> float:
    """A search of fund prices taken into the pricing's record: its matching's pairs
    kept when it tightens ``bound``, its evaluations in ``history``; the new bound."""
    if ps.best.bound < bound:
        bound = ps.best.bound
        matched.append(ps.best.matched)
    history.extend(
        (time.perf_counter() - t0 - ps.history[-1][0] + s, float("nan"), b)
        for s, b in ps.history[1:]
    )
    logger.info(
        "fund prices: matching bound %.3f after %d evaluations", ps.best.bound, ps.evaluations
    )
    return bound


def _by_value_for_money(rnd: Round, fb: FlowBound) -> IntArray:
    """The pairs of a matching at positive fund prices, free ones first, then by weight
    per cent of cost (the order greedy keeps them in while the money lasts)."""
    w = rnd.weight[rnd.pairs.beneficiary[fb.matched]]
    ratio = np.where(fb.cost > 0, fb.cost.astype(np.float64) / np.maximum(w, 1e-9), 0.0)
    return fb.matched[np.argsort(ratio, kind="stable")]


def matching_start(
    space: RowSpace, matched: IntArray, time_limit: float
) -> tuple[list[tuple[int, int, int]], FloatArray | None]:
    """A matching's pairs as a start for greedy: (pair, fund, room) placements in the
    order to make them, and the rooms' counts to begin from (None when the LP fails).

    The matching relaxes every rule but the units' capacities: it may mix genders in a
    flat's beds and spend a little past the budgets. The LP over its columns alone, with
    every row of the round (a master of at most one pair per household, 0.2 s at L),
    says which of its pairs to keep first and which fund pays, and its room counts give
    each gender its rooms before greedy places anyone: at L with budgets cut to a fifth,
    the matching at the searched fund prices repaired this way keeps 17,039 of its
    17,873 pairs and places 113,782, against 16,710 and 112,335 when greedy chose the
    rooms and funds in the matching's order.
    """
    plain = [(int(p), -1, -1) for p in matched]
    if matched.size == 0:
        return plain, None
    master = Master(Round.of(space))
    master.add(space.universe.columns(np.unique(matched)))
    lp = master.solve(time_limit)
    if not lp.optimal:
        return plain, None
    on = lp.x > 1e-9
    order = np.argsort(-lp.x[on], kind="stable")
    cols = master.cols.subset(on)
    first = list(
        zip(
            cols.pair[order].tolist(),
            cols.fund[order].tolist(),
            cols.room[order].astype(np.int64).tolist(),
            strict=True,
        )
    )
    # a pair the LP splits between funds or rooms: its largest column only
    seen: set[int] = set()
    first = [x for x in first if not (x[0] in seen or seen.add(x[0]))]  # type: ignore[func-returns-value]
    # then the matching's pairs the LP leaves at zero, in the matching's order
    rest = matched[~np.isin(matched, cols.pair)]
    return first + [(int(p), -1, -1) for p in rest], lp.aux
