"""Dependencies: the database session, the current user and the permission checks.

``SessionDep`` is a session per request, committed when the handler returns (before the
response goes out) and rolled back on any error. ``require(permission)`` (API: bearer
token) and ``page(permission)`` (pages: the session cookie, and the CSRF token on every
form post) authenticate the caller and check the role's permission; a refusal is logged in
the audit log with ``outcome="denied"``.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from agency.audit import Actor, record
from agency.db import write_session
from agency.models import Role
from api import permissions as perms
from api.errors import ApiError, LoginRequiredError
from api.security import csrf_ok, csrf_token, resolve
from api.settings import Settings

COOKIE = "housing_session"
CSRF_FIELD = "csrf_token"


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class TransactionQueue:
    """On SQLite, the requests' transactions of this process one at a time, each waiting
    on a lock that wakes it as soon as the previous one ends (SQLite's own busy handler
    polls with growing sleeps, which made the slowest requests wait most of a second
    under load). Other processes, and this process's solve and close jobs, still meet on
    SQLite's lock itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def attach(self, session: Session) -> None:
        @event.listens_for(session, "after_transaction_create")
        def _begin(sess: Session, trans: Any) -> None:
            if trans.parent is None and not sess.info.get("queued"):
                self._lock.acquire()
                sess.info["queued"] = True

        @event.listens_for(session, "after_transaction_end")
        def _end(sess: Session, trans: Any) -> None:
            if trans.parent is None and sess.info.pop("queued", False):
                self._lock.release()


def get_session(request: Request) -> Iterator[Session]:
    # On SQLite every request may write (an audited read writes its audit entry), so its
    # transaction takes the write lock at BEGIN and waits for it there (BEGIN IMMEDIATE):
    # a read transaction that tries to write after another commit would fail at once.
    # On PostgreSQL the option does nothing, and there is no queue.
    engine = get_engine(request)
    bind = engine.execution_options(housing_write=True)
    with Session(bind, expire_on_commit=False) as session:
        queue: TransactionQueue | None = getattr(request.app.state, "transactions", None)
        if queue is not None:
            queue.attach(session)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user_id: int
    username: str
    full_name: str
    role: Role
    office_id: int | None
    token_hash: str

    @property
    def actor(self) -> Actor:
        return Actor(username=self.username, user_id=self.user_id, office_id=self.office_id)

    @property
    def scope(self) -> int | None:
        """The office whose records this user may reach (None: every office)."""
        return None if self.role is Role.admin else self.office_id

    @property
    def csrf(self) -> str:
        return csrf_token(self.token_hash)

    def can(self, permission: str) -> bool:
        return perms.allowed(self.role, permission)


def audit_denied(
    engine: Engine,
    actor: Actor,
    action: str,
    entity: str,
    entity_ref: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """A refusal, in the log at once (the request's own transaction is rolled back)."""
    with write_session(engine) as s:
        record(s, actor, action, entity, entity_ref, outcome="denied", detail=detail)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class Require:
    """A route's permission: authenticates the caller and checks the role."""

    def __init__(self, permission: str, *, via: str) -> None:
        if permission != perms.PUBLIC and permission not in perms.ALL:
            raise ValueError(f"unknown permission {permission!r}")
        self.permission = permission
        self.via = via  # "bearer" (API) or "cookie" (pages)

    def __repr__(self) -> str:
        return f"Require({self.permission!r}, via={self.via!r})"

    @staticmethod
    def _deny(
        session: Session, request: Request, who: Principal, action: str, detail: dict[str, Any]
    ) -> None:
        session.rollback()  # frees the write lock for the denial's own transaction
        audit_denied(request.app.state.engine, who.actor, action, "request", None, detail)

    async def _form_csrf(self, request: Request) -> str | None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            return value if isinstance(value, str) else None
        return request.headers.get("x-csrf-token")

    async def __call__(
        self, request: Request, session: SessionDep, settings: SettingsDep
    ) -> Principal | None:
        # async to read a posted form's CSRF token; every database call goes to the thread
        # pool (blocking the event loop on SQLite's write lock would stall every request)
        if self.permission == perms.PUBLIC:
            return None
        token = _bearer(request) if self.via == "bearer" else request.cookies.get(COOKIE)
        found = await run_in_threadpool(resolve, session, token, settings) if token else None
        if found is None:
            if self.via == "cookie":
                raise LoginRequiredError()
            raise ApiError(
                401,
                "log in first: send 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        user, auth = found
        assert user.id is not None
        who = Principal(
            user_id=user.id,
            username=user.username,
            full_name=user.full_name,
            role=Role(user.role),
            office_id=user.office_id,
            token_hash=auth.token_hash,
        )
        request.state.principal = who
        unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
        if (
            self.via == "cookie"
            and unsafe
            and not csrf_ok(auth.token_hash, await self._form_csrf(request))
        ):
            await run_in_threadpool(
                self._deny, session, request, who, "csrf", {"permission": self.permission}
            )
            raise ApiError(403, "the form has expired: reload the page and try again", code="csrf")
        if not who.can(self.permission):
            await run_in_threadpool(
                self._deny,
                session,
                request,
                who,
                "denied",
                {
                    "permission": self.permission,
                    "route": getattr(request.scope.get("route"), "path", "?"),
                },
            )
            raise ApiError(403, f"your role ({who.role.value}) may not do this ({self.permission})")
        return who


def require(permission: str) -> Any:
    """The API route's permission (bearer token), as a dependency giving the Principal."""
    return Depends(Require(permission, via="bearer"))


class MetricsRequire(Require):
    """``/metrics``: the scraper's ``HOUSING_METRICS_TOKEN`` as the bearer, or a user
    holding the metrics permission (an admin), by bearer token or page session."""

    def __init__(self) -> None:
        super().__init__(perms.METRICS_READ, via="bearer")
        self._page = Require(perms.METRICS_READ, via="cookie")

    async def __call__(
        self, request: Request, session: SessionDep, settings: SettingsDep
    ) -> Principal | None:
        given, expected = _bearer(request), settings.metrics_token
        if given and expected and hmac.compare_digest(given.encode(), expected.encode()):
            return None
        if given is None and request.cookies.get(COOKIE):
            return await self._page(request, session, settings)
        return await super().__call__(request, session, settings)


def metrics_access() -> Any:
    return Depends(MetricsRequire())


def page(permission: str) -> Any:
    """The page route's permission (session cookie + CSRF on posts)."""
    return Depends(Require(permission, via="cookie"))


def declared_permission(route: Any) -> str | None:
    """The permission a route declared (None if it declared none)."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant else []
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Require):
            return dep.call.permission
        stack.extend(dep.dependencies)
    return None


def walk_routes(
    routes: list[Any], prefix: str = "", inherited: tuple[Any, ...] = ()
) -> Iterator[tuple[str, Any, tuple[Any, ...]]]:
    """Every route of an application, with its full path and the dependencies its routers
    add (FastAPI keeps included routers nested)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            ctx = route.include_context
            yield from walk_routes(
                list(included.routes), prefix + ctx.prefix, inherited + tuple(ctx.dependencies)
            )
        else:
            yield prefix + getattr(route, "path", ""), route, inherited


def route_permission(route: Any, inherited: tuple[Any, ...] = ()) -> str | None:
    """The permission a route declared, on itself or through its routers."""
    for dep in inherited:
        if isinstance(getattr(dep, "dependency", None), Require):
            return str(dep.dependency.permission)
    return declared_permission(route)
