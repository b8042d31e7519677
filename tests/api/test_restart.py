"""Issue 17, item 13 for real: ``housing serve`` killed during a solve and a scenario run,
then started again. The jobs are interrupted (not "running" for ever), the pages say so
and offer to run them again, and the run's worker process died with the server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from agency.db import make_engine, upgrade
from tests.api.conftest import World, build_world
from tests.api.test_jobs import SCENARIO

ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(check: Callable[[], Any], what: str, seconds: float = 60.0) -> Any:
    """Poll ``check`` until it returns something true (bounded: never a timed assertion
    on speed, only on the thing happening at all)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen")


class Server:
    def __init__(self, db: Path, fault: str = "") -> None:
        self.port = _port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HOUSING_FAULT": fault,
            "HOUSING_LOGIN_DELAY_BASE_SECONDS": "0",
            "HOUSING_COOKIE_SECURE": "false",
        }
        env.pop("DATABASE_URL", None)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "housing",
                "serve",
                "--db",
                str(db),
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        _until(self._up, "the server's start")

    def _up(self) -> bool:
        try:
            return httpx.get(self.url + "/health", timeout=1).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
            cookies={"housing_session": token},
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Path, World, Engine]]:
    db = tmp_path / "agency.sqlite3"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    world = build_world(engine)
    yield db, world, engine
    engine.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead too
        return fh.read().split()[2] != "Z"


def test_a_killed_server_leaves_interrupted_jobs_and_no_orphan(
    seeded: tuple[Path, World, Engine],
) -> None:
    db, world, engine = seeded
    first = Server(db, fault="job:solve,job:scenario")  # both jobs hang once started
    try:
        anna, pia = first.client(world.tokens["anna"]), first.client(world.tokens["pia"])
        ref = anna.post("/api/v1/rounds", json={"name": "August", "time_limit_s": 10}).json()[
            "round"
        ]["ref"]
        job = anna.post(f"/api/v1/rounds/{ref}/solve").json()["job"]
        _until(
            lambda: anna.get(f"/api/v1/rounds/{ref}/solve/{job}").json()["status"] == "running",
            "the solve's start",
        )
        run = pia.post(
            "/api/v1/scenarios", files={"file": ("s.toml", SCENARIO, "application/toml")}
        ).json()["ref"]

        def worker_pid() -> int | None:
            with engine.connect() as c:
                row = c.exec_driver_sql(
                    "SELECT progress FROM job WHERE subject = ?", (run,)
                ).first()
            import json

            got = json.loads(row[0]).get("worker_pid") if row and row[0] else None
            return int(got) if got else None

        child = _until(worker_pid, "the scenario's worker process")
        assert _alive(child)
        first.kill()
        _until(lambda: not _alive(child), "the worker's death with the server", 30)
    finally:
        first.stop()

    second = Server(db)
    try:
        anna, pia = second.client(world.tokens["anna"]), second.client(world.tokens["pia"])
        seen = anna.get(f"/api/v1/rounds/{ref}/solve/{job}").json()
        assert seen["status"] == "interrupted", seen
        page = anna.get(f"/rounds/{ref}?job={job}").text
        assert 'id="solve-interrupted"' in page and 'id="solve-progress"' not in page
        got = pia.get(f"/api/v1/scenarios/{run}").json()
        assert got["status"] == "interrupted", got
        assert 'id="run-again"' in pia.get(f"/scenarios/{run}").text
        # run both again: they end
        again = anna.post(f"/api/v1/rounds/{ref}/solve").json()["job"]
        done = _until(
            lambda: (
                anna.get(f"/api/v1/rounds/{ref}/solve/{again}").json()
                if anna.get(f"/api/v1/rounds/{ref}/solve/{again}").json()["status"]
                in ("done", "failed")
                else None
            ),
            "the solve run again",
            120,
        )
        assert done["status"] == "done", done
        assert pia.post(f"/api/v1/scenarios/{run}/retry").status_code == 202
        end = _until(
            lambda: (
                pia.get(f"/api/v1/scenarios/{run}").json()
                if pia.get(f"/api/v1/scenarios/{run}").json()["status"] in ("done", "failed")
                else None
            ),
            "the run run again",
            180,
        )
        assert end["status"] == "done", end
    finally:
        second.stop()
    assert second.proc.returncode is not None
