"""Objective 2: minimise the total monthly contribution, in cents."""

from __future__ import annotations

from matching.instance import Instance
from matching.model.objectives.base import ObjectiveTerm
from matching.model.variables import Variables


class MonthlyContribution(ObjectiveTerm):
    """``sum(contribution)`` over placements, in integer cents a month."""

    name = "contribution_cents"
    sense = "min"

    def coefficients(self, v: Variables, inst: Instance) -> list[int]:
        return [int(c) for c in v.columns.contribution_cents.tolist()]
