"""Importing the spreadsheet templates from the browser: upload a CSV or XLSX file, see
every error by row and column (nothing is written), or how many records it holds, and
confirm. The file is checked whole again when confirmed, in one transaction: all its rows,
or none."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from agency import imports, records
from agency.models import Office
from api import permissions as perms
from api.deps import Principal, SessionDep, page
from api.i18n import Translator
from api.pages.common import FormDep, render, text, translator
from api.routes.imports import MAX_FILE_BYTES

router = APIRouter()

Importer = Annotated[Principal, page(perms.BENEFICIARIES_WRITE)]
KIND_PERMISSION = {
    "beneficiaries": perms.BENEFICIARIES_WRITE,
    "dwellings": perms.UNITS_WRITE,
    "flats": perms.UNITS_WRITE,
}
LISTS = {"beneficiaries": "/beneficiaries", "dwellings": "/dwellings", "flats": "/flats"}
SUFFIXES = (".csv", ".xlsx")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _folder() -> Path:
    folder = Path(tempfile.gettempdir()) / "housing-imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^required, but empty$"), "import.error.empty"),
    (re.compile(r"^required column missing$"), "import.error.column_missing"),
    (re.compile(r"^unknown column"), "import.error.unknown_column"),
    (re.compile(r"^column given twice$"), "import.error.twice"),
    (re.compile(r"^must be a whole number"), "error.type.int_parsing"),
    (re.compile(r"^must be a (finite )?number"), "error.type.float_parsing"),
    (re.compile(r"^at most two decimals"), "error.type.cents"),
    (re.compile(r"^must be a date"), "error.type.date_parsing"),
    (re.compile(r"^must be yes/no"), "error.type.bool_parsing"),
    (re.compile(r"^already registered as (?P<ref>B-\w+)"), "import.error.registered"),
    (re.compile(r"^the same person as row (?P<row>\d+)"), "import.error.same_person"),
    (
        re.compile(
            r"^no (municipality|place)|not a municipality|unknown municipality", re.IGNORECASE
        ),
        "import.error.municipality",
    ),
    (re.compile(r"^no office (?P<office>.+)$"), "import.error.office"),
    (re.compile(r"^Field required$"), "error.type.missing"),
    (re.compile(r"^the file is empty$"), "import.error.empty_file"),
    (re.compile(r"^no rows under the header$"), "import.error.no_rows"),
    (
        re.compile(
            r"^unreadable$|^not an XLSX file|^the workbook cannot be read|"
            r"^the sheet cannot be read|^the file is neither UTF-8|NUL character|"
            r"not valid CSV"
        ),
        "import.error.unreadable",
    ),
    (
        re.compile(
            r"^the file is larger than|^more than \d+ (rows|columns)|"
            r"^the workbook (holds more|unpacks to)"
        ),
        "import.error.too_big",
    ),
    (re.compile("^" + re.escape(imports.OTHER_OFFICE) + "$"), "import.error.other_office"),
]
"""The importer's messages in the page's language (others are shown as they are)."""


def message(t: Translator, raw: str) -> str:
    for pattern, key in MESSAGES:
        found = pattern.search(raw)
        if found:
            return t(key, **found.groupdict())
    return raw


def _page(request: Request, session: Session, me: Principal, **context: Any) -> Response:
    status = int(context.pop("status", 200))
    kinds = [k for k in imports.KINDS if me.can(KIND_PERMISSION[k])]
    return render(
        request,
        "imports.html",
        {
            "kinds": kinds,
            "offices": records.list_offices(session) if me.scope is None else [],
            "kind": None,
            "errors": [],
            "report": None,
            "token": None,
            "problem": None,
            "columns": {k: [c.name for c in imports.COLUMNS[k]] for k in kinds},
            **context,
        },
        status,
    )


@router.get("/imports")
def import_form(request: Request, me: Importer, session: SessionDep) -> Response:
    return _page(request, session, me)


def _office(session: Session, me: Principal, code: str | None) -> str | None:
    if me.scope is not None:  # a caseworker imports into their own office only
        own = session.get(Office, me.scope)
        assert own is not None
        return own.code
    return code


def _check(
    session: Session, me: Principal, kind: imports.Kind, path: Path, name: str, office: str | None
) -> tuple[imports.ImportReport | None, list[imports.CellError]]:
    """Import the file in a savepoint and undo it: what it would create, or every error."""
    # the file is read with no transaction open: on SQLite the database's queue is not
    # held while a spreadsheet is parsed
    session.commit()
    try:
        header, body = read(path, name)
    except imports.ImportFailed as exc:
        return None, exc.errors
    savepoint = session.begin_nested()
    try:
        report = imports.import_rows(
            session, me.actor, kind, header, body, office=office, source=name, only_office=me.scope
        )
        return report, []
    except imports.ImportFailed as exc:
        return None, exc.errors
    finally:
        savepoint.rollback()


def read(path: Path, name: str) -> tuple[list[str], list[list[Any]]]:
    """The file's header and rows; a file that cannot be read is an import error."""
    try:
        return imports.read_table(path)
    except imports.ImportFailed:
        raise
    except (zipfile.BadZipFile, UnicodeDecodeError, KeyError, ValueError, OSError):
        raise imports.ImportFailed(name, [imports.CellError(0, "", "unreadable")]) from None


@router.post("/imports")
def upload(request: Request, form: FormDep, me: Importer, session: SessionDep) -> Response:
    """Check an uploaded file: every error by row and column, or what it will create."""
    t = translator(request)
    kind = text(form, "kind")
    upload = form.get("file")
    if kind not in imports.KINDS or not me.can(KIND_PERMISSION[kind]):
        return _page(request, session, me, problem=t("import.choose_kind"), status=422)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, session, me, kind=kind, problem=t("import.choose_file"), status=422)
    name = Path(upload.filename).name[:100]
    suffix = Path(name).suffix.lower()
    raw = upload.file.read(MAX_FILE_BYTES + 1)
    if suffix not in SUFFIXES:
        return _page(
            request, session, me, kind=kind, problem=t("import.not_a_template"), status=422
        )
    if len(raw) > MAX_FILE_BYTES:
        return _page(
            request,
            session,
            me,
            kind=kind,
            status=413,
            problem=t("import.too_large", mb=MAX_FILE_BYTES // (1024 * 1024)),
        )
    token = secrets.token_urlsafe(24)
    folder = _folder() / token
    folder.mkdir(mode=0o700)
    path = folder / f"upload{suffix}"
    path.write_bytes(raw)
    office = _office(session, me, text(form, "office"))
    (folder / "meta.json").write_text(
        json.dumps({"user": me.user_id, "kind": kind, "name": name, "office": office})
    )
    report, errors = _check(session, me, kind, path, name, office)
    if errors:
        shutil.rmtree(folder, ignore_errors=True)
        shown = [
            (e.row, e.column, message(t, e.message)) for e in errors[: imports.MAX_ERRORS_SHOWN]
        ]
        return _page(
            request,
            session,
            me,
            kind=kind,
            name=name,
            errors=shown,
            more=max(0, len(errors) - len(shown)),
            status=422,
        )
    return _page(request, session, me, kind=kind, name=name, report=report, token=token)


def _stored(me: Principal, token: str) -> tuple[Path, dict[str, Any]] | None:
    if not TOKEN.match(token):
        return None
    folder = _folder() / token
    try:
        meta: dict[str, Any] = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    if meta.get("user") != me.user_id:
        return None
    files = [p for p in folder.iterdir() if p.name.startswith("upload")]
    return (files[0], meta) if files else None


@router.post("/imports/{token}/confirm")
def confirm(
    request: Request, form: FormDep, me: Importer, session: SessionDep, token: str
) -> Response:
    """Import the checked file: all its rows, or none."""
    t = translator(request)
    stored = _stored(me, token)
    if stored is None:
        return _page(request, session, me, problem=t("import.expired"), status=404)
    path, meta = stored
    kind: imports.Kind = meta["kind"]
    if not me.can(KIND_PERMISSION[kind]):
        return _page(request, session, me, problem=t("import.choose_kind"), status=403)
    session.commit()
    try:
        header, body = read(path, meta["name"])
        report = imports.import_rows(
            session,
            me.actor,
            kind,
            header,
            body,
            office=meta.get("office"),
            source=meta["name"],
            only_office=me.scope,
        )
    except imports.ImportFailed as exc:
        session.rollback()
        shown = [
            (e.row, e.column, message(t, e.message)) for e in exc.errors[: imports.MAX_ERRORS_SHOWN]
        ]
        return _page(request, session, me, kind=kind, name=meta["name"], errors=shown, status=422)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    return _page(
        request, session, me, kind=kind, name=meta["name"], done=report, list_url=LISTS[kind]
    )
