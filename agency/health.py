"""Whether the database can do its work now, and what a storage failure was.

:func:`check` is what ``/health`` reports: the database answers, takes a write (a table
created and rolled back: nothing stays), and, for the embedded file, its disk has room.
:func:`classify` names a storage failure (a full disk, a read-only database, a database
that does not answer) so that the user reads what happened instead of a bare 500.
"""

from __future__ import annotations

import errno
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from agency.db import SchemaError, current_revision, head_revision, is_sqlite
from agency.jobs import STALE_SECONDS
from agency.models import Job, JobStatus

OK = "ok"
READ_ONLY = "read_only"
DISK_FULL = "disk_full"
UNREACHABLE = "unreachable"
SCHEMA = "schema"

MESSAGES = {
    READ_ONLY: "the database is read-only: nothing can be saved (logins neither) until an "
    "administrator makes it writable again",
    DISK_FULL: "the server's disk is full: nothing was saved; tell an administrator",
    UNREACHABLE: "the database does not answer: try again in a moment, or tell an administrator",
    SCHEMA: "the database's schema is not this version's: an administrator must run "
    "`housing db upgrade`",
}


def classify(exc: BaseException) -> str | None:
    """The storage failure behind ``exc`` (None: not one)."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return DISK_FULL
    if isinstance(exc, SchemaError):
        return SCHEMA
    if not isinstance(exc, sa.exc.DBAPIError):
        return None
    orig = exc.orig
    text = str(orig).lower()
    code = getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None) or ""
    if (
        code == "SQLITE_FULL"
        or code == "53100"
        or "disk is full" in text
        or "no space left" in text
    ):
        return DISK_FULL
    if (
        code in ("SQLITE_READONLY", "25006")
        or "readonly database" in text
        or "read-only transaction" in text
    ):
        return READ_ONLY
    if isinstance(exc, sa.exc.OperationalError):
        return UNREACHABLE
    return None


def _sqlite_dir(engine: Engine) -> Path | None:
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path).resolve().parent


def check(engine: Engine, min_free_bytes: int = 64 * 1024 * 1024) -> str:
    """``ok``, or what keeps the database from its work now."""
    try:
        if current_revision(engine) != head_revision(engine):
            return SCHEMA
        with engine.connect() as conn:
            if is_sqlite(engine):
                conn.exec_driver_sql("CREATE TABLE health_probe (x INTEGER)")
            else:
                if conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on":
                    return READ_ONLY
                conn.exec_driver_sql("CREATE TEMP TABLE health_probe (x INTEGER)")
            conn.rollback()
    except Exception as exc:
        return classify(exc) or UNREACHABLE
    folder = _sqlite_dir(engine)
    if folder is not None and shutil.disk_usage(folder).free < min_free_bytes:
        return DISK_FULL
    return OK


# --------------------------------------------------------------------------- jobs


def stalled_jobs(session: Session, now: datetime | None = None) -> int:
    """Running jobs whose process stopped beating (hung, or gone with no restart since)."""
    since = (now or datetime.now(UTC)) - timedelta(seconds=STALE_SECONDS)
    return int(
        session.exec(
            select(func.count())
            .select_from(Job)
            .where(
                Job.status == JobStatus.running.value,
                (col(Job.heartbeat_at) < since) | col(Job.heartbeat_at).is_(None),
            )
        ).one()
    )


def waiting_jobs(session: Session, max_wait_seconds: float, now: datetime | None = None) -> int:
    """Queued jobs no worker has taken for ``max_wait_seconds``."""
    since = (now or datetime.now(UTC)) - timedelta(seconds=max_wait_seconds)
    return int(
        session.exec(
            select(func.count())
            .select_from(Job)
            .where(Job.status == JobStatus.queued.value, col(Job.created_at) < since)
        ).one()
    )


@dataclass(frozen=True)
class JobsHealth:
    stalled: int  # running, no heartbeat for STALE_SECONDS
    waiting: int  # queued longer than the limit

    @property
    def state(self) -> str:
        return OK if not (self.stalled or self.waiting) else "stalled"


def check_jobs(engine: Engine, max_wait_seconds: float) -> JobsHealth:
    """Whether the job runner does its work: no running job without a heartbeat, no
    queued job left waiting."""
    with Session(engine) as s:
        return JobsHealth(stalled_jobs(s), waiting_jobs(s, max_wait_seconds))
