"""The LP relaxation of a stage, solved by GLOP, and what it proves.

The relaxation of this model is nearly integral: on generated rounds only a few dozen
of hundreds of thousands of columns are fractional, and the bound on the weight is
within a unit of the optimum. Each stage uses it three ways:

- its value bounds the stage's objective (the weight's bound is reported);
- its solution, rounded down, is feasible (every row but a pin's is ``<=`` with
  non-negative column coefficients) and, completed greedily, makes a near-optimal
  incumbent;
- its reduced costs fix columns: for a maximised term, any allocation using column
  ``j`` is worth at most ``z + rc_j``; if that is below the incumbent, column ``j`` is
  in no optimal allocation, of this stage or of the later ones (which hold this term at
  its optimum), and is dropped before CP-SAT sees it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.linear_solver.python import model_builder_helper as mbh
from scipy import sparse

from matching.model.formulation import Formulation, Hold

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class LPSolution:
    """An LP relaxation's outcome; ``x`` and ``reduced_cost`` cover every variable."""

    optimal: bool
    infeasible: bool
    value: float
    x: FloatArray
    reduced_cost: FloatArray
    seconds: float


def stage_rows(
    form: Formulation, holds: Sequence[Hold]
) -> tuple[sparse.csr_matrix, FloatArray, FloatArray]:
    """A stage's rows (the binding ones, then the holds) and their lower and upper limits."""
    rows = form.binding_rows()
    matrix = form.matrix[rows]
    lo = form.space.lo[rows]
    hi = form.space.hi[rows]
    if holds:
        extra = [
            sparse.csr_matrix(form.coefficients[h.term].astype(np.float64)[None, :]) for h in holds
        ]
        matrix = sparse.vstack([matrix, *extra], format="csr")
        lo = np.append(lo, [held_lo(h) for h in holds])
        hi = np.append(hi, [held_hi(h) for h in holds])
    return matrix, lo, hi


def held_lo(h: Hold) -> float:
    """The lower limit a hold puts on its term."""
    return h.value if h.sense in ("==", ">=") else -np.inf


def held_hi(h: Hold) -> float:
    """The upper limit a hold puts on its term."""
    return h.value if h.sense in ("==", "<=") else np.inf


def stage_model(form: Formulation, term: int, holds: Sequence[Hold]) -> mbh.ModelBuilderHelper:
    """Stage ``term`` as an OR-Tools linear model: the binding rows, the holds, the
    objective. Variables are continuous within their bounds; :mod:`.mip` marks them
    integral."""
    size = form.size
    matrix, lo, hi = stage_rows(form, holds)
    cost = form.coefficients[term].astype(np.float64)
    upper = form.upper.astype(np.float64)
    model = mbh.ModelBuilderHelper()
    # (OR-Tools' stub types the arrays wrongly as ndarray[float64])
    fill: Any = model.fill_model_from_sparse_data
    fill(
        np.zeros(size),
        upper,
        cost,
        lo,
        hi,
        matrix,
    )
    model.set_maximize(form.objectives[term].sense == "max")
    return model


def solve_lp(
    form: Formulation, term: int, holds: Sequence[Hold] = (), time_limit: float = 60.0
) -> LPSolution:
    """Optimise objective term ``term`` over the relaxation, with ``holds`` as rows."""
    t0 = time.perf_counter()
    size = form.size
    model = stage_model(form, term, holds)
    solver = mbh.ModelSolverHelper("glop")
    solver.set_time_limit_in_seconds(max(0.1, time_limit))
    solver.solve(model)
    status = solver.status()
    if status != mbh.SolveStatus.OPTIMAL:
        return LPSolution(
            optimal=False,
            infeasible=status == mbh.SolveStatus.INFEASIBLE,
            value=float("nan"),
            x=np.zeros(size),
            reduced_cost=np.zeros(size),
            seconds=time.perf_counter() - t0,
        )
    return LPSolution(
        optimal=True,
        infeasible=False,
        value=float(solver.objective_value()),
        x=np.asarray(solver.variable_values(), dtype=np.float64),
        reduced_cost=np.asarray(solver.reduced_costs(), dtype=np.float64),
        seconds=time.perf_counter() - t0,
    )


def prunable(form: Formulation, term: int, lp: LPSolution, incumbent: int) -> BoolArray:
    """Columns that no allocation as good as ``incumbent`` on ``term`` can use.

    A column at 0 in the LP with reduced cost ``rc`` raises a maximised term by at most
    ``z + rc`` (lowers a minimised one by no less than ``z + rc``); objective values are
    integers, so a margin of half a unit, plus a relative one for the solver's
    tolerances, keeps the test safe.
    """
    n = form.n
    if not lp.optimal:
        return np.zeros(n, dtype=bool)
    z, rc = lp.value, lp.reduced_cost[:n]
    margin = 0.5 + 1e-6 * abs(z)
    at_zero = lp.x[:n] < 1e-9
    if form.objectives[term].sense == "max":
        return np.asarray(at_zero & (z + rc < incumbent - margin))
    return np.asarray(at_zero & (z + rc > incumbent + margin))
