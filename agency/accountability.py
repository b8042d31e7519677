"""Every solve of a round kept and answerable for: what the engine was given, how it ran,
who it served and who it did not, and whether it can be run again to the same result.

Each solve of a round writes one :class:`~agency.models.RoundSolve`: the SHA-256 of the
instance's canonical JSON and the inputs that made it from the round's snapshot (pins,
bans, households found unreachable), the engine's version and every parameter (time
limit, seed, workers), how each lexicographic stage ended, a hash of the allocation, and
the round's audit (:func:`matching.audit.audit`: the groups' placement rates and every
priority inversion with why it stands).

:func:`solved_instance` rebuilds the exact instance a solve worked on (its hash checked);
:func:`replay` solves it again with the same parameters and says whether the allocation
is the same, and, when it is not, whether a time limit cut a stage (the only way the same
engine, seed and instance give another answer).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sqlmodel import Session, col, select

from agency.errors import NotFoundError, RoundStateError
from agency.mapping import is_occupant
from agency.models import Beneficiary, Round, RoundSolve
from agency.protected import unseal_snapshot
from matching.audit import EXAMINE, RoundAudit, group_audit, inversions
from matching.instance import Instance, dumps, instance_from_dict, instance_to_dict
from matching.params import SolveParams
from matching.result import Result
from matching.solve import ENGINE, solve
from matching.validate import validate

log = logging.getLogger(__name__)

PROVEN = "OPTIMAL"
"""A stage's status when it ended proven, not cut by the time limit."""


class ReplayError(RoundStateError):
    """A solve that cannot be replayed: its instance no longer rebuilds to the stored hash."""


def instance_sha256(inst: Instance) -> str:
    """SHA-256 of the instance's canonical JSON (``dumps(instance_to_dict(inst))``)."""
    return hashlib.sha256(dumps(instance_to_dict(inst)).encode("utf-8")).hexdigest()


def result_sha256(result: Result) -> str:
    """SHA-256 of the allocation: every placement (household, unit, room, fund, terms,
    line, contribution, commute), in the result's order."""
    data = result.to_dict()["assignments"]
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


def engine_version() -> dict[str, str]:
    """The engine that solves: its name, this package's version and OR-Tools'."""
    return {
        "name": ENGINE,
        "housing_match": _version("housing-match"),
        "ortools": _version("ortools"),
    }


def stage_statuses(result: Result) -> list[dict[str, Any]]:
    """Each lexicographic stage: its objective, how it ended, its value and seconds."""
    return [
        {
            "objective": s.get("objective"),
            "status": s.get("status"),
            "value": s.get("value"),
            "seconds": s.get("seconds"),
        }
        for s in result.stages
    ]


def objective_of(result: Result) -> dict[str, Any]:
    o = result.objective
    return {
        "weight": o.weight,
        "contribution_cents": o.contribution_cents,
        "commute_m": round(o.commute_km * 1000),
        "placed": len(result.assignments),
    }


def nationalities(session: Session, inst: Instance) -> dict[str, dict[str, str]]:
    """The audit's extra dimension: each household's nationality (from its record)."""
    refs = [b.id for b in inst.beneficiaries if not is_occupant(b.id)]
    if not refs:
        return {}
    rows = session.exec(
        select(Beneficiary.ref, Beneficiary.nationality).where(col(Beneficiary.ref).in_(refs))
    ).all()
    return {ref: {"nationality": nat} for ref, nat in rows if nat}


def round_audit(
    inst: Instance, result: Result, extra: Mapping[str, Mapping[str, str]] | None = None
) -> tuple[dict[str, Any] | None, float]:
    """The audit as stored (named: for the round's staff), and the seconds it took.

    The occupants of let beds (pinned where they are, never waiting) are neither in a
    group nor a party to an inversion. A failing audit never costs the solve: it is
    logged (by type only) and stored as None.
    """
    start = time.perf_counter()
    try:
        own = tuple(b for b in inst.beneficiaries if not is_occupant(b.id))
        found = RoundAudit(
            groups=tuple(
                group_audit(
                    replace(
                        inst,
                        beneficiaries=own,
                        pinned=tuple(p for p in inst.pinned if not is_occupant(p.beneficiary)),
                    ),
                    replace(
                        result,
                        assignments=tuple(
                            a for a in result.assignments if not is_occupant(a.beneficiary)
                        ),
                    ),
                    extra,
                )
            ),
            inversions=tuple(
                x
                for x in inversions(inst, result, examine=EXAMINE)
                if not is_occupant(x.left) and not is_occupant(x.holder)
            ),
            proven=result.status == PROVEN,
        )
    except Exception as exc:  # the allocation is valid and stored; its audit is missing
        log.error("the round audit failed: %s", type(exc).__name__)
        return None, time.perf_counter() - start
    return found.to_dict(named=True), time.perf_counter() - start


def record_solve(
    session: Session,
    r: Round,
    iteration: int,
    inst: Instance,
    inputs: dict[str, Any],
    params: SolveParams,
    result: Result,
    audit_dict: dict[str, Any] | None,
    audit_seconds: float | None,
) -> RoundSolve:
    """Add the solve's record to ``session`` (flushed by the caller's transaction)."""
    assert r.id is not None
    row = RoundSolve(
        round_id=r.id,
        iteration=iteration,
        instance_sha256=instance_sha256(inst),
        inputs=inputs,
        engine=engine_version(),
        params=params.to_dict(),
        status=result.status,
        stages=stage_statuses(result),
        result_sha256=result_sha256(result),
        objective=objective_of(result),
        audit=audit_dict,
        audit_seconds=None if audit_seconds is None else round(audit_seconds, 3),
    )
    session.add(row)
    return row


def instance_data(snapshot: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """The instance's JSON: a round's ``snapshot`` (its protected fields opened) with a
    solve's ``inputs`` (pins, bans, households found unreachable and the terms dwellings
    were offered on: :func:`agency.rounds.solve_inputs`) applied."""
    data = unseal_snapshot(copy.deepcopy(snapshot))
    excluded = set(inputs.get("excluded", ()))
    data["beneficiaries"] = [b for b in data["beneficiaries"] if b["id"] not in excluded]
    data["pinned"] = [p for p in data.get("pinned", []) if is_occupant(p["beneficiary"])]
    data["pinned"] += copy.deepcopy(list(inputs.get("pinned", ())))
    data["forbidden"] = copy.deepcopy(list(inputs.get("forbidden", ())))
    agreed = inputs.get("agreed", {})
    for d in data["dwellings"]:
        if d["id"] in agreed and d.get("terms"):
            d["terms"] = [t for t in d["terms"] if t["id"] == agreed[d["id"]]] or d["terms"]
    return data


def solves(session: Session, round_id: int) -> list[RoundSolve]:
    return list(
        session.exec(
            select(RoundSolve)
            .where(RoundSolve.round_id == round_id)
            .order_by(col(RoundSolve.iteration))
        )
    )


def solve_of(session: Session, r: Round, iteration: int | None = None) -> RoundSolve:
    """The record of solve ``iteration`` of round ``r`` (None: the latest)."""
    q = select(RoundSolve).where(RoundSolve.round_id == r.id)
    if iteration is not None:
        q = q.where(RoundSolve.iteration == iteration)
    found = session.exec(q.order_by(col(RoundSolve.iteration).desc())).first()
    if found is None:
        what = f"solve {iteration} of round {r.ref}" if iteration else f"a solve of round {r.ref}"
        raise NotFoundError("round_solve", what)
    return found


def solved_instance(r: Round, s: RoundSolve) -> Instance:
    """The exact instance solve ``s`` of round ``r`` worked on: the round's snapshot with
    the inputs of that moment; refused when it does not hash to the stored SHA-256."""
    inst = instance_from_dict(instance_data(r.snapshot, s.inputs), source=r.ref)
    got = instance_sha256(inst)
    if got != s.instance_sha256:
        raise ReplayError(
            f"round {r.ref}, solve {s.iteration}: the rebuilt instance hashes to {got[:12]}…, "
            f"not the stored {s.instance_sha256[:12]}…: the round's snapshot changed since "
            "(a person's data erased at their request changes it)"
        )
    return inst


@dataclass(frozen=True)
class Replay:
    """What a replay found."""

    round_ref: str
    iteration: int
    identical: bool
    stored: dict[str, Any]
    replayed: dict[str, Any]
    stored_stages: list[dict[str, Any]]
    replayed_stages: list[dict[str, Any]]
    engine_then: dict[str, Any]
    engine_now: dict[str, Any]
    why: list[str] = field(default_factory=list)
    """When not identical: the stages a time limit cut, an engine that changed, or
    nothing known (an unexplained difference)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round_ref,
            "iteration": self.iteration,
            "identical": self.identical,
            "stored": self.stored,
            "replayed": self.replayed,
            "stored_stages": self.stored_stages,
            "replayed_stages": self.replayed_stages,
            "engine_then": self.engine_then,
            "engine_now": self.engine_now,
            "why": self.why,
        }


def _cut(stages: list[dict[str, Any]]) -> list[str]:
    return [str(s.get("objective")) for s in stages if s.get("status") != PROVEN]


def replay(session: Session, r: Round, iteration: int | None = None) -> Replay:
    """Solve the stored solve of round ``r`` again (the latest, or ``iteration``): the
    same instance (hash checked), engine parameters and seed; compare the allocations.

    Long (the solve's own time): call it from the command line or a job.
    """
    s = solve_of(session, r, iteration)
    inst = solved_instance(r, s)
    params = SolveParams.from_dict(s.params)
    result = solve(inst, params)
    violations = validate(inst, result)
    if violations:
        raise RuntimeError(
            f"round {r.ref}: the replayed result breaks the rules: "
            + "; ".join(str(v) for v in violations[:5])
        )
    replayed = {**objective_of(result), "sha256": result_sha256(result)}
    stored = {**s.objective, "sha256": s.result_sha256}
    stages_now = stage_statuses(result)
    identical = replayed == stored
    why: list[str] = []
    if not identical:
        then_cut, now_cut = _cut(s.stages), _cut(stages_now)
        if then_cut:
            why.append("time limit cut the stored solve's stage(s): " + ", ".join(then_cut))
        if now_cut:
            why.append("time limit cut the replay's stage(s): " + ", ".join(now_cut))
        now = engine_version()
        changed = sorted(k for k in now if now.get(k) != s.engine.get(k))
        if changed:
            why.append("the engine changed: " + ", ".join(changed))
        if not why:
            why.append("no stage was cut and the engine is the same: an unexplained difference")
    return Replay(
        round_ref=r.ref,
        iteration=s.iteration,
        identical=identical,
        stored=stored,
        replayed=replayed,
        stored_stages=list(s.stages),
        replayed_stages=stages_now,
        engine_then=dict(s.engine),
        engine_now=engine_version(),
        why=why,
    )
