"""Funds: the budget lines that pay rent contributions. Money moves only through the
ledger (:mod:`agency.ledger`): a fund's record holds its name and whom it may pay for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from agency import ledger
from agency.audit import Actor, record
from agency.errors import DuplicateError, NotFoundError, RecordError
from agency.models import Fund
from agency.records.common import Page, checked, page_of, search
from agency.schemas import FundCreate

ENTITY = "fund"


def create_fund(session: Session, actor: Actor, data: FundCreate) -> Fund:
    """A budget line; a positive ``budget_cents`` is granted to it in the ledger."""
    if session.exec(select(Fund).where(Fund.code == data.code)).first() is not None:
        raise DuplicateError("code", f"a fund with code {data.code!r} exists")
    fund = Fund(code=data.code, name=data.name, eligible_tags=sorted(set(data.eligible_tags)))
    session.add(fund)
    session.flush()
    record(session, actor, "fund.create", ENTITY, fund.code)
    if data.budget_cents > 0:
        ledger.grant(session, actor, fund, data.budget_cents, note="initial budget")
        session.flush()
    return fund


def get_fund(session: Session, code: str) -> Fund:
    fund = session.exec(select(Fund).where(Fund.code == code)).first()
    if fund is None:
        raise NotFoundError(ENTITY, code)
    return fund


def list_funds(
    session: Session,
    *,
    q: str | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Fund]:
    conds: list[Any] = []
    if active is not None:
        conds.append(Fund.active == active)
    match = search(q, Fund.code, Fund.name)
    if match is not None:
        conds.append(match)
    return page_of(session, Fund, conds, (col(Fund.code),), limit, offset)


def update_fund(
    session: Session,
    actor: Actor,
    code: str,
    *,
    name: str | None = None,
    eligible_tags: Sequence[str] | None = None,
    active: bool | None = None,
) -> Fund:
    """Rename a fund, change whom it may pay for, or (de)activate it. Money moves only
    through the ledger (:func:`grant_fund`)."""
    fund = get_fund(session, code)
    base = {"code": fund.code, "name": fund.name, "eligible_tags": fund.eligible_tags}
    if name is not None:
        base["name"] = name
    if eligible_tags is not None:
        base["eligible_tags"] = list(eligible_tags)
    data = checked(FundCreate, base)
    fund.name, fund.eligible_tags = data.name, sorted(set(data.eligible_tags))
    if active is not None:
        fund.active = active
    session.add(fund)
    session.flush()
    changed = [
        k
        for k, v in (("name", name), ("eligible_tags", eligible_tags), ("active", active))
        if v is not None
    ]
    record(session, actor, "fund.update", ENTITY, code, detail={"fields": changed})
    return fund


def grant_fund(
    session: Session, actor: Actor, code: str, amount_cents: int, note: str | None = None
) -> Fund:
    """Money into a fund (a positive amount in cents), as a ledger entry."""
    fund = get_fund(session, code)
    if amount_cents <= 0:
        raise RecordError("amount_cents", f"a grant must be positive, got {amount_cents}")
    ledger.grant(session, actor, fund, amount_cents, note=note)
    session.flush()
    return fund


def deactivate_fund(session: Session, actor: Actor, code: str) -> Fund:
    """The fund pays no new contribution (its ledger stays)."""
    return update_fund(session, actor, code, active=False)
