"""What the browser tests share: the service under uvicorn on a free port, and Debian's
Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "screenshots"
CHROMIUM = os.environ.get("HOUSING_CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """``housing serve``'s app under uvicorn, in a thread, on a free port: its URL."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (a Browser)."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            browser.close()


def answer_offers(pg: Any, round_url: str) -> int:
    """On a round's page with offers out: refuse the first (with its reason), accept the
    rest; the number of offers. No answer may be preselected."""
    forms = pg.locator("form.answer")
    n = int(forms.count())
    assert n >= 3
    assert forms.nth(0).locator("select").input_value() == ""
    forms.nth(0).locator("select").select_option("refused_household")
    forms.nth(0).locator("input[name=reason]").fill("the school is in another town")
    click_and_wait(pg, forms.nth(0).locator("button"))
    while pg.locator("form.answer").count():
        f = pg.locator("form.answer").first
        f.locator("select").select_option("accepted")
        click_and_wait(pg, f.locator("button"))
    return n


def solve_on_page(pg: Any, round_url: str, solved: str) -> None:
    """Click *Calcola* / *Ricalcola* on a round's page and stay until the solve has ended
    (the page's progress box gone) and the round reads ``solved``.

    The box polls the job and reloads the page itself when the job ends, so the test never
    navigates while a box is on the page: a navigation of its own could race the box's
    reload (and be interrupted by it)."""
    from playwright.sync_api import Error, expect

    pg.click("#solve")
    pg.wait_for_url("**?job=*")
    for _ in range(200):
        try:
            pg.wait_for_load_state("load")
            if not pg.locator("#solve-progress").count():
                break
            # detached once the box's reload has replaced the document (or the job ended)
            pg.wait_for_selector("#solve-progress", state="detached", timeout=120_000)
        except Error as e:  # the document changed under the check: look again
            if "context was destroyed" not in str(e) and "navigat" not in str(e):
                raise
    failed = pg.locator("#round-error")
    assert failed.count() == 0, failed.inner_text()
    assert pg.url.split("?")[0] == round_url.split("?")[0], pg.url
    expect(pg.locator("#round-status")).to_have_text(solved)


def click_and_wait(pg: Any, locator: Any) -> None:
    """Click a form's button and wait for the page it leads to."""
    with pg.expect_navigation():
        locator.click()
