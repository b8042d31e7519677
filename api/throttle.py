"""Failed logins: the client is throttled first, the account only slowed down.

An attacker who knows a username must not be able to lock its owner out (the admin
included). So:

- **per client** (its address; behind a proxy only when ``HOUSING_TRUSTED_PROXIES``
  names it): after ``login_max_failures`` failed logins within ``login_window_seconds``
  the client gets 429 for every login, right password or not, until the window passes.
  Only that client is locked.
- **per account**: never locked. Every attempt on an account with recent failures (from
  any client) waits ``login_delay_base_seconds`` doubled per failure, at most
  ``login_delay_max_seconds``, and then the right password works. Guessing at scale
  needs many addresses, each locked after a few tries; the common-password check
  (:mod:`agency.staff`) makes each guess count less.

Attempts are kept in ``login_attempt`` (shared by every process): the account reached (if
the username exists) and the SHA-256 of the client's address, never the username as
typed (a password typed in the wrong field must not be stored). The wait is an
``asyncio`` sleep, holding neither a thread nor the database.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from agency.models import LoginAttempt
from api.settings import Settings

sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
"""How a login waits (the tests replace it to record the waits instead)."""


def client_key(address: str) -> str:
    return hashlib.sha256(("client:" + address).encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    locked: bool  # this client may not try now (429)
    wait: float  # seconds to wait before checking the password
    client_failures: int
    account_failures: int


class Throttle:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _since(self) -> datetime:
        return datetime.now(UTC) - timedelta(seconds=self.settings.login_window_seconds)

    def failures(self, session: Session, column: Any, value: object) -> int:
        """Failed attempts matching ``column == value`` in the window, after the last
        success that matched it."""
        since = self._since()
        last_ok = session.exec(
            select(func.max(LoginAttempt.at)).where(
                column == value, col(LoginAttempt.success).is_(True), LoginAttempt.at >= since
            )
        ).one()
        start = max(since, last_ok) if last_ok is not None else since
        return int(
            session.exec(
                select(func.count())
                .select_from(LoginAttempt)
                .where(
                    column == value, col(LoginAttempt.success).is_(False), LoginAttempt.at > start
                )
            ).one()
        )

    def delay(self, failures: int) -> float:
        """Seconds an attempt waits after ``failures`` recent failures."""
        if failures <= 0 or self.settings.login_delay_base_seconds == 0:
            return 0.0
        return min(
            self.settings.login_delay_max_seconds,
            self.settings.login_delay_base_seconds * 2.0 ** (failures - 1),
        )

    def verdict(self, session: Session, user_id: int | None, address: str) -> Verdict:
        by_client = self.failures(session, col(LoginAttempt.client), client_key(address))
        by_account = (
            0 if user_id is None else self.failures(session, col(LoginAttempt.user_id), user_id)
        )
        return Verdict(
            locked=by_client >= self.settings.login_max_failures,
            wait=max(self.delay(by_client), self.delay(by_account)),
            client_failures=by_client,
            account_failures=by_account,
        )

    def record(self, session: Session, user_id: int | None, address: str, success: bool) -> None:
        session.add(LoginAttempt(user_id=user_id, client=client_key(address), success=success))
