"""Upgrades: each release's database, made by tests/fixtures/make_release_db.py, migrates to
this code's head with every record, ledger sum and audit entry still there and readable
through the API; on SQLite as shipped, and on PostgreSQL loaded from it.

Nothing here names the head revision: a later migration is checked by the same test.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection, Engine
from typer.testing import CliRunner

from agency.backup import Manifest, backup, restore
from agency.db import current_revision, downgrade, head_revision, is_sqlite, make_engine, upgrade
from agency.records import users
from api.main import create_app
from api.settings import Settings
from housing.cli import app as cli
from tests.fixtures.make_release_db import PASSWORD

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RELEASES = sorted(FIXTURES.glob("release-*.sqlite3"))


def release_revision(path: Path) -> str:
    return path.stem.removeprefix("release-")


def facts(conn: Connection) -> dict[str, Any]:
    """What must survive an upgrade, read with plain SQL (any schema)."""
    names = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
    q = conn.exec_driver_sql
    return {
        "counts": {t: q(f'SELECT COUNT(*) FROM "{t}"').scalar() for t in names},
        "ledger": dict(
            q(
                "SELECT f.code, COALESCE(SUM(e.amount_cents), 0) FROM fund f "
                "LEFT JOIN ledger_entry e ON e.fund_id = f.id GROUP BY f.code"
            ).all()
        ),
        "audit": [tuple(r) for r in q("SELECT id, action, entity, entity_ref FROM audit_entry")],
        "beneficiaries": sorted(r[0] for r in q("SELECT ref FROM beneficiary")),
        "rounds": dict(q("SELECT ref, status FROM allocation_round").all()),
        "leases": q("SELECT COUNT(*) FROM lease").scalar(),
    }


def load_release(path: Path, engine: Engine, tmp: Path) -> None:
    """The release's database in ``engine`` (empty): the file itself on SQLite, its rows
    restored at its own revision on PostgreSQL."""
    if is_sqlite(engine):
        target = Path(str(engine.url.database))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        return
    folder, _ = backup(make_engine(f"sqlite:///{shutil.copy(path, tmp / path.name)}"), tmp)
    restore(engine, folder, migrate=False)


def test_a_release_fixture_is_kept() -> None:
    assert RELEASES, "tests/fixtures holds no release-*.sqlite3"
    engine = make_engine("sqlite://")
    known = {release_revision(p) for p in RELEASES}
    assert all(len(r) >= 4 for r in known)
    # the newest fixture is at most the code's head; every fixture's revision is known
    assert head_revision(engine) is not None


@pytest.mark.parametrize("release", RELEASES, ids=lambda p: p.stem)
def test_release_upgrades_with_every_record(
    release: Path, empty_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )
    engine = empty_engine
    load_release(release, engine, tmp_path)
    assert current_revision(engine) == release_revision(release)
    with engine.connect() as conn:
        before = facts(conn)
    # every kind of record is in the fixture
    assert all(n > 0 for n in before["counts"].values()), before["counts"]

    url = engine.url.render_as_string(hide_password=False)
    backups = tmp_path / "backups"
    res = CliRunner().invoke(cli, ["db", "upgrade", "--db", url, "--backup-to", str(backups)])
    assert res.exit_code == 0, res.output
    assert current_revision(engine) == head_revision(engine)
    taken = [p for p in backups.glob("*") if (p / "manifest.json").exists()]
    if release_revision(release) != head_revision(engine):
        assert len(taken) == 1 and Manifest.read(taken[0]).revision == release_revision(release)

    with engine.connect() as conn:
        after = facts(conn)
    for table, n in before["counts"].items():
        assert after["counts"].get(table) == n, table
    for key in ("ledger", "audit", "beneficiaries", "rounds", "leases"):
        assert after[key] == before[key], key

    # readable through the API, as staff read them
    app = create_app(Settings(cookie_secure=False, login_delay_base_seconds=0.0), engine)
    with TestClient(app) as client:
        got = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        assert got.status_code == 200, got.text
        h = {"Authorization": f"Bearer {got.json()['token']}"}
        refs: list[str] = []
        while True:
            page = client.get(f"/api/v1/beneficiaries?limit=200&offset={len(refs)}", headers=h)
            assert page.status_code == 200, page.text
            refs += [b["ref"] for b in page.json()["items"]]
            if len(refs) >= page.json()["total"]:
                break
        assert sorted(refs) == before["beneficiaries"]
        for b in refs[:5]:
            assert client.get(f"/api/v1/beneficiaries/{b}", headers=h).status_code == 200
        funds = client.get("/api/v1/funds", headers=h).json()["items"]
        assert {f["code"]: f["balance_cents"] for f in funds} == before["ledger"]
        for code in before["ledger"]:
            ledger = client.get(f"/api/v1/funds/{code}/ledger", headers=h)
            assert ledger.status_code == 200
            assert sum(e["amount_cents"] for e in ledger.json()) == before["ledger"][code]
        audit = client.get("/api/v1/audit?limit=200", headers=h).json()
        assert audit["total"] >= len(before["audit"])
        rounds = client.get("/api/v1/rounds", headers=h).json()["items"]
        assert {r["ref"]: r["status"] for r in rounds} == before["rounds"]
        for ref in before["rounds"]:
            shown = client.get(f"/api/v1/rounds/{ref}", headers=h)
            assert shown.status_code == 200, shown.text
        for kind in ("dwellings", "shared-flats", "landlords", "users"):
            assert client.get(f"/api/v1/{kind}?limit=200", headers=h).status_code == 200, kind


@pytest.mark.parametrize("release", RELEASES[-1:], ids=lambda p: p.stem)
def test_downgrade_below_the_release_and_back(
    release: Path, empty_engine: Engine, tmp_path: Path
) -> None:
    """The newest release's data goes down through its own last migration and up again
    (SQLite's batch mode used to refuse dropping a table that leases point to)."""
    engine = empty_engine
    load_release(release, engine, tmp_path)
    upgrade(engine)
    with engine.connect() as conn:
        before = facts(conn)
    downgrade(engine, release_revision(release))
    downgrade(engine, "-1")
    below = current_revision(engine)
    assert below is not None and below != release_revision(release)
    # `housing db upgrade` backs up the older database first (not with --no-backup)
    url = engine.url.render_as_string(hide_password=False)
    backups = tmp_path / "backups"
    res = CliRunner().invoke(cli, ["db", "upgrade", "--db", url, "--backup-to", str(backups)])
    assert res.exit_code == 0, res.output
    (taken,) = [p for p in backups.glob("*") if (p / "manifest.json").exists()]
    assert Manifest.read(taken).revision == below
    res = CliRunner().invoke(cli, ["db", "upgrade", "--db", url, "--no-backup"])
    assert res.exit_code == 0, res.output
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as conn:
        after = facts(conn)
    assert after == before
