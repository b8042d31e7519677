"""Planners' what-if runs: the scenario file, its state, and its report (aggregates only).
A planner reaches their own runs only."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlmodel import Session, col, select

from agency.audit import Actor, record
from agency.errors import NotFoundError
from agency.models import ScenarioRun
from agency.records.common import Page, now, page_of


def create_scenario_run(session: Session, actor: Actor, spec_text: str) -> ScenarioRun:
    """A planner's what-if run, queued: the file's text and its SHA-256."""
    run = ScenarioRun(
        user_id=actor.user_id,
        status="queued",
        spec_text=spec_text,
        spec_sha256=hashlib.sha256(spec_text.encode()).hexdigest(),
    )
    session.add(run)
    session.flush()
    record(
        session, actor, "scenario.run", "scenario", run.ref, detail={"sha256": run.spec_sha256[:16]}
    )
    return run


def finish_scenario_run(
    session: Session,
    ref: str,
    *,
    status: str,
    report: dict[str, Any] | None = None,
    error: str | None = None,
) -> ScenarioRun:
    """Record how a run ended: ``running``, ``done`` with its report (aggregates only), or
    ``failed`` with the reason."""
    run = session.exec(select(ScenarioRun).where(ScenarioRun.ref == ref)).one()
    run.status = status
    if status in ("done", "failed"):
        run.finished_at = now()
    run.report, run.error = report, error
    session.add(run)
    session.flush()
    return run


def get_scenario_run(session: Session, ref: str, *, user_id: int | None = None) -> ScenarioRun:
    """A run; with ``user_id``, only that user's own (another's is not found)."""
    run = session.exec(select(ScenarioRun).where(ScenarioRun.ref == ref)).first()
    if run is None:
        raise NotFoundError("scenario run", ref)
    if user_id is not None and run.user_id != user_id:
        raise NotFoundError("scenario run", ref, denied=True)
    return run


def list_scenario_runs(
    session: Session, *, user_id: int | None = None, limit: int = 50, offset: int = 0
) -> Page[ScenarioRun]:
    conds: list[Any] = [] if user_id is None else [ScenarioRun.user_id == user_id]
    return page_of(session, ScenarioRun, conds, (col(ScenarioRun.id).desc(),), limit, offset)
