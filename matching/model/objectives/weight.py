"""Objective 1: maximise the weight of the placed households."""

from __future__ import annotations

from matching.instance import Instance
from matching.model.columns import Columns
from matching.model.objectives.base import IntArray, ObjectiveTerm


class PlacedWeight(ObjectiveTerm):
    """``sum(weight(b))`` over placed households (``priority * persons`` or ``priority``)."""

    name = "weight"
    sense = "max"

    def coefficients(self, cols: Columns, inst: Instance) -> IntArray:
        return weights(inst)[cols.beneficiary]


def weights(inst: Instance) -> IntArray:
    """Every household's weight, by index."""
    return inst.weight_array
