"""Issue 17, item 17: a grant corrected by a reversal, and no two rounds over the same
households (a round under way can be cancelled instead)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.models import Beneficiary, BeneficiaryStatus, LedgerEntry
from tests.api.conftest import World

OPEN = {"name": "Foggia, August", "time_limit_s": 10}


def test_a_grant_is_corrected_by_its_reversal(
    client: TestClient, world: World, engine: Engine
) -> None:
    h = world.headers("root")
    typo = client.post(
        "/api/v1/funds/regional/grants",
        headers=h,
        json={"amount_cents": 10_000_000, "note": "one zero too many"},
    )
    assert typo.status_code == 201 and typo.json()["balance_cents"] == 12_000_000
    entries = client.get("/api/v1/funds/regional/ledger", headers=h).json()
    wrong = entries[-1]
    assert wrong["amount_cents"] == 10_000_000
    res = client.post(
        f"/api/v1/funds/regional/ledger/{wrong['id']}/reverse",
        headers=h,
        json={"note": "typed 100,000 for 10,000"},
    )
    assert res.status_code == 201, res.text
    assert res.json()["amount_cents"] == -10_000_000
    assert res.json()["reverses_id"] == wrong["id"]
    fund = client.get("/api/v1/funds/regional", headers=h).json()
    assert fund["balance_cents"] == 2_000_000
    twice = client.post(
        f"/api/v1/funds/regional/ledger/{wrong['id']}/reverse", headers=h, json={"note": "again"}
    )
    assert twice.status_code == 409
    reversal = client.post(
        f"/api/v1/funds/regional/ledger/{res.json()['id']}/reverse",
        headers=h,
        json={"note": "undo the undo"},
    )
    assert reversal.status_code == 422
    assert (
        client.post(
            f"/api/v1/funds/regional/ledger/{wrong['id']}/reverse",
            headers=world.headers("anna"),
            json={"note": "x"},
        ).status_code
        == 403
    )
    with Session(engine) as s:  # nothing was changed, only appended
        assert s.get(LedgerEntry, wrong["id"]).amount_cents == 10_000_000  # type: ignore[union-attr]


def test_no_two_rounds_over_the_same_households(
    client: TestClient, world: World, engine: Engine
) -> None:
    h = world.headers("anna")
    first = client.post("/api/v1/rounds", json=OPEN, headers=h)
    assert first.status_code == 201
    ref = first.json()["round"]["ref"]
    second = client.post("/api/v1/rounds", json={**OPEN, "name": "again"}, headers=h)
    assert second.status_code == 422, second.text
    assert ref in second.json()["error"]["message"]
    wide = client.post(
        "/api/v1/rounds", json={**OPEN, "name": "all"}, headers=world.headers("root")
    )
    assert wide.status_code == 422  # an agency-wide round would take FG's households too
    other = client.post(
        "/api/v1/rounds", json={**OPEN, "name": "Lecce"}, headers=world.headers("luca")
    )
    assert other.status_code == 201  # another office's households: no overlap
    cancelled = client.post(
        f"/api/v1/rounds/{ref}/cancel", headers=h, json={"note": "opened by mistake"}
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post("/api/v1/rounds", json={**OPEN, "name": "again"}, headers=h)
    assert again.status_code == 201, again.text


def test_a_round_with_offers_out_can_be_cancelled(
    client: TestClient, world: World, engine: Engine
) -> None:
    from tests.api.test_api_rounds import solve_and_wait

    h = world.headers("anna")
    ref = client.post("/api/v1/rounds", json=OPEN, headers=h).json()["round"]["ref"]
    solve_and_wait(client, h, ref)
    offers = client.post(f"/api/v1/rounds/{ref}/offers", headers=h).json()
    assert offers
    res = client.post(f"/api/v1/rounds/{ref}/cancel", headers=h, json={"note": "funds cut"})
    assert res.status_code == 200
    view = client.get(f"/api/v1/rounds/{ref}", headers=h).json()
    assert {o["status"] for o in view["offers"]} == {"withdrawn"}
    with Session(engine) as s:
        statuses = {
            b.status for b in s.exec(select(Beneficiary).where(Beneficiary.office_id == world.fg))
        }
        assert BeneficiaryStatus.offered not in statuses
    assert client.post(f"/api/v1/rounds/{ref}/close", headers=h).status_code == 409
