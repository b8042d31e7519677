"""Login, logout, the dashboard, the planners' statistics and the auditors' log."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from agency import ledger, records
from agency.audit import record
from agency.models import AuthSession, Role, Round
from api import permissions as perms
from api.deps import COOKIE, CSRF_FIELD, Principal, SessionDep, SettingsDep, page
from api.errors import ApiError
from api.pages.common import FormDep, redirect, render, text
from api.routes.auth import login_user
from api.security import (
    LOGIN_CSRF_COOKIE,
    cookie_secure,
    issue,
    login_csrf_ok,
    resolve,
    revoke,
)

router = APIRouter()

Public = page(perms.PUBLIC)


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/"


def _login_page(
    request: Request,
    settings: SettingsDep,
    nxt: str,
    error: str | None,
    username: str = "",
    status: int = 200,
) -> Response:
    """The login form, with a fresh login-CSRF token in the form and in a cookie."""
    token = secrets.token_urlsafe(24)
    resp = render(
        request,
        "login.html",
        {"next": nxt, "error": error, "username": username, "login_csrf": token},
        status,
    )
    resp.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/login",
        secure=_secure(request, settings),
        max_age=3600,
    )
    return resp


def _secure(request: Request, settings: SettingsDep) -> bool:
    return cookie_secure(settings, request.url.scheme, request.url.hostname)


@router.get("/login", dependencies=[Public])
def login_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    token = request.cookies.get(COOKIE)
    if token and resolve(session, token, settings):
        return redirect(_safe_next(next))
    return _login_page(request, settings, _safe_next(next), None)


@router.post("/login", dependencies=[Public])
async def login(
    request: Request, form: FormDep, session: SessionDep, settings: SettingsDep
) -> Response:
    username, password = text(form, "username") or "", text(form, "password") or ""
    nxt = _safe_next(text(form, "next"))
    if not login_csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), text(form, CSRF_FIELD)):
        # login CSRF: a form posted from elsewhere would log the victim in as someone else
        return _login_page(request, settings, nxt, "login.expired", status=403)
    try:
        user = await login_user(
            request, session, username[:64], password[:1024], request.app.state.throttle
        )
    except ApiError as exc:
        key = "login.throttled" if exc.status == 429 else "login.failed"
        return _login_page(request, settings, nxt, key, username[:64], exc.status)
    issued = await run_in_threadpool(issue, session, user, settings)
    target = nxt if nxt != "/" else _landing(Role(user.role))
    resp = redirect(target)
    resp.set_cookie(
        COOKIE,
        issued.token,
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
        path="/",
        max_age=int(settings.session_max_hours * 3600),
    )
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


def _landing(role: Role) -> str:
    return {Role.planner: "/stats", Role.auditor: "/audit"}.get(role, "/")


@router.post("/logout")
def logout(me: Annotated[Principal, page(perms.AUTHENTICATED)], session: SessionDep) -> Response:
    auth = session.exec(select(AuthSession).where(AuthSession.token_hash == me.token_hash)).one()
    revoke(session, auth)
    record(session, me.actor, "logout", "user", me.username)
    resp = redirect("/login")
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/")
def dashboard(
    request: Request, me: Annotated[Principal, page(perms.AUTHENTICATED)], session: SessionDep
) -> Response:
    """Waiting households, free units, fund balances, recent rounds."""
    if not me.can(perms.DASHBOARD_READ):
        return redirect(_landing(me.role))
    stats = records.aggregate_stats(session, scope=me.scope)
    balances = ledger.balances(session)
    funds = [
        (f, balances.get(f.id or 0, 0))
        for f in records.list_funds(session, active=True, limit=200).items
    ]
    rounds_q = select(Round).order_by(col(Round.id).desc()).limit(5)
    if me.scope is not None:
        rounds_q = rounds_q.where(Round.office_id == me.scope)
    return render(
        request,
        "dashboard.html",
        {"stats": stats, "funds": funds, "rounds": list(session.exec(rounds_q))},
    )


@router.get("/stats")
def stats_page(
    request: Request, me: Annotated[Principal, page(perms.STATS_READ)], session: SessionDep
) -> Response:
    """Aggregates only (the planners' page)."""
    return render(request, "stats.html", {"stats": records.aggregate_stats(session)})


@router.get("/audit")
def audit_page(
    request: Request,
    me: Annotated[Principal, page(perms.AUDIT_READ)],
    session: SessionDep,
    entity_ref: Annotated[str | None, Query(max_length=32)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    got = records.audit_page(
        session, me.actor, entity_ref=entity_ref or None, limit=50, offset=offset
    )
    return render(request, "audit.html", {"page": got, "entity_ref": entity_ref or ""})
