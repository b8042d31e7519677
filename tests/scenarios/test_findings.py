"""A scenario's findings in plain words: what binds (money, and which fund; homes; reach),
what a variant changed against the base, and a warning when a run, or the base, stopped at
its time limit; in Italian and in English."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scenarios.findings import findings, report_findings


def run(name: str = "base", status: str = "OPTIMAL", **kw: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "name": name,
        "status": status,
        "gap": 0.0 if status == "OPTIMAL" else 0.0123,
        "totals": {"households": 200, "persons": 300},
        "housed": {
            "households": 150,
            "persons": 220,
            "households_in_dwellings": 60,
            "households_in_beds": 90,
        },
        "money": {
            "contribution_cents_per_month": 123_456,
            "funds": {
                "regional": {"budget_cents": 1_000_000, "share_used": 0.999},
                "victims": {"budget_cents": 500_000, "share_used": 0.41},
            },
        },
        "unplaced": {
            "by_reason": {
                "units_taken": 23,
                "funds_exhausted": 7,
                "no_unit_within_commute": 12,
                "too_large": 3,
            }
        },
    }
    r.update(kw)
    return r


def test_what_binds_in_english() -> None:
    lines = findings(run(), "en")
    text = " ".join(lines)
    assert "It houses 150 of 200 households (220 persons), for €1,235 a month" in text
    assert "Money binds: the regional fund is spent to the last euro, and 7 households" in text
    assert "Homes bind: for 23 households every home within reach went to others" in text
    assert "15 households can be taken by no home: 12 too far from work and 3 too small" in text
    assert "Warning" not in text


def test_what_binds_in_italian() -> None:
    text = " ".join(findings(run(), "it"))
    assert "Alloggia 150 nuclei su 200 (220 persone), con 1.235 € al mese" in text
    assert "I soldi sono il vincolo: il fondo regional è speso fino all'ultimo euro" in text
    assert "Le case sono il vincolo: per 23 nuclei" in text


def test_money_that_does_not_bind() -> None:
    r = run()
    r["money"]["funds"]["regional"]["share_used"] = 0.5
    r["unplaced"]["by_reason"] = {"units_taken": 4}
    text = " ".join(findings(r, "en"))
    assert "Money does not bind" in text and "victims" not in text.split("Money")[0]
    assert "the most used: regional at 50%" in text


@pytest.mark.parametrize("lang", ["it", "en"])
def test_variants_against_the_base_and_time_limits(lang: str) -> None:
    base = run()
    more = run(
        "more_money",
        difference={
            "housed.households": 2,
            "housed.persons": 3,
            "money.contribution_cents_per_month": 46_000,
        },
    )
    same = run("same", difference={})
    cut = run("cut", status="FEASIBLE", difference={"housed.persons": -1})
    report = {"base": base, "variants": [more, same, cut]}
    got = dict(report_findings(report, lang))
    assert list(got) == ["base", "more_money", "same", "cut"]
    if lang == "en":
        assert "Against the base: +2 households, +3 persons, +€460 a month." in got["more_money"]
        assert "Against the base nothing counted here changes." in got["same"]
        assert got["cut"][0].startswith(
            "Warning: the solve of “cut” stopped at its time "
            "limit (a valid allocation, 1.23% from the bound)"
        )
    else:
        assert "Rispetto alla base: +2 nuclei, +3 persone, +460 € al mese." in got["more_money"]
        assert got["cut"][0].startswith("Attenzione: il calcolo di «cut» si è fermato")
    assert not any("ttenzione" in x or "Warning" in x for x in got["more_money"])
    # a base cut by its time limit makes every difference unreliable
    cut_base = copy.deepcopy(report)
    cut_base["base"]["status"] = "FEASIBLE"
    again = dict(report_findings(cut_base, lang))
    for name in ("more_money", "same", "cut"):
        assert any(("base" in x) and ("Warning" in x or "Attenzione" in x) for x in again[name]), (
            again[name]
        )


def test_one_household_in_the_singular() -> None:
    r = run()
    r["unplaced"]["by_reason"] = {"units_taken": 1, "funds_exhausted": 1, "too_large": 1}
    text = " ".join(findings(r, "it"))
    assert "e un nucleo resta fuori per mancanza di fondi" in text
    assert "per un nucleo ogni casa raggiungibile" in text
    assert "Un nucleo non può essere preso da nessuna casa: 1 troppo piccole" in text


def test_counts_suppressed_for_privacy() -> None:
    """On the agency's own data a count of 1 to 4 is None (scenarios.disclosure)."""
    r = run()
    r["housed"]["persons"] = None
    r["unplaced"]["by_reason"] = {
        "units_taken": None,
        "rooms_taken_by_other_gender": 7,
        "funds_exhausted": None,
        "too_large": None,
    }
    text = " ".join(findings(r, "en"))
    assert "(<5 persons)" in text
    assert "for 7+ households every home within reach went to others" in text
    assert "<5 households are left out for lack of money" in text
    assert "<5 households can be taken by no home: <5 too small" in text


def test_a_run_in_error() -> None:
    assert findings({"name": "x", "status": "ERROR", "error": "boom"}, "en") == [
        "“x” was not solved: boom"
    ]
