"""The result of a round (``housing-match/result@1``, or ``result@2`` for an instance@2)
and its JSON I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from matching.instance import InstanceError, dumps, read_json_file

RESULT_FORMAT = "housing-match/result@1"
RESULT_FORMAT_V2 = "housing-match/result@2"

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
    months: int = 0
    """result@2: the months of the stay (``contribution_months`` without a horizon)."""
    term: str | None = None
    """result@2: the dwelling's terms the placement is let on (None: a plain rent)."""
    one_off_cents: int = 0
    cost_cents: int = 0
    """result@2: what the fund pays, ``contribution * months + one_off``."""
    shuttle: str | None = None
    """result@2: the shuttle line ridden to work (None: the household's own way)."""


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
    money_cents: int = 0
    """result@2's objective 2: the placements' costs and the opened lines' costs."""


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
    format: str = RESULT_FORMAT
    lines_opened: tuple[str, ...] = ()
    """result@2: the lines not running that this allocation opens (rides)."""

    @property
    def v2(self) -> bool:
        return self.format == RESULT_FORMAT_V2

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
        objective: dict[str, Any] = {
            "weight": self.objective.weight,
            "contribution_cents": self.objective.contribution_cents,
            "commute_km": round(self.objective.commute_km, 6),
            "commute_m": self.objective.commute_m,
        }
        if self.v2:
            objective["money_cents"] = self.objective.money_cents

        def placement(a: Assignment) -> dict[str, Any]:
            out = {
                "beneficiary": a.beneficiary,
                "unit": a.unit,
                "room": a.room,
                "fund": a.fund,
                "contribution_cents": a.contribution_cents,
                "commute_km": round(a.commute_km, 6),
                "commute_m": a.commute_m,
            }
            if self.v2:
                out |= {
                    "months": a.months,
                    "term": a.term,
                    "one_off_cents": a.one_off_cents,
                    "cost_cents": a.cost_cents,
                    "shuttle": a.shuttle,
                }
            return out

        extra = {"lines_opened": list(self.lines_opened)} if self.v2 else {}
        return {
            "format": self.format,
            "instance": self.instance,
            "status": self.status,
            "objective": objective,
            "bound": {"weight": self.bound_weight},
            **extra,
            "assignments": [placement(a) for a in self.assignments],
            "unassigned": [
                {
                    "beneficiary": u.beneficiary,
                    "reasons": list(u.reasons),
                    **({"details": dict(u.details)} if u.details else {}),
                }
                for u in self.unassigned
            ],
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
    fmt = data.get("format")
    if fmt not in (RESULT_FORMAT, RESULT_FORMAT_V2):
        raise ResultFormatError(
            f"result: format: must be {RESULT_FORMAT!r} or {RESULT_FORMAT_V2!r}"
        )
    v2 = fmt == RESULT_FORMAT_V2
    status = _need(data, "status", "result")
    if status not in STATUSES:
        raise ResultFormatError(f"result: status: must be one of {', '.join(STATUSES)}")
    obj = _need(data, "objective", "result")
    bound = data.get("bound") or {}
    try:
        assignments = tuple(
            _assignment(a, f"assignments[{k}]", v2)
            for k, a in enumerate(_need(data, "assignments", "result"))
        )
        unassigned = tuple(
            Unassigned(
                beneficiary=str(_need(u, "beneficiary", f"unassigned[{k}]")),
                reasons=tuple(_need(u, "reasons", f"unassigned[{k}]")),
                details=u.get("details") or {},
            )
            for k, u in enumerate(_need(data, "unassigned", "result"))
        )
        return Result(
            instance=str(data.get("instance", "")),
            status=status,
            objective=Objective(
                weight=int(_need(obj, "weight", "objective")),
                contribution_cents=int(_need(obj, "contribution_cents", "objective")),
                commute_km=float(_need(obj, "commute_km", "objective")),
                # a result written without metres: the sum of its placements' metres
                commute_m=int(obj["commute_m"])
                if obj.get("commute_m") is not None
                else sum(a.commute_m for a in assignments),
                money_cents=int(_need(obj, "money_cents", "objective")) if v2 else 0,
            ),
            bound_weight=None if bound.get("weight") is None else int(bound["weight"]),
            assignments=assignments,
            unassigned=unassigned,
            solve_seconds=float(data.get("solve_seconds", 0.0)),
            engine=data.get("engine") or {},
            timings=data.get("timings") or {},
            stages=tuple(data.get("stages") or ()),
            format=fmt,
            lines_opened=tuple(str(x) for x in _need(data, "lines_opened", "result")) if v2 else (),
        )
    except (TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ResultFormatError):
            raise
        raise ResultFormatError(f"result: malformed field: {exc}") from exc


def _assignment(a: Mapping[str, Any], where: str, v2: bool) -> Assignment:
    km = float(_need(a, "commute_km", where))
    extra: dict[str, Any] = {}
    if v2:
        metres = int(_need(a, "commute_m", where))
        extra = {
            "months": int(_need(a, "months", where)),
            "term": a.get("term"),
            "one_off_cents": int(_need(a, "one_off_cents", where)),
            "cost_cents": int(_need(a, "cost_cents", where)),
            "shuttle": a.get("shuttle"),
        }
    else:
        metres = int(a["commute_m"]) if a.get("commute_m") is not None else whole_metres(km)
    return Assignment(
        beneficiary=str(_need(a, "beneficiary", where)),
        unit=str(_need(a, "unit", where)),
        room=a.get("room"),
        fund=a.get("fund"),
        contribution_cents=int(_need(a, "contribution_cents", where)),
        commute_km=km,
        commute_m=metres,
        **extra,
    )


def load_result(path: str | Path) -> Result:
    p = Path(path)
    try:
        data = read_json_file(p, p.name)
    except InstanceError as exc:
        raise ResultFormatError("; ".join(str(e) for e in exc.errors)) from None
    return result_from_dict(data)


def save_result(result: Result, path: str | Path) -> None:
    Path(path).write_text(dumps(result.to_dict()) + "\n", encoding="utf-8")


def objective_of(
    assignments: Sequence[Assignment],
    weights: Mapping[str, int],
    line_costs: Mapping[str, int] | None = None,
) -> Objective:
    """The objective values of a list of placements (``weights`` by beneficiary id;
    ``line_costs``: the cost of opening each line not running, for result@2's money)."""
    opened = lines_opened(assignments, line_costs or {})
    return Objective(
        weight=sum(weights[a.beneficiary] for a in assignments),
        contribution_cents=sum(a.contribution_cents for a in assignments),
        commute_km=sum(a.commute_km for a in assignments),
        commute_m=sum(a.commute_m for a in assignments),
        money_cents=sum(a.cost_cents for a in assignments)
        + sum((line_costs or {})[x] for x in opened),
    )


def result_format(v2: bool) -> str:
    """The result format answering an instance@1 (``result@1``) or an instance@2."""
    return RESULT_FORMAT_V2 if v2 else RESULT_FORMAT


def lines_opened(
    assignments: Sequence[Assignment], line_costs: Mapping[str, int]
) -> tuple[str, ...]:
    """The lines not running (the keys of ``line_costs``) some placement rides, sorted."""
    return tuple(
        sorted(
            {a.shuttle for a in assignments if a.shuttle is not None and a.shuttle in line_costs}
        )
    )
