"""Dwellings: whole flats for one household each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session

from agency import records
from agency.models import Dwelling, UnitStatus
from agency.schemas import DwellingCreate, DwellingPublic, DwellingUpdate, UnitStatusBody
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.pagination import Paged, PageDep
from api.routes.common import ERRORS, target_office

router = APIRouter(prefix="/dwellings", tags=["dwellings"], responses=ERRORS)

Reader = Annotated[Principal, require(perms.UNITS_READ)]
Writer = Annotated[Principal, require(perms.UNITS_WRITE)]


def public(session: Session, d: Dwelling) -> DwellingPublic:
    out = DwellingPublic.model_validate(d)
    out.landlord_ref = records.landlord_ref_of(session, d.landlord_id)
    return out


@router.get("")
def list_dwellings(me: Reader, session: SessionDep, page: PageDep,
                   q: Annotated[str | None, Query(max_length=100)] = None,
                   status: UnitStatus | None = None,
                   municipality: Annotated[str | None, Query(max_length=100)] = None
                   ) -> Paged[DwellingPublic]:
    got = records.list_dwellings(session, me.actor, scope=me.scope, q=q, status=status,
                                 municipality=municipality, limit=page.limit,
                                 offset=page.offset)
    return Paged[DwellingPublic](items=[public(session, d) for d in got.items],
                                 total=got.total, limit=got.limit, offset=got.offset)


@router.post("", status_code=201)
def create_dwelling(me: Writer, session: SessionDep, body: DwellingCreate,
                    office: Annotated[str | None, Query(max_length=32)] = None
                    ) -> DwellingPublic:
    d = records.create_dwelling(session, me.actor, target_office(session, me, office), body)
    return public(session, d)


@router.get("/{ref}")
def get_dwelling(me: Reader, session: SessionDep, ref: str) -> DwellingPublic:
    return public(session, records.get_dwelling(session, me.actor, ref, scope=me.scope))


@router.patch("/{ref}")
def update_dwelling(me: Writer, session: SessionDep, ref: str,
                    body: DwellingUpdate) -> DwellingPublic:
    return public(session, records.update_dwelling(
        session, me.actor, ref, body.model_dump(exclude_unset=True), scope=me.scope))


@router.post("/{ref}/status")
def set_status(me: Writer, session: SessionDep, ref: str,
               body: UnitStatusBody) -> DwellingPublic:
    """Withdraw the dwelling from the rounds, or offer it again."""
    return public(session, records.set_dwelling_status(session, me.actor, ref, body.status,
                                                       scope=me.scope))
