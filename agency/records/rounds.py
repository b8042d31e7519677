"""Finding the allocation rounds (what is done with them is :mod:`agency.rounds`)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col

from agency.models import Round
from agency.records.common import Page, in_office, page_of


def round_by_ref(session: Session, ref: str, *, scope: int | None = None) -> Round:
    """The round with ``ref``; a caseworker reaches only their office's rounds."""
    return in_office(session, Round, "round", ref, scope)


def list_rounds(
    session: Session, *, scope: int | None = None, limit: int = 50, offset: int = 0
) -> Page[Round]:
    """Rounds, newest first."""
    conds: list[Any] = [] if scope is None else [Round.office_id == scope]
    return page_of(session, Round, conds, (col(Round.id).desc(),), limit, offset)
