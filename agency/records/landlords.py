"""Landlords: the people and companies whose homes the agency lets (an audited read, as a
landlord may be a person), and a landlord's dwelling on its way to a round::

    proposed ──visit──► visited ──certify──► certified ──make available──► available ──► let
                         (the municipality's certificate of fitness: number, date, the
                          occupants it allows, which then caps max_occupants)

Terms (rent, one-off incentive, guarantee) are negotiated at any step before the dwelling
is let; only an available dwelling enters a round (:func:`agency.mapping.free_dwellings`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, delete, select

from agency.audit import Actor, record
from agency.errors import RecordError
from agency.mapping import terms_of
from agency.models import Dwelling, DwellingTerm, Landlord, Lease, UnitStatus
from agency.records.common import (
    Page,
    change_status,
    checked,
    in_office,
    office_of,
    page_of,
    search,
)
from agency.schemas import (
    CertificateBody,
    DwellingTermCreate,
    DwellingTermPublic,
    DwellingWalkPublic,
    LandlordCreate,
    VisitBody,
)

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


# --------------------------------------------------------------------------- a dwelling's walk

DWELLING = "dwelling"
NEXT_STEP = {
    UnitStatus.proposed: "visit",
    UnitStatus.visited: "certify",
    UnitStatus.certified: "make_available",
}
"""The step that follows each stage of the walk (none after ``available``)."""


def _walking(session: Session, ref: str, scope: int | None, stage: UnitStatus) -> Dwelling:
    d = in_office(session, Dwelling, DWELLING, ref, scope)
    if d.status != stage:
        raise RecordError(
            "status",
            f"dwelling {ref} is {d.status}: this step needs it {stage}"
            + (f" (next step: {NEXT_STEP[d.status]})" if d.status in NEXT_STEP else ""),
        )
    return d


def record_visit(
    session: Session, actor: Actor, ref: str, body: VisitBody, *, scope: int | None = None
) -> Dwelling:
    """Staff have seen the proposed dwelling."""
    d = _walking(session, ref, scope, UnitStatus.proposed)
    d.visited_on = body.visited_on
    change_status(session, actor, d, DWELLING, UnitStatus.visited)
    return d


def certify(
    session: Session, actor: Actor, ref: str, body: CertificateBody, *, scope: int | None = None
) -> Dwelling:
    """The municipality's certificate of fitness is on file: it caps ``max_occupants``."""
    d = _walking(session, ref, scope, UnitStatus.visited)
    d.certificate_number = body.number
    d.certificate_on = body.issued_on
    d.certificate_occupants = body.occupants
    d.max_occupants = min(d.max_occupants or body.occupants, body.occupants)
    change_status(session, actor, d, DWELLING, UnitStatus.certified)
    return d


def make_available(
    session: Session, actor: Actor, ref: str, *, scope: int | None = None
) -> Dwelling:
    """The certified dwelling enters the next rounds (on its terms, if it has any)."""
    d = _walking(session, ref, scope, UnitStatus.certified)
    change_status(session, actor, d, DWELLING, UnitStatus.available)
    return d


def set_terms(
    session: Session,
    actor: Actor,
    ref: str,
    terms: Sequence[DwellingTermCreate],
    *,
    scope: int | None = None,
) -> list[DwellingTerm]:
    """Replace a dwelling's negotiated terms (none: it is let at its plain rent).

    Refused while the dwelling is let: a lease keeps the terms it was signed on."""
    d = in_office(session, Dwelling, DWELLING, ref, scope)
    assert d.id is not None
    let = session.exec(
        select(Lease.id).where(Lease.dwelling_id == d.id, col(Lease.ended_on).is_(None))
    ).first()
    if let is not None or d.status == UnitStatus.let:
        raise RecordError("terms", f"dwelling {ref} is let: its lease keeps its terms")
    labels = [t.label for t in terms]
    if len(set(labels)) != len(labels):
        raise RecordError("terms", "each term needs its own label")
    session.exec(delete(DwellingTerm).where(col(DwellingTerm.dwelling_id) == d.id))
    rows = [DwellingTerm(dwelling_id=d.id, **t.model_dump()) for t in terms]
    session.add_all(rows)
    session.flush()
    record(session, actor, "dwelling.terms", DWELLING, ref, detail={"terms": sorted(labels)})
    return rows


def walk_view(session: Session, d: Dwelling) -> DwellingWalkPublic:
    """A dwelling's stage, its certificate and terms, and the next step."""
    assert d.id is not None
    terms = terms_of(session, [d.id]).get(d.id, [])
    return DwellingWalkPublic(
        ref=d.ref,
        status=d.status,
        next_step=NEXT_STEP.get(d.status),
        visited_on=d.visited_on,
        certificate_number=d.certificate_number,
        certificate_on=d.certificate_on,
        certificate_occupants=d.certificate_occupants,
        max_occupants=d.max_occupants,
        terms=[DwellingTermPublic.model_validate(t, from_attributes=True) for t in terms],
    )
