"""Landlords: the people and companies whose homes the agency lets (an audited read, as a
landlord may be a person)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from agency.audit import Actor, record
from agency.errors import RecordError
from agency.models import Landlord
from agency.records.common import Page, checked, in_office, office_of, page_of, search
from agency.schemas import LandlordCreate

ENTITY = "landlord"


def create_landlord(
    session: Session, actor: Actor, office_id: int, data: LandlordCreate
) -> Landlord:
    office_of(session, office_id)
    landlord = Landlord(office_id=office_id, **data.model_dump())
    session.add(landlord)
    session.flush()
    record(session, actor, "landlord.create", ENTITY, landlord.ref)
    return landlord


def get_landlord(session: Session, actor: Actor, ref: str, *, scope: int | None = None) -> Landlord:
    """A landlord's record (may be a person: an audited read)."""
    landlord = in_office(session, Landlord, ENTITY, ref, scope)
    record(session, actor, "landlord.read", ENTITY, ref)
    return landlord


def list_landlords(
    session: Session,
    actor: Actor,
    *,
    scope: int | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Landlord]:
    conds: list[Any] = []
    if scope is not None:
        conds.append(Landlord.office_id == scope)
    match = search(q, Landlord.ref, Landlord.name)
    if match is not None:
        conds.append(match)
    page = page_of(session, Landlord, conds, (col(Landlord.name), col(Landlord.id)), limit, offset)
    record(
        session,
        actor,
        "landlord.list",
        ENTITY,
        None,
        detail={"count": len(page.items), "searched": match is not None},
    )
    return page


def update_landlord(
    session: Session,
    actor: Actor,
    ref: str,
    changes: Mapping[str, Any],
    *,
    scope: int | None = None,
) -> Landlord:
    landlord = in_office(session, Landlord, ENTITY, ref, scope)
    base = {k: getattr(landlord, k) for k in LandlordCreate.model_fields}
    data = checked(LandlordCreate, {**base, **changes})
    for k, v in data.model_dump().items():
        setattr(landlord, k, v)
    session.add(landlord)
    session.flush()
    record(session, actor, "landlord.update", ENTITY, ref, detail={"fields": sorted(changes)})
    return landlord


def landlord_id(session: Session, ref: str | None, office_id: int) -> int | None:
    """The id of the landlord ``ref`` of ``office_id`` (None for no landlord)."""
    if not ref:
        return None
    landlord = session.exec(select(Landlord).where(Landlord.ref == ref)).first()
    if landlord is None or landlord.office_id != office_id:
        raise RecordError("landlord_ref", f"no landlord {ref!r} in this office")
    return landlord.id


def landlord_ref_of(session: Session, landlord_id: int | None) -> str | None:
    if landlord_id is None:
        return None
    landlord = session.get(Landlord, landlord_id)
    return landlord.ref if landlord else None
