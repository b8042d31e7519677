"""The round page: open, solve with progress, review, lock/forbid, re-solve, offers,
answers, close; and the offline map of Puglia."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from agency import jobs, records, round_details, rounds
from agency.audit import record
from agency.mapping import is_occupant
from agency.models import (
    Beneficiary,
    DecisionKind,
    Dwelling,
    Offer,
    Office,
    Room,
    Round,
    SharedFlat,
)
from agency.records import RecordError
from agency.round_control import cancel_round
from agency.round_details import Home, Person
from agency.rounds import RoundConflict, RoundInputError, RoundStateError, UnplacedView
from agency.schemas import RoundPolicy
from api import permissions as perms
from api.deps import EngineDep, Principal, SessionDep, page
from api.errors import AGENCY_ERRORS, ApiError, agency_problem
from api.exports import export_response
from api.i18n import Translator
from api.job_handlers import SOLVE
from api.letters import LETTER_LANGS, LetterData, household_language, offer_letter
from api.models import JobPublic
from api.pages.common import (
    Form,
    FormDep,
    redirect,
    render,
    text,
    translator,
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
def rounds_list(
    request: Request,
    me: Reader,
    session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    got = records.list_rounds(session, scope=me.scope, limit=25, offset=offset)
    return render(request, "rounds.html", {"page": got})


ROUND_LABELS = {
    "name": "round.name",
    "office": "field.office",
    "time_limit_s": "round.time_limit_s",
    "seed": "round.seed",
    "affordability_ratio": "round.affordability_ratio",
    "max_contribution_euros": "round.max_contribution_euros",
    "contribution_months": "round.contribution_months",
    "horizon_start": "round.horizon_start",
    "horizon_months": "round.horizon_months",
    "walk_km": "round.walk_km",
    "transport_budget_euros": "round.transport_budget_euros",
    "_": "form.whole",
}


def _new_round_page(
    request: Request,
    session: Session,
    me: Principal,
    values: dict[str, Any],
    f: Form | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "round_new.html",
        {
            "values": values,
            "errors": f.errors if f else {},
            "summary": f.summary if f else [],
            "offices": records.list_offices(session) if me.scope is None else [],
        },
        status,
    )


@router.get("/rounds/new")
def new_round(request: Request, me: Writer, session: SessionDep) -> Response:
    t = translator(request)
    return _new_round_page(
        request,
        session,
        me,
        {
            "name": "",
            "time_limit_s": "30",
            "seed": "0",
            "affordability_ratio": t.decimal_input(Decimal("0.30"), 2),
            "max_contribution_euros": t.decimal_input(Decimal(300), 2),
            "contribution_months": "12",
            "horizon_start": "",
            "horizon_months": "12",
            "walk_km": t.decimal_input(Decimal("1.5"), 1),
            "transport_budget_euros": t.decimal_input(Decimal(0), 2),
        },
    )


@router.post("/rounds/new")
def open_round(request: Request, form: FormDep, me: Writer, session: SessionDep) -> Response:
    f = Form(
        form,
        translator(request),
        ROUND_LABELS,
        {
            "max_contribution_cents": "max_contribution_euros",
            "transport_budget_cents": "transport_budget_euros",
        },
        {"affordability_ratio": "round.affordability_hint"},
    )
    ratio = f.decimal("affordability_ratio")
    policy = f.check(
        RoundPolicy,
        {
            "affordability_ratio": None if ratio is None else str(ratio),
            "max_contribution_cents": f.cents("max_contribution_euros"),
            "contribution_months": f.number("contribution_months"),
            "horizon_start": f.text("horizon_start"),
            "horizon_months": f.number("horizon_months"),
            "walk_km": f.number("walk_km"),
            "transport_budget_cents": f.cents("transport_budget_euros"),
        },
    )
    limit = f.decimal("time_limit_s")
    seed = f.decimal("seed")
    name = f.text("name")
    if name is None:
        f.fail("name", "error.type.missing")
    if seed is not None and seed != seed.to_integral_value():
        f.fail("seed", "error.type.int_parsing")
    if not f.errors:
        try:
            cap_time_limit(request, float(limit or 30))
            with session.begin_nested():
                r = rounds.open_round(
                    session,
                    me.actor,
                    name=name or "",
                    office_id=round_office(session, me, f.text("office")),
                    policy=policy,
                    time_limit_s=float(limit or 30),
                    seed=int(seed or 0),
                )
        except (RecordError, RoundInputError) as exc:
            f.note(exc)
        except ValueError:
            f.fail("seed", "error.type.invalid")
        else:
            return redirect(f"/rounds/{r.ref}")
    return _new_round_page(request, session, me, f.values(), f, 422)


def evidence(
    t: Translator, u: UnplacedView, people: dict[str, Person], homes: dict[str, Home], months: int
) -> list[str]:
    """The facts behind a household's reasons, in plain words and euros."""
    d = u.details
    out: list[str] = []

    def home(ref: str) -> str:
        h = homes.get(ref)
        return f"{h.address}, {h.municipality}" if h else ref

    def who(ref: str) -> str:
        p = people.get(ref)
        return p.name if p else t("evidence.someone")

    if "max_commute_km" in d and "units_within_commute" in d:
        out.append(
            t("evidence.within_commute", n=d["units_within_commute"], km=t.km(d["max_commute_km"]))
        )
    if d.get("nearest_unit_km") is not None:
        out.append(t("evidence.nearest", km=t.km(d["nearest_unit_km"])))
    for code, n in (d.get("rejected_by") or {}).items():
        out.append(
            t(
                "evidence.rejected",
                n=n,
                reason=t(f"reason.{code}") if t.has(f"reason.{code}") else code,
            )
        )
    for item in d.get("taken") or []:
        holders = [
            f"{who(b)} ({t('evidence.weight', w=w)})"
            for b, w in zip(item.get("by", []), item.get("weights", []), strict=False)
        ]
        out.append(
            t(
                "evidence.taken",
                home=home(item["unit"]),
                by=", ".join(holders) or t("evidence.someone"),
                own=t("evidence.weight", w=d.get("weight", "?")),
            )
        )
    if "needed_cents" in d:
        left = ", ".join(
            f"{code} {t.money(c)}" for code, c in (d.get("funds_left_cents") or {}).items()
        )
        out.append(
            t(
                "evidence.funds",
                needed=t.money(d["needed_cents"]),
                months=months,
                left=left or t("evidence.no_fund"),
            )
        )
    if d.get("search") == "stopped early":
        out.append(t("evidence.stopped"))
    return out


def _round_page(
    request: Request,
    session: Session,
    me: Principal,
    r: Round,
    error: str | None = None,
    status: int = 200,
    job: str | None = None,
) -> Response:
    t = translator(request)
    view = round_public(session, r)
    assert r.id is not None
    full = rounds.round_view(session, r.id)
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
    interrupted = active_job if active_job and active_job["status"] == "interrupted" else None
    people = round_details.round_people(session, r)
    homes, rooms = round_details.round_homes(session, r)
    offers = {o.id: o for o in full.offers}
    return render(
        request,
        "round.html",
        {
            "r": r,
            "view": view,
            "error": error or last_failed,
            "decided": decided,
            "households": sum(
                1 for b in r.snapshot.get("beneficiaries", []) if not is_occupant(b["id"])
            ),
            "job": active_job
            if active_job and active_job["status"] in ("queued", "running")
            else None,
            "interrupted": interrupted,
            "answers": ANSWERS,
            "solvable": r.status in rounds.SOLVABLE,
            "can_offer": r.status in ("solved", "offers"),
            "can_close": r.status == "offers",
            "pending": sum(1 for o in view.offers if o.status == "pending"),
            "accepted": sum(1 for o in view.offers if o.status == "accepted"),
            "people": people,
            "homes": homes,
            "rooms": rooms,
            "evidence": {
                u.beneficiary_ref: evidence(
                    t, u, people, homes, int(r.policy.get("contribution_months", 12))
                )
                for u in full.unplaced
            },
            "changes": round_details.last_changes(session, r),
            "audit": round_details.audit_view(session, r, solvable=r.status in rounds.SOLVABLE),
            "offer_rows": offers,
            "overdue": {i for i, o in offers.items() if rounds.overdue(o)},
            "letter_lang": {
                ref: household_language(nat)
                for ref, nat in session.exec(
                    select(Beneficiary.ref, Beneficiary.nationality).where(
                        col(Beneficiary.ref).in_(list(people))
                    )
                ).all()
            },
            "letter_langs": LETTER_LANGS,
        },
        status,
    )


@router.get("/rounds/{ref}")
def round_page(
    request: Request,
    me: Reader,
    session: SessionDep,
    ref: str,
    job: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    r = records.round_by_ref(session, ref, scope=me.scope)
    return _round_page(request, session, me, r, job=job)


@router.post("/rounds/{ref}/solve")
def solve(
    request: Request, me: Writer, session: SessionDep, engine: EngineDep, ref: str
) -> Response:
    r = records.round_by_ref(session, ref, scope=me.scope)
    try:
        job = start_solve(request, engine, session, me, r)
    except ApiError as exc:
        return _round_page(request, session, me, r, exc.message, exc.status)
    return redirect(f"/rounds/{r.ref}?job={job.ref}")


@router.get("/rounds/{ref}/jobs/{job}.json")
def solve_progress(
    request: Request, me: Reader, session: SessionDep, ref: str, job: str
) -> JobPublic:
    r = records.round_by_ref(session, ref, scope=me.scope)
    return job_public(session, solve_job(session, r, job))


ROUND_ERRORS = {
    "status": "error.choose_answer",
    "reason": "error.answer_reason",
    "beneficiary_ref": "error.decision_household",
    "unit_ref": "error.decision_unit",
    "kind": "error.decision_kind",
}
"""The message of a round's refused input, by the field at fault."""


def round_error(t: Translator, r: Round, exc: Exception) -> str:
    """A round action's refusal in the page's language."""
    if isinstance(exc, RoundConflict):
        return t("error.close_conflict", conflicts="; ".join(exc.conflicts))
    if isinstance(exc, RoundInputError | RecordError) and exc.field in ROUND_ERRORS:
        return t(ROUND_ERRORS[exc.field])
    if isinstance(exc, RoundStateError):
        return t("error.round_state", status=t(f"round.status.{r.status}"))
    return t("error.generic")


def _act(
    request: Request, form: FormData, session: Session, me: Principal, ref: str, action: Any
) -> Response:
    """Run a round action from a form; on a refusal show the round with the reason."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    try:
        action(r, form)
    except AGENCY_ERRORS as exc:
        return _refused(request, session, me, ref, exc)
    return redirect(f"/rounds/{r.ref}")


def _refused(
    request: Request, session: Session, me: Principal, ref: str, exc: Exception
) -> Response:
    """The round's page again, with why the action was refused (nothing of it kept)."""
    session.rollback()
    r = records.round_by_ref(session, ref, scope=me.scope)
    return _round_page(
        request,
        session,
        me,
        r,
        round_error(translator(request), r, exc),
        agency_problem(exc)[0],
    )


@router.post("/rounds/{ref}/decide")
def decide(request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str) -> Response:
    def act(r: Round, form: Any) -> None:
        assert r.id is not None
        try:
            kind = DecisionKind(text(form, "kind") or "")
        except ValueError:
            raise RecordError("kind", "lock or forbid") from None
        rounds.decide(
            session,
            me.actor,
            r.id,
            text(form, "beneficiary_ref") or "",
            text(form, "unit_ref") or "",
            kind,
            room_ref=text(form, "room_ref"),
            note=text(form, "note"),
        )

    return _act(request, form, session, me, ref, act)


@router.post("/rounds/{ref}/swap")
def lock_swap(
    request: Request, form: FormDep, me: Writer, session: SessionDep, engine: EngineDep, ref: str
) -> Response:
    """An inversion's swap from the audit: the household locked into the unit (and room)
    the lower-priority holder has, then the round solved again."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    assert r.id is not None
    try:
        rounds.decide(
            session,
            me.actor,
            r.id,
            text(form, "beneficiary_ref") or "",
            text(form, "unit_ref") or "",
            DecisionKind.lock,
            room_ref=text(form, "room_ref"),
            note=text(form, "note"),
        )
    except AGENCY_ERRORS as exc:
        return _refused(request, session, me, ref, exc)
    try:
        job = start_solve(request, engine, session, me, r)
    except ApiError as exc:
        session.commit()  # the lock stands; the solve is for later
        return _round_page(request, session, me, r, exc.message, exc.status)
    return redirect(f"/rounds/{r.ref}?job={job.ref}")


@router.post("/rounds/{ref}/decisions/{decision_id}/undo")
def undo(
    request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str, decision_id: Id
) -> Response:
    def act(r: Round, form: Any) -> None:
        rounds.undo_decision(session, me.actor, decision_of(session, r, decision_id).id or 0)

    return _act(request, form, session, me, ref, act)


@router.post("/rounds/{ref}/offers")
def send_offers(
    request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str
) -> Response:
    def act(r: Round, form: Any) -> None:
        assert r.id is not None
        rounds.send_offers(session, me.actor, r.id)

    return _act(request, form, session, me, ref, act)


@router.post("/rounds/{ref}/offers/{offer_id}/answer")
def answer(
    request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str, offer_id: Id
) -> Response:
    def act(r: Round, form: Any) -> None:
        answer = text(form, "status")
        if answer is None:  # the select has no default: an answer is a choice
            raise RoundInputError("status", "choose the answer")
        rounds.record_answer(
            session, me.actor, offer_of(session, r, offer_id).id or 0, answer, text(form, "reason")
        )

    return _act(request, form, session, me, ref, act)


@router.post("/rounds/{ref}/cancel")
def cancel(request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str) -> Response:
    def act(r: Round, form: Any) -> None:
        assert r.id is not None
        cancel_round(session, me.actor, r.id, text(form, "reason") or "")

    return _act(request, form, session, me, ref, act)


@router.get("/rounds/{ref}/close")
def close_confirm(request: Request, me: Writer, session: SessionDep, ref: str) -> Response:
    """What closing will do, to confirm: leases, euros per fund, who is left out, offers
    still unanswered."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    record(session, me.actor, "round.read", "round", r.ref)
    preview = round_details.close_preview(session, r)
    people = round_details.round_people(session, r)
    homes, _rooms = round_details.round_homes(session, r)
    refs = dict(
        session.exec(
            select(Beneficiary.id, Beneficiary.ref).where(
                col(Beneficiary.id).in_(
                    [o.beneficiary_id for o in [*preview.leases, *preview.pending]]
                )
            )
        ).all()
    )
    units = {**dict(session.exec(select(Dwelling.id, Dwelling.ref)).all())}
    flats = dict(session.exec(select(SharedFlat.id, SharedFlat.ref)).all())
    return render(
        request,
        "round_close.html",
        {
            "r": r,
            "p": preview,
            "people": people,
            "homes": homes,
            "refs": refs,
            "unit_of": lambda o: (
                units.get(o.dwelling_id) if o.dwelling_id else flats.get(o.flat_id)
            ),
            "closable": r.status in ("solved", "offers") and not preview.pending,
        },
    )


@router.post("/rounds/{ref}/close")
def close(
    request: Request, form: FormDep, me: Writer, session: SessionDep, engine: EngineDep, ref: str
) -> Response:
    r = records.round_by_ref(session, ref, scope=me.scope)
    if text(form, "confirm") != "yes":  # closing is irreversible: confirm on its page
        return redirect(f"/rounds/{r.ref}/close")
    assert r.id is not None
    round_id = r.id
    session.rollback()
    try:
        rounds.close_round(engine, me.actor, round_id)
    except AGENCY_ERRORS as exc:
        r = records.round_by_ref(session, ref, scope=me.scope)
        return _round_page(
            request,
            session,
            me,
            r,
            round_error(translator(request), r, exc),
            agency_problem(exc)[0],
        )
    return redirect(f"/rounds/{ref}")


@router.get("/rounds/{ref}/offers/{offer_id}/letter.pdf")
def letter(
    request: Request,
    me: Exporter,
    session: SessionDep,
    ref: str,
    offer_id: Id,
    lang: Annotated[str, Query(pattern="^(it|en|fr|ar)$")] = "it",
) -> Response:
    """The offer's letter (PDF): in Italian, and in ``lang`` too."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    o = offer_of(session, r, offer_id)
    data = offer_letter_data(session, r, o, me)
    record(session, me.actor, "offer.letter", "round", r.ref, detail={"offer": o.id, "lang": lang})
    return Response(
        offer_letter(data, lang),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="offer-{o.id}-{lang}.pdf"'},
    )


def offer_letter_data(session: Session, r: Round, o: Offer, me: Principal) -> LetterData:
    """What the letter of offer ``o`` says."""
    b = session.get(Beneficiary, o.beneficiary_id)
    assert b is not None and o.id is not None
    unit: Dwelling | SharedFlat | None = (
        session.get(Dwelling, o.dwelling_id)
        if o.dwelling_id
        else session.get(SharedFlat, o.flat_id)
    )
    assert unit is not None
    rent = unit.rent_cents if isinstance(unit, Dwelling) else unit.rent_per_bed_cents
    _, rooms = round_details.homes(session, [unit.ref])
    room = session.get(Room, o.room_id) if o.room_id else None
    today = date.today()
    reply_by = o.reply_by or today + timedelta(days=rounds.REPLY_DAYS)
    move_in = max(reply_by + timedelta(days=1), unit.available_from or today)
    office = session.get(Office, b.office_id)
    contact = ", ".join(
        x for x in (b.pai_tutor, me.full_name, f"{office.name}" if office else None) if x
    )
    return LetterData(
        offer=o.id,
        round_ref=r.ref,
        name=f"{b.given_name} {b.family_name}",
        kind="dwelling" if o.dwelling_id else "bed",
        address=unit.address,
        town=records.municipality_name(unit.municipality),
        room=rooms.get(room.ref) if room else None,
        rent_cents=rent,
        contribution_cents=o.contribution_cents,
        months=o.months if o.months is not None else int(r.policy.get("contribution_months", 12)),
        move_in=move_in,
        reply_by=reply_by,
        contact=contact,
        today=today,
    )


@router.get("/rounds/{ref}/export")
def export(
    request: Request,
    me: Exporter,
    session: SessionDep,
    ref: str,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
) -> Response:
    r = records.round_by_ref(session, ref, scope=me.scope)
    fmt: Literal["csv", "xlsx"] = "xlsx" if format == "xlsx" else "csv"
    record(session, me.actor, "round.export", "round", r.ref, detail={"format": fmt})
    return export_response(session, r, fmt, translator(request))


@router.get("/map")
def map_page(
    request: Request,
    me: MapReader,
    session: SessionDep,
    round: Annotated[str | None, Query(max_length=16)] = None,
    line: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """Puglia offline: municipalities, workplaces, units, the shuttle lines and their stops
    (``line`` highlighted), and a round's placements."""
    r = records.round_by_ref(session, round, scope=me.scope) if round else None
    if r is not None:
        record(session, me.actor, "round.map", "round", r.ref)
    svg = puglia_map(session, r, scope=me.scope, on=date.today(), line=line)
    choices = records.list_rounds(session, scope=me.scope, limit=50).items
    return render(request, "map.html", {"svg": svg, "r": r, "rounds": choices})
