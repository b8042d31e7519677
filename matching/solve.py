"""``solve(instance, params) -> Result``: the allocation round, to the contract's
lexicographic objective (weight, then contribution, then commute).

:func:`solve` is a dispatcher over three strategies, by the round's size:

- **whole** (:mod:`matching.strategies.whole`): the formulation of every column, solved
  in lexicographic stages (:mod:`matching.stage`), each bounded by its LP relaxation
  and searched by CP-SAT (and SCIP on small models);
- **priced** (:mod:`matching.strategies.priced`), from ``params.pricing.min_pairs``
  eligible pairs (L: 24 million): column generation over every pair bounds the weight
  and finds the pairs worth searching; the stages then run on those;
- **in parts** (:mod:`matching.decompose`), from ``params.decompose.min_cells``
  household x unit combinations (XL), too many even to list their pairs: commute-
  separated components, replicas of the dense ones, and the funds shared out part by
  part.

Every strategy reads the rules as they declare themselves once
(:mod:`matching.model.rules`), and every part of the run, eligibility and explanations
included, shares one :class:`~matching.budget.Budget`.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import replace

from matching.budget import Budget
from matching.decompose import solve_decomposed
from matching.eligibility import Pairs, eligible_pairs
from matching.greedy import start_from
from matching.instance import Instance
from matching.limits import check_engine_limits
from matching.params import SolveParams
from matching.result import Result
from matching.stage import Progress, ProgressEvent
from matching.strategies.common import ENGINE, engine_record
from matching.strategies.priced import solve_priced
from matching.strategies.whole import solve_whole

__all__ = ["ENGINE", "Progress", "ProgressEvent", "in_parts", "priced", "solve"]


def in_parts(inst: Instance, params: SolveParams) -> bool:
    """Whether ``inst`` is too large to list its pairs, and is solved in parts."""
    cells = len(inst.beneficiaries) * inst.n_units
    return bool(params.decompose.min_cells) and cells >= params.decompose.min_cells


def priced(inst: Instance, pairs: Pairs, params: SolveParams) -> bool:
    """Whether a round of ``pairs`` is solved by price-and-branch (see
    :class:`~matching.params.PricingParams`: seasonal rounds are priced sooner)."""
    seasonal = len({inst.stay(b).first for b in inst.beneficiaries}) > 1
    least = params.pricing.min_pairs_seasonal if seasonal else params.pricing.min_pairs
    return len(pairs) > 0 and len(pairs) >= min(least, params.pricing.min_pairs)


def solve(
    inst: Instance,
    params: SolveParams | None = None,
    progress: Progress | None = None,
    pairs: Pairs | None = None,
    budget: Budget | None = None,
    previous: Result | None = None,
    executor: Executor | None = None,
) -> Result:
    """Solve an allocation round to the contract's lexicographic objective.

    Parameters
    ----------
    inst:
        The round.
    params:
        Time limit, seed, workers and every component's parameters; see
        :class:`~matching.params.SolveParams`.
    progress:
        Called with a :class:`~matching.stage.ProgressEvent` at each new incumbent or
        bound.
    pairs:
        Precomputed eligible pairs of ``inst`` (computed when omitted).
    budget:
        The run's time budget, when it started before this call (the command line
        starts it before reading the file); a new one of ``params.time_limit`` otherwise.
    previous:
        An earlier result of the same round (before staff pinned, forbade or a household
        refused): a re-solve starts from what of it the round still allows, completed
        greedily, when that places more weight than greedy alone. The optimum is the
        same; the search starts nearer to it.
    executor:
        Where a round solved in parts solves them, ``params.decompose.workers`` at once
        (a Dask cluster's executor, ``distributed.Client(...).get_executor()``, or any
        :class:`concurrent.futures.Executor` of processes); in this process, one after
        the other, when None. Smaller rounds ignore it.

    Returns
    -------
    Result
        ``OPTIMAL`` when all three objectives are proven, ``FEASIBLE`` with the proven
        bound on the weight otherwise, ``INFEASIBLE`` when the pinned placements break
        a rule, ``UNKNOWN`` when no allocation was found in time. Every beneficiary
        appears once, placed or with at least one reason. ``solve_seconds`` is the time
        the whole run took, from the budget's start.

    Raises
    ------
    matching.limits.EngineLimitError
        When the round's numbers are beyond what the engine optimises exactly.
    """
    params = SolveParams() if params is None else params
    budget = Budget.start(params.time_limit) if budget is None else budget
    check_engine_limits(inst)
    # the strict priority mode's class stages and the group floors (which count the whole
    # allocation) are run on the whole round
    strict = inst.policy.priority_mode == "strict" or bool(inst.policy.group_floors)
    if pairs is None and in_parts(inst, params) and not strict:
        res = solve_decomposed(inst, params, progress, budget, executor)
    else:
        pairs = eligible_pairs(inst) if pairs is None else pairs
        if priced(inst, pairs, params) and not strict:
            res = solve_priced(inst, params, progress, budget, pairs)
        else:
            initial = start_from(inst, pairs, previous.assignments) if previous is not None else ()
            res = solve_whole(inst, params, progress, budget, pairs, initial=initial)
    total = budget.elapsed()
    return replace(
        res,
        solve_seconds=total,
        engine={**engine_record(params), **res.engine, "name": ENGINE},
        timings={**res.timings, "total": total},
    )
