"""Each fund pays at most its budget over the round."""

from __future__ import annotations

import numpy as np

from matching.model.columns import Columns
from matching.model.space import Activity, RowBlock, Touch, Universe


class FundBudgets:
    """A knapsack per fund: ``sum(cost * x) <= budget`` over the columns it pays.

    A positive contribution is charged to exactly one fund, because each column names
    one fund (:mod:`matching.model.columns`) and a household takes at most one column.
    """

    name = "fund_budgets"

    def declare(self, u: Universe) -> RowBlock:
        inst = u.inst
        ids = [f.id for f in inst.funds]

        def touch(cols: Columns) -> Touch:
            j = np.flatnonzero(cols.fund >= 0)
            return Touch(j, cols.fund[j], cols.cost_cents[j])

        def blocker(row: int, act: Activity) -> str:
            return "funds_exhausted"

        return RowBlock(
            rule=self.name,
            lo=np.full(len(ids), -np.inf),
            hi=u.funds.budget.astype(np.float64),
            touch=touch,
            names=lambda r: f"budget of fund {ids[r]}",
            blocker=blocker,
        )
