"""What a scenario run may ask of a shared service, and the run's own time limit.

The command line runs whatever a planner's machine can take. The service runs files
uploaded by planners on workers every planner shares, so a file is refused (each
problem named, as the other checks do) when it asks for more than :class:`Limits`:

- at most ``max_runs`` solves in all (the base, each variant and each sweep point);
- at most ``max_sweep_points`` points in any sweep;
- a generated base of at most M's size (2,000 households, 800 dwellings, 200 shared
  flats), a named scale among XS, S and M;
- a time limit of at most ``max_seconds``, which on the service bounds **the whole
  run**: each solve gets an equal share of what is left (:func:`share`), and the
  worker's child process is killed at the deadline, whatever it is doing.
"""

from __future__ import annotations

from dataclasses import dataclass

from matching.instance import FieldError
from scenarios.spec import GenerateBase, ScenarioSpec

NAMED_OK = ("XS", "S", "M")
MAX_SIZE = (2_000, 800, 200)


@dataclass(frozen=True)
class Limits:
    max_runs: int = 25
    max_sweep_points: int = 20
    max_seconds: float = 60.0


def check(spec: ScenarioSpec, limits: Limits | None = None) -> list[FieldError]:
    """Every way ``spec`` exceeds the service's limits (empty: within them)."""
    limits = limits or Limits()
    errors: list[FieldError] = []
    runs = len(spec.variants) + 1
    if runs > limits.max_runs:
        errors.append(
            FieldError(
                "variants",
                "(count)",
                f"{runs} solves (the base, each "
                f"variant and sweep point): at most {limits.max_runs} "
                "on the service",
            )
        )
    points: dict[str, int] = {}
    for v in spec.variants:
        if v.sweep_key:
            points[v.group] = points.get(v.group, 0) + 1
    for group, n in points.items():
        if n > limits.max_sweep_points:
            errors.append(
                FieldError(
                    f'variant "{group}"',
                    "sweep",
                    f"{n} points: at most {limits.max_sweep_points} on the service",
                )
            )
    base = spec.base
    if isinstance(base, GenerateBase):
        if isinstance(base.scale, str):
            if base.scale not in NAMED_OK:
                errors.append(
                    FieldError(
                        "base",
                        "generate.scale",
                        f"{base.scale}: on the service at most M ({', '.join(NAMED_OK)})",
                    )
                )
        elif any(n > m for n, m in zip(base.scale, MAX_SIZE, strict=True)):
            errors.append(
                FieldError(
                    "base",
                    "generate.scale",
                    f"{list(base.scale)}: on the service at most "
                    f"{list(MAX_SIZE)} (households, dwellings, flats)",
                )
            )
    if spec.time_limit > limits.max_seconds:
        errors.append(
            FieldError(
                "scenario",
                "time_limit",
                f"at most {limits.max_seconds:g} s on the service (the whole run's limit)",
            )
        )
    return errors


def share(remaining: float, runs_left: int, floor: float = 1.0) -> float:
    """The time limit of the next solve: an equal share of what is left, at least
    ``floor`` seconds (0 when nothing is left)."""
    if remaining <= 0 or runs_left <= 0:
        return 0.0
    return max(floor, remaining / runs_left) if remaining >= floor else remaining
