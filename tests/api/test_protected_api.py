"""Avoid zones and victim tags through the service: their own office sees them; an admin
of no office, a planner and an error body never do."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import World, household, page_client

ZONE = {"lat": 41.4611, "lon": 15.5432, "radius_km": 5.0}


def test_only_the_households_own_office_sees_them(client: TestClient, world: World) -> None:
    body = household(0, tags=["exploitation_victim", "health"]).model_dump(
        mode="json", exclude_none=True
    )
    body.update(given_name="Awa", family_name="Sarr")
    bad = client.post(
        "/api/v1/beneficiaries",
        json={**body, "avoid_zones": [{**ZONE, "radius_km": 0}]},
        headers=world.headers("anna"),
    )
    assert bad.status_code == 422 and "avoid_zones" in bad.text
    assert "41.4611" not in bad.text and "15.5432" not in bad.text
    made = client.post(
        "/api/v1/beneficiaries", json={**body, "avoid_zones": [ZONE]}, headers=world.headers("anna")
    )
    assert made.status_code == 201, made.text
    ref = made.json()["ref"]
    own = client.get(f"/api/v1/beneficiaries/{ref}", headers=world.headers("anna")).json()
    assert own["avoid_zones"] == [ZONE] and "exploitation_victim" in own["tags"]
    admin = client.get(f"/api/v1/beneficiaries/{ref}", headers=world.headers("root"))
    assert admin.status_code == 200
    assert "41.4611" not in admin.text and "exploitation_victim" not in admin.text
    assert admin.json()["tags"] == ["health"]
    planner = client.get(f"/api/v1/beneficiaries/{ref}", headers=world.headers("pia"))
    assert planner.status_code == 403 and "exploitation_victim" not in planner.text


def test_the_household_page_of_an_admin_of_no_office_has_no_victim_tag(
    app: FastAPI, world: World
) -> None:
    ref = world.beneficiaries[0]  # tagged exploitation_victim, in office FG
    own = page_client(app, world, "anna").get(f"/beneficiaries/{ref}?lang=en")
    assert "victim of labour exploitation" in own.text
    admin = page_client(app, world, "root").get(f"/beneficiaries/{ref}?lang=en")
    assert admin.status_code == 200 and "victim of labour exploitation" not in admin.text
