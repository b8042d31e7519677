"""Scenario files (TOML): a base round and named variants made of declarative overrides.

A scenario file is parsed and checked as a whole: :func:`parse_spec` reports *every*
problem at once in a :class:`ScenarioError`, each a
:class:`~matching.instance.FieldError` naming the variant and the key, e.g.
``variant "shuttle": overrides.commute.extra_km: must be a positive number``. Unknown
keys are errors. The format is documented in ``scenarios/examples/README.md``::

    [scenario]                       # optional
    name = "victims-fund"            # default: the file's stem
    description = "What 100,000 euro more on the victims' fund buys."
    time_limit = 20                  # seconds per solve (default 20)
    seed = 0                         # CP-SAT seed, the same for every variant

    [base]                           # exactly one of:
    generate = { scale = "S", seed = 1 }
    # instance = "foggia-round.json"            (relative to the scenario file)
    # agency = {}     (the agency's data now, pseudonymised; see AgencyData)

    [variants.plus_100k]
    description = "+100,000 euro on the victims' fund"
    overrides.funds.victims.add_eur = 100000

    [variants.affordability]
    sweep = { key = "policy.affordability_ratio", values = [0.25, 0.30, 0.35] }

Money is integer cents in the model; a key says its unit (``add_cents`` or ``add_eur``,
at most two decimals). Decimals (the affordability ratio) are read exactly.
"""

from __future__ import annotations

import copy
import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, Protocol

from matching.instance import (
    FieldError,
    GroupFloor,
    Instance,
    InstanceError,
    group_floors_from,
    load_instance,
    parse_month,
)
from places import gazetteer
from places.sites import PLACE_BY_NAME
from scenarios.overrides import (
    AddDwellings,
    AddLine,
    AddSharedFlats,
    CommuteChange,
    FundBudget,
    GuaranteeCapacity,
    IncentiveBudget,
    LineChange,
    Override,
    OverrideError,
    PolicyChange,
    PriorityChange,
    RemoveLines,
    RemoveUnits,
    SeasonChange,
    TransportPolicy,
    UnitMonths,
    Zone,
    apply_all,
)
from scenarios.synthetic import SCALES, generate

__all__ = [
    "AgencyBase",
    "AgencyData",
    "Base",
    "GenerateBase",
    "InstanceBase",
    "ScenarioError",
    "ScenarioSpec",
    "Variant",
    "load_spec",
    "parse_spec",
]

BASE_NAME = "base"
"""The name under which the base itself runs (a variant may not take it)."""
DEFAULT_TIME_LIMIT = 20.0
MAX_SWEEP_POINTS = 50
MAX_DEPTH = 12
"""The deepest nesting of tables and arrays a scenario file may hold."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class ScenarioError(ValueError):
    """A scenario file with problems; ``errors`` lists every one found.

    Each error is a :class:`~matching.instance.FieldError` whose ``record`` is
    ``variant "<name>"``, ``scenario``, ``base`` or ``file``, and whose ``field`` is the
    key, e.g. ``overrides.commute.extra_km``.
    """

    def __init__(self, errors: list[FieldError], source: str | None = None) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        self.source = source
        where = f" in {source}" if source else ""
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"{len(self.errors)} error(s){where}:\n{lines}")


# --------------------------------------------------------------------------- spec types


@dataclass(frozen=True)
class InstanceBase:
    """Base from an instance file (``path`` resolved against the scenario file)."""

    path: Path
    written: str

    def describe(self) -> dict[str, Any]:
        return {"kind": "instance", "path": self.written}


@dataclass(frozen=True)
class GenerateBase:
    """Base from :func:`scenarios.synthetic.generate` at a scale and seed."""

    scale: str | tuple[int, int, int]
    seed: int

    def describe(self) -> dict[str, Any]:
        scale = self.scale if isinstance(self.scale, str) else list(self.scale)
        return {"kind": "generate", "scale": scale, "seed": self.seed}


class AgencyData(Protocol):
    """Where an ``agency`` base comes from: the agency's data now, as an instance.

    The scenarios do not read the agency's database themselves: whoever runs a scenario
    on the agency's data (the ``housing`` command line, the service) hands one of these
    to :meth:`ScenarioSpec.load_base`. It is called with the database URL the file names
    (None when it names none: the caller's own database) and returns the waiting
    households, the free units and the funds' balances, pseudonymised. When the data
    cannot be had it raises :class:`ValueError` (an
    :class:`~matching.instance.InstanceError` is one) or :class:`LookupError`, with a
    message saying why.
    """

    def __call__(self, database_url: str | None, /) -> Instance: ...


@dataclass(frozen=True)
class AgencyBase:
    """Base from the agency's current data, pseudonymised (given by an :class:`AgencyData`)."""

    database_url: str | None = None

    def describe(self) -> dict[str, Any]:
        # The URL may carry credentials: only whether one was given is recorded.
        return {"kind": "agency", "database_url_given": self.database_url is not None}


Base = InstanceBase | GenerateBase | AgencyBase


@dataclass(frozen=True)
class Variant:
    """One run of a scenario: a name and the overrides that make it from the base.

    A sweep expands into one variant per point, named ``<group>[<value>]``.
    """

    name: str
    group: str
    description: str = ""
    overrides: tuple[Override, ...] = ()
    sweep_key: str | None = None
    sweep_value: str | None = None

    def build(self, base: Instance) -> Instance:
        """The variant's instance (raises :class:`~scenarios.overrides.OverrideError`)."""
        return apply_all(base, self.overrides)

    def describe(self) -> list[str]:
        """One line per override."""
        return [o.describe() for o in self.overrides]


@dataclass(frozen=True)
class ScenarioSpec:
    """A parsed, checked scenario file.

    Attributes
    ----------
    variants
        The variants in file order, sweeps expanded; the base is not among them.
    source_sha256
        SHA-256 of the file's text (UTF-8), recorded in the report.
    """

    name: str
    base: Base
    variants: tuple[Variant, ...]
    description: str = ""
    time_limit: float = DEFAULT_TIME_LIMIT
    seed: int = 0
    source_sha256: str = ""
    source: str | None = None

    def load_base(self, agency: AgencyData | None = None) -> Instance:
        """Build the base instance.

        Parameters
        ----------
        agency
            For an ``agency`` base: what gives the agency's data (see
            :class:`AgencyData`). Without it such a base cannot be built.

        Raises
        ------
        ScenarioError
            When the base cannot be built (missing file, invalid instance, the agency's
            data not available).
        """
        base = self.base
        if isinstance(base, GenerateBase):
            return generate(base.scale, base.seed)
        if isinstance(base, InstanceBase):
            try:
                return load_instance(base.path)
            except OSError as exc:
                raise ScenarioError(
                    [
                        FieldError(
                            "base", "instance", f"cannot read {base.written!r}: {exc.strerror}"
                        )
                    ],
                    self.source,
                ) from exc
            except InstanceError as exc:
                raise ScenarioError(
                    [FieldError("base", "instance", f"{base.written!r}: {e}") for e in exc.errors],
                    self.source,
                ) from exc
        if agency is None:
            raise ScenarioError(
                [FieldError("base", "agency", "the agency's data is not available here")],
                self.source,
            )
        try:
            return agency(base.database_url)
        except (ValueError, LookupError) as exc:
            message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
            raise ScenarioError([FieldError("base", "agency", message)], self.source) from exc

    def check_against(self, base: Instance) -> list[FieldError]:
        """Every variant's overrides applied to ``base``: the errors only a base shows.

        Unknown fund or unit ids, a unit id that already exists, a budget below zero,
        a median rent with nothing to take it from.
        """
        errors: list[FieldError] = []
        for v in self.variants:
            try:
                v.build(base)
            except OverrideError as exc:
                errors.append(FieldError(_record(v.name), exc.key, exc.message))
            except InstanceError as exc:
                errors += [FieldError(_record(v.name), "overrides", str(e)) for e in exc.errors]
        return errors


def _record(variant: str) -> str:
    return f'variant "{variant}"'


# --------------------------------------------------------------------------- reading


class _Table:
    """Reads one TOML table, collecting every error, and flags unknown keys."""

    def __init__(self, errors: list[FieldError], record: str, data: Any, prefix: str = "") -> None:
        self.errors = errors
        self.record = record
        self.prefix = prefix
        self.ok = isinstance(data, Mapping)
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        self.used: set[str] = set()
        if not self.ok:
            self.errors.append(
                FieldError(record, prefix or "(table)", f"must be a table, got {_show(data)}")
            )

    def path(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix and name else (self.prefix or name)

    def fail(self, name: str, message: str) -> None:
        self.errors.append(FieldError(self.record, self.path(name) or "(table)", message))

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str) -> Any:
        self.used.add(name)
        return self.data.get(name)

    def sub(self, name: str) -> _Table:
        return _Table(self.errors, self.record, self.raw(name), self.path(name))

    def string(self, name: str, default: str | None = None) -> str:
        v = self.raw(name)
        if v is None:
            if default is None:
                self.fail(name, "is required")
            return default or ""
        if not isinstance(v, str) or not v.strip():
            self.fail(name, f"must be a non-empty string, got {_show(v)}")
            return default or ""
        return v

    def integer(
        self,
        name: str,
        minimum: int | None = None,
        maximum: int | None = None,
        default: int | None = None,
        what: str | None = None,
    ) -> int | None:
        v = self.raw(name)
        if v is None:
            if default is None:
                self.fail(name, "is required")
            return default
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(name, f"must be {what or 'an integer'}, got {_show(v)}")
            return None
        if minimum is not None and v < minimum:
            self.fail(name, f"must be {what or f'at least {minimum}'}, got {v}")
            return None
        if maximum is not None and v > maximum:
            self.fail(name, f"must be at most {maximum}, got {v}")
            return None
        return v

    def number(
        self,
        name: str,
        *,
        positive: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
        required: bool = True,
    ) -> Decimal | None:
        v = self.raw(name)
        if v is None:
            if required:
                self.fail(name, "is required")
            return None
        if (
            isinstance(v, bool)
            or not isinstance(v, int | Decimal)
            or (isinstance(v, Decimal) and not v.is_finite())
        ):
            self.fail(name, f"must be a {'positive ' if positive else ''}number, got {_show(v)}")
            return None
        d = Decimal(v)
        if positive and d <= 0:
            self.fail(name, f"must be a positive number, got {v}")
            return None
        if minimum is not None and d < Decimal(str(minimum)):
            self.fail(name, f"must be at least {minimum}, got {v}")
            return None
        if maximum is not None and d > Decimal(str(maximum)):
            self.fail(name, f"must be at most {maximum}, got {v}")
            return None
        return d

    def boolean(self, name: str, default: bool) -> bool:
        v = self.raw(name)
        if v is None:
            return default
        if not isinstance(v, bool):
            self.fail(name, f"must be true or false, got {_show(v)}")
            return default
        return v

    def money(self, stem: str, *, required: bool, signed: bool = False) -> tuple[bool, int | None]:
        """``<stem>_cents`` (integer) or ``<stem>_eur`` (at most 2 decimals): (given, cents)."""
        keys = [k for k in (f"{stem}_cents", f"{stem}_eur") if self.has(k)]
        for k in (f"{stem}_cents", f"{stem}_eur"):
            self.used.add(k)
        if len(keys) > 1:
            self.fail(f"{stem}_cents", f"give {stem}_cents or {stem}_eur, not both")
            return True, None
        if not keys:
            if required:
                self.fail(f"{stem}_eur", f"is required (or {stem}_cents)")
            return False, None
        k = keys[0]
        v = self.data[k]
        sign = "an" if signed else "a non-negative"
        if k.endswith("_cents"):
            if isinstance(v, bool) or not isinstance(v, int) or (v < 0 and not signed):
                self.fail(k, f"must be {sign} integer number of cents, got {_show(v)}")
                return True, None
            return True, v
        if (
            isinstance(v, bool)
            or not isinstance(v, int | Decimal)
            or (isinstance(v, Decimal) and not v.is_finite())
        ):
            self.fail(k, f"must be {sign} amount in euro, got {_show(v)}")
            return True, None
        cents = Decimal(v) * 100
        if cents != cents.to_integral_value():
            self.fail(k, f"must have at most two decimals (whole cents), got {v}")
            return True, None
        if cents < 0 and not signed:
            self.fail(k, f"must be {sign} amount in euro, got {v}")
            return True, None
        return True, int(cents)

    def string_list(self, name: str) -> tuple[str, ...]:
        v = self.raw(name)
        if v is None:
            return ()
        if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
            self.fail(name, f"must be a list of non-empty strings, got {_show(v)}")
            return ()
        return tuple(dict.fromkeys(v))

    def finish(self) -> None:
        """Flag every key that was not read."""
        for k in self.data:
            if k not in self.used:
                self.fail(k, "unknown key")


def _show(v: Any) -> str:
    text = repr(v) if not isinstance(v, Decimal) else str(v)
    if isinstance(v, dict):
        text = "a table"
    elif isinstance(v, list):
        text = "a list"
    return text if len(text) <= 40 else text[:37] + "..."


def _locate(name: str) -> tuple[str, float, float]:
    """A place of ``places.sites`` (camps included) or a municipality of Puglia."""
    for known, p in PLACE_BY_NAME.items():
        if gazetteer.normalize_name(known) == gazetteer.normalize_name(name):
            return known, p.lat, p.lon
    m = gazetteer.find(name)
    return m.name, m.lat, m.lon


def _municipality(t: _Table, key: str = "municipality") -> tuple[str, float, float] | None:
    name = t.string(key)
    if not name:
        return None
    try:
        m = gazetteer.find(name)
    except KeyError as exc:
        t.fail(key, str(exc.args[0]))
        return None
    return m.name, m.lat, m.lon


# --------------------------------------------------------------------------- overrides

OVERRIDE_KEYS = (
    "funds",
    "policy",
    "commute",
    "priority",
    "add_dwellings",
    "add_shared_flats",
    "remove_units",
    "add_line",
    "line",
    "remove_lines",
    "transport",
    "seasons",
    "unit_months",
    "incentives",
    "guarantee",
)


def _label(t: _Table, label: str) -> bool:
    if not _LABEL.match(label):
        t.fail(label, "a label must be 1-32 letters, digits, '-' or '_' (it names the new ids)")
        return False
    return True


def _funds(t: _Table) -> list[Override]:
    out: list[Override] = []
    for fund_id in t.data:
        f = t.sub(fund_id)
        if not f.ok:
            continue
        ops = [k for k in ("set_cents", "set_eur", "add_cents", "add_eur", "scale") if f.has(k)]
        if len(ops) != 1:
            f.fail(
                "",
                "give exactly one of set_eur, set_cents, add_eur, add_cents, scale"
                + (f" (got {', '.join(ops)})" if ops else ""),
            )
            f.used.update(ops)
        elif ops[0] == "scale":
            factor = f.number("scale", minimum=0)
            if factor is not None:
                out.append(FundBudget(fund_id=fund_id, op="scale", factor=factor, key=f.prefix))
        else:
            op: Literal["set", "add"] = "set" if ops[0].startswith("set") else "add"
            _, cents = f.money(op, required=True, signed=(op == "add"))
            if cents is not None:
                out.append(FundBudget(fund_id=fund_id, op=op, cents=cents, key=f.prefix))
        f.finish()
    return out


def _policy(t: _Table) -> list[Override]:
    ratio = t.number("affordability_ratio", required=False, minimum=0, maximum=1)
    _, cap = t.money("max_contribution", required=False)
    months = t.integer("contribution_months", minimum=1, maximum=120, default=0) or None
    unit: Any = t.raw("objective_unit")
    if unit is not None and unit not in ("persons", "households"):
        t.fail("objective_unit", f"must be persons or households, got {_show(unit)}")
        unit = None
    mode: Any = t.raw("priority_mode")
    if mode is not None and mode not in ("weighted", "strict"):
        t.fail("priority_mode", f"must be weighted or strict, got {_show(mode)}")
        mode = None
    floors: tuple[GroupFloor, ...] | None = None
    if t.has("group_floors"):
        floors, errors = group_floors_from(t.raw("group_floors"))
        for e in errors:
            t.fail(e.field, e.message)
        if errors:
            floors = None
    t.finish()
    if all(x is None for x in (ratio, cap, months, unit, mode, floors)):
        if not any(e.record == t.record and e.field.startswith(t.prefix) for e in t.errors):
            t.fail(
                "",
                "changes nothing: give affordability_ratio, max_contribution_eur (or "
                "_cents), contribution_months, objective_unit, priority_mode or group_floors",
            )
        return []
    return [
        PolicyChange(
            affordability_ratio=ratio,
            max_contribution_cents=cap,
            contribution_months=months,
            objective_unit=unit,
            priority_mode=mode,
            group_floors=floors,
            key=t.prefix,
        )
    ]


def _zone(t: _Table) -> Zone | None:
    """A zone of workplaces: ``zone = {place | lat and lon, radius_km, tags}``."""
    z = t.sub("zone")
    if not z.ok:
        return None
    radius = z.number("radius_km", positive=True)
    tags = z.string_list("tags")
    centre: tuple[str, float, float] | None = None
    if z.has("place"):
        name = z.string("place")
        if name:
            try:
                centre = _locate(name)
            except KeyError as exc:
                z.fail("place", f"{exc.args[0]}; or give lat and lon")
        if z.has("lat") or z.has("lon"):
            z.fail("place", "give place, or lat and lon, not both")
            z.used.update(("lat", "lon"))
    else:
        lat = z.number("lat", minimum=-90, maximum=90)
        lon = z.number("lon", minimum=-180, maximum=180)
        if lat is not None and lon is not None:
            centre = (f"({lat}, {lon})", float(lat), float(lon))
    z.finish()
    if centre is None or radius is None:
        return None
    return Zone(name=centre[0], lat=centre[1], lon=centre[2], radius_km=float(radius), tags=tags)


def _commute(t: _Table) -> list[Override]:
    ops = [k for k in ("max_km", "extra_km") if t.has(k)]
    km: Decimal | None = None
    if len(ops) != 1:
        t.fail("", "give exactly one of max_km (set) or extra_km (add)")
        t.used.update(ops)
    else:
        km = t.number(ops[0], positive=True)
    zone = _zone(t) if t.has("zone") else None
    t.finish()
    if km is None or (t.has("zone") and zone is None):
        return []
    return [
        CommuteChange(
            op="set" if ops[0] == "max_km" else "add", km=float(km), zone=zone, key=t.prefix
        )
    ]


def _priority(t: _Table) -> list[Override]:
    tables: dict[str, dict[str, int]] = {}
    for name, lo in (("add", None), ("multiply", 0)):
        if not t.has(name):
            continue
        s = t.sub(name)
        values: dict[str, int] = {}
        for tag in s.data:
            v = s.integer(
                tag, minimum=lo, what="a non-negative integer" if lo == 0 else "an integer"
            )
            if v is not None:
                values[tag] = v
        tables[name] = values
    maximum = t.integer("max", minimum=0, default=-1)
    t.finish()
    if not tables:
        t.fail("", "give add = {tag = n, ...} and/or multiply = {tag = n, ...}")
        return []
    return [
        PriorityChange(
            add=tables.get("add", {}),
            multiply=tables.get("multiply", {}),
            maximum=None if maximum is None or maximum < 0 else maximum,
            key=t.prefix,
        )
    ]


def _add_dwellings(t: _Table) -> list[Override]:
    out: list[Override] = []
    for label in t.data:
        d = t.sub(label)
        if not d.ok or not _label(t, label):
            continue
        place = _municipality(d)
        count = d.integer("count", minimum=1, maximum=1000)
        area = d.number("area_m2", positive=True)
        bedrooms = d.integer("bedrooms", minimum=0, maximum=20)
        _, rent = d.money("rent", required=False)
        step_free = d.boolean("step_free", False)
        children_ok = d.boolean("children_ok", True)
        max_occ = d.integer("max_occupants", minimum=1, default=0) or None
        d.finish()
        if place and count is not None and area is not None and bedrooms is not None:
            out.append(
                AddDwellings(
                    label=label,
                    municipality=place[0],
                    lat=place[1],
                    lon=place[2],
                    count=count,
                    area_m2=float(area),
                    bedrooms=bedrooms,
                    rent_cents=rent,
                    step_free=step_free,
                    children_ok=children_ok,
                    max_occupants=max_occ,
                    key=d.prefix,
                )
            )
    return out


def _add_shared_flats(t: _Table) -> list[Override]:
    out: list[Override] = []
    for label in t.data:
        f = t.sub(label)
        if not f.ok or not _label(t, label):
            continue
        place = _municipality(f)
        count = f.integer("count", minimum=1, maximum=1000)
        rooms = f.integer("rooms", minimum=1, maximum=20)
        beds = f.integer("beds_per_room", minimum=1, maximum=12)
        _, rent = f.money("rent_per_bed", required=False)
        step_free = f.boolean("step_free", False)
        f.finish()
        if place and count is not None and rooms is not None and beds is not None:
            out.append(
                AddSharedFlats(
                    label=label,
                    municipality=place[0],
                    lat=place[1],
                    lon=place[2],
                    count=count,
                    rooms=rooms,
                    beds_per_room=beds,
                    rent_per_bed_cents=rent,
                    step_free=step_free,
                    key=f.prefix,
                )
            )
    return out


def _line_stops(t: _Table, name: str = "stops") -> tuple[tuple[str, float, float], ...] | None:
    """A line's stops in calling order: each a place's name (a camp, a farm district or a
    municipality) or ``{name, lat, lon}``."""
    raw = t.raw(name)
    if not isinstance(raw, list) or not raw:
        t.fail(name, f"must be a list of at least one stop, got {_show(raw)}")
        return None
    out: list[tuple[str, float, float]] = []
    for k, item in enumerate(raw):
        where = f"{name}[{k}]"
        if isinstance(item, str):
            try:
                out.append(_locate(item))
            except KeyError as exc:
                t.fail(where, f"{exc.args[0]}; or give {{name, lat, lon}}")
        elif isinstance(item, Mapping):
            s = _Table(t.errors, t.record, item, t.path(where))
            stop = s.string("name")
            lat = s.number("lat", minimum=-90, maximum=90)
            lon = s.number("lon", minimum=-180, maximum=180)
            s.finish()
            if stop and lat is not None and lon is not None:
                out.append((stop, float(lat), float(lon)))
        else:
            t.fail(where, f"must be a place's name or {{name, lat, lon}}, got {_show(item)}")
    return tuple(out) if len(out) == len(raw) else None


def _add_line(t: _Table) -> list[Override]:
    out: list[Override] = []
    for label in t.data:
        x = t.sub(label)
        if not x.ok or not _label(t, label):
            continue
        stops = _line_stops(x)
        seats = x.integer("seats", minimum=1, maximum=100)
        _, cost = x.money("monthly_cost", required=True)
        running = x.boolean("running", False)
        x.finish()
        if stops and seats is not None and cost is not None:
            out.append(
                AddLine(
                    line_id=label,
                    stops=stops,
                    seats=seats,
                    monthly_cost_cents=cost,
                    running=running,
                    key=x.prefix,
                )
            )
    return out


def _line(t: _Table) -> list[Override]:
    out: list[Override] = []
    for line_id in t.data:
        x = t.sub(line_id)
        if not x.ok:
            continue
        seats = x.integer("seats", minimum=1, maximum=100, default=0) or None
        stops = _line_stops(x) if x.has("stops") else None
        _, cost = x.money("monthly_cost", required=False)
        running = x.boolean("running", False) if x.has("running") else None
        x.finish()
        if seats is None and stops is None and cost is None and running is None:
            x.fail("", "changes nothing: give seats, stops, monthly_cost_eur or running")
            continue
        out.append(
            LineChange(
                line_id=line_id,
                seats=seats,
                stops=stops,
                monthly_cost_cents=cost,
                running=running,
                key=x.prefix,
            )
        )
    return out


def _transport(t: _Table) -> list[Override]:
    _, budget = t.money("budget", required=False)
    walk = t.number("walk_km", positive=True, maximum=10, required=False)
    t.finish()
    if budget is None and walk is None:
        if not any(e.record == t.record and e.field.startswith(t.prefix) for e in t.errors):
            t.fail("", "changes nothing: give budget_eur (or _cents) or walk_km")
        return []
    return [
        TransportPolicy(
            transport_budget_cents=budget,
            walk_km=None if walk is None else float(walk),
            key=t.prefix,
        )
    ]


def _seasons(t: _Table) -> list[Override]:
    earlier = t.integer("earlier", minimum=-24, maximum=24, default=0) or 0
    later = t.integer("later", minimum=-24, maximum=24, default=0) or 0
    zone = _zone(t) if t.has("zone") else None
    t.finish()
    if t.has("zone") and zone is None:
        return []
    if not earlier and not later:
        t.fail("", "changes nothing: give earlier and/or later (months, negative to shorten)")
        return []
    return [SeasonChange(earlier=earlier, later=later, zone=zone, key=t.prefix)]


def _month(t: _Table, name: str) -> int | None:
    text = t.string(name)
    if not text:
        return None
    try:
        return parse_month(text)
    except ValueError as exc:
        t.fail(name, str(exc))
        return None


def _unit_months(t: _Table) -> list[Override]:
    ids = t.string_list("units")
    first, last = _month(t, "from"), _month(t, "to")
    t.finish()
    if not ids:
        t.fail("units", "must list at least one unit id")
        return []
    if first is None or last is None:
        return []
    if last < first:
        t.fail("to", "is before from")
        return []
    return [UnitMonths(unit_ids=ids, first=first, last=last, key=t.prefix)]


def _remove_units(t: _Table, name: str) -> list[Override]:
    ids = t.string_list(name)
    if not ids:
        if t.raw(name) == []:
            t.fail(name, "must list at least one unit id")
        return []
    return [RemoveUnits(unit_ids=ids, key=t.path(name))]


def _remove_lines(t: _Table, name: str) -> list[Override]:
    ids = t.string_list(name)
    if not ids:
        if t.raw(name) == []:
            t.fail(name, "must list at least one line id")
        return []
    return [RemoveLines(line_ids=ids, key=t.path(name))]


def _incentives(t: _Table) -> list[Override]:
    _, budget = t.money("budget", required=True)
    _, one_off = t.money("one_off", required=False)
    discount = t.number("discount", required=False, minimum=0, maximum=1)
    fund = t.string("fund")
    t.finish()
    if budget is None or not fund:
        return []
    if one_off is not None and one_off <= 0:
        t.fail("one_off_eur", "must be positive")
        return []
    return [
        IncentiveBudget(
            budget_cents=budget,
            one_off_cents=one_off or 150_000,
            discount=discount if discount is not None else Decimal("0.15"),
            fund_id=fund,
            key=t.prefix,
        )
    ]


def _guarantee(t: _Table) -> list[Override]:
    _, capacity = t.money("capacity", required=True)
    months = t.integer("months", minimum=1, maximum=12, default=0) or None
    t.finish()
    if capacity is None:
        return []
    return [GuaranteeCapacity(capacity_cents=capacity, months=months, key=t.prefix)]


_SECTIONS: dict[str, Callable[[_Table], list[Override]]] = {
    "incentives": _incentives,
    "guarantee": _guarantee,
    "funds": _funds,
    "policy": _policy,
    "commute": _commute,
    "priority": _priority,
    "add_dwellings": _add_dwellings,
    "add_shared_flats": _add_shared_flats,
    "add_line": _add_line,
    "line": _line,
    "transport": _transport,
    "seasons": _seasons,
    "unit_months": _unit_months,
}


def parse_overrides(data: Any, errors: list[FieldError], record: str) -> tuple[Override, ...]:
    """Read a variant's ``overrides`` table (errors appended, each naming the key)."""
    t = _Table(errors, record, data, "overrides")
    out: list[Override] = []
    if not t.ok:
        return ()
    for name in t.data:
        if name == "remove_units":
            out += _remove_units(t, name)
        elif name == "remove_lines":
            out += _remove_lines(t, name)
        elif name in _SECTIONS:
            sub = t.sub(name)
            if sub.ok:
                out += _SECTIONS[name](sub)
    t.finish()
    return tuple(out)


# --------------------------------------------------------------------------- sweeps


def _sweep_values(s: _Table) -> list[Any]:
    if s.has("values"):
        if any(s.has(k) for k in ("start", "stop", "step")):
            s.fail("values", "give values, or start, stop and step, not both")
            s.used.update(("start", "stop", "step"))
        values = s.raw("values")
        if not isinstance(values, list) or not values:
            s.fail("values", f"must be a non-empty list, got {_show(values)}")
            return []
        if len(values) > MAX_SWEEP_POINTS:
            s.fail("values", f"at most {MAX_SWEEP_POINTS} points, got {len(values)}")
            return []
        if len({str(v) for v in values}) != len(values):
            s.fail("values", "repeats a value")
            return []
        return list(values)
    start = s.number("start")
    stop = s.number("stop")
    step = s.number("step", positive=True)
    if start is None or stop is None or step is None:
        return []
    if stop < start:
        s.fail("stop", f"must be at least start ({start}), got {stop}")
        return []
    n = int((stop - start) / step) + 1
    if n > MAX_SWEEP_POINTS:
        s.fail("step", f"gives {n} points; at most {MAX_SWEEP_POINTS}")
        return []
    as_int = all(isinstance(s.data[k], int) for k in ("start", "stop", "step"))
    return [int(start + k * step) if as_int else start + k * step for k in range(n)]


def _set_path(tree: dict[str, Any], path: list[str], value: Any) -> str | None:
    """Set ``tree[path...] = value``, creating tables; an error message if it cannot."""
    node = tree
    for k in path[:-1]:
        nxt = node.setdefault(k, {})
        if not isinstance(nxt, dict):
            return f"{k!r} is not a table"
        node = nxt
    node[path[-1]] = value
    return None


def _expand(
    name: str, v: _Table, description: str, overrides_data: Any, errors: list[FieldError]
) -> list[Variant]:
    s = v.sub("sweep")
    if not s.ok:
        return []
    key = s.string("key")
    values = _sweep_values(s)
    s.finish()
    if not key or not values:
        return []
    path = key.split(".")
    if path[0] == "overrides":
        path = path[1:]
    if not path or path[0] not in OVERRIDE_KEYS or not all(path):
        s.fail(
            "key",
            f"must be a dotted key inside overrides, starting with one of "
            f"{', '.join(OVERRIDE_KEYS)} (e.g. policy.affordability_ratio), got {key!r}",
        )
        return []
    out = []
    for value in values:
        point = f"{name}[{value}]"
        tree = copy.deepcopy(dict(overrides_data or {}))
        problem = _set_path(tree, path, value)
        if problem:
            s.fail("key", f"cannot set {key!r} in overrides: {problem}")
            return []
        overrides = parse_overrides(tree, errors, _record(point))
        out.append(
            Variant(
                name=point,
                group=name,
                description=description,
                overrides=overrides,
                sweep_key=".".join(path),
                sweep_value=str(value),
            )
        )
    return out


# --------------------------------------------------------------------------- the file


def _base(t: _Table, base_dir: Path) -> Base | None:
    kinds = [k for k in ("instance", "generate", "agency") if t.has(k)]
    if len(kinds) != 1:
        t.fail(
            "",
            'give exactly one of instance = "file.json", generate = {scale, seed} '
            "or agency = {database_url = ...}" + (f" (got {', '.join(kinds)})" if kinds else ""),
        )
        t.used.update(kinds)
        t.finish()
        return None
    kind = kinds[0]
    base: Base | None = None
    if kind == "instance":
        written = t.string("instance")
        if written:
            path = Path(written)
            base = InstanceBase(path if path.is_absolute() else base_dir / path, written)
    elif kind == "generate":
        g = t.sub("generate")
        if g.ok:
            scale_raw = g.raw("scale")
            seed = g.integer("seed", minimum=0)
            scale: str | tuple[int, int, int] | None = None
            if isinstance(scale_raw, str) and scale_raw.upper() in SCALES:
                scale = scale_raw.upper()
            elif (
                isinstance(scale_raw, list)
                and len(scale_raw) == 3
                and all(
                    isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in scale_raw
                )
            ):
                scale = (scale_raw[0], scale_raw[1], scale_raw[2])
            else:
                g.fail(
                    "scale",
                    f"must be one of {', '.join(SCALES)} or [households, "
                    f"dwellings, shared_flats], got {_show(scale_raw)}",
                )
            g.finish()
            if scale is not None and seed is not None:
                base = GenerateBase(scale, seed)
    else:
        a = t.sub("agency")
        if a.ok:
            url = a.raw("database_url")
            if url is not None and (not isinstance(url, str) or not url.strip()):
                a.fail("database_url", f"must be a non-empty string, got {_show(url)}")
                url = None
            a.finish()
            base = AgencyBase(url)
    t.finish()
    return base


def parse_spec(
    text: str,
    base_dir: str | Path = ".",
    source: str | None = None,
) -> ScenarioSpec:
    """Parse and check a scenario file's text.

    Parameters
    ----------
    text
        The TOML text.
    base_dir
        The folder an ``instance`` base's relative path is resolved against (the
        scenario file's folder).
    source
        A name for the file in error messages.

    Returns
    -------
    ScenarioSpec
        With sweeps expanded into one variant per point.

    Raises
    ------
    ScenarioError
        Listing every problem, each naming the variant (or ``scenario``/``base``) and key.
    """
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except (tomllib.TOMLDecodeError, InvalidOperation) as exc:
        raise ScenarioError(
            [FieldError("file", "(syntax)", f"invalid TOML: {exc}")], source
        ) from exc
    except RecursionError:  # arrays or tables nested hundreds deep
        raise ScenarioError(
            [
                FieldError(
                    "file",
                    "(syntax)",
                    f"nested too deeply: a scenario file needs at most {MAX_DEPTH} levels",
                )
            ],
            source,
        ) from None
    if _depth(data) > MAX_DEPTH:
        raise ScenarioError(
            [
                FieldError(
                    "file",
                    "(syntax)",
                    f"nested too deeply: a scenario file needs at most {MAX_DEPTH} levels",
                )
            ],
            source,
        )
    errors: list[FieldError] = []
    top = _Table(errors, "file", data)
    for k in data:
        if k not in ("scenario", "base", "variants"):
            top.fail(k, "unknown section (use scenario, base and variants)")
    sc = _Table(errors, "scenario", data.get("scenario", {}))
    default_name = Path(source).stem if source else "scenario"
    name = sc.string("name", default=default_name)
    description = sc.string("description", default=" ").strip()
    tl = sc.number("time_limit", positive=True, maximum=3600, required=False)
    seed = sc.integer("seed", minimum=0, default=0)
    sc.finish()

    if "base" not in data:
        errors.append(
            FieldError("base", "(table)", "is required: [base] with instance, generate or agency")
        )
        base: Base | None = None
    else:
        base = _base(_Table(errors, "base", data["base"]), Path(base_dir))

    variants: list[Variant] = []
    vt = data.get("variants")
    if not isinstance(vt, Mapping) or not vt:
        errors.append(
            FieldError("variants", "(table)", "at least one [variants.<name>] is required")
        )
        vt = {}
    for vname, vdata in vt.items():
        record = _record(vname)
        if not _NAME.match(vname) or vname == BASE_NAME:
            errors.append(
                FieldError(
                    record,
                    "(name)",
                    "a variant name must be 1-64 letters, "
                    f"digits, '-' or '_', and not {BASE_NAME!r}",
                )
            )
        v = _Table(errors, record, vdata)
        if not v.ok:
            continue
        desc = v.string("description", default=" ").strip()
        overrides_data = v.raw("overrides")
        if v.has("sweep"):
            if overrides_data is not None and not isinstance(overrides_data, Mapping):
                v.fail("overrides", f"must be a table, got {_show(overrides_data)}")
                overrides_data = {}
            variants += _expand(vname, v, desc, overrides_data, errors)
        elif overrides_data is None:
            v.fail("overrides", "is required (or a sweep)")
        else:
            overrides = parse_overrides(overrides_data, errors, record)
            variants.append(Variant(name=vname, group=vname, description=desc, overrides=overrides))
        v.finish()
    if errors:
        raise ScenarioError(errors, source)
    assert base is not None
    return ScenarioSpec(
        name=name,
        base=base,
        variants=tuple(variants),
        description=description,
        time_limit=float(tl) if tl is not None else DEFAULT_TIME_LIMIT,
        seed=seed if seed is not None else 0,
        source_sha256=sha,
        source=source,
    )


def _depth(value: Any, level: int = 0) -> int:
    """How deep tables and arrays nest in ``value`` (stops counting past MAX_DEPTH)."""
    if level > MAX_DEPTH or not isinstance(value, Mapping | list):
        return level
    items = value.values() if isinstance(value, Mapping) else value
    return max((_depth(v, level + 1) for v in items), default=level + 1)


def load_spec(path: str | Path) -> ScenarioSpec:
    """Read and check a scenario file (see :func:`parse_spec`).

    Raises
    ------
    ScenarioError
        Listing every problem; also when the file cannot be read.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ScenarioError([FieldError("file", str(p), f"cannot read: {msg}")], str(p)) from exc
    return parse_spec(text, base_dir=p.parent, source=str(p))
