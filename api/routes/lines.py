"""Shuttle lines: the minibuses an office runs or could open, with their stops, and the
seats a round takes on each, month by month."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import Session

from agency import records
from agency.models import Office, ShuttleLine
from agency.schemas import (
    ShuttleLineCreate,
    ShuttleLinePublic,
    ShuttleLineUpdate,
    ShuttleStopPublic,
)
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.pagination import Paged, PageDep
from api.routes.common import ERRORS, target_office

router = APIRouter(prefix="/lines", tags=["lines"], responses=ERRORS)

Reader = Annotated[Principal, require(perms.LINES_READ)]
Writer = Annotated[Principal, require(perms.LINES_WRITE)]


class SeatsUsed(BaseModel):
    """The seats a round takes on a line in each month (adults riding it)."""

    line_ref: str
    round_ref: str
    seats: int
    months: dict[str, int]


def public(session: Session, line: ShuttleLine) -> ShuttleLinePublic:
    assert line.id is not None
    office = session.get(Office, line.office_id)
    return ShuttleLinePublic(
        ref=line.ref,
        office_code=office.code if office else "",
        name=line.name,
        seats=line.seats,
        monthly_cost_cents=line.monthly_cost_cents,
        running=line.running,
        stops=[
            ShuttleStopPublic(name=s.name, lat=s.lat, lon=s.lon, position=s.position)
            for s in records.stops_of(session, line.id)
        ],
    )


@router.get("")
def list_lines(
    me: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    running: bool | None = None,
) -> Paged[ShuttleLinePublic]:
    """The lines of the caller's office, with their stops."""
    got = records.list_lines(
        session, scope=me.scope, q=q, running=running, limit=page.limit, offset=page.offset
    )
    return Paged[ShuttleLinePublic](
        items=[public(session, x) for x in got.items],
        total=got.total,
        limit=got.limit,
        offset=got.offset,
    )


@router.post("", status_code=201)
def create_line(
    me: Writer,
    session: SessionDep,
    body: ShuttleLineCreate,
    office: Annotated[str | None, Query(max_length=32)] = None,
) -> ShuttleLinePublic:
    """A new line with its stops in calling order (running, or proposed: the rounds may
    open it within their transport budget)."""
    line = records.create_line(session, me.actor, target_office(session, me, office), body)
    return public(session, line)


@router.get("/{ref}")
def get_line(me: Reader, session: SessionDep, ref: str) -> ShuttleLinePublic:
    return public(session, records.get_line(session, ref, scope=me.scope))


@router.patch("/{ref}")
def update_line(
    me: Writer, session: SessionDep, ref: str, body: ShuttleLineUpdate
) -> ShuttleLinePublic:
    """Change some fields; ``stops``, when given, replace the line's stops."""
    return public(session, records.update_line(session, me.actor, ref, body, scope=me.scope))


@router.get("/{ref}/seats")
def seats_used(
    me: Reader,
    session: SessionDep,
    ref: str,
    round: Annotated[str, Query(max_length=16)],
) -> SeatsUsed:
    """The seats round ``round`` takes on the line, month by month: its offers pending or
    accepted, or its leases once closed."""
    line = records.get_line(session, ref, scope=me.scope)
    r = records.round_by_ref(session, round, scope=me.scope)
    used = records.seats_used(session, r).get(line.id or 0, {})
    return SeatsUsed(line_ref=line.ref, round_ref=r.ref, seats=line.seats, months=used)
