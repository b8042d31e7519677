"""Issue 17, item 6 over HTTP: a POST repeated with its Idempotency-Key is carried out
once; a double-clicked form creates one record; the database refuses the same person
twice in an office."""

from __future__ import annotations

import re
import threading
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from agency.models import Beneficiary, LedgerEntry
from tests.api.conftest import World, page_client

PERSON: dict[str, Any] = {
    "given_name": "Moussa",
    "family_name": "Konaté",
    "birth_date": "1994-03-02",
    "gender": "M",
    "adults": 1,
    "income_cents": 65000,
    "work_municipality": "Foggia",
}


def _count(engine: Engine, **where: Any) -> int:
    with Session(engine) as s:
        q = select(func.count()).select_from(Beneficiary)
        for k, v in where.items():
            q = q.where(getattr(Beneficiary, k) == v)
        return int(s.exec(q).one())


def test_the_same_key_and_body_get_the_same_answer(
    client: TestClient, world: World, engine: Engine
) -> None:
    h = {**world.headers("anna"), "Idempotency-Key": "create-moussa-1"}
    first = client.post("/api/v1/beneficiaries", json=PERSON, headers=h)
    again = client.post("/api/v1/beneficiaries", json=PERSON, headers=h)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert _count(engine, family_name="Konaté") == 1
    other = client.post("/api/v1/beneficiaries", json={**PERSON, "given_name": "Ali"}, headers=h)
    assert other.status_code == 422
    assert other.json()["error"]["fields"][0]["field"] == "Idempotency-Key"
    assert (
        client.post(
            "/api/v1/beneficiaries",
            json=PERSON,
            headers={**world.headers("anna"), "Idempotency-Key": "bad key with spaces"},
        ).status_code
        == 422
    )


def test_without_a_key_the_database_refuses_the_same_person(
    client: TestClient, world: World, engine: Engine
) -> None:
    h = world.headers("anna")
    assert client.post("/api/v1/beneficiaries", json=PERSON, headers=h).status_code == 201
    again = client.post(
        "/api/v1/beneficiaries", json={**PERSON, "family_name": "KONATE"}, headers=h
    )
    assert again.status_code == 409 and again.json()["error"]["fields"][0]["field"] == "given_name"
    other_office = client.post("/api/v1/beneficiaries", json=PERSON, headers=world.headers("luca"))
    assert other_office.status_code == 201  # Lecce's own case: Foggia's stays unknown there
    assert "B-" not in again.json()["error"]["message"].replace(_only_ref(client, world), "")


def _only_ref(client: TestClient, world: World) -> str:
    items = client.get("/api/v1/beneficiaries?q=Konat", headers=world.headers("anna")).json()
    return str(items["items"][0]["ref"])


def test_money_moves_once_with_a_key(client: TestClient, world: World, engine: Engine) -> None:
    h = {**world.headers("root"), "Idempotency-Key": "grant-2026-08"}
    for _ in range(3):
        res = client.post("/api/v1/funds/victims/grants", headers=h, json={"amount_cents": 100_000})
        assert res.status_code == 201
    with Session(engine) as s:
        grants = s.exec(select(LedgerEntry).where(LedgerEntry.amount_cents == 100_000)).all()
        assert len(grants) == 1


def test_two_requests_racing_on_one_key_do_it_once(
    app: FastAPI, world: World, engine: Engine
) -> None:
    h = {**world.headers("anna"), "Idempotency-Key": "race-1"}
    start = threading.Barrier(2)
    answers: list[int] = []

    def post() -> None:
        with TestClient(app) as c:
            start.wait()
            answers.append(c.post("/api/v1/beneficiaries", json=PERSON, headers=h).status_code)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(answers) == [201, 201]
    assert _count(engine, family_name="Konaté") == 1


def test_a_double_clicked_form_creates_one_record(
    app: FastAPI, world: World, engine: Engine
) -> None:
    c = page_client(app, world, "anna")
    form = c.get("/beneficiaries/new").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key is not None
    data = {
        "csrf_token": world.csrf("anna"),
        "idempotency_key": key.group(1),
        "given_name": "Awa",
        "family_name": "Sylla",
        "gender": "F",
        "adults": "1",
        "minors": "0",
        "income_euros": "650",
        "work_municipality": "Foggia",
        "max_commute_km": "25",
        "accepts_dwelling": "on",
        "accepts_bed": "on",
    }
    first = c.post("/beneficiaries/new", data=data)
    second = c.post("/beneficiaries/new", data=data)
    assert first.status_code == second.status_code == 303, first.text
    assert first.headers["location"] == second.headers["location"]
    assert _count(engine, family_name="Sylla") == 1
