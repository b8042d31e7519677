"""instance@2's objective 2: minimise the money spent."""

from __future__ import annotations

import numpy as np

from matching.instance import Instance
from matching.model.columns import Columns
from matching.model.objectives.base import IntArray, ObjectiveTerm
from matching.model.space import RowSpace


class MoneySpent(ObjectiveTerm):
    """The placements' costs (contribution x months + one-off) plus the opened lines'
    costs, in cents."""

    name = "money_cents"
    sense = "min"
    role = 1

    def coefficients(self, cols: Columns, inst: Instance) -> IntArray:
        return cols.cost_cents

    def aux_coefficients(self, space: RowSpace) -> IntArray:
        return np.concatenate(
            [
                b.aux_money if b.aux_money is not None else np.zeros(b.n_aux, dtype=np.int64)
                for b in space.blocks
            ]
            or [np.zeros(0, dtype=np.int64)]
        )
