"""A stage on OR-Tools CP-SAT: the formulation's rows, the holds, one objective term.

The LP relaxation's bound is not written into the model: a solution callback stops the
search as soon as an allocation meets it (that allocation is then proven optimal by the
LP), so the model CP-SAT proves things about is exactly the round's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from matching.model.formulation import Formulation, Hold, Solution

logger = logging.getLogger("matching.solver")

OnSolution = Callable[[float, float | None], None]
"""Called with (objective value, best bound or None) at each new solution."""


@dataclass(frozen=True)
class CpSatOutcome:
    """What CP-SAT returned for a stage."""

    status: str
    """``OPTIMAL``, ``FEASIBLE``, ``INFEASIBLE``, ``UNKNOWN`` or ``MODEL_INVALID``."""
    solution: Solution | None
    bound: float | None
    reached_target: bool
    """The search stopped because an allocation met the target (the LP's bound)."""
    first_solution: float | None
    """Seconds from the call to the first solution."""


class CpSatModel:
    """A CP-SAT model of a formulation and one objective term, built once per stage:
    ``var[i]`` is variable ``i`` of the formulation's index space."""

    def __init__(self, form: Formulation, holds: Sequence[Hold] = (), term: int = 0) -> None:
        t0 = time.perf_counter()
        self.form, self.term = form, term
        model = cp_model.CpModel()
        model.name = form.space.inst.name
        n = form.n
        var: list[cp_model.IntVar] = [model.new_bool_var(f"x{j}") for j in range(n)]
        var += [
            model.new_int_var(0, int(ub), f"a{k}")
            for k, ub in enumerate(form.space.aux_upper.tolist())
        ]
        m = form.matrix
        lo, hi = form.space.lo, form.space.hi
        for r in form.binding_rows().tolist():
            a, b = m.indptr[r], m.indptr[r + 1]
            idx = m.indices[a:b].tolist()
            coef = [int(c) for c in m.data[a:b]]
            ones = all(c == 1 for c in coef) and all(i < n for i in idx)
            if ones and hi[r] == 1 and lo[r] == -np.inf:
                model.add_at_most_one(var[i] for i in idx)
            elif ones and hi[r] == 1 and lo[r] == 1:
                model.add_exactly_one(var[i] for i in idx)
            else:
                lo_r = -cp_model.INT_MAX if lo[r] == -np.inf else int(lo[r])
                hi_r = cp_model.INT_MAX if hi[r] == np.inf else int(hi[r])
                model.add_linear_constraint(
                    cp_model.LinearExpr.weighted_sum([var[i] for i in idx], coef), lo_r, hi_r
                )
        self.model, self.var = model, var
        for h in holds:
            expr = self.objective(h.term)
            if h.sense == "==":
                model.add(expr == h.value)
            elif h.sense == ">=":
                model.add(expr >= h.value)
            else:
                model.add(expr <= h.value)
        if form.objectives[term].sense == "max":
            model.maximize(self.objective(term))
        else:
            model.minimize(self.objective(term))
        self.seconds = time.perf_counter() - t0
        """How long building the model took (a later call may not have that long)."""

    def objective(self, term: int) -> cp_model.LinearExprT:
        c = self.form.coefficients[term]
        nz = np.flatnonzero(c)
        return cp_model.LinearExpr.weighted_sum([self.var[i] for i in nz.tolist()], c[nz].tolist())

    def instance(self, fixed: Sequence[int] = (), hint: Solution | None = None) -> cp_model.CpModel:
        """The model to solve: a copy with the ``fixed`` columns set to 1 (or the model
        itself), hinted with ``hint``."""
        model = self.model
        if fixed:
            model = self.model.clone()
            for j in fixed:
                model.proto.variables[j].domain[0] = 1  # a boolean's domain [0, 1] -> [1, 1]
        model.proto.clear_solution_hint()
        if hint is not None:
            model.proto.solution_hint.vars.extend(range(self.form.size))
            model.proto.solution_hint.values.extend(self.form.x(hint).tolist())
        return model


class _Watch(cp_model.CpSolverSolutionCallback):
    """Times the first solution, relays incumbents, and stops the search at the target."""

    def __init__(
        self, sense: str, target: int | None, on_solution: OnSolution | None, bounds: bool
    ) -> None:
        super().__init__()
        self.t0 = time.perf_counter()
        self.sense, self.target, self.on_solution, self.bounds = sense, target, on_solution, bounds
        self.first: float | None = None
        self.reached = False

    def on_solution_callback(self) -> None:
        if self.first is None:
            self.first = time.perf_counter() - self.t0
        value = self.objective_value
        if self.on_solution is not None:
            self.on_solution(value, self.best_objective_bound if self.bounds else None)
        if self.target is not None and (
            value >= self.target if self.sense == "max" else value <= self.target
        ):
            self.reached = True
            self.stop_search()


def solve_cpsat(
    cm: CpSatModel,
    time_limit: float,
    seed: int,
    workers: int,
    *,
    deadline: float | None = None,
    hint: Solution | None = None,
    fixed: Sequence[int] = (),
    target: int | None = None,
    dtime: float | None = None,
    relative_gap: float = 0.0,
    log: bool = False,
    on_solution: OnSolution | None = None,
    on_bound: Callable[[float], None] | None = None,
) -> CpSatOutcome:
    """Optimise the model's objective term with CP-SAT within ``time_limit`` seconds.

    ``fixed`` columns are forced to 1 (a neighbourhood search: its status and bound say
    nothing about the whole stage). ``target`` is a value no allocation can beat (the
    LP's bound): the search stops as soon as it is met. ``deadline``
    (``time.perf_counter()`` seconds) caps the search too.
    """
    form = cm.form
    model = cm.instance(fixed, hint)
    if deadline is not None:
        time_limit = min(time_limit, deadline - time.perf_counter())
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, time_limit)
    p.num_workers = workers
    p.random_seed = seed
    # the LP relaxation is nearly integral: a full linearisation lets it prove bounds
    p.linearization_level = 2
    if workers > 1:
        # with few workers CP-SAT's only full subsolver is default_lp, which forces
        # linearization level 1; max_lp keeps level 2
        p.subsolvers.append("max_lp")
        # deterministic for a seed and worker count: subsolvers run in interleaved batches
        p.interleave_search = True
    if dtime is not None:
        p.max_deterministic_time = dtime
    if relative_gap > 0:
        p.relative_gap_limit = relative_gap
    p.log_search_progress = log
    p.log_to_stdout = False
    if log:
        solver.log_callback = logger.debug
    if on_bound is not None and not fixed:
        solver.best_bound_callback = on_bound
    watch = _Watch(form.objectives[cm.term].sense, target, on_solution, bounds=not fixed)
    code = solver.solve(model, watch)
    status = solver.status_name(code)
    sol = None
    if status in ("OPTIMAL", "FEASIBLE"):
        x = np.asarray(list(solver.response_proto.solution), dtype=np.int64)
        sol = Solution.of(np.flatnonzero(x[: form.n]), x[form.n :])
    bound = float(solver.best_objective_bound) if status != "INFEASIBLE" else None
    return CpSatOutcome(
        status=status,
        solution=sol,
        bound=bound,
        reached_target=watch.reached,
        first_solution=watch.first,
    )
