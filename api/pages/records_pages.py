"""Lists, search and forms for beneficiaries and funds (units: :mod:`api.pages.units_pages`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from agency import ledger, protected, records, round_details
from agency.models import Beneficiary, BeneficiaryStatus
from agency.records import RecordError
from agency.schemas import BeneficiaryCreate, FundCreate
from api import permissions as perms
from api.deps import Principal, SessionDep, page
from api.i18n import Translator
from api.pages.common import (
    Form,
    FormDep,
    form_office,
    iso,
    redirect,
    render,
    text,
    translator,
)

router = APIRouter()

PAGE = 25
Q = Annotated[str | None, Query(max_length=100)]
AnyStatus = Annotated[str | None, Query(max_length=16, description="empty: any status")]
"""A list's status filter as the search form sends it: empty means any."""
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]

BReader = Annotated[Principal, page(perms.BENEFICIARIES_READ)]
BWriter = Annotated[Principal, page(perms.BENEFICIARIES_WRITE)]
FReader = Annotated[Principal, page(perms.FUNDS_READ)]
FWriter = Annotated[Principal, page(perms.FUNDS_WRITE)]


# --------------------------------------------------------------------------- beneficiaries


BENEFICIARY_TEXT = (
    "given_name",
    "family_name",
    "nationality",
    "phone",
    "gender",
    "workplace",
    "season_from",
    "season_to",
    "informal_settlement",
    "pai_tutor",
    "pai_goals",
)
CLEARABLE = ("phone", "workplace", "season_from", "season_to")
"""Fields an edit may empty."""
BENEFICIARY_DATES = ("birth_date", "registered_on", "pai_started_on", "pai_next_review_on")
BENEFICIARY_FLAGS = ("needs_step_free", "accepts_dwelling", "accepts_bed", "health_needs")
BENEFICIARY_LABELS = {
    "office": "field.office",
    "given_name": "beneficiary.given_name",
    "family_name": "beneficiary.family_name",
    "birth_date": "beneficiary.birth_date",
    "nationality": "beneficiary.nationality",
    "phone": "beneficiary.phone",
    "gender": "beneficiary.gender",
    "adults": "beneficiary.adults",
    "minors": "beneficiary.minors",
    "income_euros": "beneficiary.income_euros",
    "informal_settlement": "beneficiary.informal_settlement",
    "tags": "beneficiary.other_tags",
    "workplace": "beneficiary.workplace",
    "work_municipality": "beneficiary.work_municipality",
    "work_lat": "field.lat",
    "work_lon": "field.lon",
    "max_commute_km": "beneficiary.max_commute_km",
    "season_from": "beneficiary.season_from",
    "season_to": "beneficiary.season_to",
    "accepts_dwelling": "beneficiary.accepts",
    "pai_tutor": "beneficiary.pai_tutor",
    "pai_started_on": "beneficiary.pai_started_on",
    "pai_next_review_on": "beneficiary.pai_next_review_on",
    "pai_goals": "beneficiary.pai_goals",
    "registered_on": "beneficiary.registered_on",
    "_": "form.whole",
}
"""Each field of the household's form and its label (in the form's order)."""
BENEFICIARY_ALIASES = {"income_cents": "income_euros", "accepts_bed": "accepts_dwelling"}
BENEFICIARY_HINTS = {"nationality": "beneficiary.nationality_hint", "tags": "beneficiary.tags_hint"}


def _beneficiary_form(request: Request, form: FormData) -> Form:
    return Form(
        form, translator(request), BENEFICIARY_LABELS, BENEFICIARY_ALIASES, BENEFICIARY_HINTS
    )


def _beneficiary_data(f: Form) -> dict[str, Any]:
    data: dict[str, Any] = {k: f.text(k) for k in BENEFICIARY_TEXT}
    if data["nationality"]:
        data["nationality"] = data["nationality"].upper()
    data.update({k: f.date(k) for k in BENEFICIARY_DATES})
    data.update({k: f.flag(k) for k in BENEFICIARY_FLAGS})
    data["work_municipality"] = f.place("work_municipality")
    data["adults"] = f.number("adults")
    data["minors"] = f.number("minors")
    data["income_cents"] = f.cents("income_euros")
    data["max_commute_km"] = f.number("max_commute_km")
    data["work_lat"], data["work_lon"] = f.number("work_lat"), f.number("work_lon")
    tags = [x.strip() for x in (f.text("tags") or "").replace(";", ",").split(",")]
    data["tags"] = [x for x in tags if x]
    if f.flag("exploitation_victim") and "exploitation_victim" not in data["tags"]:
        data["tags"].append("exploitation_victim")
    return data


def _beneficiary_values(t: Translator, b: Beneficiary | None) -> dict[str, Any]:
    if b is None:
        return {
            "adults": "1",
            "minors": "0",
            "max_commute_km": "25",
            "accepts_dwelling": True,
            "accepts_bed": True,
            "gender": "",
        }
    out: dict[str, Any] = {
        k: ("" if getattr(b, k) is None else str(getattr(b, k))) for k in BENEFICIARY_TEXT
    }
    out.update({k: t.date_input(getattr(b, k)) for k in BENEFICIARY_DATES})
    out.update({k: getattr(b, k) for k in BENEFICIARY_FLAGS})
    out.update(
        adults=str(b.adults),
        minors=str(b.minors),
        work_municipality=records.municipality_name(b.work_municipality),
        income_euros=t.decimal_input(Decimal(b.income_cents) / 100, 2),
        max_commute_km=t.decimal_input(b.max_commute_km),
        work_lat=t.decimal_input(b.work_lat),
        work_lon=t.decimal_input(b.work_lon),
        tags=", ".join(x for x in b.tags if x != "exploitation_victim"),
        exploitation_victim="exploitation_victim" in b.tags,
    )
    return out


def _posted_values(f: Form) -> dict[str, Any]:
    return f.values() | {k: f.flag(k) for k in (*BENEFICIARY_FLAGS, "exploitation_victim")}


@router.get("/beneficiaries")
def beneficiaries(
    request: Request,
    me: BReader,
    session: SessionDep,
    q: Q = None,
    status: AnyStatus = None,
    offset: Offset = 0,
) -> Response:
    chosen = status if status in {s.value for s in BeneficiaryStatus} else ""
    got = records.list_beneficiaries(
        session,
        me.actor,
        scope=me.scope,
        q=q or None,
        status=chosen or None,
        limit=PAGE,
        offset=offset,
    )
    return render(
        request,
        "beneficiaries.html",
        {
            "page": got,
            "q": q or "",
            "status": chosen,
            "statuses": [s.value for s in BeneficiaryStatus],
        },
    )


def _form_page(
    request: Request,
    session: Session,
    me: Principal,
    b: Beneficiary | None,
    values: dict[str, Any],
    f: Form | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "beneficiary_form.html",
        {
            "b": b,
            "values": values,
            "errors": f.errors if f else {},
            "summary": f.summary if f else [],
            "offices": records.list_offices(session) if me.scope is None and b is None else [],
        },
        status,
    )


@router.get("/beneficiaries/new")
def new_beneficiary(request: Request, me: BWriter, session: SessionDep) -> Response:
    return _form_page(request, session, me, None, _beneficiary_values(translator(request), None))


@router.post("/beneficiaries/new")
def create_beneficiary(
    request: Request, form: FormDep, me: BWriter, session: SessionDep
) -> Response:
    f = _beneficiary_form(request, form)
    data = f.check(BeneficiaryCreate, _beneficiary_data(f))
    if data is not None:
        try:
            b = records.create_beneficiary(session, me.actor, form_office(me, session, form), data)
        except RecordError as exc:
            session.rollback()
            f.note(exc)
        else:
            return redirect(f"/beneficiaries/{b.ref}")
    return _form_page(request, session, me, None, _posted_values(f), f, 422)


def _beneficiary_page(
    request: Request, session: Session, b: Beneficiary, error: str | None = None, status: int = 200
) -> Response:
    me: Principal | None = getattr(request.state, "principal", None)
    own = me is not None and me.scope == b.office_id
    return render(
        request,
        "beneficiary.html",
        {
            "b": b,
            # its victim tags and their priority lines only for its own office
            "tags": b.tags if own else protected.public_tags(b.tags),
            "breakdown": b.priority_breakdown
            if own
            else protected.public_breakdown(b.priority_breakdown),
            "members": records.household_members(session, b),
            "events": records.beneficiary_events(session, b),
            "moves": records.status_moves(b.status),
            "error": error,
            "history": round_details.household_rounds(session, b),
        },
        status,
    )


@router.get("/beneficiaries/{ref}")
def beneficiary(request: Request, me: BReader, session: SessionDep, ref: str) -> Response:
    b = records.get_beneficiary(session, me.actor, ref, scope=me.scope)
    return _beneficiary_page(request, session, b)


@router.get("/beneficiaries/{ref}/edit")
def edit_beneficiary(request: Request, me: BWriter, session: SessionDep, ref: str) -> Response:
    b = records.get_beneficiary(session, me.actor, ref, scope=me.scope)
    return _form_page(request, session, me, b, _beneficiary_values(translator(request), b))


@router.post("/beneficiaries/{ref}/edit")
def update_beneficiary(
    request: Request, form: FormDep, me: BWriter, session: SessionDep, ref: str
) -> Response:
    f = _beneficiary_form(request, form)
    data = _beneficiary_data(f)
    b = records.get_beneficiary(session, me.actor, ref, scope=me.scope)
    f.check(
        BeneficiaryCreate, {**data, "registered_on": data["registered_on"] or iso(b.registered_on)}
    )
    if not f.errors:
        try:
            with session.begin_nested():
                b = records.update_beneficiary(
                    session,
                    me.actor,
                    ref,
                    {k: v for k, v in data.items() if v is not None or k in CLEARABLE},
                    scope=me.scope,
                )
        except (RecordError, ValidationError) as exc:
            f.note(exc)
        else:
            return redirect(f"/beneficiaries/{b.ref}")
    return _form_page(request, session, me, b, _posted_values(f), f, 422)


@router.post("/beneficiaries/{ref}/status")
def beneficiary_status(
    request: Request, form: FormDep, me: BWriter, session: SessionDep, ref: str
) -> Response:
    """Move the case to another status: a deliberate choice (the select has no default),
    with its reason."""
    status = text(form, "status")
    if status is None:
        b = records.get_beneficiary(session, me.actor, ref, scope=me.scope)
        return _beneficiary_page(
            request, session, b, translator(request)("error.choose_status"), 422
        )
    records.change_beneficiary_status(
        session, me.actor, ref, status, text(form, "note"), scope=me.scope
    )
    return redirect(f"/beneficiaries/{ref}")


@router.post("/beneficiaries/{ref}/note")
def beneficiary_note(
    request: Request, form: FormDep, me: BWriter, session: SessionDep, ref: str
) -> Response:
    """A note in the case's history: its own action, which never changes the status."""
    note = text(form, "note")
    if note is None:
        b = records.get_beneficiary(session, me.actor, ref, scope=me.scope)
        return _beneficiary_page(request, session, b, translator(request)("error.empty_note"), 422)
    records.add_note(session, me.actor, ref, note, scope=me.scope)
    return redirect(f"/beneficiaries/{ref}")


# --------------------------------------------------------------------------- funds


FUND_LABELS = {
    "code": "fund.code",
    "name": "fund.name",
    "eligible_tags": "fund.eligible_tags",
    "budget_euros": "fund.budget_euros",
    "amount_euros": "fund.amount_euros",
    "_": "form.whole",
}
FUND_ALIASES = {"budget_cents": "budget_euros"}
FUND_HINTS = {"code": "fund.code_hint", "eligible_tags": "fund.tags_hint"}


def _funds_page(
    request: Request,
    session: Session,
    q: str | None,
    offset: int,
    f: Form | None = None,
    status: int = 200,
) -> Response:
    got = records.list_funds(session, q=q or None, limit=PAGE, offset=offset)
    return render(
        request,
        "funds.html",
        {
            "page": got,
            "q": q or "",
            "balances": ledger.balances(session),
            "values": f.values() if f else {},
            "errors": f.errors if f else {},
            "summary": f.summary if f else [],
        },
        status,
    )


@router.get("/funds")
def funds(
    request: Request, me: FReader, session: SessionDep, q: Q = None, offset: Offset = 0
) -> Response:
    return _funds_page(request, session, q, offset)


@router.post("/funds/new")
def create_fund(request: Request, form: FormDep, me: FWriter, session: SessionDep) -> Response:
    f = Form(form, translator(request), FUND_LABELS, FUND_ALIASES, FUND_HINTS)
    tags = [x.strip() for x in (f.text("eligible_tags") or "").split(",") if x.strip()]
    data = f.check(
        FundCreate,
        {
            "code": f.text("code"),
            "name": f.text("name"),
            "eligible_tags": tags,
            "budget_cents": f.cents("budget_euros") or 0,
        },
    )
    if data is not None:
        try:
            records.create_fund(session, me.actor, data)
        except RecordError as exc:
            session.rollback()
            f.note(exc)
        else:
            return redirect("/funds")
    return _funds_page(request, session, None, 0, f, 422)


@router.post("/funds/{code}/grant")
def grant_fund(
    request: Request, form: FormDep, me: FWriter, session: SessionDep, code: str
) -> Response:
    f = Form(form, translator(request), FUND_LABELS)
    amount = f.cents("amount_euros")
    if amount is None and not f.errors:
        f.fail("amount_euros", "error.type.missing")
    if f.errors:
        return _funds_page(request, session, None, 0, f, 422)
    records.grant_fund(session, me.actor, code, amount or 0, text(form, "note"))
    return redirect("/funds")
