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
from agency.models import Fund, GuaranteeEntry, GuaranteeKind, LedgerEntry, LedgerKind


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
    kind: LedgerKind = LedgerKind.commitment,
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
        kind=kind,
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


# --------------------------------------------------------------------------- the guarantee


def guarantee_balance(session: Session) -> int:
    """What the guarantee fund can still cover, in cents: grants - claims - open exposures."""
    total = session.exec(select(func.coalesce(func.sum(GuaranteeEntry.amount_cents), 0))).one()
    return int(total)


def lock_guarantee(session: Session) -> None:
    """Serialise the guarantee's movements (PostgreSQL: an advisory transaction lock;
    SQLite: the caller holds the database's write lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(select(func.pg_advisory_xact_lock(GUARANTEE_LOCK)))


GUARANTEE_LOCK = 0x6775_6172  # "guar"


def guarantee_grant(
    session: Session, actor: Actor, amount_cents: int, note: str | None = None
) -> GuaranteeEntry:
    """Money into the guarantee fund (a positive amount)."""
    if amount_cents <= 0:
        raise ValueError(f"amount_cents: a grant must be positive, got {amount_cents}")
    entry = GuaranteeEntry(
        kind=GuaranteeKind.grant, amount_cents=amount_cents, user_id=actor.user_id, note=note
    )
    session.add(entry)
    session.flush()
    record(session, actor, "guarantee.grant", "guarantee", None, detail={"cents": amount_cents})
    return entry


def expose(
    session: Session,
    actor: Actor,
    amount_cents: int,
    *,
    lease_id: int,
    round_id: int | None = None,
) -> GuaranteeEntry:
    """Put ``amount_cents`` of the guarantee at risk for a lease: refused if short.

    The caller must hold :func:`lock_guarantee` for the check to be safe."""
    if amount_cents <= 0:
        raise ValueError(f"amount_cents: an exposure must be positive, got {amount_cents}")
    left = guarantee_balance(session)
    if amount_cents > left:
        raise OverspendError(
            f"guarantee: exposure of {amount_cents} cents exceeds the {left} cents left"
        )
    entry = GuaranteeEntry(
        kind=GuaranteeKind.exposure,
        amount_cents=-amount_cents,
        lease_id=lease_id,
        round_id=round_id,
        user_id=actor.user_id,
    )
    session.add(entry)
    session.flush()
    return entry


def exposure_of(session: Session, lease_id: int) -> int:
    """A lease's exposure still open, in cents (exposures - releases)."""
    total = session.exec(
        select(func.coalesce(func.sum(GuaranteeEntry.amount_cents), 0)).where(
            GuaranteeEntry.lease_id == lease_id,
            col(GuaranteeEntry.kind).in_([GuaranteeKind.exposure, GuaranteeKind.release]),
        )
    ).one()
    return -int(total)


def pay_claim(
    session: Session, actor: Actor, lease_id: int, amount_cents: int, note: str | None = None
) -> GuaranteeEntry:
    """Arrears paid to a lease's landlord out of the guarantee: at most the lease's open
    exposure; the exposure shrinks by what is paid (it is no longer a risk, it is spent)."""
    lock_guarantee(session)
    if amount_cents <= 0:
        raise ValueError(f"amount_cents: a claim must be positive, got {amount_cents}")
    open_cents = exposure_of(session, lease_id)
    if amount_cents > open_cents:
        raise OverspendError(
            f"lease {lease_id}: a claim of {amount_cents} cents exceeds its guarantee's "
            f"open {open_cents} cents"
        )
    session.add(
        GuaranteeEntry(
            kind=GuaranteeKind.release,
            amount_cents=amount_cents,
            lease_id=lease_id,
            user_id=actor.user_id,
            note="claim",
        )
    )
    entry = GuaranteeEntry(
        kind=GuaranteeKind.claim,
        amount_cents=-amount_cents,
        lease_id=lease_id,
        user_id=actor.user_id,
        note=note,
    )
    session.add(entry)
    session.flush()
    record(session, actor, "guarantee.claim", "lease", None, detail={"cents": amount_cents})
    return entry


def release_exposure(session: Session, actor: Actor, lease_id: int) -> int:
    """Give back a lease's open exposure (the lease ended without arrears): the cents."""
    lock_guarantee(session)
    open_cents = exposure_of(session, lease_id)
    if open_cents > 0:
        session.add(
            GuaranteeEntry(
                kind=GuaranteeKind.release,
                amount_cents=open_cents,
                lease_id=lease_id,
                user_id=actor.user_id,
            )
        )
        session.flush()
    return open_cents


def guarantee_entries(session: Session) -> list[GuaranteeEntry]:
    return list(session.exec(select(GuaranteeEntry).order_by(col(GuaranteeEntry.id))))


def guarantee_summary(session: Session) -> dict[str, int]:
    """The guarantee fund in cents: ``granted``, ``exposed`` (open exposures), ``claims``
    (paid) and ``left`` (granted - claims - exposed)."""
    sums = dict(
        session.exec(
            select(GuaranteeEntry.kind, func.sum(GuaranteeEntry.amount_cents)).group_by(
                col(GuaranteeEntry.kind)
            )
        ).all()
    )
    got = {str(k): int(v or 0) for k, v in sums.items()}
    granted = got.get("grant", 0)
    exposed = -(got.get("exposure", 0) + got.get("release", 0))
    claims = -got.get("claim", 0)
    return {
        "granted": granted,
        "exposed": exposed,
        "claims": claims,
        "left": granted - claims - exposed,
    }
