"""The round's constraints, one class per rule.

Rules 1-7 of the spec concern a single pair and are enforced when pairs are built
(:mod:`matching.eligibility`): a pair breaking one has no variable. The classes here
are the rules *across* the round.
"""

from __future__ import annotations

from typing import Protocol

from matching.instance import Instance
from matching.model.rows import Rows
from matching.model.rules.funds import FundBudgets
from matching.model.rules.one_household import OneHouseholdPerDwelling
from matching.model.rules.one_placement import OnePlacementPerBeneficiary
from matching.model.rules.rooms import BedsAndSingleGenderRooms
from matching.model.variables import Variables


class Rule(Protocol):
    """A constraint family of the model."""

    name: str

    def build(self, rows: Rows, v: Variables, inst: Instance) -> None: ...


RULES: tuple[Rule, ...] = (
    OnePlacementPerBeneficiary(),
    OneHouseholdPerDwelling(),
    BedsAndSingleGenderRooms(),
    FundBudgets(),
)

__all__ = ["RULES", "BedsAndSingleGenderRooms", "FundBudgets", "OneHouseholdPerDwelling",
           "OnePlacementPerBeneficiary", "Rule"]
