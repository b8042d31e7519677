"""The round page: open, solve with progress, review, lock/forbid, re-solve, offers,
answers, close; and the offline map of Puglia."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from agency import imports, jobs, records, rounds
from agency.audit import record
from agency.mapping import is_occupant
from agency.models import DecisionKind, Round
from agency.records import RecordError
from agency.round_control import cancel_round
from agency.schemas import RoundPolicy
from api import permissions as perms
from api.deps import EngineDep, Principal, SessionDep, page
from api.errors import AGENCY_ERRORS, ApiError, agency_problem
from api.job_handlers import SOLVE
from api.models import JobPublic
from api.pages.common import (
    FormDep,
    FormError,
    cents,
    errors_of,
    number,
    redirect,
    render,
    text,
)
from api.pages.map_svg import puglia_map
from api.pagination import Id
from api.routes.rounds import (
    cap_time_limit,
    decision_of,
    job_public,
    offer_of,
    round_office,
    round_public,
    solve_job,
    start_solve,
)

router = APIRouter()

Reader = Annotated[Principal, page(perms.ROUNDS_READ)]
Writer = Annotated[Principal, page(perms.ROUNDS_WRITE)]
Exporter = Annotated[Principal, page(perms.EXPORTS_READ)]
MapReader = Annotated[Principal, page(perms.MAP_READ)]

ANSWERS = ("accepted", "refused_household", "refused_landlord", "unreachable", "withdrawn")


@router.get("/rounds")
def rounds_list(request: Request, me: Reader, session: SessionDep,
                offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0) -> Response:
    got = records.list_rounds(session, scope=me.scope, limit=25, offset=offset)
    return render(request, "rounds.html", {"page": got})


@router.get("/rounds/new")
def new_round(request: Request, me: Writer, session: SessionDep) -> Response:
    return render(request, "round_new.html", {
        "values": {"name": "", "time_limit_s": "30", "seed": "0",
                   "affordability_ratio": "0.30", "max_contribution_euros": "300",
                   "contribution_months": "12"},
        "errors": {}, "offices": records.list_offices(session) if me.scope is None else []})


@router.post("/rounds/new")
def open_round(request: Request, form: FormDep, me: Writer, session: SessionDep) -> Response:
    try:
        policy = RoundPolicy.model_validate({k: v for k, v in {
            "affordability_ratio": text(form, "affordability_ratio"),
            "max_contribution_cents": cents(form, "max_contribution_euros"),
            "contribution_months": number(form, "contribution_months"),
        }.items() if v is not None})
        limit = float(number(form, "time_limit_s") or 30)
        cap_time_limit(request, limit)
        seed = int(number(form, "seed") or 0)
        r = rounds.open_round(session, me.actor, name=text(form, "name") or "",
                              office_id=round_office(session, me, text(form, "office")),
                              policy=policy, time_limit_s=limit, seed=seed)
    except (ValueError, RecordError, FormError) as exc:
        return render(request, "round_new.html", {
            "values": {k: v for k, v in form.items() if isinstance(v, str)},
            "errors": errors_of(exc),
            "offices": records.list_offices(session) if me.scope is None else []}, 422)
    return redirect(f"/rounds/{r.ref}")


def _round_page(request: Request, session: Session, me: Principal, r: Round,
                error: str | None = None, status: int = 200, job: str | None = None
                ) -> Response:
    view = round_public(session, r)
    record(session, me.actor, "round.read", "round", r.ref)
    decided = {(d.beneficiary_ref, d.unit_ref) for d in view.decisions}
    # the job named in the address, else the round's latest: kept in the database, so
    # after a restart the page says the solve was interrupted instead of polling on
    found = jobs.by_ref(session, job) if job else None
    if found is None or found.subject != r.ref:
        found = jobs.latest_for(session, SOLVE, r.ref)
    active_job = jobs.public(session, found) if found is not None else None
    last_failed = None
    if job and active_job and active_job["status"] == "failed":
        last_failed = active_job["error"]
    interrupted = active_job if active_job and active_job["status"] == "interrupted" \
        else None
    return render(request, "round.html", {
        "r": r, "view": view, "error": error or last_failed, "decided": decided,
        "households": sum(1 for b in r.snapshot.get("beneficiaries", [])
                          if not is_occupant(b["id"])),
        "job": active_job if active_job and active_job["status"] in ("queued", "running")
        else None, "interrupted": interrupted, "answers": ANSWERS,
        "solvable": r.status in rounds.SOLVABLE,
        "can_offer": r.status in ("solved", "offers"),
        "pending": sum(1 for o in view.offers if o.status == "pending"),
        "accepted": sum(1 for o in view.offers if o.status == "accepted")}, status)


@router.get("/rounds/{ref}")
def round_page(request: Request, me: Reader, session: SessionDep, ref: str,
               job: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    r = records.round_by_ref(session, ref, scope=me.scope)
    return _round_page(request, session, me, r, job=job)


@router.post("/rounds/{ref}/solve")
def solve(request: Request, me: Writer, session: SessionDep, engine: EngineDep,
          ref: str) -> Response:
    r = records.round_by_ref(session, ref, scope=me.scope)
    try:
        job = start_solve(request, engine, session, me, r)
    except ApiError as exc:
        return _round_page(request, session, me, r, exc.message, exc.status)
    return redirect(f"/rounds/{r.ref}?job={job.ref}")


@router.get("/rounds/{ref}/jobs/{job}.json")
def solve_progress(request: Request, me: Reader, session: SessionDep, ref: str,
                   job: str) -> JobPublic:
    r = records.round_by_ref(session, ref, scope=me.scope)
    return job_public(session, solve_job(session, r, job))


def _act(request: Request, form: FormData, session: Session, me: Principal, ref: str,
         action: Any) -> Response:
    """Run a round action from a form; on a refusal show the round with the reason."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    try:
        action(r, form)
    except AGENCY_ERRORS as exc:
        session.rollback()
        r = records.round_by_ref(session, ref, scope=me.scope)
        return _round_page(request, session, me, r, str(exc), agency_problem(exc)[0])
    return redirect(f"/rounds/{r.ref}")


@router.post("/rounds/{ref}/decide")
def decide(request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str) -> Response:
    def act(r: Round, form: Any) -> None:
        assert r.id is not None
        try:
            kind = DecisionKind(text(form, "kind") or "")
        except ValueError:
            raise RecordError("kind", "lock or forbid") from None
        rounds.decide(session, me.actor, r.id, text(form, "beneficiary_ref") or "",
                      text(form, "unit_ref") or "", kind,
                      room_ref=text(form, "room_ref"), note=text(form, "note"))

    return _act(request, form, session, me, ref, act)


@router.post("/rounds/{ref}/decisions/{decision_id}/undo")
def undo(request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str,
               decision_id: Id) -> Response:
    def act(r: Round, form: Any) -> None:
        rounds.undo_decision(session, me.actor, decision_of(session, r, decision_id).id or 0)

    return _act(request, form, session, me, ref, act)


@router.post("/rounds/{ref}/offers")
def send_offers(request: Request, form: FormDep,
                me: Writer, session: SessionDep, ref: str) -> Response:
    def act(r: Round, form: Any) -> None:
        assert r.id is not None
        rounds.send_offers(session, me.actor, r.id)

    return _act(request, form, session, me, ref, act)


@router.post("/rounds/{ref}/offers/{offer_id}/answer")
def answer(request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str,
                 offer_id: Id) -> Response:
    def act(r: Round, form: Any) -> None:
        rounds.record_answer(session, me.actor, offer_of(session, r, offer_id).id or 0,
                             text(form, "status") or "", text(form, "reason"))

    return _act(request, form, session, me, ref, act)


@router.post("/rounds/{ref}/cancel")
def cancel(request: Request, form: FormDep, me: Writer, session: SessionDep,
           ref: str) -> Response:
    def act(r: Round, form: Any) -> None:
        assert r.id is not None
        cancel_round(session, me.actor, r.id, text(form, "reason") or "")

    return _act(request, form, session, me, ref, act)


@router.post("/rounds/{ref}/close")
def close(request: Request, form: FormDep, me: Writer, session: SessionDep, engine: EngineDep,
                ref: str) -> Response:
    r = records.round_by_ref(session, ref, scope=me.scope)
    assert r.id is not None
    round_id = r.id
    session.rollback()
    try:
        rounds.close_round(engine, me.actor, round_id)
    except AGENCY_ERRORS as exc:
        r = records.round_by_ref(session, ref, scope=me.scope)
        return _round_page(request, session, me, r, str(exc), agency_problem(exc)[0])
    return redirect(f"/rounds/{ref}")


@router.get("/rounds/{ref}/export")
def export(me: Exporter, session: SessionDep, ref: str,
           format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv") -> Response:
    r = records.round_by_ref(session, ref, scope=me.scope)
    assert r.id is not None
    fmt: Literal["csv", "xlsx"] = "xlsx" if format == "xlsx" else "csv"
    data = imports.export_placements(session, r.id, fmt)
    record(session, me.actor, "round.export", "round", r.ref, detail={"format": fmt})
    media = ("text/csv; charset=utf-8" if fmt == "csv" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{r.ref}-placements.{fmt}"'})


@router.get("/map")
def map_page(request: Request, me: MapReader, session: SessionDep,
             round: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    """Puglia offline: municipalities, workplaces, units and a round's placements."""
    r = records.round_by_ref(session, round, scope=me.scope) if round else None
    if r is not None:
        record(session, me.actor, "round.map", "round", r.ref)
    svg = puglia_map(session, r, scope=me.scope, on=date.today())
    choices = records.list_rounds(session, scope=me.scope, limit=50).items
    return render(request, "map.html", {"svg": svg, "r": r, "rounds": choices})
