"""Logins, session tokens (idle timeout, absolute expiry, logout), the slowdown of failed
logins, CSRF on the pages' forms."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency import records
from agency.audit import Actor
from agency.models import AuditEntry, AuthSession, LoginAttempt
from api.main import create_app
from api.security import token_hash
from api.settings import Settings
from api.throttle import Throttle
from tests.api.conftest import PASSWORD, World, page_client


def form_login(c: TestClient, user: str, password: str, next: str = "/") -> Response:
    """Log in through the page's form, with the login form's CSRF token."""
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return c.post(
        "/login",
        data={"username": user, "password": password, "next": next, "csrf_token": token.group(1)},
    )


def login(client: TestClient, user: str, password: str = PASSWORD) -> tuple[int, dict]:
    res = client.post("/api/v1/auth/login", json={"username": user, "password": password})
    return res.status_code, res.json()


def test_login_issues_a_token_stored_only_as_its_hash(
    client: TestClient, world: World, engine: Engine
) -> None:
    status, body = login(client, "anna")
    assert status == 200 and body["token_type"] == "bearer"
    token = body["token"]
    assert len(token) >= 40 and body["user"] == {
        "username": "anna",
        "full_name": "Anna",
        "role": "caseworker",
        "office_id": world.fg,
        "active": True,
    }
    with Session(engine) as s:
        stored = s.exec(
            select(AuthSession).where(AuthSession.token_hash == token_hash(token))
        ).one()
        assert token not in stored.token_hash
        assert s.exec(select(LoginAttempt).where(LoginAttempt.user_id != None)).one().success  # noqa: E711
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == "anna"


def test_logout_revokes(client: TestClient, world: World) -> None:
    _, body = login(client, "anna")
    h = {"Authorization": f"Bearer {body['token']}"}
    assert client.post("/api/v1/auth/logout", headers=h).status_code == 204
    res = client.get("/api/v1/auth/me", headers=h)
    assert res.status_code == 401
    assert res.json()["error"]["code"] == "unauthorized"
    assert res.headers["www-authenticate"] == "Bearer"


def test_idle_timeout_and_absolute_expiry(client: TestClient, world: World, engine: Engine) -> None:
    h = world.headers("anna")
    assert client.get("/api/v1/auth/me", headers=h).status_code == 200
    with Session(engine) as s:
        auth = s.exec(
            select(AuthSession).where(AuthSession.token_hash == token_hash(world.tokens["anna"]))
        ).one()
        auth.last_seen_at -= timedelta(minutes=31)
        s.add(auth)
        other = s.exec(
            select(AuthSession).where(AuthSession.token_hash == token_hash(world.tokens["root"]))
        ).one()
        other.expires_at -= timedelta(hours=13)
        s.add(other)
        s.commit()
    assert client.get("/api/v1/auth/me", headers=h).status_code == 401
    assert client.get("/api/v1/auth/me", headers=world.headers("root")).status_code == 401
    assert client.get("/api/v1/auth/me", headers=world.headers("luca")).status_code == 200


def test_wrong_password_then_throttled(engine: Engine, world: World) -> None:
    app = create_app(Settings(login_delay_base_seconds=0.0, login_max_failures=3), engine)
    with TestClient(app) as client:
        for _ in range(3):
            status, body = login(client, "anna", "wrong password")
            assert status == 401 and body["error"]["code"] == "unauthorized"
        status, body = login(client, "anna")  # this client is locked, right password or not
        assert status == 429 and body["error"]["code"] == "too_many_requests"
        assert login(client, "nobody", "x")[0] == 429  # the same client address
    with Session(engine) as s:
        anna = records.user_by_username(s, "anna")
        assert anna is not None
        failures = s.exec(
            select(LoginAttempt).where(
                LoginAttempt.user_id == anna.id,
                LoginAttempt.success == False,  # noqa: E712
            )
        ).all()
        assert len(failures) == 3
        denied = s.exec(
            select(AuditEntry).where(AuditEntry.action == "login", AuditEntry.outcome == "denied")
        ).all()
        assert len(denied) >= 4


def test_failures_slow_down_exponentially() -> None:
    t = Throttle(Settings(login_delay_base_seconds=0.25, login_delay_max_seconds=2.0))
    assert [t.delay(n) for n in range(0, 6)] == [0.0, 0.25, 0.5, 1.0, 2.0, 2.0]


def test_unknown_and_inactive_users_cannot_log_in(
    client: TestClient, world: World, engine: Engine
) -> None:
    assert login(client, "ghost")[0] == 401
    with Session(engine) as s:
        records.deactivate_user(s, Actor("admin"), "luca")
        s.commit()
    assert login(client, "luca")[0] == 401
    assert client.get("/api/v1/auth/me", headers=world.headers("luca")).status_code == 401


def test_api_takes_bearer_tokens_only(client: TestClient, world: World) -> None:
    client.cookies.set("housing_session", world.tokens["anna"])
    assert client.get("/api/v1/beneficiaries").status_code == 401
    client.cookies.clear()
    assert (
        client.get("/api/v1/beneficiaries", headers={"Authorization": "Basic abc"}).status_code
        == 401
    )


def test_page_login_sets_a_strict_httponly_cookie(app: FastAPI, world: World) -> None:
    c = TestClient(app, follow_redirects=False)
    res = form_login(c, "anna", PASSWORD, next="/beneficiaries")
    assert res.status_code == 303 and res.headers["location"] == "/beneficiaries"
    cookie = next(
        v
        for k, v in res.headers.multi_items()
        if k == "set-cookie" and v.startswith("housing_session=")
    ).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    bad = form_login(TestClient(app, follow_redirects=False), "anna", "nope")
    assert bad.status_code == 401 and "login" in bad.text
    offsite = form_login(
        TestClient(app, follow_redirects=False), "anna", PASSWORD, next="//evil.example"
    )
    assert offsite.headers["location"] == "/"


def test_pages_redirect_to_login(app: FastAPI) -> None:
    c = TestClient(app, follow_redirects=False)
    res = c.get("/beneficiaries")
    assert res.status_code == 303 and res.headers["location"] == "/login?next=%2Fbeneficiaries"


@pytest.mark.parametrize("token", ["", "not-the-token"])
def test_page_forms_need_the_csrf_token(
    app: FastAPI, world: World, engine: Engine, token: str
) -> None:
    c = page_client(app, world, "anna")
    res = c.post(
        f"/beneficiaries/{world.beneficiaries[0]}/status",
        data={"status": "suspended", "csrf_token": token},
    )
    assert res.status_code == 403 and "csrf" in res.text.lower()
    ok = c.post(
        f"/beneficiaries/{world.beneficiaries[0]}/status",
        data={"status": "suspended", "csrf_token": world.csrf("anna")},
    )
    assert ok.status_code == 303
    with Session(engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "csrf")).first()


def test_page_logout(app: FastAPI, world: World) -> None:
    c = page_client(app, world, "anna")
    res = c.post("/logout", data={"csrf_token": world.csrf("anna")})
    assert res.status_code == 303 and res.headers["location"] == "/login"
    c.cookies.set("housing_session", world.tokens["anna"])
    assert c.get("/").status_code == 303
