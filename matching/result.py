"""The result of a round (``housing-match/result@1``) and its JSON I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from matching.instance import InstanceError, dumps, read_json_file

RESULT_FORMAT = "housing-match/result@1"

Status = Literal["OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN"]
STATUSES: tuple[Status, ...] = ("OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN")


class ResultFormatError(ValueError):
    """A result file that does not follow the result format."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """One placement: a household in a dwelling, or a single adult in a room's bed."""

    beneficiary: str
    unit: str
    room: str | None
    fund: str | None
    contribution_cents: int
    commute_km: float
    commute_m: int
    """Whole metres, ``floor(1000 * commute_km + 0.5)``: what objective 3 sums."""


def whole_metres(km: float) -> int:
    """The spec's whole metres of a commute: ``floor(1000 * km + 0.5)``."""
    return math.floor(1000 * km + 0.5)


@dataclass(frozen=True, slots=True)
class Unassigned:
    """A household left out, with machine-readable reasons (see ``matching.explain``)."""

    beneficiary: str
    reasons: tuple[str, ...]
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Objective:
    """The three lexicographic objective values of an allocation."""

    weight: int
    contribution_cents: int
    commute_km: float
    commute_m: int
    """Objective 3: the placements' whole metres summed."""


@dataclass(frozen=True)
class Result:
    """What a solve returns; mirrors the result file.

    ``bound_weight`` is a proven upper bound on objective 1 (``None`` when no bound
    is known, e.g. for a heuristic). ``timings`` holds seconds per phase; ``stages``
    what each lexicographic stage reported.
    """

    instance: str
    status: Status
    objective: Objective
    bound_weight: int | None
    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassigned, ...]
    solve_seconds: float
    engine: Mapping[str, Any] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)
    stages: tuple[Mapping[str, Any], ...] = ()

    @property
    def gap(self) -> float | None:
        """Relative gap of objective 1: ``(bound - weight) / bound`` (0 when proven)."""
        if self.bound_weight is None:
            return None
        if self.bound_weight == 0:
            return 0.0
        return (self.bound_weight - self.objective.weight) / self.bound_weight

    def assignment_of(self, beneficiary_id: str) -> Assignment | None:
        return next((a for a in self.assignments if a.beneficiary == beneficiary_id), None)

    def unassigned_of(self, beneficiary_id: str) -> Unassigned | None:
        return next((u for u in self.unassigned if u.beneficiary == beneficiary_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RESULT_FORMAT,
            "instance": self.instance,
            "status": self.status,
            "objective": {
                "weight": self.objective.weight,
                "contribution_cents": self.objective.contribution_cents,
                "commute_km": round(self.objective.commute_km, 6),
                "commute_m": self.objective.commute_m,
            },
            "bound": {"weight": self.bound_weight},
            "assignments": [
                {"beneficiary": a.beneficiary, "unit": a.unit, "room": a.room, "fund": a.fund,
                 "contribution_cents": a.contribution_cents,
                 "commute_km": round(a.commute_km, 6), "commute_m": a.commute_m}
                for a in self.assignments],
            "unassigned": [
                {"beneficiary": u.beneficiary, "reasons": list(u.reasons),
                 **({"details": dict(u.details)} if u.details else {})}
                for u in self.unassigned],
            "solve_seconds": round(self.solve_seconds, 3),
            "engine": dict(self.engine),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "stages": [dict(s) for s in self.stages],
        }


def _need(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ResultFormatError(f"{where}: {key}: is required")
    return data[key]


def result_from_dict(data: Any) -> Result:
    """Read a result dictionary; raises :class:`ResultFormatError` naming the field."""
    if not isinstance(data, Mapping):
        raise ResultFormatError("result: must be a JSON object")
    if data.get("format") != RESULT_FORMAT:
        raise ResultFormatError(f"result: format: must be {RESULT_FORMAT!r}")
    status = _need(data, "status", "result")
    if status not in STATUSES:
        raise ResultFormatError(f"result: status: must be one of {', '.join(STATUSES)}")
    obj = _need(data, "objective", "result")
    bound = data.get("bound") or {}
    try:
        assignments = tuple(_assignment(a, f"assignments[{k}]")
                            for k, a in enumerate(_need(data, "assignments", "result")))
        unassigned = tuple(
            Unassigned(beneficiary=str(_need(u, "beneficiary", f"unassigned[{k}]")),
                       reasons=tuple(_need(u, "reasons", f"unassigned[{k}]")),
                       details=u.get("details") or {})
            for k, u in enumerate(_need(data, "unassigned", "result")))
        return Result(
            instance=str(data.get("instance", "")),
            status=status,
            objective=Objective(
                weight=int(_need(obj, "weight", "objective")),
                contribution_cents=int(_need(obj, "contribution_cents", "objective")),
                commute_km=float(_need(obj, "commute_km", "objective")),
                # a result written without metres: the sum of its placements' metres
                commute_m=int(obj["commute_m"]) if obj.get("commute_m") is not None
                else sum(a.commute_m for a in assignments)),
            bound_weight=None if bound.get("weight") is None else int(bound["weight"]),
            assignments=assignments,
            unassigned=unassigned,
            solve_seconds=float(data.get("solve_seconds", 0.0)),
            engine=data.get("engine") or {},
            timings=data.get("timings") or {},
            stages=tuple(data.get("stages") or ()),
        )
    except (TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ResultFormatError):
            raise
        raise ResultFormatError(f"result: malformed field: {exc}") from exc


def _assignment(a: Mapping[str, Any], where: str) -> Assignment:
    km = float(_need(a, "commute_km", where))
    return Assignment(beneficiary=str(_need(a, "beneficiary", where)),
                      unit=str(_need(a, "unit", where)), room=a.get("room"), fund=a.get("fund"),
                      contribution_cents=int(_need(a, "contribution_cents", where)),
                      commute_km=km,
                      commute_m=int(a["commute_m"]) if a.get("commute_m") is not None
                      else whole_metres(km))


def load_result(path: str | Path) -> Result:
    p = Path(path)
    try:
        data = read_json_file(p, p.name)
    except InstanceError as exc:
        raise ResultFormatError("; ".join(str(e) for e in exc.errors)) from None
    return result_from_dict(data)


def save_result(result: Result, path: str | Path) -> None:
    Path(path).write_text(dumps(result.to_dict()) + "\n", encoding="utf-8")


def objective_of(assignments: Sequence[Assignment], weights: Mapping[str, int]) -> Objective:
    """The objective values of a list of placements (``weights`` by beneficiary id)."""
    return Objective(
        weight=sum(weights[a.beneficiary] for a in assignments),
        contribution_cents=sum(a.contribution_cents for a in assignments),
        commute_km=sum(a.commute_km for a in assignments),
        commute_m=sum(a.commute_m for a in assignments),
    )
