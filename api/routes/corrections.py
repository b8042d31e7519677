"""Corrections: reversing a fund's grant (the ledger stays append-only), cancelling a
round that cannot or should not close."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StringConstraints

from agency import corrections, records, round_control
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.models import RoundSummary
from api.pagination import Id
from api.routes.common import ERRORS

router = APIRouter(responses=ERRORS)


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class LedgerEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    kind: str
    amount_cents: int
    round_id: int | None
    lease_id: int | None
    reverses_id: int | None
    note: str | None


@router.get("/funds/{code}/ledger", tags=["funds"])
def fund_ledger(
    me: Annotated[Principal, require(perms.FUNDS_READ)], session: SessionDep, code: str
) -> list[LedgerEntryPublic]:
    """Every movement of the fund, oldest first (amounts in cents, signed)."""
    return [LedgerEntryPublic.model_validate(e) for e in corrections.entries(session, code)]


@router.post("/funds/{code}/ledger/{entry_id}/reverse", status_code=201, tags=["funds"])
def reverse_entry(
    me: Annotated[Principal, require(perms.FUNDS_WRITE)],
    session: SessionDep,
    code: str,
    entry_id: Id,
    body: ReasonBody,
) -> LedgerEntryPublic:
    """Reverse a grant: an adjustment of the opposite amount naming it, once (422 if it
    would take the fund below zero, 409 if already reversed)."""
    return LedgerEntryPublic.model_validate(
        corrections.reverse_entry(session, me.actor, code, entry_id, body.note)
    )


@router.post("/rounds/{ref}/cancel", tags=["rounds"])
def cancel_round(
    me: Annotated[Principal, require(perms.ROUNDS_WRITE)],
    session: SessionDep,
    ref: str,
    body: ReasonBody,
) -> RoundSummary:
    """Cancel a round under way: pending offers withdrawn, their households waiting again,
    nothing in the ledger."""
    r = records.round_by_ref(session, ref, scope=me.scope)
    assert r.id is not None
    return RoundSummary.model_validate(
        round_control.cancel_round(session, me.actor, r.id, body.note)
    )
