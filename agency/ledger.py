"""The funds ledger: append-only movements in integer cents; a fund's balance is their sum.

Money leaves a fund only through :func:`commit`, called while the caller holds the fund's
lock (:func:`lock_funds`): on PostgreSQL a row lock taken in id order, on SQLite the
database write lock of a :func:`agency.db.write_session`. Two rounds closing at the same
moment therefore see each other's commitments, and a fund is never overspent.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, func, select

from agency.audit import Actor, record
from agency.models import Fund, LedgerEntry, LedgerKind


class OverspendError(ValueError):
    """A movement would take a fund below zero."""


def balance(session: Session, fund_id: int) -> int:
    """The fund's balance in cents: the sum of its entries."""
    total = session.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.fund_id == fund_id
        )
    ).one()
    return int(total)


def balances(session: Session) -> dict[int, int]:
    """Every fund's balance in cents (funds without entries at 0)."""
    rows = session.exec(
        select(LedgerEntry.fund_id, func.sum(LedgerEntry.amount_cents)).group_by(
            col(LedgerEntry.fund_id)
        )
    ).all()
    out = {int(fid): 0 for fid in session.exec(select(Fund.id)).all() if fid is not None}
    out.update({int(fid): int(total) for fid, total in rows})
    return out


def lock_funds(session: Session, fund_ids: Iterable[int]) -> None:
    """Lock these funds' rows until the transaction ends (id order: no deadlock)."""
    ids = sorted(set(fund_ids))
    if ids:
        session.exec(
            select(Fund.id).where(col(Fund.id).in_(ids)).order_by(col(Fund.id)).with_for_update()
        ).all()


def grant(
    session: Session, actor: Actor, fund: Fund, amount_cents: int, note: str | None = None
) -> LedgerEntry:
    """Money into a fund (a positive amount)."""
    if amount_cents <= 0:
        raise ValueError(f"amount_cents: a grant must be positive, got {amount_cents}")
    assert fund.id is not None
    entry = LedgerEntry(
        fund_id=fund.id,
        kind=LedgerKind.grant,
        amount_cents=amount_cents,
        user_id=actor.user_id,
        note=note,
    )
    session.add(entry)
    record(session, actor, "fund.grant", "fund", fund.code, detail={"cents": amount_cents})
    return entry


def commit(
    session: Session,
    actor: Actor,
    fund_id: int,
    amount_cents: int,
    *,
    round_id: int | None = None,
    lease_id: int | None = None,
    note: str | None = None,
) -> LedgerEntry:
    """Commit ``amount_cents`` (positive) of a fund: refused if the balance is short.

    The caller must hold the fund's lock (:func:`lock_funds`) for the check to be safe.
    """
    if amount_cents <= 0:
        raise ValueError(f"amount_cents: a commitment must be positive, got {amount_cents}")
    available = balance(session, fund_id)
    if amount_cents > available:
        raise OverspendError(
            f"fund {fund_id}: commitment of {amount_cents} cents exceeds "
            f"its balance of {available} cents"
        )
    entry = LedgerEntry(
        fund_id=fund_id,
        kind=LedgerKind.commitment,
        amount_cents=-amount_cents,
        round_id=round_id,
        lease_id=lease_id,
        user_id=actor.user_id,
        note=note,
    )
    session.add(entry)
    session.flush()
    return entry


def months_note(stay_from: str | None, stay_to: str | None, months: int) -> str:
    """A commitment's note: the months it pays for (``months 2027-07..2027-09 (3)``), or
    their number alone for a stay without a season."""
    if stay_from and stay_to:
        return f"months {stay_from}..{stay_to} ({months})"
    return f"months {months}"


def committed_months(session: Session, round_id: int) -> dict[int, str | None]:
    """Each lease of a round and the note of its commitment (the months it pays for)."""
    rows = session.exec(
        select(LedgerEntry.lease_id, LedgerEntry.note).where(
            LedgerEntry.round_id == round_id,
            LedgerEntry.kind == LedgerKind.commitment,
            col(LedgerEntry.lease_id).is_not(None),
        )
    ).all()
    return {int(lid): note for lid, note in rows if lid is not None}


def entries(session: Session, fund_id: int) -> list[LedgerEntry]:
    return list(
        session.exec(
            select(LedgerEntry).where(LedgerEntry.fund_id == fund_id).order_by(col(LedgerEntry.id))
        )
    )
