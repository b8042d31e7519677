"""Price-and-branch, for rounds too large to formulate whole.

Column generation over every pair (:func:`matching.pricing.price_pairs`) bounds the
weight of every allocation and finds the pairs the LP wants; the staged engine
(:func:`~matching.strategies.whole.solve_whole`) then solves the round on those pairs
only. Its allocation is valid for the whole round (a subset of pairs only removes
options), but its proofs hold on those pairs only: the result is ``FEASIBLE``, with the
column-generation bound on the weight.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.budget import Budget
from matching.eligibility import Pairs
from matching.explain import (
    empty_result,
    encoded_aux,
    explain_unassigned,
    infeasible_result,
    pin_conflicts,
)
from matching.greedy import greedy, start_from
from matching.instance import Instance
from matching.model.objectives.weight import weights
from matching.model.rules import declare
from matching.model.space import Universe
from matching.params import SolveParams
from matching.pricing import matching_start, price_pairs
from matching.result import Assignment, Result
from matching.stage import Progress, ProgressEvent
from matching.strategies.common import ENGINE, logger
from matching.strategies.whole import solve_whole

FloatArray = npt.NDArray[np.float64]


def solve_priced(
    inst: Instance,
    params: SolveParams,
    progress: Progress | None,
    budget: Budget,
    pairs: Pairs,
    explain: bool = True,
    start: Sequence[Assignment] = (),
) -> Result:
    """Price-and-branch on ``inst`` over all its ``pairs`` (see the module docstring).

    ``explain=False`` leaves the households left out without their reasons (the
    result's ``unassigned`` is empty), for a caller that keeps its own. ``start``: a
    known allocation of ``inst``, placed first by greedy (in its rooms; the pass
    completes it) and priced in from the start, so that the result is never worse
    than it."""
    timings: dict[str, float] = {"eligibility": pairs.seconds}
    universe = Universe.of(inst, pairs)
    space = declare(universe)
    if inst.pinned:
        conflicts = pin_conflicts(inst, pairs, space)
        if conflicts:
            return infeasible_result(inst, pairs, 0.0, ENGINE, conflicts, space)
    # the share kept for explaining the households left out: none when not explained
    run = budget.keep(params.pricing.reserve_share if explain else 0.0)
    w = weights(inst)
    # the greedy allocation's pairs seed the master: later households in its order take
    # units far down their list, which the cheapest pairs of each household miss (at L
    # the first master is worth 121,270 with them, 118,141 without)
    t = time.perf_counter()
    seed = np.zeros(0, dtype=np.int64)
    target = None
    first = start_from(inst, pairs, start)
    first_aux = encoded_aux(space, start).astype(np.float64) if start else None
    pinned = {inst.beneficiary_index[p.beneficiary] for p in inst.pinned}
    held = [x for x in first if int(pairs.beneficiary[x[0]]) in pinned]
    hinted = None
    if first and len(held) == len(first):
        # a known allocation of pinned households only: every start below places them
        # first, in its rooms; its pairs seed the master
        seed = np.unique(np.array([x[0] for x in first], dtype=np.int64))
        target = float(w[np.unique(pairs.beneficiary[seed])].sum())
    elif params.hint_greedy or first:
        hinted = greedy(
            space,
            first,
            deadline=run.share(0.5 * params.pricing.share).deadline,
            aux=first_aux,
        )
        if hinted is not None:
            seed = np.unique(hinted.columns.pair)
            target = float(w[hinted.columns.beneficiary].sum())
    timings["greedy"] = time.perf_counter() - t
    priced = price_pairs(
        space,
        run.share(params.pricing.share),
        params.pricing,
        seed_pairs=seed,
        target=target,
        outer=run,
    )
    timings["pricing"] = priced.seconds
    trivial = int(w[np.unique(pairs.beneficiary)].sum())
    bound = trivial
    if math.isfinite(priced.bound):
        bound = min(trivial, math.floor(priced.bound + 1e-6 * max(1.0, abs(priced.bound))))
        if progress is not None:
            progress(ProgressEvent("weight", None, float(bound), budget.elapsed()))
    # the matching with free budgets, repaired greedily (funds, room genders), and the
    # last master's solution rounded: the stages start from the better (at L 120,997
    # against 118,832)
    t = time.perf_counter()
    starts: list[tuple[list[tuple[int, int, int]], FloatArray | None]] = []
    # each repaired as the LP over its own columns says (funds, rooms' genders)
    if priced.priced_matching.size:
        # where the money binds: the matching at the fund prices found, which spends
        # about the budgets, cheapest for its weight first. The matching with free
        # budgets overspends them then; its repair (a greedy pass over every pair, 27 s
        # at L) was not the best start at L with budgets cut to a fifth: not repaired
        starts.append(matching_start(space, priced.priced_matching, run.seconds()))
    elif priced.matching.size:
        starts.append(matching_start(space, priced.matching, run.seconds()))
    if priced.x_pair.size and not first:
        # the master's room counts start the rooms: they fit its integral columns
        # (not where an allocation is known: its rooms and the master's disagree, and
        # at XL's stitch this start was the worse by 800 in 13 s)
        starts.append(
            (
                list(
                    zip(
                        priced.x_pair.tolist(),
                        priced.x_fund.tolist(),
                        priced.x_room.tolist(),
                        strict=True,
                    )
                ),
                priced.x_aux,
            )
        )
    if first:
        # the pinned households as the known allocation places them (its rooms): a
        # start that places them first where the LP says may find no room of their
        # gender for the last of them; and the known allocation itself, completed,
        # when nothing else is started
        starts = [(held + f, first_aux) for f, _ in starts] or [(first, first_aux)]
    best: list[tuple[int, int, int]] = []
    best_placed: list[Assignment] = []
    best_weight = -1
    keep = priced.keep
    # greedy's own allocation is one more start; each pass ends at the deadline (what
    # it placed so far is valid)
    outs = (greedy(space, f, deadline=run.deadline, aux=aux) for f, aux in starts)
    for out in itertools.chain([hinted] if hinted is not None else [], outs):
        if out is None:
            continue
        placed = int(w[out.columns.beneficiary].sum())
        keep = np.union1d(keep, out.columns.pair)
        if placed > best_weight:
            best_weight = placed
            # its named rooms: the stages start with each gender in the same rooms
            best_placed = out.assignments()
            best = list(
                zip(
                    out.columns.pair.tolist(),
                    out.columns.fund.tolist(),
                    out.columns.room.tolist(),
                    strict=True,
                )
            )
    timings["rounding"] = time.perf_counter() - t
    if best_weight >= 0 and progress is not None:
        progress(ProgressEvent("weight", best_weight, None, budget.elapsed()))
    restricted = pairs.subset(keep)
    # the start's pairs in the restricted round's indices
    position = np.full(len(pairs), -1, dtype=np.int64)
    position[keep] = np.arange(keep.size)
    initial = [(int(position[p]), f, r) for p, f, r in best]

    def relay(ev: ProgressEvent) -> None:
        # the inner bounds hold on the priced pairs only: not relayed
        if progress is not None and ev.incumbent is not None:
            progress(ProgressEvent(ev.stage, ev.incumbent, None, ev.elapsed))

    # the households left out are explained below, over every pair: not on the subset
    # greedy's own allocation was among the starts: not run again on the subset
    inner = solve_whole(
        inst,
        replace(params, hint_greedy=False) if initial else params,
        relay,
        run.keep(0.0),
        restricted,
        initial=initial,
        explain=False,
        initial_rooms=best_placed,
    )
    info: dict[str, Any] = {
        "strategy": "priced",
        "pairs": len(pairs),
        "pricing": {
            "bound": round(priced.bound, 3),
            "lp_value": round(priced.lp_value, 3),
            "converged": priced.converged,
            "iterations": priced.iterations,
            "columns": priced.columns,
            "seconds": round(priced.seconds, 3),
        },
        "priced_pairs": len(restricted),
    }
    timings.update({k: v for k, v in inner.timings.items() if k != "eligibility"})
    if inner.status == "INFEASIBLE":
        # only the pinned placements can make a round infeasible, and their pairs are
        # all priced in: the inner proof holds for the round
        return replace(inner, engine={**inner.engine, **info}, timings=timings)
    if inner.status == "UNKNOWN":
        res = empty_result(
            inst,
            "UNKNOWN",
            "no_solution_in_time",
            0.0,
            {"time_limit": params.time_limit},
            ENGINE,
            bound,
        )
        return replace(res, engine={**res.engine, **info}, stages=inner.stages, timings=timings)
    weight = inner.objective.weight
    if bound < weight:  # only floating point could do this: keep what is sure
        logger.warning(
            "pricing bound %s below an allocation's weight %s; trivial bound kept", bound, weight
        )
        bound = trivial
    t = time.perf_counter()
    unassigned = (
        explain_unassigned(inst, pairs, inner.assignments, proven=weight >= bound, space=space)
        if explain
        else []
    )
    timings["explain"] = time.perf_counter() - t
    return replace(
        inner,
        status="FEASIBLE",
        bound_weight=bound,
        unassigned=tuple(unassigned),
        engine={**inner.engine, **info},
        timings=timings,
    )
