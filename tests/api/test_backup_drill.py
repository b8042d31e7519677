"""The backup drill: a day of work, a backup while requests keep coming, then the database
wiped and restored, every table compared. On SQLite and PostgreSQL, and across them (a
backup of either restores into the other) when TEST_DATABASE_URL is set."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from agency.backup import (
    BackupError,
    Manifest,
    backup,
    canonical_lines,
    data_tables,
    reflect,
    restore,
    table_digests,
)
from agency.db import current_revision, head_revision, is_sqlite
from housing.cli import app as cli
from tests.api.conftest import World
from tests.api.test_api_rounds import OPEN, check_valid, solve_and_wait


def everything(engine: Engine) -> dict[str, list[str]]:
    """Every table's rows, canonical, in key order."""
    with engine.connect() as conn:
        return {t.name: list(canonical_lines(conn, t)) for t in data_tables(reflect(conn))}


def ids(engine: Engine, table: str) -> list[int]:
    with engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql(f"SELECT id FROM {table} ORDER BY id")]


def wipe(engine: Engine) -> None:
    """The database gone: the SQLite file deleted, the PostgreSQL schema dropped."""
    engine.dispose()
    if is_sqlite(engine):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{engine.url.database}{suffix}").unlink(missing_ok=True)
        return
    schema = str(engine.url.query["options"]).split("=", 1)[1]
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()


def a_day_of_work(client: TestClient, world: World, engine: Engine) -> str:
    """A round opened, solved, offered, accepted and closed: leases, ledger, audit."""
    h = world.headers("anna")
    res = client.post("/api/v1/rounds", json=OPEN, headers=h)
    assert res.status_code == 201, res.text
    ref = str(res.json()["round"]["ref"])
    solve_and_wait(client, h, ref)
    check_valid(engine, ref)
    offers = client.post(f"/api/v1/rounds/{ref}/offers", headers=h).json()
    assert offers
    for o in offers:
        answer = client.post(
            f"/api/v1/rounds/{ref}/offers/{o['id']}/answer", headers=h, json={"status": "accepted"}
        )
        assert answer.status_code == 200, answer.text
    closed = client.post(f"/api/v1/rounds/{ref}/close", headers=h)
    assert closed.status_code == 200, closed.text
    grant = client.post(
        "/api/v1/funds/regional/grants", headers=world.headers("root"), json={"amount_cents": 500}
    )
    assert grant.status_code == 201, grant.text
    return ref


def test_backup_drill(
    client: TestClient, world: World, engine: Engine, empty_engine: Engine, tmp_path: Path
) -> None:
    a_day_of_work(client, world, engine)
    with engine.connect() as conn:
        assert all(d.rows > 0 for n, d in table_digests(conn).items() if n == "lease")

    # requests keep coming while the backup is taken
    stop, written, failures = threading.Event(), [], []

    def writer() -> None:
        k = 0
        while not stop.is_set():
            k += 1
            got = client.post(
                "/api/v1/landlords", headers=world.headers("anna"), json={"name": f"Owner {k}"}
            )
            grant = client.post(
                "/api/v1/funds/victims/grants",
                headers=world.headers("root"),
                json={"amount_cents": k},
            )
            if got.status_code != 201 or grant.status_code != 201:
                failures.append((got.status_code, grant.status_code))
            written.append(k)

    def wait_for(n: int) -> None:
        deadline = time.monotonic() + 60
        while len(written) < n:
            assert time.monotonic() < deadline and not failures, failures
            time.sleep(0.02)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for(3)
        folder, manifest = backup(engine, tmp_path / "backups")
        wait_for(len(written) + 3)
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert manifest.revision == current_revision(engine)
    assert (folder / "manifest.json").is_file() and not list(folder.parent.glob("*.partial"))

    # restored elsewhere: what the manifest says, and one moment of the live database
    done = restore(empty_engine, folder)
    assert done.migrated_to == head_revision(empty_engine)
    assert done.tables == manifest.tables
    for table in ("landlord", "ledger_entry", "audit_entry"):
        copied, live = ids(empty_engine, table), ids(engine, table)
        assert copied == live[: len(copied)], table  # a prefix: nothing torn
        assert len(copied) < len(live), table  # the writes after the backup are not in it
    assert 0 < len(ids(empty_engine, "landlord")) - 1 < len(written)

    # quiet now: back up, wipe, restore in place, and every table is as it was
    before = everything(engine)
    folder2, _ = backup(engine, tmp_path / "backups")
    wipe(engine)
    assert current_revision(engine) is None
    restore(engine, folder2)
    assert everything(engine) == before
    # the service goes on with the restored database (sessions included)
    listed = client.get("/api/v1/landlords?limit=200", headers=world.headers("anna"))
    assert listed.status_code == 200 and listed.json()["total"] == len(written) + 1
    new = client.post("/api/v1/landlords", headers=world.headers("anna"), json={"name": "After"})
    assert new.status_code == 201, new.text  # the keys go on after the restored ones


def test_restore_refuses_a_full_database_and_a_newer_schema(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    folder, _ = backup(engine, tmp_path)
    with pytest.raises(BackupError, match="not empty"):
        restore(engine, folder)
    newer = Manifest.read(folder)
    newer.revision = "9999_from_the_future"
    (folder / "manifest.json").write_text(newer.to_json(), encoding="utf-8")
    with pytest.raises(BackupError, match="does not know"):
        restore(engine, folder)
    unfinished = tmp_path / "housing-backup-cut"
    unfinished.mkdir()
    with pytest.raises(BackupError, match="did not finish"):
        restore(engine, unfinished)


def test_restore_checks_the_manifest(
    engine: Engine, world: World, empty_engine: Engine, tmp_path: Path
) -> None:
    folder, _ = backup(engine, tmp_path)
    lied = Manifest.read(folder)
    digest = lied.tables["landlord"]
    lied.tables["landlord"] = type(digest)(rows=digest.rows + 1, sha256="0" * 64)
    (folder / "manifest.json").write_text(lied.to_json(), encoding="utf-8")
    with pytest.raises(BackupError, match="landlord"):
        restore(empty_engine, folder)


def test_backup_and_restore_commands(
    engine: Engine, world: World, empty_engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "cli-backups"
    url = engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    for _ in range(3):
        res = runner.invoke(cli, ["backup", "--db", url, "--to", str(folder), "--keep", "2"])
        assert res.exit_code == 0, res.output
        assert "tables" in res.output and "rows" in res.output
    kept = sorted(folder.glob("housing-backup-*"))
    assert len(kept) == 2
    target = empty_engine.url.render_as_string(hide_password=False)
    res = runner.invoke(cli, ["restore", str(kept[-1]), "--db", target])
    assert res.exit_code == 0, res.output
    with engine.connect() as a, empty_engine.connect() as b:
        assert table_digests(a) == table_digests(b)
    again = runner.invoke(cli, ["restore", str(kept[-1]), "--db", target])
    assert again.exit_code == 1 and "not empty" in again.output
    assert sa.inspect(empty_engine).get_table_names()
