"""What may be written into the agency's records: one checked model per entity.

The same models check a spreadsheet row (:mod:`agency.imports`), a form or a JSON body
(the service), so a rule is written once. They refuse unknown fields. Places are given as a
municipality of Puglia (name or ISTAT code), with optional exact coordinates; without
coordinates the municipality's centre is taken from the offline gazetteer.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from agency.models import Gender

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Cents = Annotated[int, Field(ge=0, le=100_000_000_00)]       # budgets: up to €100 M (64-bit)
MonthlyCents = Annotated[int, Field(ge=0, le=10_000_000)]   # incomes, rents: up to €100,000
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Lat = Annotated[float, Field(ge=39.7, le=42.3)]   # Puglia and a margin
Lon = Annotated[float, Field(ge=14.8, le=18.7)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Located(_Strict):
    """A place: the municipality, and exact coordinates when known (both or neither)."""

    @model_validator(mode="after")
    def _both_or_neither(self) -> Any:
        lat, lon = self._coords()
        if (lat is None) != (lon is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self

    def _coords(self) -> tuple[float | None, float | None]:
        raise NotImplementedError


class BeneficiaryCreate(_Located):
    given_name: Name
    family_name: Name
    birth_date: date | None = None
    nationality: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    gender: Gender
    adults: Annotated[int, Field(ge=1, le=12)]
    minors: Annotated[int, Field(ge=0, le=12)] = 0
    income_cents: MonthlyCents
    workplace: Annotated[str, StringConstraints(max_length=200)] | None = None
    work_municipality: Text
    work_lat: Lat | None = None
    work_lon: Lon | None = None
    max_commute_km: Annotated[float, Field(gt=0, le=200)] = 25.0
    needs_step_free: bool = False
    accepts_dwelling: bool = True
    accepts_bed: bool = True
    health_needs: bool = False
    informal_settlement: Annotated[str, StringConstraints(max_length=100)] | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    registered_on: date | None = None
    pai_tutor: Annotated[str, StringConstraints(max_length=200)] | None = None
    pai_started_on: date | None = None
    pai_next_review_on: date | None = None
    pai_goals: Annotated[str, StringConstraints(max_length=4000)] | None = None

    def _coords(self) -> tuple[float | None, float | None]:
        return self.work_lat, self.work_lon

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, v: list[str]) -> list[str]:
        return sorted(set(v))

    @model_validator(mode="after")
    def _accepts_something(self) -> BeneficiaryCreate:
        if not (self.accepts_dwelling or self.accepts_bed):
            raise ValueError("accepts neither a dwelling nor a bed: accept at least one")
        if (self.pai_started_on and self.pai_next_review_on
                and self.pai_next_review_on < self.pai_started_on):
            raise ValueError("pai_next_review_on is before pai_started_on")
        return self


class LandlordCreate(_Strict):
    name: Title
    tax_code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{11,16}$")] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    email: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")] \
        | None = None


class DwellingCreate(_Located):
    landlord_ref: str | None = None
    address: Text
    municipality: Text
    lat: Lat | None = None
    lon: Lon | None = None
    area_m2: Annotated[float, Field(gt=0, le=1000)]
    bedrooms: Annotated[int, Field(ge=0, le=20)]
    rent_cents: MonthlyCents
    step_free: bool = False
    children_ok: bool = True
    max_occupants: Annotated[int, Field(ge=1, le=30)] | None = None
    available_from: date | None = None

    def _coords(self) -> tuple[float | None, float | None]:
        return self.lat, self.lon


class RoomCreate(_Strict):
    name: Annotated[str, StringConstraints(max_length=50)] = ""
    beds: Annotated[int, Field(ge=1, le=4)]


class SharedFlatCreate(_Located):
    landlord_ref: str | None = None
    address: Text
    municipality: Text
    lat: Lat | None = None
    lon: Lon | None = None
    rent_per_bed_cents: MonthlyCents
    step_free: bool = False
    available_from: date | None = None
    rooms: list[RoomCreate] = Field(min_length=1, max_length=20)

    def _coords(self) -> tuple[float | None, float | None]:
        return self.lat, self.lon


class FundCreate(_Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
    name: Title
    eligible_tags: list[Tag] = Field(default_factory=list, max_length=20)
    budget_cents: Cents = 0


class RoundPolicy(_Strict):
    """A round's policy (the spec's ``policy``); the ratio is kept as exact decimal text."""

    affordability_ratio: Annotated[str, StringConstraints(pattern=r"^0?\.\d{1,4}$|^1(\.0+)?$")] \
        = "0.30"
    max_contribution_cents: MonthlyCents = 30000
    contribution_months: Annotated[int, Field(ge=1, le=60)] = 12
    circuity: Annotated[float, Field(ge=1.0, le=3.0)] = 1.3
    objective_unit: Annotated[str, StringConstraints(pattern=r"^(persons|households)$")] \
        = "persons"
