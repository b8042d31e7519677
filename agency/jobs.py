"""Background jobs in the database: any process may claim one, a restart finds them all.

A job (:class:`~agency.models.Job`) is ``queued`` until a worker of some process claims
it (``running``, with that process's host and pid), then ``done`` or ``failed``; a running
job's process refreshes its ``heartbeat_at``. When a process starts, the running jobs of
a process that is gone (same host and its pid dead, or no heartbeat for
``STALE_SECONDS``) are marked ``interrupted``: the page says so and offers to run them
again (:func:`retry`, a new job naming the old one).

**Fair shares.** Each job has a ``fair_key`` (an office for a round's solve, a planner
for a scenario run). A free worker takes, among the queued jobs of its kind, the one
whose key has the fewest jobs running, then the key served longest ago, then the
oldest: one office's ten solves do not hold up another office's one. The queue position
shown to users follows the same order.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import type_coerce
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from agency.db import write_session
from agency.models import Job, JobStatus, UTCDateTime

STALE_SECONDS = 60.0
ACTIVE = (JobStatus.queued.value, JobStatus.running.value)
HOST = socket.gethostname()[:255]


def now() -> datetime:
    return datetime.now(UTC)


def enqueue(
    session: Session,
    kind: str,
    subject: str,
    *,
    fair_key: str,
    office_id: int | None = None,
    user_id: int | None = None,
    params: dict[str, Any] | None = None,
    retry_of: int | None = None,
) -> Job:
    job = Job(
        kind=kind,
        subject=subject,
        fair_key=fair_key,
        office_id=office_id,
        user_id=user_id,
        params=dict(params or {}),
        retry_of=retry_of,
    )
    session.add(job)
    session.flush()
    return job


def by_ref(session: Session, ref: str) -> Job | None:
    return session.exec(select(Job).where(Job.ref == ref)).first()


def active_for(session: Session, kind: str, subject: str) -> Job | None:
    return session.exec(
        select(Job)
        .where(Job.kind == kind, Job.subject == subject, col(Job.status).in_(ACTIVE))
        .order_by(col(Job.id).desc())
    ).first()


def latest_for(session: Session, kind: str, subject: str) -> Job | None:
    return session.exec(
        select(Job).where(Job.kind == kind, Job.subject == subject).order_by(col(Job.id).desc())
    ).first()


def count_active(session: Session, kind: str, fair_key: str) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Job)
            .where(Job.kind == kind, Job.fair_key == fair_key, col(Job.status).in_(ACTIVE))
        ).one()
    )


def _order(session: Session, kind: str, queued: Iterable[Job]) -> list[Job]:
    running: dict[str, int] = dict(
        session.exec(
            select(Job.fair_key, func.count())
            .where(Job.kind == kind, Job.status == JobStatus.running.value)
            .group_by(col(Job.fair_key))
        ).all()
    )
    latest = type_coerce(func.max(Job.started_at), UTCDateTime())  # aware on SQLite too
    served: dict[str, datetime] = {
        k: v
        for k, v in session.exec(
            select(Job.fair_key, latest).where(Job.kind == kind).group_by(col(Job.fair_key))
        ).all()
        if v is not None
    }
    epoch = datetime(1970, 1, 1, tzinfo=UTC)

    def key(j: Job) -> tuple[int, datetime, datetime, int]:
        return (running.get(j.fair_key, 0), served.get(j.fair_key, epoch), j.created_at, j.id or 0)

    return sorted(queued, key=key)


def queue_position(session: Session, job: Job) -> int | None:
    """1 for the next job to start, 2 for the one after, ... (None unless queued)."""
    if job.status != JobStatus.queued:
        return None
    queued = list(
        session.exec(select(Job).where(Job.kind == job.kind, Job.status == JobStatus.queued.value))
    )
    ordered = _order(session, job.kind, queued)
    for k, j in enumerate(ordered, start=1):
        if j.id == job.id:
            return k
    return None


def claim_next(engine: Engine, kind: str, pid: int | None = None) -> Job | None:
    """Claim the next queued job of ``kind`` for this process (None: nothing queued).

    An idle worker only reads: the write lock is taken when there is a job to claim (on
    SQLite a writer every half second would break other connections' read-then-write
    transactions)."""
    with Session(engine) as s:
        if (
            s.exec(
                select(Job.id).where(Job.kind == kind, Job.status == JobStatus.queued.value)
            ).first()
            is None
        ):
            return None
    with write_session(engine) as s:
        q = (
            select(Job)
            .where(Job.kind == kind, Job.status == JobStatus.queued.value)
            .order_by(col(Job.id))
            .limit(500)
        )
        if s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        queued = list(s.exec(q))
        if not queued:
            return None
        job = _order(s, kind, queued)[0]
        t = now()
        job.status, job.started_at, job.heartbeat_at = JobStatus.running, t, t
        job.owner_host, job.owner_pid = HOST, pid or os.getpid()
        s.add(job)
        s.flush()
        s.refresh(job)
        s.expunge(job)
        return job


def heartbeat(
    engine: Engine, job_ids: Iterable[int], progress: dict[int, dict[str, Any]] | None = None
) -> None:
    ids = list(job_ids)
    if not ids:
        return
    with write_session(engine) as s:
        for job in s.exec(
            select(Job).where(col(Job.id).in_(ids), Job.status == JobStatus.running.value)
        ):
            job.heartbeat_at = now()
            if progress and job.id in progress:
                job.progress = progress[job.id]
            s.add(job)


def finish(
    engine: Engine,
    job_id: int,
    status: JobStatus,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    progress: dict[str, Any] | None = None,
) -> None:
    with write_session(engine) as s:
        job = s.get(Job, job_id)
        if job is None:
            return
        job.status, job.finished_at = status, now()
        job.result, job.error = result, (error or None) and (error or "")[:2000]
        if progress is not None:
            job.progress = progress
        s.add(job)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_interrupted(
    engine: Engine,
    *,
    alive: Callable[[int], bool] = _alive,
    stale_seconds: float = STALE_SECONDS,
    this_process_only: bool = False,
) -> list[Job]:
    """Mark the running jobs of processes that are gone as interrupted; the jobs marked.

    ``this_process_only``: this process's own running jobs (it is stopping).
    """
    horizon = now() - timedelta(seconds=stale_seconds)
    me = os.getpid()
    out: list[Job] = []
    with Session(engine) as s:  # most starts find nothing: no write then
        if s.exec(select(Job.id).where(Job.status == JobStatus.running.value)).first() is None:
            return out
    with write_session(engine) as s:
        for job in s.exec(select(Job).where(Job.status == JobStatus.running.value)):
            mine = job.owner_host == HOST and job.owner_pid == me
            if this_process_only:
                gone = mine
            elif job.owner_host == HOST:
                gone = not mine and (job.owner_pid is None or not alive(job.owner_pid))
            else:
                beat = job.heartbeat_at
                gone = beat is None or beat < horizon
            if gone:
                job.status, job.finished_at = JobStatus.interrupted, now()
                job.error = "the server stopped while this job ran: run it again"
                s.add(job)
                out.append(job)
        s.flush()
        for job in out:
            s.refresh(job)
            s.expunge(job)
    return out


def retry(session: Session, job: Job) -> Job:
    """A new queued job doing what ``job`` (interrupted or failed) did."""
    assert job.id is not None
    return enqueue(
        session,
        job.kind,
        job.subject,
        fair_key=job.fair_key,
        office_id=job.office_id,
        user_id=job.user_id,
        params=job.params,
        retry_of=job.id,
    )


def public(session: Session, job: Job) -> dict[str, Any]:
    """What the API and the pages show of a job: refs and figures, never a person."""
    end = job.finished_at or now()
    started = job.started_at
    elapsed = (end - started).total_seconds() if started else 0.0
    return {
        "job": job.ref,
        "kind": job.kind,
        "subject": job.subject,
        "status": str(job.status),
        "progress": dict(job.progress or {}),
        "events": int((job.progress or {}).get("events", 0)),
        "error": job.error,
        "elapsed": round(max(elapsed, 0.0), 2),
        "position": queue_position(session, job),
    }
