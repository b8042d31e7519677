"""Objective 2: minimise the total monthly contribution, in cents."""

from __future__ import annotations

from matching.instance import Instance
from matching.model.columns import Columns
from matching.model.objectives.base import IntArray, ObjectiveTerm


class MonthlyContribution(ObjectiveTerm):
    """``sum(contribution)`` over placements, in integer cents a month."""

    name = "contribution_cents"
    sense = "min"
    role = 1

    def coefficients(self, cols: Columns, inst: Instance) -> IntArray:
        return cols.contribution_cents
