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
from matching.model.objectives.weight import ClassWeight, PlacedWeight

OBJECTIVES: tuple[ObjectiveTerm, ...] = (PlacedWeight(), MonthlyContribution(), TotalCommute())
OBJECTIVES_V2: tuple[ObjectiveTerm, ...] = (PlacedWeight(), MoneySpent(), TotalCommute())


def objectives_of(inst: Instance) -> tuple[ObjectiveTerm, ...]:
    """The objective terms of the round's format; in the strict priority mode, the weight
    is split by priority class, highest first (each class's weight is maximised with the
    higher classes' held)."""
    terms = OBJECTIVES_V2 if inst.v2 else OBJECTIVES
    if inst.policy.priority_mode != "strict":
        return terms
    classes = sorted({b.priority for b in inst.beneficiaries if b.priority > 0}, reverse=True)
    if not classes:
        return terms
    return (*(ClassWeight(p) for p in classes), *terms[1:])


def weight_terms(terms: tuple[ObjectiveTerm, ...]) -> int:
    """How many of ``terms`` make up the weight (objective 1): they come first."""
    return sum(t.role == 0 for t in terms)


def stage_share(shares: tuple[float, ...], terms: tuple[ObjectiveTerm, ...], term: int) -> float:
    """The share of the time left that stage ``term`` may use, given the shares of the
    contract's stages (weight, money, commute) for the stages run: the weight's share is
    split evenly between the terms that make it up."""
    k = weight_terms(terms)
    role = terms[term].role
    if role > 0 or k == 1:
        return shares[role]
    each = shares[0] / k
    return each / (1.0 - each * term)


__all__ = [
    "OBJECTIVES",
    "OBJECTIVES_V2",
    "ClassWeight",
    "MoneySpent",
    "MonthlyContribution",
    "ObjectiveTerm",
    "PlacedWeight",
    "TotalCommute",
    "objectives_of",
    "stage_share",
    "weight_terms",
]
