"""Shuttle lines: the minibuses the agency runs (``running``) or could open, from homes to
work, each with its stops in calling order on the offline map (their coordinates) and its
seats and monthly cost. A round of an office offers its lines to the engine
(:mod:`agency.mapping`), which opens proposed lines within the round's transport budget."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlmodel import Session, col, func, select

from agency.audit import Actor, record
from agency.models import (
    Beneficiary,
    Lease,
    Offer,
    OfferStatus,
    Round,
    RoundStatus,
    ShuttleLine,
    ShuttleStop,
)
from agency.records.common import Page, checked, in_office, office_of, page_of, search
from agency.schemas import ShuttleLineCreate, ShuttleLineUpdate, ShuttleStopCreate
from matching.instance import month_text, parse_month

ENTITY = "line"


def _set_stops(session: Session, line: ShuttleLine, stops: list[ShuttleStopCreate]) -> None:
    assert line.id is not None
    for old in stops_of(session, line.id):
        session.delete(old)
    session.flush()
    for k, s in enumerate(stops):
        session.add(ShuttleStop(line_id=line.id, position=k, name=s.name, lat=s.lat, lon=s.lon))
    session.flush()


def create_line(
    session: Session, actor: Actor, office_id: int, data: ShuttleLineCreate
) -> ShuttleLine:
    """A line run (or proposed) by office ``office_id``, with its stops."""
    office_of(session, office_id)
    line = ShuttleLine(
        office_id=office_id,
        name=data.name,
        seats=data.seats,
        monthly_cost_cents=data.monthly_cost_cents,
        running=data.running,
    )
    session.add(line)
    session.flush()
    _set_stops(session, line, data.stops)
    record(session, actor, "line.create", ENTITY, line.ref, detail={"stops": len(data.stops)})
    return line


def get_line(session: Session, ref: str, *, scope: int | None = None) -> ShuttleLine:
    """The line ``ref`` of the caller's office (``scope``; None: any office)."""
    return in_office(session, ShuttleLine, ENTITY, ref, scope)


def stops_of(session: Session, line_id: int) -> list[ShuttleStop]:
    return list(
        session.exec(
            select(ShuttleStop)
            .where(ShuttleStop.line_id == line_id)
            .order_by(col(ShuttleStop.position))
        )
    )


def list_lines(
    session: Session,
    *,
    scope: int | None = None,
    q: str | None = None,
    running: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[ShuttleLine]:
    conds: list[Any] = []
    if scope is not None:
        conds.append(ShuttleLine.office_id == scope)
    if running is not None:
        conds.append(ShuttleLine.running == running)
    match = search(q, ShuttleLine.name, ShuttleLine.ref)
    if match is not None:
        conds.append(match)
    return page_of(session, ShuttleLine, conds, (col(ShuttleLine.ref),), limit, offset)


def lines_of_office(session: Session, office_id: int | None) -> list[ShuttleLine]:
    """Every line of an office (None: of every office), in ref order."""
    q = select(ShuttleLine)
    if office_id is not None:
        q = q.where(ShuttleLine.office_id == office_id)
    return list(session.exec(q.order_by(col(ShuttleLine.ref))))


def update_line(
    session: Session,
    actor: Actor,
    ref: str,
    data: ShuttleLineUpdate,
    *,
    scope: int | None = None,
) -> ShuttleLine:
    """Change some fields of a line; stops, when given, replace its stops. The whole is
    checked as on creation."""
    line = get_line(session, ref, scope=scope)
    assert line.id is not None
    given = data.model_dump(exclude_none=True)
    merged = {
        "name": line.name,
        "seats": line.seats,
        "monthly_cost_cents": line.monthly_cost_cents,
        "running": line.running,
        "stops": [{"name": s.name, "lat": s.lat, "lon": s.lon} for s in stops_of(session, line.id)],
    }
    merged.update(given)
    whole = checked(ShuttleLineCreate, merged)
    line.name, line.seats = whole.name, whole.seats
    line.monthly_cost_cents, line.running = whole.monthly_cost_cents, whole.running
    session.add(line)
    session.flush()
    if "stops" in given:
        _set_stops(session, line, whole.stops)
    record(session, actor, "line.update", ENTITY, line.ref, detail={"fields": sorted(given)})
    return line


def seats_used(session: Session, round_: Round) -> dict[int, dict[str, int]]:
    """Seats taken on each line, month by month, by a round: its leases once closed, else
    its offers pending or accepted (``{line id: {"YYYY-MM": adults}}``)."""
    used: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows: list[tuple[int | None, str | None, str | None, int]]
    if round_.status == RoundStatus.closed:
        rows = [
            (lease.line_id, lease.stay_from, lease.stay_to, adults)
            for lease, adults in session.exec(
                select(Lease, Beneficiary.adults)
                .join(Beneficiary, col(Beneficiary.id) == col(Lease.beneficiary_id))
                .where(Lease.round_id == round_.id, col(Lease.line_id).is_not(None))
            ).all()
        ]
    else:
        rows = [
            (o.line_id, o.stay_from, o.stay_to, adults)
            for o, adults in session.exec(
                select(Offer, Beneficiary.adults)
                .join(Beneficiary, col(Beneficiary.id) == col(Offer.beneficiary_id))
                .where(
                    Offer.round_id == round_.id,
                    col(Offer.line_id).is_not(None),
                    col(Offer.status).in_((OfferStatus.pending, OfferStatus.accepted)),
                )
            ).all()
        ]
    for line_id, first, last, adults in rows:
        if line_id is None or first is None or last is None:
            continue
        for m in range(parse_month(first), parse_month(last) + 1):
            used[line_id][month_text(m)] += adults
    return {k: dict(v) for k, v in used.items()}


def count_lines(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(ShuttleLine)).one())
