"""Fixtures for the service's tests: an app on a fresh migrated database (the shared
``engine`` fixture: SQLite, and PostgreSQL when TEST_DATABASE_URL is set), two offices with
tiny records, a user of each role, and their bearer tokens and page sessions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agency import records
from agency.audit import Actor
from agency.models import Role, User
from agency.records import users
from agency.schemas import (
    BeneficiaryCreate,
    DwellingCreate,
    FundCreate,
    HouseholdMemberCreate,
    LandlordCreate,
    RoomCreate,
    SharedFlatCreate,
)
from api.main import create_app
from api.security import csrf_token, issue, token_hash
from api.settings import Settings

PASSWORD = "correct horse battery"
ACTOR = Actor("test-setup")

# Names that must never appear in logs, or in any answer to someone not entitled to them.
GIVEN = ["Amadou", "Fatou", "Ibrahima", "Mariama", "Ousmane", "Kadiatou"]
FAMILY = ["Diallo", "Traore", "Keita", "Camara", "Sow", "Ndiaye"]


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters: the tests are about who may do what, not about hashing."""
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@dataclass
class World:
    """Two offices (FG with records, LE with one household), one user per role."""

    fg: int = 0
    le: int = 0
    beneficiaries: list[str] = field(default_factory=list)
    le_beneficiary: str = ""
    landlord: str = ""
    dwellings: list[str] = field(default_factory=list)
    flat: str = ""
    funds: list[str] = field(default_factory=list)
    member_id: int = 0
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def csrf(self, user: str) -> str:
        return csrf_token(token_hash(self.tokens[user]))

    @property
    def names(self) -> list[str]:
        return [*GIVEN[:5], *FAMILY[:5], "Rossi Immobili"]

    @property
    def secrets(self) -> list[str]:
        """Everything of office FG an intruder must never see."""
        return [
            *GIVEN[:5],
            *FAMILY[:5],
            *self.beneficiaries,
            "Rossi Immobili",
            self.landlord,
            *self.dwellings,
            self.flat,
        ]


def household(k: int, **kw: Any) -> BeneficiaryCreate:
    data: dict[str, Any] = dict(
        given_name=GIVEN[k],
        family_name=FAMILY[k],
        gender="M",
        adults=1,
        income_cents=70000 + 5000 * k,
        work_municipality="Foggia",
        work_lat=41.4584,
        work_lon=15.5519,
        max_commute_km=30.0,
        registered_on="2026-06-01",
    )
    data.update(kw)
    return BeneficiaryCreate.model_validate(data)


def build_world(engine: Engine) -> World:
    w = World()
    with Session(engine) as s:
        fg = records.create_office(s, ACTOR, "FG", "Foggia", "FG")
        le = records.create_office(s, ACTOR, "LE", "Lecce", "LE")
        assert fg.id is not None and le.id is not None
        w.fg, w.le = fg.id, le.id
        variants: list[dict[str, Any]] = [
            {"tags": ["exploitation_victim"]},
            {"gender": "F"},
            {"adults": 2, "minors": 2, "accepts_bed": False},
            {},
            {"informal_settlement": "Borgo Mezzanone"},
        ]
        for k, extra in enumerate(variants):
            b = records.create_beneficiary(s, ACTOR, fg.id, household(k, **extra))
            w.beneficiaries.append(b.ref)
        member = records.add_household_member(
            s,
            ACTOR,
            w.beneficiaries[2],
            HouseholdMemberCreate(
                given_name="Aissatou", family_name=FAMILY[2], relation="partner", gender="F"
            ),
        )
        w.member_id = member.id or 0
        other = records.create_beneficiary(
            s, ACTOR, le.id, household(5, work_municipality="Nardò", work_lat=None, work_lon=None)
        )
        w.le_beneficiary = other.ref
        landlord = records.create_landlord(s, ACTOR, fg.id, LandlordCreate(name="Rossi Immobili"))
        w.landlord = landlord.ref
        for addr, rent, area in (("Via Napoli 10", 42000, 60), ("Via Bari 2", 38000, 75)):
            d = records.create_dwelling(
                s,
                ACTOR,
                fg.id,
                DwellingCreate(
                    landlord_ref=landlord.ref,
                    address=addr,
                    municipality="Foggia",
                    lat=41.4622,
                    lon=15.5446,
                    area_m2=area,
                    bedrooms=2,
                    rent_cents=rent,
                ),
            )
            w.dwellings.append(d.ref)
        f = records.create_shared_flat(
            s,
            ACTOR,
            fg.id,
            SharedFlatCreate(
                address="Via Lucera 3",
                municipality="Foggia",
                lat=41.47,
                lon=15.55,
                rent_per_bed_cents=17000,
                rooms=[RoomCreate(beds=2), RoomCreate(beds=1)],
            ),
        )
        w.flat = f.ref
        for code, budget in (("regional", 2_000_000), ("victims", 500_000)):
            records.create_fund(
                s,
                ACTOR,
                FundCreate(
                    code=code,
                    name=code.title(),
                    budget_cents=budget,
                    eligible_tags=["exploitation_victim"] if code == "victims" else [],
                ),
            )
            w.funds.append(code)
        users = {
            "root": (Role.admin, None),
            "anna": (Role.caseworker, fg.id),
            "luca": (Role.caseworker, le.id),
            "pia": (Role.planner, None),
            "aldo": (Role.auditor, None),
        }
        created: dict[str, User] = {}
        for name, (role, office) in users.items():
            created[name] = records.create_user(
                s, ACTOR, name, name.title(), PASSWORD, role, office
            )
        for name, user in created.items():
            w.tokens[name] = issue(s, user, Settings()).token
        s.commit()
    return w


@pytest.fixture
def settings() -> Settings:
    # plain HTTP to the test server: cookies without Secure, as in local development
    return Settings(login_delay_base_seconds=0.0, cookie_secure=False)


@pytest.fixture
def app(engine: Engine, settings: Settings) -> FastAPI:
    return create_app(settings, engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


def page_client(app: FastAPI, w: World, user: str) -> TestClient:
    """A browser-like client holding ``user``'s session cookie."""
    c = TestClient(app, follow_redirects=False)
    c.cookies.set("housing_session", w.tokens[user])
    return c
