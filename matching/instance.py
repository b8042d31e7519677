"""Frozen instance types and their JSON I/O (``housing-match/instance@1``).

An :class:`Instance` is immutable. It is built by :func:`load_instance` /
:func:`instance_from_dict`, which check every record and report *all* the errors at
once, each naming the record and the field. What-if variants come from
:meth:`Instance.replace`.

Money is integer euro cents. The affordability ratio is kept as the exact
:class:`~decimal.Decimal` written in the file, so that ``pay`` is computed exactly as
the spec requires.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

INSTANCE_FORMAT = "housing-match/instance@1"
INSTANCE_FORMAT_V2 = "housing-match/instance@2"
FORMATS = (INSTANCE_FORMAT, INSTANCE_FORMAT_V2)

Gender = Literal["F", "M", "X"]
GENDERS: tuple[Gender, ...] = ("F", "M", "X")
UnitKind = Literal["dwelling", "bed"]
UNIT_KINDS: tuple[UnitKind, ...] = ("dwelling", "bed")
ObjectiveUnit = Literal["persons", "households"]
PriorityMode = Literal["weighted", "strict"]


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem in an instance: which record, which field, what is wrong."""

    record: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.record}: {self.field}: {self.message}"


class InstanceError(ValueError):
    """An instance that breaks the format; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[FieldError], source: str | None = None) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        self.source = source
        where = f" in {source}" if source else ""
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"{len(self.errors)} error(s){where}:\n{lines}")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS-84 position in decimal degrees."""

    lat: float
    lon: float


def parse_month(text: str) -> int:
    """``"YYYY-MM"`` as a month number (``year * 12 + month - 1``); ValueError if not one."""
    if (
        not isinstance(text, str)
        or len(text) != 7
        or text[4] != "-"
        or not text[:4].isdigit()
        or not text[5:].isdigit()
        or not 1 <= int(text[5:]) <= 12
    ):
        raise ValueError(f"must be a month written YYYY-MM, got {text!r}")
    return int(text[:4]) * 12 + int(text[5:]) - 1


def month_text(month: int) -> str:
    """A month number as ``"YYYY-MM"``."""
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class Span:
    """Months ``first`` to ``last``, both included (month numbers, see :func:`parse_month`)."""

    first: int
    last: int

    @property
    def months(self) -> int:
        return self.last - self.first + 1

    def covers(self, other: Span) -> bool:
        return self.first <= other.first and other.last <= self.last

    def to_dict(self) -> dict[str, str]:
        return {"from": month_text(self.first), "to": month_text(self.last)}


@dataclass(frozen=True, slots=True)
class Guarantee:
    """The guarantee fund against arrears: its capacity, and the months of rent it covers."""

    capacity_cents: int
    months: int


GROUP_DIMENSIONS = ("gender", "household", "tag")
HOUSEHOLD_TYPES = ("single_adult", "couple", "adults_only", "family_with_minors")


def household_type(b: Beneficiary) -> str:
    """``single_adult``, ``couple`` (two adults), ``adults_only`` (three or more adults)
    or ``family_with_minors``."""
    if b.minors:
        return "family_with_minors"
    return {1: "single_adult", 2: "couple"}.get(b.adults, "adults_only")


@dataclass(frozen=True, slots=True)
class GroupFloor:
    """A policy option: at least ``share`` of the placed households come from ``group``
    (``"gender:F"``, ``"household:family_with_minors"``, ``"tag:exploitation_victim"``),
    unless every household of the group that has an eligible unit is placed."""

    group: str
    share: Decimal

    @property
    def dimension(self) -> str:
        return self.group.partition(":")[0]

    @property
    def value(self) -> str:
        return self.group.partition(":")[2]

    def holds(self, b: Beneficiary) -> bool:
        """Whether household ``b`` belongs to the group."""
        dim, value = self.dimension, self.value
        if dim == "gender":
            return b.gender == value
        if dim == "household":
            return household_type(b) == value
        return value in b.tags


@dataclass(frozen=True, slots=True)
class Policy:
    """The round's policy parameters (see the spec).

    instance@2 adds ``horizon`` (then ``contribution_months`` is not used), ``walk_km``
    and ``transport_budget_cents`` (shuttles) and ``guarantee``; all None when absent.
    """

    affordability_ratio: Decimal = Decimal("0.30")
    max_contribution_cents: int = 30000
    contribution_months: int = 12
    circuity: float = 1.3
    objective_unit: ObjectiveUnit = "persons"
    priority_mode: PriorityMode = "weighted"
    """``strict``: no household is left out, or placed farther from work, for one of lower
    priority when the rules allow the swap; the round is solved lexicographically by
    priority classes (highest first), then money, then commute."""
    group_floors: tuple[GroupFloor, ...] = ()
    """Shares of the placed reserved for groups (see :class:`GroupFloor`)."""
    horizon: Span | None = None
    walk_km: float | None = None
    transport_budget_cents: int | None = None
    guarantee: Guarantee | None = None

    @property
    def horizon_months(self) -> int:
        """The months a round covers: the horizon's, or ``contribution_months``."""
        return self.horizon.months if self.horizon is not None else self.contribution_months

    def pay(self, income_cents: int) -> int:
        """What a household pays each month: ``floor(ratio * income)``, exactly."""
        return int((self.affordability_ratio * income_cents).to_integral_value(ROUND_FLOOR))


@dataclass(frozen=True, slots=True)
class Fund:
    """A budget line paying rent contributions."""

    id: str
    budget_cents: int
    eligible_tags: tuple[str, ...] = ()

    def eligible(self, tags: Iterable[str]) -> bool:
        """A fund pays for a beneficiary when it has no tags or shares one."""
        return not self.eligible_tags or bool(set(self.eligible_tags).intersection(tags))


@dataclass(frozen=True, slots=True)
class Beneficiary:
    """A household taken in charge by the agency."""

    id: str
    adults: int
    minors: int
    gender: Gender
    income_cents: int
    work: Point
    max_commute_km: float
    needs_step_free: bool = False
    priority: int = 1
    accepts: tuple[UnitKind, ...] = ("dwelling", "bed")
    tags: tuple[str, ...] = ()
    stay: Span | None = None
    """instance@2: the months the household needs a home (None: the whole horizon)."""
    avoid: tuple[Zone, ...] = ()
    """instance@2: places the household must be housed farther than ``radius_km`` from."""
    areas: tuple[str, ...] = ()
    """instance@2: area codes the household may be housed in (empty: anywhere)."""

    @property
    def persons(self) -> int:
        return self.adults + self.minors

    @property
    def single_adult(self) -> bool:
        return self.adults == 1 and self.minors == 0


def legal_max_occupants(area_m2: float, bedrooms: int) -> int:
    """Most occupants the Italian occupancy standard (DM 5 July 1975) allows.

    14 m² for each of the first four persons and 10 m² for each further one; a studio
    (``bedrooms == 0``) needs 28 m² for one person and 38 m² for two, and holds at most two.
    The area is compared with each threshold exactly, as the law does: 41.99999999995 m²
    is less than 42 and holds 2 persons, not 3 (no tolerance in the household's favour).
    """
    if bedrooms == 0:
        if area_m2 >= 38:
            return 2
        return 1 if area_m2 >= 28 else 0

    # the n-th person needs area_m2 >= needed(n); start from the quotient and settle on
    # the exact thresholds (integer surfaces, so each comparison is exact)
    def needed(n: int) -> int:
        return 14 * n if n <= 4 else 56 + 10 * (n - 4)

    n = math.floor(area_m2 / 14) if area_m2 < 56 else 4 + math.floor((area_m2 - 56) / 10)
    while n > 0 and area_m2 < needed(n):
        n -= 1
    while area_m2 >= needed(n + 1):
        n += 1
    return n


@dataclass(frozen=True, slots=True)
class Zone:
    """A circle a household must be housed outside of (a safety zone)."""

    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True, slots=True)
class Term:
    """A set of terms a landlord offers for a dwelling (the engine picks one)."""

    id: str
    rent_cents: int
    one_off_cents: int = 0
    guaranteed: bool = False


@dataclass(frozen=True, slots=True)
class Dwelling:
    """A whole flat for one household.

    instance@2 adds ``terms`` (then ``rent_cents`` is not used and is 0), ``available``
    and ``area``.
    """

    id: str
    lat: float
    lon: float
    area_m2: float
    bedrooms: int
    rent_cents: int
    step_free: bool = False
    max_occupants: int | None = None
    children_ok: bool = True
    terms: tuple[Term, ...] = ()
    available: Span | None = None
    area: str | None = None

    @property
    def offers(self) -> tuple[Term, ...]:
        """The terms the dwelling may be let on (its plain rent when it has no terms)."""
        return self.terms or (Term("", self.rent_cents),)

    @property
    def legal_max(self) -> int:
        return legal_max_occupants(self.area_m2, self.bedrooms)

    @property
    def capacity(self) -> int:
        """``min(legal_max, max_occupants)``: the spec's ``max_occupants(d)``."""
        if self.max_occupants is None:
            return self.legal_max
        return min(self.legal_max, self.max_occupants)


@dataclass(frozen=True, slots=True)
class Room:
    """A room of a shared flat; each bed goes to one single adult."""

    id: str
    beds: int


@dataclass(frozen=True, slots=True)
class SharedFlat:
    """A co-housing flat whose rooms hold beds."""

    id: str
    lat: float
    lon: float
    rent_per_bed_cents: int
    step_free: bool = False
    rooms: tuple[Room, ...] = ()
    available: Span | None = None
    area: str | None = None

    @property
    def beds(self) -> int:
        return sum(r.beds for r in self.rooms)


@dataclass(frozen=True, slots=True)
class Stop:
    """A stop of a shuttle line."""

    id: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Shuttle:
    """A minibus line the agency runs (or could open) from homes to work."""

    id: str
    stops: tuple[Stop, ...]
    seats: int
    monthly_cost_cents: int
    running: bool = False


@dataclass(frozen=True, slots=True)
class Pin:
    """A placement already agreed (an accepted offer): it must stay."""

    beneficiary: str
    unit: str
    room: str | None = None


@dataclass(frozen=True, slots=True)
class Forbidden:
    """A (beneficiary, unit) pair that staff excluded."""

    beneficiary: str
    unit: str


# --------------------------------------------------------------------------- instance


@dataclass(frozen=True)
class Instance:
    """One allocation round: who, what, which money, and what is already decided."""

    name: str
    policy: Policy
    funds: tuple[Fund, ...]
    beneficiaries: tuple[Beneficiary, ...]
    dwellings: tuple[Dwelling, ...]
    shared_flats: tuple[SharedFlat, ...]
    pinned: tuple[Pin, ...] = ()
    forbidden: tuple[Forbidden, ...] = ()
    shuttles: tuple[Shuttle, ...] = ()
    """instance@2: the agency's shuttle lines."""
    format: str = INSTANCE_FORMAT

    def __post_init__(self) -> None:
        errors = check_references(
            self.funds,
            self.beneficiaries,
            self.dwellings,
            self.shared_flats,
            self.pinned,
            self.forbidden,
        )
        errors += check_v2(self)
        if errors:
            raise InstanceError(errors, source=self.name)

    @property
    def v2(self) -> bool:
        """Whether the round is an instance@2 (its objective counts money, not monthly
        contributions, and its result is a result@2)."""
        return self.format == INSTANCE_FORMAT_V2

    # -- time -------------------------------------------------------------------------

    def stay(self, b: Beneficiary) -> Span:
        """The months ``b`` needs a home: its stay, the whole horizon, or (no horizon)
        one period standing for ``contribution_months``."""
        h = self.policy.horizon
        if h is None:
            return Span(0, 0)
        return b.stay if b.stay is not None else h

    def months(self, b: Beneficiary) -> int:
        """``months(b)``: the months of the stay (``contribution_months`` without a horizon)."""
        return (
            self.stay(b).months
            if self.policy.horizon is not None
            else self.policy.contribution_months
        )

    def available(self, unit: int) -> Span:
        """The months unit ``unit`` (an index) is available (the horizon when not given)."""
        h = self.policy.horizon
        if h is None:
            return Span(0, 0)
        nd = len(self.dwellings)
        span = (
            self.dwellings[unit].available if unit < nd else self.shared_flats[unit - nd].available
        )
        return span if span is not None else h

    @cached_property
    def line_costs(self) -> dict[str, int]:
        """The cost of opening each line that does not run yet."""
        return {x.id: self.line_cost(x) for x in self.shuttles if not x.running}

    @cached_property
    def weights(self) -> dict[str, int]:
        """Every household's weight, by id."""
        return {b.id: self.weight(b) for b in self.beneficiaries}

    @cached_property
    def weight_array(self) -> npt.NDArray[np.int64]:
        """Every household's weight, by index (read-only)."""
        out = np.array([self.weight(b) for b in self.beneficiaries], dtype=np.int64)
        out.flags.writeable = False
        return out

    def line_cost(self, line: Shuttle) -> int:
        """What opening ``line`` costs over the round (nothing when it already runs)."""
        return 0 if line.running else line.monthly_cost_cents * self.policy.horizon_months

    # -- lookups ----------------------------------------------------------------------

    @cached_property
    def beneficiary_index(self) -> dict[str, int]:
        return {b.id: i for i, b in enumerate(self.beneficiaries)}

    @cached_property
    def unit_index(self) -> dict[str, int]:
        """Units indexed dwellings first, then shared flats (the engine's unit order)."""
        ids = [d.id for d in self.dwellings] + [f.id for f in self.shared_flats]
        return {u: i for i, u in enumerate(ids)}

    @property
    def n_units(self) -> int:
        return len(self.dwellings) + len(self.shared_flats)

    def unit_id(self, index: int) -> str:
        nd = len(self.dwellings)
        return self.dwellings[index].id if index < nd else self.shared_flats[index - nd].id

    def is_dwelling(self, unit_id: str) -> bool:
        return self.unit_index.get(unit_id, len(self.dwellings)) < len(self.dwellings)

    def beneficiary(self, beneficiary_id: str) -> Beneficiary:
        return self.beneficiaries[self.beneficiary_index[beneficiary_id]]

    def dwelling(self, unit_id: str) -> Dwelling:
        return self.dwellings[self.unit_index[unit_id]]

    def shared_flat(self, unit_id: str) -> SharedFlat:
        return self.shared_flats[self.unit_index[unit_id] - len(self.dwellings)]

    def fund(self, fund_id: str) -> Fund:
        return next(f for f in self.funds if f.id == fund_id)

    def weight(self, b: Beneficiary) -> int:
        """``priority * persons`` (objective unit persons) or ``priority`` (households)."""
        if self.policy.objective_unit == "persons":
            return b.priority * b.persons
        return b.priority

    def replace(self, **changes: Any) -> Instance:
        """A copy with some fields changed (checked again), for what-if variants."""
        return dataclasses.replace(self, **changes)

    # -- I/O --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return instance_to_dict(self)


# --------------------------------------------------------------------------- checks


def check_references(
    funds: Sequence[Fund],
    beneficiaries: Sequence[Beneficiary],
    dwellings: Sequence[Dwelling],
    shared_flats: Sequence[SharedFlat],
    pinned: Sequence[Pin],
    forbidden: Sequence[Forbidden],
) -> list[FieldError]:
    """Every cross-record error (duplicate ids, dangling references).

    Per-field errors are caught while parsing; this covers what only the whole
    instance can show, and runs also on instances built in code.
    """
    errors: list[FieldError] = []

    def dup(kind: str, ids: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        for i in ids:
            if i in seen:
                errors.append(FieldError(f"{kind} {i}", "id", "duplicate id"))
            seen.add(i)
        return seen

    dup("fund", (f.id for f in funds))
    bids = dup("beneficiary", (b.id for b in beneficiaries))
    dup("unit", [d.id for d in dwellings] + [f.id for f in shared_flats])
    dwelling_ids = {d.id for d in dwellings}
    flats = {f.id: f for f in shared_flats}
    for f in shared_flats:
        seen_rooms: set[str] = set()
        for r in f.rooms:
            if r.id in seen_rooms:
                errors.append(
                    FieldError(f"shared_flat {f.id}", f"rooms[{r.id}].id", "duplicate room id")
                )
            seen_rooms.add(r.id)
    pinned_b: set[str] = set()
    for k, p in enumerate(pinned):
        rec = f"pinned[{k}]"
        if p.beneficiary not in bids:
            errors.append(FieldError(rec, "beneficiary", f"unknown beneficiary {p.beneficiary!r}"))
        elif p.beneficiary in pinned_b:
            errors.append(FieldError(rec, "beneficiary", f"{p.beneficiary!r} is pinned twice"))
        pinned_b.add(p.beneficiary)
        if p.unit in dwelling_ids:
            if p.room is not None:
                errors.append(FieldError(rec, "room", f"{p.unit!r} is a dwelling, it has no rooms"))
        elif p.unit in flats:
            if p.room is not None and p.room not in {r.id for r in flats[p.unit].rooms}:
                errors.append(FieldError(rec, "room", f"room {p.room!r} is not in flat {p.unit!r}"))
        else:
            errors.append(FieldError(rec, "unit", f"unknown unit {p.unit!r}"))
    for k, fb in enumerate(forbidden):
        rec = f"forbidden[{k}]"
        if fb.beneficiary not in bids:
            errors.append(FieldError(rec, "beneficiary", f"unknown beneficiary {fb.beneficiary!r}"))
        if fb.unit not in dwelling_ids and fb.unit not in flats:
            errors.append(FieldError(rec, "unit", f"unknown unit {fb.unit!r}"))
    return errors


MAX_INT = 2**53 - 1
"""The largest integer the format allows: any JSON reader keeps it exact."""
MAX_MONTHLY_CENTS = 2**31 - 1
"""The largest monthly amount of money (income, rent, the contribution cap), in cents."""
MAX_PERSONS = 100
"""The most adults, minors or beds a record may declare."""
MAX_AREA_M2 = 100_000


def check_v2(inst: Instance) -> list[FieldError]:
    """The instance@2 checks that need the whole round (see the contract's page)."""
    errors: list[FieldError] = []
    pol = inst.policy
    v2_used = (
        pol.horizon is not None
        or pol.walk_km is not None
        or pol.guarantee is not None
        or pol.transport_budget_cents is not None
        or inst.shuttles
        or any(b.stay or b.avoid or b.areas for b in inst.beneficiaries)
        or any(d.terms or d.available or d.area for d in inst.dwellings)
        or any(f.available or f.area for f in inst.shared_flats)
    )
    if v2_used and not inst.v2:
        errors.append(
            FieldError(
                "instance", "format", f"the round uses fields of {INSTANCE_FORMAT_V2!r}: say so"
            )
        )
    h = pol.horizon
    spans = [(f"beneficiary {b.id}", "stay", b.stay) for b in inst.beneficiaries]
    spans += [(f"dwelling {d.id}", "available", d.available) for d in inst.dwellings]
    spans += [(f"shared_flat {f.id}", "available", f.available) for f in inst.shared_flats]
    for record, field, span in spans:
        if span is None:
            continue
        if h is None:
            errors.append(FieldError(record, field, "needs policy.horizon"))
        elif span.first > span.last:
            errors.append(FieldError(record, field, "ends before it begins"))
        elif not h.covers(span):
            errors.append(
                FieldError(
                    record,
                    field,
                    f"must lie within the horizon {month_text(h.first)} to {month_text(h.last)}",
                )
            )
    for d in inst.dwellings:
        seen: set[str] = set()
        for t in d.terms:
            if t.id in seen:
                errors.append(
                    FieldError(f"dwelling {d.id}", f"terms[{t.id}].id", "duplicate term id")
                )
            seen.add(t.id)
    lines: set[str] = set()
    for line in inst.shuttles:
        rec = f"shuttle {line.id}"
        if line.id in lines:
            errors.append(FieldError(rec, "id", "duplicate line id"))
        lines.add(line.id)
        if not line.stops:
            errors.append(FieldError(rec, "stops", "a line needs at least one stop"))
        stops = [x.id for x in line.stops]
        if len(set(stops)) != len(stops):
            errors.append(FieldError(rec, "stops", "duplicate stop id"))
    if inst.shuttles and pol.walk_km is None:
        errors.append(FieldError("policy", "walk_km", "is required when the round has shuttles"))
    if any(not x.running for x in inst.shuttles) and pol.transport_budget_cents is None:
        errors.append(
            FieldError("policy", "transport_budget_cents", "is required when a line is not running")
        )
    return errors


class _NonFinite:
    """``NaN``, ``Infinity`` or ``-Infinity`` read from a file: refused by field."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _Reader:
    """Reads one JSON record, collecting every field error instead of stopping.

    Every field is required unless read with ``optional=True`` (it may be absent);
    ``nullable=True`` allows ``null``. There are no silent defaults: a missing field or
    a ``null`` where a value is due is an error naming the record and the field.
    """

    def __init__(self, errors: list[FieldError], record: str, data: Any, prefix: str = "") -> None:
        self.errors = errors
        self.record = record
        self.prefix = prefix
        self.ok = isinstance(data, Mapping)
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        if not self.ok:
            self.fail("", "must be an object" if data is not None else "is required (an object)")

    def fail(self, name: str, message: str) -> None:
        where = f"{self.prefix}.{name}" if self.prefix and name else (self.prefix or name)
        self.errors.append(FieldError(self.record, where or "(record)", message))

    def present(self, name: str, optional: bool = False, nullable: bool = False) -> bool:
        """Whether the field holds a value to read; records the error if it must and does not."""
        if name not in self.data:
            if not optional:
                self.fail(name, "is required")
            return False
        if self.data[name] is None:
            if not nullable:
                self.fail(name, "must not be null")
            return False
        return True

    def child(self, name: str, prefix: str = "") -> _Reader | None:
        """A reader of the object in field ``name`` (None, the error recorded, if absent)."""
        if not self.present(name):
            return None
        return _Reader(self.errors, self.record if prefix else name, self.data[name], prefix)

    def string(self, name: str, optional: bool = False) -> str:
        if not self.present(name, optional):
            return ""
        v = self.data[name]
        if not isinstance(v, str) or not v.strip():
            self.fail(name, f"must be a non-empty string, got {_show(v)}")
            return ""
        return v

    def integer(
        self,
        name: str,
        minimum: int,
        maximum: int = MAX_INT,
        *,
        optional: bool = False,
        nullable: bool = False,
    ) -> int | None:
        """An integer within ``[minimum, maximum]`` (None when absent or null and allowed)."""
        if not self.present(name, optional, nullable):
            return None
        v = self.data[name]
        if isinstance(v, Decimal) and v.is_finite() and v == v.to_integral_value():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(name, f"must be an integer, got {_show(v)}")
            return None
        if v < minimum:
            self.fail(name, f"must be at least {minimum}, got {v}")
            return None
        if v > maximum:
            self.fail(name, f"must be at most {maximum}, got {_show(v)}")
            return None
        return v

    def number(
        self,
        name: str,
        minimum: float,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
    ) -> float | None:
        """A finite number within the bounds (None, with the error recorded, otherwise)."""
        if not self.present(name):
            return None
        v = self.data[name]
        if isinstance(v, _NonFinite):
            self.fail(name, f"must be a finite number, got {v}")
            return None
        if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
            self.fail(name, f"must be a number, got {_show(v)}")
            return None
        try:
            x = float(v)
        except OverflowError:  # an integer beyond any float
            x = math.inf if v > 0 else -math.inf
        if isinstance(v, int) and abs(v) > MAX_INT and maximum is None:
            self.fail(name, f"must be at most {MAX_INT}, got {_show(v)}")
            return None
        if not math.isfinite(x) and not isinstance(v, int):
            self.fail(name, f"must be a finite number, got {_show(v)}")
            return None
        if x < minimum or (exclusive_minimum and x == minimum):
            self.fail(
                name,
                f"must be {'greater than' if exclusive_minimum else 'at least'} "
                f"{minimum:g}, got {_show(v)}",
            )
            return None
        if maximum is not None and x > maximum:
            self.fail(name, f"must be at most {maximum:g}, got {_show(v)}")
            return None
        return x

    def ratio(self, name: str) -> Decimal | None:
        """A decimal in [0, 1], kept exactly as written."""
        if not self.present(name):
            return None
        v = self.data[name]
        if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
            self.fail(name, f"must be a number, got {_show(v)}")
            return None
        d = Decimal(str(v)) if isinstance(v, float) else Decimal(v)
        if not d.is_finite() or d < 0 or d > 1:
            self.fail(name, f"must be between 0 and 1, got {_show(v)}")
            return None
        return d

    def optional_number(
        self, name: str, minimum: float, maximum: float | None = None
    ) -> float | None:
        """A finite number when the field is present (None when absent)."""
        if name not in self.data:
            return None
        return self.number(name, minimum, maximum)

    def span(self, name: str) -> Span | None:
        """An optional ``{"from": "YYYY-MM", "to": "YYYY-MM"}``, both months included."""
        if name not in self.data:
            return None
        r = self.child(name, prefix=name)
        if r is None or not r.ok:
            return None
        first, last = r.month("from"), r.month("to")
        if first is None or last is None:
            return None
        if last < first:
            r.fail("to", f"must not come before from ({month_text(first)})")
            return None
        return Span(first, last)

    def month(self, name: str) -> int | None:
        if not self.present(name):
            return None
        try:
            return parse_month(self.data[name])
        except ValueError as exc:
            self.fail(name, str(exc))
            return None

    def boolean(self, name: str, optional: bool = False) -> bool:
        if not self.present(name, optional):
            return False
        v = self.data[name]
        if not isinstance(v, bool):
            self.fail(name, f"must be true or false, got {_show(v)}")
            return False
        return v

    def choice(self, name: str, options: Sequence[str], optional: bool = False) -> Any:
        if not self.present(name, optional):
            return options[0]
        v = self.data[name]
        if v not in options:
            self.fail(name, f"must be one of {', '.join(options)}, got {_show(v)}")
            return options[0]
        return v

    def string_list(
        self, name: str, options: Sequence[str] | None = None, optional: bool = False
    ) -> tuple[str, ...]:
        if not self.present(name, optional):
            return ()
        v = self.data[name]
        if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
            self.fail(name, f"must be a list of non-empty strings, got {_show(v)}")
            return ()
        if options is not None:
            bad = [x for x in v if x not in options]
            if bad:
                self.fail(
                    name,
                    f"unknown value(s) {', '.join(map(repr, bad))}; allowed: {', '.join(options)}",
                )
                return tuple(x for x in v if x in options)
        return tuple(dict.fromkeys(v))

    def records(self, name: str, optional: bool = False) -> list[Any]:
        if not self.present(name, optional):
            return []
        v = self.data[name]
        if not isinstance(v, list):
            self.fail(name, f"must be a list, got {_show(v)}")
            return []
        return v


def _unit_kinds(values: tuple[str, ...]) -> tuple[UnitKind, ...]:
    return tuple(k for k in UNIT_KINDS for v in values if v == k)


def _show(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 10**15:
        return f"a {v.bit_length()}-bit integer" if abs(v) > 10**40 else str(v)
    text = json.dumps(v, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _record_name(kind: str, k: int, data: Any) -> str:
    if isinstance(data, Mapping) and isinstance(data.get("id"), str) and data["id"]:
        return f"{kind} {data['id']}"
    return f"{kind}[{k}]"


def _lat_lon(r: _Reader, lat: str = "lat", lon: str = "lon") -> tuple[float, float]:
    return (r.number(lat, -90.0, 90.0) or 0.0, r.number(lon, -180.0, 180.0) or 0.0)


def _horizon(r: _Reader) -> Span | None:
    if "horizon" not in r.data:
        return None
    hr = r.child("horizon", prefix="horizon")
    if hr is None or not hr.ok:
        return None
    start, months = hr.month("start"), hr.integer("months", 1, 1200)
    if start is None or months is None:
        return None
    return Span(start, start + months - 1)


def _zones(r: _Reader) -> tuple[Zone, ...]:
    zones = []
    for k, zd in enumerate(r.records("avoid", optional=True)):
        zr = _Reader(r.errors, r.record, zd, prefix=f"avoid[{k}]")
        if zr.ok:
            lat, lon = _lat_lon(zr)
            zones.append(Zone(lat=lat, lon=lon, radius_km=zr.number("radius_km", 0.0) or 0.0))
    return tuple(zones)


def _terms(r: _Reader) -> tuple[Term, ...]:
    terms = []
    listed = r.records("terms", optional=True)
    if not listed and isinstance(r.data.get("terms"), list):
        r.fail("terms", "a dwelling with terms needs at least one")
    for k, td in enumerate(listed):
        label = td.get("id") if isinstance(td, Mapping) and isinstance(td.get("id"), str) else k
        tr = _Reader(r.errors, r.record, td, prefix=f"terms[{label}]")
        if tr.ok:
            terms.append(
                Term(
                    id=tr.string("id"),
                    rent_cents=tr.integer("rent_cents", 0, MAX_MONTHLY_CENTS) or 0,
                    one_off_cents=tr.integer("one_off_cents", 0, optional=True) or 0,
                    guaranteed=tr.boolean("guaranteed", optional=True),
                )
            )
    return tuple(terms)


def group_floors_from(value: Any) -> tuple[tuple[GroupFloor, ...], list[FieldError]]:
    """Group floors as a scenario or a form gives them (a list of ``{"group", "share"}``),
    with the errors as :func:`instance_from_dict` words them (field
    ``group_floors[k].group`` ...)."""
    errors: list[FieldError] = []
    floors = _group_floors(_Reader(errors, "policy", {"group_floors": value}), errors)
    return floors, errors


def _group_floors(pr: _Reader, errors: list[FieldError]) -> tuple[GroupFloor, ...]:
    """``policy.group_floors``: optional; each ``{"group": "dimension:value", "share": x}``
    with a share in (0, 1], each group once."""
    out: list[GroupFloor] = []
    seen: set[str] = set()
    for k, fd in enumerate(pr.records("group_floors", optional=True)):
        r = _Reader(errors, "policy", fd, prefix=f"group_floors[{k}]")
        if not r.ok:
            continue
        group, share = r.string("group"), r.ratio("share")
        if group:
            dim, sep, value = group.partition(":")
            if not sep or dim not in GROUP_DIMENSIONS or not value.strip():
                r.fail(
                    "group",
                    f"must be one of {', '.join(GROUP_DIMENSIONS)} then ':' and a "
                    f"value, e.g. 'tag:exploitation_victim', got {_show(group)}",
                )
                group = ""
            elif dim == "gender" and value not in GENDERS:
                r.fail("group", f"gender must be one of {', '.join(GENDERS)}, got {_show(value)}")
                group = ""
            elif dim == "household" and value not in HOUSEHOLD_TYPES:
                r.fail(
                    "group",
                    f"household must be one of {', '.join(HOUSEHOLD_TYPES)}, got {_show(value)}",
                )
                group = ""
            elif group in seen:
                r.fail("group", f"{group} has a floor already")
                group = ""
        if share is not None and share == 0:
            r.fail("share", "must be greater than 0")
            share = None
        if share is not None and share.as_tuple().exponent < -4:  # type: ignore[operator]
            r.fail("share", f"must have at most 4 decimals, got {_show(fd.get('share'))}")
            share = None
        if group and share is not None:
            seen.add(group)
            out.append(GroupFloor(group, share))
    return tuple(out)


def instance_from_dict(data: Any, source: str | None = None) -> Instance:
    """Build an :class:`Instance` from the parsed JSON, listing every error at once.

    Every field of the format is required except those the contract lets be absent
    (a beneficiary's ``tags``, ``pinned``, ``forbidden``, a pin's ``room``); numbers are
    finite and within the contract's limits (see ``docs/problem.md``).

    Raises
    ------
    InstanceError
        With one :class:`FieldError` per problem, each naming the record and field.
    """
    errors: list[FieldError] = []
    top = _Reader(errors, "instance", data)
    if not top.ok:
        raise InstanceError(errors, source)
    fmt = top.data.get("format")
    if fmt not in FORMATS:
        top.fail(
            "format", f"must be {INSTANCE_FORMAT!r} or {INSTANCE_FORMAT_V2!r}, got {_show(fmt)}"
        )
    name = top.string("name")

    policy = Policy()
    pr = top.child("policy")
    if pr is not None and pr.ok:
        ratio = pr.ratio("affordability_ratio")
        cap = pr.integer("max_contribution_cents", 0, MAX_MONTHLY_CENTS)
        horizon = _horizon(pr)
        # with a horizon, a stay's months replace contribution_months (which may be absent)
        months = pr.integer("contribution_months", 1, optional=horizon is not None)
        circuity = pr.number("circuity", 1.0)
        guarantee = None
        gr = pr.child("guarantee", prefix="guarantee") if "guarantee" in pr.data else None
        if gr is not None and gr.ok:
            guarantee = Guarantee(
                capacity_cents=gr.integer("capacity_cents", 0) or 0,
                months=gr.integer("months", 1) or 1,
            )
        policy = Policy(
            affordability_ratio=Decimal("0") if ratio is None else ratio,
            max_contribution_cents=cap or 0,
            contribution_months=months or 12,
            circuity=circuity or 1.0,
            objective_unit=pr.choice("objective_unit", ("persons", "households")),
            priority_mode=pr.choice("priority_mode", ("weighted", "strict"), optional=True),
            group_floors=_group_floors(pr, errors),
            horizon=horizon,
            walk_km=pr.optional_number("walk_km", 0.0),
            transport_budget_cents=pr.integer("transport_budget_cents", 0, optional=True),
            guarantee=guarantee,
        )

    funds = []
    for k, fd in enumerate(top.records("funds")):
        r = _Reader(errors, _record_name("fund", k, fd), fd)
        if r.ok:
            funds.append(
                Fund(
                    id=r.string("id"),
                    budget_cents=r.integer("budget_cents", 0) or 0,
                    eligible_tags=r.string_list("eligible_tags"),
                )
            )

    beneficiaries = []
    for k, bd in enumerate(top.records("beneficiaries")):
        r = _Reader(errors, _record_name("beneficiary", k, bd), bd)
        if not r.ok:
            continue
        adults = r.integer("adults", 0, MAX_PERSONS)
        minors = r.integer("minors", 0, MAX_PERSONS)
        if adults is not None and minors is not None and adults + minors <= 0:
            r.fail("adults", "the household has zero persons (adults + minors must be at least 1)")
        wr = r.child("work", prefix="work")
        wr_lat, wr_lon = _lat_lon(wr) if wr is not None and wr.ok else (0.0, 0.0)
        beneficiaries.append(
            Beneficiary(
                id=r.string("id"),
                adults=adults or 0,
                minors=minors or 0,
                gender=r.choice("gender", GENDERS),
                income_cents=r.integer("income_cents", 0, MAX_MONTHLY_CENTS) or 0,
                work=Point(wr_lat, wr_lon),
                max_commute_km=r.number("max_commute_km", 0.0) or 0.0,
                needs_step_free=r.boolean("needs_step_free"),
                priority=r.integer("priority", 0) or 0,
                accepts=_unit_kinds(r.string_list("accepts", UNIT_KINDS)),
                tags=r.string_list("tags", optional=True),
                stay=r.span("stay"),
                avoid=_zones(r),
                areas=r.string_list("areas", optional=True),
            )
        )

    dwellings = []
    for k, dd in enumerate(top.records("dwellings")):
        r = _Reader(errors, _record_name("dwelling", k, dd), dd)
        if not r.ok:
            continue
        lat, lon = _lat_lon(r)
        terms = _terms(r)
        if terms and "rent_cents" in r.data:
            r.fail("rent_cents", "a dwelling has either rent_cents or terms, never both")
        rent = 0 if "terms" in r.data else r.integer("rent_cents", 0, MAX_MONTHLY_CENTS)
        dwellings.append(
            Dwelling(
                id=r.string("id"),
                lat=lat,
                lon=lon,
                area_m2=r.number("area_m2", 0.0, MAX_AREA_M2, exclusive_minimum=True) or 1.0,
                bedrooms=r.integer("bedrooms", 0) or 0,
                rent_cents=rent or 0,
                step_free=r.boolean("step_free"),
                max_occupants=r.integer("max_occupants", 0, nullable=True),
                children_ok=r.boolean("children_ok"),
                terms=terms,
                available=r.span("available"),
                area=r.string("area", optional=True) or None,
            )
        )

    flats = []
    for k, fd in enumerate(top.records("shared_flats")):
        r = _Reader(errors, _record_name("shared_flat", k, fd), fd)
        if not r.ok:
            continue
        lat, lon = _lat_lon(r)
        rooms = []
        room_list = r.records("rooms")
        if not room_list and isinstance(r.data.get("rooms"), list):
            r.fail("rooms", "a shared flat needs at least one room")
        for j, rd in enumerate(room_list):
            label = rd.get("id") if isinstance(rd, Mapping) and isinstance(rd.get("id"), str) else j
            rr = _Reader(errors, r.record, rd, prefix=f"rooms[{label}]")
            if rr.ok:
                rooms.append(Room(id=rr.string("id"), beds=rr.integer("beds", 1, MAX_PERSONS) or 1))
        flats.append(
            SharedFlat(
                id=r.string("id"),
                lat=lat,
                lon=lon,
                rent_per_bed_cents=r.integer("rent_per_bed_cents", 0, MAX_MONTHLY_CENTS) or 0,
                step_free=r.boolean("step_free"),
                rooms=tuple(rooms),
                available=r.span("available"),
                area=r.string("area", optional=True) or None,
            )
        )

    pinned = []
    for k, pd in enumerate(top.records("pinned", optional=True)):
        r = _Reader(errors, f"pinned[{k}]", pd)
        if r.ok:
            room = r.data.get("room")
            if room is not None and not isinstance(room, str):
                r.fail("room", f"must be a room id or null, got {_show(room)}")
                room = None
            pinned.append(
                Pin(beneficiary=r.string("beneficiary"), unit=r.string("unit"), room=room)
            )
    forbidden = []
    for k, fd in enumerate(top.records("forbidden", optional=True)):
        r = _Reader(errors, f"forbidden[{k}]", fd)
        if r.ok:
            forbidden.append(Forbidden(beneficiary=r.string("beneficiary"), unit=r.string("unit")))

    shuttles = []
    for k, sd in enumerate(top.records("shuttles", optional=True)):
        r = _Reader(errors, _record_name("shuttle", k, sd), sd)
        if not r.ok:
            continue
        stops = []
        for j, st in enumerate(r.records("stops")):
            label = st.get("id") if isinstance(st, Mapping) and isinstance(st.get("id"), str) else j
            rr = _Reader(errors, r.record, st, prefix=f"stops[{label}]")
            if rr.ok:
                slat, slon = _lat_lon(rr)
                stops.append(Stop(id=rr.string("id"), lat=slat, lon=slon))
        shuttles.append(
            Shuttle(
                id=r.string("id"),
                stops=tuple(stops),
                seats=r.integer("seats", 0) or 0,
                monthly_cost_cents=r.integer("monthly_cost_cents", 0, MAX_MONTHLY_CENTS) or 0,
                running=r.boolean("running", optional=True),
            )
        )

    errors += check_references(funds, beneficiaries, dwellings, flats, pinned, forbidden)
    if errors:
        raise InstanceError(errors, source)
    return Instance(
        name=name,
        policy=policy,
        funds=tuple(funds),
        beneficiaries=tuple(beneficiaries),
        dwellings=tuple(dwellings),
        shared_flats=tuple(flats),
        pinned=tuple(pinned),
        forbidden=tuple(forbidden),
        shuttles=tuple(shuttles),
        format=fmt if fmt in FORMATS else INSTANCE_FORMAT,
    )


def parse_json(text: str) -> Any:
    """Parse JSON keeping decimals exact (so ``0.29`` stays ``Decimal('0.29')``).

    ``NaN`` and ``Infinity`` are read as markers that the record readers refuse by field.
    """
    return json.loads(text, parse_float=Decimal, parse_constant=_NonFinite)


def read_json_file(path: Path, record: str) -> Any:
    """A JSON file's content; :class:`InstanceError` if it is not UTF-8 JSON."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InstanceError(
            [
                FieldError(
                    record,
                    "(file)",
                    f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                    f"offset {exc.start}); save it as UTF-8",
                )
            ],
            str(path),
        ) from None
    try:
        return parse_json(text)
    except json.JSONDecodeError as exc:
        raise InstanceError(
            [FieldError(record, f"line {exc.lineno}", f"invalid JSON: {exc.msg}")], str(path)
        ) from None
    except RecursionError:
        raise InstanceError(
            [FieldError(record, "(file)", "invalid JSON: nested too deeply")], str(path)
        ) from None


def load_instance(path: str | Path) -> Instance:
    """Read an instance file; raises :class:`InstanceError` listing every problem."""
    p = Path(path)
    data = read_json_file(p, p.name)
    try:
        return instance_from_dict(data, source=str(p))
    except InstanceError as exc:
        raise InstanceError(exc.errors, str(p)) from None


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _optional(**fields: Any) -> dict[str, Any]:
    """The fields that are set (instance@2's fields are written only when present)."""
    return {k: v for k, v in fields.items() if v not in (None, (), [])}


def instance_to_dict(inst: Instance) -> dict[str, Any]:
    """The instance in its format (``instance@1``, or ``instance@2`` with its fields)."""
    pol = inst.policy
    policy: dict[str, Any] = {
        "affordability_ratio": pol.affordability_ratio,
        "max_contribution_cents": pol.max_contribution_cents,
        "contribution_months": pol.contribution_months,
        "circuity": pol.circuity,
        "objective_unit": pol.objective_unit,
    }
    if pol.priority_mode != "weighted":
        policy["priority_mode"] = pol.priority_mode
    if pol.group_floors:
        policy["group_floors"] = [{"group": f.group, "share": f.share} for f in pol.group_floors]
    if pol.horizon is not None:
        policy["horizon"] = {"start": month_text(pol.horizon.first), "months": pol.horizon.months}
    policy.update(_optional(walk_km=pol.walk_km, transport_budget_cents=pol.transport_budget_cents))
    if pol.guarantee is not None:
        policy["guarantee"] = {
            "capacity_cents": pol.guarantee.capacity_cents,
            "months": pol.guarantee.months,
        }

    def span(x: Span | None) -> dict[str, str] | None:
        return None if x is None else x.to_dict()

    def dwelling(d: Dwelling) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": d.id,
            "lat": d.lat,
            "lon": d.lon,
            "area_m2": _num(d.area_m2),
            "bedrooms": d.bedrooms,
        }
        if d.terms:
            out["terms"] = [
                {
                    "id": t.id,
                    "rent_cents": t.rent_cents,
                    "one_off_cents": t.one_off_cents,
                    "guaranteed": t.guaranteed,
                }
                for t in d.terms
            ]
        else:
            out["rent_cents"] = d.rent_cents
        out.update(
            {
                "step_free": d.step_free,
                "max_occupants": d.max_occupants,
                "children_ok": d.children_ok,
            }
        )
        return out | _optional(available=span(d.available), area=d.area)

    out: dict[str, Any] = {
        "format": inst.format,
        "name": inst.name,
        "policy": policy,
        "funds": [
            {"id": f.id, "budget_cents": f.budget_cents, "eligible_tags": list(f.eligible_tags)}
            for f in inst.funds
        ],
        "beneficiaries": [
            {
                "id": b.id,
                "adults": b.adults,
                "minors": b.minors,
                "gender": b.gender,
                "income_cents": b.income_cents,
                "work": {"lat": b.work.lat, "lon": b.work.lon},
                "max_commute_km": _num(b.max_commute_km),
                "needs_step_free": b.needs_step_free,
                "priority": b.priority,
                "accepts": list(b.accepts),
                "tags": list(b.tags),
            }
            | _optional(
                stay=span(b.stay),
                avoid=[
                    {"lat": z.lat, "lon": z.lon, "radius_km": _num(z.radius_km)} for z in b.avoid
                ],
                areas=list(b.areas),
            )
            for b in inst.beneficiaries
        ],
        "dwellings": [dwelling(d) for d in inst.dwellings],
        "shared_flats": [
            {
                "id": f.id,
                "lat": f.lat,
                "lon": f.lon,
                "rent_per_bed_cents": f.rent_per_bed_cents,
                "step_free": f.step_free,
                "rooms": [{"id": r.id, "beds": r.beds} for r in f.rooms],
            }
            | _optional(available=span(f.available), area=f.area)
            for f in inst.shared_flats
        ],
        "pinned": [
            {"beneficiary": p.beneficiary, "unit": p.unit, "room": p.room} for p in inst.pinned
        ],
        "forbidden": [{"beneficiary": f.beneficiary, "unit": f.unit} for f in inst.forbidden],
    }
    if inst.shuttles:
        out["shuttles"] = [
            {
                "id": x.id,
                "stops": [{"id": st.id, "lat": st.lat, "lon": st.lon} for st in x.stops],
                "seats": x.seats,
                "monthly_cost_cents": x.monthly_cost_cents,
                "running": x.running,
            }
            for x in inst.shuttles
        ]
    return out


def dumps(data: Any, indent: int | None = 2) -> str:
    """JSON text with decimals written exactly."""
    return json.dumps(_decimals_to_floats(data), indent=indent, ensure_ascii=False)


def _decimals_to_floats(data: Any) -> Any:
    if isinstance(data, Decimal):
        return float(data)  # repr of a short decimal's float round-trips to the same text
    if isinstance(data, dict):
        return {k: _decimals_to_floats(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_decimals_to_floats(v) for v in data]
    return data


def save_instance(inst: Instance, path: str | Path) -> None:
    """Write an instance file in the ``housing-match/instance@1`` format."""
    Path(path).write_text(dumps(instance_to_dict(inst)) + "\n", encoding="utf-8")
