"""Which fund may pay a placement, and what it costs: declared once for the whole engine.

A placement with a positive contribution is paid by one fund whose ``eligible_tags`` is
empty or shares a tag with the household, and no fund pays more than its budget. The
pair eligibility (a pair no fund could ever pay is dropped), the model's columns (one per
fund that may pay), greedy's choice of fund, the explanations and the pricing all read
:class:`FundTable`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.instance import MAX_INT, Instance

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BEYOND_ANY_BUDGET = MAX_INT + 1
"""The cost recorded for a placement dearer than any budget may be (budgets are at most
2^53 - 1 cents): such a placement can never be paid, and its true cost never overflows."""


def cost_cents(
    contribution_cents: IntArray, months: IntArray | int, one_off_cents: IntArray | int = 0
) -> IntArray:
    """What a placement costs a fund over the round: ``contribution * months + one_off``.

    Costs beyond any budget are recorded as :data:`BEYOND_ANY_BUDGET`, so that 64-bit
    arithmetic never overflows whatever the file's (legal) numbers.
    """
    c = np.asarray(contribution_cents, dtype=np.int64)
    m = np.maximum(np.asarray(months, dtype=np.int64), 1)
    over = c > MAX_INT // m
    cost = np.where(over, 0, c) * m + np.asarray(one_off_cents, dtype=np.int64)
    return np.asarray(np.where(over | (cost > MAX_INT), BEYOND_ANY_BUDGET, cost), dtype=np.int64)


@dataclass(frozen=True)
class FundTable:
    """Per fund, whom it may pay (by the households' tags) and its budget."""

    ok: BoolArray
    """(funds, beneficiaries): the fund's tags allow it to pay for the household."""
    budget: IntArray
    reserved: BoolArray
    """Per fund: it pays only for some tags (greedy spends such funds first)."""

    @staticmethod
    def of(inst: Instance) -> FundTable:
        nb = len(inst.beneficiaries)
        ok = np.array(
            [[f.eligible(b.tags) for b in inst.beneficiaries] for f in inst.funds], dtype=bool
        ).reshape(len(inst.funds), nb)
        return FundTable(
            ok=ok,
            budget=np.array([f.budget_cents for f in inst.funds], dtype=np.int64),
            reserved=np.array([bool(f.eligible_tags) for f in inst.funds], dtype=bool),
        )

    @property
    def n(self) -> int:
        return int(self.budget.shape[0])

    def may_pay(self, k: int, beneficiary: IntArray, cost: IntArray) -> BoolArray:
        """Whether fund ``k`` may pay each placement (its tags, and its whole budget)."""
        return np.asarray(self.ok[k, beneficiary] & (cost > 0) & (cost <= self.budget[k]))

    def largest_budget(self) -> IntArray:
        """Per household, the largest budget of a fund that may pay for it (-1: none)."""
        if self.n == 0:
            return np.full(self.ok.shape[1], -1, dtype=np.int64)
        return np.asarray(np.where(self.ok, self.budget[:, None], -1).max(axis=0), dtype=np.int64)
