"""Landlords who offer homes through the agency."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from agency import records
from agency.schemas import LandlordCreate, LandlordPublic, LandlordUpdate
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.pagination import Paged, PageDep
from api.routes.common import ERRORS, target_office

router = APIRouter(prefix="/landlords", tags=["landlords"], responses=ERRORS)

Reader = Annotated[Principal, require(perms.LANDLORDS_READ)]
Writer = Annotated[Principal, require(perms.LANDLORDS_WRITE)]


@router.get("")
def list_landlords(
    me: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Paged[LandlordPublic]:
    got = records.list_landlords(
        session, me.actor, scope=me.scope, q=q, limit=page.limit, offset=page.offset
    )
    return Paged[LandlordPublic](
        items=[LandlordPublic.model_validate(x) for x in got.items],
        total=got.total,
        limit=got.limit,
        offset=got.offset,
    )


@router.post("", status_code=201)
def create_landlord(
    me: Writer,
    session: SessionDep,
    body: LandlordCreate,
    office: Annotated[str | None, Query(max_length=32)] = None,
) -> LandlordPublic:
    landlord = records.create_landlord(session, me.actor, target_office(session, me, office), body)
    return LandlordPublic.model_validate(landlord)


@router.get("/{ref}")
def get_landlord(me: Reader, session: SessionDep, ref: str) -> LandlordPublic:
    return LandlordPublic.model_validate(
        records.get_landlord(session, me.actor, ref, scope=me.scope)
    )


@router.patch("/{ref}")
def update_landlord(
    me: Writer, session: SessionDep, ref: str, body: LandlordUpdate
) -> LandlordPublic:
    return LandlordPublic.model_validate(
        records.update_landlord(
            session, me.actor, ref, body.model_dump(exclude_unset=True), scope=me.scope
        )
    )
