"""Issue 17, item 8: everything held about a person (Art. 15), and their erasure as a
pseudonym (Art. 17) that keeps the ledger's amounts; both audited."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.ledger import balances
from agency.models import AuditEntry, Beneficiary, Lease, LedgerEntry
from tests.api.conftest import FAMILY, GIVEN, World
from tests.api.test_api_rounds import solve_and_wait

OPEN = {"name": "Foggia, August", "time_limit_s": 10}


def _closed_round(client: TestClient, world: World) -> str:
    h = world.headers("anna")
    ref = client.post("/api/v1/rounds", json=OPEN, headers=h).json()["round"]["ref"]
    solve_and_wait(client, h, ref)
    for o in client.post(f"/api/v1/rounds/{ref}/offers", headers=h).json():
        client.post(
            f"/api/v1/rounds/{ref}/offers/{o['id']}/answer", headers=h, json={"status": "accepted"}
        )
    assert client.post(f"/api/v1/rounds/{ref}/close", headers=h).status_code == 200
    return ref


def test_everything_held_about_a_person(client: TestClient, world: World, engine: Engine) -> None:
    _closed_round(client, world)
    with Session(engine) as s:
        lease = s.exec(select(Lease).where(Lease.fund_id != None)).first()  # noqa: E711
        assert lease is not None
        who = s.get(Beneficiary, lease.beneficiary_id)
        assert who is not None
        ref = who.ref
    h = world.headers("root")
    res = client.get(f"/api/v1/beneficiaries/{ref}/subject-access", headers=h)
    assert res.status_code == 200 and res.headers["cache-control"] == "no-store"
    data = res.json()
    assert data["beneficiary"]["ref"] == ref and data["beneficiary"]["given_name"] in GIVEN
    assert data["events"] and data["rounds"][0]["snapshot_entry"]["id"] == ref
    assert data["offers"][0]["status"] == "accepted" and data["leases"]
    assert data["ledger"] and all(e["lease_id"] == data["leases"][0]["id"] for e in data["ledger"])
    assert {a["action"] for a in data["audit"]} >= {
        "beneficiary.create",
        "offer.send",
        "lease.create",
    }
    assert (
        client.get(
            f"/api/v1/beneficiaries/{ref}/subject-access", headers=world.headers("anna")
        ).status_code
        == 403
    )
    with Session(engine) as s:
        assert s.exec(
            select(AuditEntry).where(
                AuditEntry.action == "subject.access", AuditEntry.entity_ref == ref
            )
        ).first()


def test_erasure_keeps_the_ledgers_amounts(
    client: TestClient, world: World, engine: Engine
) -> None:
    _closed_round(client, world)
    h = world.headers("root")
    with Session(engine) as s:
        lease = s.exec(select(Lease).where(Lease.fund_id != None)).first()  # noqa: E711
        assert lease is not None
        who = s.get(Beneficiary, lease.beneficiary_id)
        assert who is not None
        ref, given, family = who.ref, who.given_name, who.family_name
        lease_id = lease.id
        before = balances(s)
        entries = len(s.exec(select(LedgerEntry)).all())
    busy = client.post(
        f"/api/v1/beneficiaries/{ref}/pseudonymise", headers=h, json={"reason": "request 2026-41"}
    )
    assert busy.status_code == 422 and "active lease" in busy.json()["error"]["message"]
    with Session(engine) as s:  # the lease ends (the household moved out)
        lease = s.get(Lease, lease_id)
        assert lease is not None
        lease.ended_on = date(2027, 1, 31)
        s.add(lease)
        s.commit()
    res = client.post(
        f"/api/v1/beneficiaries/{ref}/pseudonymise", headers=h, json={"reason": "request 2026-41"}
    )
    assert res.status_code == 200, res.text
    with Session(engine) as s:
        b = s.exec(select(Beneficiary).where(Beneficiary.ref == ref)).one()
        assert b.given_name == "(erased)" and b.family_name == ref and b.birth_date is None
        assert balances(s) == before and len(s.exec(select(LedgerEntry)).all()) == entries
        assert s.get(Lease, lease_id) is not None
        assert s.exec(
            select(AuditEntry).where(
                AuditEntry.action == "subject.pseudonymise", AuditEntry.entity_ref == ref
            )
        ).first()
    dump = "\n".join(
        str(row)
        for table in (
            "beneficiary",
            "household_member",
            "beneficiary_event",
            "offer",
            "idempotency_key",
        )
        for row in _rows(engine, table)
        if ref in str(row)
    )
    assert given not in dump and family not in dump
    again = client.get(f"/api/v1/beneficiaries/{ref}/subject-access", headers=h).json()
    assert again["beneficiary"]["given_name"] == "(erased)" and again["ledger"]
    assert given in GIVEN and family in FAMILY


def _rows(engine: Engine, table: str) -> list[tuple[object, ...]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.exec_driver_sql(f"SELECT * FROM {table}").all()]
