"""The agency's records: SQLModel tables (Alembic owns the schema, see ``migrations/``).

Each entity has a base, ``XBase``, holding the fields that the table, the checked input
(``XCreate``, ``XUpdate``) and the public view (``XPublic``, in :mod:`agency.schemas`)
share, with their limits (:mod:`agency.fields`): the table is ``X(XBase, table=True)``, so
a limit is declared once and is its column's.

Conventions
-----------
- Money is integer euro cents (``*_cents``); never a float.
- Timestamps are timezone-aware UTC (:class:`UTCDateTime` gives them back aware on SQLite
  too); dates without a time (``*_on``) are plain dates.
- Every person and unit has an opaque ``ref`` (random, not derived from any personal
  data): it is the id used in allocation rounds, the audit log and the application's logs,
  so none of them ever needs a name.
- The funds ledger and the audit log are append-only: database triggers refuse UPDATE and
  DELETE on them (see the initial migration).
"""

from __future__ import annotations

import contextlib
import random
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field as PydanticField
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel
from sqlmodel.sql.sqltypes import AutoString

from agency.fields import (
    MAX_TAGS,
    Address,
    Email,
    Lat,
    Lon,
    Month,
    MonthlyCents,
    Name,
    Note,
    Phone,
    Seats,
    Tag,
    Title,
)
from agency.protected import SealedJSON

# --------------------------------------------------------------------------- types


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite stores it naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


_REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud on the phone


_seeded: random.Random | None = None


def new_ref(prefix: str) -> str:
    """An opaque reference such as ``B-7K2Q9MXA``: random, never derived from the person."""
    pick = _seeded.choice if _seeded is not None else secrets.choice
    return prefix + "-" + "".join(pick(_REF_ALPHABET) for _ in range(8))


@contextlib.contextmanager
def seeded_refs(seed: int) -> Iterator[None]:
    """New refs drawn from a seeded generator while inside (the demo's records get the
    same refs on every run); outside, refs are drawn from the system's secure source."""
    global _seeded
    before, _seeded = _seeded, random.Random(seed)
    try:
        yield
    finally:
        _seeded = before


def _json() -> Any:
    return Field(default_factory=list, sa_type=sa.JSON)


def _stamp() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime)


def _when() -> Any:
    return Field(default=None, sa_type=UTCDateTime)


# --------------------------------------------------------------------------- enums


class Role(StrEnum):
    admin = "admin"
    caseworker = "caseworker"
    planner = "planner"
    auditor = "auditor"


class Gender(StrEnum):
    F = "F"
    M = "M"
    X = "X"


class BeneficiaryStatus(StrEnum):
    waiting = "waiting"  # taken in charge, looking for a home
    offered = "offered"  # an offer is out
    housed = "housed"  # holds an active lease
    suspended = "suspended"  # temporarily out of rounds (e.g. not reachable)
    closed = "closed"  # case closed (autonomous, left the programme)


class UnitStatus(StrEnum):
    # a landlord's dwelling walks proposed -> visited -> certified -> available
    proposed = "proposed"  # a landlord offers it; not seen yet
    visited = "visited"  # staff have seen it
    certified = "certified"  # the municipality's certificate of fitness is on file
    available = "available"
    let = "let"  # dwellings: leased; shared flats use per-bed leases
    withdrawn = "withdrawn"


class RoundStatus(StrEnum):
    open = "open"  # snapshot taken, not solved yet
    solved = "solved"  # proposals ready for review
    offers = "offers"  # offers sent, answers being recorded
    closed = "closed"
    cancelled = "cancelled"


class DecisionKind(StrEnum):
    lock = "lock"  # staff keep this pair: pinned in every re-solve
    forbid = "forbid"  # staff exclude this pair


class OfferStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    refused_household = "refused_household"
    refused_landlord = "refused_landlord"
    unreachable = "unreachable"
    withdrawn = "withdrawn"


class LedgerKind(StrEnum):
    grant = "grant"  # money into the fund (+)
    commitment = "commitment"  # a lease's contribution for its months (-)
    release = "release"  # a commitment given back, e.g. a lease ended early (+)
    adjustment = "adjustment"  # a correction, signed, with a note
    one_off = "one_off"  # a landlord's one-off incentive paid for a lease (-)


# --------------------------------------------------------------------------- staff


OFFICE_CODE = PydanticField(
    pattern=r"^[A-Za-z0-9_-]{1,32}$",
    max_length=32,
    description="1 to 32 letters, digits, '-' or '_'",
)
USERNAME = PydanticField(
    pattern=r"^[a-z][a-z0-9._-]{1,63}$",
    max_length=64,
    description="2 to 64 lowercase letters, digits, '.', '-' or '_', starting with a letter",
)
FUND_CODE = PydanticField(
    pattern=r"^[a-z][a-z0-9_-]{0,31}$",
    max_length=32,
    description="1 to 32 lowercase letters, digits, '-' or '_', starting with a letter",
)
UNIQUE = Field(unique=True, index=True)
"""A unique, indexed column (given before a code's limits, which keep their description)."""


class OfficeBase(SQLModel):
    code: Annotated[str, UNIQUE, OFFICE_CODE]
    name: Title
    province: Annotated[str | None, PydanticField(max_length=2)] = None


class Office(OfficeBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class UserBase(SQLModel):
    username: Annotated[str, UNIQUE, USERNAME]
    full_name: Title


class User(UserBase, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=sa.String(16))
    office_id: int | None = Field(default=None, foreign_key="office.id", index=True)
    active: bool = True
    created_at: datetime = _stamp()
    last_login_at: datetime | None = _when()


class AuthSession(SQLModel, table=True):
    """A login: the client holds the token, the database only its SHA-256."""

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = _stamp()
    last_seen_at: datetime = _stamp()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = _when()


class LoginAttempt(SQLModel, table=True):
    """A login attempt: the account it reached (None: no such user) and the client's
    address as a SHA-256, never what was typed (a password typed as a username)."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    client: str = Field(max_length=64, index=True)
    at: datetime = _stamp()
    success: bool = False


# --------------------------------------------------------------------------- people


class BeneficiaryBase(SQLModel):
    """What a caseworker writes of a household (the place of work apart: a municipality as
    typed on the way in, its ISTAT code and coordinates in the table)."""

    # identity of the household's head (personal data: never logged)
    given_name: Name
    family_name: Name
    birth_date: date | None = None
    nationality: Annotated[str | None, PydanticField(pattern=r"^[A-Z]{2}$")] = Field(
        default=None, sa_type=AutoString(length=2)
    )  # ISO 3166 alpha-2
    phone: Phone = None
    # household
    gender: Gender = Field(sa_type=sa.String(1))
    adults: int = Field(ge=1, le=12)
    minors: int = Field(default=0, ge=0, le=12)
    income_cents: MonthlyCents
    # work
    workplace: Note = None
    max_commute_km: float = Field(default=25.0, gt=0, le=200)
    # the season of the work contract (both absent: all year)
    season_from: Month = Field(default=None, sa_type=AutoString(length=7))
    season_to: Month = Field(default=None, sa_type=AutoString(length=7))
    # needs and wishes
    needs_step_free: bool = False
    accepts_dwelling: bool = True
    accepts_bed: bool = True
    health_needs: bool = False
    informal_settlement: Annotated[str | None, PydanticField(max_length=100)] = None
    tags: Annotated[list[Tag], PydanticField(max_length=MAX_TAGS)] = Field(
        default_factory=list, sa_type=SealedJSON
    )  # sealed: some reveal a victim's status (agency/protected.py)
    # individual plan (PAI)
    pai_tutor: Note = None
    pai_started_on: date | None = None
    pai_next_review_on: date | None = None
    pai_goals: Annotated[str | None, PydanticField(max_length=4000)] = Field(
        default=None, sa_type=AutoString
    )  # the column itself is unbounded


class Beneficiary(BeneficiaryBase, table=True):
    """A household taken in charge: its head's identity and what the rounds need.

    ``identity_key`` is a SHA-256 of the head's normalised names and birth date
    (:mod:`agency.identity`): a unique index makes the database refuse the same person
    twice *within one office*. A person known to two offices is two cases, one per
    office, and neither office learns of the other's.
    """

    __table_args__ = (
        sa.Index("uq_beneficiary_office_identity", "office_id", "identity_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(default_factory=lambda: new_ref("B"), max_length=16, unique=True, index=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    work_municipality: str | None = Field(default=None, max_length=6)  # ISTAT code
    work_lat: float
    work_lon: float
    # case
    status: BeneficiaryStatus = Field(
        default=BeneficiaryStatus.waiting, sa_type=sa.String(16), index=True
    )
    registered_on: date = Field(default_factory=lambda: utcnow().date())
    priority: int = Field(default=1, ge=0)
    priority_breakdown: list[dict[str, Any]] = Field(default_factory=list, sa_type=SealedJSON)
    priority_computed_at: datetime | None = _when()
    created_at: datetime = _stamp()
    updated_at: datetime = _stamp()
    # uniqueness, and the subject's rights (GDPR Art. 17: a pseudonym since then)
    identity_key: str | None = Field(default=None, max_length=64)
    pseudonymised_at: datetime | None = _when()
    # where the household must never be housed (special-category data: sealed, see
    # agency/protected.py; never shown outside its own office, never to planners)
    avoid_zones: list[dict[str, float]] | None = Field(default=None, sa_type=SealedJSON)

    @property
    def persons(self) -> int:
        return self.adults + self.minors


class HouseholdMemberBase(SQLModel):
    given_name: Name
    family_name: Name
    birth_date: date | None = None
    gender: Gender = Field(sa_type=sa.String(1))


class HouseholdMember(HouseholdMemberBase, table=True):
    __tablename__ = "household_member"

    id: int | None = Field(default=None, primary_key=True)
    beneficiary_id: int = Field(foreign_key="beneficiary.id", index=True)
    relation: str = Field(max_length=16)  # partner, child, parent, other


class BeneficiaryEvent(SQLModel, table=True):
    """The case history: status changes, PAI reviews, notes."""

    __tablename__ = "beneficiary_event"

    id: int | None = Field(default=None, primary_key=True)
    beneficiary_id: int = Field(foreign_key="beneficiary.id", index=True)
    at: datetime = _stamp()
    kind: str = Field(max_length=16)  # status, pai, note
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    note: str | None = None
    user_id: int | None = Field(default=None, foreign_key="user_account.id")


# --------------------------------------------------------------------------- homes


class LandlordBase(SQLModel):
    name: Title
    tax_code: Annotated[str | None, PydanticField(pattern=r"^[A-Z0-9]{11,16}$", max_length=16)] = (
        None
    )
    phone: Phone = None
    email: Email = None


class Landlord(LandlordBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(default_factory=lambda: new_ref("L"), max_length=16, unique=True, index=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    created_at: datetime = _stamp()


class UnitBase(SQLModel):
    """What dwellings and shared flats share (their place apart: a municipality as typed
    on the way in, its ISTAT code and the coordinates in the table)."""

    address: Address
    step_free: bool = False
    available_from: date | None = None
    # the months the unit is open (a foresteria open June to October; absent: all year)
    open_from: Month = Field(default=None, sa_type=AutoString(length=7))
    open_to: Month = Field(default=None, sa_type=AutoString(length=7))


class DwellingBase(UnitBase):
    area_m2: float = Field(gt=0, le=1000)
    bedrooms: int = Field(ge=0, le=20)
    rent_cents: MonthlyCents
    children_ok: bool = True
    max_occupants: Annotated[int | None, PydanticField(ge=1, le=30)] = None
    """The habitability certificate's limit, when lower than the law's."""


class Dwelling(DwellingBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(default_factory=lambda: new_ref("D"), max_length=16, unique=True, index=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    landlord_id: int | None = Field(default=None, foreign_key="landlord.id", index=True)
    municipality: str = Field(max_length=6)  # ISTAT code
    lat: float
    lon: float
    status: UnitStatus = Field(default=UnitStatus.available, sa_type=sa.String(16), index=True)
    created_at: datetime = _stamp()
    # a landlord's walk (agency/records/landlords.py): the visit and the certificate of fitness
    visited_on: date | None = None
    certificate_number: str | None = Field(default=None, max_length=50)
    certificate_on: date | None = None
    certificate_occupants: int | None = None


TERM_LABEL = PydanticField(
    pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$",
    max_length=32,
    description="1 to 32 lowercase letters, digits, '-' or '_'",
)


class DwellingTermBase(SQLModel):
    """A set of terms negotiated with the landlord (the engine picks one per lease)."""

    label: Annotated[str, TERM_LABEL] = Field(max_length=32)
    rent_cents: MonthlyCents
    one_off_cents: int = Field(default=0, ge=0, le=10_000_000, sa_type=sa.BigInteger)
    guaranteed: bool = False


class DwellingTerm(DwellingTermBase, table=True):
    __tablename__ = "dwelling_term"
    __table_args__ = (sa.UniqueConstraint("dwelling_id", "label"),)

    id: int | None = Field(default=None, primary_key=True)
    dwelling_id: int = Field(foreign_key="dwelling.id", index=True)


class SharedFlatBase(UnitBase):
    rent_per_bed_cents: MonthlyCents


class SharedFlat(SharedFlatBase, table=True):
    __tablename__ = "shared_flat"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(default_factory=lambda: new_ref("F"), max_length=16, unique=True, index=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    landlord_id: int | None = Field(default=None, foreign_key="landlord.id", index=True)
    municipality: str = Field(max_length=6)  # ISTAT code
    lat: float
    lon: float
    status: UnitStatus = Field(default=UnitStatus.available, sa_type=sa.String(16), index=True)
    created_at: datetime = _stamp()


class RoomBase(SQLModel):
    name: str = Field(default="", max_length=50)
    beds: int = Field(ge=1, le=4)


class Room(RoomBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(default_factory=lambda: new_ref("R"), max_length=16, unique=True, index=True)
    flat_id: int = Field(foreign_key="shared_flat.id", index=True)


# --------------------------------------------------------------------------- transport


class ShuttleLineBase(SQLModel):
    """A minibus line the agency runs (``running``) or could open, from homes to work."""

    name: Title
    seats: Seats
    monthly_cost_cents: MonthlyCents
    running: bool = False


class ShuttleLine(ShuttleLineBase, table=True):
    __tablename__ = "shuttle_line"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(default_factory=lambda: new_ref("SL"), max_length=16, unique=True, index=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    created_at: datetime = _stamp()


class ShuttleStopBase(SQLModel):
    name: Title
    lat: Lat
    lon: Lon


class ShuttleStop(ShuttleStopBase, table=True):
    """A stop of a line, in the order the minibus calls (``position``)."""

    __tablename__ = "shuttle_stop"

    id: int | None = Field(default=None, primary_key=True)
    line_id: int = Field(foreign_key="shuttle_line.id", index=True)
    position: int = Field(ge=0)


# --------------------------------------------------------------------------- money


class FundBase(SQLModel):
    name: Title
    eligible_tags: Annotated[list[Tag], PydanticField(max_length=MAX_TAGS)] = Field(
        default_factory=list, sa_type=sa.JSON
    )
    """Whom it may pay for: anyone when empty, else a household with one of these tags."""


class Fund(FundBase, table=True):
    """A budget line. Its balance is the sum of its ledger entries, nothing else."""

    id: int | None = Field(default=None, primary_key=True)
    code: Annotated[str, UNIQUE, FUND_CODE]
    active: bool = True
    created_at: datetime = _stamp()


class LedgerEntry(SQLModel, table=True):
    """One movement of a fund: append-only (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "ledger_entry"

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="fund.id", index=True)
    at: datetime = _stamp()
    kind: LedgerKind = Field(sa_type=sa.String(16))
    amount_cents: int = Field(sa_type=sa.BigInteger)  # signed: grants, releases +; commitments -
    round_id: int | None = Field(default=None, foreign_key="allocation_round.id", index=True)
    lease_id: int | None = Field(default=None, foreign_key="lease.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    note: str | None = Field(default=None, max_length=500)
    # a correction: this entry reverses that one (at most once, by the unique index)
    reverses_id: int | None = Field(default=None, foreign_key="ledger_entry.id", unique=True)


class GuaranteeKind(StrEnum):
    grant = "grant"  # money into the guarantee fund (+)
    exposure = "exposure"  # a guaranteed lease's rent x months at risk (-)
    release = "release"  # an exposure given back: the lease ended, or a claim paid it (+)
    claim = "claim"  # arrears paid to a landlord (-)


class GuaranteeEntry(SQLModel, table=True):
    """One movement of the guarantee fund against arrears: append-only. Its balance (what
    is left to guarantee new leases) is grants - claims paid - exposures still open."""

    __tablename__ = "guarantee_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _stamp()
    kind: GuaranteeKind = Field(sa_type=sa.String(16))
    amount_cents: int = Field(sa_type=sa.BigInteger)  # signed
    round_id: int | None = Field(default=None, foreign_key="allocation_round.id", index=True)
    lease_id: int | None = Field(default=None, foreign_key="lease.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    note: str | None = Field(default=None, max_length=500)


# --------------------------------------------------------------------------- rounds


class Round(SQLModel, table=True):
    """An allocation round: a snapshot, its solves, offers and answers, then leases."""

    __tablename__ = "allocation_round"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(default_factory=lambda: new_ref("RND"), max_length=16, unique=True, index=True)
    name: str = Field(max_length=200)
    office_id: int | None = Field(default=None, foreign_key="office.id", index=True)
    status: RoundStatus = Field(default=RoundStatus.open, sa_type=sa.String(16), index=True)
    policy: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    time_limit_s: float = 30.0
    seed: int = 0
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    result: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    solve_count: int = 0
    opened_at: datetime = _stamp()
    opened_by: int | None = Field(default=None, foreign_key="user_account.id")
    solved_at: datetime | None = _when()
    closed_at: datetime | None = _when()
    closed_by: int | None = Field(default=None, foreign_key="user_account.id")


class RoundSolve(SQLModel, table=True):
    """One solve of a round, kept for accountability: what the engine was given (the
    instance's hash, the pins and bans of that moment), how it ran (its version and
    parameters, the seed), how each stage ended, and the round's audit (groups and
    priority inversions, :mod:`matching.audit`). :mod:`agency.accountability` rebuilds
    the exact instance from it and replays the solve."""

    __tablename__ = "round_solve"
    __table_args__ = (sa.UniqueConstraint("round_id", "iteration"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="allocation_round.id", index=True)
    iteration: int
    solved_at: datetime = _stamp()
    instance_sha256: str = Field(max_length=64)
    inputs: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    engine: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    status: str = Field(max_length=16)
    stages: list[dict[str, Any]] = _json()
    result_sha256: str = Field(max_length=64)
    objective: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    audit: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    audit_seconds: float | None = None


class RoundDecision(SQLModel, table=True):
    """Staff's review of a round: a pair locked (pinned) or forbidden."""

    __tablename__ = "round_decision"
    __table_args__ = (sa.UniqueConstraint("round_id", "beneficiary_id", "unit_ref", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="allocation_round.id", index=True)
    beneficiary_id: int = Field(foreign_key="beneficiary.id")
    unit_ref: str = Field(max_length=16)
    room_ref: str | None = Field(default=None, max_length=16)
    kind: DecisionKind = Field(sa_type=sa.String(8))
    note: str | None = Field(default=None, max_length=500)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = _stamp()


class Proposal(SQLModel, table=True):
    """A placement proposed by a solve of a round (``iteration`` counts the solves)."""

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="allocation_round.id", index=True)
    iteration: int
    current: bool = Field(default=True, index=True)
    beneficiary_id: int = Field(foreign_key="beneficiary.id", index=True)
    dwelling_id: int | None = Field(default=None, foreign_key="dwelling.id")
    flat_id: int | None = Field(default=None, foreign_key="shared_flat.id")
    room_id: int | None = Field(default=None, foreign_key="room.id")
    fund_id: int | None = Field(default=None, foreign_key="fund.id")
    contribution_cents: int = Field(ge=0)
    commute_km: float
    months: int | None = None
    """The months of the stay (None: a round from before seasons, ``contribution_months``)."""
    stay_from: str | None = Field(default=None, max_length=7)
    stay_to: str | None = Field(default=None, max_length=7)
    line_id: int | None = Field(default=None, foreign_key="shuttle_line.id")
    term: str | None = Field(default=None, max_length=32)
    one_off_cents: int = Field(default=0, ge=0)


class Offer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="allocation_round.id", index=True)
    proposal_id: int = Field(foreign_key="proposal.id")
    beneficiary_id: int = Field(foreign_key="beneficiary.id", index=True)
    dwelling_id: int | None = Field(default=None, foreign_key="dwelling.id")
    flat_id: int | None = Field(default=None, foreign_key="shared_flat.id")
    room_id: int | None = Field(default=None, foreign_key="room.id")
    fund_id: int | None = Field(default=None, foreign_key="fund.id")
    contribution_cents: int = Field(ge=0)
    commute_km: float
    months: int | None = None
    stay_from: str | None = Field(default=None, max_length=7)
    stay_to: str | None = Field(default=None, max_length=7)
    line_id: int | None = Field(default=None, foreign_key="shuttle_line.id")
    term: str | None = Field(default=None, max_length=32)
    one_off_cents: int = Field(default=0, ge=0)
    status: OfferStatus = Field(default=OfferStatus.pending, sa_type=sa.String(20), index=True)
    reason: str | None = Field(default=None, max_length=500)
    sent_at: datetime = _stamp()
    sent_by: int | None = Field(default=None, foreign_key="user_account.id")
    reply_by: date | None = None
    """The day by which the household is asked to answer (the letter says it)."""
    answered_at: datetime | None = _when()
    answered_by: int | None = Field(default=None, foreign_key="user_account.id")


_WHOLE_YEAR = "ended_on IS NULL AND dwelling_id IS NOT NULL AND stay_from IS NULL"
_SEASONAL = "ended_on IS NULL AND dwelling_id IS NOT NULL AND stay_from IS NOT NULL"


class Lease(SQLModel, table=True):
    """A home taken: a dwelling, or one bed in a room. Active while ``ended_on`` is null.

    Partial unique indexes make the database itself refuse a second active lease on one
    dwelling (one a season: a seasonal lease, from ``stay_from`` to ``stay_to``, may share
    its dwelling with the leases of other seasons) or for one household, whatever the
    application does.
    """

    __table_args__ = (
        sa.Index(
            "uq_lease_active_dwelling",
            "dwelling_id",
            unique=True,
            sqlite_where=sa.text(_WHOLE_YEAR),
            postgresql_where=sa.text(_WHOLE_YEAR),
        ),
        sa.Index(
            "uq_lease_season_dwelling",
            "dwelling_id",
            "stay_from",
            unique=True,
            sqlite_where=sa.text(_SEASONAL),
            postgresql_where=sa.text(_SEASONAL),
        ),
        sa.Index(
            "uq_lease_active_beneficiary",
            "beneficiary_id",
            unique=True,
            sqlite_where=sa.text("ended_on IS NULL"),
            postgresql_where=sa.text("ended_on IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(default_factory=lambda: new_ref("C"), max_length=16, unique=True)
    round_id: int | None = Field(default=None, foreign_key="allocation_round.id", index=True)
    offer_id: int | None = Field(default=None, foreign_key="offer.id", unique=True)
    beneficiary_id: int = Field(foreign_key="beneficiary.id", index=True)
    dwelling_id: int | None = Field(default=None, foreign_key="dwelling.id", index=True)
    flat_id: int | None = Field(default=None, foreign_key="shared_flat.id", index=True)
    room_id: int | None = Field(default=None, foreign_key="room.id", index=True)
    fund_id: int | None = Field(default=None, foreign_key="fund.id")
    contribution_cents: int = Field(ge=0)
    months: int = Field(ge=0)
    stay_from: str | None = Field(default=None, max_length=7)
    stay_to: str | None = Field(default=None, max_length=7)
    line_id: int | None = Field(default=None, foreign_key="shuttle_line.id", index=True)
    term: str | None = Field(default=None, max_length=32)
    rent_cents: int | None = None  # the term's rent, when let on a landlord's terms
    one_off_cents: int = Field(default=0, ge=0)
    started_on: date
    ended_on: date | None = None
    created_at: datetime = _stamp()


# --------------------------------------------------------------------------- audit


class AuditEntry(SQLModel, table=True):
    """Who did what to which record, and the outcome: append-only, no personal data.

    ``entity_ref`` is the record's opaque ``ref`` (pseudonymous), never a name.
    """

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _stamp()
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    actor: str = Field(max_length=64)  # username, or "system" / "cli"
    action: str = Field(max_length=32, index=True)  # read, create, update, round.solve...
    entity: str = Field(max_length=32)
    entity_ref: str | None = Field(default=None, max_length=32, index=True)
    outcome: str = Field(default="ok", max_length=16)  # ok, denied, error, conflict
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class ScenarioRun(SQLModel, table=True):
    """A planner's what-if run: the scenario file's hash and its aggregates-only report."""

    __tablename__ = "scenario_run"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(default_factory=lambda: new_ref("S"), max_length=16, unique=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    created_at: datetime = _stamp()
    finished_at: datetime | None = _when()
    status: str = Field(default="queued", max_length=16)  # queued, running, done, failed
    spec_sha256: str = Field(max_length=64)
    spec_text: str
    report: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    error: str | None = None


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    interrupted = "interrupted"  # its process died: offered to run again
    cancelled = "cancelled"


class Job(SQLModel, table=True):
    """A background job (a round's solve, a planner's scenario run), kept in the database
    so that any process may claim and run it, and a restart finds it again.

    ``fair_key`` shares the workers out (an office's solves, a planner's runs): the next
    job to start is the oldest of the key with the fewest running. A running job's
    process (``owner_host``, ``owner_pid``) refreshes ``heartbeat_at``; at start-up the
    jobs of a process that is gone are marked ``interrupted``.
    """

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(default_factory=lambda: new_ref("J"), max_length=16, unique=True, index=True)
    kind: str = Field(max_length=32, index=True)  # round.solve, scenario.run
    subject: str = Field(max_length=32, index=True)  # the round's or the run's ref
    office_id: int | None = Field(default=None, foreign_key="office.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    fair_key: str = Field(max_length=64)
    status: JobStatus = Field(default=JobStatus.queued, sa_type=sa.String(16), index=True)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    progress: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    result: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    error: str | None = Field(default=None, max_length=2000)
    owner_host: str | None = Field(default=None, max_length=255)
    owner_pid: int | None = None
    heartbeat_at: datetime | None = _when()
    created_at: datetime = _stamp()
    started_at: datetime | None = _when()
    finished_at: datetime | None = _when()
    retry_of: int | None = Field(default=None, foreign_key="job.id")


class IdempotencyRecord(SQLModel, table=True):
    """The stored answer to a POST sent with an ``Idempotency-Key`` (per user, a day)."""

    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    key: str = Field(max_length=200)
    request_sha256: str = Field(max_length=64)
    status_code: int | None = None  # None: the first request is under way
    content_type: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=500)
    body: str | None = None
    created_at: datetime = _stamp()


APPEND_ONLY_TABLES = ("ledger_entry", "audit_entry", "guarantee_entry")
