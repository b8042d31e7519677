"""Planners' scenarios over HTTP: a TOML file runs in the background on the agency's own
data (pseudonymised), and the report holds aggregates only."""

from __future__ import annotations

import time

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.models import ScenarioRun
from tests.api.conftest import World, page_client

SCENARIO = b"""
[scenario]
name = "more-budget"
description = "Twice the regional fund."
time_limit = 5
seed = 0

[base]
agency = {}

[variants.double]
description = "regional fund doubled"
overrides.funds.regional.add_eur = 20000
"""


def test_a_planner_runs_a_scenario_and_reads_aggregates(client: TestClient, world: World,
                                                        engine: Engine) -> None:
    h = world.headers("pia")
    res = client.post("/api/v1/scenarios", headers=h,
                      files={"file": ("more-budget.toml", SCENARIO, "application/toml")})
    assert res.status_code == 202, res.text
    ref = res.json()["ref"]
    deadline = time.monotonic() + 120
    while True:
        run = client.get(f"/api/v1/scenarios/{ref}", headers=h).json()
        if run["status"] in ("done", "failed"):
            break
        assert time.monotonic() < deadline, run
        time.sleep(0.3)
    assert run["status"] == "done", run
    report = run["report"]
    assert report["ok"] and [v["name"] for v in report["variants"]] == ["double"]
    text = client.get(f"/api/v1/scenarios/{ref}", headers=h).text
    for secret in world.secrets:
        assert secret not in text
    assert "B-" not in text  # no household's ref either
    listed = client.get("/api/v1/scenarios", headers=h).json()
    assert [r["ref"] for r in listed["items"]] == [ref]
    # another planner's runs are not theirs; caseworkers may not run scenarios
    assert client.get(f"/api/v1/scenarios/{ref}", headers=world.headers("root")).status_code \
        == 200
    assert client.post("/api/v1/scenarios", headers=world.headers("anna"),
                       files={"file": ("x.toml", SCENARIO)}).status_code == 403
    with Session(engine) as s:
        stored = s.exec(select(ScenarioRun).where(ScenarioRun.ref == ref)).one()
        assert stored.report is not None and stored.finished_at is not None


def test_a_bad_scenario_file_is_refused_with_its_errors(client: TestClient,
                                                        world: World) -> None:
    h = world.headers("pia")
    res = client.post("/api/v1/scenarios", headers=h,
                      files={"file": ("bad.toml", b"[scenario]\nname = 3\n")})
    assert res.status_code == 422
    assert res.json()["error"]["fields"]
    res = client.post("/api/v1/scenarios", headers=h,
                      files={"file": ("bin.toml", b"\xff\xfe")})
    assert res.status_code == 422


def test_the_scenario_pages(app: FastAPI, world: World) -> None:
    c = page_client(app, world, "pia")
    assert "scenario-file" in c.get("/scenarios?lang=en").text
    res = c.post("/scenarios", data={"csrf_token": world.csrf("pia")},
                 files={"file": ("more-budget.toml", SCENARIO, "application/toml")})
    assert res.status_code == 303, res.text
    url = res.headers["location"]
    deadline = time.monotonic() + 120
    while "badge\">done" not in (html := c.get(url + "?lang=en").text):
        assert time.monotonic() < deadline and "failed" not in html
        time.sleep(0.3)
    assert "double" in html and "⟦" not in html
    for secret in world.secrets:
        assert secret not in html
    bad = c.post("/scenarios", data={"csrf_token": world.csrf("pia")},
                 files={"file": ("bad.toml", b"[scenario]\nname = 3\n")})
    assert bad.status_code == 422 and "alert" in bad.text
    assert page_client(app, world, "anna").get("/scenarios").status_code == 403
