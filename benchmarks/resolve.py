"""Re-solves after refusals: from the earlier result, against a fresh solve.

``python -m benchmarks.resolve --scales S M --seeds 1 2 3 --refusals 1 5 20 --time-limit 60``
solves each generated round, then, as staff do after the answers come in, solves it again
with ``k`` placed households' homes refused (the pairs forbidden) and every other placement
pinned (the accepted offers): once from the earlier result (``solve(previous=...)``) and
once fresh, with the same limit (``--no-pins``: no placement accepted yet, only the refused
pairs forbidden). The table gives each re-solve's status, weight and
seconds; every result is validated. The engine runs in this process, one solve after the
other (on a shared machine, compare the two columns of one row).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from matching.instance import Forbidden, Instance, Pin
from matching.params import SolveParams
from matching.result import Result
from matching.solve import solve
from matching.validate import validate
from scenarios.synthetic import generate


def after_refusals(inst: Instance, res: Result, k: int, pin: bool = True) -> Instance:
    """The round once ``k`` placed households (every ``len // k``-th, so that they spread
    over the round) refused, and (``pin``) every other placement was accepted."""
    placed = list(res.assignments)
    step = max(1, len(placed) // max(k, 1))
    refused = {a.beneficiary for a in placed[::step][:k]}
    return inst.replace(
        pinned=tuple(
            Pin(a.beneficiary, a.unit, a.room)
            for a in placed
            if pin and a.beneficiary not in refused
        ),
        forbidden=(
            *inst.forbidden,
            *(Forbidden(a.beneficiary, a.unit) for a in placed if a.beneficiary in refused),
        ),
    )


def _timed(inst: Instance, limit: float, previous: Result | None = None) -> tuple[Result, float]:
    t0 = time.perf_counter()
    res = solve(inst, SolveParams(time_limit=limit), previous=previous)
    seconds = time.perf_counter() - t0
    bad = validate(inst, res)
    assert not bad, bad[:3]
    return res, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scales", nargs="+", default=["S"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--refusals", nargs="+", type=int, default=[1, 5, 20])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument(
        "--no-pins",
        action="store_true",
        help="the other placements not yet accepted (only the refused pairs change)",
    )
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; time limit {args.time_limit:g} s\n"
    )
    print("| scale | seed | refusals | from the earlier result | fresh |")
    print("|---|---|---|---|---|")
    warm_s: dict[tuple[str, int], list[float]] = {}
    for scale in args.scales:
        for seed in args.seeds:
            inst = generate(scale, seed)
            first, _ = _timed(inst, args.time_limit)
            for k in args.refusals:
                after = after_refusals(inst, first, k, pin=not args.no_pins)
                warm, ws = _timed(after, args.time_limit, previous=first)
                fresh, fs = _timed(after, args.time_limit)
                warm_s.setdefault((scale, k), []).append(ws)
                print(
                    f"| {scale} | {seed} | {k} | {warm.status} {warm.objective.weight} in "
                    f"{ws:.2f} s | {fresh.status} {fresh.objective.weight} in {fs:.2f} s |",
                    flush=True,
                )
    print()
    for (scale, k), xs in warm_s.items():
        print(f"{scale}, {k} refusal(s): re-solve median {statistics.median(xs):.2f} s")


if __name__ == "__main__":
    main()
