"""Landlords who offer homes through the agency, and a landlord's dwelling on its way to
a round: proposed, visited, certified fit to live in, available, with its terms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from agency import records
from agency.models import Dwelling
from agency.schemas import (
    CertificateBody,
    DwellingCreate,
    DwellingTermsBody,
    DwellingWalkPublic,
    LandlordCreate,
    LandlordPublic,
    LandlordUpdate,
    VisitBody,
)
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


# --------------------------------------------------------------------------- a dwelling's walk

walk = APIRouter(prefix="/dwellings", tags=["dwellings"], responses=ERRORS)
UnitReader = Annotated[Principal, require(perms.UNITS_READ)]
UnitWriter = Annotated[Principal, require(perms.UNITS_WRITE)]


def _walk(session: SessionDep, d: Dwelling) -> DwellingWalkPublic:
    return records.walk_view(session, d)


@router.post("/{ref}/dwellings", status_code=201)
def propose_dwelling(
    me: UnitWriter, session: SessionDep, ref: str, body: DwellingCreate
) -> DwellingWalkPublic:
    """A dwelling the landlord ``ref`` proposes: it starts its walk, not in any round yet."""
    landlord = records.get_landlord(session, me.actor, ref, scope=me.scope)
    data = body.model_copy(update={"landlord_ref": landlord.ref})
    return _walk(session, records.propose_dwelling(session, me.actor, landlord.office_id, data))


@walk.get("/{ref}/walk")
def get_walk(me: UnitReader, session: SessionDep, ref: str) -> DwellingWalkPublic:
    """Where the dwelling stands (proposed, visited, certified, available, let) and the
    next step, with its certificate and its terms."""
    return _walk(session, records.get_dwelling(session, me.actor, ref, scope=me.scope))


@walk.post("/{ref}/visit")
def visit(me: UnitWriter, session: SessionDep, ref: str, body: VisitBody) -> DwellingWalkPublic:
    return _walk(session, records.record_visit(session, me.actor, ref, body, scope=me.scope))


@walk.post("/{ref}/certificate")
def certificate(
    me: UnitWriter, session: SessionDep, ref: str, body: CertificateBody
) -> DwellingWalkPublic:
    """The municipality's certificate of fitness: it caps the dwelling's occupants."""
    return _walk(session, records.certify(session, me.actor, ref, body, scope=me.scope))


@walk.post("/{ref}/available")
def available(me: UnitWriter, session: SessionDep, ref: str) -> DwellingWalkPublic:
    """The certified dwelling enters the next rounds."""
    return _walk(session, records.make_available(session, me.actor, ref, scope=me.scope))


@walk.put("/{ref}/terms")
def put_terms(
    me: UnitWriter, session: SessionDep, ref: str, body: DwellingTermsBody
) -> DwellingWalkPublic:
    """The terms negotiated with the landlord, all of them (none: its plain rent)."""
    records.set_terms(session, me.actor, ref, body.terms, scope=me.scope)
    return _walk(session, records.get_dwelling(session, me.actor, ref, scope=me.scope))
