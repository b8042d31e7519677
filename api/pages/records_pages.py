"""Lists, search and forms for beneficiaries and funds (units: :mod:`api.pages.units_pages`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from agency import ledger, records
from agency.models import Beneficiary, BeneficiaryStatus
from agency.records import RecordError
from agency.schemas import BeneficiaryCreate, FundCreate
from api import permissions as perms
from api.deps import Principal, SessionDep, page
from api.pages.common import (
    FormDep,
    FormError,
    cents,
    errors_of,
    flag,
    form_office,
    number,
    redirect,
    render,
    text,
    validate,
)

router = APIRouter()

PAGE = 25
Q = Annotated[str | None, Query(max_length=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]

BReader = Annotated[Principal, page(perms.BENEFICIARIES_READ)]
BWriter = Annotated[Principal, page(perms.BENEFICIARIES_WRITE)]
FReader = Annotated[Principal, page(perms.FUNDS_READ)]
FWriter = Annotated[Principal, page(perms.FUNDS_WRITE)]


# --------------------------------------------------------------------------- beneficiaries


BENEFICIARY_TEXT = ("given_name", "family_name", "birth_date", "nationality", "phone",
                    "gender", "workplace", "work_municipality", "informal_settlement",
                    "registered_on", "pai_tutor", "pai_started_on", "pai_next_review_on",
                    "pai_goals")
BENEFICIARY_FLAGS = ("needs_step_free", "accepts_dwelling", "accepts_bed", "health_needs")


def _beneficiary_data(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {k: text(form, k) for k in BENEFICIARY_TEXT}
    data.update({k: flag(form, k) for k in BENEFICIARY_FLAGS})
    data["adults"] = number(form, "adults")
    data["minors"] = number(form, "minors")
    data["income_cents"] = cents(form, "income_euros")
    data["max_commute_km"] = number(form, "max_commute_km")
    data["work_lat"], data["work_lon"] = number(form, "work_lat"), number(form, "work_lon")
    tags = [x.strip() for x in (text(form, "tags") or "").replace(";", ",").split(",")]
    data["tags"] = [x for x in tags if x]
    if flag(form, "exploitation_victim") and "exploitation_victim" not in data["tags"]:
        data["tags"].append("exploitation_victim")
    return data


def _beneficiary_values(b: Beneficiary | None, form: FormData | None) -> dict[str, Any]:
    if form is not None:
        return {k: v for k, v in form.items() if isinstance(v, str)} | {
            k: flag(form, k) for k in (*BENEFICIARY_FLAGS, "exploitation_victim")}
    if b is None:
        return {"adults": "1", "minors": "0", "max_commute_km": "25", "accepts_dwelling": True,
                "accepts_bed": True, "gender": "M"}
    out: dict[str, Any] = {k: ("" if getattr(b, k) is None else str(getattr(b, k)))
                           for k in BENEFICIARY_TEXT}
    out.update({k: getattr(b, k) for k in BENEFICIARY_FLAGS})
    out.update(adults=str(b.adults), minors=str(b.minors),
               income_euros=f"{b.income_cents / 100:.2f}",
               max_commute_km=str(b.max_commute_km), work_lat=str(b.work_lat),
               work_lon=str(b.work_lon),
               tags=", ".join(t for t in b.tags if t != "exploitation_victim"),
               exploitation_victim="exploitation_victim" in b.tags)
    return out


@router.get("/beneficiaries")
def beneficiaries(request: Request, me: BReader, session: SessionDep, q: Q = None,
                  status: Annotated[BeneficiaryStatus | None, Query()] = None,
                  offset: Offset = 0) -> Response:
    got = records.list_beneficiaries(session, me.actor, scope=me.scope, q=q, status=status,
                                     limit=PAGE, offset=offset)
    return render(request, "beneficiaries.html", {
        "page": got, "q": q or "", "status": status.value if status else "",
        "statuses": [s.value for s in BeneficiaryStatus]})


@router.get("/beneficiaries/new")
def new_beneficiary(request: Request, me: BWriter, session: SessionDep) -> Response:
    return render(request, "beneficiary_form.html", {
        "b": None, "values": _beneficiary_values(None, None), "errors": {},
        "offices": records.list_offices(session) if me.scope is None else []})


@router.post("/beneficiaries/new")
def create_beneficiary(request: Request, form: FormDep,
                       me: BWriter, session: SessionDep) -> Response:
    try:
        data = validate(BeneficiaryCreate, _beneficiary_data(form))
        b = records.create_beneficiary(session, me.actor, form_office(me, session, form), data)
    except (ValidationError, RecordError, FormError) as exc:
        return render(request, "beneficiary_form.html", {
            "b": None, "values": _beneficiary_values(None, form), "errors": errors_of(exc),
            "offices": records.list_offices(session) if me.scope is None else []}, 422)
    return redirect(f"/beneficiaries/{b.ref}")


@router.get("/beneficiaries/{ref}")
def beneficiary(request: Request, me: BReader, session: SessionDep, ref: str) -> Response:
    b = records.get_beneficiary(session, me.actor, ref, scope=me.scope)
    return render(request, "beneficiary.html", {
        "b": b, "members": records.household_members(session, b),
        "events": records.beneficiary_events(session, b),
        "moves": records.status_moves(b.status)})


@router.get("/beneficiaries/{ref}/edit")
def edit_beneficiary(request: Request, me: BWriter, session: SessionDep, ref: str) -> Response:
    b = records.get_beneficiary(session, me.actor, ref, scope=me.scope)
    return render(request, "beneficiary_form.html", {
        "b": b, "values": _beneficiary_values(b, None), "errors": {}, "offices": []})


@router.post("/beneficiaries/{ref}/edit")
def update_beneficiary(request: Request, form: FormDep, me: BWriter, session: SessionDep,
                             ref: str) -> Response:
    try:
        data = _beneficiary_data(form)
        b = records.update_beneficiary(session, me.actor, ref,
                                       {k: v for k, v in data.items()
                                        if v is not None or k in ("phone", "workplace")},
                                       scope=me.scope)
    except (RecordError, FormError) as exc:
        b = records.get_beneficiary(session, me.actor, ref, scope=me.scope)
        return render(request, "beneficiary_form.html", {
            "b": b, "values": _beneficiary_values(None, form), "errors": errors_of(exc),
            "offices": []}, 422)
    return redirect(f"/beneficiaries/{b.ref}")


@router.post("/beneficiaries/{ref}/status")
def beneficiary_status(request: Request, form: FormDep, me: BWriter, session: SessionDep,
                             ref: str) -> Response:
    records.change_beneficiary_status(session, me.actor, ref, text(form, "status") or "",
                                      text(form, "note"), scope=me.scope)
    return redirect(f"/beneficiaries/{ref}")


# --------------------------------------------------------------------------- funds


@router.get("/funds")
def funds(request: Request, me: FReader, session: SessionDep, q: Q = None,
          offset: Offset = 0) -> Response:
    got = records.list_funds(session, q=q, limit=PAGE, offset=offset)
    return render(request, "funds.html", {"page": got, "q": q or "",
                                          "balances": ledger.balances(session),
                                          "values": {}, "errors": {}})


@router.post("/funds/new")
def create_fund(request: Request, form: FormDep, me: FWriter, session: SessionDep) -> Response:
    try:
        tags = [x.strip() for x in (text(form, "eligible_tags") or "").split(",") if x.strip()]
        data = validate(FundCreate, {"code": text(form, "code"), "name": text(form, "name"),
                                     "eligible_tags": tags,
                                     "budget_cents": cents(form, "budget_euros") or 0})
        records.create_fund(session, me.actor, data)
    except (ValidationError, RecordError, FormError) as exc:
        got = records.list_funds(session, limit=PAGE)
        return render(request, "funds.html", {
            "page": got, "q": "", "balances": ledger.balances(session),
            "values": {k: v for k, v in form.items() if isinstance(v, str)},
            "errors": errors_of(exc)}, 422)
    return redirect("/funds")


@router.post("/funds/{code}/grant")
def grant_fund(request: Request, form: FormDep,
               me: FWriter, session: SessionDep, code: str) -> Response:
    try:
        amount = cents(form, "amount_euros")
    except FormError as exc:
        raise RecordError("amount_euros", exc.message) from None
    records.grant_fund(session, me.actor, code, amount or 0, text(form, "note"))
    return redirect("/funds")
