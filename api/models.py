"""The service's request and response bodies that are not an entity's.

Each entity's create, update and public models are in :mod:`agency.schemas` (with the
limits of its table); here are the logins, the actions (a status change, a note, a grant),
the rounds' bodies and views, statistics, the audit log and jobs. All request bodies refuse
unknown fields; money is integer cents.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from agency.fields import Cents
from agency.models import BeneficiaryStatus, DecisionKind, OfferStatus
from agency.schemas import RoundPolicy, UserPublic


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --------------------------------------------------------------------------- auth


class LoginBody(_Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class LoginPublic(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    idle_timeout_minutes: float
    user: UserPublic


# --------------------------------------------------------------------------- actions


class StatusChange(_Body):
    status: BeneficiaryStatus
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class NoteBody(_Body):
    note: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class GrantBody(_Body):
    amount_cents: Annotated[Cents, Field(gt=0)]
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


# --------------------------------------------------------------------------- rounds


class AnswerBody(_Body):
    status: Literal[
        OfferStatus.accepted,
        OfferStatus.refused_household,
        OfferStatus.refused_landlord,
        OfferStatus.unreachable,
        OfferStatus.withdrawn,
    ]
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


# --------------------------------------------------------------------------- stats


class Stats(BaseModel):
    """Aggregates only: counts and sums, never a name or a ref."""

    households_by_status: dict[str, int]
    persons_waiting: int
    dwellings_by_status: dict[str, int]
    beds_total: int
    """Beds of the shared flats on offer, let or not."""
    beds_free: int
    """Beds of the shared flats on offer that no one holds."""
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
    line_ref: str | None = None
    """The shuttle line the household would ride to work (None: its own way)."""
    line_name: str | None = None
    months: int | None = None
    stay_from: str | None = None
    stay_to: str | None = None


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
    months: int | None = None
    stay_from: str | None = None
    stay_to: str | None = None
    reply_by: date | None = None
    """The day by which the household is asked to answer."""


class RoundSolvePublic(BaseModel):
    """One solve of a round as kept for accountability (:mod:`agency.accountability`):
    what the engine was given and how it ran, and the round's audit (households by ref)."""

    iteration: int
    solved_at: datetime
    instance_sha256: str
    inputs: dict[str, Any]
    engine: dict[str, Any]
    params: dict[str, Any]
    status: str
    stages: list[dict[str, Any]]
    result_sha256: str
    objective: dict[str, Any]
    audit: dict[str, Any] | None
    audit_seconds: float | None


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
    proposal_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        default=None, max_length=5000
    )


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
