"""A round solved in parts on a Dask cluster: measured with 1 and 2 workers, modelled for N.

``python -m benchmarks.cluster --scale XL --seed 1 --workers 1 2 --time-limit 900``
generates the round once, then for each worker count starts a Dask ``LocalCluster`` of
that many worker processes (one thread each) and solves the round with its parts handed
to them (:func:`matching.solve.solve` with the cluster's executor). Every result is
validated. The table gives the weight, the bound (households with a pair, and the
money's knapsack), the parts' statuses, the wall-clock time, the busiest worker's time
and the peak memory of the main process and of the workers.

**The time model.** The parts are independent but for the money, which is handed out
part by part as each starts (:mod:`matching.decompose`): there are no fund rounds to
wait for, and a part never waits for another. With N workers, the parts run in the
engine's order, each on the first worker free (list scheduling); the run takes the plan,
then the makespan of that schedule, then the bound's check and the stitch (which has
its share of the time and whatever the parts leave). :func:`model` replays the
schedule with the parts' measured times (from the run with the most workers, whose
parts had the time a cluster would give them) and prints it for N = 1 to 64, with its
two lower bounds: the longest part (the critical path) and the parts' total over N.
"""

from __future__ import annotations

import argparse
import heapq
import json
import platform
import resource
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from matching.params import SolveParams
from matching.solve import solve
from matching.validate import validate
from scenarios.synthetic import generate


def makespan(seconds: Sequence[float], workers: int) -> float:
    """The parts in order, each on the first worker free: when the last one ends."""
    free = [0.0] * max(1, workers)
    heapq.heapify(free)
    end = 0.0
    for s in seconds:
        start = heapq.heappop(free)
        heapq.heappush(free, start + s)
        end = max(end, start + s)
    return end


def model(parts: Sequence[float], serial: float, counts: Sequence[int]) -> list[dict[str, float]]:
    """Per worker count: the modelled time and its lower bounds (see the docstring)."""
    total, longest = sum(parts), max(parts, default=0.0)
    return [
        {
            "workers": n,
            "modelled_s": serial + makespan(parts, n),
            "critical_path_s": serial + longest,
            "work_over_n_s": serial + total / n,
        }
        for n in counts
    ]


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run(
    scale: str, seed: int, workers: int, time_limit: float, part_pairs: int | None = None
) -> dict[str, Any]:
    """The round solved on a local cluster of ``workers`` processes; its figures.
    ``part_pairs`` solves a smaller round in parts of about that many pairs."""
    from distributed import Client, LocalCluster

    size, _, variant = scale.partition(":")
    inst = generate(size, seed, variant or "plain")
    params = SolveParams(time_limit=time_limit)
    parts = replace(params.decompose, workers=workers)
    if part_pairs is not None:
        parts = replace(parts, min_cells=1, part_pairs=part_pairs)
    params = replace(params, decompose=parts)
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)  # type: ignore[no-untyped-call]
    try:
        t0 = time.perf_counter()
        res = solve(inst, params, executor=client.get_executor())  # type: ignore[no-untyped-call]
        wall = time.perf_counter() - t0
        rss = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)
    finally:
        client.close()  # type: ignore[no-untyped-call]
        cluster.close()
    bad = validate(inst, res)
    assert not bad, bad[:3]
    info = res.engine["decomposition"]
    parts = info["by_part"]
    return {
        "scale": scale,
        "seed": seed,
        "workers": workers,
        "time_limit": time_limit,
        "status": res.status,
        "weight": res.objective.weight,
        "bound": res.bound_weight,
        "bounds": res.engine.get("bounds"),
        "parts": len(parts),
        "part_statuses": res.engine.get("part_statuses"),
        "stitch": res.engine.get("stitch"),
        "wall_s": wall,
        "plan_s": res.timings.get("plan", 0.0),
        "bound_s": res.timings.get("bound", 0.0) + res.timings.get("money_bound", 0.0),
        "stitch_s": res.timings.get("stitch", 0.0),
        "part_seconds": [p.get("seconds", 0.0) for p in parts],
        "part_started": [p.get("started") for p in parts],
        "part_ended": [p.get("ended") for p in parts],
        "peak_gib_main": _peak_gib(),
        "peak_gib_workers": max(rss.values(), default=0.0),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", default="XL")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--time-limit", type=float, default=900.0)
    ap.add_argument(
        "--part-pairs", type=int, default=None, help="solve a smaller round in parts this size"
    )
    ap.add_argument("-o", "--output", type=Path, default=Path("out/bench/cluster.json"))
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; time limit {args.time_limit:g} s\n"
    )
    print(
        "| scale | workers | parts | weight | bound | % of bound | wall s | "
        "peak GiB (main / worker) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    runs = []
    for n in args.workers:
        r = run(args.scale, args.seed, n, args.time_limit, args.part_pairs)
        runs.append(r)
        print(
            f"| {r['scale']} seed {r['seed']} | {n} | {r['parts']} | {r['weight']:,} | "
            f"{r['bound']:,} | {100 * r['weight'] / max(1, r['bound']):.2f}% | "
            f"{r['wall_s']:.0f} | {r['peak_gib_main']:.1f} / {r['peak_gib_workers']:.1f} |",
            flush=True,
        )
    ref = max(runs, key=lambda r: r["workers"])
    serial = ref["plan_s"] + ref["bound_s"] + ref.get("stitch_s", 0.0)
    rows = model(ref["part_seconds"], serial, [1, 2, 4, 8, 16, 32, 64])
    print(
        f"\nmodel from the {ref['workers']}-worker run's {ref['parts']} parts "
        f"(serial plan, bound and stitch: {serial:.0f} s)\n"
    )
    print("| workers | modelled s | critical path s | work / N s |")
    print("|---|---|---|---|")
    for m in rows:
        print(
            f"| {m['workers']} | {m['modelled_s']:.0f} | {m['critical_path_s']:.0f} | "
            f"{m['work_over_n_s']:.0f} |"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"runs": runs, "model": rows}, indent=2) + "\n")
    print(f"\nwritten: {args.output}")


if __name__ == "__main__":
    main()
