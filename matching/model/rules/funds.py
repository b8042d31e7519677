"""Each fund pays at most its budget over the contribution months."""

from __future__ import annotations

import numpy as np

from matching.instance import Instance
from matching.model.rows import Rows
from matching.model.variables import Variables


class FundBudgets:
    """A knapsack per fund: ``sum(contribution * months * x) <= budget`` over its columns.

    A positive contribution is charged to exactly one fund because each column names
    one fund and a beneficiary takes at most one column.
    """

    name = "fund_budgets"

    def build(self, rows: Rows, v: Variables, inst: Instance) -> None:
        months = inst.policy.contribution_months
        c = v.columns.contribution_cents
        for k, fund in enumerate(inst.funds):
            cols = v.by_fund.get(k, [])
            if not cols:
                continue
            total = int(c[cols].sum()) * months
            if total <= fund.budget_cents:
                continue  # the budget cannot bind
            rows.linear(cols, [int(c[j]) * months for j in cols], -np.inf, fund.budget_cents,
                        f"budget {fund.id}")
