"""The reports page: a period, an office (an admin's or a planner's choice; a caseworker's
own), a language and a format; the report is downloaded, or shown on the page."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from agency import records
from agency.errors import RecordError
from agency.reports import build_report, label
from api import permissions as perms
from api.deps import Principal, SessionDep, page
from api.pages.common import render, translator
from api.routes.reports import office_for, report_response

router = APIRouter()

Reader = Annotated[Principal, page(perms.REPORTS_READ)]
Day = Annotated[str | None, Query(max_length=10)]


def _day(text: str | None, default: date) -> date | None:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@router.get("/reports")
def reports_page(
    request: Request,
    me: Reader,
    session: SessionDep,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    office: Annotated[str | None, Query(max_length=32)] = None,
    format: Annotated[str | None, Query(max_length=4)] = None,
) -> Response:
    t = translator(request)
    today = date.today()
    first, last = _day(start, date(today.year, 1, 1)), _day(end, today)
    errors: dict[str, str] = {}
    if first is None:
        errors["from"] = t("error.type.date_parsing")
    if last is None:
        errors["to"] = t("error.type.date_parsing")
    shown: Any = None
    if first is not None and last is not None:
        if format in ("xlsx", "pdf"):
            try:
                resp: Response = report_response(
                    session, me, first, last, office or None, t.lang, format
                )
                return resp
            except RecordError as exc:
                errors[exc.field] = exc.message
        else:
            try:
                shown = build_report(session, first, last, office_for(session, me, office or None))
            except RecordError as exc:
                errors[exc.field] = exc.message
    sections = []
    if shown is not None:
        for s in shown.sections:
            head = [label("fund" if s.key == "money" else "item", t.lang)]
            head += [label(c, t.lang) for c in s.columns]
            rows = [
                [r[0] if s.key == "money" else label(str(r[0]), t.lang)]
                + [t.money(v) if s.money and isinstance(v, int) else v for v in r[1:]]
                for r in s.rows
            ]
            sections.append((label(s.key, t.lang), head, rows))
    return render(
        request,
        "reports.html",
        {
            "values": {
                "from": start or (first.isoformat() if first else ""),
                "to": end or (last.isoformat() if last else ""),
                "office": office or "",
            },
            "errors": errors,
            "offices": records.list_offices(session) if me.scope is None else [],
            "sections": sections,
            "notes": [label(n, t.lang) for n in shown.notes] if shown else [],
            "suppressed": label("suppressed", t.lang),
        },
        422 if errors else 200,
    )
