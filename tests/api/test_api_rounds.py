"""A whole round through the API: open, solve as a polled job, review the proposals and
the reasons, lock and forbid, re-solve, offers, answers, close, export; the solved results
pass the independent validator, and no name reaches the application's logs."""

from __future__ import annotations

import copy
import csv
import io
import logging
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.models import AuditEntry, Lease, Round
from agency.protected import unseal_snapshot
from matching.instance import instance_from_dict
from matching.result import result_from_dict
from matching.validate import validate
from tests.api.conftest import FAMILY, GIVEN, World

OPEN = {"name": "Foggia, July 2026", "time_limit_s": 10, "on": "2026-07-01", "seed": 0}


def solve_and_wait(
    client: TestClient, headers: dict[str, str], ref: str, timeout: float = 60.0
) -> dict[str, Any]:
    """Start a solve, poll its job until it ends, and return the round's view."""
    res = client.post(f"/api/v1/rounds/{ref}/solve", headers=headers)
    assert res.status_code == 202, res.text
    job = res.json()
    assert job["status"] in ("queued", "running", "done")
    seen = []
    deadline = time.monotonic() + timeout
    while job["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, "the solve did not end"
        time.sleep(0.1)
        job = client.get(f"/api/v1/rounds/{ref}/solve/{job['job']}", headers=headers).json()
        seen.append(job)
    assert job["status"] == "done", job
    assert job["events"] > 0 and "stage" in job["progress"]
    view = client.get(f"/api/v1/rounds/{ref}", headers=headers).json()
    assert view["result_status"] in ("OPTIMAL", "FEASIBLE")
    return dict(view)


def check_valid(engine: Engine, ref: str) -> None:
    with Session(engine) as s:
        r = s.exec(select(Round).where(Round.ref == ref)).one()
        assert r.result is not None
        # the snapshot as solves see it: its protected fields (victim tags) opened, or a
        # placement paid by the victims' fund would look ineligible
        data = unseal_snapshot(copy.deepcopy(r.snapshot))
        assert validate(instance_from_dict(data), result_from_dict(r.result)) == []


def test_a_whole_round(
    client: TestClient, world: World, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    h = world.headers("anna")
    res = client.post("/api/v1/rounds", json=OPEN, headers=h)
    assert res.status_code == 201, res.text
    ref = res.json()["round"]["ref"]
    assert res.json()["round"]["status"] == "open"

    view = solve_and_wait(client, h, ref)
    check_valid(engine, ref)
    placed = {p["beneficiary_ref"]: p for p in view["proposals"]}
    assert len(placed) + len(view["unplaced"]) == 5  # office FG's households only
    for p in view["proposals"]:
        assert p["commute_km"] >= 0 and isinstance(p["contribution_cents"], int)
    for u in view["unplaced"]:
        assert u["reasons"] and len(u["texts"]) == len(u["reasons"])

    # lock one placement, forbid another, re-solve around them
    keep, drop = view["proposals"][0], view["proposals"][1]
    r1 = client.post(
        f"/api/v1/rounds/{ref}/decisions",
        headers=h,
        json={
            "beneficiary_ref": keep["beneficiary_ref"],
            "unit_ref": keep["unit_ref"],
            "room_ref": keep["room_ref"],
            "kind": "lock",
        },
    )
    r2 = client.post(
        f"/api/v1/rounds/{ref}/decisions",
        headers=h,
        json={
            "beneficiary_ref": drop["beneficiary_ref"],
            "unit_ref": drop["unit_ref"],
            "kind": "forbid",
            "note": "too far from the school",
        },
    )
    assert r1.status_code == r2.status_code == 201, (r1.text, r2.text)
    again = client.post(
        f"/api/v1/rounds/{ref}/decisions",
        headers=h,
        json={
            "beneficiary_ref": drop["beneficiary_ref"],
            "unit_ref": drop["unit_ref"],
            "kind": "forbid",
        },
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    view = solve_and_wait(client, h, ref)
    check_valid(engine, ref)
    now = {p["beneficiary_ref"]: p for p in view["proposals"]}
    assert now[keep["beneficiary_ref"]]["unit_ref"] == keep["unit_ref"]
    assert now[keep["beneficiary_ref"]]["locked"] is True
    assert now.get(drop["beneficiary_ref"], {}).get("unit_ref") != drop["unit_ref"]
    assert {d["kind"] for d in view["decisions"]} == {"lock", "forbid"}

    # offers, answers (a refusal needs its reason), close
    offers = client.post(f"/api/v1/rounds/{ref}/offers", headers=h).json()
    assert len(offers) == len(view["proposals"]) and all(o["status"] == "pending" for o in offers)
    no_reason = client.post(
        f"/api/v1/rounds/{ref}/offers/{offers[0]['id']}/answer",
        headers=h,
        json={"status": "refused_household"},
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["fields"][0]["field"] == "reason"
    refused = client.post(
        f"/api/v1/rounds/{ref}/offers/{offers[0]['id']}/answer",
        headers=h,
        json={"status": "refused_household", "reason": "moved away"},
    )
    assert refused.status_code == 200 and refused.json()["status"] == "refused_household"
    for o in offers[1:]:
        ok = client.post(
            f"/api/v1/rounds/{ref}/offers/{o['id']}/answer", headers=h, json={"status": "accepted"}
        )
        assert ok.status_code == 200, ok.text
    export = client.get(f"/api/v1/rounds/{ref}/export?format=csv&lang=en", headers=h)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert export.content.startswith(b"\xef\xbb\xbf")  # the byte-order mark, for Excel
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert {r["Family name"] for r in rows} <= set(FAMILY)
    closed = client.post(f"/api/v1/rounds/{ref}/close", headers=h)
    assert closed.status_code == 200, closed.text
    assert closed.json()["leases"] == len(offers) - 1
    assert client.get(f"/api/v1/rounds/{ref}", headers=h).json()["round"]["status"] == "closed"
    late = client.post(f"/api/v1/rounds/{ref}/solve", headers=h)
    assert late.status_code == 409 and late.json()["error"]["code"] == "conflict"

    with Session(engine) as s:
        assert len(s.exec(select(Lease)).all()) == len(offers) - 1
        actions = {e.action for e in s.exec(select(AuditEntry))}
    assert {
        "round.open",
        "round.solve_start",
        "round.solve",
        "round.lock",
        "round.forbid",
        "offer.send",
        "offer.accepted",
        "offer.refused_household",
        "round.close",
        "round.export",
        "round.read",
    } <= actions

    # the application's logs never hold a name
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "round.solve" in logged or ref in logged
    for name in [*GIVEN, *FAMILY]:
        assert name not in logged, f"{name} in the logs"


def test_solve_of_an_unknown_job_or_round(client: TestClient, world: World) -> None:
    h = world.headers("anna")
    ref = client.post("/api/v1/rounds", json=OPEN, headers=h).json()["round"]["ref"]
    res = client.get(f"/api/v1/rounds/{ref}/solve/nope", headers=h)
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/rounds/RND-NOPE/solve", headers=h).status_code == 404
    bad = client.post("/api/v1/rounds", json={**OPEN, "time_limit_s": 0}, headers=h)
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "time_limit_s"


def test_an_admin_round_takes_every_office(
    client: TestClient, world: World, engine: Engine
) -> None:
    h = world.headers("root")
    res = client.post("/api/v1/rounds", json=OPEN, headers=h)
    assert res.status_code == 201
    ref = res.json()["round"]["ref"]
    view = solve_and_wait(client, h, ref)
    check_valid(engine, ref)
    assert len(view["proposals"]) + len(view["unplaced"]) == 6
    # ...which a caseworker of one office cannot see
    assert client.get(f"/api/v1/rounds/{ref}", headers=world.headers("anna")).status_code == 404


def test_each_refusal_has_its_status_and_names_its_field(
    client: TestClient, world: World, engine: Engine
) -> None:
    h = world.headers("anna")
    ref = client.post("/api/v1/rounds", json=OPEN, headers=h).json()["round"]["ref"]
    with Session(engine) as s:
        r = s.exec(select(Round).where(Round.ref == ref)).one()
        household = r.snapshot["beneficiaries"][0]["id"]
        dwelling = r.snapshot["dwellings"][0]["id"]

    def decide(**body: Any) -> Any:
        return client.post(
            f"/api/v1/rounds/{ref}/decisions",
            headers=h,
            json={"beneficiary_ref": household, "unit_ref": dwelling, "kind": "forbid", **body},
        )

    # a household or a unit the round does not know: 422 naming the field
    for body, field in (
        ({"beneficiary_ref": "B-NOTHERE"}, "beneficiary_ref"),
        ({"unit_ref": "D-NOTHERE"}, "unit_ref"),
        ({"room_ref": "R-NOTHERE"}, "room_ref"),
    ):
        res = decide(**body)
        assert res.status_code == 422, res.text
        error = res.json()["error"]
        assert error["code"] == "invalid"
        assert [f["field"] for f in error["fields"]] == [field]
    # the round's state: 409, no field
    assert decide().status_code == 201
    twice = decide()
    assert twice.status_code == 409 and twice.json()["error"]["fields"] == []
    early = client.post(f"/api/v1/rounds/{ref}/offers", headers=h)
    assert early.status_code == 409 and early.json()["error"]["code"] == "conflict"
    # a resource named in the path: 404
    for method, path in (
        ("POST", f"/api/v1/rounds/{ref}/offers/999999/answer"),
        ("DELETE", f"/api/v1/rounds/{ref}/decisions/999999"),
    ):
        res = client.request(method, path, headers=h, json={"status": "accepted"})
        assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"
