"""What every strategy shares: the prepared round, the engine's record, valid bounds."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from matching.eligibility import Pairs, eligible_pairs
from matching.explain import pin_conflicts
from matching.instance import Instance
from matching.model.formulation import Formulation, formulate
from matching.model.rules import declare
from matching.model.space import RowSpace, Universe
from matching.params import SolveParams

ENGINE = "cp-sat"
logger = logging.getLogger("matching.solver")


@dataclass(frozen=True)
class Prepared:
    """A round ready for a solver: its pairs, its rows, and its formulation unless the
    pinned placements break a rule."""

    pairs: Pairs
    space: RowSpace
    conflicts: list[str]
    """What makes the pinned placements break a rule (then ``form`` is None)."""
    form: Formulation | None


def prepare(inst: Instance, pairs: Pairs | None = None) -> Prepared:
    """Eligible pairs, the rules' rows, the pins checked, and the formulation."""
    pairs = eligible_pairs(inst) if pairs is None else pairs
    universe = Universe.of(inst, pairs)
    space = declare(universe)
    conflicts = pin_conflicts(inst, pairs, space) if inst.pinned else []
    form = None if conflicts else formulate(space, universe.columns())
    return Prepared(pairs=pairs, space=space, conflicts=conflicts, form=form)


def engine_record(params: SolveParams) -> dict[str, Any]:
    """The result's record of the engine: its version, and every parameter it ran with."""
    return {
        "name": ENGINE,
        "ortools": version("ortools"),
        "seed": params.seed,
        "workers": params.workers,
        "time_limit": params.time_limit,
        "params": params.to_dict(),
    }


def usable_bound(solver_bound: int | None, weight: int, trivial: int) -> int:
    """A bound on the weight that is always valid, never below an allocation held.

    A stage cut before a solver reported anything leaves its bound at the protocol's
    default (0), which may lie below an allocation we hold; then only the trivial bound
    (every household with a pair placed) is sure. Otherwise the tighter of the two.
    """
    if solver_bound is None or solver_bound < weight or (solver_bound <= 0 < trivial):
        if solver_bound is not None and solver_bound < weight:
            logger.warning(
                "a bound of %s below an allocation's weight %s: the trivial bound %s is kept",
                solver_bound,
                weight,
                trivial,
            )
        return max(trivial, weight)
    return min(solver_bound, trivial)
