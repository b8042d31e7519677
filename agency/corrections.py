"""Correcting the funds ledger the only way an append-only ledger allows: a reversal.

A grant entered wrongly (the wrong fund, a typo in the amount) is corrected by an
``adjustment`` entry of the opposite amount that names it (``reverses_id``), then a new
grant if needed. An entry is reversed at most once (a unique index), a reversal is never
reversed, and a reversal that would take the fund below zero (money already committed)
is refused. Audited as ``fund.reverse``.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from agency import ledger, records
from agency.audit import Actor, record
from agency.models import LedgerEntry, LedgerKind


def reverse_entry(
    session: Session, actor: Actor, fund_code: str, entry_id: int, note: str
) -> LedgerEntry:
    """Append the reversal of grant ``entry_id`` of fund ``fund_code`` (the caller
    commits); :class:`~agency.records.RecordError` names what is wrong."""
    fund = records.get_fund(session, fund_code)
    assert fund.id is not None
    ledger.lock_funds(session, [fund.id])
    entry = session.get(LedgerEntry, entry_id)
    if entry is None or entry.fund_id != fund.id:
        raise records.NotFoundError("ledger entry", str(entry_id))
    if entry.kind != LedgerKind.grant:
        raise records.RecordError(
            "entry",
            f"entry {entry_id} is a {entry.kind}: only grants "
            "are reversed here (commitments by a release)",
        )
    if (
        session.exec(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry_id)).first()
        is not None
    ):
        raise records.DuplicateError("entry", f"entry {entry_id} is already reversed")
    note = note.strip()
    if not note:
        raise records.RecordError("note", "say why the entry is reversed")
    available = ledger.balance(session, fund.id)
    if entry.amount_cents > available:
        raise records.RecordError(
            "entry",
            f"reversing {entry.amount_cents} cents would take "
            f"fund {fund.code} below zero (balance "
            f"{available} cents): money is committed",
        )
    reversal = LedgerEntry(
        fund_id=fund.id,
        kind=LedgerKind.adjustment,
        amount_cents=-entry.amount_cents,
        reverses_id=entry_id,
        user_id=actor.user_id,
        note=note[:500],
    )
    session.add(reversal)
    session.flush()
    record(
        session,
        actor,
        "fund.reverse",
        "fund",
        fund.code,
        detail={"entry": entry_id, "cents": -entry.amount_cents},
    )
    return reversal


def entries(session: Session, fund_code: str) -> list[LedgerEntry]:
    fund = records.get_fund(session, fund_code)
    return list(
        session.exec(
            select(LedgerEntry).where(LedgerEntry.fund_id == fund.id).order_by(col(LedgerEntry.id))
        )
    )
