"""Storage failures answered clearly (503 naming what happened), and ``/health`` telling
the truth about the database."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from agency import health
from agency.db import SchemaError
from api.errors import body, is_api

log = logging.getLogger("api")


def install(app: FastAPI, page: Any) -> None:
    """Handlers for a full disk, a read-only or absent database (before the bare 500)."""

    async def storage(request: Request, exc: Exception) -> Response:
        kind = health.classify(exc)
        if kind is None:
            route = request.scope.get("route")
            log.error(
                "unhandled %s on %s %s",
                type(exc).__name__,
                request.method,
                getattr(route, "path", "?"),
            )
            return _respond(request, page, 500, "internal", "internal error")
        log.error("storage failure (%s) on %s", kind, request.method)
        return _respond(
            request, page, 503, kind, health.MESSAGES[kind], headers={"Retry-After": "60"}
        )

    for exc_type in (sa.exc.DBAPIError, OSError, SchemaError):
        app.add_exception_handler(exc_type, storage)


def _respond(
    request: Request,
    page: Any,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    if is_api(request):
        return JSONResponse(body(code, message), status_code=status, headers=headers)
    resp: Response = page(request, status, code, message, [])
    if headers:
        resp.headers.update(headers)
    return resp


async def health_answer(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    engine = request.app.state.engine
    state = await run_in_threadpool(health.check, engine, settings.min_free_disk_bytes)
    if state != health.OK:
        return JSONResponse(
            {"status": "unavailable", "database": state, "message": health.MESSAGES[state]},
            status_code=503,
        )
    jobs = await run_in_threadpool(health.check_jobs, engine, settings.job_queue_max_wait_seconds)
    if jobs.state == health.OK:
        return JSONResponse({"status": "ok", "database": "ok", "jobs": "ok"})
    return JSONResponse(
        {
            "status": "unavailable",
            "database": "ok",
            "jobs": jobs.state,
            "stalled": jobs.stalled,
            "waiting": jobs.waiting,
            "message": "background jobs are not being run: "
            f"{jobs.stalled} running without a heartbeat, {jobs.waiting} queued too long "
            "(restart the service; see docs/deployment.md)",
        },
        status_code=503,
    )
