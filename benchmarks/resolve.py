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
from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Resolve:
    """One re-solve, both ways."""

    scale: str
    seed: int
    refusals: int
    warm_status: str
    warm_weight: int
    warm_seconds: float
    fresh_status: str
    fresh_weight: int
    fresh_seconds: float


def resolves(
    scales: list[str],
    seeds: list[int],
    refusals: list[int],
    time_limit: float,
    pins: bool = True,
    report: Callable[[Resolve], None] | None = None,
) -> list[Resolve]:
    """Each round solved, then re-solved after each count of refusals, from the earlier
    result and fresh (every result validated); ``report`` is called after each row."""
    out: list[Resolve] = []
    for scale in scales:
        size, _, variant = scale.partition(":")
        for seed in seeds:
            inst = generate(size, seed, variant or "plain")
            first, _ = _timed(inst, time_limit)
            for k in refusals:
                after = after_refusals(inst, first, k, pin=pins)
                warm, ws = _timed(after, time_limit, previous=first)
                fresh, fs = _timed(after, time_limit)
                row = Resolve(
                    scale,
                    seed,
                    k,
                    warm.status,
                    warm.objective.weight,
                    ws,
                    fresh.status,
                    fresh.objective.weight,
                    fs,
                )
                out.append(row)
                if report is not None:
                    report(row)
    return out


HEADER = "| scale | seed | refusals | from the earlier result | fresh |\n|---|---|---|---|---|"


def row_markdown(r: Resolve) -> str:
    return (
        f"| {r.scale} | {r.seed} | {r.refusals} | {r.warm_status} {r.warm_weight} in "
        f"{r.warm_seconds:.2f} s | {r.fresh_status} {r.fresh_weight} in {r.fresh_seconds:.2f} s |"
    )


def medians(rows: list[Resolve]) -> list[str]:
    """Per scale and count of refusals: the median seconds of each way."""
    groups: dict[tuple[str, int], list[Resolve]] = {}
    for r in rows:
        groups.setdefault((r.scale, r.refusals), []).append(r)
    return [
        f"{scale}, {k} refusal(s): re-solve median "
        f"{statistics.median(r.warm_seconds for r in xs):.2f} s from the earlier result, "
        f"{statistics.median(r.fresh_seconds for r in xs):.2f} s fresh"
        for (scale, k), xs in groups.items()
    ]


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
    print(HEADER)
    rows = resolves(
        args.scales,
        args.seeds,
        args.refusals,
        args.time_limit,
        pins=not args.no_pins,
        report=lambda r: print(row_markdown(r), flush=True),
    )
    print()
    for line in medians(rows):
        print(line)


if __name__ == "__main__":
    main()
