"""The service's workers: threads that claim jobs from the database and run them.

Jobs live in the ``job`` table (:mod:`agency.jobs`), so a page that polls a job after a
restart finds it, marked ``interrupted`` if the process that ran it is gone, with a
button to run it again. Each kind of job has its own workers (``solve_workers`` for the
rounds' solves, ``scenario_workers`` for the planners' runs), which take the queued jobs
in their fair order. Workers start with the first job and stop after a few idle seconds,
or with the server.

A scenario run is carried out in a child process of its own (spawned), so that its
time limit holds for the whole run: the child is killed at the deadline. Children die
with the server: killed when it stops, and (Linux) sent SIGKILL by the kernel if the
server dies without stopping them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from agency import jobs as store
from agency.models import Job, JobStatus
from api.metrics import observe_job

log = logging.getLogger("api.jobs")

Progress = Callable[[dict[str, Any]], None]
Handler = Callable[[Job, Progress, "Workers"], dict[str, Any] | None]
"""Runs a job: its result (JSON-ready), or raises. Gets the job and a progress reporter."""

HEARTBEAT_SECONDS = 5.0
IDLE_SECONDS = 3.0


class JobRefused(Exception):  # noqa: N818  (what the user reads: the job was refused)
    """A job that cannot run, for a reason its user may read (kept as its error)."""


@dataclass
class _Kind:
    handler: Handler
    workers: int
    expected: tuple[type[BaseException], ...]


class Workers:
    """Worker threads per kind of job, and the child processes they started."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._kinds: dict[str, _Kind] = {}
        self._threads: dict[str, list[threading.Thread]] = {}
        self._wake: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._running: dict[int, dict[str, Any]] = {}  # job id -> latest progress
        self._children: set[multiprocessing.process.BaseProcess] = set()
        self._beat: threading.Thread | None = None

    def register(
        self,
        kind: str,
        handler: Handler,
        workers: int,
        expected: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._kinds[kind] = _Kind(handler, workers, (JobRefused, *expected))
        self._wake[kind] = threading.Event()
        self._threads[kind] = []

    # ------------------------------------------------------------------ lifecycle

    def recover(self) -> list[Job]:
        """At start-up: the jobs a dead process held, marked interrupted; then start the
        workers for whatever is queued."""
        self._stopping.clear()  # a service started again (tests start one app twice)
        gone = store.mark_interrupted(self.engine)
        for kind in self._kinds:
            self.wake(kind)
        return gone

    def wake(self, kind: str) -> None:
        """A job of ``kind`` was queued: make sure enough workers look for it."""
        if self._stopping.is_set():
            return
        self._wake[kind].set()
        with self._lock:
            alive = [t for t in self._threads[kind] if t.is_alive()]
            self._threads[kind] = alive
            for k in range(len(alive), self._kinds[kind].workers):
                t = threading.Thread(
                    target=self._loop, args=(kind,), daemon=True, name=f"housing-{kind}-{k}"
                )
                alive.append(t)
                t.start()
            if self._beat is None or not self._beat.is_alive():
                self._beat = threading.Thread(
                    target=self._heartbeats, daemon=True, name="housing-heartbeat"
                )
                self._beat.start()

    def stop(self) -> None:
        """Stop: children killed, this process's running jobs marked interrupted."""
        self._stopping.set()
        for event in self._wake.values():
            event.set()
        with self._lock:
            children = list(self._children)
        for child in children:
            if child.is_alive():
                child.kill()
        for child in children:
            child.join(5)
        try:
            store.mark_interrupted(self.engine, this_process_only=True)
        except Exception as exc:  # the database may be gone already
            log.warning("could not mark running jobs interrupted: %s", type(exc).__name__)

    # ------------------------------------------------------------------ children

    def adopt(self, child: multiprocessing.process.BaseProcess) -> None:
        with self._lock:
            self._children.add(child)

    def release(self, child: multiprocessing.process.BaseProcess) -> None:
        with self._lock:
            self._children.discard(child)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    # ------------------------------------------------------------------ the loops

    def _loop(self, kind: str) -> None:
        idle_since = time.monotonic()
        while not self._stopping.is_set():
            try:
                job = store.claim_next(self.engine, kind)
            except Exception as exc:
                log.error("claiming a %s job failed: %s", kind, type(exc).__name__)
                job = None
            if job is None:
                if time.monotonic() - idle_since > IDLE_SECONDS:
                    return
                self._wake[kind].wait(0.5)
                self._wake[kind].clear()
                continue
            self._run(kind, job)
            idle_since = time.monotonic()

    def _run(self, kind: str, job: Job) -> None:
        assert job.id is not None
        spec = self._kinds[kind]
        job_id = job.id
        events = 0
        last_write = 0.0
        with self._lock:
            self._running[job_id] = {}

        def progress(p: dict[str, Any]) -> None:
            nonlocal events, last_write
            events += 1
            clean = {k: v for k, v in p.items() if isinstance(v, int | float | str | None)}
            clean["events"] = events
            with self._lock:
                self._running[job_id] = clean
            if time.monotonic() - last_write >= 1.0:  # the database, once a second
                last_write = time.monotonic()
                store.heartbeat(self.engine, [job_id], {job_id: clean})

        started = time.perf_counter()
        outcome = JobStatus.failed.value
        try:
            result = spec.handler(job, progress, self)
            outcome = JobStatus.done.value
        except spec.expected as exc:
            store.finish(
                self.engine,
                job_id,
                JobStatus.failed,
                error=str(exc),
                progress=self._running.get(job_id),
            )
            log.info("job %s (%s %s) refused: %s", job.ref, kind, job.subject, type(exc).__name__)
        except Exception as exc:
            if self._stopping.is_set():
                return  # marked interrupted by stop()
            store.finish(
                self.engine,
                job_id,
                JobStatus.failed,
                error="internal error",
                progress=self._running.get(job_id),
            )
            log.error("job %s (%s %s) failed: %s", job.ref, kind, job.subject, type(exc).__name__)
        else:
            store.finish(
                self.engine,
                job_id,
                JobStatus.done,
                result=result,
                progress=self._running.get(job_id),
            )
        finally:
            with self._lock:
                self._running.pop(job_id, None)
            observe_job(kind, outcome, time.perf_counter() - started)

    def _heartbeats(self) -> None:
        while not self._stopping.wait(HEARTBEAT_SECONDS):
            with self._lock:
                running = dict(self._running)
                idle = not running and not any(
                    t.is_alive() for ts in self._threads.values() for t in ts
                )
            if idle:
                return
            try:
                store.heartbeat(self.engine, running, running)
            except Exception as exc:
                log.warning("heartbeat failed: %s", type(exc).__name__)


def die_with_parent() -> None:
    """In a child process: be killed when the parent dies (Linux), however it dies."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before prctl
            os._exit(1)
    except (OSError, AttributeError):
        pass
