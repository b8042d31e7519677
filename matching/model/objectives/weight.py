"""Objective 1: maximise the weight of the placed households."""

from __future__ import annotations

import numpy as np

from matching.instance import Instance
from matching.model.columns import Columns
from matching.model.objectives.base import IntArray, ObjectiveTerm


class PlacedWeight(ObjectiveTerm):
    """``sum(weight(b))`` over placed households (``priority * persons`` or ``priority``)."""

    name = "weight"
    sense = "max"

    def coefficients(self, cols: Columns, inst: Instance) -> IntArray:
        return weights(inst)[cols.beneficiary]


class ClassWeight(ObjectiveTerm):
    """The strict priority mode's terms: the weight placed among the households of one
    priority, one term per priority, highest first (:func:`objectives_of`)."""

    sense = "max"

    def __init__(self, priority: int) -> None:
        self.priority = priority
        self.name = f"weight_priority_{priority}"

    def coefficients(self, cols: Columns, inst: Instance) -> IntArray:
        w = weights(inst)[cols.beneficiary]
        return np.where(priorities(inst)[cols.beneficiary] == self.priority, w, 0)


def priorities(inst: Instance) -> IntArray:
    return np.array([b.priority for b in inst.beneficiaries], dtype=np.int64)


def weights(inst: Instance) -> IntArray:
    """Every household's weight, by index."""
    return inst.weight_array
