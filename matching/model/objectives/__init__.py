"""The lexicographic objective of the spec, one class per term, in order."""

from __future__ import annotations

from matching.model.objectives.base import ObjectiveTerm
from matching.model.objectives.commute import TotalCommute
from matching.model.objectives.contribution import MonthlyContribution
from matching.model.objectives.weight import PlacedWeight

OBJECTIVES: tuple[ObjectiveTerm, ...] = (PlacedWeight(), MonthlyContribution(), TotalCommute())

__all__ = ["OBJECTIVES", "MonthlyContribution", "ObjectiveTerm", "PlacedWeight", "TotalCommute"]
