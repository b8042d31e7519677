"""The HiGHS side of :mod:`benchmarks.highs_direct`: a lexicographic MIP from plain arrays.

This module imports only numpy and highspy, never :mod:`matching` nor OR-Tools: both
OR-Tools and highspy ship HiGHS, and their symbols clash in one process (an
``ImportError`` whichever is imported second). :mod:`benchmarks.highs_direct` runs it as
a script (``python _highs_worker.py IN OUT``) in a fresh interpreter: the problem is read
from the pickle ``IN`` (see :func:`solve_stages` for its keys) and the outcome written to
the pickle ``OUT``. A script, rather than a ``multiprocessing`` spawn child, because
spawn re-imports the parent's ``__main__`` module in the child, which usually imports
OR-Tools.
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path
from typing import Any

import highspy
import numpy as np

ABS_GAP = 1e-6
"""Absolute MIP gap: every objective term has integer coefficients on integer columns."""


def _round(x: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.rint(np.asarray(x, dtype=np.float64)).astype(np.int64)


def solve_stages(problem: dict[str, Any]) -> dict[str, Any]:
    """Solve the stages of a lexicographic MIP with HiGHS, one after the other.

    ``problem`` holds: ``n`` (objective columns, the first ones), ``start``/``index``/
    ``value`` (row-wise CSR of every row), ``row_lo``/``row_hi``, ``col_upper`` (all
    columns integral, lower bound 0), ``costs`` (per stage, an integer coefficient for
    each of the ``n`` first columns), ``senses`` (``"max"``/``"min"`` per stage),
    ``deadline`` (``time.time()`` by which everything must end) and ``threads``.

    Each stage after the first holds the previous stage's term at its value (``==`` when
    proven, ``>=``/``<=`` otherwise) and starts from the previous stage's solution.
    Returns ``{"highspy": version, "stages": [...]}``, a dict per stage run with
    ``status`` (HiGHS' model status), ``proven``, ``value`` (the term on the rounded
    solution), ``objective``, ``mip_dual_bound``, ``mip_gap``, ``first_solution_seconds``
    (``None`` when no new solution was reported), ``seconds`` and ``x`` (rounded column
    values, ``None`` when the stage found none).
    """
    n = int(problem["n"])
    start = np.asarray(problem["start"], dtype=np.int32)
    index = np.asarray(problem["index"], dtype=np.int32)
    value = np.asarray(problem["value"], dtype=np.float64)
    row_lo = np.asarray(problem["row_lo"], dtype=np.float64)
    row_hi = np.asarray(problem["row_hi"], dtype=np.float64)
    upper = np.asarray(problem["col_upper"], dtype=np.float64)
    costs = [np.asarray(c, dtype=np.int64) for c in problem["costs"]]
    senses: list[str] = list(problem["senses"])
    deadline = float(problem["deadline"])
    size, nrows = len(upper), len(row_lo)

    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(problem.get("threads", 1)))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", ABS_GAP)
    h.passModel(
        size,
        nrows,
        len(index),
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        np.zeros(size),
        np.zeros(size),
        upper,
        row_lo,
        row_hi,
        start[:-1] if nrows else np.zeros(0, dtype=np.int32),
        index,
        value,
        np.ones(size, dtype=np.int32),
    )
    cols = np.arange(size, dtype=np.int32)
    head = np.arange(n, dtype=np.int32)

    clock: dict[str, float | None] = {"t0": 0.0, "first": None}

    def on_improving(_event: Any) -> None:
        if clock["first"] is None:
            clock["first"] = time.perf_counter() - float(clock["t0"] or 0.0)

    h.cbMipImprovingSolution.subscribe(on_improving)

    stages: list[dict[str, Any]] = []
    prev: np.ndarray[Any, np.dtype[np.int64]] | None = None
    for term, sense in enumerate(senses):
        left = deadline - time.time()
        if term > 0 and left <= 0.05:
            break
        t0 = time.perf_counter()
        clock["t0"], clock["first"] = t0, None
        cost = np.zeros(size)
        cost[:n] = costs[term]
        h.changeColsCost(size, cols, cost)
        h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if sense == "max" else highspy.ObjSense.kMinimize
        )
        h.setOptionValue("time_limit", max(0.01, left))
        if prev is not None:
            h.setSolution(size, cols, prev.astype(np.float64))
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        has_solution = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
        x = _round(h.getSolution().col_value) if has_solution else None
        proven = status == highspy.HighsModelStatus.kOptimal and x is not None
        st: dict[str, Any] = {
            "status": h.modelStatusToString(status),
            "proven": bool(proven),
            "value": None if x is None else int(costs[term] @ x[:n]),
            "objective": float(info.objective_function_value) if x is not None else None,
            "mip_dual_bound": float(info.mip_dual_bound),
            "mip_gap": float(info.mip_gap),
            "first_solution_seconds": clock["first"],
            "seconds": time.perf_counter() - t0,
            "x": None if x is None else x.tolist(),
        }
        if status == highspy.HighsModelStatus.kInfeasible:
            st["status"] = "Infeasible"
        stages.append(st)
        if x is None:
            break
        prev = x
        v = float(st["value"])
        if proven:
            lo, hi = v, v
        elif sense == "max":
            lo, hi = v, highspy.kHighsInf
        else:
            lo, hi = -highspy.kHighsInf, v
        h.addRow(lo, hi, n, head, costs[term].astype(np.float64))
    return {
        "highspy": highspy.__version__ if hasattr(highspy, "__version__") else None,
        "stages": stages,
    }


def main(argv: list[str]) -> int:
    src, dst = Path(argv[1]), Path(argv[2])
    problem = pickle.loads(src.read_bytes())
    out = solve_stages(problem)
    dst.write_bytes(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
