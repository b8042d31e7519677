"""A stage as a mixed-integer program, for HiGHS or SCIP (both shipped with OR-Tools).

CP-SAT is the engine of every stage. Some stages it cannot close: with the weight and
the contribution held at their optima, the commute stage carries a knapsack *equality*
whose LP relaxation is loose, and CP-SAT's search is weak at such rows (on one S round
it had not proven the commute after 57 s). LP-based branch and bound is strong there,
so a stage CP-SAT leaves open on a model small enough is handed to a MIP solver, from
the same rows, hinted with the incumbent.

**Household variables.** The model adds, for each household with a column, a binary
``y_b`` equal to the sum of its columns (whether it is placed). They change nothing the
rows allow, but they give the branch and bound what the held weight and contribution are
really about: *which households* are placed. The weight's LP bound is often a person or
two above the optimum, and the households left out then form a small knapsack (which
ones add up to exactly the missing weight at the least cost); branching on ``y_b``
settles it, branching on single columns (a household in one home, paid by one fund, in
one room) does not. On the generated S rounds (seeds 1-10, each stage dumped and solved
alone, one thread) HiGHS with these variables proves every stage within 2.2 s, the
commute stage of seed 10 in 2.1 s; without them it had not found a solution of that
stage in 30 s, and SCIP, with or without them, had not proven it in 30 s (gap 0.7%).
HiGHS is therefore the default (``stage.mip_solver``); SCIP stays selectable.

**Holds on one side.** A term proven optimal is held as ``>=`` its value (a maximised
term) or ``<=`` (a minimised one), not ``==``: no allocation the rows allow does better,
so both admit the same allocations, but the equality is a knapsack row that the branch
and bound finds hard to meet. The 14 held stages of S seeds 1-10, each dumped and solved
alone three times: 7.1 s in all (medians) against 10.1, seed 10's commute stage 2.4 s
against 5.2.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh
from scipy import sparse

from matching.model.formulation import Formulation, Hold, Solution
from matching.params import MIP_SOLVERS
from matching.solvers.lp import FloatArray, held_hi, held_lo, stage_rows

_HIGHS_OPTIONS = (
    # objectives are integers: a gap below one unit proves the optimum, and a relative
    # gap would stop short of it on large objectives (the commute in metres)
    "mip_rel_gap=0\nmip_abs_gap=0.5\noutput_flag=false\n"
)


@dataclass(frozen=True)
class MipOutcome:
    """What the MIP solver returned for a stage."""

    status: str
    """``OPTIMAL``, ``FEASIBLE``, ``INFEASIBLE`` or ``UNKNOWN``."""
    solution: Solution | None
    bound: float | None
    seconds: float


def one_sided(form: Formulation, h: Hold) -> Hold:
    """A term proven optimal, held on its side only: no allocation of these rows does
    better, so ``>=`` (max) or ``<=`` (min) allows the same allocations as ``==``."""
    if h.sense != "==":
        return h
    return Hold(h.term, ">=" if form.objectives[h.term].sense == "max" else "<=", h.value)


def solve_mip(
    form: Formulation,
    term: int,
    holds: Sequence[Hold],
    time_limit: float,
    hint: Solution | None = None,
    solver_name: str = "highs",
) -> MipOutcome:
    """Optimise objective term ``term`` over the formulation's rows, with the households'
    placed variables added, by ``solver_name`` (``highs`` or ``scip``)."""
    if solver_name not in MIP_SOLVERS:
        raise ValueError(f"unknown MIP solver {solver_name!r}: one of {', '.join(MIP_SOLVERS)}")
    t0 = time.perf_counter()
    size = form.size
    if size == 0:  # nothing to choose (HiGHS does not answer an empty model)
        _, lo, hi = stage_rows(form, holds)
        ok = bool(np.all(lo <= 0) and np.all(hi >= 0))
        empty = Solution.of(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        return MipOutcome(
            "OPTIMAL" if ok else "INFEASIBLE",
            empty if ok else None,
            0.0 if ok else None,
            time.perf_counter() - t0,
        )
    households, of_column = np.unique(form.columns.beneficiary, return_inverse=True)
    nh = len(households)

    def over_all(k: int) -> FloatArray:
        """Term ``k``'s coefficients over the columns, the aux and the households: on
        the households when each household's columns share one (the weight)."""
        coef = form.coefficients[k].astype(np.float64)
        each = np.zeros(nh)
        each[of_column] = coef[: form.n]
        if form.n and not coef[form.n :].any() and np.array_equal(each[of_column], coef[: form.n]):
            return np.concatenate([np.zeros(size), each])
        return np.concatenate([coef, np.zeros(nh)])

    matrix, lo, hi = stage_rows(form, ())
    rows = [
        sparse.hstack([matrix, sparse.csr_matrix((matrix.shape[0], nh))]),
        # y_b - (the household's columns) = 0
        sparse.hstack(
            [
                -sparse.csr_matrix(
                    (np.ones(form.n), (of_column, np.arange(form.n))), shape=(nh, size)
                ),
                sparse.identity(nh, format="csr"),
            ]
        ),
        *(sparse.csr_matrix(over_all(h.term)[None, :]) for h in holds),
    ]
    # the holds on their side only: the MIP solver proves S seed 10's commute stage in
    # 2.4 s instead of 5.2 (14 stages of S seeds 1-10, dumped and solved alone: 7.1 s
    # in all instead of 10.1)
    holds = [one_sided(form, h) for h in holds]
    lo = np.concatenate([lo, np.zeros(nh), [held_lo(h) for h in holds]])
    hi = np.concatenate([hi, np.zeros(nh), [held_hi(h) for h in holds]])
    model = mbh.ModelBuilderHelper()
    fill: Any = model.fill_model_from_sparse_data  # (the stub types the arrays wrongly)
    fill(
        np.zeros(size + nh),
        np.concatenate([form.upper.astype(np.float64), np.ones(nh)]),
        over_all(term),
        lo,
        hi,
        sparse.vstack(rows, format="csr"),
    )
    model.set_maximize(form.objectives[term].sense == "max")
    for i in range(size + nh):
        model.set_var_integrality(i, True)
    if hint is not None and solver_name != "highs":
        # (OR-Tools' HiGHS interface crashes on hints: HiGHS starts from its own)
        start = form.x(hint).astype(np.float64)
        placed = np.zeros(nh)
        np.add.at(placed, of_column, start[: form.n])
        for i, v in enumerate(np.concatenate([start, placed]).tolist()):
            model.add_hint(i, float(v))
    solver = mbh.ModelSolverHelper(solver_name)
    if solver_name == "highs":
        solver.set_solver_specific_parameters(_HIGHS_OPTIONS)
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
        solution=Solution.of(np.flatnonzero(x[: form.n]), x[form.n : size]),
        bound=float(solver.best_objective_bound()),
        seconds=time.perf_counter() - t0,
    )
