"""One lexicographic stage: a pipeline of small steps over one typed state.

A stage optimises one objective term with the earlier terms held. Its steps, in order,
each a function of :class:`StageState` that returns at once when the stage is settled:

1. :func:`relax`: the LP relaxation (GLOP) bounds the stage;
2. :func:`round_relaxation`: on the first stage, the LP solution rounded down and
   completed greedily becomes the incumbent when it places more weight;
3. :func:`prove_by_relaxation`: an incumbent that meets the LP bound is optimal;
4. :func:`fix_by_reduced_cost`: columns no optimal allocation can use are dropped;
5. :func:`search_neighbourhood`: on large models, and on small ones in the weight stage
   (briefly), CP-SAT around the incumbent, with the columns it shares with the LP
   solution fixed (RINS);
5b. :func:`search_large_neighbourhoods`: on large models, CP-SAT on one small model
   after the other, each freeing the homes near one place and the households in and
   around them, the rest of the incumbent fixed (large neighbourhood search);
6. :func:`mip_first`: on small models, a MIP solver (HiGHS, with a placed variable per
   household) first, on the stages ``stage.mip_first_terms`` names (all three: it
   proves the generated S rounds' stages in about 2 s each at most, where CP-SAT is weak
   at the knapsack equalities the held terms make);
7. :func:`search`: CP-SAT, hinted with the incumbent, stopped as soon as it meets the
   LP bound (a solution callback, not a constraint);
8. :func:`mip_after`: the MIP solver on what CP-SAT left open, on small models where it
   did not go first;
8b. :func:`fix_by_reduced_cost` again: the columns ruled out at the value the stage
   ends with are dropped for the stages after it (step 4 also runs again after step 5);
9. :func:`settle`: the stage's status and bound, from what is proven.

The time each step may use is a share of the stage's :class:`~matching.budget.Budget`
(:class:`~matching.params.StageParams`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.budget import Budget
from matching.greedy import greedy
from matching.model.formulation import Formulation, Hold, Solution
from matching.model.objectives import stage_share
from matching.params import SolveParams
from matching.solvers.cpsat import CpSatModel, solve_cpsat
from matching.solvers.lp import LPSolution, prunable, solve_lp
from matching.solvers.mip import solve_mip

logger = logging.getLogger("matching.solver")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ProgressEvent:
    """What the solver reports while it runs (for a live display)."""

    stage: str
    incumbent: float | None
    bound: float | None
    elapsed: float


Progress = Callable[[ProgressEvent], None]


@dataclass
class StageReport:
    """What one stage did, as the result's ``stages`` records it."""

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
    neighbourhoods: int = 0
    """How many neighbourhoods the large neighbourhood search solved..."""
    improved_by_neighbourhoods: int = 0
    """...and how many of them improved the incumbent."""

    def to_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {
            "objective": self.name,
            "status": self.status,
            "value": self.value,
            "bound": r(self.bound),
            "lp_bound": r(self.lp_bound),
            "proven_by_lp": self.proven_by_lp,
            "columns": self.columns,
            "pruned_columns": self.pruned,
            "seconds": r(self.seconds),
            "lp_seconds": r(self.lp_seconds),
            "mip_seconds": r(self.mip_seconds),
            "first_solution_seconds": r(self.first_solution),
            "neighbourhoods": self.neighbourhoods,
            "improved_by_neighbourhoods": self.improved_by_neighbourhoods,
        }


@dataclass
class StageState:
    """Everything a stage's steps read and change."""

    form: Formulation
    term: int
    holds: Sequence[Hold]
    incumbent: Solution | None
    budget: Budget
    """The run's budget: the stage takes its shares of what is left."""
    params: SolveParams
    progress: Progress | None
    report: StageReport
    lp: LPSolution | None = None
    search: Budget | None = None
    """The stage's own search budget, set once the LP is solved."""
    claimed: list[tuple[str, int]] = field(default_factory=list)
    """(solver, value) of each search that claimed optimality."""
    cpsat: CpSatModel | None = None
    """The stage's CP-SAT model, built once for its searches."""
    build_estimate: float = 0.0
    """Seconds the previous stage took to build its CP-SAT model (a guide to this one's)."""
    mip_first_ran: bool = False
    """Whether the MIP solver went first: CP-SAT then gets the rest of the stage's time
    (the MIP solver, run again from the start, would repeat its own search first)."""

    @property
    def sense(self) -> str:
        return self.form.objectives[self.term].sense

    @property
    def settled(self) -> bool:
        return self.report.status in ("OPTIMAL", "INFEASIBLE")

    def value(self, sol: Solution | None = None) -> int | None:
        sol = self.incumbent if sol is None else sol
        return None if sol is None else self.form.value(self.term, sol)

    def better(self, sol: Solution | None) -> bool:
        """Whether ``sol`` improves on the incumbent."""
        if sol is None:
            return False
        if self.incumbent is None:
            return True
        return _better(self.sense, self.form.value(self.term, sol), self.value() or 0)

    def tell(self, incumbent: float | None, bound: float | None) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent(self.report.name, incumbent, bound, self.budget.elapsed()))

    @property
    def lp_limit(self) -> int | None:
        """The LP bound rounded to the integers, when the LP was solved."""
        if self.lp is None or not self.lp.optimal:
            return None
        return lp_limit(self.sense, self.lp.value)


Step = Callable[[StageState], None]


def relax(s: StageState) -> None:
    s.lp = solve_lp(
        s.form, s.term, s.holds, time_limit=max(0.1, s.budget.share(s.params.stage.lp_share).left())
    )
    s.report.lp_seconds = s.lp.seconds
    s.report.columns = s.form.n
    if s.lp.infeasible:
        s.report.status = "INFEASIBLE"
    elif s.lp.optimal:
        s.report.lp_bound = s.lp.value
        s.tell(None, s.lp.value)


def round_relaxation(s: StageState) -> None:
    if s.settled or s.term != 0 or s.lp is None or not s.lp.optimal:
        return
    n = s.form.n
    order = np.argsort(-s.lp.x[:n], kind="stable")
    order = order[s.lp.x[:n][order] > 1e-6]
    cols = s.form.columns
    # the LP's room counts start the rooms (rounded): they fit its integral columns
    rooms = s.lp.x[n:]
    out = greedy(
        s.form.space,
        list(
            zip(
                cols.pair[order].tolist(),
                cols.fund[order].tolist(),
                cols.room[order].tolist(),
                strict=True,
            )
        ),
        aux=rooms,
    )
    if out is None:
        return
    found = s.form.lookup(out.columns)
    if np.all(found >= 0):
        cand = Solution.of(found, out.aux)
        if s.better(cand):
            s.incumbent = cand
    value = s.value()
    if value is not None:
        s.tell(value, None)


def prove_by_relaxation(s: StageState) -> None:
    if s.settled:
        return
    value, limit = s.value(), s.lp_limit
    if s.term > 0 and value is not None:
        s.tell(value, None)  # the incumbent the stage starts from
    if value is not None and limit is not None and _meets(s.sense, value, limit):
        s.report.status, s.report.proven_by_lp = "OPTIMAL", True


def fix_by_reduced_cost(s: StageState) -> None:
    """Drop the columns the LP's reduced costs rule out at the incumbent's value. It runs
    as the stage starts, again once the search around the LP has improved the
    incumbent, and once more at the value the stage ends with: the later stages hold
    that value, so no allocation they may choose uses such a column."""
    if s.incumbent is None or s.lp is None or not s.lp.optimal:
        return
    drop = prunable(s.form, s.term, s.lp, s.value() or 0)
    drop[s.incumbent.chosen] = False
    if drop.any():
        s.report.pruned += int(drop.sum())
        _drop(s, drop)


def _drop(s: StageState, drop: BoolArray) -> None:
    """The stage on the columns not in ``drop``. The dropped columns are at 0 in the LP
    solution, so it stays optimal on what is kept, reduced costs and all."""
    assert s.incumbent is not None and s.lp is not None
    keep = ~drop
    cols = np.concatenate([np.flatnonzero(keep), s.form.n + np.arange(s.form.space.n_aux)])
    s.form, remap = s.form.subset(keep)
    s.incumbent = Solution.of(remap[s.incumbent.chosen], s.incumbent.aux)
    s.lp = LPSolution(
        s.lp.optimal,
        s.lp.infeasible,
        s.lp.value,
        s.lp.x[cols],
        s.lp.reduced_cost[cols],
        s.lp.seconds,
    )
    if s.cpsat is not None and s.cpsat.form is not s.form:
        s.cpsat = None


def _search_budget(s: StageState) -> Budget:
    if s.search is None:
        shares = s.params.stage.shares[s.params.stages - 1]
        share = stage_share(shares, s.form.objectives, s.term)
        s.search = s.budget.share(share)
    return s.search


def _cpsat(
    s: StageState, limit: float, *, fixed: Sequence[int] = (), dtime: float | None = None
) -> Solution | None:
    p = s.params
    built = s.cpsat is not None and s.cpsat.form is s.form
    build = s.cpsat.seconds if built and s.cpsat is not None else s.build_estimate
    if min(limit, s.budget.left()) < build:
        return None  # less time left than building the model takes: no search would help
    if not built:
        s.cpsat = CpSatModel(s.form, s.holds, s.term)
    assert s.cpsat is not None

    def on_solution(value: float, bound: float | None) -> None:
        s.tell(value, bound)

    def on_bound(bound: float) -> None:
        s.tell(None, bound)

    out = solve_cpsat(
        s.cpsat,
        limit,
        p.seed,
        p.workers,
        deadline=min(time.perf_counter() + limit, s.budget.deadline),
        hint=s.incumbent,
        fixed=fixed,
        target=s.lp_limit,
        dtime=dtime,
        relative_gap=p.relative_gap if s.term == 0 else 0.0,
        log=p.log,
        on_solution=on_solution,
        on_bound=on_bound if s.progress is not None else None,
    )
    if fixed:
        return out.solution
    if s.report.first_solution is None:
        s.report.first_solution = out.first_solution
    if out.status == "INFEASIBLE" and s.incumbent is None:
        s.report.status = "INFEASIBLE"
    if out.status == "OPTIMAL" and out.solution is not None:
        s.claimed.append(("cp-sat", s.form.value(s.term, out.solution)))
        s.report.status = "OPTIMAL"
    if out.solution is not None or (out.status != "INFEASIBLE" and s.term == 0):
        s.report.bound = out.bound
    return out.solution


def _searches_around(s: StageState, *, small_too: bool = False) -> bool:
    """Whether the stage is open with an incumbent and an LP solution, on a large model
    (or, with ``small_too``, on a small one whose objective's role
    ``rins_small_terms`` names): where the neighbourhood searches run."""
    if s.settled or s.incumbent is None or s.lp is None or not s.lp.optimal:
        return False
    p = s.params.stage
    if s.form.n >= p.rins_min_columns:
        return True
    return small_too and s.form.objectives[s.term].role in p.rins_small_terms


def search_neighbourhood(s: StageState) -> None:
    if not _searches_around(s, small_too=True):
        return
    assert s.incumbent is not None and s.lp is not None
    budget = _search_budget(s)
    agree = [j for j in s.incumbent.chosen.tolist() if s.lp.x[j] > 1 - 1e-6]
    small = s.form.n < s.params.stage.rins_min_columns
    found = _cpsat(
        s,
        s.params.stage.rins_share * budget.left(),
        fixed=agree,
        dtime=s.params.stage.rins_small_dtime if small else None,
    )
    if s.better(found):
        s.incumbent = found
    prove_by_relaxation(s)


def _neighbourhood(
    s: StageState, inc: Solution, centre: int, xy: FloatArray, rng: np.random.Generator
) -> tuple[BoolArray, IntArray]:
    """One neighbourhood of ``inc``: the columns kept (its placements outside the
    ``lns_units`` homes nearest to ``centre``, and every column into those homes of the
    households placed there or left unplaced, at most ``lns_unplaced`` of the latter,
    drawn with ``rng``), and the placements fixed (those outside)."""
    p = s.params.stage
    cols = s.form.columns
    near = np.argsort(((xy - xy[centre]) ** 2).sum(axis=1), kind="stable")[: p.lns_units]
    in_near = np.zeros(len(xy), dtype=bool)
    in_near[near] = True
    n_households = len(s.form.space.inst.beneficiaries)
    placed = np.zeros(n_households, dtype=bool)
    placed[cols.beneficiary[inc.chosen]] = True
    free = np.zeros(n_households, dtype=bool)
    free[cols.beneficiary[inc.chosen[in_near[cols.unit[inc.chosen]]]]] = True
    into = in_near[cols.unit]
    unplaced = np.unique(cols.beneficiary[into & ~placed[cols.beneficiary]])
    if len(unplaced) > p.lns_unplaced:
        unplaced = np.sort(rng.choice(unplaced, p.lns_unplaced, replace=False))
    free[unplaced] = True
    keep = into & free[cols.beneficiary]
    fixed = inc.chosen[~free[cols.beneficiary[inc.chosen]]]
    keep[fixed] = True
    return keep, fixed


def search_large_neighbourhoods(s: StageState) -> None:
    """Improve the incumbent one neighbourhood at a time until the LP bound is met or
    the step's share of the search is spent. Each neighbourhood is a model of a few
    thousand columns (the incumbent's placements elsewhere fixed, hinted with the
    incumbent), built and solved by CP-SAT in well under a second at M; the centres
    alternate between homes the LP uses fractionally (where the incumbent and the LP
    disagree) and any home, drawn with the run's seed."""
    if not _searches_around(s):
        return
    assert s.incumbent is not None and s.lp is not None
    p = s.params.stage
    step = _search_budget(s).share(p.lns_share)
    inst = s.form.space.inst
    xy = np.array(
        [[d.lat, d.lon] for d in inst.dwellings] + [[f.lat, f.lon] for f in inst.shared_flats]
    )
    x = s.lp.x[: s.form.n]
    fractional = np.unique(s.form.columns.unit[(x > 1e-6) & (x < 1 - 1e-6)])
    rng = np.random.default_rng(s.params.seed)
    limit = s.lp_limit
    while step.left() > 0.2 and s.incumbent is not None:
        if limit is not None and _meets(s.sense, s.value() or 0, limit):
            break
        k = s.report.neighbourhoods
        pool = fractional if k % 2 == 0 and len(fractional) else np.arange(len(xy))
        keep, fixed = _neighbourhood(s, s.incumbent, int(rng.choice(pool)), xy, rng)
        sub, remap = s.form.subset(keep)
        out = solve_cpsat(
            CpSatModel(sub, s.holds, s.term),
            step.left(),
            s.params.seed + k,
            1,
            deadline=step.deadline,
            hint=Solution.of(remap[s.incumbent.chosen], s.incumbent.aux),
            fixed=remap[fixed].tolist(),
            dtime=p.lns_round_dtime,
        )
        s.report.neighbourhoods += 1
        if out.solution is None:
            continue
        cand = Solution.of(np.flatnonzero(keep)[out.solution.chosen], out.solution.aux)
        if s.better(cand) and s.form.satisfies(cand, s.holds):
            s.incumbent = cand
            s.report.improved_by_neighbourhoods += 1
            s.tell(s.value(), None)
    prove_by_relaxation(s)


def _small(s: StageState) -> bool:
    return s.form.n <= s.params.stage.mip_max_columns


def _mip(s: StageState, limit: float) -> None:
    out = solve_mip(
        s.form,
        s.term,
        s.holds,
        min(limit, s.budget.seconds()),
        hint=s.incumbent,
        solver_name=s.params.stage.mip_solver,
    )
    s.report.mip_seconds = (s.report.mip_seconds or 0.0) + out.seconds
    if out.status == "INFEASIBLE" and s.incumbent is None:
        s.report.status = "INFEASIBLE"
        return
    sol = out.solution
    if sol is None or not s.form.satisfies(sol, s.holds):
        return  # SCIP's tolerances let through something the rows refuse: ignored
    if out.status == "OPTIMAL":
        s.claimed.append(("scip", s.form.value(s.term, sol)))
        s.report.status = "OPTIMAL"
        s.report.bound = out.bound
    if s.better(sol):
        s.incumbent = sol
    s.tell(s.value(), s.report.bound)


def mip_first(s: StageState) -> None:
    role = s.form.objectives[s.term].role
    if s.settled or not _small(s) or role not in s.params.stage.mip_first_terms:
        return
    budget = _search_budget(s)
    s.mip_first_ran = True
    _mip(s, s.params.stage.mip_first_share * budget.left())


def search(s: StageState) -> None:
    if s.settled:
        return
    budget = _search_budget(s)
    small = _small(s) and not s.mip_first_ran  # a MIP solver may still follow
    p = s.params.stage
    share = p.cpsat_first_share if small else 1.0
    weight = s.form.objectives[s.term].role == 0
    dtime = (p.cpsat_first_dtime_weight if weight else p.cpsat_first_dtime) if small else None
    found = _cpsat(s, share * budget.left(), dtime=dtime)
    if s.better(found):
        s.incumbent = found
    prove_by_relaxation(s)


def mip_after(s: StageState) -> None:
    if s.settled or not _small(s) or s.mip_first_ran:
        return
    budget = _search_budget(s)
    if budget.left() > 0.2:
        _mip(s, budget.left())


def settle(s: StageState) -> None:
    """The stage's status and bound, from what was proven."""
    if s.report.status == "INFEASIBLE" and s.incumbent is None:
        return
    if s.incumbent is None:
        return
    value = s.value()
    assert value is not None
    s.report.value = value
    if s.report.status == "INFEASIBLE" or any(_better(s.sense, value, v) for _, v in s.claimed):
        # The incumbent meets every row, so a proof that excludes it (nothing feasible,
        # or an optimum worse than it) cannot stand: the stage is unproven.
        logger.warning(
            "stage %s: a search's proof contradicts the incumbent; kept the "
            "incumbent, stage unproven",
            s.report.name,
        )
        s.report.status = "FEASIBLE"
    if s.report.status == "UNKNOWN":
        s.report.status = "FEASIBLE"
    lp = s.lp.value if s.lp is not None and s.lp.optimal else None
    s.report.bound = stage_bound(s.sense, s.report.bound, lp, value)


PIPELINE: tuple[Step, ...] = (
    relax,
    round_relaxation,
    prove_by_relaxation,
    fix_by_reduced_cost,
    search_neighbourhood,
    fix_by_reduced_cost,  # again, at the incumbent the search around the LP found
    search_large_neighbourhoods,
    mip_first,
    search,
    mip_after,
    fix_by_reduced_cost,  # for the later stages, at the value the stage ends with
    settle,
)


def run_stage(state: StageState, steps: Sequence[Step] = PIPELINE) -> StageState:
    """Run a stage's steps in order; the state says what was found and proven."""
    t0 = time.perf_counter()
    for step in steps:
        step(state)
    state.report.seconds = time.perf_counter() - t0
    return state


def lp_limit(sense: str, lp_value: float) -> int:
    """The LP bound rounded to the integers, with a margin for GLOP's tolerances."""
    tol = 1e-6 * max(1.0, abs(lp_value))
    if sense == "max":
        return math.floor(lp_value + tol)
    return math.ceil(lp_value - tol)


def _meets(sense: str, value: int, limit: int) -> bool:
    """Whether an integral value reaches the (rounded) LP bound, so that it is optimal."""
    return value >= limit if sense == "max" else value <= limit


def _better(sense: str, a: int, b: int) -> bool:
    return a > b if sense == "max" else a < b


def stage_bound(
    sense: str, solver: float | None, lp: float | None, value: int | None
) -> float | None:
    """The tighter of the search's and the LP's bounds, ignoring one that cannot be valid.

    A search cut before its presolve ended reports the protocol's default (0), which
    may be worse than an allocation held: such a number bounds nothing.
    """
    valid = [
        b
        for b in (solver, lp)
        if b is not None
        and (value is None or (b >= value - 1e-6 if sense == "max" else b <= value + 1e-6))
    ]
    if not valid:
        return None
    return min(valid) if sense == "max" else max(valid)
