"""Seasons and shuttles in Debian's Chromium, driven by Playwright, in Italian and in
English: create a line with its stops, open a seasonal round, solve, see the seasonal
household's proposal riding the line, and read the foresteria's beds month by month."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from api.main import create_app
from api.settings import Settings
from tests.api.chromium import SHOTS, chromium, click_and_wait, serve, solve_on_page
from tests.api.conftest import PASSWORD, World, build_world
from tests.api.test_day import axe_script
from tests.api.test_lines_pages import STOPS, seasonal_records

pytestmark = pytest.mark.browser

WORDS = {
    "it": {"lines": "Navette", "solved": "proposte pronte", "rides": "navetta"},
    "en": {"lines": "Shuttles", "solved": "proposals ready", "rides": "rides"},
}


def accessible(pg: Any) -> None:
    """axe-core finds no violation of any impact on the page as it is."""
    pg.add_script_tag(path=str(axe_script()))
    found = pg.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    assert found == [], (pg.url, found)


@pytest.fixture
def server(engine: Engine) -> Iterator[tuple[str, World, tuple[str, str]]]:
    world = build_world(engine)
    seasonal = seasonal_records(engine, world)
    with serve(create_app(Settings(login_delay_base_seconds=0.0), engine)) as url:
        yield url, world, seasonal


@pytest.mark.parametrize("lang", ["it", "en"])
def test_a_line_a_seasonal_round_and_the_beds_in_the_browser(
    server: tuple[str, World, tuple[str, str]], lang: str
) -> None:
    from playwright.sync_api import expect

    url, _world, (who, flat) = server
    words = WORDS[lang]
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 1360, "height": 900},
            locale="it-IT" if lang == "it" else "en-GB",
            bypass_csp=True,  # axe-core is added to the page as a script of its own
        )
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(f"{url}/lines?lang={lang}")
        pg.fill("#username", "anna")
        pg.fill("#password", PASSWORD)
        pg.click("button[type=submit]")
        pg.wait_for_url(f"{url}/lines*")
        expect(pg.locator("h1")).to_have_text(words["lines"])
        expect(pg.locator("nav a[aria-current=page]")).to_have_text(words["lines"])
        accessible(pg)

        # a new line and its stops
        pg.click("a.button[href='/lines/new']")
        accessible(pg)
        pg.fill("#f-name", "Borgo Mezzanone – Foggia sud")
        pg.fill("#f-seats", "12")
        pg.fill("#f-monthly_cost_euros", "900")
        pg.fill("#f-stops", STOPS[lang])
        click_and_wait(pg, pg.locator("#save-line"))
        expect(pg.locator("#stops li")).to_have_count(2)
        line_ref = pg.url.rsplit("/", 1)[1]
        accessible(pg)
        pg.screenshot(path=str(SHOTS / f"line-{lang}.png"), full_page=True)
        pg.click(f"a[href='/map?line={line_ref}']")
        expect(pg.locator(f"g.shuttle.chosen[data-line='{line_ref}'] circle.stop")).to_have_count(2)

        # a seasonal round with it
        accessible(pg)
        pg.goto(f"{url}/rounds/new")
        accessible(pg)
        pg.fill("#f-name", "Estate 2027")
        pg.fill("#f-time_limit_s", "10")
        pg.fill("#f-horizon_start", "2027-06")
        pg.fill("#f-horizon_months", "6")
        pg.fill("#f-transport_budget_euros", "6000")
        pg.click("#open-round")
        expect(pg.locator("#round-status")).to_be_visible()
        round_url = pg.url.split("?")[0]
        round_ref = round_url.rsplit("/", 1)[1]
        solve_on_page(pg, round_url, words["solved"])
        row = pg.locator(f"#proposals tr[data-beneficiary='{who}']")
        expect(row).to_have_count(1)
        expect(row.locator("td.line")).to_contain_text(words["rides"])
        expect(row.locator("td.line")).to_contain_text(line_ref)
        expect(row.locator("td.line")).to_contain_text("Borgo Mezzanone – Foggia sud")
        expect(row).to_contain_text("2027-07 – 2027-09")
        pg.screenshot(path=str(SHOTS / f"round-season-{lang}.png"), full_page=True)
        accessible(pg)

        # the foresteria's beds, month by month
        click_and_wait(pg, row.locator(f"a[href='/flats/{flat}/beds?round={round_ref}']"))
        expect(pg.locator(f"#beds td.taken[data-who='{who}']")).to_have_count(3)
        expect(pg.locator("#beds td.closed")).to_have_count(2)
        pg.screenshot(path=str(SHOTS / f"beds-{lang}.png"), full_page=True)
        accessible(pg)
        pg.goto(f"{url}/lines/{line_ref}?round={round_ref}")
        expect(pg.locator("#seats tbody tr")).to_have_count(6)
        accessible(pg)
        assert errors == []
        context.close()
