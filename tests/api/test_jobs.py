"""Issue 17, items 3, 4 and 13 in process: jobs in the database, fair shares, the queue
position, a cap on solves, scenario limits and a run's time limit, interrupted jobs."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency import jobs
from agency.models import Job, JobStatus, ScenarioRun
from api.main import create_app
from api.settings import Settings
from tests.api.conftest import World, page_client

OPEN = {"name": "Foggia, August", "time_limit_s": 10}


def test_the_queue_is_fair_between_offices(engine: Engine) -> None:
    """Item 4: office A's three solves do not hold up office B's one."""
    with Session(engine) as s:
        a = [jobs.enqueue(s, "round.solve", f"RND-A{k}", fair_key="office:1") for k in range(3)]
        b = jobs.enqueue(s, "round.solve", "RND-B0", fair_key="office:2")
        s.commit()
        assert jobs.queue_position(s, a[0]) == 1
    first = jobs.claim_next(engine, "round.solve")
    assert first is not None and first.subject == "RND-A0"
    with Session(engine) as s:  # A runs one: B's is next, before A's second
        assert jobs.queue_position(s, s.get(Job, b.id)) == 1  # type: ignore[arg-type]
        assert jobs.queue_position(s, s.get(Job, a[1].id)) == 2  # type: ignore[arg-type]
    jobs.finish(engine, first.id or 0, JobStatus.done)
    second = jobs.claim_next(engine, "round.solve")  # A was served last: B goes first
    assert second is not None and second.subject == "RND-B0"


def test_a_solve_may_not_ask_for_an_hour(client: TestClient, world: World) -> None:
    """Item 4: a sane cap on the service (HOUSING_MAX_SOLVE_SECONDS, 300 s by default)."""
    res = client.post(
        "/api/v1/rounds", json={**OPEN, "time_limit_s": 3600}, headers=world.headers("anna")
    )
    assert res.status_code == 422 and res.json()["error"]["fields"][0]["field"] == "time_limit_s"


def test_a_queued_solve_shows_its_place(engine: Engine, world: World) -> None:
    """Item 4: the page and the API show the queue position of a waiting solve."""
    app = create_app(Settings(login_delay_base_seconds=0.0, cookie_secure=False), engine)
    app.state.workers.wake = lambda kind: None  # nobody takes the job: it stays queued
    client = TestClient(app)
    h = world.headers("anna")
    with Session(engine) as s:
        jobs.enqueue(s, "round.solve", "RND-OTHER", fair_key="office:99")
        s.commit()
    ref = client.post("/api/v1/rounds", json=OPEN, headers=h).json()["round"]["ref"]
    job = client.post(f"/api/v1/rounds/{ref}/solve", headers=h).json()
    assert job["status"] == "queued" and job["position"] == 2
    page = page_client(app, world, "anna").get(f"/rounds/{ref}?job={job['job']}")
    assert "posizione 2" in page.text or "position 2" in page.text


def test_a_job_whose_process_died_is_interrupted(
    engine: Engine, world: World, app: FastAPI
) -> None:
    """Item 13: at start-up the job a dead process held is marked interrupted; the API
    and the page say so (no poll for ever), and it runs again."""
    h = world.headers("anna")
    with TestClient(app) as client:
        ref = client.post("/api/v1/rounds", json=OPEN, headers=h).json()["round"]["ref"]
    with Session(engine) as s:
        from agency import records

        r = records.round_by_ref(s, ref)
        job = jobs.enqueue(
            s,
            "round.solve",
            ref,
            fair_key=f"office:{world.fg}",
            office_id=world.fg,
            params={"round_id": r.id, "actor": "anna"},
        )
        job.status, job.owner_host, job.owner_pid = JobStatus.running, jobs.HOST, 2**22 + 7
        job.started_at = job.heartbeat_at = jobs.now() - timedelta(minutes=5)
        run = ScenarioRun(spec_sha256="0" * 64, spec_text="x", status="running")
        s.add_all([job, run])
        s.commit()
        job_ref, run_ref = job.ref, run.ref
    with TestClient(app) as client:  # a new start of the service
        seen = client.get(f"/api/v1/rounds/{ref}/solve/{job_ref}", headers=h).json()
        assert seen["status"] == "interrupted" and "run it again" in seen["error"]
        page = page_client(app, world, "anna").get(f"/rounds/{ref}?job={job_ref}")
        assert 'id="solve-interrupted"' in page.text and 'id="solve-progress"' not in page.text
        with Session(engine) as s:
            assert (
                s.exec(select(ScenarioRun).where(ScenarioRun.ref == run_ref)).one().status
                == "interrupted"
            )
        again = client.post(f"/api/v1/rounds/{ref}/solve", headers=h).json()
        assert again["job"] != job_ref
        from tests.api.test_api_rounds import solve_and_wait

        assert solve_and_wait(client, h, ref)["result_status"] in ("OPTIMAL", "FEASIBLE")


SCENARIO = b"""
[scenario]
time_limit = 5
[base]
generate = { scale = "XS", seed = 1 }
[variants.more]
overrides.funds.regional.add_eur = 10000
"""


@pytest.mark.parametrize(
    "text, field",
    [
        (SCENARIO.replace(b'scale = "XS"', b'scale = "XL"'), "generate.scale"),
        (SCENARIO.replace(b'scale = "XS"', b"scale = [20000, 8000, 2000]"), "generate.scale"),
        (
            SCENARIO
            + b"\n".join(
                b"[variants.v%d]\noverrides.funds.regional.add_eur = %d" % (k, k)
                for k in range(1, 30)
            ),
            "(count)",
        ),
        (
            SCENARIO + b'[variants.sweep]\nsweep = { key = "funds.regional.add_eur", start = 0, '
            b"stop = 40, step = 1 }",
            "sweep",
        ),
        (SCENARIO.replace(b"time_limit = 5", b"time_limit = 600"), "time_limit"),
        (b"x = " + b"[" * 3000 + b"]" * 3000, "(syntax)"),
    ],
)
def test_scenario_limits_are_kept(
    client: TestClient, world: World, text: bytes, field: str
) -> None:
    """Item 3: variants, points, scale and time are limited; deep TOML is a 422."""
    res = client.post(
        "/api/v1/scenarios",
        headers=world.headers("pia"),
        files={"file": ("s.toml", text, "application/toml")},
    )
    assert res.status_code == 422, res.text
    assert any(field in f["field"] for f in res.json()["error"]["fields"]), res.json()


def test_a_run_is_killed_at_its_time_limit(
    engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 3: the time limit bounds the whole run: a run that hangs is stopped."""
    monkeypatch.setenv("HOUSING_FAULT", "job:scenario")  # the child hangs at its start
    app = create_app(
        Settings(login_delay_base_seconds=0.0, scenario_grace_seconds=0.5, cookie_secure=False),
        engine,
    )
    with TestClient(app) as client:
        h = world.headers("pia")
        run = client.post(
            "/api/v1/scenarios",
            headers=h,
            files={
                "file": (
                    "s.toml",
                    SCENARIO.replace(b"time_limit = 5", b"time_limit = 1"),
                    "application/toml",
                )
            },
        ).json()
        for _ in range(600):
            got = client.get(f"/api/v1/scenarios/{run['ref']}", headers=h).json()
            if got["status"] in ("done", "failed"):
                break
            import time

            time.sleep(0.1)
        assert got["status"] == "failed" and "time limit" in got["error"]
    with Session(engine) as s:
        job = s.exec(select(Job).where(Job.subject == run["ref"])).one()
        pid = int(job.progress["worker_pid"])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the child is gone
