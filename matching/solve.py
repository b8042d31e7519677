"""``solve(instance, params) -> Result``: the allocation round on OR-Tools CP-SAT.

The lexicographic objective of the spec is solved in stages on one model:

1. maximise the placed weight (hinted with the greedy baseline);
2. with the weight held at stage 1's value, minimise the monthly contribution
   (hinted with stage 1's allocation);
3. with the contribution held too, minimise the commute (hinted with stage 2's).

Each stage gets a share of the time limit; a stage that stops early leaves the result
``FEASIBLE`` with the best allocation found and stage 1's proven bound on the weight.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from matching.eligibility import Pairs, eligible_pairs
from matching.explain import empty_result, explain_unassigned, infeasible_result, pin_conflicts
from matching.greedy import greedy_assignments
from matching.instance import Gender, Instance
from matching.model.build import BuiltModel, allocation, build_model, room_counts
from matching.params import SolveParams
from matching.result import Assignment, Objective, Result, Status, objective_of

ENGINE = "cp-sat"
STAGE_SHARE = {3: (0.70, 0.60, 1.0), 2: (0.75, 1.0), 1: (1.0,)}
"""Share of the time still left that each stage may use, by number of stages."""

HOLD_EQUAL = True
logger = logging.getLogger("matching.solver")


@dataclass(frozen=True)
class ProgressEvent:
    """What the solver reports while it runs (for a live display)."""

    stage: str
    incumbent: float | None
    bound: float | None
    elapsed: float


Progress = Callable[[ProgressEvent], None]


@dataclass
class _Stage:
    """The outcome of one lexicographic stage."""

    name: str
    status: str
    chosen: list[int] = field(default_factory=list)
    rooms: dict[tuple[int, int, Gender], int] = field(default_factory=dict)
    value: int | None = None
    bound: float | None = None
    seconds: float = 0.0
    first_solution: float | None = None

    @property
    def solved(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")

    def report(self) -> dict[str, Any]:
        return {"objective": self.name, "status": self.status, "value": self.value,
                "bound": None if self.bound is None else round(self.bound, 3),
                "seconds": round(self.seconds, 3),
                "first_solution_seconds": None if self.first_solution is None
                else round(self.first_solution, 3)}


class _Watch(cp_model.CpSolverSolutionCallback):
    """Relays incumbents to a progress callback and times the first solution."""

    def __init__(self, stage: str, progress: Progress | None, t0: float) -> None:
        super().__init__()
        self.stage, self.progress, self.t0 = stage, progress, t0
        self.first: float | None = None

    def on_solution_callback(self) -> None:
        now = time.perf_counter() - self.t0
        if self.first is None:
            self.first = now
        if self.progress is not None:
            self.progress(ProgressEvent(self.stage, self.objective_value,
                                        self.best_objective_bound, now))


def _ortools_version() -> str:
    from importlib.metadata import version

    return version("ortools")


def _solver(params: SolveParams, limit: float, log: bool) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, limit)
    p.num_workers = params.workers
    p.random_seed = params.seed
    # Deterministic for a seed and worker count: subsolvers run in interleaved batches.
    p.interleave_search = True
    # The LP relaxation of this model is nearly integral: a full linearisation lets
    # the LP prove the bound early instead of branching for it.
    p.linearization_level = 2
    p.log_search_progress = log
    p.log_to_stdout = False
    if log:
        solver.log_callback = logger.debug
    return solver


def _hint(built: BuiltModel, chosen: Sequence[int],
          rooms: dict[tuple[int, int, Gender], int]) -> None:
    model, v = built.model, built.vars
    model.clear_hints()  # type: ignore[no-untyped-call]
    on = np.zeros(len(v.x), dtype=bool)
    on[list(chosen)] = True
    for var, val in zip(v.x, on.tolist(), strict=True):
        model.add_hint(var, val)
    for key, var in v.rooms.items():
        model.add_hint(var, rooms.get(key, 0))


def _run_stage(built: BuiltModel, term: int, limit: float, params: SolveParams,
               progress: Progress | None, t0: float) -> _Stage:
    obj = built.objectives[term]
    v = built.vars
    expr = cp_model.LinearExpr.weighted_sum(v.x, built.coefficients[term])
    if obj.sense == "max":
        built.model.maximize(expr)
    else:
        built.model.minimize(expr)
    solver = _solver(params, limit, params.log)
    if term == 0 and params.relative_gap > 0:
        solver.parameters.relative_gap_limit = params.relative_gap
    watch = _Watch(obj.name, progress, t0)
    if progress is not None:
        def on_bound(bound: float) -> None:
            progress(ProgressEvent(obj.name, None, bound, time.perf_counter() - t0))
        solver.best_bound_callback = on_bound
    start = time.perf_counter()
    code = solver.solve(built.model, watch)
    stage = _Stage(name=obj.name, status=solver.status_name(code),
                   seconds=time.perf_counter() - start,
                   first_solution=None if watch.first is None else watch.first)
    if stage.solved:
        sol = np.asarray(list(solver.response_proto.solution), dtype=np.int64)[:len(v.x)]
        stage.chosen = np.flatnonzero(sol).tolist()
        stage.rooms = {k: int(solver.value(var)) for k, var in v.rooms.items()}
        stage.value = built.value(term, stage.chosen)
        stage.bound = float(solver.best_objective_bound)
    elif stage.status != "INFEASIBLE":
        stage.bound = float(solver.best_objective_bound) if term == 0 else None
    return stage


def _trivial_bound(inst: Instance, built: BuiltModel) -> int:
    """The weight of every beneficiary with at least one column: no allocation beats it."""
    return sum(inst.weight(inst.beneficiaries[bi]) for bi in built.vars.by_beneficiary)


def _usable_bound(solver_bound: int | None, weight: int, trivial: int) -> int:
    """A bound that is always valid.

    A stage cut before CP-SAT reported anything leaves its bound at the protocol's
    default (0), which may lie below an allocation we hold; then only the trivial bound
    is sure. Otherwise the tighter of the two.
    """
    if solver_bound is None or solver_bound < weight or (solver_bound <= 0 < trivial):
        return trivial
    return min(solver_bound, trivial)


def _greedy_hint(inst: Instance, built: BuiltModel, greedy: Sequence[Assignment]
                 ) -> tuple[list[int], dict[tuple[int, int, Gender], int]]:
    """The greedy allocation as columns (and room counts) of the model."""
    v = built.vars
    key_of = {(b, u, f): j for j, (b, u, f) in enumerate(zip(
        v.columns.beneficiary.tolist(), v.columns.unit.tolist(), v.columns.fund.tolist(),
        strict=True))}
    fund_index = {f.id: k for k, f in enumerate(inst.funds)}
    chosen: list[int] = []
    occupied: dict[int, dict[str, Gender]] = {}
    nd = len(inst.dwellings)
    for a in greedy:
        bi, ui = inst.beneficiary_index[a.beneficiary], inst.unit_index[a.unit]
        j = key_of.get((bi, ui, fund_index[a.fund] if a.fund else -1))
        if j is None:
            continue
        chosen.append(j)
        if a.room is not None:
            occupied.setdefault(ui - nd, {})[a.room] = inst.beneficiaries[bi].gender
    return chosen, dict(room_counts(inst, v, chosen, occupied))


def solve(inst: Instance, params: SolveParams | None = None,
          progress: Progress | None = None, pairs: Pairs | None = None) -> Result:
    """Solve an allocation round to the spec's lexicographic objective.

    Parameters
    ----------
    inst:
        The round.
    params:
        Time limit, seed, workers; see :class:`~matching.params.SolveParams`.
    progress:
        Called with a :class:`ProgressEvent` at each new incumbent.
    pairs:
        Precomputed eligible pairs of ``inst`` (computed when omitted).

    Returns
    -------
    Result
        ``OPTIMAL`` when all three objectives are proven, ``FEASIBLE`` with the proven
        bound on the weight otherwise, ``INFEASIBLE`` when the pinned placements break
        a rule, ``UNKNOWN`` when no allocation was found in time. Every beneficiary
        appears once, placed or with reasons.
    """
    params = SolveParams() if params is None else params
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    engine: dict[str, Any] = {"name": ENGINE, "ortools": _ortools_version(),
                              "seed": params.seed, "workers": params.workers,
                              "time_limit": params.time_limit}
    if pairs is None:
        pairs = eligible_pairs(inst)
    timings["eligibility"] = pairs.seconds
    engine["pairs"] = len(pairs)

    def finish(res: Result) -> Result:
        timings["total"] = time.perf_counter() - t0
        return Result(**{**res.__dict__, "solve_seconds": timings["total"],
                         "engine": {**engine, **res.engine, "name": ENGINE},
                         "timings": dict(timings)})

    conflicts = pin_conflicts(inst, pairs) if inst.pinned else []
    if conflicts:
        return finish(infeasible_result(inst, pairs, 0.0, ENGINE, conflicts))

    built = build_model(inst, pairs)
    timings["build"] = built.seconds
    engine["columns"] = len(built.vars.x)

    t = time.perf_counter()
    greedy = greedy_assignments(inst, pairs) if params.hint_greedy else None
    timings["greedy"] = time.perf_counter() - t
    if greedy is not None:
        _hint(built, *_greedy_hint(inst, built, greedy))

    shares = STAGE_SHARE[params.stages]
    stages: list[_Stage] = []
    best: _Stage | None = None
    for term in range(params.stages):
        left = params.time_limit - (time.perf_counter() - t0)
        if term > 0 and left <= 0.05:
            break
        st = _run_stage(built, term, left * shares[term], params, progress, t0)
        stages.append(st)
        timings[f"stage_{st.name}"] = st.seconds
        if not st.solved:
            break
        best = st
        if term + 1 < params.stages:
            # hold this objective at its value, hint the next stage with this allocation
            expr = cp_model.LinearExpr.weighted_sum(built.vars.x, built.coefficients[term])
            assert st.value is not None
            if st.status == "OPTIMAL" and HOLD_EQUAL:
                # proven: no allocation does better, so the value is held exactly
                built.model.add(expr == st.value)
            elif built.objectives[term].sense == "max":
                built.model.add(expr >= st.value)
            else:
                built.model.add(expr <= st.value)
            _hint(built, st.chosen, st.rooms)
    engine_stages = tuple(s.report() for s in stages)
    first = stages[0] if stages else None
    bound: int | None = None
    if first is not None and first.bound is not None:
        bound = math.floor(first.bound + 1e-6)

    if first is not None and first.status == "INFEASIBLE":
        res = infeasible_result(inst, pairs, 0.0, ENGINE, pin_conflicts(inst, pairs))
        return finish(Result(**{**res.__dict__, "stages": engine_stages}))

    chosen_assignments: list[Assignment]
    status: Status
    if best is not None:
        chosen_assignments = allocation(inst, built, pairs, best.chosen, best.rooms)
        all_proven = (len(stages) == 3 and all(s.status == "OPTIMAL" for s in stages))
        status = "OPTIMAL" if all_proven else "FEASIBLE"
    elif greedy is not None:
        chosen_assignments, status = list(greedy), "FEASIBLE"
    else:
        res = empty_result(inst, "UNKNOWN", "no_solution_in_time", 0.0,
                           {"time_limit": params.time_limit}, ENGINE,
                           _usable_bound(bound, 0, _trivial_bound(inst, built)))
        return finish(Result(**{**res.__dict__, "stages": engine_stages}))

    weights = {b.id: inst.weight(b) for b in inst.beneficiaries}
    objective: Objective = objective_of(chosen_assignments, weights)
    if first is not None and first.status == "OPTIMAL":
        bound = objective.weight
    else:
        bound = _usable_bound(bound, objective.weight, _trivial_bound(inst, built))
    t = time.perf_counter()
    proven = first is not None and first.status == "OPTIMAL"
    unassigned = explain_unassigned(inst, pairs, chosen_assignments, proven=proven)
    timings["explain"] = time.perf_counter() - t
    return finish(Result(
        instance=inst.name, status=status, objective=objective, bound_weight=bound,
        assignments=tuple(chosen_assignments), unassigned=tuple(unassigned),
        solve_seconds=0.0, stages=engine_stages,
    ))
