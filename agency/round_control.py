"""Ending a round without closing it: cancelled, its pending offers withdrawn.

A round that can no longer close (its households housed by another round, its funds
spent) or that staff abandon is *cancelled*: every pending offer is withdrawn with the
reason, the households it had made ``offered`` wait again, and nothing reaches the
ledger. Audited as ``round.cancel``.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from agency.audit import Actor, record
from agency.errors import NotFoundError, RoundInputError, RoundStateError
from agency.models import (
    Beneficiary,
    BeneficiaryEvent,
    BeneficiaryStatus,
    Offer,
    OfferStatus,
    Round,
    RoundStatus,
    utcnow,
)
from agency.round_scope import ACTIVE


def cancel_round(session: Session, actor: Actor, round_id: int, reason: str) -> Round:
    """Cancel a round that is open, solved or has offers out (the caller commits)."""
    r = session.exec(select(Round).where(Round.id == round_id).with_for_update()).first()
    if r is None:
        raise NotFoundError("round", str(round_id))
    if r.status not in ACTIVE:
        raise RoundStateError(
            f"round {r.ref} is {r.status}: only a round under way can be cancelled"
        )
    reason = reason.strip()
    if not reason:
        raise RoundInputError("reason", "say why the round is cancelled")
    withdrawn = 0
    for o in session.exec(
        select(Offer).where(
            Offer.round_id == round_id, col(Offer.status).in_([OfferStatus.pending.value])
        )
    ):
        o.status, o.reason = OfferStatus.withdrawn, f"round cancelled: {reason}"[:500]
        o.answered_at, o.answered_by = utcnow(), actor.user_id
        session.add(o)
        withdrawn += 1
        b = session.get(Beneficiary, o.beneficiary_id)
        if b is not None and b.status == BeneficiaryStatus.offered:
            assert b.id is not None
            session.add(
                BeneficiaryEvent(
                    beneficiary_id=b.id,
                    kind="status",
                    from_status=str(b.status),
                    to_status=BeneficiaryStatus.waiting.value,
                    note=f"round {r.ref} cancelled",
                    user_id=actor.user_id,
                )
            )
            b.status, b.updated_at = BeneficiaryStatus.waiting, utcnow()
            session.add(b)
    r.status, r.closed_at, r.closed_by = RoundStatus.cancelled, utcnow(), actor.user_id
    session.add(r)
    session.flush()
    record(session, actor, "round.cancel", "round", r.ref, detail={"offers_withdrawn": withdrawn})
    return r
