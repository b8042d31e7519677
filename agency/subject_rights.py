"""The data subject's rights: everything held about one person (GDPR Art. 15), and their
erasure as a pseudonym (Art. 17), keeping what the law requires.

**Access** (:func:`subject_access`): the household's record, its members, its case
history, the rounds that took it (its entry in each snapshot, the proposals, staff's
decisions and the offers made to it), its leases, the funds ledger's lines of those
leases, and every audit line naming it. As JSON: no cell of it is ever read as a
formula.

**Erasure** (:func:`pseudonymise`): the identity goes (names become ``(erased)`` and the
ref, birth date, nationality, phone, workplace, settlement, tutor and plan, tags, health
needs and income are cleared, the workplace is moved to its municipality's centre), the
members are deleted, free-text notes and reasons are cleared, the tags leave the
snapshots of rounds no longer under way, and stored answers to repeated requests naming
the ref are dropped. What the agency must keep stays: the leases and the funds ledger's
amounts (accounting and the programmes' reporting), the case's status history, and the
audit log, all of which name the person by the opaque ref only, which nothing links to a
name any more. A household with an active lease or an offer awaiting its answer is
refused: end the lease or record the answer first. Both actions are audited.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, delete, select

from agency import records
from agency.audit import Actor, record
from agency.models import (
    AuditEntry,
    Beneficiary,
    BeneficiaryEvent,
    BeneficiaryStatus,
    Fund,
    HouseholdMember,
    IdempotencyRecord,
    Lease,
    LedgerEntry,
    Offer,
    OfferStatus,
    Proposal,
    Round,
    RoundDecision,
    RoundStatus,
    utcnow,
)
from agency.protected import unseal_snapshot

ERASED = "(erased)"
CLEARED = (
    "birth_date",
    "nationality",
    "phone",
    "workplace",
    "informal_settlement",
    "pai_tutor",
    "pai_started_on",
    "pai_next_review_on",
    "pai_goals",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _row(obj: Any, leave: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in obj.model_dump(mode="json", warnings=False).items() if k not in leave}


def _rounds_of(session: Session, ref: str) -> list[Round]:
    # the snapshot is JSON: a text match narrows, the parsed snapshot decides
    out = []
    for r in session.exec(select(Round).order_by(col(Round.id))):
        if any(b.get("id") == ref for b in r.snapshot.get("beneficiaries", [])):
            out.append(r)
    return out


def _entry(r: Round, ref: str) -> dict[str, Any]:
    """The household's entry in a round's snapshot, its sealed fields opened."""
    mine = [x for x in r.snapshot["beneficiaries"] if x.get("id") == ref]
    entry: dict[str, Any] = unseal_snapshot({"beneficiaries": mine})["beneficiaries"][0]
    return entry


def subject_access(
    session: Session, actor: Actor, ref: str, *, scope: int | None = None
) -> dict[str, Any]:
    """Everything held about household ``ref`` (an audited read)."""
    b = records.get_beneficiary(session, actor, ref, scope=scope)
    assert b.id is not None
    rounds_by_id = {r.id: r for r in _rounds_of(session, ref)}
    round_ref = {i: r.ref for i, r in rounds_by_id.items()}
    offers = list(
        session.exec(select(Offer).where(Offer.beneficiary_id == b.id).order_by(col(Offer.id)))
    )
    for o in offers:  # an offer's round, even if its snapshot were gone
        if o.round_id not in round_ref:
            r = session.get(Round, o.round_id)
            if r is not None:
                round_ref[o.round_id] = r.ref
    leases = list(
        session.exec(select(Lease).where(Lease.beneficiary_id == b.id).order_by(col(Lease.id)))
    )
    lease_ids = [x.id for x in leases]
    ledger = (
        list(
            session.exec(
                select(LedgerEntry)
                .where(col(LedgerEntry.lease_id).in_(lease_ids))
                .order_by(col(LedgerEntry.id))
            )
        )
        if lease_ids
        else []
    )
    funds = dict(session.exec(select(Fund.id, Fund.code)).all())
    out: dict[str, Any] = {
        "format": "housing-match/subject-access@1",
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "beneficiary": _row(b, ("identity_key",)),
        "members": [_row(m) for m in records.household_members(session, b)],
        "events": [_row(e) for e in records.beneficiary_events(session, b)],
        "rounds": [
            {
                "round": r.ref,
                "name": r.name,
                "status": str(r.status),
                "opened_at": _plain(r.opened_at),
                "snapshot_entry": unseal_snapshot(
                    {
                        "beneficiaries": [
                            x for x in r.snapshot["beneficiaries"] if x.get("id") == ref
                        ]
                    }
                )["beneficiaries"][0],
            }
            for r in rounds_by_id.values()
        ],
        "proposals": [
            {**_row(p, ("round_id",)), "round": round_ref.get(p.round_id)}
            for p in session.exec(
                select(Proposal).where(Proposal.beneficiary_id == b.id).order_by(col(Proposal.id))
            )
        ],
        "decisions": [
            {**_row(d, ("round_id",)), "round": round_ref.get(d.round_id)}
            for d in session.exec(
                select(RoundDecision)
                .where(RoundDecision.beneficiary_id == b.id)
                .order_by(col(RoundDecision.id))
            )
        ],
        "offers": [
            {
                **_row(o, ("round_id",)),
                "round": round_ref.get(o.round_id),
                "fund": funds.get(o.fund_id) if o.fund_id else None,
            }
            for o in offers
        ],
        "leases": [
            {
                **_row(x, ("round_id",)),
                "round": round_ref.get(x.round_id),
                "fund": funds.get(x.fund_id) if x.fund_id else None,
            }
            for x in leases
        ],
        "ledger": [{**_row(e), "fund": funds.get(e.fund_id)} for e in ledger],
        "audit": [
            _row(e)
            for e in session.exec(
                select(AuditEntry).where(AuditEntry.entity_ref == ref).order_by(col(AuditEntry.id))
            )
        ],
    }
    record(
        session,
        actor,
        "subject.access",
        "beneficiary",
        ref,
        detail={"leases": len(leases), "offers": len(offers)},
    )
    return out


def erasable(session: Session, b: Beneficiary) -> str | None:
    """Why ``b`` cannot be pseudonymised now, or None."""
    if session.exec(
        select(Lease.id).where(Lease.beneficiary_id == b.id, col(Lease.ended_on).is_(None))
    ).first():
        return "holds an active lease: end it first (its amounts stay in the ledger)"
    if session.exec(
        select(Offer.id).where(
            Offer.beneficiary_id == b.id,
            col(Offer.status).in_([OfferStatus.pending.value, OfferStatus.accepted.value]),
            col(Offer.round_id).in_(
                select(Round.id).where(
                    col(Round.status).in_([RoundStatus.solved.value, RoundStatus.offers.value])
                )
            ),
        )
    ).first():
        return "has an offer in a round under way: record its answer or cancel the round"
    return None


def pseudonymise(
    session: Session, actor: Actor, ref: str, reason: str, *, scope: int | None = None
) -> Beneficiary:
    """Erase household ``ref``'s identity, keeping the ledger's amounts (the caller
    commits). :class:`~agency.records.RecordError` says why it cannot be done."""
    b = records.get_beneficiary(session, actor, ref, scope=scope)
    if b.pseudonymised_at is not None:
        raise records.RecordError("ref", f"{ref} is already a pseudonym")
    why = erasable(session, b)
    if why:
        raise records.RecordError("ref", f"{ref} {why}")
    reason = reason.strip()
    if not reason:
        raise records.RecordError("reason", "say why (the person's request, retention...)")
    assert b.id is not None
    code, lat, lon = records.resolve_municipality(
        "work_municipality", b.work_municipality or "Foggia"
    )
    for name in CLEARED:
        setattr(b, name, None)
    b.given_name, b.family_name = ERASED, b.ref
    b.tags, b.health_needs, b.income_cents = [], False, 0
    b.avoid_zones = None
    b.work_municipality, b.work_lat, b.work_lon = code, lat, lon
    b.priority_breakdown = []
    if b.status != BeneficiaryStatus.closed:
        session.add(
            BeneficiaryEvent(
                beneficiary_id=b.id,
                kind="status",
                from_status=str(b.status),
                to_status=BeneficiaryStatus.closed.value,
                note=None,
                user_id=actor.user_id,
            )
        )
        b.status = BeneficiaryStatus.closed
    b.pseudonymised_at = b.updated_at = utcnow()
    session.add(b)
    session.exec(delete(HouseholdMember).where(col(HouseholdMember.beneficiary_id) == b.id))
    for e in session.exec(
        select(BeneficiaryEvent).where(
            BeneficiaryEvent.beneficiary_id == b.id, col(BeneficiaryEvent.note).is_not(None)
        )
    ):
        e.note = None
        session.add(e)
    for o in session.exec(
        select(Offer).where(Offer.beneficiary_id == b.id, col(Offer.reason).is_not(None))
    ):
        o.reason = None
        session.add(o)
    for d in session.exec(
        select(RoundDecision).where(
            RoundDecision.beneficiary_id == b.id, col(RoundDecision.note).is_not(None)
        )
    ):
        d.note = None
        session.add(d)
    for r in _rounds_of(session, ref):
        if r.status in (RoundStatus.closed, RoundStatus.cancelled):
            snap = dict(r.snapshot)
            snap["beneficiaries"] = [
                {**{k: v for k, v in x.items() if k != "sealed"}, "tags": []}
                if x.get("id") == ref
                else x
                for x in snap["beneficiaries"]
            ]
            r.snapshot = snap
            session.add(r)
    session.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.body).contains(ref)))
    session.flush()
    record(
        session, actor, "subject.pseudonymise", "beneficiary", ref, detail={"reason": reason[:64]}
    )
    return b
