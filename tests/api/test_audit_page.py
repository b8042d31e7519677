"""The round page's audit, in Debian's Chromium driven by Playwright, in Italian and in
English, on the demo's records: a caseworker solves the August round, reads who each group
of households got (small counts shown as "<5"), reads a priority inversion and why it
stands, locks the swap from there, and the round is solved again with the household in
the home it was denied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from agency import records
from agency.accountability import solve_of
from agency.db import dispose_engines, get_engine
from agency.models import Role, Round
from api.main import create_app
from api.settings import Settings
from housing.cli_agency import demo
from matching.result import result_from_dict
from matching.validate import validate
from tests.api.chromium import chromium, serve, solve_on_page
from tests.api.conftest import ACTOR, PASSWORD
from tests.api.test_day import Day

pytestmark = pytest.mark.browser

WORDS = {
    "it": {
        "priority": "Verifica della politica di priorità",
        "title": "Verifica della tornata",
        "status": "proposte pronte",
        "lock": "Blocca lo scambio",
    },
    "en": {
        "priority": "Priority policy audit",
        "title": "Audit of the round",
        "status": "proposals ready",
        "lock": "Lock the swap",
    },
}


@pytest.fixture
def august(tmp_path: Path) -> Iterator[tuple[str, str, Any]]:
    """The demo's records with office FG's caseworker, under uvicorn; the August round."""
    path = tmp_path / "demo.sqlite3"
    demo(path, time_limit=10)
    engine = get_engine(f"sqlite:///{path}")
    with Session(engine) as s:
        fg = records.office_by_code(s, "FG")
        records.create_user(s, ACTOR, "anna", "Anna Rossi", PASSWORD, Role.caseworker, fg.id)
        ref = s.exec(select(Round.ref).where(Round.status == "open")).one()
        s.commit()
    try:
        with serve(create_app(Settings(login_delay_base_seconds=0.0), engine)) as url:
            yield url, ref, engine
    finally:
        dispose_engines()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _wait_for_solve(pg: Any, round_url: str) -> None:
    """After a click that started a solve: stay until the progress box is gone."""
    from playwright.sync_api import Error

    pg.wait_for_url("**?job=*")
    for _ in range(200):
        try:
            pg.wait_for_load_state("load")
            if not pg.locator("#solve-progress").count():
                break
            pg.wait_for_selector("#solve-progress", state="detached", timeout=120_000)
        except Error as e:
            if "context was destroyed" not in str(e) and "navigat" not in str(e):
                raise
    assert pg.locator("#round-error").count() == 0, pg.locator("#round-error").inner_text()
    assert pg.url.split("?")[0] == round_url


@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_audit_and_a_locked_swap(august: tuple[str, str, Any], browser: Any, lang: str) -> None:
    from playwright.sync_api import expect

    server, ref, engine = august
    w = WORDS[lang]
    locale = "it-IT" if lang == "it" else "en-GB"
    # axe-core is injected past the CSP
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, locale=locale, bypass_csp=True
    )
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(server + "/login")
    pg.fill("#username", "anna")
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(server + "/")
    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale=locale,
        storage_state=context.storage_state(),
        bypass_csp=True,
    )
    day = Day(server, f"audit-{lang}", pg, phone.new_page())
    round_url = f"{server}/rounds/{ref}"
    pg.goto(round_url)
    assert pg.locator("#fairness").count() == 0  # not solved yet: nothing to audit
    solve_on_page(pg, round_url, w["status"])

    # the group audit: every dimension, small counts hidden
    expect(pg.locator("#fairness h2")).to_have_text(w["title"])
    groups = pg.locator("#audit-groups")
    for dim in ("gender", "household", "nationality", "tag"):
        assert groups.locator(f"tbody[data-dimension={dim}] tr[data-group]").count() >= 1, dim
    assert "<5" in groups.inner_text()
    single = groups.locator("tbody[data-dimension=household] tr[data-group=single_adult]")
    assert ("adulto solo" if lang == "it" else "single adult") in single.inner_text()
    day.check("round-audit", at="#fairness")

    # an inversion: who, by whom, why; its swap locked and the round solved again
    rows = pg.locator("#inversions tbody tr[data-left]")
    assert rows.count() >= 1
    first = rows.first
    left, unit = first.get_attribute("data-left"), first.get_attribute("data-unit")
    assert left and unit and first.get_attribute("data-why")
    assert ("regola" if lang == "it" else "rule") in first.inner_text()
    button = first.locator("button.lock-swap")
    expect(button).to_contain_text(w["lock"])
    button.click()
    _wait_for_solve(pg, round_url)
    expect(pg.locator("#round-status")).to_have_text(w["status"])
    assert pg.locator(f"#decisions tbody tr:has(a[href='/beneficiaries/{left}'])").count() == 1
    placed = pg.locator(f"#proposals tr[data-beneficiary={left}]")
    expect(placed).to_have_attribute("data-unit", unit)
    gone = pg.locator(f"#inversions tr.inversion-left_out[data-left={left}][data-unit={unit}]")
    assert gone.count() == 0
    day.check("round-swap-locked", at="#fairness")

    # the priority policy audited, from the navigation
    pg.click("nav a[href='/priority']")
    expect(pg.locator("h1")).to_have_text(w["priority"])
    assert pg.locator("#priority-groups tbody[data-dimension=household] tr[data-group]").count()
    assert "<5" in pg.locator("#priority-groups").inner_text()
    day.check("priority", narrow=True)
    with Session(engine) as s:
        r = s.exec(select(Round).where(Round.ref == ref)).one()
        from agency.accountability import solved_instance

        kept = solve_of(s, r)
        assert kept.iteration == 2 and r.result is not None
        assert validate(solved_instance(r, kept), result_from_dict(r.result)) == []
    phone.close()
    context.close()
