"""The benchmark harness: every solver on generated rounds, side by side with the bound.

Each (instance, solver) run happens in a fresh process, one at a time, so that its peak
memory is its own and no two runs compete for the machine's cores. The instance is
generated inside that process from its scale and seed (the generator is deterministic),
so nothing large crosses between processes.

Solvers
-------
``cp-sat``        the engine (:func:`matching.solve.solve`)
``greedy``        the agency's manual method (:func:`matching.greedy.solve_greedy`)
``highs-direct``  the same MIP solved directly by HiGHS, as an independent peer
``lp``            the LP relaxation of the weight: what no allocation can beat (on
                  rounds the engine prices, the better of the column-generation bound,
                  the LP's value once it converges and a valid bound before, and the
                  matching bound at searched fund prices, a Lagrangian bound too)

Rounds too large to list their pairs (XL, see :mod:`matching.decompose`) run the engine
only; the other solvers need every pair and are reported ``TOO_LARGE``.
"""

from __future__ import annotations

import json
import multiprocessing
import platform
import resource
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matching.eligibility import Pairs
    from matching.instance import Instance
    from matching.params import SolveParams
    from matching.result import Result

SOLVERS = ("cp-sat", "greedy", "highs-direct", "lp")

Trace = list[tuple[float, float | None, float | None]]
"""(seconds since start, incumbent weight, bound on the weight)."""


@dataclass
class Run:
    """One solver on one instance."""

    scale: str
    seed: int
    solver: str
    status: str
    weight: int | None
    bound: int | None
    contribution_cents: int | None
    commute_km: float | None
    first_feasible_s: float | None
    best_s: float | None
    total_s: float
    peak_mib: float
    pairs: int
    eligibility_s: float
    build_s: float | None
    valid: bool | None
    trace: Trace = field(default_factory=list)
    ratio: float | None = None
    """Weight over the best bound any solver proved on this instance (filled later)."""
    detail: dict[str, Any] = field(default_factory=dict)
    """How the engine went about it: pricing passes, or the parts of a decomposed round."""


def _peak_mib() -> float:
    """Peak resident memory of this process and its children, in MiB (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def run_one(
    scale: str, seed: int, solver: str, time_limit: float, params: dict[str, Any] | None = None
) -> Run:
    """Generate the instance and run one solver on it (call in a fresh process).

    ``scale`` is a scale name, optionally with a generator variant (``"M:seasonal"``), or
    the path of an instance file (``"rounds/july.json"``; ``seed`` is then the engine's).

    ``params`` are the engine's parameters as dotted keys (``{"pricing.share": 0.5}``).
    """
    # Each worker imports the modules of its own solver only, here: a run's peak memory is
    # its solver's, not every solver's.
    import math

    from matching.eligibility import eligible_pairs
    from matching.instance import load_instance
    from matching.params import SolveParams
    from matching.solve import in_parts, priced
    from scenarios.synthetic import generate

    if is_instance_file(scale):
        inst = load_instance(scale)
        engine = SolveParams(time_limit=time_limit, seed=seed).with_values(params or {})
    else:
        size, _, variant = scale.partition(":")
        inst = generate(size, seed, variant or "plain")
        engine = SolveParams(time_limit=time_limit).with_values(params or {})
    t0 = time.perf_counter()
    trace: Trace = []
    if in_parts(inst, engine):
        # too large to list the pairs (XL): only the engine runs, in parts
        if solver != "cp-sat":
            return Run(
                scale,
                seed,
                solver,
                "TOO_LARGE",
                None,
                None,
                None,
                None,
                None,
                None,
                0.0,
                _peak_mib(),
                0,
                0.0,
                None,
                None,
            )
        return _engine_run(inst, scale, seed, engine, t0, None)
    pairs = eligible_pairs(inst)
    if solver == "lp":
        from dataclasses import replace

        from matching.solvers.lp import solve_lp
        from matching.strategies.common import prepare

        if priced(inst, pairs, engine):
            # too large to formulate whole: the LP by column generation over every pair
            from matching.budget import Budget
            from matching.model.rules import declare
            from matching.model.space import Universe
            from matching.pricing import price_pairs

            # half the time for the pricing passes, half for the fund prices that
            # tighten the matching bound (much the tighter of the two before convergence)
            out = price_pairs(
                declare(Universe.of(inst, pairs)),
                Budget.start(time_limit),
                replace(engine.pricing, search_share=0.5),
            )
            total = time.perf_counter() - t0
            ok = math.isfinite(out.bound)
            bound = math.floor(out.bound + 1e-6 * max(1.0, abs(out.bound))) if ok else None
            return Run(
                scale,
                seed,
                solver,
                "BOUND" if ok else "UNKNOWN",
                None,
                bound,
                None,
                None,
                None,
                None,
                total,
                _peak_mib(),
                len(pairs),
                pairs.seconds,
                None,
                None,
                [(total, None, out.bound)] if ok else [],
            )
        form = prepare(inst, pairs).form
        assert form is not None  # generated rounds pin nothing
        lp = solve_lp(form, 0, time_limit=time_limit)
        total = time.perf_counter() - t0
        bound = math.floor(lp.value + 1e-6 * max(1.0, abs(lp.value))) if lp.optimal else None
        return Run(
            scale,
            seed,
            solver,
            "BOUND" if lp.optimal else "UNKNOWN",
            None,
            bound,
            None,
            None,
            None,
            None,
            total,
            _peak_mib(),
            len(pairs),
            pairs.seconds,
            form.seconds,
            None,
            [(total, None, lp.value)] if lp.optimal else [],
        )
    if solver == "cp-sat":
        return _engine_run(inst, scale, seed, engine, t0, pairs)
    if solver == "greedy":
        from matching.greedy import solve_greedy

        res = solve_greedy(inst, pairs)
        trace.append((time.perf_counter() - t0, res.objective.weight, None))
    elif solver == "highs-direct":
        from benchmarks.highs_direct import solve_highs_direct

        res = solve_highs_direct(inst, time_limit)
    else:
        raise ValueError(f"solver: unknown {solver!r}; one of {', '.join(SOLVERS)}")
    return _run_of(inst, scale, seed, solver, res, t0, trace, pairs)


def _engine_run(
    inst: Instance, scale: str, seed: int, params: SolveParams, t0: float, pairs: Pairs | None
) -> Run:
    """The engine on ``inst`` (on ``pairs``, or in parts when they are not listed)."""
    from matching.solve import ProgressEvent, solve

    trace: Trace = []
    offset = 0.0 if pairs is None else pairs.seconds

    def record(ev: ProgressEvent) -> None:
        if ev.stage == "weight":
            trace.append((ev.elapsed + offset, ev.incumbent, ev.bound))

    res = solve(inst, params, progress=record, pairs=pairs)
    return _run_of(inst, scale, seed, "cp-sat", res, t0, trace, pairs)


def _run_of(
    inst: Instance,
    scale: str,
    seed: int,
    solver: str,
    res: Result,
    t0: float,
    trace: Trace,
    pairs: Pairs | None,
) -> Run:
    """A validated result as a benchmark run (pairs from the result when not listed)."""
    from matching.validate import validate

    total = time.perf_counter() - t0
    incumbents = [(t, w) for t, w, _ in trace if w is not None]
    best_w = max((w for _, w in incumbents), default=None)
    return Run(
        scale=scale,
        seed=seed,
        solver=solver,
        status=res.status,
        weight=res.objective.weight if res.status in ("OPTIMAL", "FEASIBLE") else None,
        bound=res.bound_weight,
        contribution_cents=res.objective.contribution_cents,
        commute_km=round(res.objective.commute_km, 3),
        first_feasible_s=incumbents[0][0] if incumbents else None,
        best_s=next((t for t, w in incumbents if w == best_w), None),
        total_s=total,
        peak_mib=_peak_mib(),
        pairs=len(pairs) if pairs is not None else int(res.engine.get("pairs", 0)),
        eligibility_s=pairs.seconds
        if pairs is not None
        else float(res.timings.get("eligibility", 0.0)),
        build_s=res.timings.get("build"),
        valid=validate(inst, res) == [],
        trace=trace,
        detail={
            k: res.engine[k]
            for k in (
                "strategy",
                "pricing",
                "priced_pairs",
                "decomposition",
                "part_statuses",
                "params",
            )
            if k in res.engine
        },
    )


def is_instance_file(scale: str) -> bool:
    """Whether a bench "scale" names an instance file rather than a generated scale."""
    return scale.lower().endswith(".json")


def bench(
    scales: Sequence[str],
    seeds: Sequence[int],
    time_limit: float,
    solvers: Sequence[str] = SOLVERS,
    params: dict[str, Any] | None = None,
) -> list[Run]:
    """Every solver on every (scale, seed), one fresh process per run; ``params`` set the
    engine's parameters (dotted keys, see :meth:`matching.params.SolveParams.with_values`)."""
    runs: list[Run] = []
    ctx = multiprocessing.get_context("spawn")
    for scale in scales:
        for seed in seeds:
            batch = []
            for solver in solvers:
                with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
                    batch.append(
                        pool.submit(run_one, scale, seed, solver, time_limit, params).result()
                    )
            bounds = [r.bound for r in batch if r.bound is not None]
            best = min(bounds) if bounds else None
            for r in batch:
                if r.weight is not None and best:
                    r.ratio = r.weight / best
            runs.extend(batch)
    return runs


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import os

    return {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "ortools": version("ortools"),
        "date": time.strftime("%Y-%m-%d"),
    }


def markdown(runs: Sequence[Run], time_limit: float) -> str:
    """The runs as a Markdown table, with the machine they ran on."""
    m = machine()
    head = (
        f"Measured {m['date']} on {m['machine']} with {m['cpus']} CPUs, Python "
        f"{m['python']}, OR-Tools {m['ortools']}; time limit {time_limit:g} s per solver.\n\n"
    )

    def f(x: float | None, fmt: str = "{:.1f}") -> str:
        return "-" if x is None else fmt.format(x)

    lines = [
        "| scale | seed | solver | status | weight | / best bound | contribution €/month "
        "| first feasible s | best s | total s | peak MiB | pairs | eligibility s "
        "| build s | valid |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        weight = (
            f"{r.weight}"
            if r.weight is not None
            else (f"≤ {r.bound}" if r.bound is not None else "-")
        )
        lines.append(
            f"| {r.scale} | {r.seed} | {r.solver} | {r.status} | {weight} | "
            f"{f(r.ratio, '{:.2%}')} | "
            f"{f(None if r.contribution_cents is None else r.contribution_cents / 100, '{:,.0f}')}"
            f" | {f(r.first_feasible_s)} | {f(r.best_s)} | {r.total_s:.1f} | "
            f"{r.peak_mib:,.0f} | {r.pairs:,} | {r.eligibility_s:.2f} | {f(r.build_s, '{:.2f}')} "
            f"| {'-' if r.valid is None else ('yes' if r.valid else 'NO')} |"
        )
    return head + "\n".join(lines) + "\n"


def plot(runs: Sequence[Run], path: Path) -> None:
    """Weight (solid) and bound (dashed) over time, one panel per instance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted({(r.scale, r.seed) for r in runs})
    fig, axes = plt.subplots(len(keys), 1, figsize=(8, 3.2 * len(keys)), squeeze=False)
    for ax, (scale, seed) in zip(axes[:, 0], keys, strict=True):
        for r in runs:
            if (r.scale, r.seed) != (scale, seed):
                continue
            inc = [(t, w) for t, w, _ in r.trace if w is not None]
            bnd = _running_best([(t, b) for t, _, b in r.trace if b is not None])
            if inc:
                ax.step(
                    *zip(*inc, (r.total_s, inc[-1][1]), strict=True),
                    where="post",
                    marker="." if len(inc) == 1 else None,
                    label=f"{r.solver} weight",
                )
            if len(bnd) > 1:
                ax.step(
                    *zip(*bnd, (r.total_s, bnd[-1][1]), strict=True),
                    where="post",
                    linestyle="--",
                    label=f"{r.solver} bound",
                )
            elif r.bound is not None and r.solver != "greedy":
                # a bound known only at the end (the LP's, HiGHS-direct's): a level line
                ax.axhline(
                    r.bound,
                    linestyle=":",
                    linewidth=1,
                    label=f"{r.solver} bound",
                    color="tab:red" if r.solver == "lp" else None,
                )
        ax.set_title(f"{scale}, seed {seed}")
        ax.set_xlabel("seconds")
        ax.set_ylabel("weight")
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _running_best(bounds: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Bounds on a maximised weight as the best known so far (a bound never worsens)."""
    out: list[tuple[float, float]] = []
    for t, b in bounds:
        out.append((t, b if not out else min(b, out[-1][1])))
    return out


def write(runs: Sequence[Run], time_limit: float, out_dir: Path) -> dict[str, Path]:
    """JSON, Markdown and PNG of a benchmark, in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "bench.json",
        "md": out_dir / "bench.md",
        "png": out_dir / "bench.png",
    }
    paths["json"].write_text(
        json.dumps(
            {"machine": machine(), "time_limit": time_limit, "runs": [asdict(r) for r in runs]},
            indent=1,
        )
        + "\n"
    )
    paths["md"].write_text(markdown(runs, time_limit))
    plot(runs, paths["png"])
    return paths
