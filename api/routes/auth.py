"""Logging in and out; who am I."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Request
from sqlmodel import Session, select

from agency.audit import Actor, record
from agency.models import AuthSession, User
from agency.schemas import UserPublic
from api import permissions as perms
from api.deps import Principal, SessionDep, SettingsDep, require
from api.errors import ApiError
from api.models import LoginBody, LoginPublic
from api.security import Throttle, authenticate, issue, revoke

router = APIRouter(prefix="/auth", tags=["auth"])


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"


def login_user(request: Request, session: Session, username: str, password: str,
               throttle: Throttle) -> User:
    """The user, or an error: 429 past the failure limit, 401 (slowed down) otherwise."""
    ip = client_ip(request)
    failures = throttle.failures(session, username, ip)
    if failures >= throttle.settings.login_max_failures:
        record(session, Actor(username[:64]), "login", "user", username[:32],
               outcome="denied", detail={"reason": "throttled"})
        session.commit()
        raise ApiError(429, "too many failed logins: wait and try again",
                       headers={"Retry-After": str(throttle.settings.login_window_seconds)})
    user = authenticate(session, username, password)
    throttle.record(session, username, ip, success=user is not None)
    if user is None:
        record(session, Actor(username[:64]), "login", "user", username[:32],
               outcome="denied", detail={"reason": "bad credentials"})
        session.commit()
        time.sleep(throttle.delay(failures + 1))
        raise ApiError(401, "wrong username or password")
    record(session, Actor(user.username, user.id, user.office_id), "login", "user",
           user.username)
    return user


@router.post("/login", dependencies=[require(perms.PUBLIC)],
             responses={401: {"description": "wrong username or password"},
                        429: {"description": "too many failed logins"}})
def login(body: LoginBody, request: Request, session: SessionDep,
          settings: SettingsDep) -> LoginPublic:
    """Exchange a username and password for a bearer token (revocable, idle timeout)."""
    user = login_user(request, session, body.username, body.password,
                      request.app.state.throttle)
    issued = issue(session, user, settings)
    return LoginPublic(token=issued.token, expires_at=issued.expires_at,
                       idle_timeout_minutes=settings.idle_timeout_minutes,
                       user=UserPublic.model_validate(user))


@router.post("/logout", status_code=204)
def logout(me: Annotated[Principal, require(perms.AUTHENTICATED)],
           session: SessionDep) -> None:
    """Revoke this token."""
    auth = session.exec(select(AuthSession).where(
        AuthSession.token_hash == me.token_hash)).one()
    revoke(session, auth)
    record(session, me.actor, "logout", "user", me.username)


@router.get("/me")
def me(me: Annotated[Principal, require(perms.AUTHENTICATED)],
       session: SessionDep) -> UserPublic:
    """The logged-in user."""
    user = session.get(User, me.user_id)
    return UserPublic.model_validate(user)
