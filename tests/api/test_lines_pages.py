"""The Shuttles pages, the seasons on the forms, the new round's horizon and a flat's beds
month by month, read through the pages in both languages (no browser)."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency import records
from agency.models import Beneficiary, Gender, Round, SharedFlat, ShuttleLine
from agency.rounds import solve_round
from agency.schemas import BeneficiaryCreate, RoomCreate, SharedFlatCreate
from tests.api.conftest import ACTOR, World, page_client

CAMP = (41.5190, 15.7390)
FARM = (41.3810, 15.5010)


def seasonal_records(engine: Engine, w: World) -> tuple[str, str]:
    """A picker working July–September on a farm 20 km from a foresteria by the camp,
    open June to October: a line is the only way there. Returns (household, flat)."""
    with Session(engine) as s:
        b = records.create_beneficiary(
            s,
            ACTOR,
            w.fg,
            BeneficiaryCreate(
                given_name="Seydou",
                family_name="Coulibaly",
                gender=Gender.M,
                adults=1,
                income_cents=60_000,
                work_municipality="Foggia",
                work_lat=FARM[0],
                work_lon=FARM[1],
                max_commute_km=5.0,
                accepts_dwelling=False,
                season_from="2027-07",
                season_to="2027-09",
            ),
        )
        f = records.create_shared_flat(
            s,
            ACTOR,
            w.fg,
            SharedFlatCreate(
                address="Foresteria Borgo Mezzanone",
                municipality="Manfredonia",
                lat=CAMP[0] - 0.001,
                lon=CAMP[1],
                rent_per_bed_cents=15_000,
                open_from="2027-06",
                open_to="2027-10",
                rooms=[RoomCreate(beds=2)],
            ),
        )
        s.commit()
        return b.ref, f.ref


def csrf_of(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(csrf_token|idempotency_key)" value="([^"]+)"', html))


STOPS = {
    "it": "Borgo Mezzanone; 41,519; 15,739\nMasseria sud; 41,381; 15,501",
    "en": "Borgo Mezzanone; 41.519; 15.739\nMasseria sud; 41.381; 15.501",
}


@pytest.mark.parametrize("lang", ["it", "en"])
def test_a_line_a_seasonal_round_and_the_beds(
    app: FastAPI, world: World, engine: Engine, lang: str
) -> None:
    who, flat = seasonal_records(engine, world)
    c = page_client(app, world, "anna")
    c.cookies.set("lang", lang)
    listing = c.get(f"/lines?lang={lang}")
    assert listing.status_code == 200
    assert ("Navette" if lang == "it" else "Shuttles") in listing.text
    form = c.get("/lines/new")
    # a stop that is no stop is refused, naming the row, and nothing is stored
    bad = c.post(
        "/lines/new",
        data={
            **csrf_of(form.text),
            "name": "Borgo – Foggia sud",
            "seats": "12",
            "monthly_cost_euros": "900",
            "stops": "Atlantide; 1; 2; 3",
        },
    )
    assert bad.status_code == 422 and "Atlantide" in bad.text
    made = c.post(
        "/lines/new",
        data={
            **csrf_of(form.text),
            "name": "Borgo – Foggia sud",
            "seats": "12",
            "monthly_cost_euros": "900",
            "stops": STOPS[lang],
        },
    )
    assert made.status_code == 303, made.text
    with Session(engine) as s:
        line = s.exec(select(ShuttleLine)).one()
    assert made.headers["location"] == f"/lines/{line.ref}"
    page = c.get(f"/lines/{line.ref}").text
    assert "Masseria sud" in page and "/map?line=" in page
    assert f'data-line="{line.ref}"' in c.get(f"/map?line={line.ref}").text
    # the household's and the unit's seasons are on their pages and forms
    assert "2027-07 – 2027-09" in c.get(f"/beneficiaries/{who}").text
    assert 'value="2027-06"' in c.get(f"/flats/{flat}/edit").text
    # a seasonal round: the form takes a horizon and the budget to open lines
    new = c.get("/rounds/new")
    assert 'name="horizon_start"' in new.text
    opened = c.post(
        "/rounds/new",
        data={
            **csrf_of(new.text),
            "name": "Estate 2027",
            "time_limit_s": "10",
            "seed": "0",
            "affordability_ratio": "0,30" if lang == "it" else "0.30",
            "max_contribution_euros": "300",
            "contribution_months": "12",
            "horizon_start": "2027-06",
            "horizon_months": "6",
            "walk_km": "1,5" if lang == "it" else "1.5",
            "transport_budget_euros": "6000",
        },
    )
    assert opened.status_code == 303, opened.text
    round_url = opened.headers["location"].split("?")[0]
    ref = round_url.rsplit("/", 1)[1]
    with Session(engine) as s:
        rid = s.exec(select(Round.id).where(Round.ref == ref)).one()
    assert rid is not None
    solve_round(engine, ACTOR, rid)
    page = c.get(round_url).text
    assert f'<b id="lines-opened">{line.ref}</b>' in page
    row = re.search(rf'<tr data-beneficiary="{who}".*?</tr>', page, re.S)
    assert row is not None, "the seasonal household is proposed"
    assert line.ref in row.group(0) and "2027-07 – 2027-09" in row.group(0)
    exported = c.get(f"/rounds/{ref}/export?format=csv").content.decode("utf-8-sig")
    header, *rows = exported.splitlines()
    assert ("Navetta" if lang == "it" else "Shuttle") in header
    mine = next(x for x in rows if who in x)
    assert line.ref in mine and "2027-07..2027-09" in mine
    beds = c.get(f"/flats/{flat}/beds?round={ref}").text
    taken = re.findall(r'<td class="taken proposed" data-who="([^"]+)"', beds)
    assert taken == [who] * 3  # July, August, September, one bed
    assert beds.count('class="closed"') == 2  # November, once the foresteria closes, both beds
    seats = c.get(f"/lines/{line.ref}?round={ref}").text
    assert 'id="seats"' in seats and "2027-07" in seats
    with Session(engine) as s:
        assert s.exec(select(Beneficiary).where(Beneficiary.ref == who)).one()
        assert s.exec(select(SharedFlat).where(SharedFlat.ref == flat)).one().open_to == "2027-10"
