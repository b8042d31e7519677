"""The priority policy audited (``/priority``): how each component of the agency's
priority file falls across groups of the households waiting, aggregates only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRouter

from agency.priority import PolicyError, PriorityPolicy
from agency.priority_audit import COMPONENTS, priority_audit
from api import permissions as perms
from api.deps import Principal, SessionDep, page
from api.pages.common import render

router = APIRouter()

Auditor = Annotated[Principal, page(perms.PRIORITY_AUDIT)]


@router.get("/priority")
def priority_page(request: Request, me: Auditor, session: SessionDep) -> Response:
    """The policy's points and, per group of the waiting list (the user's office, or all),
    each component's mean points and share; small groups as <5."""
    try:
        policy = PriorityPolicy.load()
    except (PolicyError, OSError) as exc:
        return render(request, "priority.html", {"error": str(exc), "audit": None}, 500)
    audited = priority_audit(session, me.scope, policy)
    found = audited.to_dict()
    by_dim: dict[str, list[dict[str, object]]] = {}
    for g in found["groups"]:
        by_dim.setdefault(str(g["dimension"]), []).append(g)
    return render(
        request,
        "priority.html",
        {
            "audit": found,
            "on": audited.on,
            "by_dim": by_dim,
            "components": COMPONENTS,
            "error": None,
        },
    )
