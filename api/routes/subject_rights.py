"""A person's rights over their data (admins, who answer the agency's data requests):
everything held about a household (GDPR Art. 15), and its erasure as a pseudonym
(Art. 17) keeping the ledger's amounts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StringConstraints

from agency import subject_rights
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.routes.common import ERRORS

router = APIRouter(prefix="/beneficiaries", tags=["subject rights"], responses=ERRORS)

Officer = Annotated[Principal, require(perms.SUBJECT_RIGHTS)]


class ErasureBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[str, StringConstraints(min_length=1, max_length=64)]


@router.get("/{ref}/subject-access")
def subject_access(me: Officer, session: SessionDep, ref: str) -> JSONResponse:
    """Everything held about the household: record, members, case history, rounds (its
    snapshot entries, proposals, decisions, offers), leases, ledger lines, audit lines."""
    data: dict[str, Any] = subject_rights.subject_access(session, me.actor, ref, scope=me.scope)
    return JSONResponse(
        data, headers={"Content-Disposition": f'attachment; filename="{ref}-subject-access.json"'}
    )


@router.post("/{ref}/pseudonymise")
def pseudonymise(me: Officer, session: SessionDep, ref: str, body: ErasureBody) -> dict[str, str]:
    """Erase the household's identity: it becomes its ref; leases and the ledger's
    amounts stay (422 while it holds an active lease or awaits an offer's answer)."""
    b = subject_rights.pseudonymise(session, me.actor, ref, body.reason, scope=me.scope)
    return {
        "ref": b.ref,
        "status": str(b.status),
        "pseudonymised_at": b.pseudonymised_at.isoformat() if b.pseudonymised_at else "",
    }
