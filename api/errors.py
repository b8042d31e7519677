"""One error body for every failure, API and pages alike::

    {"error": {"code": "not_found", "message": "...", "fields": [{"field": "...",
               "message": "..."}]}}

Pages (paths outside ``/api/``) get the same information as an HTML page. Errors are logged
by class and route only: an exception's message may quote a person's data.

The agency's typed errors (:mod:`agency.errors`) get their status here, by their class and
never by their message: not found 404; a duplicate, a round's state or a conflict when
closing 409; input the records or a round refuse 422, naming the field.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from agency.errors import (
    DuplicateError,
    NotFoundError,
    RecordError,
    RoundConflict,
    RoundInputError,
    RoundStateError,
)

log = logging.getLogger("api")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal",
    503: "unavailable",
}

PageRenderer = Callable[[Request, int, str, str, list[dict[str, str]]], Response]


class ApiError(Exception):
    """An error with its HTTP status, code, message and the fields at fault."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        fields: Sequence[dict[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.fields = list(fields)
        self.headers = headers


class LoginRequiredError(Exception):
    """A page needs a logged-in user: redirect to the login page."""


def body(code: str, message: str, fields: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": list(fields)}}


def is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path.endswith(".json") or path == "/metrics"


def _validation_fields(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:] if len(loc) > 1 else loc
        out.append({"field": ".".join(loc) or "body", "message": str(err.get("msg", ""))})
    return out


AGENCY_ERRORS = (NotFoundError, RecordError, RoundStateError, RoundInputError)
"""The agency's typed errors (duplicates and conflicts are kinds of these)."""


def agency_problem(exc: Exception) -> tuple[int, str, str, list[dict[str, str]]]:
    """The status, code, message and fields of one of :data:`AGENCY_ERRORS`: the one place
    that decides which status each kind gets (the API's handlers and the pages use it)."""
    if isinstance(exc, NotFoundError):
        return 404, "not_found", f"no {exc.entity} {exc.ref}", []
    if isinstance(exc, DuplicateError):
        return 409, "conflict", str(exc), [{"field": exc.field, "message": exc.message}]
    if isinstance(exc, RecordError | RoundInputError):
        return 422, "invalid", str(exc), [{"field": exc.field, "message": exc.message}]
    if isinstance(exc, RoundConflict):
        return (
            409,
            "conflict",
            str(exc),
            [{"field": "conflict", "message": c} for c in exc.conflicts],
        )
    if isinstance(exc, RoundStateError):
        return 409, "conflict", str(exc), []
    raise TypeError(f"not an error of the agency: {type(exc).__name__}")


def install(
    app: FastAPI, page: PageRenderer, on_denied: Callable[[Request, NotFoundError], None]
) -> None:
    """Register the handlers that give every error the one body shape."""

    def respond(
        request: Request,
        status: int,
        code: str,
        message: str,
        fields: Sequence[dict[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> Response:
        if is_api(request):
            return JSONResponse(body(code, message, fields), status_code=status, headers=headers)
        resp = page(request, status, code, message, list(fields))
        if headers:
            resp.headers.update(headers)
        return resp

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return respond(request, exc.status, exc.code, exc.message, exc.fields, exc.headers)

    @app.exception_handler(LoginRequiredError)
    async def _login(request: Request, exc: LoginRequiredError) -> Response:
        if is_api(request):
            return JSONResponse(body("unauthorized", "log in first"), status_code=401)
        target = request.url.path
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return respond(request, 422, "invalid", "the request is not valid", _validation_fields(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else CODES.get(exc.status_code, "")
        return respond(
            request,
            exc.status_code,
            CODES.get(exc.status_code, "error"),
            message,
            headers=getattr(exc, "headers", None),
        )

    async def _agency(request: Request, exc: Exception) -> Response:
        if isinstance(exc, NotFoundError) and exc.denied:
            await run_in_threadpool(on_denied, request, exc)
        return respond(request, *agency_problem(exc))

    for kind in AGENCY_ERRORS:
        app.add_exception_handler(kind, _agency)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        route = request.scope.get("route")
        log.error(
            "unhandled %s on %s %s", type(exc).__name__, request.method, getattr(route, "path", "?")
        )
        return respond(request, 500, "internal", "internal error")
