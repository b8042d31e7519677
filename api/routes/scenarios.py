"""Planners' what-if scenarios: upload a scenario file (TOML), run it in the background,
read its report (aggregates only: no name, no ref, no per-person row)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from agency import jobs, records
from agency.audit import record
from agency.models import Role
from api import permissions as perms
from api.deps import EngineDep, Principal, SessionDep, require
from api.errors import ApiError
from api.job_handlers import SCENARIO
from api.pagination import Paged, PageDep
from api.settings import Settings
from scenarios.bundled import examples_dir
from scenarios.limits import Limits
from scenarios.limits import check as check_limits
from scenarios.spec import ScenarioError, parse_spec

router = APIRouter(prefix="/scenarios", tags=["scenarios"])

Planner = Annotated[Principal, require(perms.SCENARIOS_RUN)]

MAX_SPEC_BYTES = 256 * 1024


class ScenarioRunPublic(BaseModel):
    ref: str
    status: str
    spec_sha256: str
    created_at: datetime
    finished_at: datetime | None
    job: str | None = None
    position: int | None = None
    report: dict[str, Any] | None = None
    error: str | None = None


def _public(run: Any, job: str | None = None, position: int | None = None) -> ScenarioRunPublic:
    return ScenarioRunPublic(
        ref=run.ref,
        status=run.status,
        spec_sha256=run.spec_sha256,
        created_at=run.created_at,
        finished_at=run.finished_at,
        job=job,
        position=position,
        report=run.report,
        error=run.error,
    )


def _limits(settings: Settings) -> Limits:
    return Limits(
        max_runs=settings.scenario_max_runs,
        max_sweep_points=settings.scenario_max_sweep_points,
        max_seconds=settings.scenario_max_seconds,
    )


def _check(text: str, source: str, settings: Settings) -> float:
    """Check the file whole (422 naming each problem); the run's time limit."""
    try:
        spec = parse_spec(text, base_dir=examples_dir(), source=source)
        errors = check_limits(spec, _limits(settings))
        if errors:
            raise ScenarioError(errors, source)
    except ScenarioError as exc:
        raise ApiError(
            422,
            f"the scenario file has {len(exc.errors)} error(s)",
            fields=[{"field": f"{e.record}: {e.field}", "message": e.message} for e in exc.errors],
        ) from None
    return min(spec.time_limit, settings.scenario_max_seconds)


def read_spec(raw: bytes) -> str:
    if len(raw) > MAX_SPEC_BYTES:
        raise ApiError(413, f"a scenario file is at most {MAX_SPEC_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(
            422,
            "the scenario file is not UTF-8 text",
            fields=[{"field": "file", "message": "not UTF-8"}],
        ) from None
    if "\x00" in text:
        raise ApiError(
            422,
            "the scenario file holds a NUL character",
            fields=[{"field": "file", "message": "NUL character"}],
        )
    return text


def submit(
    request: Request, session: Session, engine: Engine, me: Principal, text: str, source: str
) -> tuple[Any, str]:
    """Check the file (422 naming each problem), store the run and queue its job (429
    when this planner already has as many waiting as the service allows)."""
    settings: Settings = request.app.state.settings
    seconds = _check(text, source, settings)
    fair = f"user:{me.user_id}"
    if jobs.count_active(session, SCENARIO, fair) >= settings.max_queued_runs_per_planner:
        raise ApiError(
            429, "you have as many scenario runs waiting as the service allows: wait for one to end"
        )
    run = records.create_scenario_run(session, me.actor, text)
    job = jobs.enqueue(
        session,
        SCENARIO,
        run.ref,
        fair_key=fair,
        user_id=me.user_id,
        params={"source": source, "seconds": seconds},
    )
    session.commit()
    request.app.state.workers.wake(SCENARIO)
    return run, job.ref


@router.post("", status_code=202, responses={422: {"description": "the file's problems"}})
async def run_scenario(
    me: Planner,
    session: SessionDep,
    engine: EngineDep,
    request: Request,
    file: Annotated[UploadFile, File(description="scenario file (TOML)")],
) -> ScenarioRunPublic:
    """Run a scenario file in the background; poll ``GET /scenarios/{ref}``. On the
    service the file's time limit (at most 60 s) bounds the whole run, which has at most
    25 solves, sweeps of at most 20 points and a generated base of at most M's size."""
    text = read_spec(await file.read(MAX_SPEC_BYTES + 1))
    source = (file.filename or "scenario.toml")[:100]
    run, job = await run_in_threadpool(submit, request, session, engine, me, text, source)
    return _public(run, job)


def _owner(me: Principal) -> int | None:
    return None if me.role is Role.admin else me.user_id


@router.get("")
def list_runs(me: Planner, session: SessionDep, page: PageDep) -> Paged[ScenarioRunPublic]:
    """Your scenario runs (an admin: everyone's), newest first, with their reports."""
    got = records.list_scenario_runs(
        session, user_id=_owner(me), limit=page.limit, offset=page.offset
    )
    return Paged[ScenarioRunPublic](
        items=[_public(r) for r in got.items], total=got.total, limit=got.limit, offset=got.offset
    )


@router.get("/{ref}")
def get_run(me: Planner, session: SessionDep, ref: str) -> ScenarioRunPublic:
    """A run's state (queued with its place, running, done, failed, interrupted) and, when
    done, its report: aggregates only (counts under 5 suppressed on the agency's data)."""
    run = records.get_scenario_run(session, ref, user_id=_owner(me))
    job = jobs.latest_for(session, SCENARIO, run.ref)
    return _public(
        run, job.ref if job else None, jobs.queue_position(session, job) if job else None
    )


def retry_run(request: Request, session: Session, me: Principal, ref: str) -> Any:
    """Run an interrupted (or failed) run again, as a new job."""
    run = records.get_scenario_run(session, ref, user_id=_owner(me))
    if run.status not in ("interrupted", "failed"):
        raise ApiError(
            409, f"run {ref} is {run.status}: only an interrupted or failed run is run again"
        )
    last = jobs.latest_for(session, SCENARIO, run.ref)
    if last is None:
        raise ApiError(409, f"run {ref} has no job to run again")
    job = jobs.retry(session, last)
    records.finish_scenario_run(session, ref, status="queued")
    record(session, me.actor, "scenario.retry", "scenario", ref, detail={"job": job.ref})
    session.commit()
    request.app.state.workers.wake(SCENARIO)
    return run


@router.post("/{ref}/retry", status_code=202)
def retry(me: Planner, session: SessionDep, request: Request, ref: str) -> ScenarioRunPublic:
    """Run an interrupted or failed run again."""
    return _public(retry_run(request, session, me, ref))
