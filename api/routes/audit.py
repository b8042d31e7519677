"""The audit log (auditors and admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from agency import records
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.models import AuditPublic
from api.pagination import Paged, PageDep

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
def audit_log(me: Annotated[Principal, require(perms.AUDIT_READ)], session: SessionDep,
              page: PageDep,
              entity_ref: Annotated[str | None, Query(max_length=32)] = None,
              action: Annotated[str | None, Query(max_length=32)] = None,
              outcome: Annotated[str | None, Query(max_length=16)] = None
              ) -> Paged[AuditPublic]:
    """Who did what to which record, when, and the outcome: newest first."""
    got = records.audit_page(session, me.actor, entity_ref=entity_ref, action=action,
                             outcome=outcome, limit=page.limit, offset=page.offset)
    return Paged[AuditPublic](items=[AuditPublic.model_validate(e) for e in got.items],
                              total=got.total, limit=got.limit, offset=got.offset)
