"""Logins, session tokens, CSRF tokens and the slowdown of repeated failed logins.

- A login issues a random token (``secrets.token_urlsafe(32)``); the database keeps only
  its SHA-256 (``auth_session``). A session ends after ``idle_timeout_minutes`` without a
  request, after ``session_max_hours`` in any case, or when revoked (logout).
- The pages' forms carry a CSRF token derived from the session's token: a page of another
  site can neither read the cookie nor compute the token.
- Failed logins are throttled per client and slowed down per account
  (:mod:`api.throttle`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from agency.models import AuthSession, User
from agency.records import hash_password, password_needs_rehash, verify_password
from api.settings import Settings

TOKEN_BYTES = 32


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def now() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token_hash: str) -> str:
    """The CSRF token of a session: bound to it, useless without it."""
    return hashlib.sha256(("csrf:" + session_token_hash).encode()).hexdigest()[:32]


def csrf_ok(session_token_hash: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(session_token_hash), given or "")


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: datetime
    user: User


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, or None (same work either way)."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)  # as slow as a real check
        return None
    if not verify_password(user.password_hash, password):
        return None
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def issue(session: Session, user: User, settings: Settings) -> Issued:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    t = now()
    expires = t + timedelta(hours=settings.session_max_hours)
    assert user.id is not None
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=t,
            last_seen_at=t,
            expires_at=expires,
        )
    )
    user.last_login_at = t
    session.add(user)
    session.flush()
    return Issued(token=token, expires_at=expires, user=user)


TOUCH_EVERY = timedelta(seconds=30)


def resolve(session: Session, token: str, settings: Settings) -> tuple[User, AuthSession] | None:
    """The user and session of a token, if valid now; refreshes its idle clock."""
    if not token or len(token) > 200:
        return None
    auth = session.exec(
        select(AuthSession).where(AuthSession.token_hash == token_hash(token))
    ).first()
    if auth is None or auth.revoked_at is not None:
        return None
    t = now()
    idle = timedelta(minutes=settings.idle_timeout_minutes)
    if t >= auth.expires_at or t - auth.last_seen_at > idle:
        return None
    user = session.get(User, auth.user_id)
    if user is None or not user.active:
        return None
    if t - auth.last_seen_at > min(TOUCH_EVERY, idle / 4):
        auth.last_seen_at = t
        session.add(auth)
    return user, auth


def revoke(session: Session, auth: AuthSession) -> None:
    auth.revoked_at = now()
    session.add(auth)
    session.flush()


# --------------------------------------------------------------------------- cookies

LOGIN_CSRF_COOKIE = "housing_login_csrf"
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def login_csrf_ok(cookie: str | None, given: str | None) -> bool:
    """The login form's token (double submit): the form's field equals the cookie set with
    the form. A page of another site can neither read nor set that cookie (SameSite=Strict,
    HttpOnly), so it cannot log a victim in as someone else."""
    return bool(cookie) and bool(given) and hmac.compare_digest(cookie or "", given or "")


def cookie_secure(settings: Settings, scheme: str, host: str | None) -> bool:
    """Whether cookies get ``Secure``: as configured, else always but on plain HTTP to this
    machine itself (local development)."""
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return scheme == "https" or (host or "").lower() not in LOOPBACK
