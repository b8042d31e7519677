"""Small, realistic agency records for tests (Foggia area), written straight as rows."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from agency.audit import Actor
from agency.ledger import grant
from agency.models import Beneficiary, Dwelling, Fund, Office, Room, SharedFlat

ACTOR = Actor(username="test-caseworker")
FOGGIA = (41.4622, 15.5446)
WORK_FOGGIA = (41.4584, 15.5519)
SAN_SEVERO = (41.6856, 15.3815)


def office(s: Session, code: str = "FG", name: str = "Foggia") -> Office:
    o = Office(code=code, name=name, province="FG")
    s.add(o)
    s.flush()
    return o


def household(s: Session, off: Office, n: int, **kw: Any) -> Beneficiary:
    lat, lon = kw.pop("work", WORK_FOGGIA)
    data: dict[str, Any] = dict(
        office_id=off.id,
        given_name=f"Given{n}",
        family_name=f"Family{n}",
        gender="M",
        adults=1,
        minors=0,
        income_cents=70000,
        work_lat=lat,
        work_lon=lon,
        work_municipality="071024",
        max_commute_km=30.0,
        registered_on=date(2026, 6, 1),
    )
    data.update(kw)
    b = Beneficiary(**data)
    s.add(b)
    s.flush()
    return b


def dwelling(s: Session, off: Office, **kw: Any) -> Dwelling:
    lat, lon = kw.pop("at", FOGGIA)
    data: dict[str, Any] = dict(
        office_id=off.id,
        address="Via Napoli 10",
        municipality="071024",
        lat=lat,
        lon=lon,
        area_m2=60,
        bedrooms=2,
        rent_cents=42000,
    )
    data.update(kw)
    d = Dwelling(**data)
    s.add(d)
    s.flush()
    return d


def flat(s: Session, off: Office, beds: tuple[int, ...] = (2, 1), **kw: Any) -> SharedFlat:
    lat, lon = kw.pop("at", FOGGIA)
    data: dict[str, Any] = dict(
        office_id=off.id,
        address="Via Lucera 3",
        municipality="071024",
        lat=lat,
        lon=lon,
        rent_per_bed_cents=17000,
    )
    data.update(kw)
    f = SharedFlat(**data)
    s.add(f)
    s.flush()
    assert f.id is not None
    for k, n in enumerate(beds, 1):
        s.add(Room(flat_id=f.id, name=f"room {k}", beds=n))
    s.flush()
    return f


def fund(s: Session, code: str, budget_cents: int, tags: tuple[str, ...] = ()) -> Fund:
    f = Fund(code=code, name=code.title(), eligible_tags=list(tags))
    s.add(f)
    s.flush()
    if budget_cents:
        grant(s, ACTOR, f, budget_cents, note="initial budget")
    s.flush()
    return f


def foggia_round_data(s: Session, off: Office | None = None) -> Office:
    """Six households, two dwellings, one shared flat of three beds, two funds."""
    off = off or office(s)
    household(s, off, 1, tags=["exploitation_victim"], informal_settlement="Borgo Mezzanone")
    household(s, off, 2)
    household(s, off, 3, gender="F")
    household(s, off, 4, adults=2, minors=2, income_cents=110000, accepts_bed=False)
    household(s, off, 5, adults=2, income_cents=90000, accepts_bed=False)
    household(s, off, 6, work=SAN_SEVERO, max_commute_km=10.0)
    dwelling(s, off, area_m2=75, bedrooms=3, rent_cents=45000)
    dwelling(s, off, area_m2=50, bedrooms=1, rent_cents=38000, children_ok=False)
    flat(s, off)
    fund(s, "regional", 1_000_000)
    fund(s, "victims", 300_000, ("exploitation_victim",))
    s.commit()
    return off
