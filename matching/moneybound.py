"""A bound on the weight that knows the money: the round as a knapsack over the funds.

Where the funds run out long before the homes do, the bounds that relax the budgets
(the matching with free budgets at L, the households with a pair at XL) say little: the
engine may place every household it can afford and still be "2% from its bound". This
bound relaxes every rule but the budgets instead. Each household ``b`` is taken at the
least its options could cost, ``c_b`` (contribution x months + one-off; 0 when some
option is free), and at most once; a fund ``k`` pays at most its budget, and only for
the households its tags allow. Its LP,

    max sum_b,k w_b x_bk   s.t.   sum_k x_bk <= 1,   sum_b c_b x_bk <= B_k,   0 <= x <= 1

(households with a free option count whole, with no x), bounds the weight of every
allocation: an allocation pays at least ``c_b`` for each household it places with a
cost. It is solved by HiGHS (SciPy); its value is then recomputed from its fund duals
``mu >= 0`` as the Lagrangian ``sum_k mu_k B_k + sum_b max(0, w_b - min_k mu_k c_b)``,
valid for any ``mu >= 0`` whatever the LP's tolerances (:func:`lagrangian`).

The prices ``mu`` also price the funds in the matching bound
(:func:`matching.pricing.flow_bound`), which then knows both the homes and the money.

``c_b`` is exact when the round's pairs are listed (:func:`least_costs`); a round too
large to list them (XL) uses a lower bound from a grid (:func:`least_costs_by_cells`):
the cheapest offer of every cell some point of which is within the household's reach,
among the units whose type, size, children and step-free rules it meets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from matching import geo
from matching.eligibility import Arrays, Pairs
from matching.instance import Instance
from matching.model.payers import FundTable, cost_cents

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

KM_PER_DEGREE_MAX = 112.0
"""A degree of latitude or longitude is never longer than this."""


@dataclass(frozen=True)
class MoneyBound:
    """The knapsack bound and its fund prices."""

    bound: float
    """An upper bound on the weight of every allocation (``inf``: none found)."""
    prices: FloatArray
    """Per fund, its price in weight per cent (the LP's dual, ``>= 0``)."""


def lagrangian(
    weight: FloatArray, least: IntArray, ok: BoolArray, budget: IntArray, mu: FloatArray
) -> float:
    """``sum_k mu_k B_k + sum_b max(0, w_b - min_k mu_k c_b)`` over the households with
    an option (``least >= 0``); a household with a free option counts whole, one whose
    options all cost and that no fund may pay for counts nothing. Valid for any
    ``mu >= 0``: the knapsack's Lagrangian relaxation of the budgets."""
    mu = np.maximum(0.0, np.asarray(mu, dtype=np.float64))
    free = least == 0
    paid = least > 0
    total = float(weight[free].sum()) + float(np.dot(mu, budget.astype(np.float64)))
    if np.any(paid):
        price = np.where(ok[:, paid], mu[:, None], np.inf).min(axis=0) if ok.shape[0] else None
        if price is not None:
            gain = weight[paid] - price * least[paid].astype(np.float64)
            total += float(np.maximum(0.0, np.where(np.isfinite(gain), gain, 0.0)).sum())
    # a margin for the sums in floating point
    return total + 1e-9 * max(1.0, abs(total))


def knapsack_bound(
    weight: FloatArray, least: IntArray, ok: BoolArray, budget: IntArray
) -> MoneyBound:
    """The LP of the module docstring, and its value at its own fund duals.

    ``weight`` and ``least`` are per household (``least < 0``: no option at all),
    ``ok`` is (funds, households), ``budget`` per fund, in cents.
    """
    nf = int(budget.shape[0])
    zero = np.zeros(nf)
    paid = np.flatnonzero(least > 0)
    cols_k, cols_b = np.nonzero(ok[:, paid]) if nf else (np.zeros(0, int), np.zeros(0, int))
    if cols_k.size == 0:
        return MoneyBound(lagrangian(weight, least, ok, budget, zero), zero)
    n = cols_k.size
    hh = paid[cols_b]
    # rows: one per household (at most one fund pays), one per fund (its budget, scaled
    # to 1 so that cents and weights sit in one range)
    _, h_row = np.unique(hh, return_inverse=True)
    n_h = int(h_row.max()) + 1
    scale = np.maximum(budget.astype(np.float64), 1.0)
    a = sparse.csr_matrix(
        (
            np.concatenate([np.ones(n), least[hh].astype(np.float64) / scale[cols_k]]),
            (np.concatenate([h_row, n_h + cols_k]), np.concatenate([np.arange(n)] * 2)),
        ),
        shape=(n_h + nf, n),
    )
    b_ub = np.concatenate([np.ones(n_h), np.where(budget > 0, 1.0, 0.0)])
    res = linprog(
        -weight[hh].astype(np.float64),
        A_ub=a,
        b_ub=b_ub,
        bounds=(0.0, 1.0),
        method="highs",
    )
    mu = zero
    if res.status == 0 and res.ineqlin is not None:
        # marginals are <= 0 for a minimisation's <= rows; a fund row's price per cent
        mu = np.maximum(0.0, -np.asarray(res.ineqlin.marginals[n_h:], dtype=np.float64)) / scale
    return MoneyBound(lagrangian(weight, least, ok, budget, mu), mu)


def least_costs(inst: Instance, pairs: Pairs, one_off: IntArray | None = None) -> IntArray:
    """Per household, the least cost of its listed options (``-1``: none)."""
    nb = len(inst.beneficiaries)
    out = np.full(nb, -1, dtype=np.int64)
    if len(pairs) == 0:
        return out
    months = np.array([inst.months(b) for b in inst.beneficiaries], dtype=np.int64)
    cost = cost_cents(
        pairs.contribution_cents,
        months[pairs.beneficiary],
        np.zeros(len(pairs), np.int64) if one_off is None else one_off,
    )
    big = np.iinfo(np.int64).max
    least = np.full(nb, big, dtype=np.int64)
    np.minimum.at(least, pairs.beneficiary, cost)
    return np.where(least == big, -1, least)


def money_bound(inst: Instance, least: IntArray) -> MoneyBound:
    """:func:`knapsack_bound` for ``inst`` with the households' least costs ``least``."""
    table = FundTable.of(inst)
    weight = inst.weight_array.astype(np.float64)
    return knapsack_bound(weight, least, table.ok, table.budget)


def least_costs_by_cells(inst: Instance, cell_deg: float = 0.05) -> IntArray:
    """Per household, a lower bound on the cost of any option it may have, without
    listing pairs: the cheapest rent and one-off (apart) among the units of the cells
    some point of which lies within its reach, whose type, size, children and step-free
    rules it meets (the other rules relaxed). A household near a stop of a shuttle line
    may be housed near any other: it is taken against every unit. ``-1``: no unit."""
    arr = Arrays.of(inst)
    nb, nu = len(inst.beneficiaries), inst.n_units
    out = np.full(nb, -1, dtype=np.int64)
    if nb == 0 or nu == 0:
        return out
    big = np.iinfo(np.int64).max
    # per unit: its cheapest offer's rent and one-off (apart: a lower bound either way)
    n_off = np.diff(arr.u_offers)
    first = arr.u_offers[:-1]
    rent = np.where(
        n_off > 0, np.minimum.reduceat(arr.o_rent, np.minimum(first, arr.o_rent.size - 1)), big
    )
    one_off = np.where(
        n_off > 0,
        np.minimum.reduceat(arr.o_one_off, np.minimum(first, arr.o_one_off.size - 1)),
        big,
    )
    # unit classes: (dwelling capacity, children, step-free) or a bed (step-free)
    cap = np.where(arr.u_is_dwelling, arr.u_capacity, 0)
    max_p = int(max(1, arr.b_persons.max(initial=1)))
    u_key = (np.floor(arr.u_lat / cell_deg).astype(np.int64) << 32) + np.floor(
        arr.u_lon / cell_deg
    ).astype(np.int64)
    cells, u_cell = np.unique(u_key, return_inverse=True)
    nc = cells.size
    # table[cell, kind]: kind = bed (0: any, 1: step-free) or dwelling (persons p,
    # children c, step s): the least rent and one-off of a unit that fits
    kinds = 2 + (max_p + 1) * 4
    t_rent = np.full((nc, kinds), big, dtype=np.int64)
    t_one = np.full((nc, kinds), big, dtype=np.int64)
    beds = ~arr.u_is_dwelling
    for s in (0, 1):
        m = beds & (arr.u_step_free if s else True)
        np.minimum.at(t_rent[:, s], u_cell[m], rent[m])
        np.minimum.at(t_one[:, s], u_cell[m], one_off[m])
    for p in range(max_p + 1):
        for c in (0, 1):
            for s in (0, 1):
                m = arr.u_is_dwelling & (cap >= p)
                if c:
                    m &= arr.u_children_ok
                if s:
                    m &= arr.u_step_free
                k = 2 + p * 4 + c * 2 + s
                np.minimum.at(t_rent[:, k], u_cell[m], rent[m])
                np.minimum.at(t_one[:, k], u_cell[m], one_off[m])
    # per household: its bed kind and its dwelling kind (-1: not accepted)
    step = arr.b_step_free.astype(np.int64)
    bed_kind = np.where(arr.b_bed_ok, step, -1)
    dw_kind = np.where(
        arr.b_accepts_dwelling,
        2 + np.minimum(arr.b_persons, max_p) * 4 + (arr.b_minors > 0) * 2 + step,
        -1,
    )
    # cell centres, and how far a point may be from its cell's centre
    ci = (cells >> 32).astype(np.float64)
    cj = (cells - ((cells >> 32) << 32)).astype(np.float64)
    c_lat, c_lon = (ci + 0.5) * cell_deg, (cj + 0.5) * cell_deg
    half = 0.5 * cell_deg * KM_PER_DEGREE_MAX * math.sqrt(2.0)
    reach = arr.b_max_km / inst.policy.circuity * geo.SPHERE_MARGIN + 1e-3
    near_line = _near_a_line(inst, arr)
    months = arr.b_months
    pay = arr.b_pay
    for start in range(0, nb, 4_096):
        sl = slice(start, min(nb, start + 4_096))
        # the unit cell's centre within reach + half a diagonal of the unit's cell (the
        # household's own point is exact); haversine 0.5% within the geodesic
        d = geo.haversine_km(
            arr.b_lat[sl, None], arr.b_lon[sl, None], c_lat[None, :], c_lon[None, :]
        )
        within = d * 0.99 - half <= reach[sl, None]
        within[near_line[sl]] = True
        best_rent = np.full(within.shape[0], big, dtype=np.int64)
        best_one = np.full(within.shape[0], big, dtype=np.int64)
        for kind in (bed_kind[sl], dw_kind[sl]):
            has = kind >= 0
            if not np.any(has):
                continue
            r = np.where(within[has], t_rent[:, kind[has]].T, big).min(axis=1)
            o = np.where(within[has], t_one[:, kind[has]].T, big).min(axis=1)
            best_rent[has] = np.minimum(best_rent[has], r)
            best_one[has] = np.minimum(best_one[has], o)
        found = best_rent < big
        contribution = np.maximum(0, np.where(found, best_rent, 0) - pay[sl])
        cost = cost_cents(contribution, months[sl], np.where(found, best_one, 0))
        out[sl] = np.where(found, cost, -1)
    return out


def _near_a_line(inst: Instance, arr: Arrays) -> BoolArray:
    """Households whose work lies within walking distance of some line's stop (with the
    sphere's margin): they may ride it (:func:`matching.eligibility.line_options`)."""
    near = np.zeros(len(inst.beneficiaries), dtype=bool)
    walk = inst.policy.walk_km
    if walk is None:
        return near
    for line in inst.shuttles:
        for st in line.stops:
            d = geo.haversine_km(arr.b_lat, arr.b_lon, st.lat, st.lon)
            near |= d * 0.99 <= walk * geo.SPHERE_MARGIN + 1e-3
    return near
