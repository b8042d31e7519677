"""Solve generated rounds at fixed scales and seeds and print a Markdown table.

``python -m benchmarks.targets --scales S M --seeds 1 2 3 --time-limit 60`` reproduces
the figures quoted for the matching core (every result is validated).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from matching.params import SolveParams
from matching.solve import solve
from matching.validate import validate
from scenarios.synthetic import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scales", nargs="+", default=["S", "M"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; time limit {args.time_limit:g} s, "
        f"{args.workers} worker(s)\n"
    )
    print("| scale | seed | pairs | status | weight | bound | gap | stages (status, s) | total s |")
    print("|---|---|---|---|---|---|---|---|---|")
    totals: dict[str, list[float]] = {}
    for scale in args.scales:
        for seed in args.seeds:
            inst = generate(scale, seed)
            res = solve(inst, SolveParams(time_limit=args.time_limit, seed=0, workers=args.workers))
            bad = validate(inst, res)
            assert not bad, bad[:3]
            stages = ", ".join(
                f"{s['objective'].split('_')[0]} {s['status'][:4]} {s['seconds']:.1f}"
                for s in res.stages
            )
            gap = f"{100 * (res.gap or 0):.2f}%"
            print(
                f"| {scale} | {seed} | {res.engine.get('pairs')} | {res.status} | "
                f"{res.objective.weight} | {res.bound_weight} | {gap} | {stages} | "
                f"{res.solve_seconds:.1f} |",
                flush=True,
            )
            totals.setdefault(scale, []).append(res.solve_seconds)
    for scale, secs in totals.items():
        print(f"\n{scale}: median total {statistics.median(secs):.1f} s over {len(secs)} seeds")


if __name__ == "__main__":
    main()
