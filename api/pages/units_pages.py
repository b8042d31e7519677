"""The pages of dwellings and shared flats: a list with search and status, a form to add
one, a form to change it, and a button to withdraw it or offer it again. One factory,
:func:`unit_pages`, makes them for either kind from a :class:`UnitForm`: where it lives,
its templates, and the fields of its own on the form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Generic

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from agency import records
from agency.models import Dwelling, SharedFlat, UnitStatus
from agency.records import DWELLINGS, FLATS, Page, RecordError, Units
from agency.records.units import C, U
from agency.schemas import DwellingCreate, SharedFlatCreate
from api import permissions as perms
from api.deps import Principal, SessionDep, page
from api.i18n import Translator
from api.pages.common import (
    Form,
    FormDep,
    form_office,
    redirect,
    render,
    text,
    translator,
)

PAGE = 25
Q = Annotated[str | None, Query(max_length=100)]
AnyStatus = Annotated[str | None, Query(max_length=16, description="empty: any status")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
Reader = Annotated[Principal, page(perms.UNITS_READ)]
Writer = Annotated[Principal, page(perms.UNITS_WRITE)]

PLACE_TEXT = ("address", "municipality", "available_from", "landlord_ref")
CLEARABLE = ("landlord_ref", "available_from", "open_from", "open_to")
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
    read: Callable[[Form], dict[str, Any]]
    """The kind's own fields, read from a posted form."""
    show: Callable[[Session, U, Translator], dict[str, Any]]
    """The kind's own fields of a stored unit, as the form shows them."""
    blank: dict[str, Any]
    """The form's values for a new unit."""
    labels: dict[str, str] = field(default_factory=dict)
    """The kind's own fields and the catalogue keys of their labels."""
    aliases: dict[str, str] = field(default_factory=dict)
    """The checked model's field → the form's (``rent_cents`` → ``rent_euros``)."""
    flags: tuple[str, ...] = ("step_free",)
    """Its checkboxes."""
    clearable: tuple[str, ...] = ()
    listed: Callable[[Session, Page[U]], dict[str, Any]] = field(default=lambda _s, _p: {})
    """What the list shows besides the units (a flat's rooms)."""


def unit_pages(kind: UnitForm[U, C]) -> APIRouter:
    """The pages of one kind of unit, under ``kind.path``."""
    router = APIRouter()
    path, units = kind.path, kind.units

    def reader(request: Request, form: FormData) -> Form:
        return Form(
            form,
            translator(request),
            {**UNIT_LABELS, **kind.labels},
            kind.aliases,
            {"rooms": "flat.rooms_hint"},
        )

    def data(f: Form) -> dict[str, Any]:
        out: dict[str, Any] = {k: f.text(k) for k in ("address", "landlord_ref")}
        out.update(
            municipality=f.place("municipality"),
            available_from=f.date("available_from"),
            open_from=f.text("open_from"),
            open_to=f.text("open_to"),
            lat=f.number("lat"),
            lon=f.number("lon"),
            step_free=f.flag("step_free"),
            **kind.read(f),
        )
        return out

    def values(session: Session, t: Translator, unit: U | None) -> dict[str, Any]:
        if unit is None:
            return dict(kind.blank)
        return {
            "address": unit.address,
            "municipality": records.municipality_name(unit.municipality),
            "available_from": t.date_input(unit.available_from),
            "open_from": unit.open_from or "",
            "open_to": unit.open_to or "",
            "landlord_ref": records.landlord_ref_of(session, unit.landlord_id) or "",
            "lat": t.decimal_input(unit.lat),
            "lon": t.decimal_input(unit.lon),
            "step_free": unit.step_free,
            **kind.show(session, unit, t),
        }

    def form_page(
        request: Request,
        me: Principal,
        session: Session,
        unit: U | None,
        f: Form | None,
        status: int = 200,
    ) -> Response:
        offices = records.list_offices(session) if unit is None and me.scope is None else []
        shown = (
            f.values() | {k: f.flag(k) for k in kind.flags}
            if f is not None
            else values(session, translator(request), unit)
        )
        return render(
            request,
            kind.form_template,
            {
                "unit": unit,
                "path": path,
                "values": shown,
                "errors": f.errors if f else {},
                "summary": f.summary if f else [],
                "offices": offices,
            },
            status,
        )

    @router.get(path)
    def listing(
        request: Request,
        me: Reader,
        session: SessionDep,
        q: Q = None,
        status: AnyStatus = None,
        offset: Offset = 0,
    ) -> Response:
        chosen = status if status in {s.value for s in UnitStatus} else ""
        got = units.page(
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
            kind.list_template,
            {
                "page": got,
                "path": path,
                "q": q or "",
                "status": chosen,
                "statuses": [s.value for s in UnitStatus],
                **kind.listed(session, got),
            },
        )

    @router.get(f"{path}/new")
    def new(request: Request, me: Writer, session: SessionDep) -> Response:
        return form_page(request, me, session, None, None)

    @router.post(f"{path}/new")
    def create(request: Request, form: FormDep, me: Writer, session: SessionDep) -> Response:
        f = reader(request, form)
        checked = f.check(kind.create, data(f))
        if checked is not None:
            proposed = f.flag("proposed")  # a landlord's dwelling, at the start of its walk
            try:
                unit = units.create(
                    session,
                    me.actor,
                    form_office(me, session, form),
                    checked,
                    status=UnitStatus.proposed if proposed else UnitStatus.available,
                )
            except RecordError as exc:
                session.rollback()
                f.note(exc)
            else:
                return redirect(f"{path}/{unit.ref}/walk" if proposed else path)
        return form_page(request, me, session, None, f, 422)

    @router.get(f"{path}/{{ref}}/edit")
    def edit(request: Request, me: Writer, session: SessionDep, ref: str) -> Response:
        unit = units.get(session, me.actor, ref, scope=me.scope)
        return form_page(request, me, session, unit, None)

    @router.post(f"{path}/{{ref}}/edit")
    def update(
        request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str
    ) -> Response:
        keep_empty = (*CLEARABLE, *kind.clearable)
        f = reader(request, form)
        changes = {
            k: v
            for k, v in data(f).items()
            if k not in units.fixed and (v is not None or k in keep_empty)
        }
        unit = units.get(session, me.actor, ref, scope=me.scope)
        if not f.errors:
            try:
                with session.begin_nested():
                    units.update(session, me.actor, ref, changes, scope=me.scope)
            except RecordError as exc:
                f.note(exc)
            else:
                return redirect(path)
        return form_page(request, me, session, unit, f, 422)

    @router.post(f"{path}/{{ref}}/status")
    def set_status(
        request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str
    ) -> Response:
        units.set_status(session, me.actor, ref, text(form, "status") or "", scope=me.scope)
        return redirect(path)

    return router


# --------------------------------------------------------------------------- the two kinds

UNIT_LABELS = {
    "office": "field.office",
    "address": "unit.address",
    "municipality": "unit.municipality",
    "lat": "field.lat",
    "lon": "field.lon",
    "landlord_ref": "unit.landlord_ref",
    "available_from": "unit.available_from",
    "open_from": "unit.open_from",
    "open_to": "unit.open_to",
    "_": "form.whole",
}


def _dwelling_fields(f: Form) -> dict[str, Any]:
    return {
        "area_m2": f.number("area_m2"),
        "bedrooms": f.number("bedrooms"),
        "rent_cents": f.cents("rent_euros"),
        "max_occupants": f.number("max_occupants"),
        "children_ok": f.flag("children_ok"),
    }


def _dwelling_shown(session: Session, d: Dwelling, t: Translator) -> dict[str, Any]:
    return {
        "area_m2": t.decimal_input(d.area_m2),
        "bedrooms": str(d.bedrooms),
        "rent_euros": t.decimal_input(Decimal(d.rent_cents) / 100, 2),
        "max_occupants": str(d.max_occupants or ""),
        "children_ok": d.children_ok,
    }


def _flat_fields(f: Form) -> dict[str, Any]:
    beds = [x.strip() for x in (f.text("rooms") or "").replace(";", ",").split(",")]
    try:
        rooms = [{"beds": int(x)} for x in beds if x]
    except ValueError:
        f.fail("rooms", "error.type.rooms")
        rooms = []
    return {"rent_per_bed_cents": f.cents("rent_euros"), "rooms": rooms or None}


def _flat_shown(session: Session, flat: SharedFlat, t: Translator) -> dict[str, Any]:
    return {
        "rent_euros": t.decimal_input(Decimal(flat.rent_per_bed_cents) / 100, 2),
        "rooms": ", ".join(str(r.beds) for r in records.rooms_of(session, flat)),
    }


dwellings = unit_pages(
    UnitForm(
        DWELLINGS,
        path="/dwellings",
        list_template="dwellings.html",
        form_template="dwelling_form.html",
        create=DwellingCreate,
        read=_dwelling_fields,
        show=_dwelling_shown,
        blank={"children_ok": True, "bedrooms": "1"},
        labels={
            "area_m2": "dwelling.area_m2",
            "bedrooms": "dwelling.bedrooms",
            "rent_euros": "dwelling.rent_euros",
            "max_occupants": "dwelling.max_occupants",
        },
        aliases={"rent_cents": "rent_euros"},
        flags=("step_free", "children_ok"),
        clearable=("max_occupants",),
    )
)

flats = unit_pages(
    UnitForm(
        FLATS,
        path="/flats",
        list_template="flats.html",
        form_template="flat_form.html",
        create=SharedFlatCreate,
        read=_flat_fields,
        show=_flat_shown,
        blank={"rooms": "2, 2"},
        labels={"rent_euros": "flat.rent_per_bed_euros", "rooms": "flat.rooms"},
        aliases={"rent_per_bed_cents": "rent_euros"},
        listed=lambda session, got: {
            "rooms": {f.id: records.rooms_of(session, f) for f in got.items}
        },
    )
)
