"""Shared flats (co-housing) and their rooms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session

from agency import records
from agency.models import SharedFlat, UnitStatus
from agency.schemas import (
    RoomPublic,
    SharedFlatCreate,
    SharedFlatPublic,
    SharedFlatUpdate,
    UnitStatusBody,
)
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.pagination import Paged, PageDep
from api.routes.common import ERRORS, target_office

router = APIRouter(prefix="/shared-flats", tags=["shared flats"], responses=ERRORS)

Reader = Annotated[Principal, require(perms.UNITS_READ)]
Writer = Annotated[Principal, require(perms.UNITS_WRITE)]


def public(session: Session, f: SharedFlat) -> SharedFlatPublic:
    out = SharedFlatPublic.model_validate(f)
    out.landlord_ref = records.landlord_ref_of(session, f.landlord_id)
    out.rooms = [RoomPublic.model_validate(r) for r in records.rooms_of(session, f)]
    return out


@router.get("")
def list_flats(me: Reader, session: SessionDep, page: PageDep,
               q: Annotated[str | None, Query(max_length=100)] = None,
               status: UnitStatus | None = None) -> Paged[SharedFlatPublic]:
    got = records.list_shared_flats(session, me.actor, scope=me.scope, q=q, status=status,
                                    limit=page.limit, offset=page.offset)
    return Paged[SharedFlatPublic](items=[public(session, f) for f in got.items],
                                   total=got.total, limit=got.limit, offset=got.offset)


@router.post("", status_code=201)
def create_flat(me: Writer, session: SessionDep, body: SharedFlatCreate,
                office: Annotated[str | None, Query(max_length=32)] = None
                ) -> SharedFlatPublic:
    f = records.create_shared_flat(session, me.actor, target_office(session, me, office), body)
    return public(session, f)


@router.get("/{ref}")
def get_flat(me: Reader, session: SessionDep, ref: str) -> SharedFlatPublic:
    return public(session, records.get_shared_flat(session, me.actor, ref, scope=me.scope))


@router.patch("/{ref}")
def update_flat(me: Writer, session: SessionDep, ref: str,
                body: SharedFlatUpdate) -> SharedFlatPublic:
    return public(session, records.update_shared_flat(
        session, me.actor, ref, body.model_dump(exclude_unset=True), scope=me.scope))


@router.post("/{ref}/status")
def set_status(me: Writer, session: SessionDep, ref: str,
               body: UnitStatusBody) -> SharedFlatPublic:
    return public(session, records.set_shared_flat_status(session, me.actor, ref, body.status,
                                                          scope=me.scope))
