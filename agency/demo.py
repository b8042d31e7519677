"""A realistic Foggia-area data set for the demo and the service's first run.

The households, homes and funds are those of the instance handed to :func:`seed`: the
command line hands it the example round of the scenarios (61 households of farm workers
between San Severo, Cerignola, Rignano Garganico and Borgo Mezzanone; 25 dwellings and 6
shared flats in the towns; three funds). The people get invented names from a fixed list,
their camps are named after the example's notes, and each record is written through
:mod:`agency.records` like any caseworker's entry.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency import records
from agency.audit import Actor
from agency.models import Gender, Office
from agency.schemas import (
    BeneficiaryCreate,
    DwellingCreate,
    FundCreate,
    RoomCreate,
    SharedFlatCreate,
)
from matching.instance import Instance
from places.gazetteer import load as gazetteer

DEMO_ACTOR = Actor(username="demo")
AUGUST = date(2026, 8, 1)
"""When the August intake of homes becomes free (after the July round)."""
AUGUST_GRANTS = {"regional": 250_000, "victims": 80_000, "municipal": 60_000}
"""The funds' August tranche, in cents."""

_GIVEN_M = (
    "Moussa",
    "Ibrahim",
    "Mamadou",
    "Abdoulaye",
    "Sekou",
    "Lamin",
    "Ousmane",
    "Kwame",
    "Samuel",
    "Emmanuel",
    "Gurpreet",
    "Harjit",
    "Ion",
    "Vasile",
    "Youssef",
    "Karim",
    "Bakary",
    "Alpha",
    "Kofi",
    "Yaw",
    "Omar",
    "Malick",
    "Cheikh",
    "Idrissa",
)
_GIVEN_F = ("Aminata", "Fatou", "Mariama", "Grace", "Joy", "Elena", "Ioana", "Awa")
_FAMILY = (
    "Diallo",
    "Traoré",
    "Camara",
    "Koné",
    "Sow",
    "Ndiaye",
    "Mensah",
    "Owusu",
    "Singh",
    "Kaur",
    "Popescu",
    "Ionescu",
    "El Amrani",
    "Benali",
    "Okafor",
    "Adeyemi",
    "Bah",
    "Cissé",
    "Sylla",
    "Touré",
    "Boateng",
    "Mendy",
    "Jallow",
    "Ceesay",
)
_NATIONALITY = ("SN", "ML", "GN", "CI", "GH", "NG", "GM", "IN", "RO", "MA", "BF", "SL")
_STREETS = (
    "Via Roma",
    "Corso Garibaldi",
    "Via Lucera",
    "Via Napoli",
    "Via San Severo",
    "Via Manfredonia",
    "Via Trinitapoli",
    "Corso Vittorio Emanuele",
    "Via Arpi",
    "Via Dante",
    "Via Marconi",
    "Via della Repubblica",
)
_CAMPS = (
    (17, "Gran Ghetto (Torretta Antonacci)"),
    (32, "Borgo Tre Titoli"),
    (41, "Gran Ghetto (Torretta Antonacci)"),
    (57, "Borgo Mezzanone"),
    (10**9, "Borgo Mezzanone"),
)
_WORKPLACES = (
    (17, "Azienda agricola, San Severo"),
    (32, "Azienda agricola, Cerignola"),
    (41, "Azienda agricola, Rignano Garganico"),
    (57, "Azienda agricola, Foggia"),
    (10**9, "Cooperativa agricola, Foggia"),
)


def _by_number(table: tuple[tuple[int, str], ...], n: int) -> str:
    return next(text for last, text in table if n <= last)


def seed(engine: Engine, inst: Instance, *, on: date = date(2026, 7, 1)) -> Office:
    """Write the demo's office, funds, households and homes into an empty database.

    ``inst`` gives the households (with invented names), the dwellings, the shared flats
    and the funds; each unit goes to the municipality whose centre is nearest.
    """
    municipalities = gazetteer()
    with Session(engine) as s:
        if s.exec(select(Office)).first() is not None:
            raise RuntimeError("the demo seeds an empty database; this one has records")
        office = records.create_office(s, DEMO_ACTOR, "FG", "Foggia", "FG")
        assert office.id is not None
        for fund in inst.funds:
            records.create_fund(
                s,
                DEMO_ACTOR,
                FundCreate(
                    code=fund.id,
                    name={
                        "regional": "Regione Puglia – P.I.U. SU.PR.EME.",
                        "victims": "Fondo vittime di sfruttamento",
                        "municipal": "Fondo comunale emergenza abitativa",
                    }.get(fund.id, fund.id),
                    eligible_tags=list(fund.eligible_tags),
                    budget_cents=fund.budget_cents,
                ),
            )
        for k, b in enumerate(inst.beneficiaries):
            n = int(b.id.lstrip("B"))
            given = (_GIVEN_F if b.gender == "F" else _GIVEN_M)[
                (7 * k) % 24 % (8 if b.gender == "F" else 24)
            ]
            work = municipalities.nearest(b.work.lat, b.work.lon)
            records.create_beneficiary(
                s,
                DEMO_ACTOR,
                office.id,
                BeneficiaryCreate(
                    given_name=given,
                    family_name=_FAMILY[(5 * k + 3 + k // 24) % len(_FAMILY)],
                    birth_date=date(1975 + (k * 7) % 27, 1 + k % 12, 1 + (k * 3) % 28),
                    nationality=_NATIONALITY[k % len(_NATIONALITY)],
                    gender=Gender(b.gender),
                    adults=b.adults,
                    minors=b.minors,
                    income_cents=b.income_cents,
                    workplace=_by_number(_WORKPLACES, n),
                    work_municipality=work.istat_code,
                    work_lat=b.work.lat,
                    work_lon=b.work.lon,
                    max_commute_km=b.max_commute_km,
                    needs_step_free=b.needs_step_free,
                    accepts_dwelling="dwelling" in b.accepts,
                    accepts_bed="bed" in b.accepts,
                    health_needs="health" in b.tags,
                    informal_settlement=(
                        _by_number(_CAMPS, n) if "informal_settlement" in b.tags else None
                    ),
                    tags=list(b.tags),
                    registered_on=on - timedelta(days=20 + (k * 37) % 300),
                    pai_tutor=("Operatrice " if k % 2 else "Operatore ") + "ABCDE"[k % 5],
                    pai_started_on=on - timedelta(days=15 + (k * 37) % 300),
                    pai_next_review_on=on + timedelta(days=30 + k % 60),
                ),
            )
        for k, d in enumerate(inst.dwellings):
            town = municipalities.nearest(d.lat, d.lon)
            records.create_dwelling(
                s,
                DEMO_ACTOR,
                office.id,
                DwellingCreate(
                    address=f"{_STREETS[k % len(_STREETS)]} {3 + (k * 11) % 90}",
                    municipality=town.istat_code,
                    lat=d.lat,
                    lon=d.lon,
                    area_m2=d.area_m2,
                    bedrooms=d.bedrooms,
                    rent_cents=d.rent_cents,
                    step_free=d.step_free,
                    children_ok=d.children_ok,
                    max_occupants=d.max_occupants,
                ),
            )
        for k, f in enumerate(inst.shared_flats):
            town = municipalities.nearest(f.lat, f.lon)
            records.create_shared_flat(
                s,
                DEMO_ACTOR,
                office.id,
                SharedFlatCreate(
                    address=f"{_STREETS[(k + 5) % len(_STREETS)]} {10 + k * 7}",
                    municipality=town.istat_code,
                    lat=f.lat,
                    lon=f.lon,
                    rent_per_bed_cents=f.rent_per_bed_cents,
                    step_free=f.step_free,
                    rooms=[RoomCreate(name=str(j), beds=r.beds) for j, r in enumerate(f.rooms, 1)],
                ),
            )
        # the August intake: homes like some of July's, free from the 1st of August
        for k, d in enumerate(inst.dwellings[::6]):
            town = municipalities.nearest(d.lat, d.lon)
            records.create_dwelling(
                s,
                DEMO_ACTOR,
                office.id,
                DwellingCreate(
                    address=f"{_STREETS[(k + 3) % len(_STREETS)]} {101 + k * 4}",
                    municipality=town.istat_code,
                    lat=d.lat,
                    lon=d.lon,
                    area_m2=d.area_m2,
                    bedrooms=d.bedrooms,
                    rent_cents=d.rent_cents,
                    step_free=True,
                    children_ok=True,
                    max_occupants=d.max_occupants,
                    available_from=AUGUST,
                ),
            )
        for k, f in enumerate(inst.shared_flats[:2]):
            town = municipalities.nearest(f.lat, f.lon)
            records.create_shared_flat(
                s,
                DEMO_ACTOR,
                office.id,
                SharedFlatCreate(
                    address=f"{_STREETS[(k + 9) % len(_STREETS)]} {40 + k * 9}",
                    municipality=town.istat_code,
                    lat=f.lat,
                    lon=f.lon,
                    rent_per_bed_cents=f.rent_per_bed_cents,
                    step_free=True,
                    available_from=AUGUST,
                    rooms=[RoomCreate(name=str(j), beds=r.beds) for j, r in enumerate(f.rooms, 1)],
                ),
            )
        s.commit()
        s.refresh(office)
        s.expunge(office)
    return office
