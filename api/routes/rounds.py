"""Allocation rounds: open, solve (a background job you poll), review the proposals and
the households left out with their reasons, lock and forbid, offers, answers, close,
and the placements' export."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from agency import accountability, jobs, records, rounds
from agency.audit import record
from agency.errors import RecordError
from agency.models import Beneficiary, Job, Offer, Round, RoundDecision
from api import permissions as perms
from api.deps import EngineDep, Principal, SessionDep, require
from api.errors import ApiError
from api.exports import export_response
from api.i18n import Translator
from api.job_handlers import SOLVE, actor_params
from api.models import (
    AnswerBody,
    CloseBody,
    CloseReportPublic,
    DecisionBody,
    DecisionPublic,
    JobPublic,
    OfferPublic,
    OffersBody,
    ProposalPublic,
    RoundOpen,
    RoundPublic,
    RoundSolvePublic,
    RoundSummary,
    UnplacedPublic,
)
from api.pagination import Id, Paged, PageDep
from api.routes.common import ERRORS, target_office
from api.settings import Settings

router = APIRouter(prefix="/rounds", tags=["rounds"], responses=ERRORS)

Reader = Annotated[Principal, require(perms.ROUNDS_READ)]
Writer = Annotated[Principal, require(perms.ROUNDS_WRITE)]
Exporter = Annotated[Principal, require(perms.EXPORTS_READ)]


# --------------------------------------------------------------------------- shared with pages


def round_public(session: Session, r: Round) -> RoundPublic:
    assert r.id is not None
    view = rounds.round_view(session, r.id)
    ids = {d.beneficiary_id for d in view.decisions} | {o.beneficiary_id for o in view.offers}
    refs = (
        {b.id: b.ref for b in session.exec(select(Beneficiary).where(col(Beneficiary.id).in_(ids)))}
        if ids
        else {}
    )
    return RoundPublic(
        round=RoundSummary.model_validate(r),
        result_status=view.result_status,
        weight=view.weight,
        bound=view.bound,
        contribution_cents=view.contribution_cents,
        commute_km=view.commute_km,
        proposals=[ProposalPublic.model_validate(p) for p in view.proposals],
        unplaced=[
            UnplacedPublic(
                beneficiary_ref=u.beneficiary_ref,
                persons=u.persons,
                reasons=list(u.reasons),
                texts=list(u.texts),
            )
            for u in view.unplaced
        ],
        decisions=[
            DecisionPublic(
                id=d.id or 0,
                beneficiary_ref=refs.get(d.beneficiary_id, ""),
                unit_ref=d.unit_ref,
                room_ref=d.room_ref,
                kind=str(d.kind),
                note=d.note,
            )
            for d in view.decisions
        ],
        offers=[
            OfferPublic(
                id=o.id or 0,
                proposal_id=o.proposal_id,
                beneficiary_ref=refs.get(o.beneficiary_id, ""),
                status=str(o.status),
                reason=o.reason,
                contribution_cents=o.contribution_cents,
                commute_km=o.commute_km,
                months=o.months,
                stay_from=o.stay_from,
                stay_to=o.stay_to,
                reply_by=o.reply_by,
            )
            for o in view.offers
        ],
    )


def start_solve(request: Request, engine: Engine, session: Session, me: Principal, r: Round) -> Job:
    """The round's solve job (a queued or running one is reused); refused at once if the
    round is not solvable or its office has too many solves waiting."""
    if r.status not in rounds.SOLVABLE:
        raise ApiError(409, f"round {r.ref} is {r.status}: it can no longer be solved")
    running = jobs.active_for(session, SOLVE, r.ref)
    if running is not None:
        return running
    settings: Settings = request.app.state.settings
    fair = f"office:{r.office_id}" if r.office_id is not None else "agency"
    if jobs.count_active(session, SOLVE, fair) >= settings.max_queued_solves_per_office:
        raise ApiError(429, "this office has too many solves waiting: wait for one to end")
    assert r.id is not None
    job = jobs.enqueue(
        session,
        SOLVE,
        r.ref,
        fair_key=fair,
        office_id=r.office_id,
        user_id=me.user_id,
        params={"round_id": r.id, **actor_params(me.actor)},
    )
    record(session, me.actor, "round.solve_start", "round", r.ref, detail={"job": job.ref})
    session.commit()
    request.app.state.workers.wake(SOLVE)
    return job


def solve_job(session: Session, r: Round, job_ref: str) -> Job:
    job = jobs.by_ref(session, job_ref)
    if job is None or job.kind != SOLVE or job.subject != r.ref:
        raise ApiError(404, f"no solve job {job_ref} for round {r.ref}")
    return job


def job_public(session: Session, job: Job) -> JobPublic:
    return JobPublic(**jobs.public(session, job))


def offer_of(session: Session, r: Round, offer_id: int) -> Offer:
    o = session.get(Offer, offer_id)
    if o is None or o.round_id != r.id:
        raise records.NotFoundError("offer", str(offer_id))
    return o


def decision_of(session: Session, r: Round, decision_id: int) -> RoundDecision:
    d = session.get(RoundDecision, decision_id)
    if d is None or d.round_id != r.id:
        raise records.NotFoundError("decision", str(decision_id))
    return d


def cap_time_limit(request: Request, seconds: float) -> None:
    """A round's time limit is at most the service's cap (a 422 naming ``time_limit_s``,
    for the API and the pages alike)."""
    cap = request.app.state.settings.max_solve_seconds
    if seconds > cap:
        raise RecordError("time_limit_s", f"at most {cap:g} s on the service")


def round_office(session: Session, me: Principal, office: str | None) -> int | None:
    """A caseworker's rounds are their office's; an admin's are agency-wide unless named."""
    if office or me.scope is not None:
        return target_office(session, me, office)
    return None


# --------------------------------------------------------------------------- routes


@router.get("")
def list_rounds(me: Reader, session: SessionDep, page: PageDep) -> Paged[RoundSummary]:
    got = records.list_rounds(session, scope=me.scope, limit=page.limit, offset=page.offset)
    return Paged[RoundSummary](
        items=[RoundSummary.model_validate(r) for r in got.items],
        total=got.total,
        limit=got.limit,
        offset=got.offset,
    )


@router.post("", status_code=201)
def open_round(
    me: Writer,
    session: SessionDep,
    body: RoundOpen,
    request: Request,
    office: Annotated[str | None, Query(max_length=32)] = None,
) -> RoundPublic:
    """Open a round: the waiting households, free units and fund balances, as of now.
    The time limit is at most the service's cap (``HOUSING_MAX_SOLVE_SECONDS``)."""
    cap_time_limit(request, body.time_limit_s)
    r = rounds.open_round(
        session,
        me.actor,
        name=body.name,
        office_id=round_office(session, me, office),
        policy=body.policy,
        on=body.on,
        time_limit_s=body.time_limit_s,
        seed=body.seed,
    )
    return round_public(session, r)


@router.get("/{ref}")
def get_round(me: Reader, session: SessionDep, ref: str) -> RoundPublic:
    """Proposals (unit, room, fund, contribution, commute, offer), households left out with
    their reasons, decisions and offers. Households appear by ref only."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    record(session, me.actor, "round.read", "round", r.ref)
    return round_public(session, r)


@router.get("/{ref}/solves")
def get_solves(me: Reader, session: SessionDep, ref: str) -> list[RoundSolvePublic]:
    """Every solve of the round, oldest first: the instance's SHA-256 and the pins and bans
    of that moment, the engine's version and parameters, each stage's status, a hash of
    the allocation, and the round's audit (groups; priority inversions, households by
    ref). ``housing round replay`` solves one again from it."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    assert r.id is not None
    record(session, me.actor, "round.read", "round", r.ref, detail={"solves": True})
    return [
        RoundSolvePublic.model_validate(s, from_attributes=True)
        for s in accountability.solves(session, r.id)
    ]


@router.post("/{ref}/solve", status_code=202)
def solve(
    me: Writer, session: SessionDep, engine: EngineDep, request: Request, ref: str
) -> JobPublic:
    """Start solving (or re-solving) in the background; poll the job it returns."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    return job_public(session, start_solve(request, engine, session, me, r))


@router.get("/{ref}/solve/{job}")
def solve_progress(
    me: Reader, session: SessionDep, request: Request, ref: str, job: str
) -> JobPublic:
    """The solve's state: queued (with its place in the queue), running (stage, incumbent,
    bound), done, failed, or interrupted (the server stopped: solve again)."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    return job_public(session, solve_job(session, r, job))


@router.post("/{ref}/decisions", status_code=201)
def decide(me: Writer, session: SessionDep, ref: str, body: DecisionBody) -> DecisionPublic:
    """Lock a (household, unit) pair for the next solves, or forbid it."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    assert r.id is not None
    d = rounds.decide(
        session,
        me.actor,
        r.id,
        body.beneficiary_ref,
        body.unit_ref,
        body.kind,
        room_ref=body.room_ref,
        note=body.note,
    )
    return DecisionPublic(
        id=d.id or 0,
        beneficiary_ref=body.beneficiary_ref,
        unit_ref=d.unit_ref,
        room_ref=d.room_ref,
        kind=str(d.kind),
        note=d.note,
    )


@router.delete("/{ref}/decisions/{decision_id}", status_code=204)
def undo(me: Writer, session: SessionDep, ref: str, decision_id: Id) -> None:
    r = records.round_by_ref(session, ref, scope=me.scope)
    rounds.undo_decision(session, me.actor, decision_of(session, r, decision_id).id or 0)


@router.post("/{ref}/offers", status_code=201)
def send_offers(
    me: Writer, session: SessionDep, ref: str, body: OffersBody | None = None
) -> list[OfferPublic]:
    """Offers for the current proposals (all, or those named)."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    assert r.id is not None
    sent = rounds.send_offers(session, me.actor, r.id, body.proposal_ids if body else None)
    refs = {
        b.id: b.ref
        for b in session.exec(
            select(Beneficiary).where(col(Beneficiary.id).in_([o.beneficiary_id for o in sent]))
        )
    }
    return [
        OfferPublic(
            id=o.id or 0,
            proposal_id=o.proposal_id,
            beneficiary_ref=refs.get(o.beneficiary_id, ""),
            status=str(o.status),
            reason=o.reason,
            contribution_cents=o.contribution_cents,
            commute_km=o.commute_km,
            months=o.months,
            stay_from=o.stay_from,
            stay_to=o.stay_to,
            reply_by=o.reply_by,
        )
        for o in sent
    ]


@router.post("/{ref}/offers/{offer_id}/answer")
def answer(
    me: Writer, session: SessionDep, ref: str, offer_id: Id, body: AnswerBody
) -> OfferPublic:
    """Record the household's (or landlord's) answer; refusals need a reason."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    o = rounds.record_answer(
        session, me.actor, offer_of(session, r, offer_id).id or 0, body.status, body.reason
    )
    b = session.get(Beneficiary, o.beneficiary_id)
    return OfferPublic(
        id=o.id or 0,
        proposal_id=o.proposal_id,
        beneficiary_ref=b.ref if b else "",
        status=str(o.status),
        reason=o.reason,
        contribution_cents=o.contribution_cents,
        commute_km=o.commute_km,
    )


@router.post("/{ref}/close")
def close(
    me: Writer, session: SessionDep, engine: EngineDep, ref: str, body: CloseBody | None = None
) -> CloseReportPublic:
    """Accepted offers become leases and their contributions commitments: all or nothing
    (409 with the conflicts if a unit was taken or a fund ran short meanwhile)."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    round_id = r.id
    assert round_id is not None
    # closing takes the write lock in its own transaction: end ours (and touch no row of
    # this session again, or it would begin anew)
    session.rollback()
    report = rounds.close_round(engine, me.actor, round_id, body.on if body else None)
    return CloseReportPublic(
        round_ref=report.round_ref,
        leases=report.leases,
        committed_cents=dict(report.committed_cents),
    )


@router.get(
    "/{ref}/export",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
def export(
    me: Exporter,
    session: SessionDep,
    ref: str,
    format: Literal["csv", "xlsx"] = "csv",
    lang: Literal["it", "en"] = "it",
) -> Response:
    """The round's households with their names (an audited read), placed and left out
    with their reasons, for Italian office software: CSV with ``;``, a decimal comma and a
    byte-order mark, or XLSX with numeric cells in euros; headers in ``lang``."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    record(session, me.actor, "round.export", "round", r.ref, detail={"format": format})
    return export_response(session, r, format, Translator(lang))
