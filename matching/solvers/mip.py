"""A stage as a mixed-integer program, for SCIP (shipped with OR-Tools).

CP-SAT is the engine of every stage. Some stages it cannot close: with the weight and
the contribution held at their optima, the commute stage carries a knapsack *equality*
whose LP relaxation is loose, and CP-SAT's search is weak at such rows (on one S round
it had not proven the commute after 57 s). LP-based branch and bound is strong exactly
there (SCIP proved the same stage in 3.4 s), so a stage CP-SAT leaves open on a model
small enough is handed to SCIP, from the same rows, hinted with the incumbent.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh

from matching.model.formulation import Formulation, Hold, Solution
from matching.solvers.lp import stage_model


@dataclass(frozen=True)
class MipOutcome:
    """What SCIP returned for a stage."""

    status: str
    """``OPTIMAL``, ``FEASIBLE``, ``INFEASIBLE`` or ``UNKNOWN``."""
    solution: Solution | None
    bound: float | None
    seconds: float


def solve_mip(
    form: Formulation,
    term: int,
    holds: Sequence[Hold],
    time_limit: float,
    hint: Solution | None = None,
) -> MipOutcome:
    """Optimise objective term ``term`` over the formulation's rows with SCIP."""
    t0 = time.perf_counter()
    model = stage_model(form, term, holds)
    for i in range(form.size):
        model.set_var_integrality(i, True)
    if hint is not None:
        for i, v in enumerate(form.x(hint).tolist()):
            model.add_hint(i, float(v))
    solver = mbh.ModelSolverHelper("scip")
    solver.set_time_limit_in_seconds(max(0.1, time_limit))
    solver.solve(model)
    status = solver.status()
    names = {
        mbh.SolveStatus.OPTIMAL: "OPTIMAL",
        mbh.SolveStatus.FEASIBLE: "FEASIBLE",
        mbh.SolveStatus.INFEASIBLE: "INFEASIBLE",
    }
    name = names.get(status, "UNKNOWN")
    if name not in ("OPTIMAL", "FEASIBLE") or not solver.has_solution():
        return MipOutcome(
            name if name == "INFEASIBLE" else "UNKNOWN", None, None, time.perf_counter() - t0
        )
    x = np.rint(np.asarray(solver.variable_values(), dtype=np.float64)).astype(np.int64)
    return MipOutcome(
        status=name,
        solution=Solution.of(np.flatnonzero(x[: form.n]), x[form.n :]),
        bound=float(solver.best_objective_bound()),
        seconds=time.perf_counter() - t0,
    )
