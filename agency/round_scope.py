"""Which households a new round would share with a round still under way.

Two rounds over the same households cannot both end: the one closed first houses them,
and the other is left with offers it can never close. So a round is opened only over
households that no open, solved or offers-out round holds (:func:`overlap`); a round
that must give way is cancelled (:mod:`agency.round_control`).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, col, or_, select

from agency.mapping import waiting
from agency.models import Round, RoundStatus

ACTIVE = (RoundStatus.open.value, RoundStatus.solved.value, RoundStatus.offers.value)


def lock_openings(session: Session) -> None:
    """Serialise round openings until the transaction ends (PostgreSQL; SQLite's write
    lock does it already), so that two at once cannot both find no overlap."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(170017)"))  # type: ignore[call-overload]


def overlap(session: Session, office_id: int | None) -> dict[str, int]:
    """``{round ref: households shared}`` of the active rounds that hold any household
    a new round of ``office_id`` (None: every office) would take."""
    q = select(Round).where(col(Round.status).in_(ACTIVE))
    if office_id is not None:
        q = q.where(or_(Round.office_id == office_id, col(Round.office_id).is_(None)))
    active = list(session.exec(q))
    if not active:
        return {}
    wanted = {b.ref for b in waiting(session, office_id)}
    out: dict[str, int] = {}
    for r in active:
        held = {b["id"] for b in r.snapshot.get("beneficiaries", [])}
        shared = len(wanted & held)
        if shared:
            out[r.ref] = shared
    return out
