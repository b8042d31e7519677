"""Each beneficiary gets at most one placement; a pinned one gets exactly its pinned one."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matching.instance import Instance
from matching.model.variables import Variables


class OnePlacementPerBeneficiary:
    """``sum(x) <= 1`` over a beneficiary's columns; ``== 1`` when pinned.

    A pinned beneficiary's columns are already restricted to the pinned unit
    (:meth:`matching.model.variables.Columns.of`); if none is left the pin breaks a
    pair rule and the model is infeasible, as the spec requires.
    """

    name = "one_placement"

    def build(self, model: cp_model.CpModel, v: Variables, inst: Instance) -> None:
        pinned = {inst.beneficiary_index[p.beneficiary] for p in inst.pinned}
        for bi in pinned:
            model.add_exactly_one(v.x[j] for j in v.by_beneficiary.get(bi, []))
        for bi, cols in v.by_beneficiary.items():
            if bi not in pinned and len(cols) > 1:
                model.add_at_most_one(v.x[j] for j in cols)
