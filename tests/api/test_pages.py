"""The staff's pages: every page in Italian and English with no missing message, forms
that create and edit records, and a whole round run through the pages without JavaScript."""

from __future__ import annotations

import json
import re
import time
from importlib import resources
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.models import Beneficiary, Dwelling, Fund, Round, SharedFlat
from api.i18n import LANGS, MISSING, catalogue, pick
from tests.api.conftest import World, page_client
from tests.api.test_api_rounds import OPEN, solve_and_wait

TEMPLATES = Path(resources.files("api").joinpath("templates").__fspath__())  # type: ignore[attr-defined]


def test_catalogues_have_the_same_keys_and_cover_the_templates() -> None:
    it, en = catalogue("it"), catalogue("en")
    assert set(it) == set(en)
    assert all(v.strip() for v in [*it.values(), *en.values()])
    used = set()
    for path in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\(['\"]([a-z_]+\.[a-z_.]+)['\"]", path.read_text()))
    assert {k for k in used if not k.endswith(".")} - set(it) == set()
    # keys built from a value: every value has its text
    from agency.models import BeneficiaryStatus, Gender, OfferStatus, Role, RoundStatus, UnitStatus
    from agency.priority import COMPONENT_TEXT
    from matching.explain import REASON_TEXT

    dynamic = {
        "status.": BeneficiaryStatus,
        "unit.status.": UnitStatus,
        "round.status.": RoundStatus,
        "offer.": OfferStatus,
        "gender.": Gender,
        "role.": Role,
        "reason.": REASON_TEXT,
        "priority.": COMPONENT_TEXT,
    }
    for prefix, values in dynamic.items():
        for v in values:
            assert f"{prefix}{getattr(v, 'value', v)}" in it, f"{prefix}{v}"


def test_language_choice() -> None:
    assert pick("en", "it", "it-IT", "it") == "en"
    assert pick(None, "en", "it-IT", "it") == "en"
    assert pick(None, None, "de-DE,en;q=0.8,it;q=0.5", "it") == "en"
    assert pick(None, None, "de", "it") == "it"
    assert pick("fr", "xx", None, "en") == "en"


def _pages(w: World, round_ref: str) -> dict[str, list[str]]:
    b, d, f = w.beneficiaries[0], w.dwellings[0], w.flat
    caseworker = [
        "/",
        "/beneficiaries",
        "/beneficiaries?q=diallo&status=waiting",
        "/beneficiaries/new",
        f"/beneficiaries/{b}",
        f"/beneficiaries/{b}/edit",
        "/dwellings",
        "/dwellings/new",
        f"/dwellings/{d}/edit",
        "/flats",
        "/flats/new",
        f"/flats/{f}/edit",
        "/funds",
        "/rounds",
        "/rounds/new",
        f"/rounds/{round_ref}",
        "/map",
        f"/map?round={round_ref}",
        "/beneficiaries/B-NOPE",
    ]
    return {
        "anna": caseworker,
        "root": [*caseworker, "/stats", "/audit"],
        "pia": ["/stats", "/beneficiaries", "/scenarios"],
        "aldo": ["/audit", "/audit?entity_ref=" + b],
    }


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_in_both_languages(
    app: FastAPI, client: TestClient, world: World, lang: str
) -> None:
    ref = client.post("/api/v1/rounds", json=OPEN, headers=world.headers("anna")).json()["round"][
        "ref"
    ]
    solve_and_wait(client, world.headers("anna"), ref)
    anon = TestClient(app)
    res = anon.get(f"/login?lang={lang}")
    assert res.status_code == 200 and MISSING.format("")[0] not in res.text
    assert f'lang="{lang}"' in res.text
    other = "en" if lang == "it" else "it"
    for user, paths in _pages(world, ref).items():
        c = page_client(app, world, user)
        c.cookies.set("lang", other)
        for path in paths:
            sep = "&" if "?" in path else "?"
            res = c.get(f"{path}{sep}lang={lang}")
            assert res.status_code in (200, 303, 403, 404), (user, path, res.status_code)
            assert "⟦" not in res.text, (user, path, re.findall(r"⟦[^⟧]+⟧", res.text))
            if res.status_code != 303:
                assert f'<html lang="{lang}">' in res.text, (user, path)
    # the words are the language's own
    c = page_client(app, world, "anna")
    text = c.get(f"/beneficiaries?lang={lang}").text
    assert ("Nuovo beneficiario" in text) == (lang == "it")
    assert ("New beneficiary" in text) == (lang == "en")


@pytest.mark.parametrize(
    ("path", "table", "own"),
    [
        (
            "/dwellings",
            Dwelling,
            {
                "area_m2": "70",
                "bedrooms": "2",
                "rent_euros": "450,00",
                "max_occupants": "",
                "children_ok": "on",
            },
        ),
        ("/flats", SharedFlat, {"rent_euros": "180"}),
    ],
)
def test_both_kinds_of_unit_are_edited_and_withdrawn_on_their_pages(
    app: FastAPI,
    world: World,
    engine: Engine,
    path: str,
    table: type[Dwelling | SharedFlat],
    own: dict[str, str],
) -> None:
    c = page_client(app, world, "anna")
    token = world.csrf("anna")
    ref = world.dwellings[0] if table is Dwelling else world.flat
    form = c.get(f"{path}/{ref}/edit").text
    assert f'action="{path}/{ref}/edit"' in form and 'name="step_free"' in form
    bad = c.post(
        f"{path}/{ref}/edit",
        data={"csrf_token": token, "address": "Via Z 9", "municipality": "Atlantide", **own},
    )
    assert bad.status_code == 422 and "Atlantide" in bad.text and "Via Z 9" in bad.text
    done = c.post(
        f"{path}/{ref}/edit",
        data={
            "csrf_token": token,
            "address": "Via Z 9",
            "municipality": "Troia",
            "step_free": "on",
            **own,
        },
    )
    assert done.status_code == 303 and done.headers["location"] == path
    withdrawn = c.post(f"{path}/{ref}/status", data={"csrf_token": token, "status": "withdrawn"})
    assert withdrawn.status_code == 303
    with Session(engine) as s:
        unit = s.exec(select(table).where(table.ref == ref)).one()
        assert (unit.address, unit.municipality, unit.step_free, unit.status) == (
            "Via Z 9",
            "071058",
            True,
            "withdrawn",
        )
    listed = c.get(f"{path}?status=withdrawn").text
    assert ref in listed and ref not in c.get(f"{path}?status=available").text


def test_language_sticks_in_a_cookie(app: FastAPI, world: World) -> None:
    c = page_client(app, world, "anna")
    assert 'lang="en"' in c.get("/?lang=en").text
    assert 'lang="en"' in c.get("/").text
    c.cookies.clear()
    c.cookies.set("housing_session", world.tokens["anna"])
    assert 'lang="en"' in c.get("/", headers={"Accept-Language": "en-GB,en"}).text
    assert 'lang="it"' in c.get("/").text


def test_record_forms(app: FastAPI, world: World, engine: Engine) -> None:
    c = page_client(app, world, "anna")
    token = world.csrf("anna")
    bad = c.post(
        "/beneficiaries/new",
        data={
            "csrf_token": token,
            "given_name": "Lamine",
            "family_name": "Sarr",
            "gender": "M",
            "adults": "1",
            "income_euros": "abc",
            "work_municipality": "Foggia",
        },
    )
    assert bad.status_code == 422 and "income_euros" in bad.text and "Lamine" in bad.text
    res = c.post(
        "/beneficiaries/new",
        data={
            "csrf_token": token,
            "given_name": "Lamine",
            "family_name": "Sarr",
            "gender": "M",
            "adults": "1",
            "minors": "0",
            "income_euros": "812,50",
            "work_municipality": "Cerignola",
            "max_commute_km": "20",
            "accepts_dwelling": "on",
            "exploitation_victim": "on",
        },
    )
    assert res.status_code == 303, res.text
    ref = res.headers["location"].rsplit("/", 1)[1]
    with Session(engine) as s:
        b = s.exec(select(Beneficiary).where(Beneficiary.ref == ref)).one()
        assert b.income_cents == 81250 and b.tags == ["exploitation_victim"]
        assert b.accepts_bed is False and b.work_municipality == "071020"
    edit = c.post(
        f"/beneficiaries/{ref}/edit",
        data={
            "csrf_token": token,
            "given_name": "Lamine",
            "family_name": "Sarr",
            "gender": "M",
            "adults": "1",
            "minors": "1",
            "income_euros": "900",
            "work_municipality": "Cerignola",
            "max_commute_km": "20",
            "accepts_dwelling": "on",
        },
    )
    assert edit.status_code == 303
    assert "Sarr" in c.get(f"/beneficiaries/{ref}").text
    nowhere = c.post(
        "/dwellings/new",
        data={
            "csrf_token": token,
            "address": "Via X",
            "municipality": "Atlantide",
            "area_m2": "50",
            "bedrooms": "1",
            "rent_euros": "300",
            "children_ok": "on",
        },
    )
    assert nowhere.status_code == 422 and "Atlantide" in nowhere.text
    assert (
        c.post(
            "/dwellings/new",
            data={
                "csrf_token": token,
                "address": "Via X 1",
                "municipality": "Lucera",
                "area_m2": "50",
                "bedrooms": "1",
                "rent_euros": "300",
                "children_ok": "on",
            },
        ).status_code
        == 303
    )
    assert (
        c.post(
            "/flats/new",
            data={
                "csrf_token": token,
                "address": "Via Y 2",
                "municipality": "Lucera",
                "rent_euros": "150",
                "rooms": "2, 1",
            },
        ).status_code
        == 303
    )
    admin = page_client(app, world, "root")
    assert (
        admin.post(
            "/funds/new",
            data={
                "csrf_token": world.csrf("root"),
                "code": "caritas",
                "name": "Caritas",
                "budget_euros": "1.000,00",
            },
        ).status_code
        == 303
    )
    with Session(engine) as s:
        assert s.exec(select(Dwelling).where(Dwelling.address == "Via X 1")).one()
        assert s.exec(select(SharedFlat).where(SharedFlat.address == "Via Y 2")).one()
        assert s.exec(select(Fund).where(Fund.code == "caritas")).one()
    assert "1.000,00\xa0€" in admin.get("/funds?lang=it").text


def test_a_whole_round_through_the_pages(app: FastAPI, world: World, engine: Engine) -> None:
    c = page_client(app, world, "anna")
    token = world.csrf("anna")
    res = c.post(
        "/rounds/new",
        data={
            "csrf_token": token,
            "name": "Luglio",
            "time_limit_s": "10",
            "seed": "0",
            "affordability_ratio": "0.30",
            "max_contribution_euros": "300",
            "contribution_months": "12",
        },
    )
    assert res.status_code == 303, res.text
    page = res.headers["location"]
    ref = page.rsplit("/", 1)[1]

    def solve() -> str:
        res = c.post(f"{page}/solve", data={"csrf_token": token})
        assert res.status_code == 303 and "?job=" in res.headers["location"]
        job = res.headers["location"].split("?job=")[1]
        html = c.get(res.headers["location"]).text
        assert "solve-progress" in html or "proposals" in html
        for _ in range(300):
            state = json.loads(c.get(f"{page}/jobs/{job}.json").text)
            if state["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert state["status"] == "done", state
        return c.get(page).text

    html = solve()
    rows = re.findall(r'<tr data-beneficiary="(B-\w+)" data-unit="([DF]-\w+)">', html)
    assert len(rows) >= 3
    (b1, u1), (b2, u2) = rows[0], rows[1]
    assert (
        c.post(
            f"{page}/decide",
            data={"csrf_token": token, "beneficiary_ref": b1, "unit_ref": u1, "kind": "lock"},
        ).status_code
        == 303
    )
    assert (
        c.post(
            f"{page}/decide",
            data={"csrf_token": token, "beneficiary_ref": b2, "unit_ref": u2, "kind": "forbid"},
        ).status_code
        == 303
    )
    refused = c.post(
        f"{page}/decide",
        data={"csrf_token": token, "beneficiary_ref": b2, "unit_ref": u2, "kind": "forbid"},
    )
    assert refused.status_code == 409 and 'id="round-error"' in refused.text
    html = solve()
    assert f'data-beneficiary="{b2}" data-unit="{u2}"' not in html
    assert c.post(f"{page}/offers", data={"csrf_token": token}).status_code == 303
    html = c.get(page).text
    offers = re.findall(rf'action="/rounds/{ref}/offers/(\d+)/answer"', html)
    assert offers
    assert (
        c.post(
            f"{page}/offers/{offers[0]}/answer",
            data={"csrf_token": token, "status": "refused_landlord", "reason": "wants a guarantor"},
        ).status_code
        == 303
    )
    for o in offers[1:]:
        assert (
            c.post(
                f"{page}/offers/{o}/answer", data={"csrf_token": token, "status": "accepted"}
            ).status_code
            == 303
        )
    export = c.get(f"{page}/export?format=xlsx")
    assert export.status_code == 200 and export.content[:2] == b"PK"
    unconfirmed = c.post(f"{page}/close", data={"csrf_token": token})
    assert unconfirmed.headers["location"] == f"{page}/close"  # nothing closed yet
    with Session(engine) as s:
        assert s.exec(select(Round).where(Round.ref == ref)).one().status == "offers"
    confirm = c.get(f"{page}/close").text
    assert 'id="confirm-close"' in confirm
    assert c.post(f"{page}/close", data={"csrf_token": token, "confirm": "yes"}).status_code == 303
    with Session(engine) as s:
        assert s.exec(select(Round).where(Round.ref == ref)).one().status == "closed"
    assert "badge s-closed" in c.get(page).text


def test_counts_mean_what_they_say(app: FastAPI, world: World, engine: Engine) -> None:
    """Beds on the dashboard and the statistics are free beds; the map's counts leave out
    people already in their beds, and it draws the six provinces."""
    from datetime import date

    from agency.models import Lease, Room

    with Session(engine) as s:
        flat = s.exec(select(SharedFlat).where(SharedFlat.ref == world.flat)).one()
        room = s.exec(select(Room).where(Room.flat_id == flat.id, Room.beds == 2)).one()
        who = s.exec(select(Beneficiary).where(Beneficiary.ref == world.beneficiaries[3])).one()
        s.add(
            Lease(
                beneficiary_id=who.id or 0,
                flat_id=flat.id,
                room_id=room.id,
                contribution_cents=0,
                months=12,
                started_on=date(2026, 6, 1),
            )
        )
        who.status = "housed"
        s.add(who)
        s.commit()
    c = page_client(app, world, "anna")
    dashboard = c.get("/?lang=en").text
    assert re.search(r"<strong>2</strong><span>free beds in shared flats", dashboard)
    stats = page_client(app, world, "root").get("/stats?lang=en").text
    assert re.search(r"Free beds</th><td class=\"num\">2<", stats)
    assert re.search(r"free or taken\)</th><td class=\"num\">3<", stats)
    api = c.get("/api/v1/stats", headers=world.headers("pia")).json()
    assert api["beds_free"] == 2 and api["beds_total"] == 3
    # a round's map: the occupant of the let bed is no workplace of the round
    ref = c.post("/api/v1/rounds", json=OPEN, headers=world.headers("anna")).json()["round"]["ref"]
    with Session(engine) as s:
        snap = s.exec(select(Round).where(Round.ref == ref)).one().snapshot
    assert any(b["id"].startswith("OCC-") for b in snap["beneficiaries"])
    page = c.get(f"/map?round={ref}&lang=en").text
    assert "of 4 households" in page  # the 4 waiting, not the one in her bed
    assert page.count('<polygon class="province"') == 6 and ">BT</text>" in page
