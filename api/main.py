"""The service: ``create_app(settings)`` builds the FastAPI application.

A thin layer over :mod:`agency`: routers per resource under ``/api/v1`` (bearer tokens),
server-rendered pages for the staff (session cookie, CSRF tokens on forms), one error
body, a body size limit, and an access log that names routes, never people.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from agency.db import get_engine, is_sqlite
from agency.records import NotFoundError
from api import job_handlers, metrics, storage
from api import permissions as perms
from api.asgi import ASGIApp, Receive, Scope, Send, replay
from api.deps import Principal, TransactionQueue, audit_denied, metrics_access, require
from api.errors import ApiError, body, install
from api.idempotency import Idempotency, document
from api.pages import router as pages_router
from api.pages.common import render_error
from api.routes import router as api_router
from api.settings import Settings
from api.throttle import Throttle

log = logging.getLogger("api")
access = logging.getLogger("api.access")

STATIC = {
    "style.css": "text/css; charset=utf-8",
    "poll.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


class BodyLimit:
    """Refuse request bodies over the limit (larger for file uploads) with a 413."""

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int) -> None:
        self.app, self.max_body, self.max_upload = app, max_body, max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        ctype = headers.get(b"content-type", b"").decode("latin-1")
        limit = self.max_upload if ctype.startswith("multipart/form-data") else self.max_body
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False
            if too_big:
                await _send_json(
                    send, 413, body("too_large", f"the request body is larger than {limit} bytes")
                )
                return
        # read the body here, up to the limit, then hand it on: an error raised while the
        # application reads would become its own 400
        chunks: list[bytes] = []
        seen = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, replay(message), send)
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await _send_json(
                    send, 413, body("too_large", f"the request body is larger than {limit} bytes")
                )
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        content = b"".join(chunks)
        if _has_nul(scope, content, ctype):
            await _send_json(
                send,
                422,
                body(
                    "invalid",
                    "NUL characters are not allowed in a request",
                    [{"field": "request", "message": "NUL"}],
                ),
            )
            return
        await self.app(
            scope, replay({"type": "http.request", "body": content, "more_body": False}), send
        )


def _has_nul(scope: Scope, content: bytes, ctype: str) -> bool:
    """A NUL character anywhere in the path, the query or a text body (PostgreSQL refuses
    it in text, and no field of ours may hold it)."""
    raw = bytes(scope.get("raw_path") or b"") + b"?" + bytes(scope.get("query_string") or b"")
    if b"\x00" in raw or b"%00" in raw or "\x00" in scope.get("path", ""):
        return True
    if ctype.startswith("multipart/form-data"):  # files may be binary (XLSX): each upload
        return False  # checks its own text
    if ctype.startswith("application/x-www-form-urlencoded") and b"%00" in content:
        return True
    return b"\x00" in content or b"\\u0000" in content


async def _send_json(send: Send, status: int, content: dict[str, Any]) -> None:
    raw = json.dumps(content).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})


def route_template(request: Request) -> str:
    """The matched route's path template (``/api/v1/beneficiaries/{ref}``), or
    ``(no route)``: what the access log writes."""
    # FastAPI keeps included routers nested: the route's own path lacks their prefixes,
    # the effective context has the whole template (``/api/v1/...``)
    effective = (request.scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(effective, "path", None)
    if not isinstance(template, str):
        template = getattr(request.scope.get("route"), "path", None)
    if not isinstance(template, str):
        return "(no route)"
    return template


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
}


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The application, on ``engine`` or on the settings' database (default: the embedded
    SQLite file, created and migrated on first use)."""
    settings = settings or Settings()
    engine = engine or get_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the jobs a dead process held are interrupted; queued ones start again
        await run_in_threadpool(job_handlers.recover, app.state.workers)
        yield
        await run_in_threadpool(app.state.workers.stop)

    app = FastAPI(
        title="housing-match",
        version="1",
        summary="Social housing intermediation agency: records, allocation rounds, offers.",
        description=(
            "Authenticate with `POST /api/v1/auth/login`, then send "
            "`Authorization: Bearer <token>`. Money is integer euro cents. Lists take "
            "`limit` (at most 200) and `offset`. Every error has the body "
            '`{"error": {"code", "message", "fields": [{"field", "message"}]}}`.'
        ),
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.workers = job_handlers.install(engine, settings)  # solves and scenario runs, apart
    app.state.transactions = TransactionQueue() if is_sqlite(engine) else None

    app.state.throttle = Throttle(settings)

    def on_denied(request: Request, exc: NotFoundError) -> None:
        who: Principal | None = getattr(request.state, "principal", None)
        if who is not None:
            audit_denied(
                engine,
                who.actor,
                "read",
                exc.entity.replace(" ", "_"),
                exc.ref,
                {"reason": "other office"},
            )

    install(app, render_error, on_denied)
    storage.install(app, render_error)

    @app.middleware("http")
    async def access_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        rid = metrics.new_request_id(request.headers.get("x-request-id"))
        token = metrics.request_id.set(rid)
        try:
            response = await call_next(request)
        finally:
            metrics.request_id.reset(token)
        response.headers["X-Request-ID"] = rid
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        # personal data must stay in no cache (the static files set their own)
        response.headers.setdefault("Cache-Control", "no-store")
        if request.url.scheme == "https" and settings.hsts_seconds:
            response.headers.setdefault(
                "Strict-Transport-Security", f"max-age={settings.hsts_seconds}"
            )
        # the route's template, never the path as sent (``/beneficiaries/Amadou`` on no
        # route) nor the query string (a search may hold a name)
        route, seconds = route_template(request), time.perf_counter() - start
        metrics.observe_request(request.method, route, response.status_code, seconds)
        access.info(
            "%s %s %d %.1fms",
            request.method,
            route,
            response.status_code,
            1000 * seconds,
            extra={
                "request_id": rid,
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(1000 * seconds, 1),
            },
        )
        return response

    app.add_middleware(Idempotency)  # inside the body limit: the body is read already
    app.add_middleware(
        BodyLimit, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes
    )
    if settings.trusted_proxies:
        # only then is X-Forwarded-For believed, and only from those addresses
        app.add_middleware(
            ProxyHeadersMiddleware,
            trusted_hosts=[h.strip() for h in settings.trusted_proxies.split(",") if h.strip()],
        )

    @app.get(
        "/health",
        tags=["meta"],
        dependencies=[require(perms.PUBLIC)],
        responses={503: {"description": "the database cannot do its work now"}},
    )
    async def health(request: Request) -> JSONResponse:
        """200 when the database answers, takes writes and (embedded file) has disk room,
        and no background job has stalled; 503 naming what is wrong otherwise (database:
        read_only, disk_full, unreachable, schema; jobs: stalled)."""
        return await storage.health_answer(request)

    @app.get(
        "/metrics",
        tags=["meta"],
        include_in_schema=False,
        dependencies=[metrics_access()],
    )
    def prometheus() -> Response:
        """Prometheus' scrape: HOUSING_METRICS_TOKEN as the bearer, or an admin's token."""
        content, media_type = metrics.render(engine)
        return Response(content, media_type=media_type)

    @app.get(
        "/openapi.json",
        tags=["meta"],
        include_in_schema=False,
        dependencies=[require(perms.PUBLIC)],
    )
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get(
        "/static/{name}",
        tags=["meta"],
        include_in_schema=False,
        dependencies=[require(perms.PUBLIC)],
    )
    def static(name: str) -> Response:
        if name not in STATIC:
            raise ApiError(404, f"no static file {name}")
        data = resources.files("api").joinpath("static", name).read_bytes()
        return Response(
            data, media_type=STATIC[name], headers={"Cache-Control": "public, max-age=3600"}
        )

    app.include_router(api_router)
    app.include_router(pages_router)

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            schema["security"] = [{"bearer": []}]
            document(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    return app


def worker_app() -> FastAPI:
    """The application of one of ``housing serve --workers N``'s processes (uvicorn's
    factory): its settings from the environment, its logs as the command set them."""
    metrics.configure_logging(os.environ.get("HOUSING_LOG_LEVEL", "info"))
    return create_app(Settings())
