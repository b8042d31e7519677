"""Each beneficiary gets at most one placement; a pinned one gets exactly its pinned one."""

from __future__ import annotations

from matching.instance import Instance
from matching.model.rows import Rows
from matching.model.variables import Variables


class OnePlacementPerBeneficiary:
    """``sum(x) <= 1`` over a beneficiary's columns; ``== 1`` when pinned.

    A pinned beneficiary's columns are already restricted to the pinned unit
    (:meth:`matching.model.variables.Columns.of`); if none is left the pin breaks a
    pair rule and the model is infeasible, as the spec requires.
    """

    name = "one_placement"

    def build(self, rows: Rows, v: Variables, inst: Instance) -> None:
        pinned = {inst.beneficiary_index[p.beneficiary] for p in inst.pinned}
        for bi in sorted(pinned):
            rows.exactly_one(v.by_beneficiary.get(bi, []), f"pinned b{bi}")
        for bi, cols in v.by_beneficiary.items():
            if bi not in pinned and len(cols) > 1:
                rows.at_most_one(cols, f"one placement b{bi}")
