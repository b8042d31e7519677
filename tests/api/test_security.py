"""Issue 17 over HTTP: logins and their throttle, login CSRF, proxies, caching headers,
cookies, the 404 page's links and the access log."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.models import AuditEntry
from api import throttle
from api.main import create_app
from api.settings import Settings
from tests.api.conftest import PASSWORD, World, page_client


def _login(c: TestClient, user: str, password: str = PASSWORD) -> int:
    return c.post("/api/v1/auth/login", json={"username": user, "password": password}).status_code


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits logins asked for, recorded instead of slept."""
    seen: list[float] = []

    async def record(seconds: float) -> None:
        seen.append(seconds)

    monkeypatch.setattr(throttle, "sleep", record)
    return seen


def test_nobody_can_lock_the_admin_out(engine: Engine, world: World, waits: list[float]) -> None:
    """Item 7: failures lock the client that made them; the account is only slowed down,
    and its right password works from elsewhere."""
    app = create_app(
        Settings(
            login_delay_base_seconds=0.25,
            login_delay_max_seconds=4.0,
            login_max_failures=5,
            cookie_secure=False,
        ),
        engine,
    )
    attacker = TestClient(app, client=("203.0.113.66", 4000))
    for _ in range(5):
        assert _login(attacker, "root", "wrong guess") == 401
    assert _login(attacker, "root") == 429  # this client: locked, right or wrong
    assert _login(attacker, "anna") == 429
    waits.clear()
    admin = TestClient(app, client=("198.51.100.7", 5000))
    assert _login(admin, "root") == 200  # the owner: after a delay
    assert waits and 0 < max(waits) <= 4.0
    assert _login(admin, "root", "typo") == 401  # a failure there does not lock it
    assert _login(admin, "root") == 200


def test_the_login_form_needs_its_own_csrf_token(app: FastAPI, world: World) -> None:
    """Item 9: a login form posted from another site (no token, or a token without the
    cookie set with the form) logs nobody in."""
    c = TestClient(app, follow_redirects=False)
    forged = c.post("/login", data={"username": "anna", "password": PASSWORD})
    assert forged.status_code == 403 and "housing_session" not in forged.headers.get(
        "set-cookie", ""
    )
    other = TestClient(app, follow_redirects=False)
    page = other.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    stolen = c.post(
        "/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert stolen.status_code == 403
    ok = other.post(
        "/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert ok.status_code == 303 and "housing_session=" in ok.headers["set-cookie"]


def test_forwarded_for_is_believed_only_from_configured_proxies(
    engine: Engine, world: World
) -> None:
    """Item 10: by default X-Forwarded-For is ignored (a client cannot dodge its lock by
    naming another address); with HOUSING_TRUSTED_PROXIES it is believed from those."""
    plain = TestClient(
        create_app(Settings(login_delay_base_seconds=0.0, login_max_failures=3), engine),
        client=("127.0.0.1", 4000),
    )
    for k in range(3):
        res = plain.post(
            "/api/v1/auth/login",
            json={"username": "ghost", "password": "x"},
            headers={"X-Forwarded-For": f"192.0.2.{k}"},
        )
        assert res.status_code == 401
    assert (
        plain.post(
            "/api/v1/auth/login",
            json={"username": "ghost", "password": "x"},
            headers={"X-Forwarded-For": "192.0.2.99"},
        ).status_code
        == 429
    )
    proxied = TestClient(
        create_app(
            Settings(
                login_delay_base_seconds=0.0, login_max_failures=3, trusted_proxies="127.0.0.2"
            ),
            engine,
        ),
        client=("127.0.0.2", 4000),
    )
    for k in range(5):
        res = proxied.post(
            "/api/v1/auth/login",
            json={"username": "ghost", "password": "x"},
            headers={"X-Forwarded-For": f"198.18.0.{k}"},
        )
        assert res.status_code == 401


def test_serve_leaves_forwarded_headers_to_the_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Item 10: uvicorn itself must not believe X-Forwarded-For (its default trusts
    127.0.0.1)."""
    import uvicorn
    from typer.testing import CliRunner

    from housing.cli import app as cli

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    res = CliRunner().invoke(cli, ["serve", "--db", f"sqlite:///{tmp_path}/x.sqlite3"])
    assert res.exit_code == 0, res.output
    assert seen["proxy_headers"] is False


def test_personal_data_is_never_cached(app: FastAPI, client: TestClient, world: World) -> None:
    """Item 11: no-store on the API, the pages and the exports; HSTS over HTTPS only."""
    api = client.get(
        f"/api/v1/beneficiaries/{world.beneficiaries[0]}", headers=world.headers("anna")
    )
    assert api.headers["cache-control"] == "no-store"
    pages = page_client(app, world, "anna")
    assert (
        pages.get(f"/beneficiaries/{world.beneficiaries[0]}").headers["cache-control"] == "no-store"
    )
    assert "strict-transport-security" not in api.headers
    tls = TestClient(app, base_url="https://testserver")
    res = tls.get("/api/v1/funds", headers=world.headers("anna"))
    assert res.headers["strict-transport-security"].startswith("max-age=")
    assert "no-store" not in client.get("/static/style.css").headers["cache-control"]


def test_session_cookie_is_secure_outside_local_development(engine: Engine, world: World) -> None:
    """Item 11: Secure by default, but on plain HTTP to this machine itself."""
    app = create_app(Settings(login_delay_base_seconds=0.0), engine)

    def cookies(base: str) -> str:
        c = TestClient(app, base_url=base, follow_redirects=False)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert token is not None
        res = c.post(
            "/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token.group(1)}
        )
        assert res.status_code == 303, res.text
        return "; ".join(
            v
            for k, v in res.headers.multi_items()
            if k == "set-cookie" and v.startswith("housing_session=")
        ).lower()

    assert "secure" in cookies("https://housing.example")
    assert "secure" not in cookies("http://127.0.0.1")


def test_the_404_page_links_to_no_other_site(app: FastAPI, world: World) -> None:
    """Item 16: ``//evil.example/x`` is a path here, never a link elsewhere."""
    res = TestClient(app).get("http://testserver//evil.example/x")
    assert res.status_code == 404
    hrefs = re.findall(r'href="([^"]*)"', res.text)
    assert hrefs and not [h for h in hrefs if h.startswith("//") or "evil.example" in h]


def test_the_access_log_writes_no_unmatched_path(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Item 18: a path that matches no route is logged without what it holds."""
    caplog.set_level(logging.INFO, logger="api.access")
    client.get("/api/v1/beneficiaries-by-name/Amadou", headers=world.headers("anna"))
    client.get("/Amadou/Diallo")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "(no route)" in text and "Amadou" not in text and "Diallo" not in text


def test_a_failed_login_stores_nothing_that_was_typed(
    client: TestClient, world: World, engine: Engine
) -> None:
    """Item 18: a password typed in the username field stays out of the database."""
    typed = "MySecretPassw0rd!"
    assert _login(client, typed, "x") == 401
    assert _login(client, "anna", typed) == 401
    with engine.connect() as conn:
        for table in ("audit_entry", "login_attempt"):
            rows = conn.exec_driver_sql(f"SELECT * FROM {table}").all()
            assert typed not in repr(rows)
    with Session(engine) as s:
        denied = s.exec(
            select(AuditEntry).where(AuditEntry.action == "login", AuditEntry.outcome == "denied")
        ).all()
        assert {e.entity_ref for e in denied} == {None, "anna"}


def test_the_last_admin_stays_and_users_come_back(client: TestClient, world: World) -> None:
    """Item 14: the last active admin cannot deactivate themself; a deactivated user can
    be reactivated and log in again."""
    h = world.headers("root")
    res = client.delete("/api/v1/users/root", headers=h)
    assert res.status_code == 422 and res.json()["error"]["fields"][0]["field"] == "username"
    assert _login(client, "root") == 200
    assert client.delete("/api/v1/users/luca", headers=h).status_code == 204
    assert _login(client, "luca") == 401
    back = client.post("/api/v1/users/luca/reactivate", headers=h)
    assert back.status_code == 200 and back.json()["active"] is True
    assert _login(client, "luca") == 200


@pytest.mark.parametrize(
    "password",
    ["aaaaaaaaaa", "qwertyuiop", "1234567890", "abababababab", "Password123", "newstaff-secret-1"],
)
def test_weak_passwords_are_refused(client: TestClient, world: World, password: str) -> None:
    """Item 15: common passwords, repeated characters and the username are refused."""
    res = client.post(
        "/api/v1/users",
        headers=world.headers("root"),
        json={
            "username": "newstaff",
            "full_name": "New Staff",
            "password": password,
            "role": "planner",
        },
    )
    assert res.status_code == 422, res.text
    assert res.json()["error"]["fields"][0]["field"] == "password"
    good = client.post(
        "/api/v1/users",
        headers=world.headers("root"),
        json={
            "username": "newstaff",
            "full_name": "New Staff",
            "password": "tramonto sul Gargano 2026",
            "role": "planner",
        },
    )
    assert good.status_code == 201
