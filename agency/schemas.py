"""What may be written into the agency's records, and what is shown of them.

Per entity, in the style ``XBase / XCreate / XUpdate / XPublic / X(table)``:

- ``XBase`` (in :mod:`agency.models`) holds the fields the table, the input and the view
  share, each with its limit (:mod:`agency.fields`);
- ``XCreate(XBase)`` is the checked input of a new record: what the base holds, and what is
  written differently on the way in (a municipality by name, a landlord by ref);
- ``XUpdate`` is made from ``XCreate`` by :func:`partial`: the same fields with the same
  limits, each optional; the records merge it into the stored record and check the whole
  as on creation (cross-field rules included);
- ``XPublic(XBase)`` is what the service shows.

The same models check a spreadsheet row (:mod:`agency.imports`), a form or a JSON body (the
service), so a rule is written once. Input models refuse unknown fields and strip spaces
around texts. Places are given as a municipality of Puglia (name or ISTAT code), with
optional exact coordinates; without coordinates the municipality's centre is taken from the
offline gazetteer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from sqlmodel import SQLModel

from agency.fields import Cents, Lat, Lon, Month, MonthlyCents, Place, Ref
from agency.models import (
    FUND_CODE,
    BeneficiaryBase,
    BeneficiaryStatus,
    DwellingBase,
    DwellingTermBase,
    FundBase,
    HouseholdMemberBase,
    LandlordBase,
    OfficeBase,
    Role,
    RoomBase,
    SharedFlatBase,
    ShuttleLineBase,
    ShuttleStopBase,
    UnitStatus,
    UserBase,
)
from agency.passwords import MIN_PASSWORD

INPUT: Any = ConfigDict(extra="forbid", str_strip_whitespace=True)
"""Every input model's configuration: unknown fields refused, texts stripped before they
are measured. (Typed ``Any``: SQLModel declares a configuration type of its own, of which
this is a part, and merges it with the base's.)"""


class _Input(BaseModel):
    """An input model that has no base of its own."""

    model_config = INPUT


def _limits(info: FieldInfo) -> list[Any]:
    """A field's constraints (length, range, pattern), without the table's column options."""
    return [
        m
        for m in info.metadata
        if type(m).__module__.split(".")[0] in ("annotated_types", "pydantic")
    ]


def partial(model: type[BaseModel], *, exclude: Iterable[str] = ()) -> type[BaseModel]:
    """``model``'s fields (but ``exclude``), each optional with the same limits: the base of
    an update, in which an absent field, or ``None``, leaves the record's value as it is.

    A subclass gives it its name and docstring::

        class DwellingUpdate(partial(DwellingCreate)):  # type: ignore[misc]
            \"\"\"...\"\"\"
    """
    left_out = set(exclude)
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in left_out:
            continue
        limits = _limits(info)
        tp: Any = Annotated[(info.annotation, *limits)] if limits else info.annotation
        fields[name] = (tp | None, Field(default=None, description=info.description))
    return create_model(f"{model.__name__}Partial", __base__=_Input, **fields)


# --------------------------------------------------------------------------- months


def check_months(first: str | None, last: str | None, what: str) -> None:
    """A season or an opening: both months or neither, the first not after the last."""
    if (first is None) != (last is None):
        raise PydanticCustomError(
            "months_both",
            "{what}: give both the first and the last month, or neither",
            {"what": what},
        )
    if first is not None and last is not None and last < first:
        raise PydanticCustomError(
            "months_order", "{what}: the last month is before the first", {"what": what}
        )


# --------------------------------------------------------------------------- places


class _Located(BaseModel):
    """A place: the municipality, and exact coordinates when known (both or neither)."""

    @model_validator(mode="after")
    def _both_or_neither(self) -> Any:
        lat, lon = self._coords()
        if (lat is None) != (lon is None):
            raise PydanticCustomError("coords_both", "give both latitude and longitude, or neither")
        return self

    def _coords(self) -> tuple[float | None, float | None]:
        raise NotImplementedError


class UnitPlace(_Located):
    """Where a dwelling or a shared flat is, and whose it is, as written on the way in."""

    landlord_ref: Ref = None
    municipality: Place
    lat: Lat | None = None
    lon: Lon | None = None

    def _coords(self) -> tuple[float | None, float | None]:
        return self.lat, self.lon

    @model_validator(mode="after")
    def _open_months(self) -> Any:
        check_months(getattr(self, "open_from", None), getattr(self, "open_to", None), "open")
        return self


class UnitPublic(SQLModel):
    """What every unit shows besides its own fields."""

    ref: str
    office_id: int
    landlord_ref: str | None = None
    municipality: str
    lat: float
    lon: float
    status: UnitStatus


# --------------------------------------------------------------------------- offices, staff


class OfficeCreate(OfficeBase):
    """A new office: its code, name and province."""

    model_config = INPUT


class UserCreate(UserBase):
    model_config = INPUT

    password: Annotated[str, StringConstraints(min_length=MIN_PASSWORD, max_length=1024)]
    role: Role
    office_code: Annotated[str, StringConstraints(max_length=32)] | None = None


class UserPublic(UserBase):
    role: Role
    office_id: int | None
    active: bool


# --------------------------------------------------------------------------- beneficiaries


class AvoidZone(_Input):
    """A place the household must never be housed near (special-category data: sealed,
    shown only to its own office, never to planners)."""

    lat: Lat
    lon: Lon
    radius_km: Annotated[float, Field(gt=0, le=100)]


class BeneficiaryCreate(BeneficiaryBase, _Located):
    model_config = INPUT

    work_municipality: Place
    work_lat: Lat | None = None
    work_lon: Lon | None = None
    registered_on: date | None = None
    avoid_zones: Annotated[list[AvoidZone], Field(max_length=5)] | None = None

    def _coords(self) -> tuple[float | None, float | None]:
        return self.work_lat, self.work_lon

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, v: list[str]) -> list[str]:
        return sorted(set(v))

    @model_validator(mode="after")
    def _accepts_something(self) -> BeneficiaryCreate:
        if not (self.accepts_dwelling or self.accepts_bed):
            raise PydanticCustomError(
                "accepts_nothing", "accepts neither a dwelling nor a bed: accept at least one"
            )
        if (
            self.pai_started_on
            and self.pai_next_review_on
            and self.pai_next_review_on < self.pai_started_on
        ):
            raise PydanticCustomError(
                "review_before_start", "pai_next_review_on is before pai_started_on"
            )
        check_months(self.season_from, self.season_to, "season")
        return self


_BENEFICIARY_UPDATABLE = partial(BeneficiaryCreate, exclude={"registered_on"})


class BeneficiaryUpdate(_BENEFICIARY_UPDATABLE):  # type: ignore[misc,valid-type]
    """Some fields of a household; the date it was taken in charge stays as it is."""


class HouseholdMemberCreate(HouseholdMemberBase):
    """Another member of a household (the head is the beneficiary itself)."""

    model_config = INPUT

    relation: Literal["partner", "child", "parent", "other"]


class MemberPublic(HouseholdMemberBase):
    id: int
    relation: str


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None


class BeneficiarySummary(BaseModel):
    """A household in a list: enough to find it, no more."""

    model_config = ConfigDict(from_attributes=True)

    ref: str
    given_name: str
    family_name: str
    status: BeneficiaryStatus
    priority: int
    adults: int
    minors: int
    work_municipality: str | None
    registered_on: date


class BeneficiaryPublic(BeneficiaryBase):
    avoid_zones: list[dict[str, float]] | None = None
    """Only for the household's own office (None elsewhere)."""
    ref: str
    office_id: int
    status: BeneficiaryStatus
    priority: int
    work_municipality: str | None
    work_lat: float
    work_lon: float
    registered_on: date
    priority_breakdown: list[dict[str, Any]]
    members: list[MemberPublic] = Field(default_factory=list)
    events: list[EventPublic] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------------- landlords


class LandlordCreate(LandlordBase):
    """A new landlord (a person or a company) of an office."""

    model_config = INPUT


class LandlordUpdate(partial(LandlordCreate)):  # type: ignore[misc]
    """Some fields of a landlord."""


class LandlordPublic(LandlordBase):
    ref: str
    office_id: int


# --------------------------------------------------------------------------- units


class DwellingCreate(DwellingBase, UnitPlace):
    """A new dwelling: a whole flat for one household."""

    model_config = INPUT


class DwellingUpdate(partial(DwellingCreate)):  # type: ignore[misc]
    """Some fields of a dwelling; a new municipality without coordinates moves it to the
    municipality's centre."""


class DwellingPublic(DwellingBase, UnitPublic):
    pass


class DwellingTermCreate(DwellingTermBase):
    """A set of terms negotiated with the landlord."""

    model_config = INPUT


class DwellingTermPublic(DwellingTermBase):
    pass


class DwellingTermsBody(_Input):
    """A dwelling's negotiated terms, all of them (they replace the stored ones)."""

    terms: Annotated[list[DwellingTermCreate], Field(max_length=8)]

    @field_validator("terms")
    @classmethod
    def _distinct(cls, terms: list[DwellingTermCreate]) -> list[DwellingTermCreate]:
        labels = [t.label for t in terms]
        if len(set(labels)) != len(labels):
            raise PydanticCustomError("duplicate", "each term needs its own label")
        return terms


class VisitBody(_Input):
    """The day staff saw the dwelling."""

    visited_on: date


class CertificateBody(_Input):
    """The municipality's certificate of fitness to live in (certificato di idoneità
    abitativa): its number, its date and the occupants it allows."""

    number: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    issued_on: date
    occupants: Annotated[int, Field(ge=1, le=30)]


class DwellingWalkPublic(SQLModel):
    """Where a landlord's dwelling stands on its way to a round, and what comes next."""

    ref: str
    status: UnitStatus
    next_step: str | None
    visited_on: date | None = None
    certificate_number: str | None = None
    certificate_on: date | None = None
    certificate_occupants: int | None = None
    max_occupants: int | None = None
    terms: list[DwellingTermPublic] = []


class GuaranteePublic(SQLModel):
    """The guarantee fund: granted, exposed on open leases, claims paid, what is left."""

    granted_cents: int
    exposed_cents: int
    claims_cents: int
    left_cents: int


class RoomCreate(RoomBase):
    """A room of a new shared flat (its name defaults to its number)."""

    model_config = INPUT


class RoomPublic(RoomBase):
    ref: str


class SharedFlatCreate(SharedFlatBase, UnitPlace):
    model_config = INPUT

    rooms: list[RoomCreate] = Field(min_length=1, max_length=20)


class SharedFlatUpdate(partial(SharedFlatCreate, exclude={"rooms"})):  # type: ignore[misc]
    """Some fields of a shared flat; its rooms stay as registered."""


class SharedFlatPublic(SharedFlatBase, UnitPublic):
    rooms: list[RoomPublic] = Field(default_factory=list)


class UnitStatusBody(_Input):
    status: Literal[UnitStatus.available, UnitStatus.withdrawn]


# --------------------------------------------------------------------------- funds


class FundCreate(FundBase):
    model_config = INPUT

    code: Annotated[str, FUND_CODE]
    budget_cents: Cents = 0


class FundUpdate(partial(FundBase)):  # type: ignore[misc]
    """Rename a fund, change whom it may pay for, or (de)activate it; money moves only
    through grants."""

    active: bool | None = None


class FundPublic(FundBase):
    code: str
    active: bool
    balance_cents: int = 0


# --------------------------------------------------------------------------- rounds


class RoundPolicy(_Input):
    """A round's policy (the spec's ``policy``); the ratio is kept as exact decimal text."""

    affordability_ratio: Annotated[str, StringConstraints(pattern=r"^0?\.\d{1,4}$|^1(\.0+)?$")] = (
        "0.30"
    )
    max_contribution_cents: MonthlyCents = 30000
    contribution_months: Annotated[int, Field(ge=1, le=60)] = 12
    circuity: Annotated[float, Field(ge=1.0, le=3.0)] = 1.3
    objective_unit: Annotated[str, StringConstraints(pattern=r"^(persons|households)$")] = "persons"
    guarantee_months: Annotated[int, Field(ge=1, le=12)] = 3
    """Months of rent the guarantee fund covers on a guaranteed lease."""

    horizon_start: Month = None
    """The first month of the round's horizon (None: a round without seasons)."""
    horizon_months: Annotated[int, Field(ge=1, le=24)] = 12
    walk_km: Annotated[float, Field(gt=0, le=10)] = 1.5
    """The longest walk to or from a shuttle stop."""
    transport_budget_cents: Cents = 0
    """What the round may spend opening lines not yet running."""


# --------------------------------------------------------------------------- lines


class ShuttleStopCreate(ShuttleStopBase):
    model_config = INPUT


class ShuttleLineCreate(ShuttleLineBase):
    """A new shuttle line with its stops, in the order the minibus calls."""

    model_config = INPUT

    stops: list[ShuttleStopCreate] = Field(min_length=1, max_length=30)


class ShuttleLineUpdate(partial(ShuttleLineCreate)):  # type: ignore[misc]
    """Some fields of a line; stops, when given, replace the line's stops."""


class ShuttleStopPublic(ShuttleStopBase):
    position: int


class ShuttleLinePublic(ShuttleLineBase):
    ref: str
    office_code: str
    stops: list[ShuttleStopPublic] = Field(default_factory=list)


UPDATES: dict[type[BaseModel], type[BaseModel]] = {
    BeneficiaryUpdate: BeneficiaryCreate,
    LandlordUpdate: LandlordCreate,
    DwellingUpdate: DwellingCreate,
    SharedFlatUpdate: SharedFlatCreate,
    FundUpdate: FundCreate,
    ShuttleLineUpdate: ShuttleLineCreate,
}
"""Each update model and the create model whose limits it must keep (a test checks it)."""
