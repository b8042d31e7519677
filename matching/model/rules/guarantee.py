"""The guarantee fund: the rent it may have to cover, within its capacity.

instance@2, "Landlords' terms and the guarantee": a placement on terms with
``"guaranteed": true`` exposes the guarantee fund to ``rent * months`` of those terms
(``policy.guarantee.months``); the exposures add up to at most its capacity.
"""

from __future__ import annotations

import numpy as np

from matching.model.columns import Columns
from matching.model.space import Activity, RowBlock, Touch, Universe


class GuaranteeCapacity:
    """One row: ``sum(exposure * x) <= capacity`` over the columns on guaranteed terms
    (no row when the round has no guarantee)."""

    name = "guarantee_capacity"

    def declare(self, u: Universe) -> RowBlock:
        inst = u.inst
        g = inst.policy.guarantee
        exposure = (
            {
                (d, k): t.rent_cents * g.months
                for d, dw in enumerate(inst.dwellings)
                for k, t in enumerate(dw.terms)
                if t.guaranteed
            }
            if g is not None
            else {}
        )
        n = 1 if g is not None else 0

        def touch(cols: Columns) -> Touch:
            if not exposure:
                return Touch.empty()
            j = np.flatnonzero(cols.term >= 0)
            amount = np.array(
                [
                    exposure.get((int(d), int(k)), 0)
                    for d, k in zip(cols.unit[j].tolist(), cols.term[j].tolist(), strict=True)
                ],
                dtype=np.int64,
            )
            keep = amount > 0
            return Touch(j[keep], np.zeros(int(keep.sum()), dtype=np.int64), amount[keep])

        def blocker(r: int, act: Activity) -> str:
            return "guarantee_exhausted"

        return RowBlock(
            rule=self.name,
            lo=np.full(n, -np.inf),
            hi=np.full(n, float(g.capacity_cents) if g is not None else 0.0),
            names=lambda r: "capacity of the guarantee fund",
            touch=touch,
            blocker=blocker,
        )
