"""Objective 1: maximise the weight of the placed beneficiaries."""

from __future__ import annotations

from matching.instance import Instance
from matching.model.objectives.base import ObjectiveTerm
from matching.model.variables import Variables


class PlacedWeight(ObjectiveTerm):
    """``sum(weight(b))`` over placed beneficiaries (``priority * persons`` or ``priority``)."""

    name = "weight"
    sense = "max"

    def coefficients(self, v: Variables, inst: Instance) -> list[int]:
        w = [inst.weight(b) for b in inst.beneficiaries]
        return [w[bi] for bi in v.columns.beneficiary.tolist()]
