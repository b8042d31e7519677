"""Objective 3: minimise the total commute, in the contract's whole metres."""

from __future__ import annotations

from matching.instance import Instance
from matching.model.columns import Columns
from matching.model.objectives.base import IntArray, ObjectiveTerm


class TotalCommute(ObjectiveTerm):
    """``sum(commute_m)`` over placements, ``commute_m = floor(1000 * commute_km + 0.5)``."""

    name = "commute_m"
    sense = "min"
    role = 2

    def coefficients(self, cols: Columns, inst: Instance) -> IntArray:
        return cols.commute_m
