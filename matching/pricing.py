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

The rows are those of :mod:`matching.model.rules`, all of them present (the rules leave
out rows that cannot bind on their own columns, but a row absent from the master would
have no dual to price with): a row per household (``== 1`` when pinned), per dwelling,
per fund, and per shared flat either one bed row (when all its candidates share a
gender) or, per gender among all its candidates, a bed row charged by room-count
variables, with a row per room size. Room counts are few and always in the master.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow
from ortools.linear_solver.python import model_builder_helper as mbh
from scipy import sparse

from matching.eligibility import Pairs
from matching.instance import GENDERS, Instance

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

logger = logging.getLogger("matching.pricing")

PRICE_BLOCK = 1 << 21
"""About how many pairs one pricing block holds (its temporaries are a few arrays)."""
RC_TOL = 1e-6
"""Reduced costs above this (in weight units) enter the master."""


@dataclass(frozen=True)
class Layout:
    """The rows of the full formulation and how each pair's columns meet them."""

    n_rows: int
    hi: FloatArray
    """Right-hand side of each row (all rows are ``<=``; pinned households also ``>=``)."""
    equality: BoolArray
    """Rows that are equalities (pinned households): their duals have either sign."""
    weight: FloatArray
    """Per household."""
    allowed: BoolArray
    """Per pair: whether it has columns (a pinned household keeps its pinned unit only)."""
    urow: npt.NDArray[np.int32]
    """Per pair: the row of its unit (the dwelling's, or the flat's bed row of its gender)."""
    amount: FloatArray
    """Per pair: contribution * months, what a fund pays for it."""
    fund_ok: BoolArray
    """Per (fund, household): the fund may pay for the household."""
    budget: FloatArray
    fund_row: int
    """Row of fund 0; fund ``k`` is row ``fund_row + k``."""
    room_rows: npt.NDArray[np.int32]
    """Per room-count variable: its room-size row and its gender bed row."""
    room_beds: FloatArray
    """Per room-count variable: beds of a room of that size (its coefficient, negated)."""
    room_upper: FloatArray

    @property
    def n_funds(self) -> int:
        return int(self.budget.shape[0])

    def fund_columns(self, pairs: Pairs, sl: slice, k: int) -> BoolArray:
        """Which pairs of ``sl`` have a column paid by fund ``k``."""
        c = pairs.contribution_cents[sl]
        return np.asarray(self.allowed[sl] & (c > 0) & (self.amount[sl] <= self.budget[k])
                          & self.fund_ok[k, pairs.beneficiary[sl]])

    def free_columns(self, pairs: Pairs, sl: slice) -> BoolArray:
        """Which pairs of ``sl`` have a column with no fund (zero contribution)."""
        return np.asarray(self.allowed[sl] & (pairs.contribution_cents[sl] == 0))


def layout(inst: Instance, pairs: Pairs) -> Layout:
    """The rows of ``inst``'s full formulation over ``pairs`` (see the module docstring)."""
    nb, nd, nflat = len(inst.beneficiaries), len(inst.dwellings), len(inst.shared_flats)
    b, u = pairs.beneficiary, pairs.unit
    allowed = np.ones(len(pairs), dtype=bool)
    pinned_b = np.zeros(nb, dtype=bool)
    for pin in inst.pinned:
        bi = inst.beneficiary_index[pin.beneficiary]
        pinned_b[bi] = True
        sl = pairs.of_beneficiary(bi)
        allowed[sl] = u[sl] == inst.unit_index[pin.unit]
    gcode = np.array([GENDERS.index(x.gender) for x in inst.beneficiaries], dtype=np.int64)
    ng = len(GENDERS)
    in_flat = allowed & (u >= nd)
    present = np.zeros((nflat, ng), dtype=bool)
    present[u[in_flat] - nd, gcode[b[in_flat]]] = True
    pinned_room = {(p.unit, p.room): inst.beneficiary(p.beneficiary).gender
                   for p in inst.pinned if p.room is not None}

    hi: list[float] = [1.0] * nb + [1.0] * nd
    flat_row = np.full((nflat, ng), -1, dtype=np.int64)
    room_rows: list[tuple[int, int]] = []
    room_beds: list[float] = []
    room_upper: list[float] = []
    for fi, flat in enumerate(inst.shared_flats):
        genders = np.flatnonzero(present[fi])
        if genders.size == 0:
            continue
        if genders.size == 1:
            flat_row[fi, :] = len(hi)
            hi.append(float(flat.beds))
            continue
        fixed = np.zeros(ng)
        free: dict[int, int] = {}
        for room in flat.rooms:
            g = pinned_room.get((flat.id, room.id))
            if g is not None:
                fixed[GENDERS.index(g)] += room.beds
            else:
                free[room.beds] = free.get(room.beds, 0) + 1
        for gi in genders.tolist():
            flat_row[fi, gi] = len(hi)
            hi.append(float(fixed[gi]))
        for beds, count in sorted(free.items()):
            size_row = len(hi)
            hi.append(float(count))
            for gi in genders.tolist():
                room_rows.append((size_row, int(flat_row[fi, gi])))
                room_beds.append(float(beds))
                room_upper.append(float(count))
    fund_row = len(hi)
    hi += [float(f.budget_cents) for f in inst.funds]
    urow = (nb + u).astype(np.int32)
    bed = u >= nd
    urow[bed] = flat_row[u[bed] - nd, gcode[b[bed]]]
    equality = np.zeros(len(hi), dtype=bool)
    equality[:nb] = pinned_b
    fund_ok = np.array([[f.eligible(x.tags) for x in inst.beneficiaries] for f in inst.funds],
                       dtype=bool).reshape(len(inst.funds), nb)
    return Layout(
        n_rows=len(hi), hi=np.asarray(hi), equality=equality,
        weight=np.array([inst.weight(x) for x in inst.beneficiaries], dtype=np.float64),
        allowed=allowed, urow=urow,
        amount=pairs.contribution_cents.astype(np.float64) * inst.policy.contribution_months,
        fund_ok=fund_ok, budget=np.array([f.budget_cents for f in inst.funds], dtype=np.float64),
        fund_row=fund_row,
        room_rows=np.asarray(room_rows, dtype=np.int32).reshape(-1, 2),
        room_beds=np.asarray(room_beds, dtype=np.float64),
        room_upper=np.asarray(room_upper, dtype=np.float64))


class Master:
    """The restricted master: columns (pair, fund or -1) and every row of the round.

    Each solve is GLOP from scratch (with its presolve, which at L makes a cold solve
    faster than a warm one without it). Columns whose reduced cost falls well below
    zero leave it, so that it stays small; pricing brings back any that gains again.
    """

    def __init__(self, lay: Layout, pairs: Pairs) -> None:
        self.lay, self.pairs = lay, pairs
        self.col_pair = np.zeros(0, dtype=np.int64)
        self.col_fund = np.zeros(0, dtype=np.int64)

    def add(self, col_pair: IntArray, col_fund: IntArray) -> None:
        self.col_pair = np.concatenate([self.col_pair, col_pair])
        self.col_fund = np.concatenate([self.col_fund, col_fund])

    def keep(self, keep: BoolArray) -> None:
        self.col_pair, self.col_fund = self.col_pair[keep], self.col_fund[keep]

    def codes(self) -> IntArray:
        """The master's column codes ``pair * (funds + 1) + fund + 1``, sorted."""
        return np.sort(self.col_pair * (self.lay.n_funds + 1) + self.col_fund + 1)

    def reduced_costs(self, y: FloatArray) -> FloatArray:
        lay, p, k = self.lay, self.col_pair, self.col_fund
        b = self.pairs.beneficiary[p]
        fund_dual = np.where(k >= 0, y[lay.fund_row + np.maximum(k, 0)], 0.0)
        return np.asarray(lay.weight[b] - y[b] - y[lay.urow[p]] - fund_dual * lay.amount[p])

    def solve(self, time_limit: float) -> MasterLP:
        lay, pairs, col_pair, col_fund = self.lay, self.pairs, self.col_pair, self.col_fund
        n, nr = col_pair.shape[0], lay.room_upper.shape[0]
        has_fund = col_fund >= 0
        rows = np.concatenate([pairs.beneficiary[col_pair],
                               lay.urow[col_pair].astype(np.int64),
                               lay.fund_row + col_fund[has_fund],
                               lay.room_rows[:, 0].astype(np.int64),
                               lay.room_rows[:, 1].astype(np.int64)])
        cols = np.concatenate([np.arange(n), np.arange(n), np.flatnonzero(has_fund),
                               n + np.arange(nr), n + np.arange(nr)])
        vals = np.concatenate([np.ones(2 * n), lay.amount[col_pair[has_fund]], np.ones(nr),
                               -lay.room_beds])
        matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(lay.n_rows, n + nr))
        lo = np.where(lay.equality, lay.hi, -np.inf)
        cost = np.concatenate([lay.weight[pairs.beneficiary[col_pair]], np.zeros(nr)])
        upper = np.concatenate([np.ones(n), lay.room_upper])
        model = mbh.ModelBuilderHelper()
        # (OR-Tools' stub types the arrays wrongly as ndarray[float64])
        model.fill_model_from_sparse_data(np.zeros(n + nr), upper, cost,  # type: ignore[arg-type]
                                          lo, lay.hi, matrix)  # type: ignore[arg-type]
        model.set_maximize(True)
        solver = mbh.ModelSolverHelper("glop")
        solver.set_time_limit_in_seconds(max(0.1, time_limit))
        solver.solve(model)
        status = solver.status()
        if status != mbh.SolveStatus.OPTIMAL:
            return MasterLP(False, status == mbh.SolveStatus.INFEASIBLE, float("nan"),
                            np.zeros(n), np.zeros(lay.n_rows))
        return MasterLP(True, False, float(solver.objective_value()),
                        np.asarray(solver.variable_values(), dtype=np.float64)[:n],
                        np.asarray(solver.dual_values(), dtype=np.float64))


@dataclass(frozen=True)
class MasterLP:
    """A restricted master's LP solution."""

    optimal: bool
    infeasible: bool
    value: float
    x: FloatArray
    """Per column of the master (room counts not included)."""
    y: FloatArray
    """Row duals, signed so that every reduced cost is ``cost - A^T y``."""


@dataclass(frozen=True)
class Priced:
    """One pricing pass over every pair."""

    bound: float
    """The Lagrangian bound of these duals on the full LP of the weight."""
    new_pair: IntArray
    new_fund: IntArray
    """Columns with a positive reduced cost not in the master (a few per household)."""
    best_rc: npt.NDArray[np.float32] | None
    """Per pair, the largest reduced cost of its columns (-inf when it has none)."""


def dual_bound_rows(lay: Layout, y: FloatArray) -> float:
    """The unit, flat and fund rows' and the room counts' share of the Lagrangian bound."""
    nb = lay.weight.shape[0]  # household rows are kept, not relaxed
    rc_room = lay.room_beds * y[lay.room_rows[:, 1]] - y[lay.room_rows[:, 0]] \
        if lay.room_upper.size else np.zeros(0)
    return float(np.dot(lay.hi[nb:], y[nb:])
                 + np.dot(lay.room_upper, np.maximum(0.0, rc_room)))


def valid_duals(lay: Layout, y: FloatArray) -> FloatArray:
    """The duals with the sign every ``<=`` row needs (solver noise clipped)."""
    return np.where(lay.equality, y, np.maximum(0.0, y))


def price(lay: Layout, pairs: Pairs, y: FloatArray, in_master: IntArray, per_household: int,
          keep_best: bool = False) -> Priced:
    """Price every column of the round with duals ``y`` (made valid first).

    The bound relaxes every row but the households' with the duals ``y``: each
    household then takes its best column if that gains anything (exactly one if
    pinned), so it is ``sum(rhs * y)`` over the other rows, plus the room counts'
    positive reduced costs, plus each household's best ``weight - y[unit row] -
    y[fund] * amount``. Any ``y >= 0`` gives a valid bound; the LP's optimal duals give
    the LP's value (their household duals are then exactly these best values).

    ``in_master`` holds the master's column codes ``pair * (funds + 1) + fund + 1``,
    sorted. Returns the bound, up to ``per_household`` best new columns of each
    household with a positive reduced cost (against the master's household dual), and
    (``keep_best``) each pair's best reduced cost.
    """
    y = valid_duals(lay, y)
    nb = lay.weight.shape[0]
    nf = lay.n_funds
    rows_part = dual_bound_rows(lay, y)
    n = len(pairs)
    best = np.full(n, -np.inf, dtype=np.float32) if keep_best else None
    out_p: list[IntArray] = []
    out_k: list[IntArray] = []
    y_fund = y[lay.fund_row:lay.fund_row + nf]
    gain = np.full(nb, -np.inf)
    """Per household, its best column's ``weight - y[unit row] - y[fund] * amount``."""
    start = 0
    while start < n:
        # blocks end on a household's last pair
        stop = min(n, start + PRICE_BLOCK)
        if stop < n:
            stop = int(np.searchsorted(pairs.beneficiary, pairs.beneficiary[stop - 1], "right"))
        sl = slice(start, stop)
        bsl = pairs.beneficiary[sl]
        base = lay.weight[bsl] - y[lay.urow[sl]]
        value = np.where(lay.free_columns(pairs, sl), base, -np.inf)
        fund_of = np.full(stop - start, -1, dtype=np.int64)
        for k in range(nf):
            ok = lay.fund_columns(pairs, sl, k)
            v = np.where(ok, base - y_fund[k] * lay.amount[sl], -np.inf)
            better = v > value
            value = np.where(better, v, value)
            fund_of[better] = k
        # each pair's best column; a household's best over its pairs
        seg = np.flatnonzero(np.r_[True, bsl[1:] != bsl[:-1]])
        np.maximum.at(gain, bsl[seg], np.maximum.reduceat(value, seg))
        rc = value - y[bsl]
        if best is not None:
            best[sl] = rc.astype(np.float32)
        hit = np.flatnonzero(rc > RC_TOL)
        p, k_, rcs = start + hit, fund_of[hit], rc[hit]
        if p.size and in_master.size:
            code = p * (nf + 1) + k_ + 1
            pos = np.minimum(np.searchsorted(in_master, code), in_master.size - 1)
            fresh = in_master[pos] != code
            p, k_, rcs = p[fresh], k_[fresh], rcs[fresh]
        if p.size:
            # the best few per household
            bb = pairs.beneficiary[p]
            order = np.lexsort((-rcs, bb))
            p, k_, bb = p[order], k_[order], bb[order]
            rank = np.arange(bb.size) - np.searchsorted(bb, bb, "left")
            take = rank < per_household
            out_p.append(p[take])
            out_k.append(k_[take])
        start = stop
    has = np.isfinite(gain)
    pinned = lay.equality[:nb]
    households = float(np.maximum(gain[has & ~pinned], 0.0).sum() + gain[has & pinned].sum())
    if np.any(pinned & ~has):
        households = float("inf")  # a pinned household without a column: no allocation
    new_p = np.concatenate(out_p) if out_p else np.zeros(0, np.int64)
    new_k = np.concatenate(out_k) if out_k else np.zeros(0, np.int64)
    return Priced(bound=rows_part + households, new_pair=new_p, new_fund=new_k, best_rc=best)


def columns_of_pairs(lay: Layout, pairs: Pairs, idx: IntArray) -> tuple[IntArray, IntArray]:
    """Every column (pair, fund) of the pairs ``idx``."""
    idx = np.unique(idx)
    sl = slice(None)
    parts_p = [idx[lay.free_columns(pairs, sl)[idx]]]
    parts_k = [np.full(parts_p[0].shape, -1, dtype=np.int64)]
    for k in range(lay.n_funds):
        sel = idx[lay.fund_columns(pairs, sl, k)[idx]] if idx.size else idx
        parts_p.append(sel)
        parts_k.append(np.full(sel.shape, k, dtype=np.int64))
    return np.concatenate(parts_p), np.concatenate(parts_k)


def _blocks(pairs: Pairs) -> list[slice]:
    """Slices of about ``PRICE_BLOCK`` pairs, each ending on a household's last pair."""
    n = len(pairs)
    out: list[slice] = []
    start = 0
    while start < n:
        stop = min(n, start + PRICE_BLOCK)
        if stop < n:
            stop = int(np.searchsorted(pairs.beneficiary, pairs.beneficiary[stop - 1], "right"))
        out.append(slice(start, stop))
        start = stop
    return out


def _rank_in_group(group: IntArray) -> IntArray:
    """Position of each element within its run of equal ``group`` values (sorted runs)."""
    return np.arange(group.size) - np.searchsorted(group, group, "left")


def starting_pairs(lay: Layout, pairs: Pairs, per_household: int, per_unit: int) -> IntArray:
    """A first master: each household's cheapest pairs and each unit's heaviest households.

    Households' pairs by least contribution, then commute; units' pairs by largest
    weight, then least contribution (so that every unit has a dual from the start).
    """
    out: list[IntArray] = []
    c = np.minimum(pairs.contribution_cents, (1 << 22) - 1).astype(np.uint64)
    km = np.minimum(np.rint(pairs.commute_km * 1000), (1 << 20) - 1).astype(np.uint64)
    for sl in _blocks(pairs):
        bsl = pairs.beneficiary[sl]
        key = (bsl - bsl[0]).astype(np.uint64) << np.uint64(42) | c[sl] << np.uint64(20) | km[sl]
        order = np.argsort(key)
        out.append(sl.start + order[_rank_in_group(bsl[order]) < per_household])
    if per_unit > 0 and len(pairs):
        w = lay.weight[pairs.beneficiary]
        heavy = (w.max() - w).astype(np.uint64)
        key = (pairs.unit.astype(np.uint64) << np.uint64(40) | heavy << np.uint64(22) | c)
        order = np.argsort(key)
        out.append(order[_rank_in_group(pairs.unit[order]) < per_unit])
    idx = np.concatenate(out) if out else np.zeros(0, np.int64)
    return np.unique(idx[lay.allowed[idx]])


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
    seconds: float


def flow_bound(inst: Instance, lay: Layout, pairs: Pairs, fund_price: FloatArray) -> FlowBound:
    """The Lagrangian bound that relaxes only the fund rows, priced at ``fund_price >= 0``.

    Without the budgets, and with each flat's beds shared by all genders (a relaxation
    too), an allocation is a bipartite b-matching: households to dwellings (one each)
    and to flats (up to their beds). A pair is worth its household's weight less the
    priced cost of its best fund, ``weight - fund_price[k] * amount``. The best matching,
    plus ``sum(fund_price * budget)``, bounds every allocation's weight; with the LP's
    fund duals it equals the LP's value. It is solved exactly as a min-cost flow over
    every pair (OR-Tools), with values rounded up so that the bound stays valid.

    At zero prices (and integral weights) the flow is solved lexicographically: the
    most weight, then the least money. Its weight is then exact, and its pairs, heaviest
    and cheapest first, are a near-allocation: at L it spends 431 of the 437 million
    cents budgeted, and repaired by :func:`matching.greedy.greedy_assignments` it
    places 120,997 of the bound's 122,076.
    """
    t0 = time.perf_counter()
    nb, nd = len(inst.beneficiaries), len(inst.dwellings)
    nu = inst.n_units
    mu = np.maximum(0.0, np.asarray(fund_price, dtype=np.float64))
    everything = slice(None)
    w = lay.weight[pairs.beneficiary]
    value = np.where(lay.free_columns(pairs, everything), w, -np.inf)
    fund = np.full(len(pairs), -1, dtype=np.int64)
    for k in range(lay.n_funds):
        v = np.where(lay.fund_columns(pairs, everything, k), w - mu[k] * lay.amount, -np.inf)
        better = v > value
        value = np.where(better, v, value)
        fund[better] = k
    del w
    arc = np.flatnonzero(value > 0)  # an arc worth nothing never helps
    amount = lay.amount[arc]
    weights = lay.weight[pairs.beneficiary[arc]]
    lexicographic = not np.any(mu) and arc.size > 0 and bool(
        np.all(weights == np.round(weights)))
    if lexicographic:
        # free budgets: the weight first, then the least money (exactly, one weight unit
        # being worth more than all the money of any matching); of the many matchings of
        # the same weight, the one that spends least is the one worth repairing
        euros = np.ceil(amount / 100.0).astype(np.int64)
        scale = int(euros.max()) * nb + 1
        # the flow's cost scaling multiplies costs by about the number of nodes
        lexicographic = scale * float(weights.max()) * (nb + nu + 3) < 2.0 ** 62
    if lexicographic:
        gain = np.round(weights).astype(np.int64) * scale - euros
    else:
        gain = np.ceil(value[arc] * FLOW_SCALE).astype(np.int64)
    del value
    src, snk = nb + nu, nb + nu + 1
    cap_u = np.array([1] * nd + [f.beds for f in inst.shared_flats], dtype=np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.full(nb, src), pairs.beneficiary[arc], nb + np.arange(nu), [src]]),
        np.concatenate([np.arange(nb), nb + pairs.unit[arc], np.full(nu, snk), [snk]]),
        np.concatenate([np.ones(nb + arc.size, dtype=np.int64), cap_u, [nb]]),
        np.concatenate([np.zeros(nb, dtype=np.int64), -gain, np.zeros(nu + 1, dtype=np.int64)]))
    supply = np.zeros(nb + nu + 2, dtype=np.int64)
    supply[src], supply[snk] = nb, -nb
    flow.set_nodes_supplies(np.arange(nb + nu + 2), supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        return FlowBound(float("inf"), np.zeros(0, np.int64), np.zeros(0, np.int64),
                         time.perf_counter() - t0)
    used = flow.flows(nb + np.arange(arc.size)) > 0
    matched = arc[used]
    if lexicographic:
        # the weight of the matching itself, an integer: heaviest and cheapest first
        matched = matched[np.lexsort((lay.amount[matched], -lay.weight[pairs.beneficiary[
            matched]]))]
        return FlowBound(float(np.round(weights[used]).sum()), matched, fund[matched],
                         time.perf_counter() - t0)
    total = -float(flow.optimal_cost()) / FLOW_SCALE + float(np.dot(mu, lay.budget))
    # a margin for the sum of the budgets' products in floating point
    total += 1e-9 * max(1.0, abs(total))
    return FlowBound(total, matched, fund[matched], time.perf_counter() - t0)


def fund_spend(lay: Layout, pairs: Pairs, fb: FlowBound) -> FloatArray:
    """What the matching of ``fb`` would take from each fund (its best fund per pair)."""
    spend = np.zeros(lay.n_funds)
    paid = fb.fund >= 0
    np.add.at(spend, fb.fund[paid], lay.amount[fb.matched[paid]])
    return spend


@dataclass(frozen=True)
class PriceSearch:
    """The best flow bound found over fund prices."""

    best: FlowBound
    price: FloatArray
    evaluations: int
    history: tuple[tuple[float, float], ...]
    """(seconds, bound) of each evaluation."""


def search_fund_prices(inst: Instance, lay: Layout, pairs: Pairs, target: float,
                       deadline: float, first: FlowBound | None = None,
                       max_evaluations: int = 24) -> PriceSearch:
    """Fund prices that tighten :func:`flow_bound`: one common price, then each fund's.

    ``flow_bound(mu)`` is convex in the prices ``mu >= 0``, and ``budget - spend(mu)`` is
    a subgradient. At ``mu = 0`` the funds' spends are arbitrary (every fund a household
    may use costs it nothing), so the search first prices all funds alike: with one
    price ``lam`` the bound's slope is the total budget less the total spend, and a
    bisection (on a log scale) finds where the matching stops overspending. Projected
    subgradient steps on each fund's price follow, of length ``(bound - target) /
    |g|^2`` (``target``: a weight some allocation reaches), halved whenever a bound
    fails to improve. Every evaluated bound is valid, so stopping at any time keeps the
    best one.
    """
    t0 = time.perf_counter()
    nf = lay.n_funds
    zero = np.zeros(nf)
    fb = first if first is not None else flow_bound(inst, lay, pairs, zero)
    best, best_mu = fb, zero.copy()
    history = [(time.perf_counter() - t0, fb.bound)]
    n = 1
    last = fb.seconds

    def evaluate(mu: FloatArray) -> FlowBound:
        nonlocal best, best_mu, n, last
        out = flow_bound(inst, lay, pairs, mu)
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
    total_budget = float(lay.budget.sum())
    positive = lay.amount[lay.amount > 0]
    if positive.size and float(fund_spend(lay, pairs, fb).sum()) > total_budget:
        # a common price: bisection on log(lam) for the spend to meet the budgets
        lo = math.log(1e-6 * float(lay.weight.max(initial=1.0)) / float(positive.max()))
        hi = math.log(float(lay.weight.max(initial=1.0)) / float(positive.min()))
        for _ in range(12):
            if not time_for_one():
                break
            mid = 0.5 * (lo + hi)
            out = evaluate(np.full(nf, math.exp(mid)))
            if not math.isfinite(out.bound):
                break
            if float(fund_spend(lay, pairs, out).sum()) > total_budget:
                lo = mid
            else:
                hi = mid
    mu, fb = best_mu.copy(), best
    scale = 1.0
    while time_for_one() and math.isfinite(fb.bound):
        g = lay.budget - fund_spend(lay, pairs, fb)
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
    x: FloatArray
    """The last master's solution: its columns with a positive value, largest first."""
    seconds: float
    history: tuple[tuple[float, float, float], ...]
    """Per pass: (seconds, master value, bound)."""
    matching: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    """The pairs of the matching with free budgets (the most weight, then the least
    money), heaviest and cheapest first: empty without ``flows``."""


def price_pairs(inst: Instance, pairs: Pairs, time_limit: float,
                seed_pairs: IntArray | None = None, per_household: int = 8, per_unit: int = 4,
                add_per_household: int = 4, drop_below: float = 1.0,
                max_columns: int = 400_000, max_iterations: int = 500,
                flows: bool = True, keep_rc: float = 0.5,
                search_share: float = 0.0) -> PricingResult:
    """Column generation for the weight's LP over all of ``pairs``, and its bound.

    First the budgets are priced at zero and the round solved as a matching
    (:func:`flow_bound`): a bound, and a near-optimal matching whose pairs join the first
    master. Then pricing passes until nothing prices in or the time is up. The bound is
    the best of the matching's and of the pricing passes' Lagrangian bounds, all valid
    whether or not the loop converged. (The matching again at the master's fund duals
    did not pay for its time at L: 122,204 after one pass against 122,076 at zero.)

    Parameters
    ----------
    inst, pairs:
        The round and all its eligible pairs.
    time_limit:
        Seconds for the whole (a pass or a flow under way finishes).
    seed_pairs:
        Pairs the first master must hold (e.g. an allocation's).
    per_household, per_unit:
        Each household's cheapest pairs, and each unit's heaviest households, in the
        first master.
    add_per_household:
        Most new columns per household and pass.
    drop_below, max_columns:
        Once the master holds more than ``max_columns`` columns, those at zero whose
        reduced cost is below ``-drop_below`` leave it.
    flows:
        Whether to compute the matching bounds (the pricing bound alone is weaker until
        the loop converges).
    keep_rc:
        The last master's columns whose reduced cost is at least ``-keep_rc`` are kept
        for the integer search, with those in its solution.
    search_share:
        Share of ``time_limit`` kept, after the pricing passes, for the search of fund
        prices that tighten the matching bound (:func:`search_fund_prices`; with
        ``flows``). At M it brings the matching bound from 11,635 to 11,561, the LP's
        value being 11,560, where the pricing passes' own bounds converge slowly.
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    lay = layout(inst, pairs)
    pinned = np.flatnonzero(lay.allowed & np.isin(
        pairs.beneficiary, [inst.beneficiary_index[p.beneficiary] for p in inst.pinned]))
    first = [starting_pairs(lay, pairs, per_household, per_unit), pinned]
    if seed_pairs is not None:
        first.append(seed_pairs[lay.allowed[seed_pairs]])
    bound = float("inf")
    history: list[tuple[float, float, float]] = []
    matched: list[IntArray] = []
    if flows:
        fb = flow_bound(inst, lay, pairs, np.zeros(lay.n_funds))
        bound = fb.bound
        matched.append(fb.matched)
        first.append(fb.matched)
        history.append((time.perf_counter() - t0, float("nan"), fb.bound))
        logger.info("matching with free budgets: bound %.3f, %.1f s", fb.bound, fb.seconds)
    master = Master(lay, pairs)
    master.add(*columns_of_pairs(lay, pairs, np.concatenate(first)))
    lp_value = float("nan")
    converged = False
    empty = np.zeros(0, dtype=np.int64)
    near_pairs, x_pair, x_fund, x_val = empty, empty, empty, np.zeros(0)
    first_pairs = np.unique(np.concatenate(first[1:])) if len(first) > 1 else empty
    last_added = 0
    loop_end = deadline - search_share * time_limit if flows else deadline
    it = 0
    while it < max_iterations:
        it += 1
        lp = master.solve(max(0.5, loop_end - time.perf_counter()))
        if not lp.optimal:
            if lp.infeasible:
                empty = np.zeros(0, dtype=np.int64)
                return PricingResult(float("inf"), float("nan"), False, True, it,
                                     master.col_pair.size, np.unique(master.col_pair),
                                     empty, empty, np.zeros(0), time.perf_counter() - t0,
                                     tuple(history))
            break
        lp_value = lp.value
        y = valid_duals(lay, lp.y)
        on = lp.x > 1e-9
        order = np.argsort(-lp.x[on], kind="stable")
        x_pair, x_fund, x_val = (master.col_pair[on][order], master.col_fund[on][order],
                                 lp.x[on][order])
        near = on | (master.reduced_costs(y) >= -keep_rc)
        near_pairs = np.unique(master.col_pair[near])
        priced = price(lay, pairs, y, master.codes(), add_per_household)
        bound = min(bound, priced.bound)
        history.append((time.perf_counter() - t0, lp_value, priced.bound))
        logger.info("pricing pass %d: %d columns, master %.3f, bound %.3f, %d new, %.1f s",
                    it, master.col_pair.size, lp_value, priced.bound, priced.new_pair.size,
                    time.perf_counter() - t0)
        if priced.new_pair.size == 0 or bound - lp_value <= 1e-9 * max(1.0, abs(bound)):
            converged = True
            break
        if time.perf_counter() >= loop_end:
            break
        if master.col_pair.size > max_columns:
            # the master grows slow to solve: drop what is far from entering, except
            # the columns the last pass brought (dropping those cycles)
            rc = master.reduced_costs(y)
            fresh = np.arange(master.col_pair.size) >= master.col_pair.size - last_added
            master.keep((lp.x > 1e-9) | (rc > -drop_below) | fresh)
        master.add(priced.new_pair, priced.new_fund)
        last_added = priced.new_pair.size
    if flows and search_share > 0 and math.isfinite(bound) and time.perf_counter() < deadline:
        target = lp_value if math.isfinite(lp_value) else 0.99 * bound
        ps = search_fund_prices(inst, lay, pairs, target, deadline, first=fb)
        if ps.best.bound < bound:
            bound = ps.best.bound
            matched.append(ps.best.matched)
        history.extend((time.perf_counter() - t0 - ps.history[-1][0] + s, float("nan"), b)
                       for s, b in ps.history[1:])
        logger.info("fund prices: matching bound %.3f after %d evaluations", ps.best.bound,
                    ps.evaluations)
    keep = np.union1d(near_pairs, first_pairs)
    if matched:
        keep = np.union1d(keep, np.concatenate(matched))
    return PricingResult(bound=bound, lp_value=lp_value, converged=converged, infeasible=False,
                         iterations=it, columns=int(master.col_pair.size),
                         keep=keep, x_pair=x_pair, x_fund=x_fund, x=x_val,
                         seconds=time.perf_counter() - t0,
                         history=tuple(history), matching=matched[0] if matched else empty)
