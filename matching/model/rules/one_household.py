"""Each dwelling holds at most one household (in each month, with seasons)."""

from __future__ import annotations

import numpy as np

from matching.instance import month_text
from matching.model.columns import Columns
from matching.model.space import Activity, RowBlock, Touch, Universe


class OneHouseholdPerDwelling:
    """A row per dwelling and month a stay begins: ``sum(x) <= 1`` over the columns of
    the households staying that month (without seasons, one row per dwelling)."""

    name = "one_household_per_dwelling"

    def declare(self, u: Universe) -> RowBlock:
        inst = u.inst
        nd, ns = len(inst.dwellings), len(u.starts)
        ids = [d.id for d in inst.dwellings]
        capacity = np.full(inst.n_units, len(inst.beneficiaries), dtype=np.int64)
        capacity[:nd] = ns  # households in one dwelling have stays that begin apart
        seasonal = inst.policy.horizon is not None and ns > 1

        def touch(cols: Columns) -> Touch:
            jd = np.flatnonzero(cols.unit < nd)
            pos, k = u.stay_starts(cols.beneficiary[jd])
            j = jd[pos]
            return Touch(j, cols.unit[j] * ns + k, np.ones(j.size, dtype=np.int64))

        def name(r: int) -> str:
            d, k = divmod(r, ns)
            when = f" in {month_text(int(u.starts[k]))}" if seasonal else ""
            return f"one household in dwelling {ids[d]}{when}"

        def blocker(row: int, act: Activity) -> str:
            return "units_taken"

        return RowBlock(
            rule=self.name,
            lo=np.full(nd * ns, -np.inf),
            hi=np.ones(nd * ns),
            touch=touch,
            names=name,
            unit_capacity=capacity,
            blocker=blocker,
        )
