"""The report through the service: a caseworker's is their own office's; a planner reads
aggregates; the page shows the tables and downloads the files."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import World, page_client


def test_reports_api(client: TestClient, world: World) -> None:
    q = "/api/v1/reports?from=2026-01-01&to=2026-12-31"
    mine = client.get(q + "&office=LE", headers=world.headers("anna")).json()
    assert mine["office"] == "FG"  # a caseworker reports on their own office only
    assert mine["sections"]["participants"]["rows"][0] == ["households", 5, 0]
    planner = client.get(q, headers=world.headers("pia"))
    assert planner.status_code == 200 and planner.json()["office"] is None
    for name in ("Amadou", "Diallo", "exploitation_victim"):
        assert name not in planner.text
    pdf = client.get(q + "&format=pdf&lang=it", headers=world.headers("pia"))
    assert pdf.headers["content-type"] == "application/pdf"
    bad = client.get("/api/v1/reports?from=2026-12-31&to=2026-01-01", headers=world.headers("pia"))
    assert bad.status_code == 422 and "end" in bad.text
    assert client.get(q, headers=world.headers("aldo")).status_code == 403


def test_reports_page(app: FastAPI, world: World) -> None:
    c = page_client(app, world, "anna")
    got = c.get("/reports?from=2026-01-01&to=2026-12-31&lang=it")
    assert got.status_code == 200 and "Partecipanti" in got.text and "nuclei" in got.text
    xlsx = c.get("/reports?from=2026-01-01&to=2026-12-31&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert c.get("/reports?from=nope").status_code == 422
