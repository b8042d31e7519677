"""The round's page on the demo's records (61 households of office FG): people and homes
by name, the evidence behind each reason in words and euros, what changed at a re-solve,
answers chosen on purpose, and a close confirmed on a page that says what it will do; a
household's page lists its rounds and keeps notes apart from its status. Every solve is
checked by the independent validator."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency import records
from agency.audit import Actor
from agency.demo import seed
from agency.models import Beneficiary, Role, Round
from agency.rounds import instance_for
from api.security import csrf_token, issue, token_hash
from api.settings import Settings
from matching.instance import instance_from_dict
from matching.result import result_from_dict
from matching.validate import validate
from scenarios.bundled import example_round
from tests.api.conftest import PASSWORD
from tests.api.test_api_rounds import solve_and_wait

REF = re.compile(r"\b[BDFR]-[2-9A-HJ-NP-Z]{8}\b")


@pytest.fixture
def office(engine: Engine) -> dict[str, str]:
    """The demo's office FG and its caseworker's token."""
    seed(engine, example_round())
    with Session(engine) as s:
        fg = records.office_by_code(s, "FG")
        user = records.create_user(s, Actor("t"), "anna", "Anna", PASSWORD, Role.caseworker, fg.id)
        token = issue(s, user, Settings()).token
        s.commit()
    return {"token": token, "csrf": csrf_token(token_hash(token))}


def _client(app: FastAPI, office: dict[str, str]) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    c.cookies.set("housing_session", office["token"])
    return c


def _valid(engine: Engine, ref: str) -> dict[str, Any]:
    with Session(engine) as s:
        r = s.exec(select(Round).where(Round.ref == ref)).one()
        assert r.result is not None
        assert validate(instance_for(s, r), result_from_dict(r.result)) == []
        assert instance_from_dict(r.snapshot) is not None
        return dict(r.result)


def test_the_round_page_shows_people_homes_evidence_and_changes(
    app: FastAPI, engine: Engine, office: dict[str, str]
) -> None:
    api = TestClient(app)
    h = {"Authorization": f"Bearer {office['token']}"}
    ref = api.post(
        "/api/v1/rounds", json={"name": "Luglio", "time_limit_s": 20, "on": "2026-07-01"}, headers=h
    ).json()["round"]["ref"]
    view = solve_and_wait(api, h, ref)
    result = _valid(engine, ref)
    c = _client(app, office)
    page = c.get(f"/rounds/{ref}?lang=it").text
    with Session(engine) as s:
        first = s.exec(
            select(Beneficiary).where(Beneficiary.ref == view["proposals"][0]["beneficiary_ref"])
        ).one()
    # the household by its name and make-up, the home by its address and town
    proposals = page.split('id="proposals"')[1].split("</table>")[0]
    assert f"{first.family_name} {first.given_name}" in proposals
    assert "San Severo" in proposals or "Foggia" in proposals or "Cerignola" in proposals
    assert re.search(r"\d+ adult[oi]", proposals) and "stanza " in proposals
    cells = re.sub(r"<[^>]+>", " ", re.sub(r'(data-\w+|href|value)="[^"]*"', "", proposals))
    assert not REF.search(cells), REF.findall(cells)[:3]
    # the evidence of the reasons: who took the homes (by name, with their weight) and
    # the money needed against the money left, in euros
    unplaced = page.split('id="unplaced"')[1].split("</table>")[0]
    assert "Perché? I fatti" in unplaced
    taken = [u for u in result["unassigned"] if "units_taken" in u["reasons"]]
    short = [u for u in result["unassigned"] if "funds_exhausted" in u["reasons"]]
    assert taken and short
    assert "è andata a" in unplaced and "peso" in unplaced
    assert re.search(
        r"servivano [\d.,]+\xa0€ per i 12 mesi di contributo; restavano nei "
        r"fondi possibili: \w+ [\d.,]+",
        unplaced,
    )
    assert re.search(r"\d+ unità entro la distanza massima di [\d,]+ km", unplaced)
    # lock one, forbid another, re-solve: who lost or gained a place, and why
    p0, p1 = view["proposals"][0], view["proposals"][1]
    for p, kind in ((p0, "lock"), (p1, "forbid")):
        assert (
            c.post(
                f"/rounds/{ref}/decide",
                data={
                    "csrf_token": office["csrf"],
                    "beneficiary_ref": p["beneficiary_ref"],
                    "unit_ref": p["unit_ref"],
                    "kind": kind,
                },
            ).status_code
            == 303
        )
    solve_and_wait(api, h, ref)
    _valid(engine, ref)
    page = c.get(f"/rounds/{ref}?lang=en").text
    changes = page.split('id="changes"')[1].split("</section>")[0]
    with Session(engine) as s:
        moved = s.exec(select(Beneficiary).where(Beneficiary.ref == p1["beneficiary_ref"])).one()
    assert f"{moved.family_name} {moved.given_name}" in changes
    assert re.search(r"(place changed from|lost the place|now has a place)", changes)


def test_answers_and_the_close_are_deliberate(
    app: FastAPI, engine: Engine, office: dict[str, str]
) -> None:
    api = TestClient(app)
    h = {"Authorization": f"Bearer {office['token']}"}
    ref = api.post(
        "/api/v1/rounds", json={"name": "Luglio", "time_limit_s": 20, "on": "2026-07-01"}, headers=h
    ).json()["round"]["ref"]
    solve_and_wait(api, h, ref)
    c = _client(app, office)
    assert "close-round" not in c.get(f"/rounds/{ref}").text  # nothing offered: no close
    offers = api.post(f"/api/v1/rounds/{ref}/offers", headers=h).json()
    page = c.get(f"/rounds/{ref}?lang=it").text
    assert 'id="close-round"' in page
    # the answer's select starts on "choose": no answer is recorded by accident
    assert re.search(r'<select name="status"[^>]*required><option value="" selected>', page)
    none = c.post(
        f"/rounds/{ref}/offers/{offers[0]['id']}/answer?lang=it",
        data={"csrf_token": office["csrf"]},
    )
    assert none.status_code == 422 and "Scegli la risposta" in none.text
    no_reason = c.post(
        f"/rounds/{ref}/offers/{offers[0]['id']}/answer?lang=it",
        data={"csrf_token": office["csrf"], "status": "refused_household"},
    )
    assert no_reason.status_code == 422 and "Scrivi il motivo" in no_reason.text
    assert (
        c.post(
            f"/rounds/{ref}/offers/{offers[0]['id']}/answer",
            data={"csrf_token": office["csrf"], "status": "refused_household", "reason": "school"},
        ).status_code
        == 303
    )
    # with offers unanswered, the confirmation names them and offers no button
    confirm = c.get(f"/rounds/{ref}/close?lang=en").text
    assert f"{len(offers) - 1} offers without an answer" in confirm
    assert 'id="confirm-close"' not in confirm
    for o in offers[1:]:
        assert (
            c.post(
                f"/rounds/{ref}/offers/{o['id']}/answer",
                data={"csrf_token": office["csrf"], "status": "accepted"},
            ).status_code
            == 303
        )
    confirm = c.get(f"/rounds/{ref}/close?lang=en").text
    assert f"Leases that will be created: {len(offers) - 1}" in confirm
    assert 'id="confirm-close"' in confirm
    funds = confirm.split('id="close-funds"')[1].split("</table>")[0]
    months = 12
    expected = sum(o["contribution_cents"] for o in offers[1:]) * months
    shown = [
        int(x.replace(",", "").replace(".", "")) for x in re.findall(r"€([\d,]+\.\d\d)", funds)
    ]
    assert sum(shown) == expected
    left = confirm.split('id="close-left-out"')[1].split("</p>")[0]
    with Session(engine) as s:
        refused = s.exec(
            select(Beneficiary).where(Beneficiary.ref == offers[0]["beneficiary_ref"])
        ).one()
    assert refused.family_name in left  # the refused household is left out
    assert (
        c.post(
            f"/rounds/{ref}/close", data={"csrf_token": office["csrf"], "confirm": "yes"}
        ).status_code
        == 303
    )
    assert api.get(f"/api/v1/rounds/{ref}", headers=h).json()["round"]["status"] == "closed"
    # the household's own page: the round it was in, and what came of it
    page = c.get(f"/beneficiaries/{offers[1]['beneficiary_ref']}?lang=en").text
    history = page.split('id="rounds-history"')[1].split("</section>")[0]
    assert "Luglio" in history and "offer accepted" in history
    page = c.get(f"/beneficiaries/{refused.ref}?lang=en").text
    assert "offer refused by the household" in page.split('id="rounds-history"')[1]


def test_a_note_is_not_a_status_change(
    app: FastAPI, engine: Engine, office: dict[str, str]
) -> None:
    c = _client(app, office)
    with Session(engine) as s:
        b = s.exec(select(Beneficiary)).first()
        assert b is not None
        ref = b.ref
    page = c.get(f"/beneficiaries/{ref}").text
    assert re.search(
        r'<select name="status" id="new-status" required><option value="" '
        r"selected>",
        page,
    )
    assert (
        c.post(
            f"/beneficiaries/{ref}/note",
            data={"csrf_token": office["csrf"], "note": "called, will come on Monday"},
        ).status_code
        == 303
    )
    unchosen = c.post(
        f"/beneficiaries/{ref}/status?lang=en", data={"csrf_token": office["csrf"], "note": "x"}
    )
    assert unchosen.status_code == 422 and "Choose the new status" in unchosen.text
    with Session(engine) as s:
        b = s.exec(select(Beneficiary).where(Beneficiary.ref == ref)).one()
        assert b.status == "waiting"
    assert "called, will come on Monday" in c.get(f"/beneficiaries/{ref}").text


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "it",
            [
                "Controlla questi campi (4)",
                "<strong>Nome</strong>: obbligatorio",
                "<strong>Cittadinanza</strong>: formato non valido: codice di due lettere",
                "<strong>Reddito mensile (€)</strong>: «mille» non è un numero",
                "<strong>Comune di lavoro</strong>: «Atlantide» non è un comune della Puglia",
            ],
        ),
        (
            "en",
            [
                "Please check these fields (4)",
                "<strong>Given name</strong>: required",
                "<strong>Nationality</strong>: not in the expected form",
                "<strong>Monthly income (€)</strong>: “mille” is not a number",
                "<strong>Municipality of work</strong>: “Atlantide” is not a municipality",
            ],
        ),
    ],
)
def test_four_mistakes_shown_at_once_in_the_page_language(
    app: FastAPI, engine: Engine, office: dict[str, str], lang: str, words: list[str]
) -> None:
    c = _client(app, office)
    res = c.post(
        f"/beneficiaries/new?lang={lang}",
        data={
            "csrf_token": office["csrf"],
            "family_name": "Diop",
            "gender": "M",
            "adults": "1",
            "nationality": "Senegal",
            "income_euros": "mille",
            "work_municipality": "Atlantide",
        },
    )
    assert res.status_code == 422
    summary = res.text.split('id="form-errors"')[1].split("</div>")[0]
    for w in words:
        assert w in summary, (w, summary)
    assert "String should" not in res.text and "pattern" not in summary
    assert 'value="Senegal"' in res.text and 'value="mille"' in res.text  # nothing lost
