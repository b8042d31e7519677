"""The retention policy: how long what is kept is kept (``housing retention run``).

- **closed cases**: a household whose case was closed more than ``retention_days`` ago
  (``HOUSING_RETENTION_DAYS``, 1,825 days, five years, by default) is pseudonymised
  (:func:`agency.subject_rights.pseudonymise`): its leases and the ledger's amounts stay.
- **login attempts** older than 90 days, **sessions** ended more than 30 days ago and
  **stored answers** to repeated requests older than a day are deleted.

Each run is audited (``retention.run``, with its counts), and so is each case it
pseudonymises. ``dry_run`` counts without changing anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, delete, func, or_, select

from agency import subject_rights
from agency.audit import Actor, record
from agency.db import write_session
from agency.models import (
    AuthSession,
    Beneficiary,
    BeneficiaryStatus,
    IdempotencyRecord,
    LoginAttempt,
    utcnow,
)

DEFAULT_DAYS = 1825


def retention_days() -> int:
    return int(os.environ.get("HOUSING_RETENTION_DAYS") or DEFAULT_DAYS)


@dataclass
class RetentionReport:
    days: int
    pseudonymised: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # ref -> why not now
    login_attempts: int = 0
    sessions: int = 0
    stored_answers: int = 0
    dry_run: bool = False


def run(
    engine: Engine, actor: Actor, *, days: int | None = None, dry_run: bool = False
) -> RetentionReport:
    days = retention_days() if days is None else days
    if days < 1:
        raise ValueError(f"days: must be at least 1, got {days}")
    now = utcnow()
    report = RetentionReport(days=days, dry_run=dry_run)
    with write_session(engine) as s:
        old = list(
            s.exec(
                select(Beneficiary)
                .where(
                    Beneficiary.status == BeneficiaryStatus.closed.value,
                    col(Beneficiary.pseudonymised_at).is_(None),
                    col(Beneficiary.updated_at) < now - timedelta(days=days),
                )
                .order_by(col(Beneficiary.id))
            )
        )
        for b in old:
            why = subject_rights.erasable(s, b)
            if why:
                report.kept[b.ref] = why
                continue
            if not dry_run:
                subject_rights.pseudonymise(s, actor, b.ref, "retention")
            report.pseudonymised.append(b.ref)
        checks = (
            ("login_attempts", LoginAttempt, col(LoginAttempt.at) < now - timedelta(days=90)),
            (
                "sessions",
                AuthSession,
                or_(
                    col(AuthSession.expires_at) < now - timedelta(days=30),
                    col(AuthSession.revoked_at) < now - timedelta(days=30),
                ),
            ),
            (
                "stored_answers",
                IdempotencyRecord,
                col(IdempotencyRecord.created_at) < now - timedelta(days=1),
            ),
        )
        for name, model, cond in checks:
            n = int(s.exec(select(func.count()).select_from(model).where(cond)).one())
            setattr(report, name, n)
            if n and not dry_run:
                s.exec(delete(model).where(cond))
        record(
            s,
            actor,
            "retention.run",
            "retention",
            None,
            detail={
                "days": days,
                "dry_run": dry_run,
                "pseudonymised": len(report.pseudonymised),
                "kept": len(report.kept),
                "login_attempts": report.login_attempts,
                "sessions": report.sessions,
                "stored_answers": report.stored_answers,
            },
        )
    return report
