"""Who may do what, for every route: each declares a permission, and a caseworker of
another office, a planner or an auditor never gets a record of office FG (403 or 404)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.models import AuditEntry
from api import permissions as perms
from api.deps import route_permission, walk_routes
from tests.api.conftest import FAMILY, GIVEN, World, page_client

PUBLIC_ROUTES = {"/health", "/openapi.json", "/static/{name}", "/api/v1/auth/login", "/login"}


def all_routes(app: FastAPI) -> list[tuple[str, str, str | None]]:
    out = []
    for path, route, inherited in walk_routes(list(app.routes)):
        for method in sorted(getattr(route, "methods", None) or ["?"]):
            out.append((method, path, route_permission(route, inherited)))
    return out


def test_every_route_declares_a_permission(app: FastAPI) -> None:
    routes = all_routes(app)
    assert len(routes) > 80
    missing = [(m, p) for m, p, perm in routes if perm is None]
    assert missing == [], f"routes without a declared permission: {missing}"
    public = {p for _m, p, perm in routes if perm == perms.PUBLIC}
    assert public == PUBLIC_ROUTES


def test_a_route_without_permission_is_caught(app: FastAPI) -> None:
    @app.get("/api/v1/oops")
    def oops() -> dict[str, str]:
        return {}

    assert ("GET", "/api/v1/oops", None) in all_routes(app)


def test_roles_hold_what_the_issue_says() -> None:
    assert perms.ROLE_PERMISSIONS[perms.Role.planner] & perms.NAMED == set()
    assert perms.ROLE_PERMISSIONS[perms.Role.auditor] == {perms.AUTHENTICATED, perms.AUDIT_READ}
    assert perms.ROLE_PERMISSIONS[perms.Role.admin] == perms.ALL


# --------------------------------------------------------------------------- isolation


def _fill(path: str, w: World, ids: dict[str, int]) -> str:
    """The path with its parameters naming records of office FG."""
    ref = {
        "beneficiaries": w.beneficiaries[0],
        "landlords": w.landlord,
        "dwellings": w.dwellings[0],
        "shared-flats": w.flat,
        "flats": w.flat,
    }
    kind = path.strip("/").split("/")[2 if path.startswith("/api/") else 0]
    values = {
        "ref": ref.get(kind, ids.get("round_ref", "")),
        "code": "regional",
        "username": "anna",
        "member_id": str(w.member_id),
        "job": "nojob",
        "name": "style.css",
        "offer_id": str(ids.get("offer", 1)),
        "decision_id": str(ids.get("decision", 1)),
        "entry_id": "1",
        "token": "x" * 32,
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/api/v1/beneficiaries/{ref}"): {"phone": "333"},
    ("POST", "/api/v1/beneficiaries/{ref}/status"): {"status": "suspended"},
    ("POST", "/api/v1/beneficiaries/{ref}/notes"): {"note": "x"},
    ("POST", "/api/v1/beneficiaries/{ref}/members"): {
        "given_name": "X",
        "family_name": "Y",
        "relation": "child",
        "gender": "F",
    },
    ("PATCH", "/api/v1/landlords/{ref}"): {"name": "Z"},
    ("PATCH", "/api/v1/dwellings/{ref}"): {"rent_cents": 1},
    ("POST", "/api/v1/dwellings/{ref}/status"): {"status": "withdrawn"},
    ("PATCH", "/api/v1/shared-flats/{ref}"): {"rent_per_bed_cents": 1},
    ("POST", "/api/v1/shared-flats/{ref}/status"): {"status": "withdrawn"},
    ("PATCH", "/api/v1/funds/{code}"): {"name": "Renamed"},
    ("PATCH", "/api/v1/lines/{ref}"): {"seats": 3},
    ("POST", "/api/v1/funds/{code}/grants"): {"amount_cents": 100},
    ("POST", "/api/v1/rounds/{ref}/decisions"): {
        "beneficiary_ref": "B-X",
        "unit_ref": "D-X",
        "kind": "forbid",
    },
    ("POST", "/api/v1/rounds/{ref}/offers"): {},
    ("POST", "/api/v1/rounds/{ref}/offers/{offer_id}/answer"): {"status": "accepted"},
    ("POST", "/api/v1/rounds/{ref}/close"): {},
}

# routes a caseworker of any office may call and get their own office's answer (or none)
OWN_OFFICE = {
    "/api/v1/beneficiaries",
    "/api/v1/landlords",
    "/api/v1/dwellings",
    "/api/v1/shared-flats",
    "/api/v1/rounds",
    "/api/v1/funds",
    "/api/v1/funds/{code}",
    "/api/v1/lines",
    "/api/v1/auth/me",
    "/api/v1/auth/logout",
    "/",
    "/beneficiaries",
    "/dwellings",
    "/flats",
    "/funds",
    "/rounds",
    "/map",
    "/beneficiaries/new",
    "/dwellings/new",
    "/flats/new",
    "/rounds/new",
    "/lines",
    "/lines/new",
}


@pytest.fixture
def fg_round(client: TestClient, world: World, engine: Engine) -> dict[str, int | str]:
    """A solved round of office FG with an offer and a decision, to aim at."""
    from tests.api.test_api_rounds import solve_and_wait

    h = world.headers("anna")
    r = client.post(
        "/api/v1/rounds",
        json={"name": "FG July", "time_limit_s": 10, "on": "2026-07-01"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    ref = r.json()["round"]["ref"]
    view = solve_and_wait(client, h, ref)
    first = view["proposals"][0]
    d = client.post(
        f"/api/v1/rounds/{ref}/decisions",
        headers=h,
        json={
            "beneficiary_ref": view["unplaced"][0]["beneficiary_ref"]
            if view["unplaced"]
            else first["beneficiary_ref"],
            "unit_ref": world.dwellings[1],
            "kind": "forbid",
        },
    )
    assert d.status_code == 201, d.text
    offers = client.post(
        f"/api/v1/rounds/{ref}/offers", headers=h, json={"proposal_ids": [first["id"]]}
    ).json()
    return {"round_ref": ref, "offer": offers[0]["id"], "decision": d.json()["id"]}


def _shows(body: str, secret: str) -> bool:
    """Whether ``body`` shows ``secret`` as a word of its own: a short family name may
    turn up by chance inside a random token of the page (its CSRF token, a script's
    nonce: "Sow" in "AGaL9UdSowbCsAZ..."), which shows nothing."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(secret)}(?![A-Za-z0-9_])", body) is not None


def test_a_name_inside_a_random_token_is_not_shown() -> None:
    assert not _shows('nonce="AGaL9UdSowbCsAZGlXNYFw"', "Sow")
    assert _shows("<td>Sow</td>", "Sow")
    assert _shows("Amadou Sow, Foggia", "Sow")
    assert _shows('href="/beneficiaries/B-2QKSQ9NP"', "B-2QKSQ9NP")


@pytest.mark.parametrize("intruder", ["luca", "pia", "aldo"])
def test_no_route_gives_office_fg_to_an_intruder(
    app: FastAPI,
    client: TestClient,
    world: World,
    engine: Engine,
    fg_round: dict[str, Any],
    intruder: str,
) -> None:
    secrets = [*world.secrets, str(fg_round["round_ref"])]
    checked = 0
    for method, path, perm in all_routes(app):
        if perm == perms.PUBLIC or path.startswith("/static"):
            continue
        if path in ("/logout", "/api/v1/auth/logout"):
            continue  # the intruder's own session: ending it would end the test
        url = _fill(path, world, fg_round)
        if path.startswith("/api/"):
            res = client.request(
                method, url, headers=world.headers(intruder), json=BODIES.get((method, path))
            )
        else:
            pc = page_client(app, world, intruder)
            data = {
                "csrf_token": world.csrf(intruder),
                "status": "withdrawn",
                "kind": "forbid",
                "note": "x",
            }
            res = pc.request(method, url, data=data if method == "POST" else None)
        shown = f"{intruder} {method} {url} -> {res.status_code}"
        body = res.text
        # the audit log names records by their pseudonymous refs, never by a name
        names_only = perm == perms.AUDIT_READ
        for s in world.names if names_only else secrets:
            if s in url:
                continue  # the ref the intruder sent comes back in "no beneficiary B-…"
            assert not _shows(body, s), f"{shown} leaked {s!r}"
        if intruder != "luca" or path not in OWN_OFFICE:
            allowed = perms.allowed(_role(intruder), perm or "")
            if not allowed:
                assert res.status_code == 403, shown
            elif "{" in path and perm in perms.NAMED:
                assert res.status_code in (403, 404, 409, 422), shown
        checked += 1
    assert checked > 70
    with Session(engine) as s:
        denied = s.exec(
            select(AuditEntry).where(AuditEntry.outcome == "denied", AuditEntry.actor == intruder)
        ).all()
    assert denied, "denials are audited"


def _role(user: str) -> perms.Role:
    return {"luca": perms.Role.caseworker, "pia": perms.Role.planner, "aldo": perms.Role.auditor}[
        user
    ]


def test_the_office_s_own_caseworker_and_admin_reach_the_records(
    client: TestClient, world: World
) -> None:
    for user in ("anna", "root"):
        res = client.get(
            f"/api/v1/beneficiaries/{world.beneficiaries[0]}", headers=world.headers(user)
        )
        assert res.status_code == 200 and res.json()["family_name"] == "Diallo"
    listed = client.get("/api/v1/beneficiaries", headers=world.headers("luca")).json()
    assert [b["ref"] for b in listed["items"]] == [world.le_beneficiary]


def test_planner_statistics_are_aggregates_only(client: TestClient, world: World) -> None:
    res = client.get("/api/v1/stats", headers=world.headers("pia"))
    assert res.status_code == 200
    body = res.text
    for s in world.secrets:
        assert s not in body
    data = res.json()
    assert data["households_by_status"] == {"waiting": 6}
    assert data["persons_waiting"] == 9 and data["beds_total"] == 3
    assert data["funds_balance_cents"] == 2_500_000
    assert client.get("/api/v1/beneficiaries", headers=world.headers("pia")).status_code == 403
    assert client.get("/api/v1/audit", headers=world.headers("pia")).status_code == 403


def test_auditor_reads_the_log_and_nothing_else(client: TestClient, world: World) -> None:
    client.get(f"/api/v1/beneficiaries/{world.beneficiaries[0]}", headers=world.headers("anna"))
    client.get(f"/api/v1/beneficiaries/{world.beneficiaries[0]}", headers=world.headers("luca"))
    res = client.get(
        f"/api/v1/audit?entity_ref={world.beneficiaries[0]}", headers=world.headers("aldo")
    )
    assert res.status_code == 200
    entries = {(e["actor"], e["action"], e["outcome"]) for e in res.json()["items"]}
    assert ("anna", "beneficiary.read", "ok") in entries
    assert ("luca", "read", "denied") in entries
    for name in [*GIVEN, *FAMILY]:
        assert name not in res.text
    assert client.get("/api/v1/beneficiaries", headers=world.headers("aldo")).status_code == 403
