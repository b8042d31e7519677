"""Each dwelling holds at most one household."""

from __future__ import annotations

import numpy as np

from matching.model.columns import Columns
from matching.model.space import Activity, RowBlock, Touch, Universe


class OneHouseholdPerDwelling:
    """A row per dwelling: ``sum(x) <= 1`` over its columns."""

    name = "one_household_per_dwelling"

    def declare(self, u: Universe) -> RowBlock:
        inst = u.inst
        nd = len(inst.dwellings)
        ids = [d.id for d in inst.dwellings]
        capacity = np.full(inst.n_units, len(inst.beneficiaries), dtype=np.int64)
        capacity[:nd] = 1

        def touch(cols: Columns) -> Touch:
            j = np.flatnonzero(cols.unit < nd)
            return Touch(j, cols.unit[j], np.ones(j.size, dtype=np.int64))

        def blocker(row: int, act: Activity) -> str:
            return "units_taken"

        return RowBlock(rule=self.name, lo=np.full(nd, -np.inf), hi=np.ones(nd), touch=touch,
                        names=lambda r: f"one household in dwelling {ids[r]}",
                        unit_capacity=capacity, blocker=blocker)
