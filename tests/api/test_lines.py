"""Shuttle lines through the API: an office's own, checked, and a seasonal round riding
one, its proposals saying which line and for which months."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.api.conftest import World
from tests.api.test_api_rounds import check_valid, solve_and_wait

CAMP = {"lat": 41.5190, "lon": 15.7390}
WORK = {"lat": 41.4584, "lon": 15.5519}  # where the world's households work


def line_body(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Borgo Mezzanone – Foggia",
        "seats": 12,
        "monthly_cost_cents": 90_000,
        "running": True,
        "stops": [
            {"name": "Borgo Mezzanone", **CAMP},
            {"name": "Foggia, zona industriale", **WORK},
        ],
    }
    body.update(kw)
    return body


def test_lines_are_the_office_s_own_and_checked(client: TestClient, world: World) -> None:
    anna = world.headers("anna")
    res = client.post("/api/v1/lines", json=line_body(), headers=anna)
    assert res.status_code == 201, res.text
    line = res.json()
    assert line["office_code"] == "FG" and [s["position"] for s in line["stops"]] == [0, 1]
    ref = line["ref"]
    listed = client.get("/api/v1/lines?q=mezzanone", headers=anna).json()
    assert [x["ref"] for x in listed["items"]] == [ref]
    patched = client.patch(f"/api/v1/lines/{ref}", json={"seats": 20}, headers=anna).json()
    assert patched["seats"] == 20 and len(patched["stops"]) == 2
    bad = client.post("/api/v1/lines", json=line_body(seats=0), headers=anna)
    assert bad.status_code == 422 and "seats" in bad.text
    bad = client.post("/api/v1/lines", json=line_body(stops=[]), headers=anna)
    assert bad.status_code == 422 and "stops" in bad.text
    # another office's caseworker neither lists nor reaches it; a planner may not at all
    luca = world.headers("luca")
    assert client.get("/api/v1/lines", headers=luca).json()["total"] == 0
    assert client.get(f"/api/v1/lines/{ref}", headers=luca).status_code == 404
    assert client.get("/api/v1/lines", headers=world.headers("pia")).status_code == 403


def test_a_seasonal_round_says_which_line_each_proposal_rides(
    client: TestClient, world: World, engine: Engine
) -> None:
    anna = world.headers("anna")
    line = client.post("/api/v1/lines", json=line_body(), headers=anna).json()
    r = client.post(
        "/api/v1/rounds",
        json={
            "name": "FG season",
            "time_limit_s": 10,
            "on": "2026-07-01",
            "policy": {"horizon_start": "2027-01", "horizon_months": 6, "walk_km": 1.5},
        },
        headers=anna,
    )
    assert r.status_code == 201, r.text
    ref = r.json()["round"]["ref"]
    view = solve_and_wait(client, anna, ref)
    check_valid(engine, ref)
    assert view["proposals"]
    for p in view["proposals"]:
        assert (p["stay_from"], p["stay_to"], p["months"]) == ("2027-01", "2027-06", 6)
        assert p["line_ref"] in (None, line["ref"])
    seats = client.get(f"/api/v1/lines/{line['ref']}/seats?round={ref}", headers=anna)
    assert seats.status_code == 200 and seats.json()["seats"] == 12
