"""What staff read of a round besides its figures: who the households are, which homes
the units are, what changed at the last re-solve, what closing will do, and every round
a household was in with its outcome.

These are the names and addresses the round itself keeps out (its snapshot and result
name refs only): the pages show them to roles that may read the records.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from agency.mapping import is_occupant
from agency.models import (
    Beneficiary,
    DecisionKind,
    Dwelling,
    Fund,
    Offer,
    OfferStatus,
    Proposal,
    Room,
    Round,
    RoundDecision,
    RoundSolve,
    SharedFlat,
)
from agency.records.common import municipality_name


@dataclass(frozen=True)
class Person:
    """A household as the round page shows it."""

    ref: str
    name: str
    adults: int
    minors: int
    gender: str


@dataclass(frozen=True)
class Home:
    """A unit (or a room of a shared flat) as the round page shows it."""

    ref: str
    kind: str  # "dwelling" or "flat"
    address: str
    municipality: str


def people(session: Session, refs: list[str]) -> dict[str, Person]:
    """The households named by ``refs`` (occupants of let beds left out)."""
    wanted = sorted({r for r in refs if not is_occupant(r)})
    if not wanted:
        return {}
    return {
        b.ref: Person(b.ref, f"{b.family_name} {b.given_name}", b.adults, b.minors, str(b.gender))
        for b in session.exec(select(Beneficiary).where(col(Beneficiary.ref).in_(wanted)))
    }


def homes(session: Session, refs: list[str]) -> tuple[dict[str, Home], dict[str, str]]:
    """The units named by ``refs``, and the name of every room of their flats (a room
    without a name is called by its number in the flat)."""
    wanted = sorted(set(refs))
    out: dict[str, Home] = {}
    for d in session.exec(select(Dwelling).where(col(Dwelling.ref).in_(wanted))):
        out[d.ref] = Home(d.ref, "dwelling", d.address, municipality_name(d.municipality))
    flats = list(session.exec(select(SharedFlat).where(col(SharedFlat.ref).in_(wanted))))
    for f in flats:
        out[f.ref] = Home(f.ref, "flat", f.address, municipality_name(f.municipality))
    rooms: dict[str, str] = {}
    by_flat: dict[int, list[Room]] = defaultdict(list)
    for room in session.exec(
        select(Room).where(col(Room.flat_id).in_([f.id for f in flats])).order_by(col(Room.id))
    ):
        by_flat[room.flat_id].append(room)
    for group in by_flat.values():
        for k, room in enumerate(group, 1):
            rooms[room.ref] = room.name or str(k)
    return out, rooms


def round_homes(session: Session, r: Round) -> tuple[dict[str, Home], dict[str, str]]:
    snap = r.snapshot
    return homes(
        session, [u["id"] for u in [*snap.get("dwellings", []), *snap.get("shared_flats", [])]]
    )


def round_people(session: Session, r: Round) -> dict[str, Person]:
    return people(session, [b["id"] for b in r.snapshot.get("beneficiaries", [])])


# --------------------------------------------------------------------------- changes


@dataclass(frozen=True)
class Change:
    """A household whose place changed at the last solve: ``before`` and ``after`` are
    unit refs (None: no place)."""

    beneficiary_ref: str
    before: str | None
    after: str | None
    reasons: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        if self.before is None:
            return "gained"
        return "lost" if self.after is None else "moved"


def _placements(session: Session, round_id: int, iteration: int) -> dict[int, str]:
    q = select(Proposal).where(Proposal.round_id == round_id, Proposal.iteration == iteration)
    props = list(session.exec(q))
    units = {
        d.id: d.ref
        for d in session.exec(
            select(Dwelling).where(
                col(Dwelling.id).in_([p.dwelling_id for p in props if p.dwelling_id])
            )
        )
    }
    flats = {
        f.id: f.ref
        for f in session.exec(
            select(SharedFlat).where(
                col(SharedFlat.id).in_([p.flat_id for p in props if p.flat_id])
            )
        )
    }
    return {
        p.beneficiary_id: units[p.dwelling_id] if p.dwelling_id else flats[p.flat_id] for p in props
    }


def last_changes(session: Session, r: Round) -> list[Change]:
    """Who gained, lost or changed a place between the last two solves, and, for those
    who lost one, the reasons the last solve gives."""
    if r.id is None or r.solve_count < 2:
        return []
    before = _placements(session, r.id, r.solve_count - 1)
    after = _placements(session, r.id, r.solve_count)
    ids = sorted(set(before) | set(after))
    refs = dict(
        session.exec(
            select(Beneficiary.id, Beneficiary.ref).where(col(Beneficiary.id).in_(ids))
        ).all()
    )
    reasons = {
        u["beneficiary"]: tuple(u["reasons"]) for u in (r.result or {}).get("unassigned", [])
    }
    out = []
    for bid in ids:
        a, b = before.get(bid), after.get(bid)
        if a != b:
            ref = refs[bid]
            out.append(Change(ref, a, b, reasons.get(ref, ()) if b is None else ()))
    return sorted(out, key=lambda c: (c.kind, c.beneficiary_ref))


# --------------------------------------------------------------------------- closing


@dataclass(frozen=True)
class ClosePreview:
    """What closing a round will do, for staff to confirm."""

    leases: list[Offer]
    committed_cents: dict[str, int]
    pending: list[Offer]
    left_out: list[str]
    """Households of the round that will get no lease (refs)."""
    months: int
    fund_names: dict[str, str] = field(default_factory=dict)


def close_preview(session: Session, r: Round) -> ClosePreview:
    offers = list(session.exec(select(Offer).where(Offer.round_id == r.id).order_by(col(Offer.id))))
    accepted = [o for o in offers if o.status == OfferStatus.accepted]
    pending = [o for o in offers if o.status == OfferStatus.pending]
    months = int(r.policy.get("contribution_months", 12))
    funds = {f.id: f for f in session.exec(select(Fund))}
    committed: dict[str, int] = defaultdict(int)
    for o in accepted:
        if o.contribution_cents and o.fund_id is not None:
            stay = o.months if o.months is not None else months  # a season's own months
            committed[funds[o.fund_id].code] += o.contribution_cents * stay
    housed = {o.beneficiary_id for o in accepted}
    refs = (
        dict(
            session.exec(
                select(Beneficiary.id, Beneficiary.ref).where(col(Beneficiary.id).in_(list(housed)))
            ).all()
        )
        if housed
        else {}
    )
    leased = set(refs.values())
    left = [
        b["id"]
        for b in r.snapshot.get("beneficiaries", [])
        if not is_occupant(b["id"]) and b["id"] not in leased
    ]
    return ClosePreview(
        leases=accepted,
        committed_cents=dict(sorted(committed.items())),
        pending=pending,
        left_out=left,
        months=months,
        fund_names={f.code: f.name for f in funds.values()},
    )


# --------------------------------------------------------------------------- a household


@dataclass(frozen=True)
class HouseholdRound:
    """One round a household was in, and how it went for it."""

    round_ref: str
    round_name: str
    round_status: str
    opened_at: datetime
    home: str | None
    """The home proposed or offered (address and municipality), if any."""
    offer_status: str | None
    reasons: tuple[str, ...]


def household_rounds(session: Session, b: Beneficiary) -> list[HouseholdRound]:
    """Every round ``b`` was in, newest first, with its place or its reasons."""
    q = select(Round).where(or_(Round.office_id == b.office_id, col(Round.office_id).is_(None)))
    out = []
    for r in session.exec(q.order_by(col(Round.id).desc())):
        if not any(x["id"] == b.ref for x in r.snapshot.get("beneficiaries", [])):
            continue
        offer = session.exec(
            select(Offer)
            .where(Offer.round_id == r.id, Offer.beneficiary_id == b.id)
            .order_by(col(Offer.id).desc())
        ).first()
        prop = session.exec(
            select(Proposal).where(
                Proposal.round_id == r.id,
                Proposal.beneficiary_id == b.id,
                col(Proposal.current).is_(True),
            )
        ).first()
        source: Any = offer or prop
        home = None
        if source is not None:
            unit: Dwelling | SharedFlat | None = (
                session.get(Dwelling, source.dwelling_id)
                if source.dwelling_id
                else session.get(SharedFlat, source.flat_id)
            )
            if unit is not None:
                home = f"{unit.address}, {municipality_name(unit.municipality)}"
        reasons: tuple[str, ...] = ()
        for u in (r.result or {}).get("unassigned", []):
            if u["beneficiary"] == b.ref:
                reasons = tuple(u["reasons"])
        out.append(
            HouseholdRound(
                r.ref,
                r.name,
                str(r.status),
                r.opened_at,
                home,
                str(offer.status) if offer else None,
                reasons,
            )
        )
    return out


# --------------------------------------------------------------------------- the audit


AUDIT_DIMENSIONS = ("gender", "household", "nationality", "tag")
"""The order the round page shows the audit's groups in (any other dimension after)."""
INVERSIONS_SHOWN = 200
"""How many inversions the round page lists (the largest priority gaps first)."""


@dataclass(frozen=True)
class InversionRow:
    """A priority inversion as the round page shows it."""

    left: str
    left_priority: int
    left_unit: str | None
    holder: str
    holder_priority: int
    unit: str
    why: str
    lost: int
    room: str | None
    """The room of ``unit`` the swap would give ``left`` (shared flats)."""
    commute_saved_m: int
    lockable: bool
    """Whether staff may lock ``left`` into ``unit`` now (no lock nor offer holds it)."""

    @property
    def kind(self) -> str:
        return "left_out" if self.left_unit is None else "placed_worse"


@dataclass(frozen=True)
class AuditView:
    """The round's audit, from the record of its latest solve."""

    iteration: int
    proven: bool
    groups: list[tuple[str, list[dict[str, Any]]]]
    inversions: list[InversionRow]
    counts: dict[str, dict[str, int]]
    total: int
    seconds: float | None


def audit_view(session: Session, r: Round, *, solvable: bool = True) -> AuditView | None:
    """The audit of the round's latest solve (None: not solved, or solved before audits
    were kept, or its audit failed). Inversions of households whose pair is already
    decided, or who hold an offer, cannot be locked from the page."""
    if r.id is None or not r.solve_count:
        return None
    found = session.exec(
        select(RoundSolve).where(RoundSolve.round_id == r.id, RoundSolve.iteration == r.solve_count)
    ).first()
    if found is None or not found.audit:
        return None
    a = found.audit
    by_dim: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for g in a.get("groups", []):
        by_dim[g["dimension"]].append(g)
    order = [d for d in AUDIT_DIMENSIONS if d in by_dim] + sorted(
        d for d in by_dim if d not in AUDIT_DIMENSIONS
    )
    held = _held(session, r)
    rows = [
        InversionRow(
            left=x["left"],
            left_priority=x["left_priority"],
            left_unit=x["left_unit"],
            holder=x["holder"],
            holder_priority=x["holder_priority"],
            unit=x["unit"],
            why=x["why"],
            lost=x["lost"],
            room=(x.get("swap") or {}).get("room"),
            commute_saved_m=x.get("commute_saved_m", 0),
            lockable=solvable and x["left"] not in held and x["why"] != "pinned",
        )
        for x in a.get("inversions", [])[:INVERSIONS_SHOWN]
    ]
    return AuditView(
        iteration=found.iteration,
        proven=bool(a.get("proven")),
        groups=[(d, by_dim[d]) for d in order],
        inversions=rows,
        counts=a.get("inversion_counts", {}),
        total=int(a.get("inversions_total", len(rows))),
        seconds=found.audit_seconds,
    )


def _held(session: Session, r: Round) -> set[str]:
    """Households of ``r`` with a lock, or a pending or accepted offer."""
    ids = set(
        session.exec(
            select(RoundDecision.beneficiary_id).where(
                RoundDecision.round_id == r.id, RoundDecision.kind == DecisionKind.lock
            )
        ).all()
    ) | set(
        session.exec(
            select(Offer.beneficiary_id).where(
                Offer.round_id == r.id,
                col(Offer.status).in_([OfferStatus.pending, OfferStatus.accepted]),
            )
        ).all()
    )
    if not ids:
        return set()
    return set(
        session.exec(select(Beneficiary.ref).where(col(Beneficiary.id).in_(sorted(ids)))).all()
    )
