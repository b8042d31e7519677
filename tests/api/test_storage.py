"""Issue 17, item 12: no bare 500 for what a bad day brings (a non-zip .xlsx, a
Windows-1252 CSV, a full disk, a read-only database), and /health telling the truth."""

from __future__ import annotations

import csv as _csv
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from agency.db import is_sqlite, make_engine
from api import storage
from api.main import create_app
from api.settings import Settings
from tests.api.conftest import PASSWORD, World
from tests.sheet_bombs import cp1252_csv, dimension_bomb, not_a_zip, row_bomb

SETTINGS = Settings(login_delay_base_seconds=0.0, cookie_secure=False)


def _setup_with(engine: Engine, *statements: str) -> Engine:
    """The same database, every connection set up with ``statements`` (SQLite pragmas,
    PostgreSQL settings)."""
    other = make_engine(engine.url.render_as_string(hide_password=False))

    @event.listens_for(other, "connect")
    def _setup(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        for p in statements:
            cur.execute(p)
        cur.close()
        if not is_sqlite(other):
            dbapi_conn.commit()

    return other


def test_a_read_only_database_is_said_so(engine: Engine, world: World) -> None:
    """A read-only SQLite file, or a PostgreSQL server that takes no writes (a standby)."""
    read_only = (
        "PRAGMA query_only=ON" if is_sqlite(engine) else "SET default_transaction_read_only = on"
    )
    client = TestClient(create_app(SETTINGS, _setup_with(engine, read_only)))
    res = client.post("/api/v1/auth/login", json={"username": "anna", "password": PASSWORD})
    assert res.status_code == 503 and res.json()["error"]["code"] == "read_only"
    client.cookies.set("housing_session", world.tokens["anna"])
    page = client.get("/beneficiaries", headers={"Accept": "text/html"})
    assert page.status_code == 503 and "read-only" in page.text
    health = client.get("/health")
    assert health.status_code == 503 and health.json()["database"] == "read_only"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # PRAGMA max_page_count
def test_a_full_disk_is_said_so(
    engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.connect() as c:
        pages = c.exec_driver_sql("PRAGMA page_count").scalar()
    full = _setup_with(engine, f"PRAGMA max_page_count={pages}")
    client = TestClient(create_app(SETTINGS, full))
    h = world.headers("root")
    codes = set()
    for k in range(40):  # until the file can grow no more
        res = client.post(
            "/api/v1/funds",
            headers=h,
            json={"code": f"fund{k}", "name": "A fund with a long name " * 6, "budget_cents": 0},
        )
        codes.add(res.status_code)
        if res.status_code != 201:
            assert res.status_code == 503 and res.json()["error"]["code"] == "disk_full"
            break
    assert 503 in codes and 500 not in codes
    assert TestClient(create_app(SETTINGS, engine)).get("/health").status_code == 200

    class Usage:
        free = 1024

    monkeypatch.setattr(storage.health.shutil, "disk_usage", lambda path: Usage())
    health = TestClient(create_app(SETTINGS, engine)).get("/health")
    assert health.status_code == 503 and health.json()["database"] == "disk_full"


def _import(client: TestClient, world: World, name: str, data: bytes) -> Any:
    return client.post(
        "/api/v1/imports/beneficiaries",
        headers=world.headers("anna"),
        files={"file": (name, data, "application/octet-stream")},
    )


def test_bad_spreadsheets_get_clear_answers(
    client: TestClient, world: World, tmp_path: Any
) -> None:
    """Items 2 and 12 over HTTP: 413 for the bombs, 422 for a non-zip .xlsx, and a
    Windows-1252 CSV read as it is."""
    res = _import(client, world, "bomb.xlsx", row_bomb(tmp_path / "b.xlsx").read_bytes())
    assert res.status_code == 413 and "unpacks to" in res.json()["error"]["fields"][0]["message"]
    res = _import(client, world, "dim.xlsx", dimension_bomb(tmp_path / "d.xlsx").read_bytes())
    assert res.status_code == 422  # read as the two rows it holds: not a template
    res = _import(client, world, "fake.xlsx", not_a_zip(tmp_path / "n.xlsx").read_bytes())
    assert res.status_code == 422 and "not an XLSX file" in res.text
    template = Path(__file__).resolve().parents[2] / "agency" / "data" / "templates"
    rows = list(_csv.reader((template / "beneficiaries.csv").open(encoding="utf-8")))
    rows[1][rows[0].index("given_name")] = "Niccolò"
    res = _import(client, world, "excel.csv", cp1252_csv(tmp_path / "w.csv", rows).read_bytes())
    assert res.status_code == 201, res.text


def test_parsing_an_upload_holds_no_transaction(
    client: TestClient,
    world: World,
    app: Any,
    engine: Engine,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Item 2: while a stranger's spreadsheet is parsed, no connection is checked out
    and (SQLite) the requests' queue is free."""
    import sheets

    seen: list[tuple[int, bool]] = []
    real = sheets.read_table

    def spy(*args: Any, **kw: Any) -> Any:
        queue = app.state.transactions
        seen.append((engine.pool.checkedout(), bool(queue is not None and queue._lock.locked())))
        return real(*args, **kw)

    monkeypatch.setattr(sheets, "read_table", spy)
    res = _import(client, world, "fake.xlsx", not_a_zip(tmp_path / "n.xlsx").read_bytes())
    assert res.status_code == 422
    assert seen == [(0, False)]
