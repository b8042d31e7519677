"""The audit log (auditors and admins)."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

import sheets
from agency import records
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.models import AuditPublic
from api.pagination import Paged, PageDep

router = APIRouter(prefix="/audit", tags=["audit"])

Auditor = Annotated[Principal, require(perms.AUDIT_READ)]
EXPORT_COLUMNS = ("id", "at", "actor", "action", "entity", "entity_ref", "outcome", "detail")
EXPORT_MAX = 10_000


@router.get("")
def audit_log(
    me: Auditor,
    session: SessionDep,
    page: PageDep,
    entity_ref: Annotated[str | None, Query(max_length=32)] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    outcome: Annotated[str | None, Query(max_length=16)] = None,
) -> Paged[AuditPublic]:
    """Who did what to which record, when, and the outcome: newest first."""
    got = records.audit_page(
        session,
        me.actor,
        entity_ref=entity_ref,
        action=action,
        outcome=outcome,
        limit=page.limit,
        offset=page.offset,
    )
    return Paged[AuditPublic](
        items=[AuditPublic.model_validate(e) for e in got.items],
        total=got.total,
        limit=got.limit,
        offset=got.offset,
    )


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
def audit_export(
    me: Auditor,
    session: SessionDep,
    entity_ref: Annotated[str | None, Query(max_length=32)] = None,
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:
    """The newest 10,000 entries (of one record, if named) as CSV or XLSX; no text cell
    can run as a formula."""
    rows = [
        [
            e.id,
            e.at.isoformat(),
            e.actor,
            e.action,
            e.entity,
            e.entity_ref or "",
            e.outcome,
            json.dumps(e.detail, sort_keys=True),
        ]
        for e in records.audit_export(
            session, me.actor, entity_ref=entity_ref, limit=EXPORT_MAX, fmt=format
        )
    ]
    if format == "xlsx":
        data = sheets.xlsx_bytes([("audit", EXPORT_COLUMNS, rows)])
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        data, media = sheets.csv_bytes(EXPORT_COLUMNS, rows), "text/csv; charset=utf-8"
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit.{format}"'},
    )
