"""``solve(instance, params) -> Result``: the allocation round on OR-Tools CP-SAT.

The lexicographic objective of the spec is solved in stages:

1. maximise the placed weight;
2. with the weight held at stage 1's value, minimise the monthly contribution;
3. with the contribution held too, minimise the commute.

Each stage first solves its LP relaxation (:mod:`matching.lp`): the LP bounds the
stage, its rounding completed greedily is an incumbent (for stage 1, when it beats the
greedy baseline), and its reduced costs drop every column no optimal allocation can
use. If the incumbent already meets the LP bound the stage is proven; otherwise CP-SAT
searches the reduced model, hinted with the incumbent, within its share of the time
limit. A stage that stops early leaves the result ``FEASIBLE`` with the best allocation
found and the proven bound on the weight.

Rounds with more eligible pairs than ``SolveParams.pricing_min_pairs`` (L: 24 million)
cannot be formulated whole. They are solved by price-and-branch: column generation
over every pair (:mod:`matching.pricing`) bounds the weight and finds the pairs worth
having, and the stages above run on those pairs only; the result is ``FEASIBLE`` with
the column-generation bound.

Rounds too large even to list their pairs (more household x unit combinations than
``SolveParams.decompose_min_cells``; XL) are solved in parts by
:mod:`matching.decompose`: commute-separated components, replicas of the dense ones,
and the funds shared out part by part.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from matching.eligibility import Pairs, eligible_pairs
from matching.explain import empty_result, explain_unassigned, infeasible_result, pin_conflicts
from matching.greedy import greedy_assignments
from matching.instance import Instance
from matching.lp import LPSolution, prunable, solve_lp
from matching.mip import solve_mip
from matching.model.build import (
    Formulation,
    Hold,
    RoomCounts,
    allocation,
    build_formulation,
    columns_of,
    satisfies,
    to_cpsat,
)
from matching.params import SolveParams
from matching.pricing import price_pairs
from matching.result import Assignment, Objective, Result, objective_of

ENGINE = "cp-sat"
STAGE_SHARE = {3: (0.70, 0.60, 1.0), 2: (0.75, 1.0), 1: (1.0,)}
"""Share of the time still left that each stage may use, by number of stages."""
LP_SHARE = 0.3
"""At most this share of the time left goes to a stage's LP relaxation."""
RESERVE_SHARE = 0.03
"""Share of the time limit kept for explaining the unplaced and writing the result."""
RINS_SHARE = 0.3
"""Share of a stage's CP-SAT time for the search around the incumbent and the LP."""
MIP_MAX_COLUMNS = 50_000
"""Stages on at most this many columns that CP-SAT leaves open go on to SCIP."""
MIP_FIRST_TERMS: tuple[int, ...] = (2,)
"""Stages (by term) on which SCIP goes first, before CP-SAT: the commute stage, whose
held contribution is a knapsack equality (S seeds 1-5, two runs each: median total
4.1-4.5 s with SCIP first there, 5.4-6.0 s without; first on stage 2 too: worse)."""
MIP_FIRST_SHARE = 0.5
"""Share of such a stage's time SCIP gets first."""
CPSAT_FIRST_SHARE = 0.35
"""When SCIP may follow, the share of the stage's time CP-SAT gets first..."""
CPSAT_FIRST_DTIME = 3.0
"""...and at most this much of CP-SAT's deterministic time (machine-independent, so the
hand-over happens at the same point of the search on every machine). On S rounds CP-SAT
proves a stage within about 1 unit when it can at all."""
PRICING_SHARE = 0.4
"""On rounds solved by price-and-branch, the share of the time column generation and
the matching bounds get; the staged engine has the rest, on the pairs found."""
PRICED_RESERVE_SHARE = 0.06
"""...and the share kept for explaining the unplaced over every pair."""
RINS_MIN_COLUMNS = 20_000
"""Below this many columns CP-SAT's own LP copes, and the neighbourhood search only
costs time; above it (M: 370k columns) CP-SAT's root LP alone does not finish."""

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
    status: str = "UNKNOWN"
    value: int | None = None
    bound: float | None = None
    lp_bound: float | None = None
    columns: int = 0
    pruned: int = 0
    seconds: float = 0.0
    lp_seconds: float = 0.0
    proven_by_lp: bool = False
    mip_seconds: float | None = None
    first_solution: float | None = None
    claimed: int | None = None
    """The value of the solution a search returned when it claimed optimality."""

    def report(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {"objective": self.name, "status": self.status, "value": self.value,
                "bound": r(self.bound), "lp_bound": r(self.lp_bound),
                "proven_by_lp": self.proven_by_lp, "columns": self.columns,
                "pruned_columns": self.pruned, "seconds": r(self.seconds),
                "lp_seconds": r(self.lp_seconds), "mip_seconds": r(self.mip_seconds),
                "first_solution_seconds": r(self.first_solution)}


@dataclass
class _Incumbent:
    """The best allocation so far, as columns of the current formulation."""

    chosen: list[int]
    rooms: RoomCounts


class _Watch(cp_model.CpSolverSolutionCallback):
    """Relays incumbents to a progress callback and times the first solution."""

    def __init__(self, stage: str, progress: Progress | None, t0: float,
                 bounds: bool = True) -> None:
        super().__init__()
        self.stage, self.progress, self.t0, self.bounds = stage, progress, t0, bounds
        self.first: float | None = None

    def on_solution_callback(self) -> None:
        now = time.perf_counter() - self.t0
        if self.first is None:
            self.first = now
        if self.progress is not None:
            bound = self.best_objective_bound if self.bounds else None
            self.progress(ProgressEvent(self.stage, self.objective_value, bound, now))


def _ortools_version() -> str:
    from importlib.metadata import version

    return version("ortools")


def _solver(params: SolveParams, limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, limit)
    p.num_workers = params.workers
    p.random_seed = params.seed
    # the LP relaxation is nearly integral: a full linearisation lets it prove bounds
    p.linearization_level = 2
    if params.workers > 1:
        # with few workers CP-SAT's only full subsolver is default_lp, which forces
        # linearization level 1; max_lp keeps level 2
        p.subsolvers.append("max_lp")
        # deterministic for a seed and worker count: subsolvers run in interleaved batches
        p.interleave_search = True
    p.log_search_progress = params.log
    p.log_to_stdout = False
    if params.log:
        solver.log_callback = logger.debug
    return solver


def _cpsat_stage(form: Formulation, term: int, holds: Sequence[Hold], inc: _Incumbent | None,
                 limit: float, params: SolveParams, progress: Progress | None, t0: float,
                 st: _Stage, deadline: float, fixed: Sequence[int] = (),
                 dtime: float | None = None) -> _Incumbent | None:
    """Search stage ``term`` with CP-SAT; returns its allocation if it found one.

    ``fixed`` columns are forced to 1: a neighbourhood search, whose status and bound
    say nothing about the whole stage and are not recorded in ``st``.
    """
    cm = to_cpsat(form, holds)
    cm.set_objective(term)
    for j in fixed:
        cm.model.add(cm.var[j] == 1)
    # building a large model takes seconds: the limit counts from now, within the deadline
    limit = min(limit, deadline - time.perf_counter())
    if inc is not None:
        cm.hint(inc.chosen, inc.rooms)
    solver = _solver(params, limit)
    if dtime is not None:
        solver.parameters.max_deterministic_time = dtime
    if term == 0 and params.relative_gap > 0:
        solver.parameters.relative_gap_limit = params.relative_gap
    # a neighbourhood's bound bounds the neighbourhood, not the stage: not reported
    watch = _Watch(st.name, progress, t0, bounds=not fixed)
    if progress is not None and not fixed:
        def on_bound(bound: float) -> None:
            progress(ProgressEvent(st.name, None, bound, time.perf_counter() - t0))
        solver.best_bound_callback = on_bound
    code = solver.solve(cm.model, watch)
    status = solver.status_name(code)
    found = None
    if status in ("OPTIMAL", "FEASIBLE"):
        sol = np.asarray(list(solver.response_proto.solution), dtype=np.int64)
        chosen = np.flatnonzero(sol[:form.vars.n]).tolist()
        rooms = {k: int(sol[i]) for k, i in form.vars.rooms.items()}
        found = _Incumbent(chosen, rooms)
    if fixed:
        return found
    st.status = status
    if status == "OPTIMAL" and found is not None:
        st.claimed = form.value(term, found.chosen)
    if st.first_solution is None:
        st.first_solution = watch.first
    if found is not None or (status != "INFEASIBLE" and term == 0):
        st.bound = float(solver.best_objective_bound)
    return found


def _mip_stage(form: Formulation, term: int, holds: Sequence[Hold], inc: _Incumbent | None,
               limit: float, st: _Stage) -> _Incumbent | None:
    """Hand a stage CP-SAT left open to SCIP; keep its answer if exact and no worse."""
    out = solve_mip(form, term, holds, limit, hint=inc.chosen if inc is not None else ())
    st.mip_seconds = out.seconds
    if out.status == "INFEASIBLE" and inc is None:
        st.status = "INFEASIBLE"
        return None
    if out.status not in ("OPTIMAL", "FEASIBLE") or not satisfies(form, out.chosen, out.rooms,
                                                                    holds):
        return inc
    sense = form.objectives[term].sense
    mine = _Incumbent(out.chosen, out.rooms)
    better = inc is None or _better(sense, form.value(term, mine.chosen),
                                    form.value(term, inc.chosen))
    if out.status == "OPTIMAL":
        st.status = "OPTIMAL"
        st.bound = out.bound
        st.claimed = form.value(term, mine.chosen)
        keep_mine = inc is None or not _better(sense, form.value(term, inc.chosen),
                                               form.value(term, mine.chosen))
        return mine if keep_mine else inc
    return mine if better else inc


def _lp_incumbent(form: Formulation, pairs: Pairs, lp: LPSolution) -> list[Assignment] | None:
    """The LP solution rounded and completed greedily (columns by LP value, largest first)."""
    n = form.vars.n
    order = np.argsort(-lp.x[:n], kind="stable")
    order = order[lp.x[:n][order] > 1e-6]
    cols = form.columns
    first = [(int(cols.pair[j]), int(cols.fund[j])) for j in order.tolist()]
    return greedy_assignments(form.inst, pairs, first)


def usable_bound(solver_bound: int | None, weight: int, trivial: int) -> int:
    """A bound that is always valid.

    A stage cut before CP-SAT reported anything leaves its bound at the protocol's
    default (0), which may lie below an allocation we hold; then only the trivial bound
    is sure. Otherwise the tighter of the two.
    """
    if solver_bound is None or solver_bound < weight or (solver_bound <= 0 < trivial):
        return trivial
    return min(solver_bound, trivial)


@dataclass(frozen=True)
class Prepared:
    """A round ready for a solver: its pairs, and its formulation unless pins conflict."""

    pairs: Pairs
    conflicts: list[str]
    """What makes the pinned placements break a rule (then ``form`` is None)."""
    form: Formulation | None


def prepare(inst: Instance, pairs: Pairs | None = None) -> Prepared:
    """Eligible pairs, the pins checked, and the formulation every solver works on."""
    pairs = eligible_pairs(inst) if pairs is None else pairs
    conflicts = pin_conflicts(inst, pairs) if inst.pinned else []
    form = None if conflicts else build_formulation(inst, pairs)
    return Prepared(pairs=pairs, conflicts=conflicts, form=form)


def solve(inst: Instance, params: SolveParams | None = None,
          progress: Progress | None = None, pairs: Pairs | None = None,
          initial: Sequence[Assignment] | None = None) -> Result:
    """Solve an allocation round to the spec's lexicographic objective.

    Parameters
    ----------
    inst:
        The round.
    params:
        Time limit, seed, workers; see :class:`~matching.params.SolveParams`.
    progress:
        Called with a :class:`ProgressEvent` at each new incumbent or bound.
    pairs:
        Precomputed eligible pairs of ``inst`` (computed when omitted).
    initial:
        A valid allocation to start from, when it places more weight than greedy's
        (its placements on pairs absent from ``pairs`` are left out).

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
    if pairs is None and params.decompose_min_cells and \
            len(inst.beneficiaries) * inst.n_units >= params.decompose_min_cells:
        from matching.decompose import solve_decomposed

        res = solve_decomposed(inst, params, solve, progress, ProgressEvent)
        return replace(res, engine={**engine, **res.engine, "name": ENGINE})
    if pairs is None:
        pairs = eligible_pairs(inst)
    timings["eligibility"] = pairs.seconds
    engine["pairs"] = len(pairs)

    def finish(res: Result, stages: Sequence[_Stage] = ()) -> Result:
        timings["total"] = time.perf_counter() - t0
        return replace(res, solve_seconds=timings["total"],
                       engine={**engine, **res.engine, "name": ENGINE},
                       timings=dict(timings), stages=tuple(s.report() for s in stages))

    if len(pairs) >= params.pricing_min_pairs and len(pairs) > 0:
        conflicts = pin_conflicts(inst, pairs) if inst.pinned else []
        if conflicts:
            return finish(infeasible_result(inst, pairs, 0.0, ENGINE, conflicts))
        res = _solve_priced(inst, params, progress, pairs, t0, timings)
        timings["total"] = time.perf_counter() - t0
        return replace(res, solve_seconds=timings["total"],
                       engine={**res.engine, **engine, "pricing": res.engine["pricing"],
                               "priced_pairs": res.engine["priced_pairs"]},
                       timings=dict(timings))

    ready = prepare(inst, pairs)
    if ready.form is None:
        return finish(infeasible_result(inst, pairs, 0.0, ENGINE, ready.conflicts))
    form = ready.form
    timings["build"] = form.seconds
    engine["columns"] = form.vars.n
    trivial = form.trivial_bound

    t = time.perf_counter()
    greedy = greedy_assignments(inst, pairs)
    timings["greedy"] = time.perf_counter() - t
    inc: _Incumbent | None = None
    if greedy is not None and params.hint_greedy:
        inc = _Incumbent(*columns_of(form, greedy))
    if initial is not None:
        given = _Incumbent(*columns_of(form, initial))
        if inc is None or form.value(0, given.chosen) > form.value(0, inc.chosen):
            inc = given

    stages: list[_Stage] = []
    holds: list[Hold] = []
    # a little time is kept back for the explanations and the result
    deadline = t0 + params.time_limit * (1 - RESERVE_SHARE)
    for term in range(params.stages):
        obj = form.objectives[term]
        st = _Stage(name=obj.name)
        left = deadline - time.perf_counter()
        if term > 0 and left <= 0.05:
            break
        start = time.perf_counter()
        lp = solve_lp(form, term, holds, time_limit=max(0.1, LP_SHARE * left))
        st.lp_seconds = lp.seconds
        if lp.infeasible:
            st.status, st.seconds = "INFEASIBLE", time.perf_counter() - start
            stages.append(st)
            break
        if lp.optimal:
            st.lp_bound = lp.value
            if progress is not None:
                progress(ProgressEvent(obj.name, None, lp.value, time.perf_counter() - t0))
        if term == 0 and lp.optimal:
            rounded = _lp_incumbent(form, pairs, lp)
            if rounded is not None:
                cand = _Incumbent(*columns_of(form, rounded))
                if inc is None or form.value(0, cand.chosen) > form.value(0, inc.chosen):
                    inc = cand
        value = None if inc is None else form.value(term, inc.chosen)
        if progress is not None and value is not None:
            # the incumbent the stage starts from (greedy, LP-rounded, or the last stage's)
            progress(ProgressEvent(obj.name, value, None, time.perf_counter() - t0))
        st.columns = form.vars.n
        if value is not None and lp.optimal and _meets(obj.sense, value, lp.value):
            st.status, st.value, st.bound, st.proven_by_lp = "OPTIMAL", value, lp.value, True
        else:
            if value is not None and lp.optimal:
                drop = prunable(form, term, lp, value)
                drop[inc.chosen] = False  # type: ignore[union-attr]
                st.pruned = int(drop.sum())
                if st.pruned:
                    form, remap = form.subset(~drop)
                    inc = _Incumbent(remap[inc.chosen].tolist(), inc.rooms)  # type: ignore[union-attr]
            left = deadline - time.perf_counter()
            # the LP bound is proven: as a cut it lets CP-SAT stop as soon as it meets it
            cut = [Hold(term, "<=" if obj.sense == "max" else ">=",
                        _lp_limit(obj.sense, lp.value))] if lp.optimal else []
            budget = left * STAGE_SHARE[params.stages][term]
            end = time.perf_counter() + budget
            if inc is not None and lp.optimal and form.vars.n >= RINS_MIN_COLUMNS:
                # neighbourhood of the incumbent: keep what it shares with the LP solution
                agree = [j for j in inc.chosen if lp.x[j] > 1 - 1e-6]
                found = _cpsat_stage(form, term, [*holds, *cut], inc, RINS_SHARE * budget,
                                     params, progress, t0, st, deadline, fixed=agree)
                if found is not None and _better(obj.sense, form.value(term, found.chosen),
                                                 form.value(term, inc.chosen)):
                    inc = found
            value = None if inc is None else form.value(term, inc.chosen)
            if value is not None and lp.optimal and _meets(obj.sense, value, lp.value):
                st.status = "OPTIMAL"
            else:
                mip = form.vars.n <= MIP_MAX_COLUMNS
                if mip and term in MIP_FIRST_TERMS:
                    inc = _mip_stage(form, term, [*holds, *cut], inc,
                                     MIP_FIRST_SHARE * (end - time.perf_counter()), st)
                share = CPSAT_FIRST_SHARE if mip else 1.0
                if st.status != "OPTIMAL":
                    value = None if inc is None else form.value(term, inc.chosen)
                    found = _cpsat_stage(form, term, [*holds, *cut], inc,
                                         share * (end - time.perf_counter()), params, progress,
                                         t0, st, deadline,
                                         dtime=CPSAT_FIRST_DTIME if mip else None)
                    if found is not None and (value is None or _better(
                            obj.sense, form.value(term, found.chosen), value)):
                        inc = found
                if mip and st.status != "OPTIMAL" and end - time.perf_counter() > 0.2:
                    inc = _mip_stage(form, term, [*holds, *cut], inc, end - time.perf_counter(),
                                     st)
                    if progress is not None and inc is not None:
                        progress(ProgressEvent(obj.name, form.value(term, inc.chosen), st.bound,
                                               time.perf_counter() - t0))
            if inc is not None:
                st.value = form.value(term, inc.chosen)
                if st.status == "INFEASIBLE" or (st.status == "OPTIMAL" and st.claimed is not None
                                                 and _better(obj.sense, st.value, st.claimed)):
                    # The incumbent meets every row, so a proof that excludes it (nothing
                    # feasible, or an optimum worse than it) can only come from the LP
                    # cut's rounding: the stage is unproven, never the round infeasible.
                    logger.warning("stage %s: a search's proof contradicts the incumbent; "
                                   "kept the incumbent, stage unproven", obj.name)
                    st.status = "FEASIBLE"
                if st.status == "UNKNOWN":
                    st.status = "FEASIBLE"
            st.bound = _stage_bound(obj.sense, st.bound, lp.value if lp.optimal else None,
                                    st.value)
        st.seconds = time.perf_counter() - start
        timings[f"stage_{st.name}"] = st.seconds
        stages.append(st)
        if st.status == "INFEASIBLE" or inc is None or st.value is None:
            break
        holds.append(Hold(term, "==" if st.status == "OPTIMAL" else
                          (">=" if obj.sense == "max" else "<="), st.value))

    first = stages[0] if stages else None
    if first is not None and first.status == "INFEASIBLE":
        return finish(infeasible_result(inst, pairs, 0.0, ENGINE, pin_conflicts(inst, pairs)),
                      stages)
    solver_bound = None if first is None or first.bound is None \
        else math.floor(first.bound + 1e-6)
    if inc is None:
        res = empty_result(inst, "UNKNOWN", "no_solution_in_time", 0.0,
                           {"time_limit": params.time_limit}, ENGINE,
                           usable_bound(solver_bound, 0, trivial))
        return finish(res, stages)

    assignments = allocation(form, pairs, inc.chosen, inc.rooms)
    weights = {b.id: inst.weight(b) for b in inst.beneficiaries}
    objective: Objective = objective_of(assignments, weights)
    proven = first is not None and first.status == "OPTIMAL"
    bound = objective.weight if proven else usable_bound(solver_bound, objective.weight,
                                                          trivial)
    all_proven = len(stages) == 3 and all(s.status == "OPTIMAL" for s in stages)
    t = time.perf_counter()
    unassigned = explain_unassigned(inst, pairs, assignments, proven=proven)
    timings["explain"] = time.perf_counter() - t
    return finish(Result(
        instance=inst.name, status="OPTIMAL" if all_proven else "FEASIBLE",
        objective=objective, bound_weight=bound, assignments=tuple(assignments),
        unassigned=tuple(unassigned), solve_seconds=0.0,
    ), stages)


def _pair_index(inst: Instance, pairs: Pairs, beneficiary: str, unit: str) -> int:
    """Index of the (beneficiary, unit) pair in ``pairs``."""
    sl = pairs.of_beneficiary(inst.beneficiary_index[beneficiary])
    k = int(np.searchsorted(pairs.unit[sl], inst.unit_index[unit]))
    return int(sl.start + k)


def _solve_priced(inst: Instance, params: SolveParams, progress: Progress | None,
                  pairs: Pairs, t0: float, timings: dict[str, float]) -> Result:
    """Price-and-branch, for rounds too large to formulate whole.

    Column generation over every pair (:func:`matching.pricing.price_pairs`) bounds
    the weight of every allocation and finds the pairs the LP wants; the staged engine
    then solves the round on those pairs only. Its allocation is valid for the whole
    round (a subset of pairs only removes options), but its proofs hold on those pairs
    only: the result is ``FEASIBLE``, with the column-generation bound on the weight.
    """
    deadline = t0 + params.time_limit * (1 - PRICED_RESERVE_SHARE)
    left = deadline - time.perf_counter()
    # the greedy allocation's pairs seed the master: later households in its order take
    # units far down their list, which the cheapest pairs of each household miss (at L
    # the first master is worth 121,270 with them, 118,141 without)
    t = time.perf_counter()
    greedy = greedy_assignments(inst, pairs) if params.hint_greedy else None
    timings["greedy"] = time.perf_counter() - t
    seed = np.zeros(0, dtype=np.int64)
    if greedy is not None:
        seed = np.array([_pair_index(inst, pairs, a.beneficiary, a.unit) for a in greedy],
                        dtype=np.int64)
    left = deadline - time.perf_counter()
    priced = price_pairs(inst, pairs, PRICING_SHARE * left, seed_pairs=seed)
    timings["pricing"] = priced.seconds
    weights = np.array([inst.weight(b) for b in inst.beneficiaries], dtype=np.int64)
    trivial = int(weights[np.unique(pairs.beneficiary)].sum())
    bound = trivial
    if math.isfinite(priced.bound):
        bound = min(trivial, math.floor(priced.bound + 1e-6 * max(1.0, abs(priced.bound))))
        if progress is not None:
            progress(ProgressEvent("weight", None, float(bound), time.perf_counter() - t0))
    # the matching with free budgets, repaired greedily (funds, room genders): at L it
    # places 120,997, where the master's solution rounded places 118,832
    t = time.perf_counter()
    keep = priced.keep
    repaired = greedy_assignments(inst, pairs, [(int(p), -1) for p in priced.matching]) \
        if priced.matching.size else None
    if repaired:
        keep = np.union1d(keep, np.array(
            [_pair_index(inst, pairs, a.beneficiary, a.unit) for a in repaired],
            dtype=np.int64))
    restricted = pairs.subset(keep)
    # the last master's solution, rounded and completed greedily, is the other incumbent
    # the stages may start from: their own LP of the priced pairs may not finish at L
    first = list(zip(np.searchsorted(keep, priced.x_pair).tolist(),
                     priced.x_fund.tolist(), strict=True))
    rounded = greedy_assignments(inst, restricted, first) if first else None

    def placed(alloc: Sequence[Assignment] | None) -> int:
        return -1 if alloc is None else sum(
            int(weights[inst.beneficiary_index[a.beneficiary]]) for a in alloc)

    if placed(repaired) > placed(rounded):
        rounded = repaired
    timings["rounding"] = time.perf_counter() - t
    if rounded is not None and progress is not None:
        progress(ProgressEvent("weight", placed(rounded), None, time.perf_counter() - t0))
    inner_t0 = time.perf_counter()

    def relay(ev: ProgressEvent) -> None:
        # the inner bounds hold on the priced pairs only: not relayed
        if progress is not None and ev.incumbent is not None:
            progress(ProgressEvent(ev.stage, ev.incumbent, None,
                                   ev.elapsed + inner_t0 - t0))

    inner = solve(inst, replace(params, time_limit=max(0.1, deadline - time.perf_counter()),
                                pricing_min_pairs=len(restricted) + 1),
                  progress=relay, pairs=restricted, initial=rounded)
    for key, value in inner.timings.items():
        if key not in ("eligibility", "total"):
            timings[key] = value
    info: dict[str, Any] = {
        "pricing": {"bound": round(priced.bound, 3), "lp_value": round(priced.lp_value, 3),
                    "converged": priced.converged, "iterations": priced.iterations,
                    "columns": priced.columns, "seconds": round(priced.seconds, 3)},
        "priced_pairs": len(restricted)}
    if inner.status == "INFEASIBLE":
        # only the pinned placements can make a round infeasible, and their pairs are
        # all priced in: the inner proof holds for the round
        return replace(inner, engine={**inner.engine, **info})
    if inner.status == "UNKNOWN":
        res = empty_result(inst, "UNKNOWN", "no_solution_in_time", 0.0,
                           {"time_limit": params.time_limit}, ENGINE, bound)
        return replace(res, engine={**res.engine, **info}, stages=inner.stages)
    weight = inner.objective.weight
    if bound < weight:  # only floating point could do this: keep what is sure
        logger.warning("pricing bound %s below an allocation's weight %s; trivial bound kept",
                       bound, weight)
        bound = trivial
    t = time.perf_counter()
    unassigned = explain_unassigned(inst, pairs, inner.assignments, proven=weight >= bound)
    timings["explain"] = time.perf_counter() - t
    return replace(inner, status="FEASIBLE", bound_weight=bound,
                   unassigned=tuple(unassigned), engine={**inner.engine, **info})


def _lp_limit(sense: str, lp_value: float) -> int:
    """The LP bound rounded to the integers, with a margin for GLOP's tolerances."""
    tol = 1e-6 * max(1.0, abs(lp_value))
    if sense == "max":
        return math.floor(lp_value + tol)
    return math.ceil(lp_value - tol)


def _meets(sense: str, value: int, lp_value: float) -> bool:
    """Whether an integral value reaches the LP bound (so it is optimal)."""
    limit = _lp_limit(sense, lp_value)
    return value >= limit if sense == "max" else value <= limit


def _better(sense: str, a: int, b: int) -> bool:
    return a > b if sense == "max" else a < b


def _stage_bound(sense: str, cpsat: float | None, lp: float | None,
                 value: int | None) -> float | None:
    """The tighter of CP-SAT's and the LP's bounds, ignoring one that cannot be valid.

    A search cut before its presolve ended reports the protocol's default (0), which
    may be worse than an allocation held: such a number bounds nothing.
    """
    valid = [b for b in (cpsat, lp) if b is not None and (
        value is None or (b >= value - 1e-6 if sense == "max" else b <= value + 1e-6))]
    if not valid:
        return None
    return min(valid) if sense == "max" else max(valid)
