"""``GET /api/v1/rounds/{ref}/solves``: every solve of a round as kept for accountability,
to its office's staff only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.accountability import instance_sha256
from agency.models import Round
from agency.rounds import instance_for
from tests.api.conftest import World
from tests.api.test_api_rounds import OPEN, check_valid, solve_and_wait


def test_the_solves_of_a_round(client: TestClient, world: World, engine: Engine) -> None:
    h = world.headers("anna")
    res = client.post("/api/v1/rounds", json=OPEN, headers=h)
    assert res.status_code == 201, res.text
    ref = res.json()["round"]["ref"]
    assert client.get(f"/api/v1/rounds/{ref}/solves", headers=h).json() == []
    solve_and_wait(client, h, ref)
    check_valid(engine, ref)
    res = client.get(f"/api/v1/rounds/{ref}/solves", headers=h)
    assert res.status_code == 200, res.text
    (kept,) = res.json()
    with Session(engine) as s:
        r = s.exec(select(Round).where(Round.ref == ref)).one()
        assert kept["instance_sha256"] == instance_sha256(instance_for(s, r))
    assert kept["iteration"] == 1 and kept["params"]["seed"] == OPEN.get("seed", 0)
    assert kept["audit"]["groups"] and "inversions" in kept["audit"]
    # households by ref only: no name of office FG's people
    assert not any(name in res.text for name in world.names)
    # another office's caseworker, a planner, an auditor: nothing
    for user in ("luca", "pia", "aldo"):
        got = client.get(f"/api/v1/rounds/{ref}/solves", headers=world.headers(user))
        assert got.status_code in (403, 404), (user, got.status_code)
