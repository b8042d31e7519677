"""A caseworker's day, in Debian's Chromium driven by Playwright, in Italian and again in
English, on the demo's records (``make demo``: office FG, households waiting, money in the
funds, the August round open):

log in, search and page through households, add one (a form with four mistakes, all
shown at once) and edit it, import a template, open a round, solve, read a reason with
its evidence, lock and forbid, re-solve and read what changed, send offers and download a
letter in Arabic, record a refusal and an acceptance, confirm the close, export.

axe-core (from the npm registry) checks every page for accessibility (no violation of
any impact), and the main pages are checked at 390 px wide for sideways scrolling.
Screenshots of each step are saved in ``out/screenshots/day-<lang>-*.png`` (and, with
``HOUSING_DOCS_SCREENSHOTS=1``, the Italian ones in ``docs/``). Run by ``.ci/run``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from agency import records
from agency.db import dispose_engines, get_engine
from agency.models import Role, Round
from agency.round_control import cancel_round
from api.main import create_app
from api.settings import Settings
from housing.cli_agency import demo
from tests.api.chromium import (
    ROOT,
    SHOTS,
    answer_offers,
    chromium,
    click_and_wait,
    serve,
    solve_on_page,
)
from tests.api.conftest import ACTOR, PASSWORD

pytestmark = pytest.mark.browser

DOCS = ROOT / "docs"
AXE_DIR = Path(__file__).resolve().parent / ".axe"
AXE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
TEMPLATES = ROOT / "agency" / "data" / "templates"


def axe_script() -> Path:
    """axe-core's script, installed from the npm registry into a test-only folder."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is missing: apt-get install -y npm (see .ci/run)")
        AXE_DIR.mkdir(exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--silent",
                f"axe-core@{AXE_VERSION}",
            ],
            cwd=AXE_DIR,
            check=True,
        )
    return AXE


@pytest.fixture
def day_server(tmp_path: Path) -> Iterator[str]:
    """The service on the demo's records, with office FG's caseworker, a planner and an
    auditor, under uvicorn."""
    path = tmp_path / "demo.sqlite3"
    demo(path, time_limit=10)
    engine = get_engine(f"sqlite:///{path}")
    with Session(engine) as s:
        fg = records.office_by_code(s, "FG")
        records.create_user(s, ACTOR, "anna", "Anna Rossi", PASSWORD, Role.caseworker, fg.id)
        records.create_user(s, ACTOR, "pia", "Pia Bianchi", PASSWORD, Role.planner, None)
        records.create_user(s, ACTOR, "aldo", "Aldo Verdi", PASSWORD, Role.auditor, None)
        # the day opens its own round: the demo's August round, over the same households,
        # gives way (two rounds may not hold the same households)
        august = s.exec(select(Round).where(Round.status == "open")).one()
        assert august.id is not None
        cancel_round(s, ACTOR, august.id, "the test's own round replaces it")
        s.commit()
    try:
        with serve(create_app(Settings(login_delay_base_seconds=0.0), engine)) as url:
            yield url
    finally:
        dispose_engines()


class Day:
    """The browser, and the checks every page gets."""

    def __init__(self, server: str, lang: str, pg: Any, phone: Any) -> None:
        self.server, self.lang, self.pg, self.phone = server, lang, pg, phone
        self.step = 0
        self.checked: list[str] = []

    def url(self, path: str) -> str:
        return f"{self.server}{path}"

    def check(self, name: str, *, narrow: bool = False, at: str | None = None) -> None:
        """axe-core on the page as it is (no violation of any impact), its screenshot,
        and, for the main pages, no sideways scrolling at 390 px."""
        pg = self.pg
        pg.add_script_tag(path=str(axe_script()))
        result = pg.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""")
        assert result == [], (name, pg.url, result)
        self.step += 1
        shot = SHOTS / f"day-{self.lang}-{self.step:02d}-{name}.png"
        if at is not None:
            pg.locator(at).first.evaluate("e => e.scrollIntoView({block: 'center'})")
        pg.screenshot(path=str(shot))
        if (
            self.lang == "it"
            and name in DOC_STEPS
            and os.environ.get("HOUSING_DOCS_SCREENSHOTS") == "1"
        ):
            _small_png(shot, DOCS / f"day-{DOC_STEPS.index(name) + 1:02d}-{name}.png")
        if narrow:
            self.phone.goto(pg.url.split("#")[0])
            wide = self.phone.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert wide[0] <= wide[1], (name, "scrolls sideways at 390 px", wide)
        self.checked.append(name)


DOC_STEPS = [
    "dashboard",
    "beneficiaries",
    "new-household-errors",
    "household",
    "import-check",
    "round-solved",
    "reason-evidence",
    "re-solved-changes",
    "offers",
    "close-confirm",
    "round-closed",
    "map",
]
"""The steps of the day whose screenshots (Italian) are in docs/ and the README."""


def _small_png(src: Path, dst: Path) -> None:
    """A screenshot for the docs: 256 colours keep it small."""
    from PIL import Image

    with Image.open(src) as im:
        im.convert("RGB").quantize(colors=256).save(dst, optimize=True)


WORDS = {
    "it": {
        "beneficiaries": "Beneficiari",
        "round_open": "aperta",
        "solved": "proposte pronte",
        "closed": "chiusa",
        "errors": "Controlla questi campi (4)",
        "required": "obbligatorio",
        "municipality": "non è un comune della Puglia",
        "number": "non è un numero",
        "pattern": "formato non valido",
        "name": "Luglio Diop",
        "round": "Tornata di prova",
        "income": "1.050,50",
        "ratio": "0,30",
        "header": "Cognome",
    },
    "en": {
        "beneficiaries": "Beneficiaries",
        "round_open": "open",
        "solved": "proposals ready",
        "closed": "closed",
        "errors": "Please check these fields (4)",
        "required": "required",
        "municipality": "is not a municipality of Puglia",
        "number": "is not a number",
        "pattern": "not in the expected form",
        "name": "July Diop",
        "round": "Test round",
        "income": "1,050.50",
        "ratio": "0.30",
        "header": "Family name",
    },
}


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.mark.parametrize("lang", ["it", "en"])
def test_a_caseworkers_day(day_server: str, browser: Any, lang: str) -> None:
    from playwright.sync_api import expect

    w = WORDS[lang]
    locale = "it-IT" if lang == "it" else "en-GB"
    # the page's scripts run (the solve's progress); axe is injected past the CSP
    context = browser.new_context(
        viewport={"width": 1280, "height": 860},
        locale=locale,
        bypass_csp=True,
        accept_downloads=True,
    )
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    # (a page answered 4xx on purpose, a form with mistakes, is not a script's error)
    pg.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error"
            and not m.text.startswith(
                "Failed to load resource: the server responded with a status of 4"
            )
            else None
        ),
    )

    # --- log in (the language from the browser's own)
    pg.goto(day_server + "/")
    assert "/login" in pg.url
    day = Day(day_server, lang, pg, None)
    day.check("login")
    _login(pg, day_server, "anna")
    pg.wait_for_url(day_server + "/")
    phone_context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale=locale,
        storage_state=context.storage_state(),
        bypass_csp=True,
    )
    day.phone = phone_context.new_page()
    day.check("dashboard", narrow=True)

    # --- search and page through households (an empty status means any)
    pg.click("nav a[href='/beneficiaries']")
    expect(pg.locator("h1")).to_have_text(w["beneficiaries"])
    pg.fill("#q", "a")
    pg.select_option("#status", "")
    pg.click("form.search button[type=submit]")
    pg.wait_for_url("**/beneficiaries?q=a&status=*")
    rows = pg.locator("table tbody tr").count()
    assert rows == 25
    pg.click("a[rel=next]")
    pg.wait_for_url("**offset=25*")
    assert "q=a" in pg.url and pg.locator("table tbody tr").count() >= 1
    day.check("beneficiaries", narrow=True)
    pg.click("a[rel=prev]")
    pg.wait_for_url("**offset=0*")

    # --- add a household: four mistakes, all shown at once, each by its label
    pg.goto(day.url("/beneficiaries/new"))
    pg.fill("#f-family_name", "Diop")
    pg.fill("#f-nationality", "Senegal")
    pg.select_option("#f-gender", "M")
    pg.fill("#f-income_euros", "mille")
    pg.fill("#f-work_municipality", "Atlantide")
    pg.click("form.grid button[type=submit]")
    summary = pg.locator("#form-errors")
    expect(summary).to_contain_text(w["errors"])
    items = summary.locator("li")
    assert items.count() == 4, items.all_inner_texts()
    text = summary.inner_text()
    for word in (w["required"], w["municipality"], w["number"], w["pattern"]):
        assert word in text, (word, text)
    day.check("new-household-errors")
    pg.fill("#f-given_name", w["name"].split()[0])
    pg.fill("#f-nationality", "SN")
    pg.fill("#f-income_euros", w["income"])
    pg.fill("#f-work_municipality", "Cerignola")
    pg.click("form.grid button[type=submit]")
    pg.wait_for_url(re.compile(r".*/beneficiaries/B-\w+$"))
    household = pg.url.rsplit("/", 1)[1]
    expect(pg.locator("h1")).to_contain_text("Diop")
    # its income was read the page's way: 1050.50 euros, shown back the same way
    assert ("1.050,50" if lang == "it" else "1,050.50") in pg.content()
    # a note is its own action: the status does not change
    pg.fill("#note", "first meeting at the office")
    pg.click("#note-form button")
    pg.wait_for_url(f"**/beneficiaries/{household}")
    assert pg.locator("h1 .badge").inner_text() == ("in attesa" if lang == "it" else "waiting")
    # the status select has no default
    assert pg.locator("#new-status").input_value() == ""
    day.check("household", narrow=True)
    pg.click(f"a[href='/beneficiaries/{household}/edit']")
    pg.fill("#f-phone", "+39 320 000 0000")
    pg.click("form.grid button[type=submit]")
    pg.wait_for_url(f"**/beneficiaries/{household}")
    assert "+39 320 000 0000" in pg.content()

    # --- import a template: checked, then confirmed
    pg.goto(day.url("/imports"))
    pg.select_option("#import-kind", "dwellings")
    pg.set_input_files("#import-file", str(TEMPLATES / "dwellings.csv"))
    pg.click("#check-import")
    expect(pg.locator("#import-ready")).to_be_visible()
    day.check("import-check")
    pg.click("#confirm-import")
    expect(pg.locator("#import-done")).to_be_visible()

    # --- open a round, solve
    pg.goto(day.url("/rounds/new"))
    pg.fill("#f-name", w["round"])
    pg.fill("#f-time_limit_s", "10")
    assert pg.locator("#f-affordability_ratio").input_value() == w["ratio"]
    pg.click("#open-round")
    expect(pg.locator("#round-status")).to_have_text(w["round_open"])
    round_url = pg.url.split("?")[0]

    def solve() -> None:
        solve_on_page(pg, round_url, w["solved"])

    solve()
    proposals = pg.locator("#proposals tbody tr[data-beneficiary]")
    assert proposals.count() >= 3
    # people and homes, not codes
    first_row = proposals.nth(0).inner_text()
    assert not re.search(r"\b[BDF]-[0-9A-Z]{8}\b", first_row), first_row
    day.check("round-solved", narrow=True)

    # --- read a reason with its evidence
    reasons = pg.locator("#unplaced details.evidence")
    assert reasons.count() >= 1
    reasons.first.locator("summary").click()
    facts = reasons.first.locator("li").all_inner_texts()
    assert facts and any(re.search(r"\d", f) for f in facts), facts
    day.check("reason-evidence", at="#unplaced details.evidence[open]")

    # --- lock and forbid, re-solve and read what changed
    first = proposals.nth(0).get_attribute("data-beneficiary")
    second = proposals.nth(1).get_attribute("data-beneficiary")
    second_unit = proposals.nth(1).get_attribute("data-unit")
    click_and_wait(pg, proposals.nth(0).locator("button.lock"))
    click_and_wait(pg, pg.locator(f'#proposals tr[data-beneficiary="{second}"] button.forbid'))
    expect(pg.locator("#decisions tbody tr")).to_have_count(2)
    solve()
    assert pg.locator(f'#proposals tr[data-beneficiary="{first}"] .s-accepted').count() == 1
    assert (
        pg.locator(f'#proposals tr[data-beneficiary="{second}"][data-unit="{second_unit}"]').count()
        == 0
    )
    changes = pg.locator("#changes li")
    assert changes.count() >= 1
    day.check("re-solved-changes")

    # --- offers, and a letter in Arabic
    click_and_wait(pg, pg.locator("#send-offers"))
    letter = pg.locator("#offers a.letter[data-lang=ar]").first
    with pg.expect_download() as got:
        letter.click()
    pdf = Path(got.value.path()).read_bytes()
    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) == 2
    assert any("\ufe70" <= ch <= "\ufeff" for ch in pages[1])  # shaped Arabic
    assert "الرجاء الرد قبل" in unicodedata.normalize("NFKC", pages[1])
    day.check("offers", narrow=True, at="#offers")

    # --- a refusal with its reason, then the acceptances (no answer is preselected)
    n = answer_offers(pg, round_url)

    # --- confirm the close: what it will do, then done
    pg.click("#close-round")
    pg.wait_for_url(round_url + "/close")
    assert pg.locator("#close-leases tbody tr").count() == n - 1
    assert pg.locator("#close-funds tbody tr").count() >= 1
    day.check("close-confirm", narrow=True)
    pg.click("#confirm-close")
    pg.wait_for_url(round_url)
    expect(pg.locator("#round-status")).to_have_text(w["closed"])

    # --- export for office software
    with pg.expect_download() as got:
        pg.click("#export-csv")
    raw = Path(got.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert table[0][2] == w["header"] and len(table) > n
    with pg.expect_download() as got:
        pg.click("#export-xlsx")
    book = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))
    assert book.active is not None and book.active.max_row == len(table)
    day.check("round-closed", narrow=True, at="#unplaced")

    # --- the rest of the pages, checked too
    for path, name, narrow in (
        ("/dwellings", "dwellings", True),
        ("/flats", "flats", True),
        ("/funds", "funds", True),
        ("/rounds", "rounds", True),
        (f"/map?round={round_url.rsplit('/', 1)[1]}", "map", True),
        ("/dwellings/new", "new-dwelling", False),
        ("/flats/new", "new-flat", False),
        (f"/beneficiaries/{household}/edit", "edit-household", False),
        ("/beneficiaries/B-NOPE2345", "not-found", False),
    ):
        pg.goto(day.url(path))
        day.check(name, narrow=narrow)
    assert errors == [], errors
    phone_context.close()
    context.close()


def _login(pg: Any, server: str, user: str) -> None:
    if "/login" not in pg.url:
        pg.goto(server + "/login")
    pg.fill("#username", user)
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_load_state()


@pytest.mark.parametrize("lang", ["it", "en"])
def test_planners_and_auditors_pages(day_server: str, browser: Any, lang: str) -> None:
    """The planners' pages (statistics, the variants' form, a run's whole report) and the
    auditors' log: axe-core finds nothing on any of them."""
    from playwright.sync_api import expect

    locale = "it-IT" if lang == "it" else "en-GB"
    context = browser.new_context(
        viewport={"width": 1280, "height": 860},
        locale=locale,
        bypass_csp=True,
        accept_downloads=True,
    )
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale)
    day = Day(day_server, f"{lang}-planner", pg, phone.new_page())
    _login(pg, day_server, "pia")
    pg.wait_for_url("**/stats")
    day.check("stats")
    pg.goto(day.url("/scenarios"))
    pg.fill("#f-name", "August money")
    pg.fill("#f-time_limit", "5")
    pg.select_option("#f-money_fund", "regional")
    pg.fill("#f-money_euros", "2000" if lang == "en" else "2.000")
    pg.fill("#f-beds_municipality", "Cerignola")
    day.check("scenario-form")
    pg.click("#run-simple")
    pg.wait_for_url(re.compile(r".*/scenarios/S-\w+$"))
    for _ in range(600):
        status = pg.locator("#run-status").inner_text()
        if status in ("completato", "done", "non riuscito", "failed"):
            break
        pg.wait_for_timeout(500)
        pg.reload()
    assert status in ("completato", "done"), status
    expect(pg.locator("#findings p")).to_have_count(3)
    day.check("scenario-report")
    pg.click("text=" + ("Esci" if lang == "it" else "Log out"))
    pg.wait_for_url("**/login")
    _login(pg, day_server, "aldo")
    pg.wait_for_url("**/audit")
    day.check("audit")
    context.close()
    phone.close()
