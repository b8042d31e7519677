"""Importing the spreadsheet templates over HTTP: all rows or none, into the caller's office
only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import World

TEMPLATES = Path(__file__).resolve().parents[2] / "agency" / "data" / "templates"


def _post(
    client: TestClient,
    w: World,
    user: str,
    kind: str,
    content: bytes,
    name: str = "x.csv",
    office: str | None = None,
) -> Any:
    url = f"/api/v1/imports/{kind}" + (f"?office={office}" if office else "")
    return client.post(url, headers=w.headers(user), files={"file": (name, content)})


def test_templates_import_into_the_caseworker_s_office(client: TestClient, world: World) -> None:
    for kind in ("beneficiaries", "dwellings", "flats"):
        res = _post(
            client, world, "anna", kind, (TEMPLATES / f"{kind}.csv").read_bytes(), f"{kind}.csv"
        )
        assert res.status_code == 201, res.text
        assert res.json()["rows"] >= 2 and res.json()["refs"]
    listed = client.get("/api/v1/beneficiaries?q=kone", headers=world.headers("anna")).json()
    assert listed["total"] == 1


def test_a_bad_file_imports_nothing(client: TestClient, world: World) -> None:
    text = (TEMPLATES / "beneficiaries.csv").read_text(encoding="utf-8")
    bad = text.replace("San Severo", "San Sevrino", 1).encode()
    res = _post(client, world, "anna", "beneficiaries", bad)
    assert res.status_code == 422
    fields = res.json()["error"]["fields"]
    assert fields and fields[0]["field"].startswith("row 3")
    assert (
        client.get("/api/v1/beneficiaries?q=kone", headers=world.headers("anna")).json()["total"]
        == 0
    )
    assert _post(client, world, "anna", "beneficiaries", b"x", "x.pdf").status_code == 422


def test_no_import_into_another_office(client: TestClient, world: World) -> None:
    data = (TEMPLATES / "beneficiaries.csv").read_bytes()  # rows name office FG
    assert _post(client, world, "luca", "beneficiaries", data).status_code == 403
    assert _post(client, world, "luca", "beneficiaries", data, office="FG").status_code == 403
    assert _post(client, world, "pia", "beneficiaries", data).status_code == 403
    assert (
        client.get("/api/v1/beneficiaries?q=kone", headers=world.headers("anna")).json()["total"]
        == 0
    )
