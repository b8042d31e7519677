"""What the policy options cost: the strict priority mode and group floors against the
weighted optimum, on the generator's rounds.

``python -m benchmarks.policy_cost --scales S --seeds 1 2 3 4 5 --time-limit 60`` solves
each round three ways with the same limit: as the contract's default (priority x persons),
in the strict priority mode (priority classes in turn, highest first), and with group
floors (a quarter of the placed reserved for victims of exploitation, and 30% for women).
The table gives each one's status, households and persons placed, weight, the money
committed and the seconds; the summary the median placements lost against the default.
Every result is validated. The engine runs in this process, one round after the other.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import statistics
import time
from decimal import Decimal

from benchmarks.seasons import solve_validated
from matching.instance import GroupFloor, Instance
from scenarios.synthetic import generate

FLOORS = (
    GroupFloor("tag:exploitation_victim", Decimal("0.25")),
    GroupFloor("gender:F", Decimal("0.3")),
)


def variants(inst: Instance) -> dict[str, Instance]:
    pol = inst.policy
    return {
        "weighted": inst,
        "strict": inst.replace(policy=dataclasses.replace(pol, priority_mode="strict")),
        "floors": inst.replace(policy=dataclasses.replace(pol, group_floors=FLOORS)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scales", nargs="+", default=["S"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; time limit {args.time_limit:g} s\n"
    )
    print("| scale | seed | policy | status | placed (persons) | weight | money € | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    lost: dict[str, list[int]] = {}
    for scale in args.scales:
        for seed in args.seeds:
            base = generate(scale, seed)
            placed: dict[str, int] = {}
            for label, inst in variants(base).items():
                res, seconds = solve_validated(inst, args.time_limit)
                persons = sum(inst.beneficiary(a.beneficiary).persons for a in res.assignments)
                placed[label] = len(res.assignments)
                money = res.objective.contribution_cents * inst.policy.contribution_months
                print(
                    f"| {scale} | {seed} | {label} | {res.status} | {len(res.assignments)} "
                    f"({persons}) | {res.objective.weight} | {money / 100:,.0f} | "
                    f"{seconds:.1f} |",
                    flush=True,
                )
            for label in ("strict", "floors"):
                lost.setdefault(f"{scale} {label}", []).append(placed["weighted"] - placed[label])
    print()
    for key, xs in lost.items():
        print(
            f"{key}: households placed fewer than the default, median "
            f"{statistics.median(xs):g} (per round: {xs})"
        )


if __name__ == "__main__":
    main()
