"""Beneficiaries: the households taken in charge, their status, case history and members."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from agency import identity
from agency.audit import Actor, record
from agency.errors import DuplicateError, NotFoundError, RecordError
from agency.models import Beneficiary, BeneficiaryEvent, BeneficiaryStatus, HouseholdMember
from agency.priority import PriorityPolicy, compute
from agency.records.common import (
    Page,
    change_status,
    checked,
    in_office,
    now,
    office_of,
    page_of,
    resolve_municipality,
    search,
    status_of,
)
from agency.schemas import BeneficiaryCreate, HouseholdMemberCreate

ENTITY = "beneficiary"

STATUS_MOVES: dict[BeneficiaryStatus, set[BeneficiaryStatus]] = {
    BeneficiaryStatus.waiting: {BeneficiaryStatus.suspended, BeneficiaryStatus.closed},
    BeneficiaryStatus.suspended: {BeneficiaryStatus.waiting, BeneficiaryStatus.closed},
    BeneficiaryStatus.offered: {BeneficiaryStatus.closed},
    BeneficiaryStatus.housed: {BeneficiaryStatus.closed},
    BeneficiaryStatus.closed: {BeneficiaryStatus.waiting},
}
"""The moves staff may make by hand; ``offered`` and ``housed`` come from the rounds."""


def _fields(data: BeneficiaryCreate) -> dict[str, Any]:
    code, lat, lon = resolve_municipality("work_municipality", data.work_municipality)
    values = data.model_dump()
    values["work_municipality"] = code
    if data.work_lat is None or data.work_lon is None:
        values["work_lat"], values["work_lon"] = lat, lon
    if values.get("registered_on") is None:
        values["registered_on"] = now().date()
    return values


def _score(b: Beneficiary, on: date | None = None) -> None:
    total, lines = compute(b, PriorityPolicy.load(), on or now().date())
    b.priority, b.priority_breakdown, b.priority_computed_at = total, lines, now()


def _insert_once(session: Session, b: Beneficiary) -> None:
    """Flush ``b``, refused when the same person has a record in its office."""
    try:
        identity.insert_once(session, b)
    except identity.SamePersonError as exc:
        raise DuplicateError("given_name", str(exc)) from None


def _event(
    session: Session,
    actor: Actor,
    b: Beneficiary,
    kind: str,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
) -> BeneficiaryEvent:
    assert b.id is not None
    event = BeneficiaryEvent(
        beneficiary_id=b.id,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note,
        user_id=actor.user_id,
    )
    session.add(event)
    return event


def _beneficiary(session: Session, ref: str, scope: int | None) -> Beneficiary:
    return in_office(session, Beneficiary, ENTITY, ref, scope)


def create_beneficiary(
    session: Session, actor: Actor, office_id: int, data: BeneficiaryCreate
) -> Beneficiary:
    """A household taken in charge by ``office_id``: waiting, with its priority computed."""
    office_of(session, office_id)
    b = Beneficiary(office_id=office_id, **_fields(data))
    _score(b)
    _insert_once(session, b)
    _event(session, actor, b, "status", to_status=BeneficiaryStatus.waiting.value)
    session.flush()
    record(session, actor, "beneficiary.create", ENTITY, b.ref)
    return b


def get_beneficiary(
    session: Session, actor: Actor, ref: str, *, scope: int | None = None
) -> Beneficiary:
    """One household's record (an audited read)."""
    b = _beneficiary(session, ref, scope)
    record(session, actor, "beneficiary.read", ENTITY, ref)
    return b


def list_beneficiaries(
    session: Session,
    actor: Actor,
    *,
    scope: int | None = None,
    q: str | None = None,
    status: BeneficiaryStatus | str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Beneficiary]:
    """Households, highest priority first; ``q`` searches ref and names (an audited read)."""
    conds: list[Any] = []
    if scope is not None:
        conds.append(Beneficiary.office_id == scope)
    if status:
        conds.append(Beneficiary.status == status_of(BeneficiaryStatus, status).value)
    match = search(q, Beneficiary.ref, Beneficiary.given_name, Beneficiary.family_name)
    if match is not None:
        conds.append(match)
    order = (col(Beneficiary.priority).desc(), col(Beneficiary.registered_on), col(Beneficiary.id))
    page = page_of(session, Beneficiary, conds, order, limit, offset)
    record(
        session,
        actor,
        "beneficiary.list",
        ENTITY,
        None,
        detail={"count": len(page.items), "searched": match is not None},
    )
    return page


def update_beneficiary(
    session: Session,
    actor: Actor,
    ref: str,
    changes: Mapping[str, Any],
    *,
    scope: int | None = None,
) -> Beneficiary:
    """Change some fields; the whole record is checked again as on creation."""
    b = _beneficiary(session, ref, scope)
    base = {k: getattr(b, k) for k in BeneficiaryCreate.model_fields}
    if "work_municipality" in changes and not {"work_lat", "work_lon"} & set(changes):
        base["work_lat"] = base["work_lon"] = None  # the new place's centre
    data = checked(BeneficiaryCreate, {**base, **changes})
    for k, v in _fields(data).items():
        setattr(b, k, v)
    b.updated_at = now()
    _score(b)
    _insert_once(session, b)
    record(session, actor, "beneficiary.update", ENTITY, ref, detail={"fields": sorted(changes)})
    return b


def status_moves(status: BeneficiaryStatus | str) -> list[str]:
    """The statuses staff may move a case to by hand from ``status``."""
    return sorted(s.value for s in STATUS_MOVES.get(BeneficiaryStatus(status), set()))


def change_beneficiary_status(
    session: Session,
    actor: Actor,
    ref: str,
    to_status: BeneficiaryStatus | str,
    note: str | None = None,
    *,
    scope: int | None = None,
) -> Beneficiary:
    """Move a case to another status, recorded as an event of its history."""
    b = _beneficiary(session, ref, scope)
    target = status_of(BeneficiaryStatus, to_status)
    current = BeneficiaryStatus(b.status)
    if target not in STATUS_MOVES.get(current, set()):
        raise RecordError(
            "status", f"a case cannot go from {current.value} to {target.value} by hand"
        )
    _event(
        session, actor, b, "status", from_status=current.value, to_status=target.value, note=note
    )
    b.updated_at = now()
    change_status(session, actor, b, ENTITY, target)
    return b


def deactivate_beneficiary(
    session: Session, actor: Actor, ref: str, note: str | None = None, *, scope: int | None = None
) -> Beneficiary:
    """Close the case (it leaves every future round; the record stays)."""
    return change_beneficiary_status(
        session, actor, ref, BeneficiaryStatus.closed, note, scope=scope
    )


def add_note(
    session: Session, actor: Actor, ref: str, note: str, *, scope: int | None = None
) -> BeneficiaryEvent:
    """A note in the case's history."""
    b = _beneficiary(session, ref, scope)
    if not note.strip():
        raise RecordError("note", "must not be empty")
    event = _event(session, actor, b, "note", note=note.strip()[:4000])
    session.flush()
    record(session, actor, "beneficiary.note", ENTITY, ref)
    return event


def beneficiary_events(session: Session, beneficiary: Beneficiary) -> list[BeneficiaryEvent]:
    return list(
        session.exec(
            select(BeneficiaryEvent)
            .where(BeneficiaryEvent.beneficiary_id == beneficiary.id)
            .order_by(col(BeneficiaryEvent.id))
        )
    )


def add_household_member(
    session: Session,
    actor: Actor,
    ref: str,
    data: HouseholdMemberCreate,
    *,
    scope: int | None = None,
) -> HouseholdMember:
    b = _beneficiary(session, ref, scope)
    assert b.id is not None
    m = HouseholdMember(beneficiary_id=b.id, **data.model_dump())
    session.add(m)
    session.flush()
    record(session, actor, "beneficiary.member_add", ENTITY, ref, detail={"member_id": m.id})
    return m


def remove_household_member(
    session: Session, actor: Actor, ref: str, member_id: int, *, scope: int | None = None
) -> None:
    b = _beneficiary(session, ref, scope)
    m = session.get(HouseholdMember, member_id)
    if m is None or m.beneficiary_id != b.id:
        raise NotFoundError("household member", str(member_id))
    session.delete(m)
    session.flush()
    record(
        session, actor, "beneficiary.member_remove", ENTITY, ref, detail={"member_id": member_id}
    )


def household_members(session: Session, beneficiary: Beneficiary) -> list[HouseholdMember]:
    return list(
        session.exec(
            select(HouseholdMember)
            .where(HouseholdMember.beneficiary_id == beneficiary.id)
            .order_by(col(HouseholdMember.id))
        )
    )
