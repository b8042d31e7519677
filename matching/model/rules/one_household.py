"""Each dwelling holds at most one household."""

from __future__ import annotations

from matching.instance import Instance
from matching.model.rows import Rows
from matching.model.variables import Variables


class OneHouseholdPerDwelling:
    """``sum(x) <= 1`` over the columns of each dwelling."""

    name = "one_household_per_dwelling"

    def build(self, rows: Rows, v: Variables, inst: Instance) -> None:
        for ui in range(len(inst.dwellings)):
            cols = v.by_unit.get(ui, [])
            if len(cols) > 1:
                rows.at_most_one(cols, f"one household u{ui}")
