"""Import the spreadsheets agencies keep (CSV or XLSX), and export a round's placements.

The templates are documented in ``docs/import-templates.md``; blank examples live in
``agency/data/templates/``. A file is checked whole before anything is written: every
error is listed by row (as the spreadsheet numbers it, the header being row 1) and column,
and if there is any, nothing is imported. Municipalities are found by name or ISTAT code in
the offline gazetteer. Money columns are in euros (``1234,50`` or ``1234.50``) and become
integer cents exactly; more than two decimals is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import sheets
from agency import identity, records
from agency.audit import Actor, record
from agency.db import write_session
from agency.models import (
    Beneficiary,
    Dwelling,
    Fund,
    Landlord,
    Offer,
    Office,
    Proposal,
    Room,
    Round,
    SharedFlat,
    ShuttleLine,
)
from agency.round_details import round_homes, round_people
from agency.schemas import BeneficiaryCreate, DwellingCreate, LandlordCreate, SharedFlatCreate

Kind = Literal["beneficiaries", "dwellings", "flats"]
KINDS: tuple[Kind, ...] = ("beneficiaries", "dwellings", "flats")
MAX_ROWS = 20_000
LIMITS = sheets.Limits(max_rows=MAX_ROWS)
MAX_ERRORS_SHOWN = 50
OTHER_OFFICE = "you may only import into your own office"

# --------------------------------------------------------------------------- errors


@dataclass(frozen=True, order=True)
class CellError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return (
            f"{where}, column {self.column}: {self.message}"
            if self.column
            else f"{where}: {self.message}"
        )


class ImportFailed(ValueError):  # noqa: N818  (what the caseworker reads: the import failed)
    """The file was rejected whole; ``errors`` lists every problem by row and column."""

    def __init__(self, source: str, errors: Sequence[CellError]) -> None:
        self.source = source
        self.errors = sorted(errors)
        shown = "\n  ".join(str(e) for e in self.errors[:MAX_ERRORS_SHOWN])
        more = len(self.errors) - MAX_ERRORS_SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{source}: {len(self.errors)} errors, nothing imported:\n  {shown}{tail}")


class ImportTooLarge(ImportFailed):
    """The file is beyond a limit (rows, columns, size): refused before being read whole."""


@dataclass(frozen=True)
class ImportReport:
    kind: Kind
    rows: int
    refs: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- cells


class _BadCellError(ValueError):
    pass


def _text(v: Any) -> str | None:
    if v is None:
        return None
    s = str(v).strip()
    return s or None


def _int(v: Any) -> int:
    if isinstance(v, bool):
        raise _BadCellError("must be a whole number")
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    s = str(v).strip()
    if s.lstrip("-").isdigit():
        return int(s)
    raise _BadCellError(f"must be a whole number, got {s!r}")


def _decimal(v: Any) -> Decimal:
    if isinstance(v, bool):
        raise _BadCellError("must be a number")
    s = repr(v) if isinstance(v, float) else str(v).strip()
    s = s.replace("€", "").replace(" ", "")
    if "," in s:  # Italian: 1.234,50
        s = s.replace(".", "").replace(",", ".")
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise _BadCellError(f"must be a number, got {str(v).strip()!r}") from None
    if not d.is_finite():
        raise _BadCellError("must be a finite number")
    return d


def _float(v: Any) -> float:
    return float(_decimal(v))


def _euros(v: Any) -> int:
    d = _decimal(v)
    cents = d * 100
    if cents != cents.to_integral_value():
        raise _BadCellError(f"at most two decimals (euro cents), got {str(v).strip()!r}")
    return int(cents)


_TRUE = {"1", "true", "yes", "y", "si", "sì", "s", "x", "vero"}
_FALSE = {"0", "false", "no", "n", "falso"}


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise _BadCellError(f"must be yes/no (sì/no), got {str(v).strip()!r}")


def _date(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = str(v).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise _BadCellError(f"must be a date (YYYY-MM-DD or DD/MM/YYYY), got {s!r}")


def _month(v: Any) -> str:
    """A month as ``YYYY-MM``: typed so, or ``MM/YYYY``, or a date cell (its month)."""
    if isinstance(v, date | datetime):
        return f"{v.year:04d}-{v.month:02d}"
    s = str(v).strip()
    for fmt in ("%Y-%m", "%m/%Y", "%m-%Y"):
        try:
            d = datetime.strptime(s, fmt)
        except ValueError:
            continue
        return f"{d.year:04d}-{d.month:02d}"
    raise _BadCellError(f"must be a month (YYYY-MM or MM/YYYY), got {s!r}")


def _tags(v: Any) -> list[str]:
    s = str(v).replace("|", ";").replace(",", ";")
    return [t.strip().lower() for t in s.split(";") if t.strip()]


@dataclass(frozen=True)
class Column:
    name: str  # the spreadsheet's header
    field: str | None  # the schema's field (None: handled by the importer)
    parse: Callable[[Any], Any]
    required: bool = False


def _c(
    name: str, parse: Callable[[Any], Any] = _text, required: bool = False, field_: str | None = ""
) -> Column:
    return Column(name, name if field_ == "" else field_, parse, required)


COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "beneficiaries": (
        _c("office", field_=None),
        _c("given_name", required=True),
        _c("family_name", required=True),
        _c("birth_date", _date),
        _c("nationality"),
        _c("phone"),
        _c("gender", required=True),
        _c("adults", _int, True),
        _c("minors", _int),
        _c("income_eur", _euros, True, "income_cents"),
        _c("workplace"),
        _c("work_municipality", required=True),
        _c("work_lat", _float),
        _c("work_lon", _float),
        _c("max_commute_km", _float),
        _c("season_from", _month),
        _c("season_to", _month),
        _c("needs_step_free", _bool),
        _c("accepts_dwelling", _bool),
        _c("accepts_bed", _bool),
        _c("health_needs", _bool),
        _c("informal_settlement"),
        _c("tags", _tags),
        _c("registered_on", _date),
        _c("pai_tutor"),
        _c("pai_started_on", _date),
        _c("pai_next_review_on", _date),
    ),
    "dwellings": (
        _c("office", field_=None),
        _c("landlord", field_=None),
        _c("address", required=True),
        _c("municipality", required=True),
        _c("lat", _float),
        _c("lon", _float),
        _c("area_m2", _float, True),
        _c("bedrooms", _int, True),
        _c("rent_eur", _euros, True, "rent_cents"),
        _c("step_free", _bool),
        _c("children_ok", _bool),
        _c("max_occupants", _int),
        _c("available_from", _date),
        _c("open_from", _month),
        _c("open_to", _month),
    ),
    "flats": (
        _c("flat", required=True, field_=None),
        _c("office", field_=None),
        _c("landlord", field_=None),
        _c("address", required=True),
        _c("municipality", required=True),
        _c("lat", _float),
        _c("lon", _float),
        _c("rent_per_bed_eur", _euros, True, "rent_per_bed_cents"),
        _c("step_free", _bool),
        _c("available_from", _date),
        _c("open_from", _month),
        _c("open_to", _month),
        _c("room", field_=None),
        _c("beds", _int, True, None),
    ),
}
"""Each template's columns, in order; the header must name each at most once."""

PLACE_COLUMNS = ("work_municipality", "municipality")
"""Columns naming a municipality of Puglia (found in the gazetteer)."""

_FLAT_FIELDS = (
    "office",
    "landlord",
    "address",
    "municipality",
    "lat",
    "lon",
    "rent_per_bed_eur",
    "step_free",
    "available_from",
    "open_from",
    "open_to",
)


# --------------------------------------------------------------------------- reading


def read_table(
    path: str | Path, stats: sheets.ReadStats | None = None
) -> tuple[list[str], list[list[Any]]]:
    """The header and the rows of a CSV (``,`` or ``;``; UTF-8 or Windows-1252) or XLSX
    file (first sheet), read within :data:`LIMITS` (see :mod:`sheets.reading`).

    Fully blank rows are dropped (their numbering is kept by the caller through
    :func:`rows_of`). A file beyond a limit raises :class:`ImportTooLarge`.
    """
    try:
        return sheets.read_table(path, LIMITS, stats)
    except sheets.SheetError as exc:
        cls = ImportTooLarge if exc.too_large else ImportFailed
        raise cls(Path(path).name, [CellError(0, "", exc.message)]) from None


def rows_of(header: list[str], body: Iterable[list[Any]]) -> list[tuple[int, dict[str, Any]]]:
    """``(spreadsheet row number, {column: value})`` for each non-blank row."""
    out = []
    for k, row in enumerate(body, start=2):
        cells = {h: row[i] if i < len(row) else None for i, h in enumerate(header) if h}
        if any(_text(v) is not None for v in cells.values()):
            out.append((k, cells))
    return out


def _check_header(kind: Kind, header: list[str]) -> list[CellError]:
    known = {c.name for c in COLUMNS[kind]}
    errors = [
        CellError(
            1,
            h,
            f"unknown column (the {kind} template has: {', '.join(c.name for c in COLUMNS[kind])})",
        )
        for h in header
        if h and h not in known
    ]
    seen: set[str] = set()
    for h in header:
        if h and h in seen:
            errors.append(CellError(1, h, "column given twice"))
        seen.add(h)
    errors += [
        CellError(1, c.name, "required column missing")
        for c in COLUMNS[kind]
        if c.required and c.name not in header
    ]
    return errors


def _parse_row(
    kind: Kind, row: int, cells: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], list[CellError]]:
    """(schema fields, importer's own columns, errors) of one row."""
    data: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    errors = []
    for c in COLUMNS[kind]:
        raw = cells.get(c.name)
        if _text(raw) is None:
            if c.required:
                errors.append(CellError(row, c.name, "required, but empty"))
            continue
        try:
            value = c.parse(raw)
        except _BadCellError as exc:
            errors.append(CellError(row, c.name, str(exc)))
            continue
        if c.field:
            data[c.field] = value
        else:
            extra[c.name] = value
    return data, extra, errors


def _schema_errors(
    model: type[BaseModel], data: Mapping[str, Any], row: int, columns: Mapping[str, str]
) -> tuple[Any, list[CellError]]:
    try:
        return model.model_validate(dict(data)), []
    except ValidationError as exc:
        errs = []
        for e in exc.errors():
            loc = [str(p) for p in e["loc"]]
            name = columns.get(loc[0], loc[0]) if loc else ""
            msg = e["msg"].removeprefix("Value error, ")
            errs.append(CellError(row, name, msg))
        return None, errs


# --------------------------------------------------------------------------- importing


class _Offices:
    def __init__(self, session: Session, default: str | None) -> None:
        self.session = session
        self.default = default
        self._ids: dict[str, int | None] = {}

    def id(self, code: str | None) -> int | None:
        code = code or self.default
        if code is None:
            return None
        if code not in self._ids:
            o = self.session.exec(select(Office).where(Office.code == code)).first()
            self._ids[code] = o.id if o else None
        return self._ids[code]


def import_rows(
    session: Session,
    actor: Actor,
    kind: Kind,
    header: list[str],
    body: Iterable[list[Any]],
    *,
    office: str | None = None,
    source: str = "file",
    only_office: int | None = None,
) -> ImportReport:
    """Check every row, then create every record, in ``session`` (the caller commits).

    ``only_office`` (a caseworker's office): a row naming another office is an error,
    found before any check that could tell anything about that office's records.

    Raises :class:`ImportFailed` with every error found, having written nothing that the
    caller's rollback would not undo.
    """
    if kind not in KINDS:
        raise ImportFailed(
            source, [CellError(0, "", f"unknown kind {kind!r} (one of: {', '.join(KINDS)})")]
        )
    errors = _check_header(kind, header)
    if errors:
        raise ImportFailed(source, errors)
    rows = rows_of(header, body)
    if not rows:
        raise ImportFailed(source, [CellError(0, "", "no rows under the header")])
    if len(rows) > MAX_ROWS:
        raise ImportTooLarge(source, [CellError(0, "", f"more than {MAX_ROWS} rows: split it")])
    offices = _Offices(session, office)
    columns = {c.field: c.name for c in COLUMNS[kind] if c.field}
    parsed: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for row, cells in rows:
        data, extra, errs = _parse_row(kind, row, cells)
        errors += errs
        for place in PLACE_COLUMNS:  # checked now, with the rest, not after the others
            if data.get(place):
                try:
                    records.resolve_municipality(place, data[place])
                except records.RecordError as exc:
                    errors.append(CellError(row, place, exc.message))
        office_id = offices.id(extra.get("office"))
        if office_id is None:
            given = extra.get("office") or office
            errors.append(
                CellError(
                    row,
                    "office",
                    f"no office {given!r}" if given else "required (or give a default office)",
                )
            )
        elif only_office is not None and office_id != only_office:
            errors.append(CellError(row, "office", OTHER_OFFICE))
        parsed.append((row, data, extra))
    if kind == "flats":
        build = _group_flats(parsed, columns, errors)
    else:
        model = BeneficiaryCreate if kind == "beneficiaries" else DwellingCreate
        build = []
        for row, data, extra in parsed:
            if kind == "dwellings" and extra.get("landlord"):
                data["landlord_ref"] = "pending"  # resolved below, once the row is valid
            obj, errs = _schema_errors(model, data, row, columns)
            errors += errs
            build.append((row, obj, extra))
    errors = _without_echoes(errors)
    if kind == "beneficiaries" and not errors:
        errors += _duplicates(
            session, [(r, offices.id(x.get("office")), o) for r, o, x in build if o is not None]
        )
    if errors:
        raise ImportFailed(source, errors)
    refs: list[str] = []
    landlords: dict[tuple[int, str], str] = {}
    for row, obj, extra in build:
        office_id = offices.id(extra.get("office"))
        assert office_id is not None and obj is not None
        try:
            if kind != "beneficiaries" and extra.get("landlord"):
                ref = _landlord(session, actor, office_id, extra["landlord"], landlords)
                obj = obj.model_copy(update={"landlord_ref": ref})
            create = _CREATE[kind]
            created = create(session, actor, office_id, obj)
            refs.append(created.ref)
        except records.RecordError as exc:
            errors.append(CellError(row, columns.get(exc.field, exc.field), exc.message))
    if errors:
        raise ImportFailed(source, errors)
    record(session, actor, "import", kind, None, detail={"rows": len(rows), "created": len(refs)})
    return ImportReport(kind=kind, rows=len(rows), refs=refs)


def _without_echoes(errors: list[CellError]) -> list[CellError]:
    """Drop the schema's "missing" error for a cell whose own value was already refused."""
    refused = {(e.row, e.column) for e in errors if e.message != "Field required"}
    return [e for e in errors if e.message != "Field required" or (e.row, e.column) not in refused]


_CREATE: dict[Kind, Callable[..., Any]] = {
    "beneficiaries": records.create_beneficiary,
    "dwellings": records.create_dwelling,
    "flats": records.create_shared_flat,
}


def _landlord(
    session: Session, actor: Actor, office_id: int, name: str, cache: dict[tuple[int, str], str]
) -> str:
    key = (office_id, name.strip().casefold())
    if key not in cache:
        found = next(
            (
                x
                for x in session.exec(select(Landlord).where(Landlord.office_id == office_id))
                if x.name.strip().casefold() == key[1]
            ),
            None,
        )
        if found is None:
            found = records.create_landlord(session, actor, office_id, LandlordCreate(name=name))
        cache[key] = found.ref
    return cache[key]


def _group_flats(
    parsed: list[tuple[int, dict[str, Any], dict[str, Any]]],
    columns: Mapping[str, str],
    errors: list[CellError],
) -> list[tuple[int, Any, dict[str, Any]]]:
    """One flat per ``flat`` key, one room per row; flat columns must agree across rows."""
    groups: dict[str, list[tuple[int, dict[str, Any], dict[str, Any]]]] = {}
    for row, data, extra in parsed:
        groups.setdefault(str(extra.get("flat", f"row {row}")), []).append((row, data, extra))
    out: list[tuple[int, Any, dict[str, Any]]] = []
    for rows in groups.values():
        first_row, first, first_extra = rows[0]
        for row, data, extra in rows[1:]:
            for name in _FLAT_FIELDS:
                key = next((f for f, c in columns.items() if c == name), name)
                a = first.get(key, first_extra.get(name))
                b = data.get(key, extra.get(name))
                if b is not None and a != b:
                    errors.append(
                        CellError(
                            row, name, f"differs from row {first_row} of the same flat ({a!r})"
                        )
                    )
        data = dict(first)
        data["rooms"] = [
            {"name": str(extra.get("room") or ""), "beds": extra.get("beds")}
            for _, _, extra in rows
        ]
        if first_extra.get("landlord"):
            data["landlord_ref"] = "pending"
        obj, errs = _schema_errors(SharedFlatCreate, data, first_row, {**columns, "rooms": "beds"})
        errors += errs
        out.append((first_row, obj, first_extra))
    return out


def _duplicates(
    session: Session, rows: list[tuple[int, int | None, BeneficiaryCreate]]
) -> list[CellError]:
    """The same person twice in the file, or already registered, *in the same office*
    (:mod:`agency.identity`): nothing is ever said about another office's records."""
    errors = []
    seen: dict[tuple[int | None, str], int] = {}
    for row, office_id, b in rows:
        key = identity.identity_key(b.given_name, b.family_name, b.birth_date)
        if key is None:
            continue
        if (office_id, key) in seen:
            errors.append(
                CellError(row, "given_name", f"the same person as row {seen[(office_id, key)]}")
            )
        seen.setdefault((office_id, key), row)
    if seen:
        keys = sorted({k for _, k in seen})
        for known_office, known_key, ref in session.exec(
            select(Beneficiary.office_id, Beneficiary.identity_key, Beneficiary.ref).where(
                col(Beneficiary.identity_key).in_(keys)
            )
        ).all():
            first = seen.get((known_office, known_key or ""))
            if first is not None:
                errors.append(
                    CellError(first, "given_name", f"already registered in this office as {ref}")
                )
    return errors


def import_file(
    engine: Engine, actor: Actor, kind: Kind, path: str | Path, *, office: str | None = None
) -> ImportReport:
    """Import a CSV or XLSX file in one transaction: all its rows, or none.

    The file is read before the transaction begins; the transaction takes the write lock
    at once (SQLite), so two imports of one file at once meet on it, and the second finds
    the first's records (PostgreSQL: on the unique index).
    """
    header, body = read_table(path)
    with write_session(engine) as session:
        return import_rows(
            session, actor, kind, header, body, office=office, source=Path(path).name
        )


# --------------------------------------------------------------------------- exporting

EXPORT_COLUMNS = (
    "round",
    "beneficiary",
    "family_name",
    "given_name",
    "persons",
    "outcome",
    "unit_kind",
    "unit",
    "address",
    "municipality",
    "room",
    "fund",
    "contribution_eur",
    "contribution_cents",
    "commute_km",
    "months",
    "stay",
    "line",
    "offer",
    "reasons",
)
"""The export's columns: every household of the round, placed or not."""
NUMERIC = {"persons", "contribution_eur", "contribution_cents", "commute_km", "months"}


@dataclass(frozen=True)
class ExportWords:
    """The words of an export: its columns' headers, its values' names (an outcome, a kind
    of unit, an offer's state), the reasons' texts and how a room is called."""

    headers: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, str] = field(default_factory=dict)
    reasons: Mapping[str, str] = field(default_factory=dict)
    room: str = "room {name}"
    sheet: str = "round"

    def header(self, column: str) -> str:
        return self.headers.get(column, column)

    def value(self, value: str) -> str:
        return self.values.get(value, value)


def placements(
    session: Session, round_id: int, words: ExportWords | None = None
) -> list[dict[str, Any]]:
    """A round's households, one dict each: the placed with their current proposal and
    offer, then the left out with their reasons. Rooms are named as on the pages (by name,
    else by their number in the flat)."""
    words = words or ExportWords()
    r = session.get(Round, round_id)
    if r is None:
        raise LookupError(f"round {round_id}: no such round")
    offers: dict[int | None, Offer] = {
        o.proposal_id: o for o in session.exec(select(Offer).where(Offer.round_id == round_id))
    }
    funds = dict(session.exec(select(Fund.id, Fund.code)).all())
    lines = dict(session.exec(select(ShuttleLine.id, ShuttleLine.ref)).all())
    _homes, room_names = round_homes(session, r)
    people = {
        b.ref: b
        for b in session.exec(
            select(Beneficiary).where(col(Beneficiary.ref).in_(list(round_people(session, r))))
        )
    }
    out = []
    placed: set[int] = set()
    for p in session.exec(
        select(Proposal)
        .where(Proposal.round_id == round_id, col(Proposal.current).is_(True))
        .order_by(col(Proposal.id))
    ):
        b = session.get(Beneficiary, p.beneficiary_id)
        assert b is not None and b.id is not None
        placed.add(b.id)
        unit: Dwelling | SharedFlat | None = (
            session.get(Dwelling, p.dwelling_id)
            if p.dwelling_id
            else session.get(SharedFlat, p.flat_id)
        )
        assert unit is not None
        room = session.get(Room, p.room_id) if p.room_id else None
        offer = offers.get(p.id)
        out.append(
            {
                "round": r.ref,
                "beneficiary": b.ref,
                "family_name": b.family_name,
                "given_name": b.given_name,
                "persons": b.persons,
                "outcome": words.value("placed"),
                "unit_kind": words.value("dwelling" if p.dwelling_id else "bed"),
                "unit": unit.ref,
                "address": unit.address,
                "municipality": records.municipality_name(unit.municipality),
                "room": words.room.format(name=room_names.get(room.ref, room.name)) if room else "",
                "fund": funds.get(p.fund_id, "") if p.fund_id is not None else "",
                "contribution_eur": Decimal(p.contribution_cents) / 100,
                "contribution_cents": p.contribution_cents,
                "commute_km": round(Decimal(str(p.commute_km)), 1),
                "months": p.months,
                "stay": f"{p.stay_from}..{p.stay_to}" if p.stay_from else "",
                "line": lines.get(p.line_id, "") if p.line_id is not None else "",
                "offer": words.value(f"offer.{offer.status}") if offer else "",
                "reasons": "",
            }
        )
    for u in (r.result or {}).get("unassigned", []):
        b = people.get(u["beneficiary"])
        if b is None or b.id in placed:
            continue
        out.append(
            {
                "round": r.ref,
                "beneficiary": b.ref,
                "family_name": b.family_name,
                "given_name": b.given_name,
                "persons": b.persons,
                "outcome": words.value("unplaced"),
                "unit_kind": "",
                "unit": "",
                "address": "",
                "municipality": "",
                "room": "",
                "fund": "",
                "contribution_eur": None,
                "contribution_cents": None,
                "commute_km": None,
                "months": None,
                "stay": "",
                "line": "",
                "offer": "",
                "reasons": "; ".join(words.reasons.get(c, c) for c in u["reasons"]),
            }
        )
    return out


def _csv_cell(value: Any) -> Any:
    """A cell for Italian office software: a decimal comma."""
    if value is None:
        return ""
    if isinstance(value, Decimal | float):
        return str(value).replace(".", ",")
    return value


XLSX_FORMATS = {
    "contribution_eur": '#,##0.00 "€"',
    "commute_km": "0.0",
    "contribution_cents": "0",
    "persons": "0",
    "months": "0",
}
"""The number format of each numeric column of the XLSX export."""


def export_placements(
    session: Session, round_id: int, fmt: Literal["csv", "xlsx"], words: ExportWords | None = None
) -> bytes:
    """A round's households, placed and left out, for Italian office software: CSV with
    ``;`` between cells, a decimal comma and a byte-order mark (Excel then reads UTF-8), or
    XLSX with numbers in numeric cells (euros formatted as euros); no text cell can run
    as a formula (:mod:`sheets.cells`)."""
    words = words or ExportWords()
    rows = placements(session, round_id, words)
    header = [words.header(c) for c in EXPORT_COLUMNS]
    if fmt == "csv":
        return sheets.csv_bytes(
            header, [[_csv_cell(row[c]) for c in EXPORT_COLUMNS] for row in rows], delimiter=";"
        )
    if fmt == "xlsx":
        cells = [
            [
                (float(row[c]) if c not in ("contribution_cents", "persons") else int(row[c]))
                if c in NUMERIC and row[c] is not None
                else row[c]
                for c in EXPORT_COLUMNS
            ]
            for row in rows
        ]
        return sheets.xlsx_bytes(
            [(words.sheet, header, cells)],
            number_formats=[XLSX_FORMATS.get(c) for c in EXPORT_COLUMNS],
        )
    raise ValueError(f"fmt: must be 'csv' or 'xlsx', got {fmt!r}")
