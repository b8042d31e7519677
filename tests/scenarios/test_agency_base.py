"""A scenario on the agency's current data: pseudonymised, aggregates only."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from agency.db import dispose_engines
from agency.models import Beneficiary, Dwelling
from agency.snapshot import snapshot_instance
from housing.cli import app
from matching.params import SolveParams
from scenarios.runner import run_scenario_text
from tests.agency.factories import foggia_round_data

SPEC = """
[scenario]
name = "agency now"
time_limit = 10

[base]
agency = {}

[variants.more_victims_money]
overrides.funds.victims = { add_eur = 5000 }
"""


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def run_on_agency_data(engine: Engine, tmp_path: Path) -> dict[str, Any]:
    """:data:`SPEC` run on the agency's data in ``engine``, as the service runs it."""
    try:
        with ThreadPoolExecutor(1) as pool:
            return run_scenario_text(
                SPEC,
                tmp_path,
                agency=lambda _url: snapshot_instance(engine),
                executor=pool,
                params=SolveParams(time_limit=10),
            )
    finally:
        dispose_engines()


def test_snapshot_is_pseudonymised(engine: Engine) -> None:
    with Session(engine) as s:
        foggia_round_data(s)
        refs = {b.ref for b in s.exec(select(Beneficiary))} | {
            d.ref for d in s.exec(select(Dwelling))
        }
    try:
        inst = snapshot_instance(_url(engine))
    finally:
        dispose_engines()
    assert [b.id for b in inst.beneficiaries] == [f"H{k:04d}" for k in range(1, 7)]
    assert [d.id for d in inst.dwellings] == ["D0001", "D0002"]
    assert not refs & set(json.dumps(inst.to_dict(), default=str).split('"'))
    assert {f.id: f.budget_cents for f in inst.funds} == {"regional": 1_000_000, "victims": 300_000}


def test_a_scenario_runs_on_the_agency_data(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as s:
        foggia_round_data(s)
        secrets = {b.ref for b in s.exec(select(Beneficiary))} | {
            n for b in s.exec(select(Beneficiary)) for n in (b.given_name, b.family_name)
        }
    report = run_on_agency_data(engine, tmp_path)
    text = json.dumps(report)
    assert not any(x in text for x in secrets), "the report names someone"
    assert report["ok"] and report["scenario"]["base"]["kind"] == "agency"
    assert report["base"]["totals"]["households"] == 6
    assert report["base"]["status"] == "OPTIMAL"
    assert [v["name"] for v in report["variants"]] == ["more_victims_money"]
    assert report["variants"][0]["totals"]["budget_cents"] == (
        report["base"]["totals"]["budget_cents"] + 500_000
    )


def test_the_command_line_hands_the_agency_data_in(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as s:
        foggia_round_data(s)
    f = tmp_path / "agency.toml"
    f.write_text(
        SPEC.replace("agency = {}", "agency = { database_url = " + json.dumps(_url(engine)) + " }"),
        encoding="utf-8",
    )
    try:
        got = CliRunner().invoke(app, ["scenario", "check", str(f)])
    finally:
        dispose_engines()
    assert got.exit_code == 0, got.output
    assert "base of 6 households" in " ".join(got.output.split())
