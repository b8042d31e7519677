"""The records' service functions: create, read, list, update, deactivate, all audited."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from agency import ledger, records
from agency.audit import Actor
from agency.models import AuditEntry, BeneficiaryEvent, Role, Room
from agency.records import NotFoundError, RecordError
from agency.schemas import (
    BeneficiaryCreate,
    DwellingCreate,
    FundCreate,
    HouseholdMemberCreate,
    LandlordCreate,
    RoomCreate,
    SharedFlatCreate,
)
from places import gazetteer

ACTOR = Actor("tester")


def _bene(**kw: object) -> BeneficiaryCreate:
    data: dict[str, object] = dict(
        given_name="Amadou",
        family_name="Diallo",
        gender="M",
        adults=1,
        income_cents=80000,
        work_municipality="Foggia",
    )
    data.update(kw)
    return BeneficiaryCreate.model_validate(data)


@pytest.fixture
def session(engine: Engine) -> Session:
    with Session(engine) as s:
        yield s  # type: ignore[misc]


@pytest.fixture
def offices(session: Session) -> tuple[int, int]:
    a = records.create_office(session, ACTOR, "FG", "Foggia", "FG")
    b = records.create_office(session, ACTOR, "LE", "Lecce", "LE")
    assert a.id is not None and b.id is not None
    return a.id, b.id


def _audit(session: Session) -> list[tuple[str, str | None, str]]:
    rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
    return [(e.action, e.entity_ref, e.outcome) for e in rows]


def test_beneficiary_lifecycle(session: Session, offices: tuple[int, int]) -> None:
    fg, le = offices
    b = records.create_beneficiary(session, ACTOR, fg, _bene(tags=["exploitation_victim"]))
    assert b.ref.startswith("B-") and b.work_municipality == "071024"
    assert b.work_lat == pytest.approx(41.46, abs=0.05) and b.priority >= 5
    assert ("beneficiary.create", b.ref, "ok") in _audit(session)
    assert records.get_beneficiary(session, ACTOR, b.ref, scope=fg).id == b.id
    assert ("beneficiary.read", b.ref, "ok") in _audit(session)
    with pytest.raises(NotFoundError) as exc:
        records.get_beneficiary(session, ACTOR, b.ref, scope=le)
    assert exc.value.denied
    with pytest.raises(NotFoundError) as exc:
        records.get_beneficiary(session, ACTOR, "B-NOPE0000")
    assert not exc.value.denied

    b = records.update_beneficiary(
        session, ACTOR, b.ref, {"work_municipality": "071033", "minors": 2}
    )
    assert b.work_municipality == "071033" and b.minors == 2
    with pytest.raises(RecordError) as err:
        records.update_beneficiary(session, ACTOR, b.ref, {"adults": 0})
    assert err.value.field == "adults"

    records.change_beneficiary_status(session, ACTOR, b.ref, "suspended", "not reachable")
    records.deactivate_beneficiary(session, ACTOR, b.ref)
    events = session.exec(
        select(BeneficiaryEvent).where(BeneficiaryEvent.beneficiary_id == b.id)
    ).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "waiting"),
        ("waiting", "suspended"),
        ("suspended", "closed"),
    ]
    with pytest.raises(RecordError):
        records.change_beneficiary_status(session, ACTOR, b.ref, "housed")
    # no personal data in any audit entry
    for e in session.exec(select(AuditEntry)):
        assert "Diallo" not in repr(e.detail) and "Amadou" not in repr(e.detail)


def test_unknown_municipality_names_the_field(session: Session, offices: tuple[int, int]) -> None:
    with pytest.raises(RecordError) as err:
        records.create_beneficiary(session, ACTOR, offices[0], _bene(work_municipality="Fogia"))
    assert err.value.field == "work_municipality"
    assert "Foggia" in str(err.value) and str(err.value).startswith("work_municipality")


def test_list_search_scope_and_pages(session: Session, offices: tuple[int, int]) -> None:
    fg, le = offices
    for k in range(5):
        records.create_beneficiary(session, ACTOR, fg, _bene(family_name=f"Fam{k}"))
    records.create_beneficiary(session, ACTOR, le, _bene(work_municipality="Nardò"))
    page = records.list_beneficiaries(session, ACTOR, scope=fg, limit=2, offset=0)
    assert page.total == 5 and len(page.items) == 2
    assert records.list_beneficiaries(session, ACTOR, q="fam3").total == 1
    assert records.list_beneficiaries(session, ACTOR, scope=le).total == 1
    assert records.list_beneficiaries(session, ACTOR).total == 6
    with pytest.raises(RecordError):
        records.list_beneficiaries(session, ACTOR, limit=records.MAX_PAGE + 1)


def test_units_landlords_and_members(session: Session, offices: tuple[int, int]) -> None:
    fg, le = offices
    landlord = records.create_landlord(session, ACTOR, fg, LandlordCreate(name="Rossi srl"))
    d = records.create_dwelling(
        session,
        ACTOR,
        fg,
        DwellingCreate(
            landlord_ref=landlord.ref,
            address="Via Roma 1",
            municipality="San Severo",
            area_m2=60,
            bedrooms=2,
            rent_cents=40000,
        ),
    )
    assert d.landlord_id == landlord.id and d.municipality == "071051"
    with pytest.raises(RecordError) as err:
        records.create_dwelling(
            session,
            ACTOR,
            le,
            DwellingCreate(
                landlord_ref=landlord.ref,
                address="Via Roma 2",
                municipality="Lecce",
                area_m2=60,
                bedrooms=2,
                rent_cents=40000,
            ),
        )
    assert err.value.field == "landlord_ref"
    d = records.update_dwelling(session, ACTOR, d.ref, {"rent_cents": 45000})
    assert d.rent_cents == 45000
    assert records.deactivate_dwelling(session, ACTOR, d.ref).status == "withdrawn"

    f = records.create_shared_flat(
        session,
        ACTOR,
        fg,
        SharedFlatCreate(
            address="Via Lucera 3",
            municipality="Foggia",
            lat=41.46,
            lon=15.55,
            rent_per_bed_cents=15000,
            rooms=[RoomCreate(beds=2), RoomCreate(beds=1)],
        ),
    )
    rooms = session.exec(select(Room).where(Room.flat_id == f.id)).all()
    assert sorted(r.beds for r in rooms) == [1, 2] and f.lat == 41.46
    assert records.list_shared_flats(session, ACTOR, scope=le).total == 0

    b = records.create_beneficiary(session, ACTOR, fg, _bene(adults=2, minors=1))
    m = records.add_household_member(
        session,
        ACTOR,
        b.ref,
        HouseholdMemberCreate(
            given_name="Awa", family_name="Diallo", relation="partner", gender="F"
        ),
    )
    assert records.household_members(session, b) == [m]
    records.remove_household_member(session, ACTOR, b.ref, m.id or 0)
    assert records.household_members(session, b) == []


@pytest.mark.parametrize("kind", ["dwelling", "shared_flat"])
def test_both_kinds_of_unit_keep_the_same_rules(
    session: Session, offices: tuple[int, int], kind: str
) -> None:
    fg, le = offices
    units = records.DWELLINGS if kind == "dwelling" else records.FLATS
    data = (
        DwellingCreate(
            address="Via Roma 1",
            municipality="San Severo",
            area_m2=60,
            bedrooms=2,
            rent_cents=40000,
        )
        if kind == "dwelling"
        else SharedFlatCreate(
            address="Via Roma 1",
            municipality="San Severo",
            rent_per_bed_cents=15000,
            rooms=[RoomCreate(beds=2)],
        )
    )
    unit = units.create(session, ACTOR, fg, data)
    # another office's unit is not found, and the refusal says it was a denial
    with pytest.raises(NotFoundError) as hidden:
        units.get(session, ACTOR, unit.ref, scope=le)
    assert hidden.value.denied
    # a new municipality without coordinates moves the unit to its centre
    moved = units.update(session, ACTOR, unit.ref, {"municipality": "Lucera"})
    lucera = gazetteer.find("Lucera")
    assert (moved.municipality, moved.lat, moved.lon) == (lucera.istat_code, lucera.lat, lucera.lon)
    assert units.page(session, ACTOR, municipality="Lucera").total == 1
    # "let" comes from leases only
    with pytest.raises(RecordError) as let:
        units.set_status(session, ACTOR, unit.ref, "let")
    assert let.value.field == "status"
    assert units.deactivate(session, ACTOR, unit.ref).status == "withdrawn"
    assert units.set_status(session, ACTOR, unit.ref, "available").status == "available"
    actions = [
        e.action
        for e in session.exec(
            select(AuditEntry).where(AuditEntry.entity_ref == unit.ref).order_by(col(AuditEntry.id))
        )
    ]
    assert actions == [f"{kind}.create", f"{kind}.update", f"{kind}.status", f"{kind}.status"]


def test_a_shared_flats_rooms_do_not_change(session: Session, offices: tuple[int, int]) -> None:
    f = records.create_shared_flat(
        session,
        ACTOR,
        offices[0],
        SharedFlatCreate(
            address="Via Lucera 3",
            municipality="Foggia",
            rent_per_bed_cents=15000,
            rooms=[RoomCreate(beds=2), RoomCreate(beds=1)],
        ),
    )
    with pytest.raises(RecordError) as err:
        records.update_shared_flat(session, ACTOR, f.ref, {"rooms": [{"beds": 4}]})
    assert err.value.field == "rooms"
    records.update_shared_flat(session, ACTOR, f.ref, {"rent_per_bed_cents": 16000})
    assert [(r.name, r.beds) for r in records.rooms_of(session, f)] == [("1", 2), ("2", 1)]


def test_fund_budget_is_a_grant(session: Session) -> None:
    fund = records.create_fund(
        session, ACTOR, FundCreate(code="regional", name="Regione", budget_cents=500000)
    )
    assert fund.id is not None and ledger.balance(session, fund.id) == 500000
    records.grant_fund(session, ACTOR, "regional", 1000)
    assert ledger.balance(session, fund.id) == 501000
    with pytest.raises(records.DuplicateError):
        records.create_fund(session, ACTOR, FundCreate(code="regional", name="x"))
    assert records.deactivate_fund(session, ACTOR, "regional").active is False
    empty = records.create_fund(session, ACTOR, FundCreate(code="empty", name="Empty"))
    assert empty.id is not None and ledger.balance(session, empty.id) == 0


def test_users_hash_and_office(session: Session, offices: tuple[int, int]) -> None:
    u = records.create_user(
        session, ACTOR, "anna", "Anna B.", "correct horse battery", Role.caseworker, offices[0]
    )
    assert u.password_hash.startswith("$argon2id$")
    assert records.verify_password(u.password_hash, "correct horse battery")
    assert not records.verify_password(u.password_hash, "wrong")
    with pytest.raises(RecordError) as err:
        records.create_user(session, ACTOR, "bob", "Bob", "long enough pw", "caseworker", None)
    assert err.value.field == "office"
    with pytest.raises(RecordError):
        records.create_user(session, ACTOR, "carl", "Carl", "short", "admin", None)
    with pytest.raises(records.DuplicateError):
        records.create_user(session, ACTOR, "anna", "A", "long enough pw", "admin", None)
    assert records.deactivate_user(session, ACTOR, "anna").active is False


def test_staff_and_offices_are_checked_by_their_schemas(
    session: Session, offices: tuple[int, int]
) -> None:
    with pytest.raises(RecordError) as bad_name:
        records.create_user(session, ACTOR, "Anna Rossi", "Anna", "long enough pw", "admin", None)
    assert bad_name.value.field == "username"
    assert "lowercase letters" in bad_name.value.message
    with pytest.raises(RecordError) as role:
        records.create_user(session, ACTOR, "anna", "Anna", "long enough pw", "boss", None)
    assert role.value.field == "role"
    with pytest.raises(RecordError) as code:
        records.create_office(session, ACTOR, "F G", "Foggia")
    assert (code.value.field, code.value.message) == ("code", "1 to 32 letters, digits, '-' or '_'")
    with pytest.raises(RecordError) as name:
        records.create_office(session, ACTOR, "BA", "x" * 201)
    assert name.value.field == "name"
    assert records.create_office(session, ACTOR, "BA", "  Bari ").name == "Bari"


def test_texts_and_amounts_beyond_their_columns_are_refused_by_field() -> None:
    """The checked models keep within the tables' columns (200 characters; 32-bit cents)."""
    for build, field in (
        (lambda: LandlordCreate(name="x" * 250), "name"),
        (lambda: FundCreate(code="long", name="y" * 250), "name"),
        (lambda: _bene(income_cents=2**31), "income_cents"),
    ):
        with pytest.raises(ValidationError) as err:
            build()
        assert [e["loc"] for e in err.value.errors()] == [(field,)]
