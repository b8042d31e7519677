"""Background jobs (round solves): a thread pool, with each job's state kept in memory.

A job's state is polled (``GET .../solve/{job}``) until it is ``done`` or ``failed``. The
state holds refs and figures only (the engine's stage, incumbent and bound), never a
person's data; a failure's message is kept only for the agency's own errors.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("api.jobs")

KEEP_SECONDS = 3600.0


@dataclass
class Job:
    id: str
    kind: str
    subject: str                 # e.g. the round's ref
    owner_office: int | None     # who may see it (None: admins only / every office)
    status: str = "queued"       # queued, running, done, failed
    progress: dict[str, Any] = field(default_factory=dict)
    events: int = 0
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None

    def public(self) -> dict[str, Any]:
        elapsed = ((self.finished or time.time()) - self.started) if self.started else 0.0
        return {"job": self.id, "kind": self.kind, "subject": self.subject,
                "status": self.status, "progress": dict(self.progress),
                "events": self.events, "error": self.error, "elapsed": round(elapsed, 2)}


class Jobs:
    def __init__(self, workers: int = 1) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="housing-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def active_for(self, kind: str, subject: str) -> Job | None:
        with self._lock:
            for j in self._jobs.values():
                if j.kind == kind and j.subject == subject and j.status in ("queued",
                                                                            "running"):
                    return j
        return None

    def submit(self, kind: str, subject: str, owner_office: int | None,
               work: Callable[[Callable[[dict[str, Any]], None]], None],
               expected: tuple[type[BaseException], ...] = ()) -> Job:
        """Run ``work(progress)`` in the pool; ``expected`` errors keep their message."""
        self._sweep()
        job = Job(id=secrets.token_urlsafe(9), kind=kind, subject=subject,
                  owner_office=owner_office)
        with self._lock:
            self._jobs[job.id] = job

        def progress(p: dict[str, Any]) -> None:
            with self._lock:
                job.progress = {k: v for k, v in p.items()
                                if isinstance(v, (int, float, str, type(None)))}
                job.events += 1

        def run() -> None:
            job.status, job.started = "running", time.time()
            try:
                work(progress)
            except expected as exc:
                job.status, job.error = "failed", str(exc)
                log.info("job %s (%s %s) refused: %s", job.id, kind, subject,
                         type(exc).__name__)
            except Exception as exc:
                job.status, job.error = "failed", "internal error"
                log.error("job %s (%s %s) failed: %s", job.id, kind, subject,
                          type(exc).__name__)
            else:
                job.status = "done"
            finally:
                job.finished = time.time()

        self._pool.submit(run)
        return job

    def _sweep(self) -> None:
        horizon = time.time() - KEEP_SECONDS
        with self._lock:
            for k in [k for k, j in self._jobs.items() if j.finished and j.finished < horizon]:
                del self._jobs[k]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
