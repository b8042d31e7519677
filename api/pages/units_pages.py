"""The pages of dwellings and shared flats: a list with search and status, a form to add
one, a form to change it, and a button to withdraw it or offer it again. One factory,
:func:`unit_pages`, makes them for either kind from a :class:`UnitForm`: where it lives,
its templates, and the fields of its own on the form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from agency import records
from agency.models import Dwelling, SharedFlat, UnitStatus
from agency.records import DWELLINGS, FLATS, Page, RecordError, Units
from agency.records.units import C, U
from agency.schemas import DwellingCreate, SharedFlatCreate
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

PAGE = 25
Q = Annotated[str | None, Query(max_length=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
Reader = Annotated[Principal, page(perms.UNITS_READ)]
Writer = Annotated[Principal, page(perms.UNITS_WRITE)]

PLACE_TEXT = ("address", "municipality", "available_from", "landlord_ref")
CLEARABLE = ("landlord_ref", "available_from")
"""Fields an edit may empty (any other empty field is left as it was)."""


@dataclass(frozen=True)
class UnitForm(Generic[U, C]):
    """What the pages need to know of a kind of unit."""

    units: Units[U, C]
    path: str
    """Where its pages are (``/dwellings``)."""
    list_template: str
    form_template: str
    create: type[C]
    read: Callable[[FormData], dict[str, Any]]
    """The kind's own fields, read from a posted form."""
    show: Callable[[Session, U], dict[str, Any]]
    """The kind's own fields of a stored unit, as the form shows them."""
    blank: dict[str, Any]
    """The form's values for a new unit."""
    flags: tuple[str, ...] = ("step_free",)
    """Its checkboxes."""
    clearable: tuple[str, ...] = ()
    listed: Callable[[Session, Page[U]], dict[str, Any]] = field(default=lambda _s, _p: {})
    """What the list shows besides the units (a flat's rooms)."""


def unit_pages(kind: UnitForm[U, C]) -> APIRouter:
    """The pages of one kind of unit, under ``kind.path``."""
    router = APIRouter()
    path, units = kind.path, kind.units

    def data(form: FormData) -> dict[str, Any]:
        out: dict[str, Any] = {k: text(form, k) for k in PLACE_TEXT}
        out.update(lat=number(form, "lat"), lon=number(form, "lon"),
                   step_free=flag(form, "step_free"), **kind.read(form))
        return out

    def values(session: Session, unit: U | None, form: FormData | None) -> dict[str, Any]:
        if form is not None:  # as posted, to show it again with its errors
            return {k: v for k, v in form.items() if isinstance(v, str)} | {
                k: flag(form, k) for k in kind.flags}
        if unit is None:
            return dict(kind.blank)
        return {"address": unit.address,
                "municipality": records.municipality_name(unit.municipality),
                "available_from": str(unit.available_from or ""),
                "landlord_ref": records.landlord_ref_of(session, unit.landlord_id) or "",
                "lat": str(unit.lat), "lon": str(unit.lon), "step_free": unit.step_free,
                **kind.show(session, unit)}

    def form_page(request: Request, me: Principal, session: Session, unit: U | None,
                  form: FormData | None, errors: dict[str, str], status: int = 200
                  ) -> Response:
        offices = records.list_offices(session) if unit is None and me.scope is None else []
        return render(request, kind.form_template, {
            "unit": unit, "path": path, "values": values(session, unit, form),
            "errors": errors, "offices": offices}, status)

    @router.get(path)
    def listing(request: Request, me: Reader, session: SessionDep, q: Q = None,
                status: Annotated[UnitStatus | None, Query()] = None,
                offset: Offset = 0) -> Response:
        got = units.page(session, me.actor, scope=me.scope, q=q, status=status, limit=PAGE,
                         offset=offset)
        return render(request, kind.list_template, {
            "page": got, "path": path, "q": q or "", "status": status.value if status else "",
            "statuses": [s.value for s in UnitStatus], **kind.listed(session, got)})

    @router.get(f"{path}/new")
    def new(request: Request, me: Writer, session: SessionDep) -> Response:
        return form_page(request, me, session, None, None, {})

    @router.post(f"{path}/new")
    def create(request: Request, form: FormDep, me: Writer, session: SessionDep) -> Response:
        try:
            checked = validate(kind.create, data(form))
            units.create(session, me.actor, form_office(me, session, form), checked)
        except (ValidationError, RecordError, FormError) as exc:
            return form_page(request, me, session, None, form, errors_of(exc), 422)
        return redirect(path)

    @router.get(f"{path}/{{ref}}/edit")
    def edit(request: Request, me: Writer, session: SessionDep, ref: str) -> Response:
        unit = units.get(session, me.actor, ref, scope=me.scope)
        return form_page(request, me, session, unit, None, {})

    @router.post(f"{path}/{{ref}}/edit")
    def update(request: Request, form: FormDep, me: Writer, session: SessionDep,
               ref: str) -> Response:
        keep_empty = (*CLEARABLE, *kind.clearable)
        try:
            changes = {k: v for k, v in data(form).items()
                       if k not in units.fixed and (v is not None or k in keep_empty)}
            units.update(session, me.actor, ref, changes, scope=me.scope)
        except (RecordError, FormError) as exc:
            unit = units.get(session, me.actor, ref, scope=me.scope)
            return form_page(request, me, session, unit, form, errors_of(exc), 422)
        return redirect(path)

    @router.post(f"{path}/{{ref}}/status")
    def set_status(request: Request, form: FormDep, me: Writer, session: SessionDep,
                   ref: str) -> Response:
        units.set_status(session, me.actor, ref, text(form, "status") or "", scope=me.scope)
        return redirect(path)

    return router


# --------------------------------------------------------------------------- the two kinds


def _dwelling_fields(form: FormData) -> dict[str, Any]:
    return {"area_m2": number(form, "area_m2"), "bedrooms": number(form, "bedrooms"),
            "rent_cents": cents(form, "rent_euros"),
            "max_occupants": number(form, "max_occupants"),
            "children_ok": flag(form, "children_ok")}


def _dwelling_shown(session: Session, d: Dwelling) -> dict[str, Any]:
    return {"area_m2": str(d.area_m2), "bedrooms": str(d.bedrooms),
            "rent_euros": f"{d.rent_cents / 100:.2f}",
            "max_occupants": str(d.max_occupants or ""), "children_ok": d.children_ok}


def _flat_fields(form: FormData) -> dict[str, Any]:
    beds = [x.strip() for x in (text(form, "rooms") or "").replace(";", ",").split(",")]
    try:
        rooms = [{"beds": int(x)} for x in beds if x]
    except ValueError:
        raise FormError("rooms", "beds per room, as numbers separated by commas") from None
    return {"rent_per_bed_cents": cents(form, "rent_euros"), "rooms": rooms}


def _flat_shown(session: Session, f: SharedFlat) -> dict[str, Any]:
    return {"rent_euros": f"{f.rent_per_bed_cents / 100:.2f}",
            "rooms": ", ".join(str(r.beds) for r in records.rooms_of(session, f))}


dwellings = unit_pages(UnitForm(
    DWELLINGS, path="/dwellings", list_template="dwellings.html",
    form_template="dwelling_form.html", create=DwellingCreate, read=_dwelling_fields,
    show=_dwelling_shown, blank={"children_ok": True, "bedrooms": "1"},
    flags=("step_free", "children_ok"), clearable=("max_occupants",)))

flats = unit_pages(UnitForm(
    FLATS, path="/flats", list_template="flats.html", form_template="flat_form.html",
    create=SharedFlatCreate, read=_flat_fields, show=_flat_shown, blank={"rooms": "2, 2"},
    listed=lambda session, got: {"rooms": {f.id: records.rooms_of(session, f)
                                           for f in got.items}}))
