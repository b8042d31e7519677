"""What operators see: ``/metrics`` for Prometheus, and the log's JSON lines.

**Metrics.** Request latency by method, route *template* and status (never a path as sent:
``/beneficiaries/{ref}``, not a ref), background jobs' duration by kind and outcome (a
round's solve is ``round.solve``), and, read at each scrape, the jobs queued, running and
stalled (from the database: every process's), and this process's database pool. Under
``housing serve --workers N`` the request and job metrics of every worker process are
summed through ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode, set
up by the command); the pool's figures are those of the process that answered.

``/metrics`` is protected like the rest: ``Authorization: Bearer <HOUSING_METRICS_TOKEN>``
(for the scraper) or an admin's bearer token.

**Logs.** With ``HOUSING_LOG_FORMAT=json`` every log record is one JSON object a line:
time, level, logger, message, the process id, and for requests the request id (the
client's ``X-Request-ID`` when it is a plain token, else a new one, sent back), the
method, the route template, the status and the duration. No query string, no path as
sent, no body: no personal data.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, col, func, select

from agency.health import stalled_jobs
from agency.models import Job, JobStatus

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_SECONDS = Histogram(
    "housing_http_request_duration_seconds",
    "Time to answer a request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
JOB_SECONDS = Histogram(
    "housing_job_duration_seconds",
    "Time a background job ran (a round's solve is kind round.solve), by outcome.",
    ["kind", "status"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)


def observe_job(kind: str, status: str, seconds: float) -> None:
    JOB_SECONDS.labels(kind, status).observe(seconds)


class _StateCollector(Collector):
    """Figures read when scraped: the job queue (the database's) and this pool."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        jobs = GaugeMetricFamily(
            "housing_jobs", "Background jobs queued or running, by kind.", labels=["kind", "status"]
        )
        stalled = GaugeMetricFamily(
            "housing_jobs_stalled", "Running jobs with no heartbeat for a minute or more."
        )
        with Session(self.engine) as s:
            rows = s.exec(
                select(Job.kind, Job.status, func.count())
                .where(col(Job.status).in_([JobStatus.queued.value, JobStatus.running.value]))
                .group_by(col(Job.kind), col(Job.status))
            ).all()
            seen = {(str(k), str(st)): n for k, st, n in rows}
            for kind in sorted({k for k, _ in seen} | {"round.solve"}):
                for status in (JobStatus.queued.value, JobStatus.running.value):
                    jobs.add_metric([kind, status], seen.get((kind, status), 0))
            stalled.add_metric([], stalled_jobs(s))
        yield jobs
        yield stalled
        pool = self.engine.pool
        if isinstance(pool, QueuePool):
            for name, text, value in (
                ("size", "Connections the pool keeps.", pool.size()),
                ("checked_out", "Connections in use now.", pool.checkedout()),
                ("overflow", "Connections over the pool's size now.", max(0, pool.overflow())),
            ):
                g = GaugeMetricFamily(f"housing_db_pool_{name}", text, labels=["pid"])
                g.add_metric([str(os.getpid())], value)
                yield g


def render(engine: Engine) -> tuple[bytes, str]:
    """The exposition text of every process's metrics and the state read now."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(REQUEST_SECONDS)
        registry.register(JOB_SECONDS)
    registry.register(_StateCollector(engine))
    return generate_latest(registry), CONTENT_TYPE_LATEST


# --------------------------------------------------------------------------- logs

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_request_id(given: str | None) -> str:
    """The client's (or proxy's) X-Request-ID if it is a plain token, else a new one."""
    if given and _SAFE_ID.match(given):
        return given
    return secrets.token_hex(8)


FIELDS = ("request_id", "method", "route", "status", "duration_ms", "job", "kind")


class JsonFormatter(logging.Formatter):
    """One JSON object a line (what log shippers read)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            out["request_id"] = rid
        for key in FIELDS[1:]:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            out["error"] = record.exc_info[0].__name__  # the type only: no values
        return json.dumps(out, ensure_ascii=False)


def log_format() -> str:
    return os.environ.get("HOUSING_LOG_FORMAT", "text").strip().lower()


def configure_logging(level: str = "info", fmt: str | None = None) -> logging.Handler:
    """The root logger: JSON lines (``HOUSING_LOG_FORMAT=json``) or plain text, at
    ``level``; uvicorn's loggers write through it. Returns the handler it added (and
    removes the one an earlier call added)."""
    handler = logging.StreamHandler()
    handler.housing = True  # type: ignore[attr-defined]
    if (fmt or log_format()) == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "housing", False):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    return handler


@contextlib.contextmanager
def logging_configured(level: str = "info", fmt: str | None = None) -> Iterator[None]:
    """:func:`configure_logging` for the block; the root logger as it was afterwards."""
    root = logging.getLogger()
    before = root.level
    handler = configure_logging(level, fmt)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
