"""Importing records from a spreadsheet (the CSV/XLSX templates of
``agency/data/templates``): every row, or none with every problem by row and column."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from agency import imports
from agency.models import Beneficiary, Dwelling, Office, SharedFlat
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.errors import ApiError
from api.routes.common import ERRORS

router = APIRouter(prefix="/imports", tags=["imports"], responses=ERRORS)

MAX_FILE_BYTES = 8 * 1024 * 1024
MODELS: dict[str, Any] = {"beneficiaries": Beneficiary, "dwellings": Dwelling,
                          "flats": SharedFlat}


class ImportPublic(BaseModel):
    kind: str
    rows: int
    refs: list[str]


def _import(session: Session, me: Principal, kind: imports.Kind, path: Path, source: str,
            office: str | None) -> ImportPublic:
    if me.scope is not None:  # a caseworker imports into their own office only
        own = session.get(Office, me.scope)
        assert own is not None
        if office not in (None, own.code):
            raise ApiError(403, "you may only import into your own office")
        office = own.code
    try:
        header, body = imports.read_table(path)
        report = imports.import_rows(session, me.actor, kind, header, body, office=office,
                                     source=source)
    except imports.ImportFailed as exc:
        session.rollback()
        raise ApiError(422, f"{source}: {len(exc.errors)} error(s), nothing imported", fields=[
            {"field": f"row {e.row}, {e.column}" if e.row else (e.column or "file"),
             "message": e.message} for e in exc.errors[:imports.MAX_ERRORS_SHOWN]]) from None
    if me.scope is not None and report.refs:  # rows may name an office: never another's
        model = MODELS[kind]
        offices = set(session.exec(select(model.office_id).where(
            model.ref.in_(report.refs))).all())
        if offices - {me.scope}:
            session.rollback()
            raise ApiError(403, "the file names another office: you may only import into "
                                "your own")
    return ImportPublic(kind=report.kind, rows=report.rows, refs=report.refs)


async def _upload(session: Session, me: Principal, kind: imports.Kind, file: UploadFile,
                  office: str | None) -> ImportPublic:
    raw = await file.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ApiError(413, f"a file to import is at most {MAX_FILE_BYTES} bytes")
    name = Path(file.filename or "upload.csv").name[:100]
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".txt", ".xlsx", ".xlsm"):
        raise ApiError(422, "the file must be .csv or .xlsx",
                       fields=[{"field": "file", "message": "not a .csv or .xlsx file"}])
    if suffix in (".csv", ".txt") and b"\x00" in raw:
        raise ApiError(422, "the file holds a NUL character: is it really CSV?",
                       fields=[{"field": "file", "message": "NUL character"}])
    with tempfile.TemporaryDirectory(prefix="housing-import-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(raw)
        return await run_in_threadpool(_import, session, me, kind, path, name, office)


OfficeCode = Annotated[str | None, Query(max_length=32, description="default office code")]
Upload = Annotated[UploadFile, File(description="the template filled in, CSV or XLSX")]


@router.post("/beneficiaries", status_code=201)
async def import_beneficiaries(me: Annotated[Principal, require(perms.BENEFICIARIES_WRITE)],
                               session: SessionDep, file: Upload,
                               office: OfficeCode = None) -> ImportPublic:
    """Households from the beneficiaries template: all rows, or none (422 with each
    problem by row and column)."""
    return await _upload(session, me, "beneficiaries", file, office)


@router.post("/dwellings", status_code=201)
async def import_dwellings(me: Annotated[Principal, require(perms.UNITS_WRITE)],
                           session: SessionDep, file: Upload,
                           office: OfficeCode = None) -> ImportPublic:
    """Dwellings (and their landlords) from the dwellings template."""
    return await _upload(session, me, "dwellings", file, office)


@router.post("/flats", status_code=201)
async def import_flats(me: Annotated[Principal, require(perms.UNITS_WRITE)],
                       session: SessionDep, file: Upload,
                       office: OfficeCode = None) -> ImportPublic:
    """Shared flats, one row per room, from the flats template."""
    return await _upload(session, me, "flats", file, office)
