"""The lexicographic objective of the contract, one class per term, in order.

instance@1 minimises the monthly contribution second; instance@2 the money spent
(placements' costs and opened lines).
"""

from __future__ import annotations

from matching.instance import Instance
from matching.model.objectives.base import ObjectiveTerm
from matching.model.objectives.commute import TotalCommute
from matching.model.objectives.contribution import MonthlyContribution
from matching.model.objectives.money import MoneySpent
from matching.model.objectives.weight import PlacedWeight

OBJECTIVES: tuple[ObjectiveTerm, ...] = (PlacedWeight(), MonthlyContribution(), TotalCommute())
OBJECTIVES_V2: tuple[ObjectiveTerm, ...] = (PlacedWeight(), MoneySpent(), TotalCommute())


def objectives_of(inst: Instance) -> tuple[ObjectiveTerm, ...]:
    """The objective terms of the round's format."""
    return OBJECTIVES_V2 if inst.v2 else OBJECTIVES


__all__ = [
    "OBJECTIVES",
    "OBJECTIVES_V2",
    "MoneySpent",
    "MonthlyContribution",
    "ObjectiveTerm",
    "PlacedWeight",
    "TotalCommute",
    "objectives_of",
]
