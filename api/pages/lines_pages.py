"""The Shuttles pages (a list with search and paging, a form to add or change a line and
its stops, a line's page with its stops on the map and the seats a round takes month by
month) and a shared flat's beds month by month (who is in which bed when)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from agency import records
from agency.models import (
    Beneficiary,
    Lease,
    Proposal,
    Room,
    Round,
    ShuttleLine,
)
from agency.records import FLATS, RecordError
from agency.schemas import ShuttleLineCreate, ShuttleLineUpdate
from api import permissions as perms
from api.deps import Principal, SessionDep, page
from api.i18n import Translator
from api.pages.common import Form, FormDep, form_office, redirect, render, translator
from matching.instance import month_text, parse_month
from places import gazetteer

router = APIRouter()

PAGE = 25
Q = Annotated[str | None, Query(max_length=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
RoundRef = Annotated[str | None, Query(max_length=16)]
MonthQ = Annotated[str | None, Query(max_length=7)]
Reader = Annotated[Principal, page(perms.LINES_READ)]
Writer = Annotated[Principal, page(perms.LINES_WRITE)]
UnitReader = Annotated[Principal, page(perms.UNITS_READ)]

LINE_LABELS = {
    "office": "field.office",
    "name": "line.name",
    "seats": "line.seats",
    "monthly_cost_euros": "line.monthly_cost_euros",
    "running": "line.running",
    "stops": "line.stops",
    "_": "form.whole",
}


# --------------------------------------------------------------------------- lines


def _stops(f: Form) -> list[dict[str, Any]] | None:
    """The stops typed one a line: ``name; latitude; longitude``, or a municipality's
    name alone (its centre)."""
    out: list[dict[str, Any]] = []
    for row in (f.text("stops") or "").splitlines():
        parts = [p.strip() for p in row.split(";")]
        if not parts[0]:
            continue
        if len(parts) == 1:
            try:
                m = gazetteer.find(parts[0])
            except KeyError:
                f.fail("stops", "line.error.stop", row=row.strip())
                return None
            out.append({"name": m.name, "lat": m.lat, "lon": m.lon})
            continue
        try:
            if len(parts) != 3:
                raise ValueError(row)
            lat, lon = (f.t.parse_decimal(p) for p in parts[1:])
        except ValueError:
            f.fail("stops", "line.error.stop", row=row.strip())
            return None
        out.append({"name": parts[0], "lat": float(lat), "lon": float(lon)})
    return out or None


def _line_data(f: Form) -> dict[str, Any]:
    return {
        "name": f.text("name"),
        "seats": f.number("seats"),
        "monthly_cost_cents": f.cents("monthly_cost_euros"),
        "running": f.flag("running"),
        "stops": _stops(f),
    }


def _line_form(request: Request, form: FormData) -> Form:
    return Form(
        form,
        translator(request),
        LINE_LABELS,
        {"monthly_cost_cents": "monthly_cost_euros"},
        {"stops": "line.stops_hint"},
    )


def _line_values(session: Session, t: Translator, line: ShuttleLine | None) -> dict[str, Any]:
    if line is None:
        return {"seats": "16", "running": False}
    stops = records.stops_of(session, line.id or 0)
    return {
        "name": line.name,
        "seats": str(line.seats),
        "monthly_cost_euros": t.decimal_input(Decimal(line.monthly_cost_cents) / 100, 2),
        "running": line.running,
        "stops": "\n".join(
            f"{s.name}; {t.decimal_input(s.lat, 5)}; {t.decimal_input(s.lon, 5)}" for s in stops
        ),
    }


def _line_form_page(
    request: Request,
    session: Session,
    me: Principal,
    line: ShuttleLine | None,
    f: Form | None,
    status: int = 200,
) -> Response:
    values = (
        f.values() | {"running": f.flag("running")}
        if f is not None
        else _line_values(session, translator(request), line)
    )
    return render(
        request,
        "line_form.html",
        {
            "line": line,
            "values": values,
            "errors": f.errors if f else {},
            "summary": f.summary if f else [],
            "offices": records.list_offices(session) if line is None and me.scope is None else [],
        },
        status,
    )


@router.get("/lines")
def lines_list(
    request: Request, me: Reader, session: SessionDep, q: Q = None, offset: Offset = 0
) -> Response:
    got = records.list_lines(session, scope=me.scope, q=q or None, limit=PAGE, offset=offset)
    stops = {x.id: records.stops_of(session, x.id or 0) for x in got.items}
    return render(request, "lines.html", {"page": got, "q": q or "", "stops": stops})


@router.get("/lines/new")
def line_new(request: Request, me: Writer, session: SessionDep) -> Response:
    return _line_form_page(request, session, me, None, None)


@router.post("/lines/new")
def line_create(request: Request, form: FormDep, me: Writer, session: SessionDep) -> Response:
    f = _line_form(request, form)
    checked = f.check(ShuttleLineCreate, _line_data(f))
    if checked is not None:
        try:
            with session.begin_nested():
                line = records.create_line(
                    session, me.actor, form_office(me, session, form), checked
                )
        except RecordError as exc:
            f.note(exc)
        else:
            return redirect(f"/lines/{line.ref}")
    return _line_form_page(request, session, me, None, f, 422)


@router.get("/lines/{ref}/edit")
def line_edit(request: Request, me: Writer, session: SessionDep, ref: str) -> Response:
    line = records.get_line(session, ref, scope=me.scope)
    return _line_form_page(request, session, me, line, None)


@router.post("/lines/{ref}/edit")
def line_update(
    request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str
) -> Response:
    line = records.get_line(session, ref, scope=me.scope)
    f = _line_form(request, form)
    checked = f.check(ShuttleLineCreate, _line_data(f))
    if checked is not None:
        try:
            with session.begin_nested():
                records.update_line(
                    session,
                    me.actor,
                    ref,
                    ShuttleLineUpdate.model_validate(checked.model_dump()),
                    scope=me.scope,
                )
        except RecordError as exc:
            f.note(exc)
        else:
            return redirect(f"/lines/{ref}")
    return _line_form_page(request, session, me, line, f, 422)


@router.get("/lines/{ref}")
def line_page(
    request: Request, me: Reader, session: SessionDep, ref: str, round: RoundRef = None
) -> Response:
    """A line, its stops, and the seats a round takes on it month by month."""
    line = records.get_line(session, ref, scope=me.scope)
    rounds = records.list_rounds(session, scope=me.scope, limit=50).items
    r = records.round_by_ref(session, round, scope=me.scope) if round else None
    if r is None and rounds:
        r = next((x for x in rounds if x.policy.get("horizon_start")), rounds[0])
    used = records.seats_used(session, r).get(line.id or 0, {}) if r else {}
    months = _months_of(r, used)
    return render(
        request,
        "line.html",
        {
            "line": line,
            "stops": records.stops_of(session, line.id or 0),
            "rounds": rounds,
            "r": r,
            "months": [(m, used.get(m, 0)) for m in months],
        },
    )


def _months_of(r: Round | None, used: dict[str, int]) -> list[str]:
    """The months to show of a round: its horizon, or the months its riders use."""
    h = (r.snapshot.get("policy") or {}).get("horizon") if r else None
    if h:
        first = parse_month(h["start"])
        return [month_text(first + k) for k in range(int(h["months"]))]
    return sorted(used)


# --------------------------------------------------------------------------- beds


@dataclass
class Stay:
    """One household in one bed for some months (a lease, or a round's proposal)."""

    who: str
    first: int
    last: int
    proposed: bool


def _beds(room: Room, stays: list[Stay]) -> list[list[Stay]]:
    """The stays of a room laid out bed by bed: each stay in the first bed free for its
    months (a room's beds are alike; a lease names the room, not the bed)."""
    beds: list[list[Stay]] = [[] for _ in range(room.beds)]
    for s in sorted(stays, key=lambda x: (x.first, x.last, x.who)):
        for bed in beds:
            if all(o.last < s.first or s.last < o.first for o in bed):
                bed.append(s)
                break
        else:
            beds.append([s])  # more than the room holds: shown, never hidden
    return beds


@router.get("/flats/{ref}/beds")
def flat_beds(
    request: Request,
    me: UnitReader,
    session: SessionDep,
    ref: str,
    start: MonthQ = None,
    round: RoundRef = None,
) -> Response:
    """Who is in which bed of a shared flat, month by month: its leases, and a round's
    current proposals."""
    flat = FLATS.get(session, me.actor, ref, scope=me.scope)
    r = records.round_by_ref(session, round, scope=me.scope) if round else None
    h = (r.snapshot.get("policy") or {}).get("horizon") if r else None
    try:
        first = parse_month(start) if start else None
    except ValueError:
        first = None
    if first is None:
        first = parse_month(h["start"]) if h else parse_month(date.today().isoformat()[:7])
    count = int(h["months"]) if h and not start else 12
    months = list(range(first, first + count))
    rooms = records.rooms_of(session, flat)
    room_ids = [x.id for x in rooms]
    stays: dict[int, list[Stay]] = {x.id or 0: [] for x in rooms}
    lo, hi = months[0], months[-1]
    for lease, bref in session.exec(
        select(Lease, Beneficiary.ref)
        .join(Beneficiary, col(Beneficiary.id) == col(Lease.beneficiary_id))
        .where(col(Lease.room_id).in_(room_ids), col(Lease.ended_on).is_(None))
    ).all():
        a = parse_month(lease.stay_from) if lease.stay_from else lo
        b = parse_month(lease.stay_to) if lease.stay_to else hi
        stays[lease.room_id or 0].append(Stay(bref, a, b, False))
    if r is not None:
        for p, bref in session.exec(
            select(Proposal, Beneficiary.ref)
            .join(Beneficiary, col(Beneficiary.id) == col(Proposal.beneficiary_id))
            .where(
                Proposal.round_id == r.id,
                col(Proposal.current).is_(True),
                col(Proposal.room_id).in_(room_ids),
            )
        ).all():
            if r.status == "closed":
                continue  # its leases are shown already
            a = parse_month(p.stay_from) if p.stay_from else lo
            b = parse_month(p.stay_to) if p.stay_to else hi
            stays[p.room_id or 0].append(Stay(bref, a, b, True))
    open_from = parse_month(flat.open_from) if flat.open_from else None
    open_to = parse_month(flat.open_to) if flat.open_to else None
    grid = []
    for room in rooms:
        for k, bed in enumerate(_beds(room, stays[room.id or 0]), 1):
            cells = []
            for m in months:
                closed = (open_from is not None and m < open_from) or (
                    open_to is not None and m > open_to
                )
                who = next((s for s in bed if s.first <= m <= s.last), None)
                cells.append({"closed": closed, "stay": who})
            grid.append({"room": room, "bed": k, "cells": cells})
    return render(
        request,
        "beds.html",
        {
            "flat": flat,
            "months": [month_text(m) for m in months],
            "grid": grid,
            "r": r,
            "rounds": records.list_rounds(session, scope=me.scope, limit=50).items,
            "start": month_text(first),
        },
    )
