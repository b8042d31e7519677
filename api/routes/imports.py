"""Importing records from a spreadsheet (the CSV/XLSX templates of
``agency/data/templates``): every row, or none with every problem by row and column."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from agency import imports
from agency.models import Office
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.errors import ApiError
from api.routes.common import ERRORS

router = APIRouter(prefix="/imports", tags=["imports"], responses=ERRORS)

MAX_FILE_BYTES = 8 * 1024 * 1024


class ImportPublic(BaseModel):
    kind: str
    rows: int
    refs: list[str]


def _failed(source: str, exc: imports.ImportFailed) -> ApiError:
    status = 413 if isinstance(exc, imports.ImportTooLarge) else 422
    return ApiError(
        status,
        f"{source}: {len(exc.errors)} error(s), nothing imported",
        fields=[
            {
                "field": f"row {e.row}, {e.column}" if e.row else (e.column or "file"),
                "message": e.message,
            }
            for e in exc.errors[: imports.MAX_ERRORS_SHOWN]
        ],
    )


def _import(
    session: Session,
    me: Principal,
    kind: imports.Kind,
    header: list[str],
    body: list[list[Any]],
    source: str,
    office: str | None,
) -> ImportPublic:
    if me.scope is not None:  # a caseworker imports into their own office only
        own = session.get(Office, me.scope)
        assert own is not None
        if office not in (None, own.code):
            raise ApiError(403, "you may only import into your own office")
        office = own.code
    try:
        report = imports.import_rows(
            session,
            me.actor,
            kind,
            header,
            body,
            office=office,
            source=source,
            only_office=me.scope,
        )
    except imports.ImportFailed as exc:
        session.rollback()
        if any(e.message == imports.OTHER_OFFICE for e in exc.errors):
            raise ApiError(
                403, "the file names another office: you may only import into your own"
            ) from None
        raise _failed(source, exc) from None
    return ImportPublic(kind=report.kind, rows=report.rows, refs=report.refs)


def _read(path: Path, source: str) -> tuple[list[str], list[list[Any]]]:
    try:
        return imports.read_table(path)
    except imports.ImportFailed as exc:
        raise _failed(source, exc) from None


async def _upload(
    session: Session, me: Principal, kind: imports.Kind, file: UploadFile, office: str | None
) -> ImportPublic:
    raw = await file.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ApiError(413, f"a file to import is at most {MAX_FILE_BYTES} bytes")
    name = Path(file.filename or "upload.csv").name[:100]
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".txt", ".xlsx", ".xlsm"):
        raise ApiError(
            422,
            "the file must be .csv or .xlsx",
            fields=[{"field": "file", "message": "not a .csv or .xlsx file"}],
        )
    # the file is read with no transaction open: on SQLite the database's queue is not
    # held while a stranger's spreadsheet is parsed
    await run_in_threadpool(session.commit)
    with tempfile.TemporaryDirectory(prefix="housing-import-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(raw)
        header, body = await run_in_threadpool(_read, path, name)
    return await run_in_threadpool(_import, session, me, kind, header, body, name, office)


OfficeCode = Annotated[str | None, Query(max_length=32, description="default office code")]
Upload = Annotated[UploadFile, File(description="the template filled in, CSV or XLSX")]


@router.post("/beneficiaries", status_code=201)
async def import_beneficiaries(
    me: Annotated[Principal, require(perms.BENEFICIARIES_WRITE)],
    session: SessionDep,
    file: Upload,
    office: OfficeCode = None,
) -> ImportPublic:
    """Households from the beneficiaries template: all rows, or none (422 with each
    problem by row and column)."""
    return await _upload(session, me, "beneficiaries", file, office)


@router.post("/dwellings", status_code=201)
async def import_dwellings(
    me: Annotated[Principal, require(perms.UNITS_WRITE)],
    session: SessionDep,
    file: Upload,
    office: OfficeCode = None,
) -> ImportPublic:
    """Dwellings (and their landlords) from the dwellings template."""
    return await _upload(session, me, "dwellings", file, office)


@router.post("/flats", status_code=201)
async def import_flats(
    me: Annotated[Principal, require(perms.UNITS_WRITE)],
    session: SessionDep,
    file: Upload,
    office: OfficeCode = None,
) -> ImportPublic:
    """Shared flats, one row per room, from the flats template."""
    return await _upload(session, me, "flats", file, office)
