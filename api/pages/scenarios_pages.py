"""The planners' scenario pages: upload a scenario file, follow its run, read the
aggregates it reports (never a name or a ref)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from agency import jobs, records
from api import permissions as perms
from api.deps import EngineDep, Principal, SessionDep, page
from api.errors import ApiError
from api.job_handlers import SCENARIO
from api.pages.common import FormDep, redirect, render
from api.routes.scenarios import MAX_SPEC_BYTES, _owner, read_spec, retry_run, submit

router = APIRouter()

Planner = Annotated[Principal, page(perms.SCENARIOS_RUN)]


@router.get("/scenarios")
def scenarios(request: Request, me: Planner, session: SessionDep) -> Response:
    runs = records.list_scenario_runs(session, user_id=_owner(me), limit=50).items
    return render(request, "scenarios.html", {"runs": runs, "error": None})


@router.post("/scenarios")
def run_scenario(request: Request, form: FormDep, me: Planner, session: SessionDep,
                 engine: EngineDep) -> Response:
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "choose a scenario file (TOML)")
        text = read_spec(upload.file.read(MAX_SPEC_BYTES + 1))
        run, _job = submit(request, session, engine, me, text,
                           (upload.filename or "scenario.toml")[:100])
    except ApiError as exc:
        session.rollback()
        runs = records.list_scenario_runs(session, user_id=_owner(me), limit=50).items
        problems = "; ".join(f"{f['field']}: {f['message']}" for f in exc.fields)
        return render(request, "scenarios.html", {
            "runs": runs, "error": exc.message + (f" ({problems})" if problems else "")},
            exc.status)
    return redirect(f"/scenarios/{run.ref}")


@router.get("/scenarios/{ref}")
def scenario(request: Request, me: Planner, session: SessionDep, ref: str) -> Response:
    run = records.get_scenario_run(session, ref, user_id=_owner(me))
    report = run.report or {}
    rows = [report["base"], *report.get("variants", [])] if report.get("base") else []
    job = jobs.latest_for(session, SCENARIO, run.ref)
    position = jobs.queue_position(session, job) if job else None
    return render(request, "scenario.html", {"run": run, "rows": rows,
                                             "position": position})


@router.post("/scenarios/{ref}/retry")
def retry(request: Request, form: FormDep, me: Planner, session: SessionDep,
          ref: str) -> Response:
    retry_run(request, session, me, ref)
    return redirect(f"/scenarios/{ref}")
