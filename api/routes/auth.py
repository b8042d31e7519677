"""Logging in and out; who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from agency.audit import Actor, record
from agency.models import AuthSession, User
from agency.schemas import UserPublic
from api import permissions as perms
from api import throttle as throttling
from api.deps import Principal, SessionDep, SettingsDep, require
from api.errors import ApiError
from api.models import LoginBody, LoginPublic
from api.security import authenticate, issue, revoke
from api.throttle import Throttle

router = APIRouter(prefix="/auth", tags=["auth"])


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"


async def login_user(
    request: Request, session: Session, username: str, password: str, throttle: Throttle
) -> User:
    """The user, or an error: 429 for a client past the failure limit, 401 otherwise.

    An account with recent failures is slowed down, never locked (:mod:`api.throttle`).
    What was typed as a username is never stored unless it names a user.
    """
    address = client_ip(request)

    def check() -> tuple[int | None, throttling.Verdict]:
        user_id = session.exec(select(User.id).where(User.username == username)).first()
        verdict = throttle.verdict(session, user_id, address)
        if verdict.locked:
            record(
                session,
                Actor(username if user_id else "-", user_id),
                "login",
                "user",
                username if user_id else None,
                outcome="denied",
                detail={"reason": "client throttled"},
            )
            session.commit()
        else:
            session.rollback()  # hold no transaction while waiting
        return user_id, verdict

    user_id, verdict = await run_in_threadpool(check)
    if verdict.locked:
        raise ApiError(
            429,
            "too many failed logins from this address: wait and try again",
            headers={"Retry-After": str(throttle.settings.login_window_seconds)},
        )
    if verdict.wait > 0:
        await throttling.sleep(verdict.wait)

    def attempt() -> User | None:
        user = authenticate(session, username, password)
        throttle.record(session, user_id, address, success=user is not None)
        if user is None:
            record(
                session,
                Actor(username if user_id else "-", user_id),
                "login",
                "user",
                username if user_id else None,
                outcome="denied",
                detail={"reason": "bad credentials" if user_id else "unknown user"},
            )
            session.commit()
            return None
        record(
            session, Actor(user.username, user.id, user.office_id), "login", "user", user.username
        )
        return user

    user = await run_in_threadpool(attempt)
    if user is None:
        raise ApiError(401, "wrong username or password")
    return user


@router.post(
    "/login",
    dependencies=[require(perms.PUBLIC)],
    responses={
        401: {"description": "wrong username or password"},
        429: {"description": "too many failed logins from this client"},
    },
)
async def login(
    body: LoginBody, request: Request, session: SessionDep, settings: SettingsDep
) -> LoginPublic:
    """Exchange a username and password for a bearer token (revocable, idle timeout)."""
    user = await login_user(
        request, session, body.username, body.password, request.app.state.throttle
    )
    issued = await run_in_threadpool(issue, session, user, settings)
    return LoginPublic(
        token=issued.token,
        expires_at=issued.expires_at,
        idle_timeout_minutes=settings.idle_timeout_minutes,
        user=UserPublic.model_validate(user),
    )


@router.post("/logout", status_code=204)
def logout(me: Annotated[Principal, require(perms.AUTHENTICATED)], session: SessionDep) -> None:
    """Revoke this token."""
    auth = session.exec(select(AuthSession).where(AuthSession.token_hash == me.token_hash)).one()
    revoke(session, auth)
    record(session, me.actor, "logout", "user", me.username)


@router.get("/me")
def me(me: Annotated[Principal, require(perms.AUTHENTICATED)], session: SessionDep) -> UserPublic:
    """The logged-in user."""
    user = session.get(User, me.user_id)
    return UserPublic.model_validate(user)
