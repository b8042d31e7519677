"""Reports to funders and the municipality: aggregates of a period, small counts hidden."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlmodel import Session

from agency.models import Office
from agency.reports import build_report, report_pdf, report_xlsx
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.routes.common import ERRORS

router = APIRouter(prefix="/reports", tags=["reports"], responses=ERRORS)

Reader = Annotated[Principal, require(perms.REPORTS_READ)]
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def office_for(session: Session, me: Principal, office: str | None) -> str | None:
    """A caseworker reports on their own office only; others name one, or none (all)."""
    if me.scope is not None:
        own = session.get(Office, me.scope)
        return own.code if own else None
    return office


def report_response(
    session: Session,
    me: Principal,
    start: date,
    end: date,
    office: str | None,
    lang: str,
    fmt: str,
) -> Any:
    r = build_report(session, start, end, office_for(session, me, office))
    if fmt == "json":
        return r.to_dict()
    data = report_xlsx(r, lang) if fmt == "xlsx" else report_pdf(r, lang)
    name = f"report-{r.office or 'all'}-{start.isoformat()}-{end.isoformat()}.{fmt}"
    return Response(
        data,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("")
def get_report(
    me: Reader,
    session: SessionDep,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
    office: Annotated[str | None, Query(max_length=32)] = None,
    lang: Literal["it", "en"] = "en",
    format: Literal["json", "xlsx", "pdf"] = "json",
) -> Any:
    """The report of a period (``from``..``to``, both included), for an office or all (a
    caseworker: their own office), as JSON, XLSX or PDF."""
    return report_response(session, me, start, end, office, lang, format)
