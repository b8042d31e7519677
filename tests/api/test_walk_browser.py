"""A landlord's dwelling walked in Debian's Chromium, in Italian: proposed on the dwelling
form, then on its own page the visit, the certificate (a mistake first), the terms, and
made available. Run by ``.ci/run`` (marker ``browser``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.models import Dwelling, DwellingTerm
from api.main import create_app
from api.settings import Settings
from tests.api.chromium import SHOTS, chromium, serve
from tests.api.conftest import PASSWORD, build_world

pytestmark = pytest.mark.browser


@pytest.fixture
def server(engine: Engine) -> Iterator[tuple[str, Engine, str]]:
    w = build_world(engine)
    with serve(create_app(Settings(login_delay_base_seconds=0.0), engine)) as url:
        yield url, engine, w.landlord


def test_a_landlords_dwelling_walked_in_the_browser(server: tuple[str, Engine, str]) -> None:
    from playwright.sync_api import expect

    url, engine, landlord = server
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="it-IT")
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(f"{url}/dwellings/new")
        pg.fill("#username", "anna")
        pg.fill("#password", PASSWORD)
        pg.click("button[type=submit]")
        pg.wait_for_url(f"{url}/dwellings/new")
        pg.fill("#f-address", "Via Arpi 4")
        pg.fill("#f-municipality", "Foggia")
        pg.fill("#f-area_m2", "70")
        pg.fill("#f-bedrooms", "2")
        pg.fill("#f-rent_euros", "600")
        pg.check("#f-proposed")
        pg.click("form.grid button[type=submit]")
        # a proposed dwelling needs its landlord: said, and nothing stored
        expect(pg.locator("#form-errors")).to_be_visible()
        pg.fill("#f-landlord_ref", landlord)
        pg.click("form.grid button[type=submit]")
        pg.wait_for_url("**/walk")
        expect(pg.locator("#stage")).to_contain_text("proposto")
        pg.fill("#f-visited_on", "2026-06-10")
        pg.click("#next-step button[type=submit]")
        expect(pg.locator("#stage")).to_contain_text("visitato")
        # a certificate with no occupants is refused, with the field named
        pg.fill("#f-number", "IA-2026/118")
        pg.fill("#f-issued_on", "2026-06-20")
        pg.fill("#f-occupants", "0")
        pg.click("#next-step button[type=submit]")
        expect(pg.locator("#form-errors")).to_contain_text("Occupanti ammessi")
        pg.fill("#f-occupants", "3")
        pg.click("#next-step button[type=submit]")
        expect(pg.locator("#stage")).to_contain_text("idoneo")
        pg.fill("input[name=label_0]", "agreed")
        pg.fill("input[name=rent_0]", "430")
        pg.fill("input[name=one_off_0]", "1500")
        pg.check("input[name=guaranteed_0]")
        pg.fill("input[name=label_1]", "market")
        pg.fill("input[name=rent_1]", "600")
        pg.click("#terms button[type=submit]")
        expect(pg.locator("input[name=label_1]")).to_have_value("market")
        pg.screenshot(path=str(SHOTS / "walk-certified.png"), full_page=True)
        pg.click("#next-step button[type=submit]")
        expect(pg.locator("#stage")).to_contain_text("disponibile")
        assert pg.locator("#next-step").count() == 0
        context.close()
        assert errors == []
    with Session(engine) as s:
        d = s.exec(select(Dwelling).where(Dwelling.address == "Via Arpi 4")).one()
        assert (d.status, d.max_occupants, d.certificate_number) == ("available", 3, "IA-2026/118")
        terms = {
            t.label: (t.rent_cents, t.one_off_cents, t.guaranteed)
            for t in s.exec(select(DwellingTerm).where(DwellingTerm.dwelling_id == d.id))
        }
        assert terms == {"agreed": (43000, 150000, True), "market": (60000, 0, False)}
