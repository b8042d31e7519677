"""Issue 17, item 18: a report on the agency's own data shows no count of 1 to 4."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from scenarios.disclosure import COUNT_SECTIONS, suppress_small_counts
from tests.agency.factories import foggia_round_data
from tests.scenarios.test_agency_base import run_on_agency_data


def _counts(node: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in _counts(v, f"{path}.{k}" if path else k)]
    if isinstance(node, list):
        return [x for v in node for x in _counts(v, path)]
    return [(path, node)]


def test_small_counts_of_the_agencys_people_are_suppressed(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as s:
        foggia_round_data(s)  # six households: most counts by tag or gender are 1 or 2
    report = run_on_agency_data(engine, tmp_path)
    assert report["suppressed_below"] == 5
    hidden = 0
    for run in [report["base"], *report["variants"]]:
        for section in COUNT_SECTIONS:
            for path, value in _counts(run[section], section):
                if isinstance(value, int) and not isinstance(value, bool):
                    assert value == 0 or value >= 5, (path, value)
                hidden += value is None
        for key, value in (run.get("difference") or {}).items():
            assert not (
                isinstance(value, int)
                and 0 < abs(value) < 5
                and key.split(".")[0] in COUNT_SECTIONS
            ), (key, value)
    assert hidden, "some counts were small enough to hide"
    json.dumps(report)


def test_a_generated_base_keeps_its_counts() -> None:
    """Invented households point at nobody: only agency data is suppressed (the caller
    decides); the function itself hides 1 to 4 and keeps 0 and 5."""
    run = {
        "housed": {"households": 1, "persons": 5, "persons_by_tag": {"a": 0, "b": 4}},
        "unplaced": {"by_reason": {"units_taken": 2}},
        "totals": {"households": 3},
    }
    out = suppress_small_counts(
        {
            "base": run,
            "variants": [
                {**run, "difference": {"housed.households": 1, "money.committed_cents": 3}}
            ],
        }
    )
    assert out["base"]["housed"] == {
        "households": None,
        "persons": 5,
        "persons_by_tag": {"a": 0, "b": None},
    }
    assert out["base"]["totals"]["households"] is None
    assert out["variants"][0]["difference"] == {"money.committed_cents": 3}
