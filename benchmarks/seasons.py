"""What a horizon in months costs the engine, and what it buys: seasonal rounds against
their all-year twins.

``python -m benchmarks.seasons --scales S M --seeds 1 2 3 --time-limit 60`` generates the
seasonal variant of each round (:func:`scenarios.synthetic.generate`), and its twin: the
same households, homes, lines and money, every stay and every availability the whole
year. Both are solved with the same limit; the table gives each one's time, status and
gap, the time ratio (the seasonal round's over its twin's), and the households and
persons each places: a bed used July to September can take someone else in October,
which the twin cannot. Every result is validated. The engine runs in this process, one
round after the other (on a shared machine, compare the ratios of one run).
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import statistics
import time

from matching.instance import Instance
from matching.params import SolveParams
from matching.result import Result
from matching.solve import solve
from matching.validate import validate
from scenarios.synthetic import generate


def all_year(inst: Instance) -> Instance:
    """The round as if every stay, and every home, lasted the whole horizon."""
    return inst.replace(
        name=f"{inst.name}-all-year",
        beneficiaries=tuple(dataclasses.replace(b, stay=None) for b in inst.beneficiaries),
        dwellings=tuple(dataclasses.replace(d, available=None) for d in inst.dwellings),
        shared_flats=tuple(dataclasses.replace(f, available=None) for f in inst.shared_flats),
    )


def solve_validated(inst: Instance, limit: float) -> tuple[Result, float]:
    """The engine's result within ``limit`` seconds, validated, and the seconds it took."""
    t0 = time.perf_counter()
    res = solve(inst, SolveParams(time_limit=limit))
    seconds = time.perf_counter() - t0
    bad = validate(inst, res)
    assert not bad, bad[:3]
    return res, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scales", nargs="+", default=["S", "M"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; time limit {args.time_limit:g} s\n"
    )
    print("| scale | seed | round | status | weight / bound | placed (persons) | seconds |")
    print("|---|---|---|---|---|---|---|")
    ratios: dict[str, list[float]] = {}
    gains: dict[str, list[int]] = {}
    for scale in args.scales:
        for seed in args.seeds:
            seasonal = generate(scale, seed, "seasonal")
            twin = all_year(seasonal)
            out = {}
            for label, inst in (("seasonal", seasonal), ("all year", twin)):
                res, seconds = solve_validated(inst, args.time_limit)
                persons = sum(inst.beneficiary(a.beneficiary).persons for a in res.assignments)
                out[label] = (res, seconds, persons)
                print(
                    f"| {scale} | {seed} | {label} | {res.status} | {res.objective.weight} / "
                    f"{res.bound_weight} | {len(res.assignments)} ({persons}) | "
                    f"{seconds:.1f} |",
                    flush=True,
                )
            ratios.setdefault(scale, []).append(out["seasonal"][1] / max(out["all year"][1], 1e-3))
            gains.setdefault(scale, []).append(
                len(out["seasonal"][0].assignments) - len(out["all year"][0].assignments)
            )
    for scale in ratios:
        print(
            f"\n{scale}: time ratio seasonal / all year, median "
            f"{statistics.median(ratios[scale]):.2f} (max {max(ratios[scale]):.2f}); "
            f"households placed beyond the all-year twin: {gains[scale]}"
        )


if __name__ == "__main__":
    main()
