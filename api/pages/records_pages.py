"""Lists, search and forms for beneficiaries, dwellings, shared flats and funds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from agency import ledger, records
from agency.models import Beneficiary, BeneficiaryStatus, Dwelling, SharedFlat, UnitStatus
from agency.records import RecordError
from agency.schemas import BeneficiaryCreate, DwellingCreate, FundCreate, SharedFlatCreate
from api import permissions as perms
from api.deps import Principal, SessionDep, page
from api.pages.common import (
    FormDep,
    FormError,
    cents,
    errors_of,
    flag,
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
UReader = Annotated[Principal, page(perms.UNITS_READ)]
UWriter = Annotated[Principal, page(perms.UNITS_WRITE)]
FReader = Annotated[Principal, page(perms.FUNDS_READ)]
FWriter = Annotated[Principal, page(perms.FUNDS_WRITE)]


def _office(me: Principal, session: Session, form: FormData) -> int:
    code = text(form, "office")
    if code and me.scope is None:
        office = records.office_by_code(session, code)
        assert office.id is not None
        return office.id
    if me.office_id is None:
        offices = records.list_offices(session)
        if len(offices) == 1 and offices[0].id is not None:
            return offices[0].id
        raise RecordError("office", "choose the office")
    return me.office_id


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
        b = records.create_beneficiary(session, me.actor, _office(me, session, form), data)
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


# --------------------------------------------------------------------------- dwellings

DWELLING_TEXT = ("address", "municipality", "available_from", "landlord_ref")


def _dwelling_data(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {k: text(form, k) for k in DWELLING_TEXT}
    data.update(area_m2=number(form, "area_m2"), bedrooms=number(form, "bedrooms"),
                rent_cents=cents(form, "rent_euros"), lat=number(form, "lat"),
                lon=number(form, "lon"), max_occupants=number(form, "max_occupants"),
                step_free=flag(form, "step_free"), children_ok=flag(form, "children_ok"))
    return data


def _dwelling_values(d: Dwelling | None, form: FormData | None,
                     session: Session | None = None) -> dict[str, Any]:
    if form is not None:
        return {k: v for k, v in form.items() if isinstance(v, str)} | {
            k: flag(form, k) for k in ("step_free", "children_ok")}
    if d is None:
        return {"children_ok": True, "bedrooms": "1"}
    return {"address": d.address, "municipality": records.municipality_name(d.municipality),
            "available_from": str(d.available_from or ""),
            "landlord_ref": (records.landlord_ref_of(session, d.landlord_id) or "")
            if session else "",
            "area_m2": str(d.area_m2), "bedrooms": str(d.bedrooms),
            "rent_euros": f"{d.rent_cents / 100:.2f}", "lat": str(d.lat), "lon": str(d.lon),
            "max_occupants": str(d.max_occupants or ""), "step_free": d.step_free,
            "children_ok": d.children_ok}


@router.get("/dwellings")
def dwellings(request: Request, me: UReader, session: SessionDep, q: Q = None,
              status: Annotated[UnitStatus | None, Query()] = None,
              offset: Offset = 0) -> Response:
    got = records.list_dwellings(session, me.actor, scope=me.scope, q=q, status=status,
                                 limit=PAGE, offset=offset)
    return render(request, "dwellings.html", {
        "page": got, "q": q or "", "status": status.value if status else "",
        "statuses": [s.value for s in UnitStatus]})


@router.get("/dwellings/new")
def new_dwelling(request: Request, me: UWriter, session: SessionDep) -> Response:
    return render(request, "dwelling_form.html", {
        "d": None, "values": _dwelling_values(None, None), "errors": {},
        "offices": records.list_offices(session) if me.scope is None else []})


@router.post("/dwellings/new")
def create_dwelling(request: Request, form: FormDep, me: UWriter, session: SessionDep) -> Response:
    try:
        data = validate(DwellingCreate, _dwelling_data(form))
        records.create_dwelling(session, me.actor, _office(me, session, form), data)
    except (ValidationError, RecordError, FormError) as exc:
        return render(request, "dwelling_form.html", {
            "d": None, "values": _dwelling_values(None, form), "errors": errors_of(exc),
            "offices": records.list_offices(session) if me.scope is None else []}, 422)
    return redirect("/dwellings")


@router.get("/dwellings/{ref}/edit")
def edit_dwelling(request: Request, me: UWriter, session: SessionDep, ref: str) -> Response:
    d = records.get_dwelling(session, me.actor, ref, scope=me.scope)
    return render(request, "dwelling_form.html", {
        "d": d, "values": _dwelling_values(d, None, session), "errors": {}, "offices": []})


@router.post("/dwellings/{ref}/edit")
def update_dwelling(request: Request, form: FormDep, me: UWriter, session: SessionDep,
                          ref: str) -> Response:
    try:
        data = _dwelling_data(form)
        records.update_dwelling(session, me.actor, ref,
                                {k: v for k, v in data.items()
                                 if v is not None or k in ("max_occupants", "landlord_ref",
                                                           "available_from")},
                                scope=me.scope)
    except (RecordError, FormError) as exc:
        d = records.get_dwelling(session, me.actor, ref, scope=me.scope)
        return render(request, "dwelling_form.html", {
            "d": d, "values": _dwelling_values(None, form), "errors": errors_of(exc),
            "offices": []}, 422)
    return redirect("/dwellings")


@router.post("/dwellings/{ref}/status")
def dwelling_status(request: Request, form: FormDep, me: UWriter, session: SessionDep,
                          ref: str) -> Response:
    records.set_dwelling_status(session, me.actor, ref, text(form, "status") or "",
                                scope=me.scope)
    return redirect("/dwellings")


# --------------------------------------------------------------------------- shared flats


def _flat_data(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {k: text(form, k) for k in ("address", "municipality",
                                                       "available_from", "landlord_ref")}
    data.update(rent_per_bed_cents=cents(form, "rent_euros"), lat=number(form, "lat"),
                lon=number(form, "lon"), step_free=flag(form, "step_free"))
    beds = [x.strip() for x in (text(form, "rooms") or "").replace(";", ",").split(",")]
    try:
        data["rooms"] = [{"beds": int(x)} for x in beds if x]
    except ValueError:
        raise FormError("rooms", "beds per room, as numbers separated by commas") from None
    return data


def _flat_values(f: SharedFlat | None, form: FormData | None,
                 session: Session | None = None) -> dict[str, Any]:
    if form is not None:
        return {k: v for k, v in form.items() if isinstance(v, str)} | {
            "step_free": flag(form, "step_free")}
    if f is None or session is None:
        return {"rooms": "2, 2"}
    return {"address": f.address, "municipality": records.municipality_name(f.municipality),
            "available_from": str(f.available_from or ""),
            "landlord_ref": records.landlord_ref_of(session, f.landlord_id) or "",
            "rent_euros": f"{f.rent_per_bed_cents / 100:.2f}", "lat": str(f.lat),
            "lon": str(f.lon), "step_free": f.step_free,
            "rooms": ", ".join(str(r.beds) for r in records.rooms_of(session, f))}


@router.get("/flats")
def flats(request: Request, me: UReader, session: SessionDep, q: Q = None,
          offset: Offset = 0) -> Response:
    got = records.list_shared_flats(session, me.actor, scope=me.scope, q=q, limit=PAGE,
                                    offset=offset)
    rooms = {f.id: records.rooms_of(session, f) for f in got.items}
    return render(request, "flats.html", {"page": got, "q": q or "", "rooms": rooms})


@router.get("/flats/new")
def new_flat(request: Request, me: UWriter, session: SessionDep) -> Response:
    return render(request, "flat_form.html", {
        "f": None, "values": _flat_values(None, None), "errors": {},
        "offices": records.list_offices(session) if me.scope is None else []})


@router.post("/flats/new")
def create_flat(request: Request, form: FormDep, me: UWriter, session: SessionDep) -> Response:
    try:
        data = validate(SharedFlatCreate, _flat_data(form))
        records.create_shared_flat(session, me.actor, _office(me, session, form), data)
    except (ValidationError, RecordError, FormError) as exc:
        return render(request, "flat_form.html", {
            "f": None, "values": _flat_values(None, form), "errors": errors_of(exc),
            "offices": records.list_offices(session) if me.scope is None else []}, 422)
    return redirect("/flats")


@router.get("/flats/{ref}/edit")
def edit_flat(request: Request, me: UWriter, session: SessionDep, ref: str) -> Response:
    f = records.get_shared_flat(session, me.actor, ref, scope=me.scope)
    return render(request, "flat_form.html", {
        "f": f, "values": _flat_values(f, None, session), "errors": {}, "offices": []})


@router.post("/flats/{ref}/edit")
def update_flat(request: Request, form: FormDep, me: UWriter, session: SessionDep,
                      ref: str) -> Response:
    try:
        data = _flat_data(form)
        data.pop("rooms", None)
        records.update_shared_flat(session, me.actor, ref,
                                   {k: v for k, v in data.items()
                                    if v is not None or k in ("landlord_ref",
                                                              "available_from")},
                                   scope=me.scope)
    except (RecordError, FormError) as exc:
        f = records.get_shared_flat(session, me.actor, ref, scope=me.scope)
        return render(request, "flat_form.html", {
            "f": f, "values": _flat_values(None, form), "errors": errors_of(exc),
            "offices": []}, 422)
    return redirect("/flats")


@router.post("/flats/{ref}/status")
def flat_status(request: Request, form: FormDep, me: UWriter, session: SessionDep,
                      ref: str) -> Response:
    records.set_shared_flat_status(session, me.actor, ref, text(form, "status") or "",
                                   scope=me.scope)
    return redirect("/flats")


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
