"""The model's columns: an eligible pair together with one way of paying for it.

A pair with zero contribution has one column (no fund); a pair with a positive one has
a column per fund that may pay it (:class:`~matching.model.payers.FundTable`). Choosing
column ``j`` places the household in the unit, charged to that fund. Every fund is then
a plain knapsack over booleans, with a tight linear relaxation, instead of a big-M split
of amounts.

Columns are built for any slice of the round's pairs, so that the whole formulation, a
pricing block of millions of pairs and greedy's look at one household all make them the
same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.eligibility import Pairs
from matching.instance import Instance
from matching.model.payers import FundTable, cost_cents

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Columns:
    """Columns as parallel arrays, sorted by pair then fund."""

    pair: IntArray
    """Index into the round's :class:`~matching.eligibility.Pairs`."""
    beneficiary: IntArray
    unit: IntArray
    fund: IntArray
    """Fund index, or -1 when the contribution is zero."""
    contribution_cents: IntArray
    """Monthly contribution (objective 2 sums it)."""
    cost_cents: IntArray
    """What the paying fund spends over the round (contribution x months)."""
    commute_m: IntArray
    """Whole metres (objective 3 sums them)."""

    def __len__(self) -> int:
        return int(self.pair.shape[0])

    def subset(self, keep: BoolArray | IntArray) -> Columns:
        """The columns ``keep`` selects (a mask or sorted indices), in the same order."""
        return Columns(pair=self.pair[keep], beneficiary=self.beneficiary[keep],
                       unit=self.unit[keep], fund=self.fund[keep],
                       contribution_cents=self.contribution_cents[keep],
                       cost_cents=self.cost_cents[keep], commute_m=self.commute_m[keep])

    def codes(self, n_funds: int) -> IntArray:
        """A code per column, ``pair * (funds + 1) + fund + 1``, unique in the round."""
        return np.asarray(self.pair * (n_funds + 1) + self.fund + 1, dtype=np.int64)


def allowed_pairs(inst: Instance, pairs: Pairs) -> BoolArray:
    """Which pairs may have columns: a pinned household keeps its pinned unit only."""
    allowed = np.ones(len(pairs), dtype=bool)
    for pin in inst.pinned:
        sl = pairs.of_beneficiary(inst.beneficiary_index[pin.beneficiary])
        allowed[sl] = pairs.unit[sl] == inst.unit_index[pin.unit]
    return allowed


def columns_of(inst: Instance, pairs: Pairs, funds: FundTable, allowed: BoolArray,
               idx: IntArray | None = None, ordered: bool = True) -> Columns:
    """Every column of the pairs ``idx`` (sorted indices; all pairs when None), sorted by
    pair then fund unless ``ordered`` is False (a pricing block needs no order)."""
    if idx is None:
        idx = np.arange(len(pairs), dtype=np.int64)
    idx = idx[allowed[idx]]
    b = pairs.beneficiary[idx]
    c = pairs.contribution_cents[idx]
    cost = cost_cents(c, inst.policy.contribution_months)
    parts = [np.flatnonzero(c == 0)]
    fund_parts = [np.full(parts[0].shape, -1, dtype=np.int64)]
    for k in range(funds.n):
        sel = np.flatnonzero(funds.may_pay(k, b, cost))
        parts.append(sel)
        fund_parts.append(np.full(sel.shape, k, dtype=np.int64))
    local = np.concatenate(parts)
    fund = np.concatenate(fund_parts)
    if ordered:
        order = np.lexsort((fund, local))
        local, fund = local[order], fund[order]
    pair = idx[local]
    return Columns(pair=pair, beneficiary=b[local], unit=pairs.unit[pair], fund=fund,
                   contribution_cents=c[local], cost_cents=cost[local],
                   commute_m=pairs.commute_m[pair])
