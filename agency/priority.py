"""The priority policy: a household's priority from documented, configurable components.

The policy lives in a TOML file (``agency/data/priority.toml`` by default, or the file named
by ``HOUSING_PRIORITY_POLICY``). :func:`compute` returns the total and its breakdown, one
line per component that scored, so staff can explain a priority to the household.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from agency.models import Beneficiary

VICTIM_TAG = "exploitation_victim"


class PolicyError(ValueError):
    """A priority policy file with an unknown, missing or invalid key (named)."""


@dataclass(frozen=True)
class PriorityPolicy:
    """Points per component (non-negative integers); see ``agency/data/priority.toml``."""

    base: int = 1
    exploitation_victim: int = 4
    informal_settlement: int = 3
    per_minor: int = 1
    max_minors: int = 3
    health: int = 2
    per_waiting_period: int = 1
    waiting_period_days: int = 90
    max_waiting_periods: int = 3

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise PolicyError(f"{f.name}: must be a non-negative integer, got {v!r}")
        if self.waiting_period_days < 1:
            raise PolicyError("waiting_period_days: must be at least 1")

    @classmethod
    def from_toml(cls, text: str, source: str = "priority policy") -> PriorityPolicy:
        try:
            data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{source}: not valid TOML: {exc}") from exc
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "components":
                if not isinstance(value, dict):
                    raise PolicyError(f"{source}: components: must be a table")
                for k, v in value.items():
                    if k not in known or k == "base":
                        raise PolicyError(
                            f"{source}: components.{k}: unknown component "
                            f"(known: {', '.join(sorted(known - {'base'}))})"
                        )
                    values[k] = v
            elif key == "base":
                values[key] = value
            else:
                raise PolicyError(f"{source}: {key}: unknown key (expected base, components)")
        try:
            return cls(**values)
        except PolicyError as exc:
            raise PolicyError(f"{source}: {exc}") from None

    @classmethod
    def load(cls, path: str | Path | None = None) -> PriorityPolicy:
        """The policy in ``path``, else ``HOUSING_PRIORITY_POLICY``, else the packaged one."""
        path = path or os.environ.get("HOUSING_PRIORITY_POLICY")
        if path:
            return cls.from_toml(Path(path).read_text(encoding="utf-8"), str(path))
        text = resources.files("agency").joinpath("data", "priority.toml").read_text("utf-8")
        return cls.from_toml(text, "agency/data/priority.toml")


def compute(b: Beneficiary, policy: PriorityPolicy, on: date) -> tuple[int, list[dict[str, Any]]]:
    """Priority of household ``b`` on day ``on`` and its breakdown.

    Returns
    -------
    (int, list of dict)
        The total, and one ``{"component", "value", "points"}`` per component that scored,
        ``value`` being what was counted (a flag, a number of minors or of waiting periods).
    """
    lines: list[dict[str, Any]] = [{"component": "base", "value": 1, "points": policy.base}]

    def add(component: str, value: Any, points: int) -> None:
        if points:
            lines.append({"component": component, "value": value, "points": points})

    if VICTIM_TAG in (b.tags or []):
        add("exploitation_victim", True, policy.exploitation_victim)
    if b.informal_settlement:
        add("informal_settlement", True, policy.informal_settlement)
    minors = min(b.minors, policy.max_minors)
    add("minors", minors, minors * policy.per_minor)
    if b.health_needs:
        add("health", True, policy.health)
    days = max(0, (on - b.registered_on).days)
    periods = min(days // policy.waiting_period_days, policy.max_waiting_periods)
    add("days_waiting", periods, periods * policy.per_waiting_period)
    total = sum(int(line["points"]) for line in lines)
    return max(total, 1), lines


COMPONENT_TEXT = {
    "base": ("taken in charge", "presa in carico"),
    "exploitation_victim": ("victim of labour exploitation", "vittima di sfruttamento lavorativo"),
    "informal_settlement": ("lives in an informal settlement", "vive in un insediamento informale"),
    "minors": ("minors in the household", "minori nel nucleo"),
    "health": ("health needs", "esigenze di salute"),
    "days_waiting": ("waiting periods", "periodi di attesa"),
}
"""What each component means, in English and Italian (for pages and exports)."""
