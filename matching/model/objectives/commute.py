"""Objective 3: minimise the total commute."""

from __future__ import annotations

from matching.instance import Instance
from matching.model.objectives.base import ObjectiveTerm
from matching.model.variables import Variables


class TotalCommute(ObjectiveTerm):
    """``sum(commute_km)`` over placements, minimised in whole metres.

    Rounding each commute to the metre can only confuse allocations whose totals differ
    by less than half a metre per placement.
    """

    name = "commute_km"
    sense = "min"

    def coefficients(self, v: Variables, inst: Instance) -> list[int]:
        return [int(m) for m in v.columns.commute_m.tolist()]
