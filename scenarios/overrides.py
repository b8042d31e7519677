"""Declarative overrides: pure functions ``Instance -> Instance`` for what-if variants.

Each override changes exactly what it says and nothing else; every other field of the
instance is left equal (the property tests in ``tests/scenarios`` check this). They are
frozen dataclasses, so a variant is a picklable recipe: a tuple of overrides applied in
:data:`APPLY_ORDER` to the base instance.

=========================  ==========================================================
override                   what it changes
=========================  ==========================================================
:class:`RemoveUnits`       drops dwellings and shared flats by id, and the staff
                           exclusions (``forbidden``) that name them; a unit with a
                           pinned placement cannot be removed
:class:`AddDwellings`      appends ``count`` identical dwellings at a municipality's
                           point, ids ``D-<label>-<k>``
:class:`AddSharedFlats`    appends ``count`` identical shared flats at a
                           municipality's point, ids ``SF-<label>-<k>``, rooms
                           ``SF-<label>-<k>-R<j>``
:class:`FundBudget`        one fund's ``budget_cents``: set, add or scale
:class:`PolicyChange`      the affordability ratio, the contribution cap and months,
                           the objective unit
:class:`CommuteChange`     ``max_commute_km`` of everyone, or of the households whose
                           workplace lies in a zone (set or add)
:class:`PriorityChange`    ``priority`` of the households carrying given tags
:class:`AddLine`           appends a shuttle line (stops, seats, monthly cost,
                           running or proposed); the round becomes instance@2
:class:`RemoveLines`       drops shuttle lines by id
:class:`LineChange`        one line's seats, stops, monthly cost or running
:class:`TransportPolicy`   the transport budget and the longest walk to a stop
:class:`SeasonChange`      stretches or shortens the households' stays (everyone's, or
                           of those working in a zone), within the horizon
:class:`UnitMonths`        the months some units are open (a foresteria June to
                           October), within the horizon
:class:`IncentiveBudget`   money for landlords' one-offs: as many dwellings at the
                           plain rent as it buys (the dearest first) also accept an
                           ``incentive`` term (a lower rent, a one-off); the money
                           goes to the fund that pays (instance@2)
:class:`GuaranteeCapacity` the guarantee fund's capacity (and months): instance@2
=========================  ==========================================================

Where people live is not part of the instance (only the workplace is), so a *zone*
is defined by the **workplace**: a household is in the zone when the geodesic distance
from its workplace to the zone's centre is at most ``radius_km``, and, when the zone
lists tags, it carries one of them. A shuttle from the Borgo Mezzanone camp is thus
modelled as extra reach for the households who work around the camp (optionally only
those tagged ``informal_settlement``, who live in a camp): their one reach radius
grows by ``extra_km``, in every direction, not only toward the shuttle's destination.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Literal

from geopy.distance import geodesic

from matching.instance import (
    INSTANCE_FORMAT_V2,
    Beneficiary,
    Dwelling,
    GroupFloor,
    Guarantee,
    Instance,
    ObjectiveUnit,
    PriorityMode,
    Room,
    SharedFlat,
    Shuttle,
    Span,
    Stop,
    Term,
    month_text,
)

__all__ = [
    "APPLY_ORDER",
    "AddDwellings",
    "AddLine",
    "AddSharedFlats",
    "CommuteChange",
    "FundBudget",
    "GuaranteeCapacity",
    "IncentiveBudget",
    "LineChange",
    "Override",
    "OverrideError",
    "PolicyChange",
    "PriorityChange",
    "RemoveLines",
    "RemoveUnits",
    "SeasonChange",
    "TransportPolicy",
    "UnitMonths",
    "Zone",
    "apply_all",
]


class OverrideError(ValueError):
    """An override that cannot apply to an instance (e.g. an unknown fund id).

    Attributes
    ----------
    key : str
        Where the override sits in the scenario file, e.g. ``overrides.funds.victims``.
    """

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


@dataclass(frozen=True)
class Override:
    """Base of every override: where it sits in the scenario file.

    Subclasses implement :meth:`apply` (pure) and :meth:`describe`.
    """

    key: str = field(default="overrides", kw_only=True, compare=False)

    def apply(self, inst: Instance) -> Instance:
        """Return a copy of ``inst`` with this override applied.

        Raises
        ------
        OverrideError
            When the override does not fit the instance (naming the key).
        """
        raise NotImplementedError

    def describe(self) -> str:
        """One line for the report, e.g. ``fund victims: +€100,000.00``."""
        raise NotImplementedError


def _euro(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}€{abs(cents) / 100:,.2f}"


# --------------------------------------------------------------------------- units


@dataclass(frozen=True)
class RemoveUnits(Override):
    """Remove dwellings and shared flats by id.

    Staff exclusions (``forbidden``) that name a removed unit are dropped with it (they
    no longer mean anything); a unit with a pinned placement cannot be removed.
    """

    unit_ids: tuple[str, ...] = ()

    def apply(self, inst: Instance) -> Instance:
        gone = set(self.unit_ids)
        unknown = sorted(gone - set(inst.unit_index))
        if unknown:
            raise OverrideError(self.key, f"unknown unit id(s) {', '.join(unknown)}")
        pinned = sorted({p.unit for p in inst.pinned if p.unit in gone})
        if pinned:
            raise OverrideError(
                self.key,
                f"unit(s) {', '.join(pinned)} hold a pinned placement "
                "(an accepted offer) and cannot be removed",
            )
        return inst.replace(
            dwellings=tuple(d for d in inst.dwellings if d.id not in gone),
            shared_flats=tuple(f for f in inst.shared_flats if f.id not in gone),
            forbidden=tuple(f for f in inst.forbidden if f.unit not in gone),
        )

    def describe(self) -> str:
        return f"remove {len(self.unit_ids)} unit(s): {', '.join(self.unit_ids)}"


def _free_ids(inst: Instance, ids: list[str], key: str) -> None:
    taken = sorted(set(ids) & set(inst.unit_index))
    if taken:
        raise OverrideError(key, f"unit id(s) {', '.join(taken)} already exist; pick another label")


@dataclass(frozen=True)
class AddDwellings(Override):
    """Add ``count`` identical dwellings at a municipality's point.

    ``rent_cents`` None takes the median rent of the instance's dwellings with the same
    number of bedrooms (of all dwellings when none has it; the lower middle value of an
    even count, so it stays in whole cents).
    """

    label: str = ""
    municipality: str = ""
    lat: float = 0.0
    lon: float = 0.0
    count: int = 1
    area_m2: float = 50.0
    bedrooms: int = 1
    rent_cents: int | None = None
    step_free: bool = False
    children_ok: bool = True
    max_occupants: int | None = None

    def ids(self) -> list[str]:
        """The ids of the new dwellings: ``D-<label>-1`` ... ``D-<label>-<count>``."""
        return [f"D-{self.label}-{k}" for k in range(1, self.count + 1)]

    def rent(self, inst: Instance) -> int:
        """The rent of each new dwelling (given, or the median of the same kind)."""
        if self.rent_cents is not None:
            return self.rent_cents
        same = [d.rent_cents for d in inst.dwellings if d.bedrooms == self.bedrooms]
        rents = same or [d.rent_cents for d in inst.dwellings]
        if not rents:
            raise OverrideError(
                self.key,
                "the base has no dwellings to take a median rent from; give rent_eur or rent_cents",
            )
        return int(statistics.median_low(rents))

    def apply(self, inst: Instance) -> Instance:
        ids = self.ids()
        _free_ids(inst, ids, self.key)
        rent = self.rent(inst)
        new = tuple(
            Dwelling(
                id=i,
                lat=self.lat,
                lon=self.lon,
                area_m2=self.area_m2,
                bedrooms=self.bedrooms,
                rent_cents=rent,
                step_free=self.step_free,
                max_occupants=self.max_occupants,
                children_ok=self.children_ok,
            )
            for i in ids
        )
        return inst.replace(dwellings=inst.dwellings + new)

    def describe(self) -> str:
        rent = "median rent" if self.rent_cents is None else f"{_euro(self.rent_cents)}/month"
        return (
            f"add {self.count} dwelling(s) in {self.municipality} "
            f"({self.bedrooms} bedroom(s), {self.area_m2:g} m², {rent})"
        )


@dataclass(frozen=True)
class AddSharedFlats(Override):
    """Add ``count`` identical shared flats of ``rooms`` rooms of ``beds_per_room`` beds.

    ``rent_per_bed_cents`` None takes the median bed rent of the instance's shared flats
    (the lower middle value of an even count).
    """

    label: str = ""
    municipality: str = ""
    lat: float = 0.0
    lon: float = 0.0
    count: int = 1
    rooms: int = 2
    beds_per_room: int = 2
    rent_per_bed_cents: int | None = None
    step_free: bool = False

    def ids(self) -> list[str]:
        """The ids of the new flats: ``SF-<label>-1`` ... ``SF-<label>-<count>``."""
        return [f"SF-{self.label}-{k}" for k in range(1, self.count + 1)]

    @property
    def beds(self) -> int:
        """Beds added in all."""
        return self.count * self.rooms * self.beds_per_room

    def rent(self, inst: Instance) -> int:
        """The rent of each new bed (given, or the median of the instance's flats)."""
        if self.rent_per_bed_cents is not None:
            return self.rent_per_bed_cents
        rents = [f.rent_per_bed_cents for f in inst.shared_flats]
        if not rents:
            raise OverrideError(
                self.key,
                "the base has no shared flats to take a median rent "
                "from; give rent_per_bed_eur or rent_per_bed_cents",
            )
        return int(statistics.median_low(rents))

    def apply(self, inst: Instance) -> Instance:
        ids = self.ids()
        _free_ids(inst, ids, self.key)
        rent = self.rent(inst)
        new = tuple(
            SharedFlat(
                id=i,
                lat=self.lat,
                lon=self.lon,
                rent_per_bed_cents=rent,
                step_free=self.step_free,
                rooms=tuple(
                    Room(id=f"{i}-R{j}", beds=self.beds_per_room) for j in range(1, self.rooms + 1)
                ),
            )
            for i in ids
        )
        return inst.replace(shared_flats=inst.shared_flats + new)

    def describe(self) -> str:
        rent = (
            "median bed rent"
            if self.rent_per_bed_cents is None
            else f"{_euro(self.rent_per_bed_cents)}/bed/month"
        )
        return (
            f"add {self.count} shared flat(s) in {self.municipality}, {self.beds} beds "
            f"({self.rooms} room(s) x {self.beds_per_room} bed(s) each, {rent})"
        )


# --------------------------------------------------------------------------- money


@dataclass(frozen=True)
class FundBudget(Override):
    """Change one fund's budget: ``set`` or ``add`` cents, or ``scale`` by a factor.

    A scaled budget is rounded down to the cent. A budget that would fall below zero
    is an error.
    """

    fund_id: str = ""
    op: Literal["set", "add", "scale"] = "set"
    cents: int = 0
    factor: Decimal = Decimal(1)

    def new_budget(self, budget_cents: int) -> int:
        """The budget after the change."""
        if self.op == "set":
            return self.cents
        if self.op == "add":
            return budget_cents + self.cents
        return int((self.factor * budget_cents).to_integral_value(ROUND_FLOOR))

    def apply(self, inst: Instance) -> Instance:
        if self.fund_id not in {f.id for f in inst.funds}:
            known = ", ".join(f.id for f in inst.funds) or "none"
            raise OverrideError(self.key, f"unknown fund {self.fund_id!r} (funds: {known})")
        funds = []
        for f in inst.funds:
            if f.id == self.fund_id:
                budget = self.new_budget(f.budget_cents)
                if budget < 0:
                    raise OverrideError(
                        self.key, f"the budget would be {_euro(budget)}; it cannot fall below zero"
                    )
                f = dataclasses.replace(f, budget_cents=budget)
            funds.append(f)
        return inst.replace(funds=tuple(funds))

    def describe(self) -> str:
        if self.op == "set":
            return f"fund {self.fund_id}: budget set to {_euro(self.cents)}"
        if self.op == "add":
            sign = "+" if self.cents >= 0 else ""
            return f"fund {self.fund_id}: budget {sign}{_euro(self.cents)}"
        return f"fund {self.fund_id}: budget x {self.factor}"


@dataclass(frozen=True)
class PolicyChange(Override):
    """Change the round's policy; fields left None stay as they are."""

    affordability_ratio: Decimal | None = None
    max_contribution_cents: int | None = None
    contribution_months: int | None = None
    objective_unit: ObjectiveUnit | None = None
    priority_mode: PriorityMode | None = None
    group_floors: tuple[GroupFloor, ...] | None = None

    def changes(self) -> dict[str, Any]:
        """The policy fields this override sets."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "key" and getattr(self, f.name) is not None
        }

    def apply(self, inst: Instance) -> Instance:
        return inst.replace(policy=dataclasses.replace(inst.policy, **self.changes()))

    def describe(self) -> str:
        parts = []
        for name, value in self.changes().items():
            if name == "max_contribution_cents":
                assert isinstance(value, int)
                parts.append(f"contribution cap {_euro(value)}/month")
            elif name == "group_floors":
                floors = ", ".join(f"{f.group} {float(f.share) * 100:g}%" for f in value) or "none"
                parts.append(f"group floors {floors}")
            else:
                parts.append(f"{name.replace('_', ' ')} {value}")
        return "policy: " + ", ".join(parts)


# --------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Zone:
    """Households whose workplace lies within ``radius_km`` (geodesic) of a point.

    When ``tags`` is not empty, only households carrying one of them are in the zone.
    """

    name: str
    lat: float
    lon: float
    radius_km: float
    tags: tuple[str, ...] = ()

    def contains(self, b: Beneficiary) -> bool:
        """Whether household ``b`` is in the zone."""
        if self.tags and not set(self.tags).intersection(b.tags):
            return False
        return float(geodesic((b.work.lat, b.work.lon), (self.lat, self.lon)).km) <= self.radius_km


@dataclass(frozen=True)
class CommuteChange(Override):
    """Set (``op="set"``) or extend (``op="add"``) the maximum commute, in km.

    With a ``zone``, only the households in it change; without one, everyone does.
    """

    op: Literal["set", "add"] = "add"
    km: float = 0.0
    zone: Zone | None = None

    def targets(self, b: Beneficiary) -> bool:
        """Whether this override changes household ``b``."""
        return self.zone is None or self.zone.contains(b)

    def apply(self, inst: Instance) -> Instance:
        out = []
        for b in inst.beneficiaries:
            if self.targets(b):
                km = self.km if self.op == "set" else b.max_commute_km + self.km
                b = dataclasses.replace(b, max_commute_km=km)
            out.append(b)
        return inst.replace(beneficiaries=tuple(out))

    def describe(self) -> str:
        what = f"max commute {'set to' if self.op == 'set' else '+'} {self.km:g} km"
        if self.zone is None:
            return f"{what} for everyone"
        who = f" tagged {'/'.join(self.zone.tags)}" if self.zone.tags else ""
        return (
            f"{what} for households{who} working within {self.zone.radius_km:g} km of "
            f"{self.zone.name}"
        )


@dataclass(frozen=True)
class PriorityChange(Override):
    """Re-weight priority from tags.

    For a household carrying at least one tag named in ``multiply`` or ``add``:
    ``priority' = priority * prod(multiply[t]) + sum(add[t])`` over its tags, then
    clamped to ``[0, maximum]`` (``maximum`` None: no upper clamp). Other households
    keep their priority.
    """

    add: Mapping[str, int] = field(default_factory=dict)
    multiply: Mapping[str, int] = field(default_factory=dict)
    maximum: int | None = None

    def __hash__(self) -> int:
        return hash(
            (tuple(sorted(self.add.items())), tuple(sorted(self.multiply.items())), self.maximum)
        )

    def targets(self, b: Beneficiary) -> bool:
        """Whether this override changes household ``b``'s priority (may leave it equal)."""
        return bool(set(b.tags).intersection(self.add) or set(b.tags).intersection(self.multiply))

    def new_priority(self, b: Beneficiary) -> int:
        """The household's priority after the change."""
        if not self.targets(b):
            return b.priority
        p = b.priority
        for t in b.tags:
            p *= self.multiply.get(t, 1)
        p += sum(self.add.get(t, 0) for t in b.tags)
        p = max(0, p)
        return p if self.maximum is None else min(p, self.maximum)

    def apply(self, inst: Instance) -> Instance:
        return inst.replace(
            beneficiaries=tuple(
                dataclasses.replace(b, priority=self.new_priority(b)) if self.targets(b) else b
                for b in inst.beneficiaries
            )
        )

    def describe(self) -> str:
        parts = [f"x{v} if {t}" for t, v in sorted(self.multiply.items())]
        parts += [f"{v:+d} if {t}" for t, v in sorted(self.add.items())]
        if self.maximum is not None:
            parts.append(f"at most {self.maximum}")
        return "priority: " + ", ".join(parts)


# --------------------------------------------------------------------------- transport

DEFAULT_WALK_KM = 1.5
"""The longest walk to or from a stop when a line is added to a round that had none."""


def _v2(inst: Instance) -> Instance:
    """The instance written as instance@2 (its instance@1 meaning unchanged)."""
    return inst if inst.v2 else inst.replace(format=INSTANCE_FORMAT_V2)


def _stops(line_id: str, stops: tuple[tuple[str, float, float], ...]) -> tuple[Stop, ...]:
    return tuple(
        Stop(id=f"{line_id}-S{k}", lat=lat, lon=lon) for k, (_n, lat, lon) in enumerate(stops, 1)
    )


@dataclass(frozen=True)
class AddLine(Override):
    """Append a shuttle line: stops (``(name, lat, lon)`` in calling order), seats, monthly
    cost, running or proposed (then the engine opens it only within the transport
    budget). A round without lines gets ``walk_km`` :data:`DEFAULT_WALK_KM` and a
    transport budget of 0 unless :class:`TransportPolicy` says otherwise."""

    line_id: str = ""
    stops: tuple[tuple[str, float, float], ...] = ()
    seats: int = 16
    monthly_cost_cents: int = 0
    running: bool = False

    def apply(self, inst: Instance) -> Instance:
        if any(x.id == self.line_id for x in inst.shuttles):
            raise OverrideError(self.key, f"line {self.line_id!r} already exists")
        if not self.stops:
            raise OverrideError(self.key, "a line needs at least one stop")
        line = Shuttle(
            id=self.line_id,
            stops=_stops(self.line_id, self.stops),
            seats=self.seats,
            monthly_cost_cents=self.monthly_cost_cents,
            running=self.running,
        )
        pol = inst.policy
        policy = dataclasses.replace(
            pol,
            walk_km=DEFAULT_WALK_KM if pol.walk_km is None else pol.walk_km,
            transport_budget_cents=pol.transport_budget_cents or 0,
        )
        return _v2(inst).replace(shuttles=(*inst.shuttles, line), policy=policy)

    def describe(self) -> str:
        state = "running" if self.running else "proposed"
        names = " - ".join(n for n, _lat, _lon in self.stops)
        return (
            f"line {self.line_id} ({state}): {names}, {self.seats} seats, "
            f"{_euro(self.monthly_cost_cents)}/month"
        )


@dataclass(frozen=True)
class RemoveLines(Override):
    """Remove shuttle lines by id."""

    line_ids: tuple[str, ...] = ()

    def apply(self, inst: Instance) -> Instance:
        gone = set(self.line_ids)
        unknown = sorted(gone - {x.id for x in inst.shuttles})
        if unknown:
            raise OverrideError(self.key, f"unknown line id(s) {', '.join(unknown)}")
        return inst.replace(shuttles=tuple(x for x in inst.shuttles if x.id not in gone))

    def describe(self) -> str:
        return f"remove line(s) {', '.join(self.line_ids)}"


@dataclass(frozen=True)
class LineChange(Override):
    """Change one line's seats, stops, monthly cost or running; None leaves it as it is."""

    line_id: str = ""
    seats: int | None = None
    stops: tuple[tuple[str, float, float], ...] | None = None
    monthly_cost_cents: int | None = None
    running: bool | None = None

    def apply(self, inst: Instance) -> Instance:
        if self.line_id not in {x.id for x in inst.shuttles}:
            known = ", ".join(x.id for x in inst.shuttles) or "none"
            raise OverrideError(self.key, f"unknown line {self.line_id!r} (lines: {known})")
        if self.stops is not None and not self.stops:
            raise OverrideError(self.key, "a line needs at least one stop")
        out = []
        for x in inst.shuttles:
            if x.id == self.line_id:
                x = dataclasses.replace(
                    x,
                    seats=x.seats if self.seats is None else self.seats,
                    stops=x.stops if self.stops is None else _stops(x.id, self.stops),
                    monthly_cost_cents=x.monthly_cost_cents
                    if self.monthly_cost_cents is None
                    else self.monthly_cost_cents,
                    running=x.running if self.running is None else self.running,
                )
            out.append(x)
        return inst.replace(shuttles=tuple(out))

    def describe(self) -> str:
        parts = []
        if self.seats is not None:
            parts.append(f"{self.seats} seats")
        if self.stops is not None:
            parts.append("stops " + " - ".join(n for n, _lat, _lon in self.stops))
        if self.monthly_cost_cents is not None:
            parts.append(f"{_euro(self.monthly_cost_cents)}/month")
        if self.running is not None:
            parts.append("running" if self.running else "proposed")
        return f"line {self.line_id}: " + ", ".join(parts)


@dataclass(frozen=True)
class TransportPolicy(Override):
    """The transport budget (what opening lines may cost over the round) and the longest
    walk to or from a stop; None leaves it as it is."""

    transport_budget_cents: int | None = None
    walk_km: float | None = None

    def apply(self, inst: Instance) -> Instance:
        pol = inst.policy
        policy = dataclasses.replace(
            pol,
            transport_budget_cents=pol.transport_budget_cents
            if self.transport_budget_cents is None
            else self.transport_budget_cents,
            walk_km=pol.walk_km if self.walk_km is None else self.walk_km,
        )
        return _v2(inst).replace(policy=policy)

    def describe(self) -> str:
        parts = []
        if self.transport_budget_cents is not None:
            parts.append(f"transport budget {_euro(self.transport_budget_cents)}")
        if self.walk_km is not None:
            parts.append(f"walk to a stop at most {self.walk_km:g} km")
        return "transport: " + ", ".join(parts)


# --------------------------------------------------------------------------- seasons


def _horizon(inst: Instance, key: str) -> Span:
    h = inst.policy.horizon
    if h is None:
        raise OverrideError(key, "the round has no horizon (policy.horizon): it has no months")
    return h


@dataclass(frozen=True)
class SeasonChange(Override):
    """Stretch (positive) or shorten (negative) the households' stays: ``earlier`` months
    more at the start, ``later`` months more at the end, within the horizon. A household
    without a stay is housed for the whole horizon: stretching leaves it so, shortening
    gives it a stay. A stay is never shortened below one month. With a ``zone``, only
    the households working in it change."""

    earlier: int = 0
    later: int = 0
    zone: Zone | None = None

    def apply(self, inst: Instance) -> Instance:
        h = _horizon(inst, self.key)
        out = []
        for b in inst.beneficiaries:
            if self.zone is None or self.zone.contains(b):
                stay = b.stay or h
                first = min(max(h.first, stay.first - self.earlier), stay.last)
                last = max(min(h.last, stay.last + self.later), first)
                new = Span(first, last)
                b = dataclasses.replace(b, stay=None if new == h and b.stay is None else new)
            out.append(b)
        return inst.replace(beneficiaries=tuple(out))

    def describe(self) -> str:
        def signed(n: int) -> str:
            return f"{n:+d} month(s)"

        parts = []
        if self.earlier:
            parts.append(f"start {signed(self.earlier)} earlier")
        if self.later:
            parts.append(f"end {signed(self.later)} later")
        who = "everyone" if self.zone is None else f"households working near {self.zone.name}"
        return f"seasons of {who}: " + (", ".join(parts) or "unchanged")


@dataclass(frozen=True)
class UnitMonths(Override):
    """Open some units only from month ``first`` to ``last`` (month numbers, see
    :func:`matching.instance.parse_month`), within the horizon."""

    unit_ids: tuple[str, ...] = ()
    first: int = 0
    last: int = 0

    def apply(self, inst: Instance) -> Instance:
        h = _horizon(inst, self.key)
        unknown = sorted(set(self.unit_ids) - set(inst.unit_index))
        if unknown:
            raise OverrideError(self.key, f"unknown unit id(s) {', '.join(unknown)}")
        span = Span(self.first, self.last)
        if self.last < self.first or not h.covers(span):
            raise OverrideError(
                self.key,
                f"{month_text(self.first)} to {month_text(self.last)} is not within the "
                f"horizon {month_text(h.first)} to {month_text(h.last)}",
            )
        ids = set(self.unit_ids)
        return inst.replace(
            dwellings=tuple(
                dataclasses.replace(d, available=span) if d.id in ids else d for d in inst.dwellings
            ),
            shared_flats=tuple(
                dataclasses.replace(f, available=span) if f.id in ids else f
                for f in inst.shared_flats
            ),
        )

    def describe(self) -> str:
        return (
            f"unit(s) {', '.join(self.unit_ids)} open {month_text(self.first)} to "
            f"{month_text(self.last)}"
        )


# --------------------------------------------------------------------------- landlords


@dataclass(frozen=True)
class IncentiveBudget(Override):
    """``budget_cents`` spent on landlords' one-off payments.

    It buys ``budget_cents // one_off_cents`` agreements: that many dwellings let at a
    plain rent (the dearest first, ties by id) also accept an ``incentive`` term, their
    rent lowered by ``discount`` for a one-off of ``one_off_cents`` (they keep a
    ``market`` term at their rent); the budget is added to fund ``fund_id``, which pays the
    one-offs like any cost. Compared with the same money added to a fund
    (:class:`FundBudget`), it shows what one-offs buy in homes and placements against
    contributions.
    """

    budget_cents: int = 0
    one_off_cents: int = 150_000
    discount: Decimal = Decimal("0.15")
    fund_id: str = ""

    def apply(self, inst: Instance) -> Instance:
        if self.fund_id not in {f.id for f in inst.funds}:
            known = ", ".join(f.id for f in inst.funds) or "none"
            raise OverrideError(self.key, f"unknown fund {self.fund_id!r} (funds: {known})")
        homes = self.budget_cents // self.one_off_cents if self.one_off_cents > 0 else 0
        plain = sorted(
            (d for d in inst.dwellings if not d.terms), key=lambda d: (-d.rent_cents, d.id)
        )
        chosen = {d.id for d in plain[:homes]}
        dwellings = []
        for d in inst.dwellings:
            if d.id in chosen:
                lower = int(
                    (Decimal(d.rent_cents) * (1 - self.discount)).to_integral_value(ROUND_FLOOR)
                )
                d = dataclasses.replace(
                    d,
                    rent_cents=0,
                    terms=(
                        Term("incentive", lower, one_off_cents=self.one_off_cents),
                        Term("market", d.rent_cents),
                    ),
                )
            dwellings.append(d)
        funds = tuple(
            dataclasses.replace(f, budget_cents=f.budget_cents + self.budget_cents)
            if f.id == self.fund_id
            else f
            for f in inst.funds
        )
        return inst.replace(format=INSTANCE_FORMAT_V2, dwellings=tuple(dwellings), funds=funds)

    def describe(self) -> str:
        return (
            f"one-offs: {_euro(self.budget_cents)} on fund {self.fund_id}, "
            f"{_euro(self.one_off_cents)} each for a rent {self.discount * 100:.0f}% lower"
        )


@dataclass(frozen=True)
class GuaranteeCapacity(Override):
    """The guarantee fund against arrears: its capacity (and the months it covers)."""

    capacity_cents: int = 0
    months: int | None = None

    def apply(self, inst: Instance) -> Instance:
        before = inst.policy.guarantee
        months = self.months or (before.months if before else 3)
        policy = dataclasses.replace(
            inst.policy, guarantee=Guarantee(capacity_cents=self.capacity_cents, months=months)
        )
        return inst.replace(format=INSTANCE_FORMAT_V2, policy=policy)

    def describe(self) -> str:
        return f"guarantee: capacity {_euro(self.capacity_cents)}"


# --------------------------------------------------------------------------- composition

APPLY_ORDER: tuple[type[Override], ...] = (
    RemoveUnits,
    AddDwellings,
    AddSharedFlats,
    FundBudget,
    IncentiveBudget,
    GuaranteeCapacity,
    PolicyChange,
    CommuteChange,
    PriorityChange,
    RemoveLines,
    AddLine,
    LineChange,
    TransportPolicy,
    SeasonChange,
    UnitMonths,
)
"""The order in which a variant's overrides apply (removals before additions, so an
added unit's median rent is taken from the units that remain)."""


def apply_all(inst: Instance, overrides: tuple[Override, ...]) -> Instance:
    """Apply overrides in :data:`APPLY_ORDER` (stable within a kind).

    Parameters
    ----------
    inst
        The base instance.
    overrides
        The variant's overrides.

    Returns
    -------
    Instance
        The variant's instance (``inst`` itself when there is nothing to apply).

    Raises
    ------
    OverrideError
        From the first override that does not fit.
    """
    rank = {kind: k for k, kind in enumerate(APPLY_ORDER)}
    for o in sorted(overrides, key=lambda o: rank.get(type(o), len(rank))):
        inst = o.apply(inst)
    return inst
