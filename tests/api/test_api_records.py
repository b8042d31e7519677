"""The records over HTTP: create, read (audited), list with search and pages, update,
deactivate; one error body; integer cents; unknown fields refused; body size limit."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.models import AuditEntry
from api.main import create_app
from api.settings import Settings
from tests.api.conftest import World

NEW = {
    "given_name": "Moussa",
    "family_name": "Barry",
    "gender": "M",
    "adults": 1,
    "income_cents": 82000,
    "work_municipality": "San Severo",
    "tags": ["exploitation_victim"],
}


def error(res: Any) -> dict[str, Any]:
    body = res.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return dict(body["error"])


def test_beneficiary_crud_is_audited(client: TestClient, world: World, engine: Engine) -> None:
    h = world.headers("anna")
    res = client.post("/api/v1/beneficiaries", json=NEW, headers=h)
    assert res.status_code == 201, res.text
    b = res.json()
    assert b["work_municipality"] == "071051" and b["office_id"] == world.fg
    assert b["priority"] >= 5 and b["priority_breakdown"][0]["component"] == "base"
    ref = b["ref"]
    got = client.get(f"/api/v1/beneficiaries/{ref}", headers=h)
    assert got.status_code == 200 and got.json()["family_name"] == "Barry"
    assert got.json()["events"][0]["to_status"] == "waiting"
    patched = client.patch(
        f"/api/v1/beneficiaries/{ref}", headers=h, json={"minors": 1, "phone": "+39 333 000"}
    )
    assert patched.status_code == 200 and patched.json()["minors"] == 1
    member = client.post(
        f"/api/v1/beneficiaries/{ref}/members",
        headers=h,
        json={"given_name": "Awa", "family_name": "Barry", "relation": "child", "gender": "F"},
    )
    assert member.status_code == 201
    assert (
        client.post(
            f"/api/v1/beneficiaries/{ref}/notes", headers=h, json={"note": "met at the field"}
        ).status_code
        == 201
    )
    st = client.post(
        f"/api/v1/beneficiaries/{ref}/status",
        headers=h,
        json={"status": "suspended", "note": "not reachable"},
    )
    assert st.status_code == 200 and st.json()["status"] == "suspended"
    bad = client.post(f"/api/v1/beneficiaries/{ref}/status", headers=h, json={"status": "housed"})
    assert bad.status_code == 422 and error(bad)["fields"][0]["field"] == "status"
    assert client.delete(f"/api/v1/beneficiaries/{ref}", headers=h).status_code == 204
    assert client.get(f"/api/v1/beneficiaries/{ref}", headers=h).json()["status"] == "closed"
    with Session(engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.entity_ref == ref)).all()
    actions = [e.action for e in entries]
    assert actions.count("beneficiary.read") == 2
    assert {
        "beneficiary.create",
        "beneficiary.update",
        "beneficiary.member_add",
        "beneficiary.note",
        "beneficiary.status",
    } <= set(actions)
    assert all(e.actor == "anna" and e.user_id for e in entries)
    assert "Barry" not in repr([e.detail for e in entries])


def test_search_and_pages(client: TestClient, world: World) -> None:
    h = world.headers("anna")
    page = client.get("/api/v1/beneficiaries?limit=2&offset=1", headers=h).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert len(page["items"]) == 2
    priorities = [
        b["priority"] for b in client.get("/api/v1/beneficiaries", headers=h).json()["items"]
    ]
    assert priorities == sorted(priorities, reverse=True)
    found = client.get("/api/v1/beneficiaries?q=keita", headers=h).json()
    assert [b["family_name"] for b in found["items"]] == ["Keita"]
    assert client.get("/api/v1/beneficiaries?status=waiting", headers=h).json()["total"] == 5
    too_big = client.get("/api/v1/beneficiaries?limit=201", headers=h)
    assert too_big.status_code == 422 and error(too_big)["fields"][0]["field"] == "limit"
    assert client.get("/api/v1/beneficiaries?offset=-1", headers=h).status_code == 422


def test_errors_have_one_shape(client: TestClient, world: World) -> None:
    h = world.headers("anna")
    unknown = client.post("/api/v1/beneficiaries", json={**NEW, "salary": 1}, headers=h)
    assert unknown.status_code == 422
    assert {"field": "salary", "message": "Extra inputs are not permitted"} in error(unknown)[
        "fields"
    ]
    floaty = client.post("/api/v1/beneficiaries", json={**NEW, "income_cents": 820.5}, headers=h)
    assert floaty.status_code == 422 and error(floaty)["fields"][0]["field"] == "income_cents"
    place = client.post(
        "/api/v1/beneficiaries", json={**NEW, "work_municipality": "Fogia"}, headers=h
    )
    err = error(place)
    assert place.status_code == 422 and err["fields"][0]["field"] == "work_municipality"
    assert "Foggia" in err["message"]
    missing = client.get("/api/v1/dwellings/D-NOPE", headers=h)
    assert missing.status_code == 404 and error(missing)["code"] == "not_found"
    assert error(client.get("/api/v1/nowhere", headers=h))["code"] == "not_found"
    assert error(client.put("/api/v1/beneficiaries", headers=h))["code"] == "method_not_allowed"
    dup = client.post(
        "/api/v1/funds", json={"code": "regional", "name": "x"}, headers=world.headers("root")
    )
    assert dup.status_code == 409 and error(dup)["fields"][0]["field"] == "code"
    broken = client.post(
        "/api/v1/funds",
        content=b"{not json",
        headers={**world.headers("root"), "content-type": "application/json"},
    )
    assert broken.status_code == 422 and error(broken)["code"] == "invalid"


def test_body_size_limit(engine: Engine, world: World) -> None:
    app = create_app(Settings(max_body_bytes=2048), engine)
    with TestClient(app) as client:
        big = {**NEW, "pai_goals": "x" * 3000}
        res = client.post("/api/v1/beneficiaries", json=big, headers=world.headers("anna"))
        assert res.status_code == 413 and error(res)["code"] == "too_large"

        def chunks() -> Any:  # no Content-Length: counted as it streams
            yield b'{"given_name": "'
            yield b"x" * 4096
            yield b'"}'

        res = client.post(
            "/api/v1/beneficiaries",
            content=chunks(),
            headers={**world.headers("anna"), "content-type": "application/json"},
        )
        assert res.status_code == 413 and error(res)["code"] == "too_large"


def test_units_landlords_and_funds(client: TestClient, world: World) -> None:
    h, admin = world.headers("anna"), world.headers("root")
    d = client.post(
        "/api/v1/dwellings",
        headers=h,
        json={
            "address": "Via Roma 1",
            "municipality": "071024",
            "area_m2": 45,
            "bedrooms": 1,
            "rent_cents": 35000,
            "landlord_ref": world.landlord,
        },
    )
    assert d.status_code == 201 and d.json()["landlord_ref"] == world.landlord
    ref = d.json()["ref"]
    assert (
        client.patch(f"/api/v1/dwellings/{ref}", headers=h, json={"rent_cents": 36000}).json()[
            "rent_cents"
        ]
        == 36000
    )
    w = client.post(f"/api/v1/dwellings/{ref}/status", headers=h, json={"status": "withdrawn"})
    assert w.json()["status"] == "withdrawn"
    assert (
        client.post(
            f"/api/v1/dwellings/{ref}/status", headers=h, json={"status": "let"}
        ).status_code
        == 422
    )
    assert client.get("/api/v1/dwellings?status=available", headers=h).json()["total"] == 2
    f = client.post(
        "/api/v1/shared-flats",
        headers=h,
        json={
            "address": "Via Foggia 9",
            "municipality": "Lucera",
            "rent_per_bed_cents": 16000,
            "rooms": [{"beds": 2}, {"beds": 2, "name": "big"}],
        },
    )
    assert f.status_code == 201 and [r["beds"] for r in f.json()["rooms"]] == [2, 2]
    no_rooms = client.post(
        "/api/v1/shared-flats",
        headers=h,
        json={
            "address": "Via Foggia 9",
            "municipality": "Lucera",
            "rent_per_bed_cents": 16000,
            "rooms": [],
        },
    )
    assert no_rooms.status_code == 422
    lan = client.get(f"/api/v1/landlords/{world.landlord}", headers=h)
    assert lan.status_code == 200 and lan.json()["name"] == "Rossi Immobili"
    # funds: everyone with funds:read sees balances; only admins move money
    funds = client.get("/api/v1/funds", headers=h).json()
    assert {x["code"]: x["balance_cents"] for x in funds["items"]} == {
        "regional": 2_000_000,
        "victims": 500_000,
    }
    assert (
        client.post(
            "/api/v1/funds/regional/grants", headers=h, json={"amount_cents": 100}
        ).status_code
        == 403
    )
    g = client.post(
        "/api/v1/funds/regional/grants", headers=admin, json={"amount_cents": 100, "note": "top-up"}
    )
    assert g.status_code == 201 and g.json()["balance_cents"] == 2_000_100
    assert (
        client.post(
            "/api/v1/funds/regional/grants", headers=admin, json={"amount_cents": 1.5}
        ).status_code
        == 422
    )
    new = client.post(
        "/api/v1/funds",
        headers=admin,
        json={"code": "municipal", "name": "Comune di Foggia", "budget_cents": 300000},
    )
    assert new.status_code == 201 and new.json()["balance_cents"] == 300000
    off = client.patch("/api/v1/funds/municipal", headers=admin, json={"active": False})
    assert off.json()["active"] is False


def test_admin_names_the_office(client: TestClient, world: World) -> None:
    admin = world.headers("root")
    res = client.post("/api/v1/beneficiaries", json=NEW, headers=admin)
    assert res.status_code == 422 and error(res)["fields"][0]["field"] == "office"
    res = client.post("/api/v1/beneficiaries?office=LE", json=NEW, headers=admin)
    assert res.status_code == 201 and res.json()["office_id"] == world.le
    res = client.post("/api/v1/beneficiaries?office=LE", json=NEW, headers=world.headers("anna"))
    assert res.status_code == 403


def test_users_by_admins(client: TestClient, world: World) -> None:
    admin = world.headers("root")
    res = client.post(
        "/api/v1/users",
        headers=admin,
        json={
            "username": "gino",
            "full_name": "Gino R.",
            "password": "long enough pw",
            "role": "caseworker",
            "office_code": "FG",
        },
    )
    assert res.status_code == 201 and "password" not in res.text
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "gino", "password": "long enough pw"}
        ).status_code
        == 200
    )
    assert client.delete("/api/v1/users/gino", headers=admin).status_code == 204
    assert client.get("/api/v1/users", headers=world.headers("anna")).status_code == 403


def test_openapi_documents_every_api_route(client: TestClient, app: FastAPI) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "/api/v1/rounds/{ref}/solve/{job}" in doc["paths"]
    assert not any(p.startswith(("/beneficiaries", "/login")) for p in doc["paths"])
    create = doc["components"]["schemas"]["BeneficiaryCreate"]
    assert create["additionalProperties"] is False
    assert create["properties"]["income_cents"]["type"] == "integer"
    limit = next(
        p
        for p in doc["paths"]["/api/v1/beneficiaries"]["get"]["parameters"]
        if p["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == 200


def test_health_and_security_headers(client: TestClient) -> None:
    res = client.get("/health")
    assert res.json() == {"status": "ok", "database": "ok", "jobs": "ok"}
    assert res.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in res.headers["content-security-policy"]


@pytest.mark.parametrize("name", ["style.css", "poll.js", "favicon.svg"])
def test_static_files(client: TestClient, name: str) -> None:
    assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/../main.py").status_code == 404


def test_nul_characters_are_refused_everywhere(client: TestClient, world: World) -> None:
    h = world.headers("anna")
    for res in (
        client.post("/api/v1/beneficiaries", json={**NEW, "family_name": "Ba\x00rry"}, headers=h),
        client.get("/api/v1/beneficiaries?q=a%00b", headers=h),
        client.get("/api/v1/dwellings/D-%00", headers=h),
        client.post("/api/v1/auth/login", json={"username": "a\x00", "password": "x"}),
    ):
        assert res.status_code == 422 and error(res)["fields"][0]["field"] == "request"
    res = client.post(
        "/api/v1/imports/beneficiaries",
        headers=h,
        files={"file": ("x.csv", b"office\x00,given_name\n")},
    )
    assert res.status_code == 422
    page = client.post("/login", data={"username": "an\x00na", "password": "x"})
    assert page.status_code == 422


def test_numbers_beyond_the_columns_are_refused(client: TestClient, world: World) -> None:
    h = world.headers("anna")
    rich = client.post("/api/v1/beneficiaries", json={**NEW, "income_cents": 2**31}, headers=h)
    assert rich.status_code == 422 and error(rich)["fields"][0]["field"] == "income_cents"
    huge = client.delete(
        f"/api/v1/beneficiaries/{world.beneficiaries[0]}/members/{2**40}", headers=h
    )
    assert huge.status_code == 422 and error(huge)["fields"][0]["field"] == "member_id"
