"""What every kind of record shares: pages, searches, the checked input, the office a
record belongs to, status changes and places."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, or_
from sqlmodel import Session, select

from agency.audit import Actor, record
from agency.errors import NotFoundError, RecordError
from agency.models import Office
from places import gazetteer

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S", bound=StrEnum)
M = TypeVar("M", bound=BaseModel)

MAX_PAGE = 200
"""The largest page a list returns."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and how many records the whole list holds."""

    items: list[T]
    total: int
    limit: int
    offset: int


def page_of(
    session: Session, table: Any, conds: list[Any], order: tuple[Any, ...], limit: int, offset: int
) -> Page[Any]:
    """One page of ``table``'s rows meeting ``conds`` in ``order``, with their total.

    Raises
    ------
    RecordError
        When ``limit`` is not between 1 and :data:`MAX_PAGE`, or ``offset`` is negative.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise RecordError("limit", f"must be between 1 and {MAX_PAGE}, got {limit}")
    if offset < 0:
        raise RecordError("offset", f"must be 0 or more, got {offset}")
    query = select(table).where(*conds).order_by(*order)
    count = select(func.count()).select_from(table).where(*conds)
    total = int(session.exec(count).one())
    items = list(session.exec(query.offset(offset).limit(limit)))
    return Page(items=items, total=total, limit=limit, offset=offset)


def search(q: str | None, *columns: Any) -> Any:
    """A case-insensitive "contains ``q``" on any of ``columns`` (None when ``q`` is blank)."""
    if not q or not q.strip():
        return None
    pattern = "%" + q.strip().lower().replace("%", r"\%").replace("_", r"\_") + "%"
    return or_(*(func.lower(c).like(pattern, escape="\\") for c in columns))


def now() -> datetime:
    return datetime.now(UTC)


def checked(model: type[M], data: Mapping[str, Any]) -> M:
    """``model`` checked from ``data``: the first error as a :class:`RecordError`.

    A text that does not match its pattern is explained by the field's description when
    it has one (``username: 2 to 64 lowercase letters...``).
    """
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        info = model.model_fields.get(field)
        if err["type"] == "string_pattern_mismatch" and info is not None and info.description:
            raise RecordError(field, info.description) from None
        raise RecordError(field, err["msg"]) from None


def office_of(session: Session, office_id: int) -> Office:
    """The office a new record goes to (a :class:`RecordError` when there is none)."""
    office = session.get(Office, office_id)
    if office is None:
        raise RecordError("office_id", f"no office with id {office_id}")
    return office


def in_office(session: Session, table: type[R], entity: str, ref: str, scope: int | None) -> R:
    """The record of ``table`` with ``ref``, if it lies within the caller's office.

    ``scope`` is the caller's office (None: every office). A record of another office is
    not found, exactly as a missing one, with ``denied`` set so the caller may log it.
    """
    found: Any = session.exec(select(table).where(table.ref == ref)).first()  # type: ignore[attr-defined]
    if found is None:
        raise NotFoundError(entity, ref)
    if scope is not None and found.office_id != scope:
        raise NotFoundError(entity, ref, denied=True)
    result: R = found
    return result


def status_of(kind: type[S], value: S | str) -> S:
    """``value`` as a status of ``kind`` (a :class:`RecordError` naming ``status``)."""
    try:
        return kind(value)
    except ValueError:
        raise RecordError("status", f"unknown status {value!r}") from None


def change_status(
    session: Session,
    actor: Actor,
    row: Any,
    entity: str,
    target: StrEnum,
) -> str:
    """Set ``row``'s status to ``target`` and log it as ``<entity>.status``, from and to
    (flushed); returns the status it had."""
    before = str(row.status)
    row.status = target
    session.add(row)
    session.flush()
    record(
        session,
        actor,
        f"{entity}.status",
        entity,
        row.ref,
        detail={"from": before, "to": target.value},
    )
    return before


def resolve_municipality(field: str, value: str) -> tuple[str, float, float]:
    """``(ISTAT code, lat, lon)`` of a municipality of Puglia given by name or code."""
    try:
        m = gazetteer.find(value)
    except KeyError as exc:
        raise RecordError(field, str(exc.args[0])) from None
    return m.istat_code, m.lat, m.lon


def municipality_name(code: str | None) -> str:
    """The municipality's official name for an ISTAT code (the code itself if unknown)."""
    if not code:
        return ""
    try:
        return gazetteer.load().by_code(code).name
    except KeyError:
        return code
