"""Several processes behind one port: ``housing serve --workers 2`` on PostgreSQL serves a
whole round, its requests answered by both processes (jobs, sessions and logins live in
the database), with /metrics summing both. Skipped without TEST_DATABASE_URL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from tests.api.conftest import PASSWORD, World, build_world
from tests.api.test_api_rounds import OPEN, check_valid
from tests.conftest import postgres_schema

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"
)
TOKEN = "workers-scrape-token-0123456789"
HOUSING = Path(sys.executable).parent / "housing"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pg() -> Iterator[Engine]:
    with postgres_schema("w_", migrate=True) as eng:
        yield eng


@pytest.fixture
def server(pg: Engine, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")},
        "HOUSING_METRICS_TOKEN": TOKEN,
        "HOUSING_LOGIN_DELAY_BASE_SECONDS": "0",
    }
    url = pg.url.render_as_string(hide_password=False)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(HOUSING),
                "serve",
                "--workers",
                "2",
                "--port",
                str(port),
                "--db",
                url,
                "--log-format",
                "json",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    if httpx.get(base + "/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the server did not start:\n" + log.read_text()
                time.sleep(0.5)
            yield base, log
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def call(method: str, url: str, headers: dict[str, str], **kw: Any) -> httpx.Response:
    """One request on a connection of its own: the port's processes take turns."""
    return httpx.request(method, url, headers={**headers, "Connection": "close"}, timeout=30, **kw)


def pids(log: Path) -> set[int]:
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    return {x["pid"] for x in lines if x.get("logger") == "api.access"}


def test_two_processes_serve_one_round(pg: Engine, server: tuple[str, Path]) -> None:
    base, log = server
    world: World = build_world(pg)
    h = world.headers("anna")
    opened = call("POST", base + "/api/v1/rounds", h, json=OPEN)
    assert opened.status_code == 201, opened.text
    ref = opened.json()["round"]["ref"]
    job = call("POST", f"{base}/api/v1/rounds/{ref}/solve", h).json()
    deadline = time.monotonic() + 120
    while job["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
        job = call("GET", f"{base}/api/v1/rounds/{ref}/solve/{job['job']}", h).json()
    assert job["status"] == "done", job
    check_valid(pg, ref)
    offers = call("POST", f"{base}/api/v1/rounds/{ref}/offers", h).json()
    assert offers
    for o in offers:
        answered = call(
            "POST",
            f"{base}/api/v1/rounds/{ref}/offers/{o['id']}/answer",
            h,
            json={"status": "accepted"},
        )
        assert answered.status_code == 200, answered.text
    closed = call("POST", f"{base}/api/v1/rounds/{ref}/close", h)
    assert closed.status_code == 200, closed.text
    assert call("GET", f"{base}/api/v1/rounds/{ref}", h).json()["round"]["status"] == "closed"
    # a login in one process, its token used in the other
    login = call(
        "POST",
        base + "/api/v1/auth/login",
        {},
        json={"username": "pia", "password": PASSWORD},
    )
    assert login.status_code == 200, login.text
    for _ in range(200):
        if len(pids(log)) >= 2:
            break
        me = call(
            "GET", base + "/api/v1/auth/me", {"Authorization": "Bearer " + login.json()["token"]}
        )
        assert me.status_code == 200
    assert len(pids(log)) == 2, "one process answered every request"

    # /metrics sums both processes: the one close is counted, whoever answered it
    scraped = call("GET", base + "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert scraped.status_code == 200
    counts = {
        (s.labels.get("method"), s.labels.get("route"), s.labels.get("status")): s.value
        for f in text_string_to_metric_families(scraped.text)
        for s in f.samples
        if s.name == "housing_http_request_duration_seconds_count"
    }
    assert counts[("POST", "/api/v1/rounds/{ref}/close", "200")] == 1
    assert counts[("POST", "/api/v1/rounds/{ref}/offers/{offer_id}/answer", "200")] == len(offers)
    solves = [
        s
        for f in text_string_to_metric_families(scraped.text)
        for s in f.samples
        if s.name == "housing_job_duration_seconds_count" and s.labels["kind"] == "round.solve"
    ]
    assert sum(s.value for s in solves if s.labels["status"] == "done") == 1
