"""Login, logout, the dashboard, the planners' statistics and the auditors' log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import col, select

from agency import ledger, records
from agency.audit import record
from agency.models import AuthSession, Role, Round
from api import permissions as perms
from api.deps import COOKIE, Principal, SessionDep, SettingsDep, page
from api.errors import ApiError
from api.pages.common import FormDep, redirect, render, text
from api.routes.auth import login_user
from api.security import issue, resolve, revoke

router = APIRouter()

Public = page(perms.PUBLIC)


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/"


@router.get("/login", dependencies=[Public])
def login_form(request: Request, session: SessionDep, settings: SettingsDep,
               next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    token = request.cookies.get(COOKIE)
    if token and resolve(session, token, settings):
        return redirect(_safe_next(next))
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", dependencies=[Public])
def login(request: Request, form: FormDep, session: SessionDep, settings: SettingsDep) -> Response:
    username, password = text(form, "username") or "", text(form, "password") or ""
    nxt = _safe_next(text(form, "next"))
    try:
        user = login_user(request, session, username[:64], password[:1024],
                          request.app.state.throttle)
    except ApiError as exc:
        key = "login.throttled" if exc.status == 429 else "login.failed"
        return render(request, "login.html", {"next": nxt, "error": key,
                                              "username": username[:64]}, exc.status)
    issued = issue(session, user, settings)
    target = nxt if nxt != "/" else _landing(Role(user.role))
    resp = redirect(target)
    resp.set_cookie(COOKIE, issued.token, httponly=True, samesite="strict",
                    secure=settings.cookie_secure, path="/",
                    max_age=int(settings.session_max_hours * 3600))
    return resp


def _landing(role: Role) -> str:
    return {Role.planner: "/stats", Role.auditor: "/audit"}.get(role, "/")


@router.post("/logout")
def logout(me: Annotated[Principal, page(perms.AUTHENTICATED)], session: SessionDep) -> Response:
    auth = session.exec(select(AuthSession).where(
        AuthSession.token_hash == me.token_hash)).one()
    revoke(session, auth)
    record(session, me.actor, "logout", "user", me.username)
    resp = redirect("/login")
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/")
def dashboard(request: Request, me: Annotated[Principal, page(perms.AUTHENTICATED)],
              session: SessionDep) -> Response:
    """Waiting households, free units, fund balances, recent rounds."""
    if not me.can(perms.DASHBOARD_READ):
        return redirect(_landing(me.role))
    stats = records.aggregate_stats(session, scope=me.scope)
    balances = ledger.balances(session)
    funds = [(f, balances.get(f.id or 0, 0))
             for f in records.list_funds(session, active=True, limit=200).items]
    rounds_q = select(Round).order_by(col(Round.id).desc()).limit(5)
    if me.scope is not None:
        rounds_q = rounds_q.where(Round.office_id == me.scope)
    return render(request, "dashboard.html", {
        "stats": stats, "funds": funds, "rounds": list(session.exec(rounds_q))})


@router.get("/stats")
def stats_page(request: Request, me: Annotated[Principal, page(perms.STATS_READ)],
               session: SessionDep) -> Response:
    """Aggregates only (the planners' page)."""
    return render(request, "stats.html", {"stats": records.aggregate_stats(session)})


@router.get("/audit")
def audit_page(request: Request, me: Annotated[Principal, page(perms.AUDIT_READ)],
               session: SessionDep,
               entity_ref: Annotated[str | None, Query(max_length=32)] = None,
               offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    got = records.audit_page(session, me.actor, entity_ref=entity_ref or None, limit=50,
                             offset=offset)
    return render(request, "audit.html", {"page": got, "entity_ref": entity_ref or ""})
