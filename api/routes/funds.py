"""Funds: budget lines that pay rent contributions; their balances come from the ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session, select

from agency import ledger, records
from agency.errors import NotFoundError, RecordError
from agency.models import Fund, Lease
from agency.schemas import FundCreate, FundPublic, FundUpdate, GuaranteePublic
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.models import GrantBody
from api.pagination import Paged, PageDep
from api.routes.common import ERRORS

router = APIRouter(prefix="/funds", tags=["funds"], responses=ERRORS)

Reader = Annotated[Principal, require(perms.FUNDS_READ)]
Writer = Annotated[Principal, require(perms.FUNDS_WRITE)]


def public(session: Session, f: Fund, balances: dict[int, int] | None = None) -> FundPublic:
    out = FundPublic.model_validate(f)
    assert f.id is not None
    out.balance_cents = (
        (balances or {}).get(f.id, 0) if balances is not None else ledger.balance(session, f.id)
    )
    return out


@router.get("")
def list_funds(
    me: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    active: bool | None = None,
) -> Paged[FundPublic]:
    """Funds with their balances in cents."""
    got = records.list_funds(session, q=q, active=active, limit=page.limit, offset=page.offset)
    balances = ledger.balances(session)
    return Paged[FundPublic](
        items=[public(session, f, balances) for f in got.items],
        total=got.total,
        limit=got.limit,
        offset=got.offset,
    )


@router.post("", status_code=201)
def create_fund(me: Writer, session: SessionDep, body: FundCreate) -> FundPublic:
    """A new fund; ``budget_cents`` > 0 is granted to it in the ledger."""
    return public(session, records.create_fund(session, me.actor, body))


@router.get("/{code}")
def get_fund(me: Reader, session: SessionDep, code: str) -> FundPublic:
    return public(session, records.get_fund(session, code))


@router.patch("/{code}")
def update_fund(me: Writer, session: SessionDep, code: str, body: FundUpdate) -> FundPublic:
    return public(
        session,
        records.update_fund(
            session,
            me.actor,
            code,
            name=body.name,
            eligible_tags=body.eligible_tags,
            active=body.active,
        ),
    )


@router.post("/{code}/grants", status_code=201)
def grant(me: Writer, session: SessionDep, code: str, body: GrantBody) -> FundPublic:
    """Money into the fund (a ledger entry; the ledger is append-only)."""
    return public(
        session, records.grant_fund(session, me.actor, code, body.amount_cents, body.note)
    )


# --------------------------------------------------------------------------- the guarantee

guarantee = APIRouter(prefix="/guarantee", tags=["funds"], responses=ERRORS)


def _guarantee(session: Session) -> GuaranteePublic:
    g = ledger.guarantee_summary(session)
    return GuaranteePublic(
        granted_cents=g["granted"],
        exposed_cents=g["exposed"],
        claims_cents=g["claims"],
        left_cents=g["left"],
    )


@guarantee.get("")
def get_guarantee(me: Reader, session: SessionDep) -> GuaranteePublic:
    """The guarantee fund against arrears: granted, exposed on open leases, claims paid,
    and what is left to guarantee new leases."""
    return _guarantee(session)


@guarantee.post("/grants", status_code=201)
def grant_guarantee(me: Writer, session: SessionDep, body: GrantBody) -> GuaranteePublic:
    ledger.guarantee_grant(session, me.actor, body.amount_cents, body.note)
    return _guarantee(session)


@guarantee.post("/claims/{ref}", status_code=201)
def pay_claim(me: Writer, session: SessionDep, ref: str, body: GrantBody) -> GuaranteePublic:
    """Arrears paid to a guaranteed lease's landlord (at most its open exposure)."""
    lease = session.exec(select(Lease).where(Lease.ref == ref)).first()
    if lease is None or lease.id is None:
        raise NotFoundError("lease", ref)
    try:
        ledger.pay_claim(session, me.actor, lease.id, body.amount_cents, body.note)
    except ledger.OverspendError as exc:
        raise RecordError("amount_cents", str(exc)) from None
    return _guarantee(session)
