"""A landlord's dwelling walked through the API: proposed, visited, certified, terms,
available; the guarantee fund's ledger; another office's caseworker never reaches it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import World

DWELLING = {
    "address": "Via Arpi 4",
    "municipality": "Foggia",
    "lat": 41.4622,
    "lon": 15.5446,
    "area_m2": 70,
    "bedrooms": 2,
    "rent_cents": 60000,
}


def test_the_walk_through_the_api(client: TestClient, world: World) -> None:
    h = world.headers("anna")
    got = client.post(f"/api/v1/landlords/{world.landlord}/dwellings", json=DWELLING, headers=h)
    assert got.status_code == 201, got.text
    walk = got.json()
    ref = walk["ref"]
    assert (walk["status"], walk["next_step"]) == ("proposed", "visit")
    # out of order: a clear error naming the field
    early = client.post(f"/api/v1/dwellings/{ref}/available", headers=h)
    assert early.status_code == 422 and "status" in early.text
    assert (
        client.post(
            f"/api/v1/dwellings/{ref}/visit", json={"visited_on": "2026-06-10"}, headers=h
        ).json()["next_step"]
        == "certify"
    )
    bad = client.post(
        f"/api/v1/dwellings/{ref}/certificate",
        json={"number": "IA-1", "issued_on": "2026-06-20", "occupants": 0},
        headers=h,
    )
    assert bad.status_code == 422 and "occupants" in bad.text
    cert = client.post(
        f"/api/v1/dwellings/{ref}/certificate",
        json={"number": "IA-1", "issued_on": "2026-06-20", "occupants": 3},
        headers=h,
    ).json()
    assert (cert["status"], cert["max_occupants"], cert["next_step"]) == (
        "certified",
        3,
        "make_available",
    )
    terms = [
        {"label": "market", "rent_cents": 60000},
        {"label": "agreed", "rent_cents": 43000, "one_off_cents": 150000, "guaranteed": True},
    ]
    dup = client.put(
        f"/api/v1/dwellings/{ref}/terms", json={"terms": [terms[0], terms[0]]}, headers=h
    )
    assert dup.status_code == 422 and "label" in dup.text
    put = client.put(f"/api/v1/dwellings/{ref}/terms", json={"terms": terms}, headers=h)
    assert [t["label"] for t in put.json()["terms"]] == ["agreed", "market"]
    done = client.post(f"/api/v1/dwellings/{ref}/available", headers=h).json()
    assert (done["status"], done["next_step"]) == ("available", None)
    # another office's caseworker does not find it
    other = client.get(f"/api/v1/dwellings/{ref}/walk", headers=world.headers("luca"))
    assert other.status_code == 404


def test_the_guarantee_fund(client: TestClient, world: World) -> None:
    root = world.headers("root")
    g = client.post("/api/v1/guarantee/grants", json={"amount_cents": 500000}, headers=root)
    assert g.status_code == 201
    assert g.json() == {
        "granted_cents": 500000,
        "exposed_cents": 0,
        "claims_cents": 0,
        "left_cents": 500000,
    }
    # a caseworker reads it, but may not grant
    assert client.get("/api/v1/guarantee", headers=world.headers("anna")).status_code == 200
    denied = client.post(
        "/api/v1/guarantee/grants", json={"amount_cents": 1}, headers=world.headers("anna")
    )
    assert denied.status_code == 403
