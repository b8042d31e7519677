"""The measured sections' scripts run and print their tables (at XS, a few seconds)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from benchmarks import policy_cost, resolve, seasons


def _table(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    main: Callable[[], None],
    args: list[str],
) -> str:
    monkeypatch.setattr(sys, "argv", ["x", *args])
    main()
    return capsys.readouterr().out


def test_policy_cost_prices_each_option(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _table(
        capsys,
        monkeypatch,
        policy_cost.main,
        ["--scales", "XS", "--seeds", "1", "--time-limit", "10"],
    )
    rows = [line for line in out.splitlines() if line.startswith("| XS |")]
    assert [r.split("|")[3].strip() for r in rows] == ["weighted", "strict", "floors"]
    assert all("OPTIMAL" in r for r in rows)  # each validated by the script itself
    # the default's weight is the most by priority x persons
    weights = [int(r.split("|")[6]) for r in rows]
    assert weights[0] >= max(weights[1:])
    assert "XS strict: households placed fewer than the default" in out


def test_seasons_compares_a_horizon_with_its_all_year_twin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _table(
        capsys, monkeypatch, seasons.main, ["--scales", "XS", "--seeds", "1", "--time-limit", "10"]
    )
    rows = [line for line in out.splitlines() if line.startswith("| XS |")]
    assert [r.split("|")[3].strip() for r in rows] == ["seasonal", "all year"]
    assert "XS: time ratio seasonal / all year" in out


def test_resolve_compares_a_warm_start_with_a_fresh_solve(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _table(
        capsys,
        monkeypatch,
        resolve.main,
        ["--scales", "XS", "--seeds", "1", "--refusals", "1", "5", "--time-limit", "10"],
    )
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| XS |")]
    assert [r[3].strip() for r in rows] == ["1", "5"]
    for r in rows:  # both proven, so both at the same weight
        warm, fresh = r[4].split(), r[5].split()
        assert warm[0] == fresh[0] == "OPTIMAL" and warm[1] == fresh[1]
