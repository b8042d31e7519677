"""The allocation round as the agency works it.

::

    open ──► solve ──► review (lock / forbid, re-solve) ──► offers ──► answers
                 ▲                                                    │
                 └──────── re-solve the refused, accepted pinned ◄────┘
                                                                      ▼
                                        close: leases + commitments in the funds ledger

- **open** takes a snapshot: the waiting households (priorities recomputed with their
  breakdown), the free dwellings and beds, and each fund at its ledger balance.
- **solve** maps the snapshot and the staff's decisions to a :class:`matching.Instance`
  (:mod:`agency.mapping`), runs :func:`matching.solve.solve` outside any transaction,
  checks the result with the independent validator and stores it with its proposals.
- **decide**: staff *lock* a pair (pinned in every later solve) or *forbid* it.
- **offers** go out for the current proposals; **answers** are recorded: accepted; refused
  by the household or by the landlord (the pair is forbidden from then on); unreachable
  (the household leaves this round). Accepted and pending offers are pinned in re-solves.
- **close**, in one transaction holding the write lock (SQLite) or the rows' locks in a
  fixed order (PostgreSQL): every accepted offer becomes a lease and its contribution a
  commitment in the ledger, or, if any unit is taken or any fund short meanwhile, nothing
  is written and the conflicts are reported. A process killed while closing therefore
  leaves the round as it was, and closable.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from agency import accountability, faults, round_scope
from agency.audit import Actor, record
from agency.db import write_session
from agency.errors import NotFoundError
from agency.errors import RoundConflict as RoundConflict  # re-exported: callers catch them
from agency.errors import RoundError as RoundError
from agency.errors import RoundInputError as RoundInputError
from agency.errors import RoundStateError as RoundStateError
from agency.ledger import (
    balance,
    balances,
    commit,
    expose,
    guarantee_balance,
    lock_funds,
    lock_guarantee,
    months_note,
)
from agency.mapping import is_occupant, resolve_refs, snapshot, waiting
from agency.models import (
    Beneficiary,
    BeneficiaryEvent,
    BeneficiaryStatus,
    DecisionKind,
    Dwelling,
    Fund,
    Lease,
    LedgerKind,
    Offer,
    OfferStatus,
    Proposal,
    Room,
    Round,
    RoundDecision,
    RoundStatus,
    SharedFlat,
    ShuttleLine,
    UnitStatus,
    utcnow,
)
from agency.priority import PriorityPolicy, compute
from agency.protected import seal_snapshot
from agency.schemas import RoundPolicy
from matching.explain import REASON_TEXT
from matching.instance import Instance, InstanceError, instance_from_dict, month_text, parse_month
from matching.params import SolveParams
from matching.result import Result, result_from_dict
from matching.solve import ProgressEvent, solve
from matching.validate import validate

log = logging.getLogger(__name__)

ACTIVE = (OfferStatus.pending, OfferStatus.accepted)
REFUSED = (OfferStatus.refused_household, OfferStatus.refused_landlord)
ANSWERS = (
    OfferStatus.accepted,
    OfferStatus.refused_household,
    OfferStatus.refused_landlord,
    OfferStatus.unreachable,
    OfferStatus.withdrawn,
)
SOLVABLE = (RoundStatus.open, RoundStatus.solved, RoundStatus.offers)
REPLY_DAYS = 7
"""Days a household has to answer an offer (its letter gives the date)."""


def _get(session: Session, round_id: int, *, lock: bool = False) -> Round:
    q = select(Round).where(Round.id == round_id)
    r = session.exec(q.with_for_update() if lock else q).first()
    if r is None:
        raise NotFoundError("round", str(round_id))
    return r


def _status_event(
    session: Session, actor: Actor, b: Beneficiary, to: BeneficiaryStatus, note: str
) -> None:
    if b.status == to:
        return
    assert b.id is not None
    session.add(
        BeneficiaryEvent(
            beneficiary_id=b.id,
            kind="status",
            from_status=str(b.status),
            to_status=str(to),
            note=note,
            user_id=actor.user_id,
        )
    )
    b.status = to
    b.updated_at = utcnow()
    session.add(b)


# --------------------------------------------------------------------------- open


def open_round(
    session: Session,
    actor: Actor,
    *,
    name: str,
    office_id: int | None = None,
    policy: RoundPolicy | None = None,
    on: date | None = None,
    time_limit_s: float = 30.0,
    seed: int = 0,
    priority_policy: PriorityPolicy | None = None,
) -> Round:
    """Open a round: recompute the waiting households' priorities and take the snapshot.

    Adds the round to ``session`` (flushed, not committed) and returns it.
    """
    name = name.strip()
    if not name:
        raise RoundInputError("name", "a round needs a name")
    if not 0 < time_limit_s <= 3600:
        raise RoundInputError("time_limit_s", f"must be in (0, 3600] seconds, got {time_limit_s}")
    SolveParams(time_limit=time_limit_s, seed=seed)  # checks the seed too
    on = on or utcnow().date()
    round_scope.lock_openings(session)
    clash = round_scope.overlap(session, office_id)
    if clash:
        raise RoundInputError(
            "households",
            "; ".join(
                f"{n} of them are in round {ref}, still under way" for ref, n in clash.items()
            )
            + ": close or cancel it first",
        )
    policy = policy or RoundPolicy()
    rules = priority_policy or PriorityPolicy.load()
    now = utcnow()
    for b in waiting(session, office_id):
        b.priority, b.priority_breakdown = compute(b, rules, on)
        b.priority_computed_at = now
        session.add(b)
    session.flush()
    snap = snapshot(
        session,
        name=name,
        office_id=office_id,
        policy=policy,
        on=on,
        fund_balances=balances(session),
        guarantee_cents=guarantee_balance(session),
    )
    if snap.households == 0:
        raise RoundStateError("no household is waiting" + (" in this office" if office_id else ""))
    try:
        instance_from_dict(snap.instance)
    except InstanceError as exc:
        raise RoundStateError(f"the records do not make a valid round: {exc}") from exc
    r = Round(
        name=name,
        office_id=office_id,
        status=RoundStatus.open,
        policy=policy.model_dump(),
        time_limit_s=time_limit_s,
        seed=seed,
        snapshot=seal_snapshot(snap.instance),
        opened_by=actor.user_id,
    )
    session.add(r)
    session.flush()
    record(
        session,
        actor,
        "round.open",
        "round",
        r.ref,
        detail={
            "households": snap.households,
            "dwellings": snap.dwellings,
            "flats": snap.flats,
            "free_beds": snap.free_beds,
        },
    )
    log.info(
        "round %s opened: %d households, %d dwellings, %d free beds",
        r.ref,
        snap.households,
        snap.dwellings,
        snap.free_beds,
    )
    return r


# --------------------------------------------------------------------------- the instance


@dataclass
class _RefMaps:
    beneficiary: dict[int, str]
    dwelling: dict[int, str]
    flat: dict[int, str]
    room: dict[int, str]


def _ref_maps(
    session: Session, offers: Iterable[Offer], decisions: Iterable[RoundDecision]
) -> _RefMaps:
    offers, decisions = list(offers), list(decisions)
    bids = {o.beneficiary_id for o in offers} | {d.beneficiary_id for d in decisions}

    def refs(model: Any, ids: Iterable[int | None]) -> dict[int, str]:
        wanted = sorted({i for i in ids if i is not None})
        if not wanted:
            return {}
        return {
            int(i): r
            for i, r in session.exec(
                select(model.id, model.ref).where(col(model.id).in_(wanted))
            ).all()
        }

    return _RefMaps(
        beneficiary=refs(Beneficiary, bids),
        dwelling=refs(Dwelling, (o.dwelling_id for o in offers)),
        flat=refs(SharedFlat, (o.flat_id for o in offers)),
        room=refs(Room, (o.room_id for o in offers)),
    )


def _offer_unit(o: Offer, m: _RefMaps) -> tuple[str, str | None]:
    if o.dwelling_id is not None:
        return m.dwelling[o.dwelling_id], None
    assert o.flat_id is not None
    return m.flat[o.flat_id], (m.room[o.room_id] if o.room_id is not None else None)


def solve_inputs(session: Session, r: Round) -> dict[str, Any]:
    """What a solve of round ``r`` adds to its snapshot now: ``pinned`` (accepted and
    pending offers, staff's locks), ``forbidden`` (refusals, staff's bans), ``excluded``
    (the households found unreachable) and ``agreed`` (the terms a dwelling was offered
    on). Kept with each solve (:class:`agency.models.RoundSolve`), so that its instance
    can be rebuilt."""
    offers = list(session.exec(select(Offer).where(Offer.round_id == r.id).order_by(col(Offer.id))))
    decisions = list(
        session.exec(
            select(RoundDecision)
            .where(RoundDecision.round_id == r.id)
            .order_by(col(RoundDecision.id))
        )
    )
    m = _ref_maps(session, offers, decisions)
    pins: dict[str, dict[str, Any]] = {}
    forbidden: set[tuple[str, str]] = set()
    excluded: set[str] = set()
    agreed: dict[str, str] = {}  # a dwelling offered on terms keeps them
    for o in offers:
        who = m.beneficiary[o.beneficiary_id]
        unit, room = _offer_unit(o, m)
        if o.status in ACTIVE:
            pins[who] = {"beneficiary": who, "unit": unit, "room": room}
            if o.term is not None:
                agreed[unit] = o.term
        elif o.status in REFUSED:
            forbidden.add((who, unit))
        elif o.status == OfferStatus.unreachable:
            excluded.add(who)
    for d in decisions:
        who = m.beneficiary[d.beneficiary_id]
        if d.kind == DecisionKind.forbid:
            forbidden.add((who, d.unit_ref))
        elif who not in pins:
            pins[who] = {"beneficiary": who, "unit": d.unit_ref, "room": d.room_ref}
    excluded -= set(pins)
    return {
        "pinned": [{k: v for k, v in p.items() if v is not None} for p in pins.values()],
        "forbidden": [
            {"beneficiary": b, "unit": u} for b, u in sorted(forbidden) if b not in excluded
        ],
        "excluded": sorted(excluded),
        "agreed": dict(sorted(agreed.items())),
    }


def instance_for(session: Session, r: Round) -> Instance:
    """The instance a solve of round ``r`` works on now: its snapshot, with accepted and
    pending offers and staff's locks pinned, refusals and staff's bans forbidden, the
    households found unreachable left out, and a dwelling offered on terms kept on them."""
    return instance_from_dict(
        accountability.instance_data(r.snapshot, solve_inputs(session, r)), source=r.ref
    )


# --------------------------------------------------------------------------- solve


def _progress_dict(e: ProgressEvent) -> dict[str, Any]:
    return {
        "stage": e.stage,
        "incumbent": e.incumbent,
        "bound": e.bound,
        "elapsed": round(e.elapsed, 3),
    }


def solve_round(
    engine: Engine,
    actor: Actor,
    round_id: int,
    *,
    progress: Callable[[dict[str, Any]], None] | None = None,
    max_seconds: float | None = None,
) -> Round:
    """Solve (or re-solve) a round and store its result and proposals.

    Long: it runs the engine outside any transaction (seconds to minutes), so call it
    from a job, never inside a request. ``progress`` receives ``{"stage", "incumbent",
    "bound", "elapsed"}`` dicts while the engine runs. ``max_seconds`` caps the round's
    time limit (a service's cap).
    """
    with Session(engine) as session:
        r = _get(session, round_id)
        if r.status not in SOLVABLE:
            raise RoundStateError(f"round {r.ref} is {r.status}: it can no longer be solved")
        inputs = solve_inputs(session, r)
        inst = instance_from_dict(accountability.instance_data(r.snapshot, inputs), source=r.ref)
        extra = accountability.nationalities(session, inst)
        seen = r.solve_count
        limit = r.time_limit_s if max_seconds is None else min(r.time_limit_s, max_seconds)
        params = SolveParams(time_limit=limit, seed=r.seed)
    callback = (lambda e: progress(_progress_dict(e))) if progress else None
    result = solve(inst, params, progress=callback)
    violations = validate(inst, result)
    if violations:  # never store an allocation that breaks a rule
        raise RuntimeError(
            f"round {round_id}: the engine's result breaks the rules: "
            + "; ".join(str(v) for v in violations[:5])
        )
    audited, audit_seconds = accountability.round_audit(inst, result, extra)
    with write_session(engine) as session:
        r = _get(session, round_id, lock=True)
        if r.status not in SOLVABLE:
            raise RoundStateError(f"round {r.ref} became {r.status} while solving")
        if r.solve_count != seen:
            raise RoundStateError(
                f"round {r.ref} was solved by someone else meanwhile: "
                "look at their result, or solve again"
            )
        _store(session, actor, r, result)
        accountability.record_solve(
            session, r, r.solve_count, inst, inputs, params, result, audited, audit_seconds
        )
        session.flush()
        session.refresh(r)
        session.expunge(r)
    return r


def stays_of(snapshot: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Each household's months in a round with a horizon (``"YYYY-MM"``, first and last):
    its season, or the whole horizon; empty for a round without a horizon."""
    h = snapshot.get("policy", {}).get("horizon")
    if not h:
        return {}
    first = parse_month(h["start"])
    whole = (h["start"], month_text(first + int(h["months"]) - 1))
    return {
        b["id"]: (b["stay"]["from"], b["stay"]["to"]) if "stay" in b else whole
        for b in snapshot.get("beneficiaries", [])
    }


def _store(session: Session, actor: Actor, r: Round, result: Result) -> None:
    assert r.id is not None
    for p in session.exec(
        select(Proposal).where(Proposal.round_id == r.id, col(Proposal.current).is_(True))
    ):
        p.current = False
        session.add(p)
    real = [a for a in result.assignments if not is_occupant(a.beneficiary)]
    refs = resolve_refs(
        session,
        (a.beneficiary for a in real),
        (a.unit for a in real),
        (a.room for a in real if a.room),
        (a.fund for a in real if a.fund),
    )
    iteration = r.solve_count + 1
    stays = stays_of(r.snapshot)
    line_ids = dict(
        session.exec(
            select(ShuttleLine.ref, ShuttleLine.id).where(
                col(ShuttleLine.ref).in_(sorted({a.shuttle for a in real if a.shuttle}))
            )
        ).all()
    )
    active = {
        o.beneficiary_id: o
        for o in session.exec(
            select(Offer).where(Offer.round_id == r.id, col(Offer.status).in_(ACTIVE))
        )
    }
    for a in real:
        p = Proposal(
            round_id=r.id,
            iteration=iteration,
            current=True,
            beneficiary_id=refs.beneficiaries[a.beneficiary],
            dwelling_id=refs.dwellings.get(a.unit),
            flat_id=refs.flats.get(a.unit),
            room_id=refs.rooms.get(a.room) if a.room else None,
            fund_id=refs.funds.get(a.fund) if a.fund else None,
            contribution_cents=a.contribution_cents,
            commute_km=round(a.commute_km, 3),
            months=a.months if result.v2 else None,
            stay_from=stays[a.beneficiary][0] if a.beneficiary in stays else None,
            stay_to=stays[a.beneficiary][1] if a.beneficiary in stays else None,
            line_id=line_ids.get(a.shuttle) if a.shuttle else None,
            term=a.term,
            one_off_cents=a.one_off_cents,
        )
        session.add(p)
        offer = active.get(p.beneficiary_id)
        if offer is not None:
            # The offer's home is pinned, but the solve may pay it from another fund to make
            # room for the others: the offer follows, so that the accepted and pending offers
            # stay within this allocation, which keeps every fund within its budget.
            session.flush()
            assert p.id is not None
            offer.proposal_id, offer.fund_id = p.id, p.fund_id
            offer.line_id = p.line_id
            session.add(offer)
    r.result = result.to_dict()
    r.solve_count = iteration
    r.solved_at = utcnow()
    if r.status == RoundStatus.open:
        r.status = RoundStatus.solved
    session.add(r)
    record(
        session,
        actor,
        "round.solve",
        "round",
        r.ref,
        detail={
            "iteration": iteration,
            "status": result.status,
            "weight": result.objective.weight,
            "bound": result.bound_weight,
            "placed": len(real),
            "seconds": round(result.solve_seconds, 2),
        },
    )
    log.info(
        "round %s solved (%d): %s, %d placed, weight %d, bound %s",
        r.ref,
        iteration,
        result.status,
        len(real),
        result.objective.weight,
        result.bound_weight,
    )


# --------------------------------------------------------------------------- review


def _beneficiary_by_ref(session: Session, ref: str) -> Beneficiary:
    b = session.exec(select(Beneficiary).where(Beneficiary.ref == ref)).first()
    if b is None:
        raise RoundInputError("beneficiary_ref", f"no household {ref}")
    return b


def decide(
    session: Session,
    actor: Actor,
    round_id: int,
    beneficiary_ref: str,
    unit_ref: str,
    kind: DecisionKind,
    room_ref: str | None = None,
    note: str | None = None,
) -> RoundDecision:
    """Lock (pin) or forbid a (household, unit) pair for the next solves of a round."""
    r = _get(session, round_id)
    if r.status not in SOLVABLE:
        raise RoundStateError(f"round {r.ref} is {r.status}: its pairs can no longer change")
    kind = DecisionKind(kind)
    snap_b = {b["id"] for b in r.snapshot["beneficiaries"]}
    if beneficiary_ref not in snap_b or is_occupant(beneficiary_ref):
        raise RoundInputError(
            "beneficiary_ref", f"household {beneficiary_ref} is not part of round {r.ref}"
        )
    flats = {f["id"]: {room["id"] for room in f["rooms"]} for f in r.snapshot["shared_flats"]}
    dwellings = {d["id"] for d in r.snapshot["dwellings"]}
    if unit_ref not in dwellings and unit_ref not in flats:
        raise RoundInputError("unit_ref", f"unit {unit_ref} is not part of round {r.ref}")
    if room_ref is not None and room_ref not in flats.get(unit_ref, set()):
        raise RoundInputError("room_ref", f"room {room_ref} is not a room of {unit_ref}")
    b = _beneficiary_by_ref(session, beneficiary_ref)
    existing = list(
        session.exec(
            select(RoundDecision).where(
                RoundDecision.round_id == round_id, RoundDecision.beneficiary_id == b.id
            )
        )
    )
    if kind == DecisionKind.lock and any(d.kind == DecisionKind.lock for d in existing):
        raise RoundStateError(
            f"beneficiary {beneficiary_ref} already has a locked pair in this round: undo it first"
        )
    if any(d.unit_ref == unit_ref for d in existing):
        raise RoundStateError(
            f"the pair {beneficiary_ref}–{unit_ref} already has a decision: undo it first"
        )
    active = session.exec(
        select(Offer).where(
            Offer.round_id == round_id, Offer.beneficiary_id == b.id, col(Offer.status).in_(ACTIVE)
        )
    ).first()
    if active is not None:
        raise RoundStateError(
            f"beneficiary {beneficiary_ref} has an offer {active.status}: "
            "record its answer before changing their pairs"
        )
    assert b.id is not None
    d = RoundDecision(
        round_id=round_id,
        beneficiary_id=b.id,
        unit_ref=unit_ref,
        room_ref=room_ref,
        kind=kind,
        note=note,
        user_id=actor.user_id,
    )
    session.add(d)
    session.flush()
    record(
        session,
        actor,
        f"round.{kind}",
        "beneficiary",
        beneficiary_ref,
        detail={"round": r.ref, "unit": unit_ref, "room": room_ref},
    )
    return d


def undo_decision(session: Session, actor: Actor, decision_id: int) -> None:
    d = session.get(RoundDecision, decision_id)
    if d is None:
        raise NotFoundError("decision", str(decision_id))
    r = _get(session, d.round_id)
    if r.status not in SOLVABLE:
        raise RoundStateError(f"round {r.ref} is {r.status}: its pairs can no longer change")
    b = session.get(Beneficiary, d.beneficiary_id)
    session.delete(d)
    record(
        session,
        actor,
        "round.undo",
        "beneficiary",
        b.ref if b else None,
        detail={"round": r.ref, "unit": d.unit_ref, "kind": str(d.kind)},
    )


# --------------------------------------------------------------------------- offers


def send_offers(
    session: Session,
    actor: Actor,
    round_id: int,
    proposal_ids: list[int] | None = None,
    *,
    on: date | None = None,
    reply_days: int = REPLY_DAYS,
) -> list[Offer]:
    """Offers for the round's current proposals (all, or those named), skipping households
    that already hold a pending or accepted offer in this round."""
    r = _get(session, round_id)
    if r.status not in (RoundStatus.solved, RoundStatus.offers):
        raise RoundStateError(f"round {r.ref} is {r.status}: solve it before sending offers")
    q = select(Proposal).where(Proposal.round_id == round_id, col(Proposal.current).is_(True))
    proposals = list(session.exec(q.order_by(col(Proposal.id))))
    if proposal_ids is not None:
        wanted = set(proposal_ids)
        unknown = wanted - {p.id for p in proposals}
        if unknown:
            raise RoundInputError(
                "proposal_ids", f"{sorted(unknown)} are not current proposals of {r.ref}"
            )
        proposals = [p for p in proposals if p.id in wanted]
    holding = set(
        session.exec(
            select(Offer.beneficiary_id).where(
                Offer.round_id == round_id, col(Offer.status).in_(ACTIVE)
            )
        ).all()
    )
    sent: list[Offer] = []
    for p in proposals:
        if p.beneficiary_id in holding:
            continue
        assert p.id is not None
        o = Offer(
            round_id=round_id,
            proposal_id=p.id,
            beneficiary_id=p.beneficiary_id,
            dwelling_id=p.dwelling_id,
            flat_id=p.flat_id,
            room_id=p.room_id,
            fund_id=p.fund_id,
            contribution_cents=p.contribution_cents,
            commute_km=p.commute_km,
            months=p.months,
            stay_from=p.stay_from,
            stay_to=p.stay_to,
            line_id=p.line_id,
            term=p.term,
            one_off_cents=p.one_off_cents,
            sent_by=actor.user_id,
            reply_by=(on or utcnow().date()) + timedelta(days=reply_days),
        )
        session.add(o)
        b = session.get(Beneficiary, p.beneficiary_id)
        assert b is not None
        _status_event(session, actor, b, BeneficiaryStatus.offered, f"offer in round {r.ref}")
        record(session, actor, "offer.send", "beneficiary", b.ref, detail={"round": r.ref})
        sent.append(o)
    r.status = RoundStatus.offers
    session.add(r)
    session.flush()
    return sent


def overdue(offer: Offer, on: date | None = None) -> bool:
    """A pending offer whose reply-by date has passed."""
    return (
        offer.status == OfferStatus.pending
        and offer.reply_by is not None
        and offer.reply_by < (on or utcnow().date())
    )


def record_answer(
    session: Session,
    actor: Actor,
    offer_id: int,
    status: OfferStatus | str,
    reason: str | None = None,
) -> Offer:
    """Record the answer to a pending offer. Refusals and 'unreachable' need a reason."""
    o = session.get(Offer, offer_id)
    if o is None:
        raise NotFoundError("offer", str(offer_id))
    r = _get(session, o.round_id)
    if r.status != RoundStatus.offers:
        raise RoundStateError(f"round {r.ref} is {r.status}: answers can no longer be recorded")
    try:
        status = OfferStatus(status)
    except ValueError:
        raise RoundInputError(
            "status", f"must be one of {', '.join(ANSWERS)}, got {status!r}"
        ) from None
    if status not in ANSWERS:
        raise RoundInputError("status", f"must be one of {', '.join(ANSWERS)}, got {status!r}")
    if o.status != OfferStatus.pending:
        raise RoundStateError(f"offer {offer_id} was already answered: {o.status}")
    reason = (reason or "").strip() or None
    if status != OfferStatus.accepted and reason is None:
        raise RoundInputError("reason", f"say why the offer was {status.replace('_', ' ')}")
    o.status, o.reason = status, reason
    o.answered_at, o.answered_by = utcnow(), actor.user_id
    session.add(o)
    b = session.get(Beneficiary, o.beneficiary_id)
    assert b is not None
    if status != OfferStatus.accepted:
        _status_event(
            session, actor, b, BeneficiaryStatus.waiting, f"offer in round {r.ref}: {status}"
        )
    record(session, actor, f"offer.{status}", "beneficiary", b.ref, detail={"round": r.ref})
    session.flush()
    return o


# --------------------------------------------------------------------------- close


@dataclass(frozen=True)
class CloseReport:
    round_ref: str
    leases: int
    committed_cents: dict[str, int] = field(default_factory=dict)
    one_off_cents: int = 0
    """Of the committed cents, the landlords' one-off incentives."""
    guarantee_cents: int = 0
    """The guarantee fund's exposure taken on by the new leases."""


def close_round(engine: Engine, actor: Actor, round_id: int, on: date | None = None) -> CloseReport:
    """Close a round: accepted offers become leases and commitments, all or nothing."""
    with write_session(engine) as session:
        return _close(session, actor, round_id, on or utcnow().date())


def _close(session: Session, actor: Actor, round_id: int, on: date) -> CloseReport:
    r = _get(session, round_id, lock=True)
    if r.status not in (RoundStatus.solved, RoundStatus.offers):
        raise RoundStateError(f"round {r.ref} is {r.status}: only a solved round can be closed")
    offers = list(
        session.exec(select(Offer).where(Offer.round_id == round_id).order_by(col(Offer.id)))
    )
    pending = [o for o in offers if o.status == OfferStatus.pending]
    if pending:
        raise RoundStateError(
            f"round {r.ref} has {len(pending)} offers without an answer: "
            "record each answer (or withdraw the offer) before closing"
        )
    accepted = [o for o in offers if o.status == OfferStatus.accepted]
    default_months = int(r.policy.get("contribution_months", 12))
    months = {o.id: o.months if o.months is not None else default_months for o in accepted}
    # Locks in a fixed order: funds, dwellings, rooms (PostgreSQL; SQLite holds the file).
    lock_funds(session, (o.fund_id for o in accepted if o.fund_id is not None))
    dwelling_ids = sorted({o.dwelling_id for o in accepted if o.dwelling_id is not None})
    room_ids = sorted({o.room_id for o in accepted if o.room_id is not None})
    dwellings = {
        d.id: d
        for d in session.exec(
            select(Dwelling)
            .where(col(Dwelling.id).in_(dwelling_ids))
            .order_by(col(Dwelling.id))
            .with_for_update()
        )
    }
    rooms = {
        rm.id: rm
        for rm in session.exec(
            select(Room).where(col(Room.id).in_(room_ids)).order_by(col(Room.id)).with_for_update()
        )
    }
    lock_guarantee(session)
    terms = _snapshot_terms(r)
    g_months = int(r.policy.get("guarantee_months", 3))
    exposure: dict[int, int] = {}  # offer id -> the guarantee it needs
    for o in accepted:
        t = _term_of(o, dwellings, terms)
        if t is not None and t.get("guaranteed"):
            exposure[o.id or 0] = int(t["rent_cents"]) * g_months
    conflicts = _conflicts(session, accepted, dwellings, rooms, months)
    if exposure and sum(exposure.values()) > guarantee_balance(session):
        conflicts.append(
            f"the guarantee fund has {guarantee_balance(session)} cents left for "
            f"{sum(exposure.values())}"
        )
    if conflicts:
        record(
            session,
            actor,
            "round.close",
            "round",
            r.ref,
            outcome="conflict",
            detail={"conflicts": len(conflicts)},
        )
        session.commit()  # the refused attempt stays in the audit log
        raise RoundConflict(f"round {r.ref} cannot close", conflicts)
    committed: dict[int, int] = defaultdict(int)
    one_offs = exposed = 0
    for o in accepted:
        t = _term_of(o, dwellings, terms)
        lease = Lease(
            round_id=round_id,
            offer_id=o.id,
            beneficiary_id=o.beneficiary_id,
            dwelling_id=o.dwelling_id,
            flat_id=o.flat_id,
            room_id=o.room_id,
            fund_id=o.fund_id if o.contribution_cents else None,
            contribution_cents=o.contribution_cents,
            months=months[o.id],
            stay_from=o.stay_from,
            stay_to=o.stay_to,
            line_id=o.line_id,
            term=o.term,
            rent_cents=int(t["rent_cents"]) if t is not None else None,
            one_off_cents=o.one_off_cents,
            started_on=on,
        )
        if o.one_off_cents and o.fund_id is not None:
            lease.fund_id = o.fund_id
        session.add(lease)
        session.flush()
        faults.point("close:after-first-lease")
        if o.contribution_cents and o.fund_id is not None:
            commit(
                session,
                actor,
                o.fund_id,
                o.contribution_cents * months[o.id],
                round_id=round_id,
                lease_id=lease.id,
                note=months_note(o.stay_from, o.stay_to, months[o.id]),
            )
            committed[o.fund_id] += o.contribution_cents * months[o.id]
        if o.one_off_cents and o.fund_id is not None:
            commit(
                session,
                actor,
                o.fund_id,
                o.one_off_cents,
                round_id=round_id,
                lease_id=lease.id,
                kind=LedgerKind.one_off,
                note=f"one-off, terms {o.term}",
            )
            committed[o.fund_id] += o.one_off_cents
            one_offs += o.one_off_cents
        if exposure.get(o.id or 0):
            assert lease.id is not None
            expose(session, actor, exposure[o.id or 0], lease_id=lease.id, round_id=round_id)
            exposed += exposure[o.id or 0]
        if o.dwelling_id is not None:
            d = dwellings[o.dwelling_id]
            d.status = UnitStatus.let
            session.add(d)
        b = session.get(Beneficiary, o.beneficiary_id)
        assert b is not None
        _status_event(session, actor, b, BeneficiaryStatus.housed, f"lease {lease.ref}")
        record(
            session,
            actor,
            "lease.create",
            "beneficiary",
            b.ref,
            detail={"round": r.ref, "lease": lease.ref},
        )
    opened = _open_lines(session, actor, r, accepted)
    faults.point("close:before-commit")
    r.status, r.closed_at, r.closed_by = RoundStatus.closed, utcnow(), actor.user_id
    session.add(r)
    codes = dict(session.exec(select(Fund.id, Fund.code)).all())
    report = CloseReport(
        round_ref=r.ref,
        leases=len(accepted),
        committed_cents={codes[f]: c for f, c in sorted(committed.items())},
        one_off_cents=one_offs,
        guarantee_cents=exposed,
    )
    record(
        session,
        actor,
        "round.close",
        "round",
        r.ref,
        detail={
            "leases": report.leases,
            "committed_cents": report.committed_cents,
            "lines_opened": opened,
            "one_off_cents": one_offs,
            "guarantee_cents": exposed,
        },
    )
    log.info("round %s closed: %d leases", r.ref, report.leases)
    return report


def _open_lines(session: Session, actor: Actor, r: Round, accepted: list[Offer]) -> list[str]:
    """The proposed lines the round's leases ride start running (the round opened them)."""
    ids = sorted({o.line_id for o in accepted if o.line_id is not None})
    opened = []
    for line in session.exec(
        select(ShuttleLine).where(col(ShuttleLine.id).in_(ids)).order_by(col(ShuttleLine.id))
    ):
        if not line.running:
            line.running = True
            session.add(line)
            record(session, actor, "line.open", "line", line.ref, detail={"round": r.ref})
            opened.append(line.ref)
    return opened


_ALWAYS = (-(10**9), 10**9)


def _span(first: str | None, last: str | None) -> tuple[int, int]:
    """A stay's months as numbers; no stay holds the bed in every month."""
    if first is None or last is None:
        return _ALWAYS
    return parse_month(first), parse_month(last)


def _room_clash(beds: int, stays: list[tuple[tuple[int, int], str]]) -> tuple[int, bool]:
    """The most beds a room's stays take in one month, and whether genders ever mix."""
    most, mixed = 0, False
    for (start, _), _g in stays:
        there = [g for (a, b), g in stays if a <= start <= b]
        most = max(most, len(there))
        mixed = mixed or len(set(there)) > 1
    return most, mixed


def _seat_conflicts(session: Session, accepted: list[Offer]) -> list[str]:
    """Lines whose seats the accepted offers and the active leases riding them would
    exceed in some month (another round may have closed on the same line meanwhile)."""
    by_line: dict[int, list[Offer]] = defaultdict(list)
    for o in accepted:
        if o.line_id is not None:
            by_line[o.line_id].append(o)
    if not by_line:
        return []
    adults = dict(
        session.exec(
            select(Beneficiary.id, Beneficiary.adults).where(
                col(Beneficiary.id).in_([o.beneficiary_id for o in accepted])
            )
        ).all()
    )
    out = []
    for line in session.exec(
        select(ShuttleLine).where(col(ShuttleLine.id).in_(sorted(by_line))).with_for_update()
    ):
        riding = session.exec(
            select(Lease.stay_from, Lease.stay_to, Beneficiary.adults)
            .join(Beneficiary, col(Lease.beneficiary_id) == col(Beneficiary.id))
            .where(Lease.line_id == line.id, col(Lease.ended_on).is_(None))
        ).all()
        stays = [(_span(a, b), n) for a, b, n in riding]
        stays += [
            (_span(o.stay_from, o.stay_to), adults[o.beneficiary_id]) for o in by_line[line.id or 0]
        ]
        most = max(sum(n for (a, b), n in stays if a <= start <= b) for (start, _), _n in stays)
        if most > line.seats:
            out.append(f"line {line.ref} has {line.seats} seats for {most} riders in one month")
    return out


def _snapshot_terms(r: Round) -> dict[tuple[str, str], dict[str, Any]]:
    """The terms the round's dwellings were offered on, by (dwelling ref, term id)."""
    return {
        (d["id"], t["id"]): t for d in r.snapshot.get("dwellings", []) for t in d.get("terms", [])
    }


def _term_of(
    o: Offer, dwellings: dict[Any, Dwelling], terms: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any] | None:
    if o.term is None or o.dwelling_id is None:
        return None
    return terms.get((dwellings[o.dwelling_id].ref, o.term))


def _conflicts(
    session: Session,
    accepted: list[Offer],
    dwellings: dict[Any, Dwelling],
    rooms: dict[Any, Room],
    months: dict[Any, int],
) -> list[str]:
    out: list[str] = []
    bref = dict(
        session.exec(
            select(Beneficiary.id, Beneficiary.ref).where(
                col(Beneficiary.id).in_([o.beneficiary_id for o in accepted])
            )
        ).all()
    )
    housed = set(
        session.exec(
            select(Lease.beneficiary_id).where(
                col(Lease.beneficiary_id).in_(list(bref)), col(Lease.ended_on).is_(None)
            )
        ).all()
    )
    for o in accepted:
        if o.beneficiary_id in housed:
            out.append(f"{bref[o.beneficiary_id]} already holds a lease")
    for did, d in dwellings.items():
        taken = session.exec(
            select(Lease.id).where(Lease.dwelling_id == did, col(Lease.ended_on).is_(None))
        ).first()
        if taken is not None or d.status != UnitStatus.available:
            out.append(f"dwelling {d.ref} is no longer available")
    by_room: dict[int, list[Offer]] = defaultdict(list)
    for o in accepted:
        if o.room_id is not None:
            by_room[o.room_id].append(o)
    for rid, group in by_room.items():
        room = rooms[rid]
        held = session.exec(
            select(Lease.stay_from, Lease.stay_to, Beneficiary.gender)
            .join(Beneficiary, col(Lease.beneficiary_id) == col(Beneficiary.id))
            .where(Lease.room_id == rid, col(Lease.ended_on).is_(None))
        ).all()
        gender = dict(
            session.exec(
                select(Beneficiary.id, Beneficiary.gender).where(
                    col(Beneficiary.id).in_([o.beneficiary_id for o in group])
                )
            ).all()
        )
        stays = [(_span(a, b), str(g)) for a, b, g in held]
        stays += [(_span(o.stay_from, o.stay_to), str(gender[o.beneficiary_id])) for o in group]
        most, mixed = _room_clash(room.beds, stays)
        if most > room.beds:
            out.append(
                f"room {room.ref} has {room.beds} beds for {most} people in one month "
                f"({len(group)} accepted offers)"
            )
        if mixed:
            out.append(f"room {room.ref} would mix genders")
    out += _seat_conflicts(session, accepted)
    need: dict[int, int] = defaultdict(int)
    for o in accepted:
        if (o.contribution_cents or o.one_off_cents) and o.fund_id is not None:
            need[o.fund_id] += o.contribution_cents * months[o.id] + o.one_off_cents
    for fid, cents in sorted(need.items()):
        have = balance(session, fid)
        if cents > have:
            fund = session.get(Fund, fid)
            out.append(f"fund {fund.code if fund else fid} has {have} cents for {cents}")
    return out


# --------------------------------------------------------------------------- view


@dataclass(frozen=True)
class ProposalView:
    id: int
    beneficiary_id: int
    beneficiary_ref: str
    persons: int
    unit_kind: str  # "dwelling" or "bed"
    unit_ref: str
    room_ref: str | None
    municipality: str
    fund_code: str | None
    contribution_cents: int
    commute_km: float
    locked: bool
    offer_id: int | None
    offer_status: str | None
    line_ref: str | None = None
    """The shuttle line the household rides to work (None: its own way)."""
    line_name: str | None = None
    months: int | None = None
    stay_from: str | None = None
    stay_to: str | None = None
    term: str | None = None
    """The landlord's terms the dwelling is let on (None: its plain rent)."""
    one_off_cents: int = 0


@dataclass(frozen=True)
class UnplacedView:
    beneficiary_id: int
    beneficiary_ref: str
    persons: int
    reasons: tuple[str, ...]
    texts: tuple[str, ...]
    details: dict[str, Any]


@dataclass(frozen=True)
class RoundView:
    round: Round
    proposals: list[ProposalView]
    unplaced: list[UnplacedView]
    decisions: list[RoundDecision]
    offers: list[Offer]
    result_status: str | None
    weight: int | None
    bound: int | None
    contribution_cents: int | None
    commute_km: float | None

    @property
    def gap(self) -> float | None:
        if self.weight is None or not self.bound:
            return None
        return (self.bound - self.weight) / self.bound


def round_view(session: Session, round_id: int) -> RoundView:
    """Everything a caseworker reviews: proposals, households left out and why, decisions,
    offers, and the solve's figures."""
    r = _get(session, round_id)
    proposals = list(
        session.exec(
            select(Proposal)
            .where(Proposal.round_id == round_id, col(Proposal.current).is_(True))
            .order_by(col(Proposal.id))
        )
    )
    offers = list(
        session.exec(select(Offer).where(Offer.round_id == round_id).order_by(col(Offer.id)))
    )
    decisions = list(
        session.exec(
            select(RoundDecision)
            .where(RoundDecision.round_id == round_id)
            .order_by(col(RoundDecision.id))
        )
    )
    people = {
        b.id: b
        for b in session.exec(
            select(Beneficiary).where(
                col(Beneficiary.ref).in_([b["id"] for b in r.snapshot["beneficiaries"]])
            )
        )
    }
    by_ref = {b.ref: b for b in people.values()}
    dw = {
        d.id: d
        for d in session.exec(
            select(Dwelling).where(
                col(Dwelling.id).in_([p.dwelling_id for p in proposals if p.dwelling_id])
            )
        )
    }
    fl = {
        f.id: f
        for f in session.exec(
            select(SharedFlat).where(
                col(SharedFlat.id).in_([p.flat_id for p in proposals if p.flat_id])
            )
        )
    }
    rm = {
        x.id: x.ref
        for x in session.exec(
            select(Room).where(col(Room.id).in_([p.room_id for p in proposals if p.room_id]))
        )
    }
    funds = dict(session.exec(select(Fund.id, Fund.code)).all())
    lines = {
        x.id: x
        for x in session.exec(
            select(ShuttleLine).where(
                col(ShuttleLine.id).in_([p.line_id for p in proposals if p.line_id])
            )
        )
    }
    latest_offer = {o.beneficiary_id: o for o in offers}
    locked = {(d.beneficiary_id, d.unit_ref) for d in decisions if d.kind == DecisionKind.lock}
    views = []
    for p in proposals:
        b = people[p.beneficiary_id]
        unit: Dwelling | SharedFlat = dw[p.dwelling_id] if p.dwelling_id else fl[p.flat_id]
        o = latest_offer.get(p.beneficiary_id)
        views.append(
            ProposalView(
                id=p.id or 0,
                beneficiary_id=p.beneficiary_id,
                beneficiary_ref=b.ref,
                persons=b.persons,
                unit_kind="dwelling" if p.dwelling_id else "bed",
                unit_ref=unit.ref,
                room_ref=rm.get(p.room_id) if p.room_id else None,
                municipality=unit.municipality,
                fund_code=funds.get(p.fund_id) if p.fund_id else None,
                contribution_cents=p.contribution_cents,
                commute_km=p.commute_km,
                locked=(p.beneficiary_id, unit.ref) in locked,
                offer_id=o.id if o and o.proposal_id == p.id else None,
                offer_status=str(o.status) if o and o.proposal_id == p.id else None,
                line_ref=lines[p.line_id].ref if p.line_id else None,
                line_name=lines[p.line_id].name if p.line_id else None,
                months=p.months,
                stay_from=p.stay_from,
                stay_to=p.stay_to,
                term=p.term,
                one_off_cents=p.one_off_cents,
            )
        )
    unplaced: list[UnplacedView] = []
    res = result_from_dict(r.result) if r.result else None
    if res is not None:
        for u in res.unassigned:
            who = by_ref.get(u.beneficiary)
            if who is None or who.id is None:
                continue
            unplaced.append(
                UnplacedView(
                    beneficiary_id=who.id,
                    beneficiary_ref=who.ref,
                    persons=who.persons,
                    reasons=u.reasons,
                    texts=tuple(REASON_TEXT.get(x, x) for x in u.reasons),
                    details=dict(u.details),
                )
            )
    return RoundView(
        round=r,
        proposals=views,
        unplaced=unplaced,
        decisions=decisions,
        offers=offers,
        result_status=res.status if res else None,
        weight=res.objective.weight if res else None,
        bound=res.bound_weight if res else None,
        contribution_cents=res.objective.contribution_cents if res else None,
        commute_km=res.objective.commute_km if res else None,
    )


def count_by_status(session: Session) -> dict[str, int]:
    """Rounds per status (for dashboards)."""
    return {
        str(s): int(n)
        for s, n in session.exec(
            select(Round.status, func.count()).group_by(col(Round.status))
        ).all()
    }
