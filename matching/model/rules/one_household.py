"""Each dwelling holds at most one household."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matching.instance import Instance
from matching.model.variables import Variables


class OneHouseholdPerDwelling:
    """``sum(x) <= 1`` over the columns of each dwelling."""

    name = "one_household_per_dwelling"

    def build(self, model: cp_model.CpModel, v: Variables, inst: Instance) -> None:
        for ui in range(len(inst.dwellings)):
            cols = v.by_unit.get(ui, [])
            if len(cols) > 1:
                model.add_at_most_one(v.x[j] for j in cols)
