"""Each household gets at most one placement; a pinned one gets exactly its pinned one."""

from __future__ import annotations

import numpy as np

from matching.model.columns import Columns
from matching.model.space import RowBlock, Touch, Universe


class OnePlacementPerHousehold:
    """A row per household: ``sum(x) <= 1`` over its columns, ``== 1`` when pinned.

    A pinned household's columns are its pinned unit's only
    (:func:`~matching.model.columns.allowed_pairs`); if it has none, the pin breaks a
    pair rule and the round is infeasible, as the contract requires.
    """

    name = "one_placement"

    def declare(self, u: Universe) -> RowBlock:
        inst = u.inst
        nb = len(inst.beneficiaries)
        lo = np.full(nb, -np.inf)
        for p in inst.pinned:
            lo[inst.beneficiary_index[p.beneficiary]] = 1.0
        ids = [b.id for b in inst.beneficiaries]

        def touch(cols: Columns) -> Touch:
            n = len(cols)
            return Touch(np.arange(n, dtype=np.int64), cols.beneficiary, np.ones(n, dtype=np.int64))

        return RowBlock(
            rule=self.name,
            lo=lo,
            hi=np.ones(nb),
            touch=touch,
            names=lambda r: f"one placement for {ids[r]}",
            convexity=True,
        )
