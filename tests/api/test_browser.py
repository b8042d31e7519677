"""Browser tests: Debian's Chromium, driven by Playwright, logs in and runs a whole round
through the pages (open, solve with progress, lock/forbid, re-solve, offers, answers, close),
saving screenshots under ``out/screenshots/``. Run by ``.ci/run`` (marker ``browser``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from api.main import create_app
from api.settings import Settings
from tests.api.chromium import (
    SHOTS,
    answer_offers,
    chromium,
    click_and_wait,
    serve,
    solve_on_page,
)
from tests.api.conftest import PASSWORD, build_world

pytestmark = pytest.mark.browser


@pytest.fixture
def server(engine: Engine) -> Iterator[str]:
    build_world(engine)
    with serve(create_app(Settings(login_delay_base_seconds=0.0), engine)) as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[object]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="it-IT")
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        yield pg
        context.close()


def test_a_whole_round_in_the_browser(server: str, page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    pg = page
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # log in (Italian by the browser's language)
    pg.goto(f"{server}/beneficiaries")
    assert "/login" in pg.url
    pg.fill("#username", "anna")
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(f"{server}/beneficiaries")
    expect(pg.locator("h1")).to_have_text("Beneficiari")
    pg.screenshot(path=str(SHOTS / "beneficiaries.png"), full_page=True)
    pg.goto(f"{server}/")
    pg.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)

    # open a round
    pg.goto(f"{server}/rounds/new?lang=en")
    pg.fill("#f-name", "Foggia, July 2026")
    pg.fill("#f-time_limit_s", "10")
    pg.click("#open-round")
    expect(pg.locator("#round-status")).to_have_text("open")
    round_url = pg.url.split("?")[0]

    def solve() -> None:
        solve_on_page(pg, round_url, "proposals ready")

    solve()
    rows = pg.locator("#proposals tbody tr[data-beneficiary]")
    assert rows.count() >= 3
    first = rows.nth(0).get_attribute("data-beneficiary")
    second_unit = rows.nth(1).get_attribute("data-unit")
    second = rows.nth(1).get_attribute("data-beneficiary")
    click_and_wait(pg, rows.nth(0).locator("button.lock"))
    click_and_wait(pg, pg.locator(f'#proposals tr[data-beneficiary="{second}"] button.forbid'))
    expect(pg.locator("#decisions tbody tr")).to_have_count(2)

    solve()  # re-solve around the decisions
    assert pg.locator(f'#proposals tr[data-beneficiary="{first}"] .s-accepted').count() == 1
    assert (
        pg.locator(f'#proposals tr[data-beneficiary="{second}"][data-unit="{second_unit}"]').count()
        == 0
    )

    click_and_wait(pg, pg.locator("#send-offers"))
    n = answer_offers(pg, round_url)  # one refusal with its reason, the rest accepted
    pg.screenshot(path=str(SHOTS / "round.png"), full_page=True)

    pg.click("#close-round")  # closing is confirmed on a page of its own
    pg.wait_for_url(round_url + "/close")
    pg.click("#confirm-close")
    pg.wait_for_url(round_url)
    expect(pg.locator("#round-status")).to_have_text("closed")
    pg.screenshot(path=str(SHOTS / "round-closed.png"), full_page=True)

    ref = round_url.rsplit("/", 1)[1]
    pg.goto(f"{server}/map?round={ref}")
    assert pg.locator("svg.map line.placement").count() == n
    assert pg.locator("svg.map circle.town").count() == 257
    pg.screenshot(path=str(SHOTS / "map.png"), full_page=True)

    # log out: the pages want a login again
    pg.click("header form button")
    pg.wait_for_url(f"{server}/login")
    pg.goto(f"{server}/")
    assert "/login" in pg.url
    assert errors == [], errors
