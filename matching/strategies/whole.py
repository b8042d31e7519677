"""A round formulated whole: its lexicographic stages on every column."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.budget import Budget
from matching.eligibility import Pairs
from matching.explain import empty_result, encoded_aux, explain_unassigned, infeasible_result
from matching.greedy import Start, greedy
from matching.instance import Instance
from matching.model.formulation import Formulation, Hold, Solution
from matching.model.objectives import weight_terms
from matching.params import SolveParams
from matching.result import Assignment, Result, lines_opened, objective_of, result_format
from matching.stage import Progress, StageReport, StageState, run_stage
from matching.strategies.common import ENGINE, prepare, usable_bound


def _start(
    form: Formulation,
    params: SolveParams,
    budget: Budget,
    initial: Start,
    rooms: Sequence[Assignment] = (),
) -> tuple[Solution | None, float]:
    """The incumbent the first stage starts from: greedy's, or ``initial`` completed
    greedily when it places more weight (each gender given first the rooms ``rooms``
    name)."""
    t = time.perf_counter()
    best: Solution | None = None
    tries: list[tuple[Start, npt.NDArray[np.float64] | None]] = []
    if params.hint_greedy:
        tries.append(((), None))
    if initial:
        aux = encoded_aux(form.space, rooms).astype(np.float64) if rooms else None
        tries.append((initial, aux))
    for first, aux in tries:
        out = greedy(form.space, first, deadline=budget.deadline, aux=aux)
        if out is None:
            continue
        found = form.lookup(out.columns)
        if np.any(found < 0):
            continue
        cand = Solution.of(found, out.aux)
        if best is None or form.value(0, cand) > form.value(0, best):
            best = cand
    return best, time.perf_counter() - t


def solve_whole(
    inst: Instance,
    params: SolveParams,
    progress: Progress | None,
    budget: Budget,
    pairs: Pairs,
    initial: Start = (),
    explain: bool = True,
    initial_rooms: Sequence[Assignment] = (),
) -> Result:
    """The staged engine on the whole formulation of ``inst`` over ``pairs``.

    ``initial`` lists (option, fund, room) placements of an allocation to start from
    (completed greedily) when it places more weight than greedy's; ``initial_rooms``, that
    allocation's placements, name the rooms each gender holds in it. The result is
    ``OPTIMAL`` when all three terms are proven, ``FEASIBLE`` with the proven bound otherwise,
    ``INFEASIBLE`` when the pins break a rule, ``UNKNOWN`` when nothing was found.
    Without ``explain`` the households left out are not explained (a caller that solved
    on a subset of the pairs explains them over all of them).
    """
    timings: dict[str, float] = {"eligibility": pairs.seconds}
    ready = prepare(inst, pairs)
    engine: dict[str, Any] = {"pairs": len(pairs), "strategy": "whole"}
    if ready.form is None:
        res = infeasible_result(inst, pairs, 0.0, ENGINE, ready.conflicts, ready.space)
        return _with(res, engine, timings, ())
    form = ready.form
    timings["build"] = form.seconds
    engine["columns"] = form.n
    trivial = form.trivial_bound
    inc, timings["greedy"] = _start(form, params, budget, initial, initial_rooms)
    stages: list[StageReport] = []
    holds: list[Hold] = []
    run = budget.keep(params.stage.reserve_share)
    build = 0.0
    # the weight's terms (one, or one per priority class in the strict mode), then money
    # and commute as far as ``params.stages`` asks
    n_weight = weight_terms(form.objectives)
    n_terms = len(form.objectives)
    for term in range(n_weight + params.stages - 1):
        if term > 0 and run.left() <= 0.05:
            break
        state = run_stage(
            StageState(
                form=form,
                term=term,
                holds=tuple(holds),
                incumbent=inc,
                budget=run,
                params=params,
                progress=progress,
                build_estimate=build,
                report=StageReport(name=form.objectives[term].name),
            )
        )
        if state.cpsat is not None:
            build = state.cpsat.seconds
        form, inc = state.form, state.incumbent
        st = state.report
        timings[f"stage_{st.name}"] = st.seconds
        stages.append(st)
        if st.status == "INFEASIBLE" or inc is None or st.value is None:
            break
        holds.append(
            Hold(
                term,
                "=="
                if st.status == "OPTIMAL"
                else (">=" if form.objectives[term].sense == "max" else "<="),
                st.value,
            )
        )

    first = stages[0] if stages else None
    if first is not None and first.status == "INFEASIBLE":
        res = infeasible_result(inst, pairs, 0.0, ENGINE, space=ready.space)
        return _with(res, engine, timings, stages)
    solver_bound = (
        None
        if first is None or first.bound is None or n_weight > 1  # a class's bound, not the weight's
        else math.floor(first.bound + 1e-6)
    )
    if inc is None:
        res = empty_result(
            inst,
            "UNKNOWN",
            "no_solution_in_time",
            0.0,
            {"time_limit": params.time_limit},
            ENGINE,
            usable_bound(solver_bound, 0, trivial),
        )
        return _with(res, engine, timings, stages)
    placed = form.assignments(inc)
    objective = objective_of(placed, inst.weights, inst.line_costs)
    proven = len(stages) >= n_weight and all(s.status == "OPTIMAL" for s in stages[:n_weight])
    bound = objective.weight if proven else usable_bound(solver_bound, objective.weight, trivial)
    all_proven = len(stages) == n_terms and all(s.status == "OPTIMAL" for s in stages)
    t = time.perf_counter()
    unassigned = (
        explain_unassigned(inst, pairs, placed, proven=proven, space=ready.space) if explain else []
    )
    if explain:
        timings["explain"] = time.perf_counter() - t
    res = Result(
        instance=inst.name,
        status="OPTIMAL" if all_proven else "FEASIBLE",
        objective=objective,
        bound_weight=bound,
        assignments=tuple(placed),
        unassigned=tuple(unassigned),
        solve_seconds=0.0,
        format=result_format(inst.v2),
        lines_opened=lines_opened(placed, inst.line_costs),
    )
    return _with(res, engine, timings, stages)


def _with(
    res: Result, engine: dict[str, Any], timings: dict[str, float], stages: Sequence[StageReport]
) -> Result:
    return replace(
        res,
        engine={**res.engine, **engine},
        timings={**res.timings, **timings},
        stages=tuple(s.to_dict() for s in stages),
    )
