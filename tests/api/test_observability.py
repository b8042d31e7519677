"""What operators see: JSON log lines (request id, route template, status, duration, and
never a name), /metrics scraped as Prometheus reads it and protected like the rest, and
/health that finds a stalled job runner."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agency.models import Job, JobStatus
from api.main import create_app
from api.metrics import JsonFormatter
from api.settings import Settings
from tests.api.conftest import FAMILY, GIVEN, World, household, page_client
from tests.api.test_api_rounds import OPEN, check_valid, solve_and_wait

TOKEN = "scrape-token-0123456789abcdef"
FIELDS = ("time", "level", "request_id", "method", "route", "status", "duration_ms", "pid")


@pytest.fixture
def settings() -> Settings:
    return Settings(login_delay_base_seconds=0.0, cookie_secure=False, metrics_token=TOKEN)


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything logged, as ``HOUSING_LOG_FORMAT=json`` writes it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # the test's own HTTP client logs the URLs it sends: not the service's log
    quiet = logging.getLogger("httpx")
    client_level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
        quiet.setLevel(client_level)


Samples = dict[str, list[tuple[dict[str, str], float]]]


def scrape(client: TestClient, headers: dict[str, str]) -> Samples:
    res = client.get("/metrics", headers=headers)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/plain")
    out: Samples = {}
    for family in text_string_to_metric_families(res.text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


def value(samples: list[tuple[dict[str, str], float]], **labels: str) -> float:
    return sum(v for lab, v in samples if all(lab.get(k) == x for k, x in labels.items()))


def test_json_logs_name_routes_never_people(
    client: TestClient, world: World, json_log: io.StringIO
) -> None:
    h = world.headers("anna")
    created = client.post(
        "/api/v1/beneficiaries",
        headers={**h, "X-Request-ID": "req-12345678"},
        json=household(0, given_name="Zainab", family_name="Kourouma").model_dump(mode="json"),
    )
    assert created.status_code == 201, created.text
    assert created.headers["x-request-id"] == "req-12345678"
    ref = created.json()["ref"]
    assert client.get("/api/v1/beneficiaries?q=Kourouma", headers=h).status_code == 200
    assert client.get(f"/api/v1/beneficiaries/{ref}", headers=h).status_code == 200
    assert client.get("/api/v1/beneficiaries/Zainab", headers=h).status_code == 404
    bad = client.get("/health", headers={"X-Request-ID": "Zainab Kourouma\nforged"})
    assert bad.headers["x-request-id"] != "Zainab Kourouma\nforged"
    # a caseworker of another office is refused: logged by route, not by name
    client.get(f"/api/v1/beneficiaries/{ref}", headers=world.headers("luca"))

    text = json_log.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one object
    assert lines
    for name in ("Zainab", "Kourouma", *GIVEN, *FAMILY):
        assert name not in text, name
    access = [x for x in lines if x["logger"] == "api.access"]
    assert len(access) >= 5
    for x in access:
        assert {
            "time",
            "level",
            "request_id",
            "method",
            "route",
            "status",
            "duration_ms",
            "pid",
        } <= set(x)
        assert "?" not in x["route"] and isinstance(x["duration_ms"], float)
    first = next(x for x in access if x["request_id"] == "req-12345678")
    assert (first["method"], first["route"], first["status"]) == (
        "POST",
        "/api/v1/beneficiaries",
        201,
    )
    routes = {(x["route"], x["status"]) for x in access}
    assert ("/api/v1/beneficiaries/{ref}", 200) in routes
    assert ("/api/v1/beneficiaries/{ref}", 404) in routes
    assert len({x["request_id"] for x in access}) == len(access)  # one per request


def test_metrics_are_scraped_and_protected(
    app: FastAPI, client: TestClient, world: World, engine: Engine
) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    for user in ("anna", "pia", "aldo"):
        assert client.get("/metrics", headers=world.headers(user)).status_code == 403, user
    assert page_client(app, world, "anna").get("/metrics").status_code == 403
    assert client.get("/metrics", headers=world.headers("root")).status_code == 200

    h = world.headers("anna")
    ref = client.post("/api/v1/rounds", json=OPEN, headers=h).json()["round"]["ref"]
    solve_and_wait(client, h, ref)
    check_valid(engine, ref)
    client.get(f"/api/v1/rounds/{ref}", headers=h)
    got = scrape(client, {"Authorization": f"Bearer {TOKEN}"})

    latency = got["housing_http_request_duration_seconds_count"]
    assert value(latency, route="/api/v1/rounds/{ref}", method="GET", status="200") >= 1
    assert value(latency, route="/api/v1/rounds", method="POST", status="201") >= 1
    assert all(ref not in lab["route"] for lab, _ in latency)  # templates, not paths
    solves = got["housing_job_duration_seconds_count"]
    assert value(solves, kind="round.solve", status="done") >= 1
    assert value(got["housing_job_duration_seconds_sum"], kind="round.solve") > 0
    assert value(got["housing_jobs"], kind="round.solve", status="queued") == 0
    assert got["housing_jobs_stalled"][0][1] == 0
    assert "housing_db_pool_size" in got and "housing_db_pool_checked_out" in got


def test_health_finds_a_stalled_job(client: TestClient, world: World, engine: Engine) -> None:
    assert client.get("/health").json() == {"status": "ok", "database": "ok", "jobs": "ok"}
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    with Session(engine) as s:
        s.add(
            Job(
                kind="round.solve",
                subject="RND-X",
                fair_key="office:1",
                status=JobStatus.running,
                owner_host="elsewhere",
                owner_pid=1,
                heartbeat_at=long_ago,
                started_at=long_ago,
            )
        )
        s.commit()
    res = client.get("/health")
    assert res.status_code == 503
    assert res.json()["jobs"] == "stalled" and res.json()["stalled"] == 1
    got = scrape(client, {"Authorization": f"Bearer {TOKEN}"})
    assert got["housing_jobs_stalled"][0][1] == 1
    assert value(got["housing_jobs"], kind="round.solve", status="running") == 1


def test_health_finds_jobs_nobody_takes(world: World, engine: Engine) -> None:
    app = create_app(Settings(job_queue_max_wait_seconds=60, cookie_secure=False), engine)
    with Session(engine) as s:
        s.add(
            Job(
                kind="scenario.run",
                subject="S-X",
                fair_key="user:1",
                created_at=datetime.now(UTC) - timedelta(minutes=5),
            )
        )
        s.commit()
    # no lifespan: no worker of this process starts (as when the workers died)
    res = TestClient(app).get("/health")
    assert res.status_code == 503 and res.json()["waiting"] == 1
