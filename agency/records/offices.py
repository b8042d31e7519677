"""Offices: the units whose caseworkers share their cases."""

from __future__ import annotations

from sqlmodel import Session, col, select

from agency.audit import Actor, record
from agency.errors import DuplicateError, NotFoundError
from agency.models import Office
from agency.records.common import checked
from agency.schemas import OfficeCreate


def create_office(
    session: Session, actor: Actor, code: str, name: str, province: str | None = None
) -> Office:
    """A new office (the unit whose caseworkers share their cases)."""
    data = checked(OfficeCreate, {"code": code, "name": name, "province": province})
    if session.exec(select(Office).where(Office.code == data.code)).first() is not None:
        raise DuplicateError("code", f"an office with code {data.code!r} exists")
    office = Office(**data.model_dump())
    session.add(office)
    session.flush()
    record(session, actor, "office.create", "office", office.code)
    return office


def office_by_code(session: Session, code: str) -> Office:
    office = session.exec(select(Office).where(Office.code == code)).first()
    if office is None:
        raise NotFoundError("office", code)
    return office


def list_offices(session: Session) -> list[Office]:
    return list(session.exec(select(Office).order_by(col(Office.code))))
