"""``housing scenario run`` and ``housing scenario check`` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from housing.cli import app
from matching.instance import save_instance
from scenarios.synthetic import generate

runner = CliRunner()

GOOD = """
[scenario]
name = "cli-tiny"
description = "a tiny round"
time_limit = 5
[base]
instance = "round.json"
[variants.more_money]
overrides.funds.regional.add_eur = 3000
[variants.ratio]
sweep = { key = "policy.affordability_ratio", values = [0.25, 0.35] }
"""


@pytest.fixture()
def scenario(tmp_path: Path) -> Path:
    save_instance(generate("XS", 5), tmp_path / "round.json")
    f = tmp_path / "tiny.toml"
    f.write_text(GOOD, encoding="utf-8")
    return f


def test_run_writes_the_report(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    res = runner.invoke(
        app,
        [
            "scenario",
            "run",
            str(scenario),
            "-o",
            str(out),
            "--workers",
            "1",
            "--time-limit",
            "5",
            "--seed",
            "2",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Scenario cli-tiny" in res.output and "OPTIMAL" in res.output
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["ok"] and data["provenance"]["seed"] == 2
    assert data["provenance"]["time_limit"] == 5.0
    assert [v["name"] for v in data["variants"]] == ["more_money", "ratio[0.25]", "ratio[0.35]"]
    assert (out / "report.html").exists() and (out / "report.csv").exists()
    assert (out / "budget_vs_persons.png").exists()


def test_check_lists_the_variants(scenario: Path) -> None:
    res = runner.invoke(app, ["scenario", "check", str(scenario)])
    assert res.exit_code == 0, res.output
    assert "3 variant(s)" in res.output and "ratio[0.35]" in res.output


def test_bad_file_exits_2_listing_every_error(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(
        '[base]\ngenerate = { scale = "XS", seed = 1 }\n'
        "[variants.shuttle]\noverrides.commute.extra_km = -1\n"
        "[variants.money]\noverrides.funds.victims.add_eur = 0.001\n",
        encoding="utf-8",
    )
    for command in ("run", "check"):
        res = runner.invoke(app, ["scenario", command, str(f)])
        assert res.exit_code == 2, res.output
        text = " ".join(res.output.split())
        assert 'variant "shuttle": overrides.commute.extra_km: must be a positive number' in text
        assert 'variant "money": overrides.funds.victims.add_eur: must have at most two' in text


def test_check_catches_what_only_the_base_shows(tmp_path: Path) -> None:
    f = tmp_path / "ids.toml"
    f.write_text(
        '[base]\ngenerate = { scale = "XS", seed = 1 }\n'
        '[variants.a]\noverrides.remove_units = ["D77777"]\n',
        encoding="utf-8",
    )
    res = runner.invoke(app, ["scenario", "check", str(f)])
    assert res.exit_code == 2
    assert "unknown unit id(s) D77777" in " ".join(res.output.split())


def test_missing_file_and_bad_options(tmp_path: Path, scenario: Path) -> None:
    res = runner.invoke(app, ["scenario", "run", str(tmp_path / "none.toml")])
    assert res.exit_code == 2 and "cannot read" in " ".join(res.output.split())
    res = runner.invoke(app, ["scenario", "run", str(scenario), "--time-limit", "0"])
    assert res.exit_code == 2 and "time_limit" in res.output


def test_unreachable_scheduler(scenario: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import contextmanager

    import scenarios.runner as runner_module

    @contextmanager
    def refuse(address: str):  # type: ignore[no-untyped-def]
        raise OSError(f"Timed out trying to connect to {address}")
        yield

    monkeypatch.setattr(runner_module, "dask_executor", refuse)
    res = runner.invoke(app, ["scenario", "run", str(scenario), "--scheduler", "tcp://127.0.0.1:1"])
    assert res.exit_code == 2 and "Cannot reach the scheduler" in res.output


def test_the_comparison_never_cuts_a_variant_name() -> None:
    from rich.console import Console

    from housing.cli_scenario import print_summary

    def run(name: str) -> dict[str, Any]:
        return {
            "name": name,
            "status": "OPTIMAL",
            "gap": 0.0,
            "violations": {},
            "housed": {"households": 150, "persons": 220},
            "money": {"contribution_cents_per_month": 123_456},
            "commute": {"mean_km": 11.25, "p90_km": 20.5},
            "unplaced": {"households": 50},
            "difference": {"housed.persons": 3},
        }

    long = "victims_fund_plus_one_hundred_thousand_euro_and_the_shuttle[25000]"
    report = {"scenario": {"name": "wide"}, "base": run("base"), "variants": [run(long)]}
    for width in (60, 100, 200):
        console = Console(width=width, record=True, color_system=None)
        print_summary(console, report)
        text = console.export_text()
        assert long in text, width
        assert "OPTIMAL" in text and "220 (+3)" in text  # the other columns are all there
