"""The service's request and response bodies (apart from the tables).

Creation bodies are :mod:`agency.schemas`' models; updates and public views are here. All
request bodies refuse unknown fields; money is integer cents.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from agency.models import BeneficiaryStatus, DecisionKind, Gender, OfferStatus, Role, UnitStatus
from agency.schemas import Cents, Lat, Lon, Name, RoundPolicy, Tag, Text


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Short = Annotated[str, StringConstraints(max_length=200)]

# --------------------------------------------------------------------------- auth


class LoginBody(_Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class UserPublic(_Out):
    username: str
    full_name: str
    role: Role
    office_id: int | None
    active: bool


class LoginPublic(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    idle_timeout_minutes: float
    user: UserPublic


class UserCreateBody(_Body):
    username: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9._-]{1,63}$")]
    full_name: Text
    password: Annotated[str, StringConstraints(min_length=10, max_length=1024)]
    role: Role
    office_code: Annotated[str, StringConstraints(max_length=32)] | None = None


# --------------------------------------------------------------------------- beneficiaries


class BeneficiaryUpdate(_Body):
    given_name: Name | None = None
    family_name: Name | None = None
    birth_date: date | None = None
    nationality: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    gender: Gender | None = None
    adults: Annotated[int, Field(ge=1, le=12)] | None = None
    minors: Annotated[int, Field(ge=0, le=12)] | None = None
    income_cents: Cents | None = None
    workplace: Short | None = None
    work_municipality: Text | None = None
    work_lat: Lat | None = None
    work_lon: Lon | None = None
    max_commute_km: Annotated[float, Field(gt=0, le=200)] | None = None
    needs_step_free: bool | None = None
    accepts_dwelling: bool | None = None
    accepts_bed: bool | None = None
    health_needs: bool | None = None
    informal_settlement: Annotated[str, StringConstraints(max_length=100)] | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    pai_tutor: Short | None = None
    pai_started_on: date | None = None
    pai_next_review_on: date | None = None
    pai_goals: Annotated[str, StringConstraints(max_length=4000)] | None = None


class StatusChange(_Body):
    status: BeneficiaryStatus
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class NoteBody(_Body):
    note: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class MemberPublic(_Out):
    id: int
    given_name: str
    family_name: str
    relation: str
    birth_date: date | None
    gender: Gender


class EventPublic(_Out):
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None


class BeneficiarySummary(_Out):
    ref: str
    given_name: str
    family_name: str
    status: BeneficiaryStatus
    priority: int
    adults: int
    minors: int
    work_municipality: str | None
    registered_on: date


class BeneficiaryPublic(BeneficiarySummary):
    office_id: int
    birth_date: date | None
    nationality: str | None
    phone: str | None
    gender: Gender
    income_cents: int
    workplace: str | None
    work_lat: float
    work_lon: float
    max_commute_km: float
    needs_step_free: bool
    accepts_dwelling: bool
    accepts_bed: bool
    health_needs: bool
    informal_settlement: str | None
    tags: list[str]
    priority_breakdown: list[dict[str, Any]]
    pai_tutor: str | None
    pai_started_on: date | None
    pai_next_review_on: date | None
    pai_goals: str | None
    members: list[MemberPublic] = []
    events: list[EventPublic] = []
    created_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------------- landlords


class LandlordUpdate(_Body):
    name: Text | None = None
    tax_code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{11,16}$")] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    email: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")] \
        | None = None


class LandlordPublic(_Out):
    ref: str
    office_id: int
    name: str
    tax_code: str | None
    phone: str | None
    email: str | None


# --------------------------------------------------------------------------- units


class DwellingUpdate(_Body):
    landlord_ref: Annotated[str, StringConstraints(max_length=16)] | None = None
    address: Text | None = None
    municipality: Text | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    area_m2: Annotated[float, Field(gt=0, le=1000)] | None = None
    bedrooms: Annotated[int, Field(ge=0, le=20)] | None = None
    rent_cents: Cents | None = None
    step_free: bool | None = None
    children_ok: bool | None = None
    max_occupants: Annotated[int, Field(ge=1, le=30)] | None = None
    available_from: date | None = None


class UnitStatusBody(_Body):
    status: Literal[UnitStatus.available, UnitStatus.withdrawn]


class DwellingPublic(_Out):
    ref: str
    office_id: int
    landlord_ref: str | None = None
    address: str
    municipality: str
    lat: float
    lon: float
    area_m2: float
    bedrooms: int
    rent_cents: int
    step_free: bool
    children_ok: bool
    max_occupants: int | None
    available_from: date | None
    status: UnitStatus


class SharedFlatUpdate(_Body):
    landlord_ref: Annotated[str, StringConstraints(max_length=16)] | None = None
    address: Text | None = None
    municipality: Text | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    rent_per_bed_cents: Cents | None = None
    step_free: bool | None = None
    available_from: date | None = None


class RoomPublic(_Out):
    ref: str
    name: str
    beds: int


class SharedFlatPublic(_Out):
    ref: str
    office_id: int
    landlord_ref: str | None = None
    address: str
    municipality: str
    lat: float
    lon: float
    rent_per_bed_cents: int
    step_free: bool
    available_from: date | None
    status: UnitStatus
    rooms: list[RoomPublic] = []


# --------------------------------------------------------------------------- funds


class FundUpdate(_Body):
    name: Text | None = None
    eligible_tags: list[Tag] | None = Field(default=None, max_length=20)
    active: bool | None = None


class GrantBody(_Body):
    amount_cents: Annotated[int, Field(gt=0, le=100_000_000_00)]
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class FundPublic(_Out):
    code: str
    name: str
    eligible_tags: list[str]
    active: bool
    balance_cents: int = 0


# --------------------------------------------------------------------------- rounds


class AnswerBody(_Body):
    status: Literal[OfferStatus.accepted, OfferStatus.refused_household,
                    OfferStatus.refused_landlord, OfferStatus.unreachable,
                    OfferStatus.withdrawn]
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


# --------------------------------------------------------------------------- stats


class Stats(BaseModel):
    """Aggregates only: counts and sums, never a name or a ref."""

    households_by_status: dict[str, int]
    persons_waiting: int
    dwellings_by_status: dict[str, int]
    beds_total: int
    funds_balance_cents: int
    funds_count: int
    rounds_by_status: dict[str, int]
    leases_active: int
    contribution_committed_cents: int


class AuditPublic(_Out):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_ref: str | None
    outcome: str
    detail: dict[str, Any]


class RoundOpen(_Body):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    policy: RoundPolicy | None = None
    on: date | None = None
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0


class RoundSummary(_Out):
    ref: str
    name: str
    office_id: int | None
    status: str
    solve_count: int
    time_limit_s: float
    opened_at: datetime
    solved_at: datetime | None
    closed_at: datetime | None


class ProposalPublic(_Out):
    id: int
    beneficiary_ref: str
    persons: int
    unit_kind: str
    unit_ref: str
    room_ref: str | None
    municipality: str
    fund_code: str | None
    contribution_cents: int
    commute_km: float
    locked: bool
    offer_id: int | None
    offer_status: str | None


class UnplacedPublic(BaseModel):
    beneficiary_ref: str
    persons: int
    reasons: list[str]
    texts: list[str]


class DecisionPublic(BaseModel):
    id: int
    beneficiary_ref: str
    unit_ref: str
    room_ref: str | None
    kind: str
    note: str | None


class OfferPublic(BaseModel):
    id: int
    proposal_id: int
    beneficiary_ref: str
    status: str
    reason: str | None
    contribution_cents: int
    commute_km: float


class RoundPublic(BaseModel):
    round: RoundSummary
    result_status: str | None
    weight: int | None
    bound: int | None
    contribution_cents: int | None
    commute_km: float | None
    proposals: list[ProposalPublic]
    unplaced: list[UnplacedPublic]
    decisions: list[DecisionPublic]
    offers: list[OfferPublic]


class DecisionBody(_Body):
    beneficiary_ref: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    unit_ref: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    kind: DecisionKind
    room_ref: Annotated[str, StringConstraints(max_length=16)] | None = None
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class OffersBody(_Body):
    proposal_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(default=None,
                                                                      max_length=5000)


class CloseBody(_Body):
    on: date | None = None


class CloseReportPublic(BaseModel):
    round_ref: str
    leases: int
    committed_cents: dict[str, int]


class JobPublic(BaseModel):
    job: str
    kind: str
    subject: str
    status: str  # queued, running, done, failed, interrupted
    progress: dict[str, Any]
    events: int
    error: str | None
    elapsed: float
    position: int | None = None  # in the queue, while queued (1: next)
