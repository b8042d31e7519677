"""Planners' what-if scenarios: upload a scenario file (TOML), run it in the background,
read its report (aggregates only: no name, no ref, no per-person row)."""

from __future__ import annotations

import tomllib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from agency import records
from agency.db import write_session
from agency.models import Role
from agency.snapshot import snapshot_instance
from api import permissions as perms
from api.deps import EngineDep, Principal, SessionDep, require
from api.errors import ApiError
from api.pagination import Paged, PageDep
from scenarios.bundled import examples_dir
from scenarios.runner import run_scenario_text
from scenarios.spec import ScenarioError, parse_spec

router = APIRouter(prefix="/scenarios", tags=["scenarios"])

Planner = Annotated[Principal, require(perms.SCENARIOS_RUN)]

MAX_SPEC_BYTES = 256 * 1024
TIME_LIMIT_CAP = 60.0


class ScenarioRunPublic(BaseModel):
    ref: str
    status: str
    spec_sha256: str
    created_at: datetime
    finished_at: datetime | None
    job: str | None = None
    report: dict[str, Any] | None = None
    error: str | None = None


def _public(run: Any, job: str | None = None) -> ScenarioRunPublic:
    return ScenarioRunPublic(ref=run.ref, status=run.status, spec_sha256=run.spec_sha256,
                             created_at=run.created_at, finished_at=run.finished_at, job=job,
                             report=run.report, error=run.error)


def _check(text: str, source: str) -> None:
    try:
        parse_spec(text, base_dir=examples_dir(), source=source)
    except ScenarioError as exc:
        raise ApiError(422, f"the scenario file has {len(exc.errors)} error(s)", fields=[
            {"field": f"{e.record}: {e.field}", "message": e.message} for e in exc.errors]
        ) from None


def _run(engine: Engine, ref: str, text: str, source: str) -> None:
    # each update takes SQLite's write lock at BEGIN: a read-then-write transaction would
    # fail at once if a request committed in between
    with write_session(engine) as s:
        records.finish_scenario_run(s, ref, status="running")
    try:
        # the file may not name a database: the agency's data is the service's own
        report = run_scenario_text(text, examples_dir(), workers=1, time_limit=None,
                                   agency=lambda _url: snapshot_instance(engine),
                                   source=source)
    except ScenarioError as exc:
        with write_session(engine) as s:
            records.finish_scenario_run(s, ref, status="failed", error=str(exc)[:4000])
        raise
    except Exception:
        with write_session(engine) as s:
            records.finish_scenario_run(s, ref, status="failed", error="internal error")
        raise
    with write_session(engine) as s:
        records.finish_scenario_run(s, ref, status="done", report=report)


def read_spec(raw: bytes) -> str:
    if len(raw) > MAX_SPEC_BYTES:
        raise ApiError(413, f"a scenario file is at most {MAX_SPEC_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, "the scenario file is not UTF-8 text",
                       fields=[{"field": "file", "message": "not UTF-8"}]) from None
    if "\x00" in text:
        raise ApiError(422, "the scenario file holds a NUL character",
                       fields=[{"field": "file", "message": "NUL character"}])
    return text


def submit(request: Request, session: Session, engine: Engine, me: Principal, text: str,
           source: str) -> tuple[Any, str]:
    """Check the file (422 naming each problem), store the run, start it: (run, job id)."""
    _check(text, source)
    text = _cap_time_limit(text)
    run = records.create_scenario_run(session, me.actor, text)
    ref = run.ref
    session.commit()
    job = request.app.state.scenario_jobs.submit(
        "scenario", ref, None, lambda _progress: _run(engine, ref, text, source),
        expected=(ScenarioError,))
    return run, job.id


@router.post("", status_code=202, responses={422: {"description": "the file's problems"}})
async def run_scenario(me: Planner, session: SessionDep, engine: EngineDep, request: Request,
                       file: Annotated[UploadFile, File(description="scenario file (TOML)")]
                       ) -> ScenarioRunPublic:
    """Run a scenario file in the background; poll ``GET /scenarios/{ref}``. The file's
    time limit may be at most 60 s."""
    text = read_spec(await file.read(MAX_SPEC_BYTES + 1))
    source = (file.filename or "scenario.toml")[:100]
    run, job = await run_in_threadpool(submit, request, session, engine, me, text, source)
    return _public(run, job)


def _cap_time_limit(text: str) -> str:
    """The file with its time limit at most the service's cap (checked, so parseable)."""
    data = tomllib.loads(text)
    limit = data.get("scenario", {}).get("time_limit")
    if isinstance(limit, (int, float)) and limit > TIME_LIMIT_CAP:
        raise ApiError(422, f"scenario.time_limit: at most {TIME_LIMIT_CAP:g} s on the service",
                       fields=[{"field": "scenario.time_limit",
                                "message": f"at most {TIME_LIMIT_CAP:g}"}])
    return text


def _owner(me: Principal) -> int | None:
    return None if me.role is Role.admin else me.user_id


@router.get("")
def list_runs(me: Planner, session: SessionDep, page: PageDep) -> Paged[ScenarioRunPublic]:
    """Your scenario runs (an admin: everyone's), newest first, with their reports."""
    got = records.list_scenario_runs(session, user_id=_owner(me), limit=page.limit,
                                     offset=page.offset)
    return Paged[ScenarioRunPublic](items=[_public(r) for r in got.items], total=got.total,
                                    limit=got.limit, offset=got.offset)


@router.get("/{ref}")
def get_run(me: Planner, session: SessionDep, ref: str) -> ScenarioRunPublic:
    """A run's state and, when done, its report: aggregates only."""
    return _public(records.get_scenario_run(session, ref, user_id=_owner(me)))
