"""Logins, session tokens, CSRF tokens and the slowdown of repeated failed logins.

- A login issues a random token (``secrets.token_urlsafe(32)``); the database keeps only
  its SHA-256 (``auth_session``). A session ends after ``idle_timeout_minutes`` without a
  request, after ``session_max_hours`` in any case, or when revoked (logout).
- The pages' forms carry a CSRF token derived from the session's token: a page of another
  site can neither read the cookie nor compute the token.
- Failed logins are recorded in ``login_attempt`` (per username, shared by every process)
  and counted per client address in memory. Each failure in the window makes the next
  answer slower (exponential delay, capped); past ``login_max_failures`` the answer is 429
  until the window has passed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, func, select

from agency.models import AuthSession, LoginAttempt, User
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
    session.add(AuthSession(token_hash=token_hash(token), user_id=user.id, created_at=t,
                            last_seen_at=t, expires_at=expires))
    user.last_login_at = t
    session.add(user)
    session.flush()
    return Issued(token=token, expires_at=expires, user=user)


TOUCH_EVERY = timedelta(seconds=30)


def resolve(session: Session, token: str, settings: Settings) -> tuple[User, AuthSession] | None:
    """The user and session of a token, if valid now; refreshes its idle clock."""
    if not token or len(token) > 200:
        return None
    auth = session.exec(select(AuthSession).where(
        AuthSession.token_hash == token_hash(token))).first()
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


class Throttle:
    """Failed logins per username (database) and per client address (memory)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._by_ip: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _ip_failures(self, ip: str) -> int:
        horizon = time.monotonic() - self.settings.login_window_seconds
        with self._lock:
            q = self._by_ip[ip]
            while q and q[0] < horizon:
                q.popleft()
            return len(q)

    def _user_failures(self, session: Session, username: str) -> int:
        since = now() - timedelta(seconds=self.settings.login_window_seconds)
        last_ok = session.exec(select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, col(LoginAttempt.success).is_(True),
            LoginAttempt.at >= since)).one()
        start = max(since, last_ok) if last_ok is not None else since
        n = session.exec(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.username == username, col(LoginAttempt.success).is_(False),
            LoginAttempt.at > start)).one()
        return int(n)

    def failures(self, session: Session, username: str, ip: str) -> int:
        return max(self._user_failures(session, username[:64]), self._ip_failures(ip))

    def blocked(self, session: Session, username: str, ip: str) -> bool:
        return self.failures(session, username, ip) >= self.settings.login_max_failures

    def delay(self, failures: int) -> float:
        """Seconds to wait before answering a failed login (the ``failures``-th)."""
        if failures <= 0 or self.settings.login_delay_base_seconds == 0:
            return 0.0
        return min(self.settings.login_delay_max_seconds,
                   self.settings.login_delay_base_seconds * 2.0 ** (failures - 1))

    def record(self, session: Session, username: str, ip: str, success: bool) -> None:
        session.add(LoginAttempt(username=username[:64], success=success, at=now()))
        if not success:
            with self._lock:
                self._by_ip[ip].append(time.monotonic())
