"""What the agency's records add up to, and the audit log: counts, sums and entries that
never name a person."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from agency import ledger
from agency.audit import Actor, record
from agency.models import (
    AuditEntry,
    Beneficiary,
    BeneficiaryStatus,
    Dwelling,
    Fund,
    Lease,
    LedgerEntry,
    LedgerKind,
    Room,
    Round,
    SharedFlat,
    UnitStatus,
)
from agency.records.common import Page, page_of


def aggregate_stats(session: Session, *, scope: int | None = None) -> dict[str, Any]:
    """Counts and sums for planners and dashboards: never a name, a ref or an address."""

    def by_status(model: Any) -> dict[str, int]:
        q = select(model.status, func.count()).group_by(model.status)
        if scope is not None:
            q = q.where(model.office_id == scope)
        return {str(s): int(n) for s, n in session.exec(q).all()}

    waiting = select(func.coalesce(func.sum(Beneficiary.adults + Beneficiary.minors), 0)).where(
        Beneficiary.status == BeneficiaryStatus.waiting.value
    )
    beds = (
        select(func.coalesce(func.sum(Room.beds), 0))
        .join(SharedFlat, col(SharedFlat.id) == col(Room.flat_id))
        .where(SharedFlat.status == UnitStatus.available.value)
    )
    let = (
        select(func.count())
        .select_from(Lease)
        .join(Room, col(Room.id) == col(Lease.room_id))
        .join(SharedFlat, col(SharedFlat.id) == col(Room.flat_id))
        .where(col(Lease.ended_on).is_(None), SharedFlat.status == UnitStatus.available.value)
    )
    if scope is not None:
        waiting = waiting.where(Beneficiary.office_id == scope)
        beds = beds.where(SharedFlat.office_id == scope)
        let = let.where(SharedFlat.office_id == scope)
    beds_total = int(session.exec(beds).one())
    balances = ledger.balances(session)
    active_funds = set(session.exec(select(Fund.id).where(col(Fund.active).is_(True))).all())
    committed = session.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            col(LedgerEntry.kind).in_([LedgerKind.commitment.value, LedgerKind.release.value])
        )
    ).one()
    leases = select(func.count()).select_from(Lease).where(col(Lease.ended_on).is_(None))
    return {
        "households_by_status": by_status(Beneficiary),
        "persons_waiting": int(session.exec(waiting).one()),
        "dwellings_by_status": by_status(Dwelling),
        "beds_total": beds_total,
        "beds_free": beds_total - int(session.exec(let).one()),
        "funds_balance_cents": sum(v for k, v in balances.items() if k in active_funds),
        "funds_count": len(active_funds),
        "rounds_by_status": by_status(Round),
        "leases_active": int(session.exec(leases).one()),
        "contribution_committed_cents": -int(committed),
    }


def audit_page(
    session: Session,
    actor: Actor,
    *,
    entity_ref: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[AuditEntry]:
    """The audit log, newest first (reading it is itself logged)."""
    conds: list[Any] = []
    if entity_ref:
        conds.append(AuditEntry.entity_ref == entity_ref)
    if action:
        conds.append(AuditEntry.action == action)
    if outcome:
        conds.append(AuditEntry.outcome == outcome)
    page = page_of(session, AuditEntry, conds, (col(AuditEntry.id).desc(),), limit, offset)
    record(session, actor, "audit.read", "audit", entity_ref)
    return page


def audit_export(
    session: Session,
    actor: Actor,
    *,
    entity_ref: str | None = None,
    limit: int = 10_000,
    fmt: str = "csv",
) -> list[AuditEntry]:
    """The newest ``limit`` entries (of one record, if named), for an export (audited)."""
    q = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    if entity_ref:
        q = q.where(AuditEntry.entity_ref == entity_ref)
    entries = list(session.exec(q))
    record(
        session,
        actor,
        "audit.export",
        "audit",
        entity_ref,
        detail={"format": fmt, "rows": len(entries)},
    )
    return entries
