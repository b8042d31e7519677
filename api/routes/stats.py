"""Aggregate statistics for planners: counts and sums, never a name or an identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from agency import records
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.models import Stats

router = APIRouter(prefix="/stats", tags=["statistics"])


@router.get("")
def stats(me: Annotated[Principal, require(perms.STATS_READ)], session: SessionDep) -> Stats:
    """Households by status, units, beds, funds, rounds, leases: aggregates only."""
    return Stats(**records.aggregate_stats(session))
