"""The round's constraints across placements, one module per rule.

Rules 1-7 of the contract concern a single pair and are enforced when pairs are built
(:mod:`matching.eligibility`): a pair breaking one has no column. The rules here are the
rules *across* the round. Each declares its rows once (:class:`~matching.model.space.RowBlock`);
every solver, the pricing, greedy, the pin checks and the explanations read them.

Adding a rule: a module here with a class whose ``declare(universe)`` returns its
``RowBlock``, its entry in :data:`RULES`, its check in :mod:`matching.validate` and, if it
can stop a placement, its reason code in :mod:`matching.explain`.
"""

from __future__ import annotations

from typing import Protocol

from matching.model.rules.floors import GroupFloors
from matching.model.rules.funds import FundBudgets
from matching.model.rules.guarantee import GuaranteeCapacity
from matching.model.rules.one_household import OneHouseholdPerDwelling
from matching.model.rules.one_placement import OnePlacementPerHousehold
from matching.model.rules.rooms import BedsAndSingleGenderRooms
from matching.model.rules.shuttles import ShuttleSeats
from matching.model.space import RowBlock, RowSpace, Universe


class Rule(Protocol):
    """A constraint family of the round."""

    name: str

    def declare(self, u: Universe) -> RowBlock: ...


RULES: tuple[Rule, ...] = (
    OnePlacementPerHousehold(),
    OneHouseholdPerDwelling(),
    BedsAndSingleGenderRooms(),
    ShuttleSeats(),
    GuaranteeCapacity(),
    FundBudgets(),
    GroupFloors(),
)


def declare(u: Universe, rules: tuple[Rule, ...] = RULES) -> RowSpace:
    """The rows of every rule of the round."""
    return RowSpace(u, [rule.declare(u) for rule in rules])


__all__ = [
    "RULES",
    "BedsAndSingleGenderRooms",
    "FundBudgets",
    "GroupFloors",
    "GuaranteeCapacity",
    "OneHouseholdPerDwelling",
    "OnePlacementPerHousehold",
    "Rule",
    "ShuttleSeats",
    "declare",
]
