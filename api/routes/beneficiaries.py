"""Beneficiaries (households taken in charge): their records, status and household."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session

from agency import protected, records
from agency.models import Beneficiary, BeneficiaryStatus
from agency.schemas import (
    BeneficiaryCreate,
    BeneficiaryPublic,
    BeneficiarySummary,
    BeneficiaryUpdate,
    EventPublic,
    HouseholdMemberCreate,
    MemberPublic,
)
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.models import NoteBody, StatusChange
from api.pagination import Id, Paged, PageDep
from api.routes.common import ERRORS, target_office

router = APIRouter(prefix="/beneficiaries", tags=["beneficiaries"], responses=ERRORS)

Reader = Annotated[Principal, require(perms.BENEFICIARIES_READ)]
Writer = Annotated[Principal, require(perms.BENEFICIARIES_WRITE)]


def public(session: Session, b: Beneficiary, me: Principal) -> BeneficiaryPublic:
    """The household's record; its avoid zones and victim tags only for its own office."""
    out = BeneficiaryPublic.model_validate(b)
    if me.scope != b.office_id:
        out.tags = protected.public_tags(out.tags)
        out.avoid_zones = None
        out.priority_breakdown = protected.public_breakdown(out.priority_breakdown)
    out.members = [MemberPublic.model_validate(m) for m in records.household_members(session, b)]
    out.events = [EventPublic.model_validate(e) for e in records.beneficiary_events(session, b)]
    return out


@router.get("")
def list_beneficiaries(
    me: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    status: BeneficiaryStatus | None = None,
) -> Paged[BeneficiarySummary]:
    """Households of your office (an admin: all), highest priority first; ``q`` searches
    the ref and the names."""
    got = records.list_beneficiaries(
        session, me.actor, scope=me.scope, q=q, status=status, limit=page.limit, offset=page.offset
    )
    return Paged[BeneficiarySummary](
        items=[BeneficiarySummary.model_validate(b) for b in got.items],
        total=got.total,
        limit=got.limit,
        offset=got.offset,
    )


@router.post("", status_code=201)
def create_beneficiary(
    me: Writer,
    session: SessionDep,
    body: BeneficiaryCreate,
    office: Annotated[str | None, Query(max_length=32)] = None,
) -> BeneficiaryPublic:
    """Take a household in charge (in your office; an admin names it with ``office``)."""
    b = records.create_beneficiary(session, me.actor, target_office(session, me, office), body)
    return public(session, b, me)


@router.get("/{ref}")
def get_beneficiary(me: Reader, session: SessionDep, ref: str) -> BeneficiaryPublic:
    """One household's record, its members and its history (the read is audited)."""
    return public(session, records.get_beneficiary(session, me.actor, ref, scope=me.scope), me)


@router.patch("/{ref}")
def update_beneficiary(
    me: Writer, session: SessionDep, ref: str, body: BeneficiaryUpdate
) -> BeneficiaryPublic:
    """Change some fields; the record is checked again as a whole."""
    b = records.update_beneficiary(
        session, me.actor, ref, body.model_dump(exclude_unset=True), scope=me.scope
    )
    return public(session, b, me)


@router.post("/{ref}/status")
def change_status(
    me: Writer, session: SessionDep, ref: str, body: StatusChange
) -> BeneficiaryPublic:
    """Suspend, reopen or close a case (``offered`` and ``housed`` come from rounds)."""
    b = records.change_beneficiary_status(
        session, me.actor, ref, body.status, body.note, scope=me.scope
    )
    return public(session, b, me)


@router.post("/{ref}/notes", status_code=201)
def add_note(me: Writer, session: SessionDep, ref: str, body: NoteBody) -> EventPublic:
    """A note in the case's history."""
    return EventPublic.model_validate(
        records.add_note(session, me.actor, ref, body.note, scope=me.scope)
    )


@router.post("/{ref}/members", status_code=201)
def add_member(
    me: Writer, session: SessionDep, ref: str, body: HouseholdMemberCreate
) -> MemberPublic:
    """Another member of the household."""
    return MemberPublic.model_validate(
        records.add_household_member(session, me.actor, ref, body, scope=me.scope)
    )


@router.delete("/{ref}/members/{member_id}", status_code=204)
def remove_member(me: Writer, session: SessionDep, ref: str, member_id: Id) -> None:
    records.remove_household_member(session, me.actor, ref, member_id, scope=me.scope)


@router.delete("/{ref}", status_code=204)
def close_case(me: Writer, session: SessionDep, ref: str) -> None:
    """Close the case (the record stays, out of every future round)."""
    records.deactivate_beneficiary(session, me.actor, ref, scope=me.scope)
