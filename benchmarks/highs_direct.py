"""An independent peer for the benchmark: the round as one direct MIP, solved by HiGHS.

``solve_highs_direct(inst, time_limit)`` builds the same formulation as
:func:`matching.solve.solve` (eligible pairs, every rule's rows, the three objective
terms) but hands it whole to HiGHS: no LP pruning, no greedy or LP incumbent, no CP-SAT.
The lexicographic stages are solved one after the other, each with ``mip_rel_gap = 0``
so that HiGHS does not stop before it proves the stage, under what remains of the same
time limit, on one thread.

highspy cannot be imported in a process that has imported OR-Tools (both ship HiGHS and
their symbols clash), and this process has: HiGHS runs in a fresh interpreter on
:mod:`benchmarks._highs_worker`, which imports only numpy and highspy, fed the stage
model as plain arrays.
"""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from matching.explain import empty_result, explain_unassigned, infeasible_result
from matching.instance import Instance
from matching.model.formulation import Formulation, Hold, Solution
from matching.result import Objective, Result, lines_opened, objective_of, result_format
from matching.strategies.common import prepare, usable_bound

ENGINE = "highs-direct"
WORKER = Path(__file__).with_name("_highs_worker.py")
CHILD_GRACE = 30.0
"""Seconds past the time limit after which a silent HiGHS process is killed."""

__all__ = ["ENGINE", "export_problem", "highspy_version", "solve_highs_direct"]


def highspy_version() -> str | None:
    """highspy's installed version (read from its metadata, without importing it)."""
    try:
        return version("highspy")
    except PackageNotFoundError:
        return None


def export_problem(
    form: Formulation, stages: int, deadline: float, threads: int = 1
) -> dict[str, Any]:
    """The stage MIP of ``form`` as plain numpy arrays (see ``_highs_worker.solve_stages``).

    Columns are the formulation's variables: first the ``n`` binary placement columns,
    then the rules' integer auxiliary variables (room counts); every row that can bind,
    row-wise; per objective term its integer coefficients and sense.
    """
    rows = form.binding_rows()
    m = form.matrix[rows].tocsr()
    return {
        "n": form.n,
        "start": m.indptr.astype(np.int32),
        "index": m.indices.astype(np.int32),
        "value": m.data.astype(np.float64),
        "row_lo": form.space.lo[rows].astype(np.float64),
        "row_hi": form.space.hi[rows].astype(np.float64),
        "col_upper": form.upper.astype(np.float64),
        # the objective terms count columns only (no rule's auxiliary variable has a cost)
        "costs": [np.asarray(c[: form.n], dtype=np.int64) for c in form.coefficients[:stages]],
        "senses": [o.sense for o in form.objectives[:stages]],
        "deadline": deadline,
        "threads": threads,
    }


def _run_worker(problem: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run :mod:`benchmarks._highs_worker` on ``problem`` in a fresh interpreter."""
    with tempfile.TemporaryDirectory(prefix="highs-direct-") as tmp:
        src, dst = Path(tmp) / "in.pkl", Path(tmp) / "out.pkl"
        src.write_bytes(pickle.dumps(problem, protocol=pickle.HIGHEST_PROTOCOL))
        env = {**os.environ, "PYTHONNOUSERSITE": "1"}
        proc = subprocess.run(
            [sys.executable, str(WORKER), str(src), str(dst)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
        if proc.returncode != 0 or not dst.exists():
            raise RuntimeError(
                f"HiGHS worker failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}"
            )
        out: dict[str, Any] = pickle.loads(dst.read_bytes())
        return out


def _split(form: Formulation, x: list[int]) -> Solution:
    arr = np.asarray(x, dtype=np.int64)
    return Solution.of(np.flatnonzero(arr[: form.n] > 0), arr[form.n :])


def solve_highs_direct(inst: Instance, time_limit: float, stages: int = 3) -> Result:
    """Solve ``inst`` as a direct lexicographic MIP with HiGHS within ``time_limit`` seconds.

    Returns a :class:`~matching.result.Result` like :func:`matching.solve.solve`'s:
    ``OPTIMAL`` only when HiGHS proved all three stages, ``bound_weight`` the floor of
    stage 1's dual bound; ``engine`` is ``{"name": "highs-direct", "highspy": version,
    ...}`` and ``stages`` what HiGHS reported per stage. Every allocation is checked
    against the rows (and the holds of the stages before it) in exact integers before it
    is decoded; a stage whose rounded solution fails is not used.
    """
    t0 = time.perf_counter()
    deadline = time.time() + time_limit
    timings: dict[str, float] = {}
    engine: dict[str, Any] = {
        "name": ENGINE,
        "highspy": highspy_version(),
        "time_limit": time_limit,
        "threads": 1,
    }
    names = ("weight", "contribution_cents", "commute_m")[:stages]

    def finish(res: Result, reports: tuple[dict[str, Any], ...] = ()) -> Result:
        timings["total"] = time.perf_counter() - t0
        return Result(
            instance=res.instance,
            status=res.status,
            objective=res.objective,
            format=res.format,
            lines_opened=res.lines_opened,
            bound_weight=res.bound_weight,
            assignments=res.assignments,
            unassigned=res.unassigned,
            solve_seconds=timings["total"],
            engine={**engine, **res.engine, "name": ENGINE},
            timings=dict(timings),
            stages=reports,
        )

    ready = prepare(inst)
    pairs = ready.pairs
    timings["eligibility"] = pairs.seconds
    engine["pairs"] = len(pairs)
    if ready.form is None:
        return finish(infeasible_result(inst, pairs, 0.0, ENGINE, ready.conflicts, ready.space))
    form = ready.form
    timings["build"] = form.seconds
    engine["columns"] = form.n
    engine["variables"] = form.size
    engine["rows"] = int(form.binding_rows().size)
    trivial = form.trivial_bound

    t = time.perf_counter()
    problem = export_problem(form, stages, deadline)
    timings["export"] = time.perf_counter() - t
    t = time.perf_counter()
    try:
        out = _run_worker(problem, timeout=max(1.0, deadline - time.time()) + CHILD_GRACE)
    except subprocess.TimeoutExpired:
        # HiGHS ignored its own limit (it was killed): no allocation within the time
        timings["highs"] = time.perf_counter() - t
        return finish(
            empty_result(
                inst,
                "UNKNOWN",
                "no_solution_in_time",
                0.0,
                {"time_limit": time_limit},
                ENGINE,
                trivial,
            )
        )
    timings["highs"] = time.perf_counter() - t
    engine["highspy"] = out.get("highspy") or engine["highspy"]
    raw: list[dict[str, Any]] = out["stages"]
    timings["highs_startup"] = timings["highs"] - sum(s["seconds"] for s in raw)
    reports: list[dict[str, Any]] = []
    for name, s in zip(names, raw, strict=False):
        timings[f"stage_{name}"] = s["seconds"]
        reports.append(
            {
                "objective": name,
                "status": s["status"],
                "proven": s["proven"],
                "value": s["value"],
                "bound": s["mip_dual_bound"],
                "mip_gap": s["mip_gap"],
                "first_solution_seconds": s["first_solution_seconds"],
                "seconds": round(s["seconds"], 3),
            }
        )

    # the last stage whose rounded solution meets every row and the earlier holds
    holds: list[Hold] = []
    best: tuple[int, Solution] | None = None
    for term, s in enumerate(raw):
        if s["x"] is None:
            break
        sol = _split(form, s["x"])
        if not form.satisfies(sol, holds):
            reports[term]["rejected"] = "rounded solution breaks a row"
            break
        best = (term, sol)
        sense = form.objectives[term].sense
        val = form.value(term, sol)
        holds.append(Hold(term, "==" if s["proven"] else (">=" if sense == "max" else "<="), val))

    first = raw[0] if raw else None
    if first is not None and first["status"] == "Infeasible":
        return finish(
            infeasible_result(inst, pairs, 0.0, ENGINE, space=ready.space), tuple(reports)
        )
    dual = None if first is None else first["mip_dual_bound"]
    solver_bound = math.floor(dual + 1e-6) if dual is not None and math.isfinite(dual) else None
    if best is None:
        res = empty_result(
            inst,
            "UNKNOWN",
            "no_solution_in_time",
            0.0,
            {"time_limit": time_limit},
            ENGINE,
            usable_bound(solver_bound, 0, trivial),
        )
        return finish(res, tuple(reports))

    last, sol = best
    assignments = form.assignments(sol)
    objective: Objective = objective_of(assignments, inst.weights, inst.line_costs)
    proven = first is not None and bool(first["proven"])
    bound = objective.weight if proven else usable_bound(solver_bound, objective.weight, trivial)
    all_proven = stages == 3 and last == 2 and len(raw) == 3 and all(s["proven"] for s in raw)
    t = time.perf_counter()
    unassigned = explain_unassigned(inst, pairs, assignments, proven=proven, space=ready.space)
    timings["explain"] = time.perf_counter() - t
    return finish(
        Result(
            instance=inst.name,
            status="OPTIMAL" if all_proven else "FEASIBLE",
            objective=objective,
            bound_weight=bound,
            assignments=tuple(assignments),
            unassigned=tuple(unassigned),
            solve_seconds=0.0,
            format=result_format(inst.v2),
            lines_opened=lines_opened(assignments, inst.line_costs),
        ),
        tuple(reports),
    )
