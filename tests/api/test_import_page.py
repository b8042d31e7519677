"""Importing a template from the browser: every error by row and column with nothing
written, then a file that is right, its confirmation, and all its rows in the records."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from agency.models import Beneficiary, Dwelling
from tests.api.conftest import World, page_client

TEMPLATES = Path(__file__).resolve().parents[2] / "agency" / "data" / "templates"


def _count(engine: Engine, table: type[Beneficiary] | type[Dwelling]) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(table)).one())


def test_a_template_imported_from_the_browser(app: FastAPI, world: World, engine: Engine) -> None:
    c = page_client(app, world, "anna")
    token = world.csrf("anna")
    form = c.get("/imports?lang=it").text
    assert 'name="kind"' in form and "beneficiaries" in form
    text = (TEMPLATES / "beneficiaries.csv").read_text("utf-8")
    lines = text.splitlines()
    table = list(csv.reader(io.StringIO(text)))
    header = table[0]
    table[1][header.index("adults")] = "due"
    table[1][header.index("work_municipality")] = "Atlantide"
    out = io.StringIO()
    csv.writer(out).writerows(table)
    bad = out.getvalue()
    before = _count(engine, Beneficiary)
    res = c.post(
        "/imports?lang=it",
        data={"csrf_token": token, "kind": "beneficiaries"},
        files={"file": ("persone.csv", bad.encode(), "text/csv")},
    )
    assert res.status_code == 422
    rows = re.findall(
        r'<tr><td class="num">(\d+)</td><td><code>(\w+)</code></td><td>([^<]+)', res.text
    )
    assert ("2", "adults", "deve essere un numero intero") in rows
    assert ("2", "work_municipality", "non è un comune della Puglia") in rows
    assert "Non è stato importato nulla" in res.text
    assert _count(engine, Beneficiary) == before
    # the file as it should be: checked, nothing written until confirmed
    ok = c.post(
        "/imports?lang=en",
        data={"csrf_token": token, "kind": "beneficiaries"},
        files={"file": ("people.csv", text.encode(), "text/csv")},
    )
    assert ok.status_code == 200 and 'id="import-ready"' in ok.text
    n = len([x for x in lines[1:] if x.strip()])
    assert f"{n} rows, {n} households to create" in ok.text
    assert _count(engine, Beneficiary) == before
    action = re.search(r'action="(/imports/[\w-]+/confirm)"', ok.text)
    assert action is not None
    # nobody else may confirm it
    other = page_client(app, world, "root")
    assert other.post(action.group(1), data={"csrf_token": world.csrf("root")}).status_code == 404
    done = c.post(action.group(1) + "?lang=en", data={"csrf_token": token})
    assert done.status_code == 200 and 'id="import-done"' in done.text
    assert _count(engine, Beneficiary) == before + n
    # a confirmation is used once
    again = c.post(action.group(1), data={"csrf_token": token})
    assert again.status_code == 404 and _count(engine, Beneficiary) == before + n


def test_the_import_page_asks_for_a_kind_and_a_file(
    app: FastAPI, world: World, engine: Engine
) -> None:
    c = page_client(app, world, "anna")
    token = world.csrf("anna")
    no_kind = c.post(
        "/imports?lang=en",
        data={"csrf_token": token},
        files={"file": ("d.csv", b"address\n", "text/csv")},
    )
    assert no_kind.status_code == 422 and "Choose what the file holds" in no_kind.text
    wrong = c.post(
        "/imports?lang=en",
        data={"csrf_token": token, "kind": "dwellings"},
        files={"file": ("d.txt", b"x", "text/plain")},
    )
    assert wrong.status_code == 422 and ".csv or .xlsx" in wrong.text
    before = _count(engine, Dwelling)
    xlsx = c.post(
        "/imports?lang=en",
        data={"csrf_token": token, "kind": "dwellings"},
        files={"file": ("d.xlsx", b"not a workbook", "application/octet-stream")},
    )
    assert xlsx.status_code == 422 and "cannot be read" in xlsx.text
    assert _count(engine, Dwelling) == before
    assert page_client(app, world, "pia").get("/imports").status_code == 403
