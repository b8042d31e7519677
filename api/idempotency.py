"""Idempotency keys: a POST sent twice with the same key is carried out once.

A client (or a double-clicked form) may send a POST again: the network failed, the user
clicked twice. With an ``Idempotency-Key`` header (API) or an ``idempotency_key`` field
(every form of the pages carries a fresh one), the first request's answer is stored for
a day, per user and key:

- the same key with the same request (method, path, query and body) gets the stored
  answer again (``Idempotent-Replayed: true``), and nothing is done twice;
- the same key with another request is refused (422) on the API; on the pages it is a new
  request (the back button, an edited form sent again);
- while the first is still under way, the second waits for its answer (up to
  ``WAIT_SECONDS``, then 409);
- an answer of 500 or more is not stored: the request may be tried again.

Every POST of the API takes the key but logging in and out (the OpenAPI document says
so); what creates or moves people and money (records, imports, rounds, offers, answers,
closes, grants) is exactly what the key protects. The reservation is a row of
``idempotency_key`` whose ``(user_id, key)`` is unique: two requests racing on one key
meet on that index, in any number of processes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select
from starlette.concurrency import run_in_threadpool

from agency.db import write_session
from agency.models import AuthSession, IdempotencyRecord
from api.asgi import ASGIApp, Message, Receive, Scope, Send, replay
from api.security import token_hash

HEADER = "idempotency-key"
FORM_FIELD = "idempotency_key"
KEEP = timedelta(hours=24)
WAIT_SECONDS = 30.0
EXEMPT = ("/api/v1/auth/login", "/api/v1/auth/logout", "/login", "/logout")
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
COOKIE = "housing_session"


def _now() -> datetime:
    return datetime.now(UTC)


def user_of(engine: Engine, token: str | None) -> int | None:
    """The user of a valid session token (read only: the request itself refreshes it)."""
    if not token or len(token) > 200:
        return None
    with Session(engine) as s:
        auth = s.exec(
            select(AuthSession).where(AuthSession.token_hash == token_hash(token))
        ).first()
        if auth is None or auth.revoked_at is not None or auth.expires_at <= _now():
            return None
        return auth.user_id


def request_hash(scope: Scope, body: bytes, ctype: str) -> str:
    """What makes two requests the same: method, path, query and body (a multipart
    body's random boundary left out)."""
    if ctype.startswith("multipart/form-data"):
        m = re.search(r"boundary=\"?([^\";]+)", ctype)
        if m:
            body = body.replace(m.group(1).encode("latin-1"), b"--")
    h = hashlib.sha256()
    for part in (
        scope["method"].encode(),
        scope.get("raw_path") or scope["path"].encode(),
        scope.get("query_string", b""),
        body,
    ):
        h.update(part + b"\x00")
    return h.hexdigest()


class Idempotency:
    """The ASGI middleware (inside the body limit, which has read the body already)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        is_api = scope["path"].startswith("/api/")
        ctype = headers.get("content-type", "")
        message = await receive()
        body = message.get("body", b"") if message["type"] == "http.request" else b""
        again = replay(message)
        key = headers.get(HEADER) if is_api else None
        if not is_api and ctype.startswith("application/x-www-form-urlencoded"):
            values = parse_qs(body.decode("utf-8", "replace")).get(FORM_FIELD)
            key = values[0] if values else None
        if key is None:
            await self.app(scope, again, send)
            return
        if not _KEY.match(key):
            await _json(
                send,
                422,
                "invalid",
                "Idempotency-Key: 1 to 200 visible ASCII characters",
                "Idempotency-Key",
            )
            return
        app_state = scope["app"].state
        engine: Engine = app_state.engine
        auth = headers.get("authorization", "")
        token = (
            auth[7:].strip()
            if is_api and auth.lower().startswith("bearer ")
            else _cookie(headers.get("cookie", ""))
        )
        user_id = await run_in_threadpool(user_of, engine, token)
        if user_id is None:  # not logged in: the route answers 401 or the login page
            await self.app(scope, again, send)
            return
        digest = request_hash(scope, body, ctype)
        found = await run_in_threadpool(_reserve, app_state, user_id, key, digest)
        if found is not None:
            if found.request_sha256 != digest:
                if is_api:
                    await _json(
                        send,
                        422,
                        "invalid",
                        "Idempotency-Key: already used for another request",
                        "Idempotency-Key",
                    )
                else:
                    await self.app(scope, again, send)
                return
            stored = await _answer(app_state, found)
            if stored is None:
                await _json(
                    send,
                    409,
                    "conflict",
                    "a request with this Idempotency-Key is still under way: try again shortly",
                    "Idempotency-Key",
                )
                return
            await _send_stored(send, stored)
            return
        status: list[int] = []
        out_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                status.append(int(msg["status"]))
                out_headers.extend(msg.get("headers", []))
            elif msg["type"] == "http.response.body":
                chunks.append(msg.get("body", b""))
            await send(msg)

        try:
            await self.app(scope, again, capture)
        except BaseException:
            await run_in_threadpool(_forget, app_state, user_id, key)
            raise
        code = status[0] if status else 500
        await run_in_threadpool(
            _store, app_state, user_id, key, code, out_headers, b"".join(chunks)
        )


def _cookie(header: str) -> str | None:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def _session(app_state: Any) -> Any:
    """A write session queued like the requests' (SQLite) on the app's engine."""
    return write_session(app_state.engine)


def _reserve(app_state: Any, user_id: int, key: str, digest: str) -> IdempotencyRecord | None:
    """Reserve the key (None), or the row already there for it."""
    try:
        with _session(app_state) as s:
            s.exec(
                delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < _now() - KEEP)
            )
            s.add(IdempotencyRecord(user_id=user_id, key=key, request_sha256=digest))
        return None
    except IntegrityError:
        with Session(app_state.engine) as s:
            found = s.exec(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
                )
            ).first()
            if found is None:  # the first request failed meanwhile: try as new
                return _reserve(app_state, user_id, key, digest)
            s.expunge(found)
            return found


async def _answer(app_state: Any, found: IdempotencyRecord) -> IdempotencyRecord | None:
    """The stored answer, waiting for the first request to end."""
    waited = 0.0
    row: IdempotencyRecord | None = found
    while row is not None and row.status_code is None and waited < WAIT_SECONDS:
        await asyncio.sleep(0.1)
        waited += 0.1
        row = await run_in_threadpool(_load, app_state.engine, found.user_id, found.key)
    return row if row is not None and row.status_code is not None else None


def _load(engine: Engine, user_id: int, key: str) -> IdempotencyRecord | None:
    with Session(engine) as s:
        row = s.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
            )
        ).first()
        if row is not None:
            s.expunge(row)
        return row


def _forget(app_state: Any, user_id: int, key: str) -> None:
    with _session(app_state) as s:
        s.exec(
            delete(IdempotencyRecord).where(
                col(IdempotencyRecord.user_id) == user_id, col(IdempotencyRecord.key) == key
            )
        )


def _store(
    app_state: Any,
    user_id: int,
    key: str,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
) -> None:
    if status >= 500:
        _forget(app_state, user_id, key)
        return
    named = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    with _session(app_state) as s:
        row = s.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
            )
        ).first()
        if row is None:
            return
        row.status_code = status
        row.content_type = named.get("content-type", "")[:200] or None
        row.location = named.get("location", "")[:500] or None
        row.body = text
        s.add(row)


async def _send_stored(send: Send, row: IdempotencyRecord) -> None:
    body = (row.body or "").encode("utf-8")
    headers = [
        (b"content-length", str(len(body)).encode()),
        (b"idempotent-replayed", b"true"),
        (b"cache-control", b"no-store"),
    ]
    if row.content_type:
        headers.append((b"content-type", row.content_type.encode("latin-1")))
    if row.location:
        headers.append((b"location", row.location.encode("latin-1")))
    await send(
        {"type": "http.response.start", "status": row.status_code or 200, "headers": headers}
    )
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, status: int, code: str, message: str, field: str) -> None:
    raw = json.dumps(
        {
            "error": {
                "code": code,
                "message": message,
                "fields": [{"field": field, "message": message}],
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})


def document(schema: dict[str, Any]) -> None:
    """Declare the optional ``Idempotency-Key`` header on every POST of the API."""
    for path, ops in schema.get("paths", {}).items():
        post = ops.get("post")
        if post is None or path in EXEMPT:
            continue
        post.setdefault("parameters", []).append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Send the same key again to get the first answer again, the "
                "request carried out once (a day; per user).",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "pattern": "^[\\x21-\\x7e]+$",
                },
            }
        )
