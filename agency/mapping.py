"""The one place where the agency's records become a :class:`matching.Instance`, and a
:class:`matching.Result` becomes rows again.

Ids in an instance are the records' opaque refs (``B-…``, ``D-…``, ``F-…``, ``R-…``) and
the funds' codes, so a result maps back without any personal data crossing over.

A shared flat's beds already let are kept in the instance as *occupants*: placeholder
beneficiaries (``OCC-<lease ref>``) pinned to their room, of weight 0, zero contribution and
zero commute. They hold their beds and the room's gender exactly as the rules of the spec
require, and change no objective.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, or_, select

from agency.models import (
    Beneficiary,
    BeneficiaryStatus,
    Dwelling,
    DwellingTerm,
    Fund,
    Lease,
    Room,
    SharedFlat,
    ShuttleLine,
    ShuttleStop,
    UnitStatus,
)
from agency.schemas import RoundPolicy
from matching.instance import INSTANCE_FORMAT, INSTANCE_FORMAT_V2, month_text, parse_month

OCCUPANT_PREFIX = "OCC-"


def is_occupant(beneficiary_id: str) -> bool:
    return beneficiary_id.startswith(OCCUPANT_PREFIX)


def policy_dict(policy: RoundPolicy, *, shuttles: bool = False) -> dict[str, Any]:
    """The spec's ``policy`` object, JSON-ready. The ratio is written as a float whose
    shortest text is the decimal given (``0.29``), which the instance reader takes exactly.
    instance@2's fields are written only when the round uses them: a horizon when the
    policy has one, the walk and the transport budget when the round has ``shuttles``."""
    out: dict[str, Any] = {
        "affordability_ratio": float(Decimal(policy.affordability_ratio)),
        "max_contribution_cents": policy.max_contribution_cents,
        "contribution_months": policy.contribution_months,
        "circuity": policy.circuity,
        "objective_unit": policy.objective_unit,
    }
    if policy.horizon_start is not None:
        out["horizon"] = {"start": policy.horizon_start, "months": policy.horizon_months}
    if shuttles:
        out["walk_km"] = policy.walk_km
        out["transport_budget_cents"] = policy.transport_budget_cents
    return out


Months = tuple[int, int]
"""A span of months, first and last included (month numbers of :func:`parse_month`)."""


def horizon_of(policy: RoundPolicy) -> Months | None:
    """The months a round covers (None: a round without seasons)."""
    if policy.horizon_start is None:
        return None
    first = parse_month(policy.horizon_start)
    return first, first + policy.horizon_months - 1


def clipped(first: str | None, last: str | None, horizon: Months) -> dict[str, str] | None:
    """A season or an opening within the horizon, as the spec's ``{"from", "to"}``: the
    whole horizon when not given; None when it misses the horizon altogether."""
    lo = horizon[0] if first is None else max(horizon[0], parse_month(first))
    hi = horizon[1] if last is None else min(horizon[1], parse_month(last))
    if lo > hi:
        return None
    return {"from": month_text(lo), "to": month_text(hi)}


def seats_taken(
    session: Session, line_ids: Iterable[int], horizon: Months | None
) -> dict[int, int]:
    """The most seats the active leases riding each line take in one month of the
    horizon (with no horizon: at any time)."""
    ids = list(line_ids)
    if not ids:
        return {}
    per_month: dict[int, dict[int, int]] = {}
    rows = session.exec(
        select(Lease.line_id, Lease.stay_from, Lease.stay_to, Beneficiary.adults)
        .join(Beneficiary, col(Beneficiary.id) == col(Lease.beneficiary_id))
        .where(col(Lease.line_id).in_(ids), col(Lease.ended_on).is_(None))
    ).all()
    for line_id, first, last, adults in rows:
        if line_id is None:
            continue
        months = per_month.setdefault(line_id, {})
        if horizon is None:  # a round without months: every rider at once
            months[0] = months.get(0, 0) + adults
            continue
        lo = max(horizon[0], parse_month(first)) if first else horizon[0]
        hi = min(horizon[1], parse_month(last)) if last else horizon[1]
        for m in range(lo, hi + 1):
            months[m] = months.get(m, 0) + adults
    return {k: max(v.values(), default=0) for k, v in per_month.items()}


def shuttle_dicts(
    session: Session, office_id: int | None, horizon: Months | None = None
) -> list[dict[str, Any]]:
    """The office's lines (every office's when None) with at least one stop, as the spec's
    ``shuttles``: ids are the lines' refs, stops' ids ``<ref>-<position>``. The seats left
    are the line's less the most its active leases take in one month of the horizon (a
    line's seats are one number in the instance, so this is on the safe side); a line
    with none left is not offered."""
    q = select(ShuttleLine)
    if office_id is not None:
        q = q.where(ShuttleLine.office_id == office_id)
    lines = list(session.exec(q.order_by(col(ShuttleLine.ref))))
    stops: dict[int, list[ShuttleStop]] = {}
    taken = seats_taken(session, (x.id for x in lines if x.id is not None), horizon)
    if lines:
        for s in session.exec(
            select(ShuttleStop)
            .where(col(ShuttleStop.line_id).in_([x.id for x in lines]))
            .order_by(col(ShuttleStop.line_id), col(ShuttleStop.position))
        ):
            stops.setdefault(s.line_id, []).append(s)
    return [
        {
            "id": x.ref,
            "stops": [
                {"id": f"{x.ref}-{s.position + 1}", "lat": s.lat, "lon": s.lon} for s in stops[x.id]
            ],
            "seats": x.seats - taken.get(x.id or 0, 0),
            "monthly_cost_cents": x.monthly_cost_cents,
            "running": x.running,
        }
        for x in lines
        if x.id in stops and x.seats - taken.get(x.id or 0, 0) > 0
    ]


def beneficiary_dict(b: Beneficiary) -> dict[str, Any]:
    accepts = [k for k, ok in (("dwelling", b.accepts_dwelling), ("bed", b.accepts_bed)) if ok]
    return {
        "id": b.ref,
        "adults": b.adults,
        "minors": b.minors,
        "gender": str(b.gender),
        "income_cents": b.income_cents,
        "work": {"lat": b.work_lat, "lon": b.work_lon},
        "max_commute_km": b.max_commute_km,
        "needs_step_free": b.needs_step_free,
        "priority": b.priority,
        "accepts": accepts,
        "tags": sorted(b.tags or []),
    } | ({"avoid": [dict(z) for z in b.avoid_zones]} if b.avoid_zones else {})


def term_dict(t: DwellingTerm) -> dict[str, Any]:
    return {
        "id": t.label,
        "rent_cents": t.rent_cents,
        "one_off_cents": t.one_off_cents,
        "guaranteed": t.guaranteed,
    }


def dwelling_dict(d: Dwelling, terms: Iterable[DwellingTerm] = ()) -> dict[str, Any]:
    """A dwelling in the spec's format: its plain rent, or the terms negotiated with its
    landlord (instance@2: the engine picks one)."""
    out: dict[str, Any] = {
        "id": d.ref,
        "lat": d.lat,
        "lon": d.lon,
        "area_m2": d.area_m2,
        "bedrooms": d.bedrooms,
        "rent_cents": d.rent_cents,
        "step_free": d.step_free,
        "max_occupants": d.max_occupants,
        "children_ok": d.children_ok,
    }
    listed = [term_dict(t) for t in terms]
    if listed:
        del out["rent_cents"]
        out["terms"] = listed
    return out


def terms_of(session: Session, dwelling_ids: Iterable[int | None]) -> dict[int, list[DwellingTerm]]:
    """The negotiated terms of these dwellings, by dwelling id, in label order."""
    ids = sorted({i for i in dwelling_ids if i is not None})
    out: dict[int, list[DwellingTerm]] = {}
    if ids:
        for t in session.exec(
            select(DwellingTerm)
            .where(col(DwellingTerm.dwelling_id).in_(ids))
            .order_by(col(DwellingTerm.dwelling_id), col(DwellingTerm.label))
        ):
            out.setdefault(t.dwelling_id, []).append(t)
    return out


def _occupant(lease: Lease, gender: str, flat: SharedFlat, ratio: Decimal) -> dict[str, Any]:
    # An income whose affordable share covers the bed's rent: contribution 0.
    income = math.ceil(Decimal(flat.rent_per_bed_cents) / ratio) + 1 if ratio > 0 else 0
    return {
        "id": OCCUPANT_PREFIX + lease.ref,
        "adults": 1,
        "minors": 0,
        "gender": gender,
        "income_cents": income,
        "work": {"lat": flat.lat, "lon": flat.lon},
        "max_commute_km": 1.0,
        "needs_step_free": False,
        "priority": 0,
        "accepts": ["bed"],
        "tags": [],
    }


@dataclass(frozen=True)
class Snapshot:
    """What a round is opened on: the instance (a dict in the spec's format) and its scope."""

    instance: dict[str, Any]
    households: int
    dwellings: int
    flats: int
    free_beds: int


def waiting(session: Session, office_id: int | None) -> list[Beneficiary]:
    """Households waiting for a home (in one office, or all), in ref order."""
    q = select(Beneficiary).where(Beneficiary.status == BeneficiaryStatus.waiting)
    if office_id is not None:
        q = q.where(Beneficiary.office_id == office_id)
    return list(session.exec(q.order_by(col(Beneficiary.ref))))


def _available(on: date) -> Any:
    return or_(col(Dwelling.available_from).is_(None), col(Dwelling.available_from) <= on)


def free_dwellings(session: Session, office_id: int | None, on: date) -> list[Dwelling]:
    """Dwellings on offer on day ``on`` and not under an active lease."""
    leased = select(Lease.dwelling_id).where(
        col(Lease.ended_on).is_(None), col(Lease.dwelling_id).is_not(None)
    )
    q = select(Dwelling).where(
        Dwelling.status == UnitStatus.available, _available(on), col(Dwelling.id).not_in(leased)
    )
    if office_id is not None:
        q = q.where(Dwelling.office_id == office_id)
    return list(session.exec(q.order_by(col(Dwelling.ref))))


def open_flats(session: Session, office_id: int | None, on: date) -> list[SharedFlat]:
    q = select(SharedFlat).where(
        SharedFlat.status == UnitStatus.available,
        or_(col(SharedFlat.available_from).is_(None), col(SharedFlat.available_from) <= on),
    )
    if office_id is not None:
        q = q.where(SharedFlat.office_id == office_id)
    return list(session.exec(q.order_by(col(SharedFlat.ref))))


def active_bed_leases(session: Session, room_ids: Iterable[int]) -> list[tuple[Lease, str]]:
    """Active leases of beds in these rooms, with the occupant's gender."""
    ids = list(room_ids)
    if not ids:
        return []
    rows = session.exec(
        select(Lease, Beneficiary.gender)
        .join(Beneficiary, col(Beneficiary.id) == col(Lease.beneficiary_id))
        .where(col(Lease.room_id).in_(ids), col(Lease.ended_on).is_(None))
        .order_by(col(Lease.id))
    ).all()
    return [(lease, str(gender)) for lease, gender in rows]


def snapshot(
    session: Session,
    *,
    name: str,
    office_id: int | None,
    policy: RoundPolicy,
    on: date,
    fund_balances: Mapping[int, int],
    guarantee_cents: int = 0,
) -> Snapshot:
    """The instance of a round opened on day ``on``: waiting households, free units (a
    landlord's dwelling with its negotiated terms), funds at their balances, the guarantee
    fund at what is left of it, and the beds already let held by pinned occupants.

    A round with a horizon, an office with shuttle lines, a dwelling with terms or a
    household with places to avoid is written as instance@2: each household's season and
    each unit's open months within the horizon (a household whose season, or a unit whose
    opening, misses the horizon is left out), the lines with their stops, the dwellings'
    terms and the guarantee; a bed let for a season holds it only for those months.
    Otherwise the instance is instance@1, exactly as before."""
    ratio = Decimal(policy.affordability_ratio)
    horizon = horizon_of(policy)
    shuttles = shuttle_dicts(session, office_id, horizon)
    households = waiting(session, office_id)
    dwellings = free_dwellings(session, office_id, on)
    flats = open_flats(session, office_id, on)
    stays: dict[str, dict[str, str]] = {}
    opens: dict[str, dict[str, str]] = {}
    if horizon is not None:
        kept_b = []
        for b in households:
            span = clipped(b.season_from, b.season_to, horizon)
            if span is not None:
                kept_b.append(b)
                if b.season_from is not None:
                    stays[b.ref] = span
        households = kept_b
        open_units: list[Any] = []
        for unit_list in (dwellings, flats):
            kept_u = []
            for u in unit_list:
                span = clipped(u.open_from, u.open_to, horizon)
                if span is not None:
                    kept_u.append(u)
                    if u.open_from is not None:
                        opens[u.ref] = span
            open_units.append(kept_u)
        dwellings, flats = open_units
    rooms: dict[int, list[Room]] = {}
    for room in session.exec(
        select(Room).where(col(Room.flat_id).in_([f.id for f in flats])).order_by(col(Room.ref))
    ):
        rooms.setdefault(room.flat_id, []).append(room)
    room_by_id = {r.id: r for rs in rooms.values() for r in rs if r.id is not None}
    flat_by_id = {f.id: f for f in flats if f.id is not None}
    occupants: list[dict[str, Any]] = []
    pinned: list[dict[str, Any]] = []
    taken: dict[int, int] = {}
    for lease, gender in active_bed_leases(session, room_by_id):
        assert lease.room_id is not None
        room = room_by_id[lease.room_id]
        flat = flat_by_id.get(room.flat_id)
        if flat is None:
            continue
        occupant = _occupant(lease, gender, flat, ratio)
        if horizon is not None:
            span = clipped(lease.stay_from, lease.stay_to, horizon)
            if span is None:
                continue  # a season over before the horizon: the bed is free again
            if lease.stay_from is not None:
                occupant["stay"] = span
        taken[room.flat_id] = taken.get(room.flat_id, 0) + 1
        occupants.append(occupant)
        pinned.append(
            {"beneficiary": OCCUPANT_PREFIX + lease.ref, "unit": flat.ref, "room": room.ref}
        )
    # a full flat whose beds are let for a season may still have beds free in other months
    seasonal = {p["unit"] for p, o in zip(pinned, occupants, strict=True) if "stay" in o}
    flat_dicts = []
    free_beds = 0
    for fid, f in flat_by_id.items():
        beds = sum(r.beds for r in rooms.get(fid, []))
        if beds - taken.get(fid, 0) <= 0 and f.ref not in seasonal:
            continue  # full: nothing to offer, and its occupants need not be carried
        free_beds += max(0, beds - taken.get(fid, 0))
        fd: dict[str, Any] = {
            "id": f.ref,
            "lat": f.lat,
            "lon": f.lon,
            "rent_per_bed_cents": f.rent_per_bed_cents,
            "step_free": f.step_free,
            "rooms": [{"id": r.ref, "beds": r.beds} for r in rooms[fid]],
        }
        if f.ref in opens:
            fd["available"] = opens[f.ref]
        flat_dicts.append(fd)
    kept = {fd["id"] for fd in flat_dicts}
    pinned = [p for p in pinned if p["unit"] in kept]
    occupant_ids = {p["beneficiary"] for p in pinned}
    funds = session.exec(
        select(Fund).where(col(Fund.active).is_(True)).order_by(col(Fund.code))
    ).all()
    terms = terms_of(session, (d.id for d in dwellings))
    dwelling_dicts = [dwelling_dict(d, terms.get(d.id or 0, ())) for d in dwellings]
    for dd in dwelling_dicts:
        if dd["id"] in opens:
            dd["available"] = opens[dd["id"]]
    beneficiary_dicts = [beneficiary_dict(b) for b in households]
    for bd in beneficiary_dicts:
        if bd["id"] in stays:
            bd["stay"] = stays[bd["id"]]
    v2 = (
        horizon is not None
        or bool(shuttles)
        or bool(terms)
        or any("avoid" in p for p in beneficiary_dicts)
    )
    policy_out = policy_dict(policy, shuttles=bool(shuttles))
    if v2:
        policy_out["guarantee"] = {
            "capacity_cents": max(0, guarantee_cents),
            "months": policy.guarantee_months,
        }
    instance: dict[str, Any] = {
        "format": INSTANCE_FORMAT_V2 if v2 else INSTANCE_FORMAT,
        "name": name,
        "policy": policy_out,
        "funds": [
            {
                "id": f.code,
                "budget_cents": max(0, fund_balances.get(f.id or 0, 0)),
                "eligible_tags": sorted(f.eligible_tags or []),
            }
            for f in funds
        ],
        "beneficiaries": beneficiary_dicts + [o for o in occupants if o["id"] in occupant_ids],
        "dwellings": dwelling_dicts,
        "shared_flats": flat_dicts,
        "pinned": pinned,
        "forbidden": [],
    }
    if shuttles:
        instance["shuttles"] = shuttles
    return Snapshot(
        instance=instance,
        households=len(households),
        dwellings=len(dwellings),
        flats=len(flat_dicts),
        free_beds=free_beds,
    )


@dataclass(frozen=True)
class Refs:
    """Row ids of the refs a result names."""

    beneficiaries: dict[str, int]
    dwellings: dict[str, int]
    flats: dict[str, int]
    rooms: dict[str, int]
    funds: dict[str, int]


def resolve_refs(
    session: Session,
    beneficiaries: Iterable[str],
    units: Iterable[str],
    rooms: Iterable[str],
    funds: Iterable[str],
) -> Refs:
    def ids(model: Any, key: Any, values: Iterable[str]) -> dict[str, int]:
        vals = sorted(set(values))
        if not vals:
            return {}
        return {
            k: int(i)
            for k, i in session.exec(select(key, model.id).where(col(key).in_(vals))).all()
        }

    units = set(units)
    return Refs(
        beneficiaries=ids(
            Beneficiary, Beneficiary.ref, (b for b in beneficiaries if not is_occupant(b))
        ),
        dwellings=ids(Dwelling, Dwelling.ref, units),
        flats=ids(SharedFlat, SharedFlat.ref, units),
        rooms=ids(Room, Room.ref, rooms),
        funds=ids(Fund, Fund.code, funds),
    )
