"""Every scenario variant is audited, and the report shows it as aggregates only: the
groups' rates with small counts as "<5", the priority inversions counted by why they
stand, never a household's id, pseudonym or name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.models import Beneficiary, Dwelling
from scenarios.report import csv_text, render_html
from scenarios.runner import run_scenario_text
from tests.agency.factories import dwelling, fund, household, office
from tests.scenarios.test_agency_base import run_on_agency_data

GENERATED = """
[scenario]
name = "audited"
time_limit = 10

[base]
generate = { scale = "XS", seed = 7 }

[variants.less_money]
overrides.funds.regional = { scale = 0.2 }
"""


def _texts(report: dict[str, Any]) -> str:
    return "\n".join(
        (json.dumps(report, ensure_ascii=False), csv_text(report), render_html(report, {}))
    )


def test_every_variant_is_audited_in_the_report(tmp_path: Path) -> None:
    report = run_scenario_text(GENERATED, tmp_path)
    assert report["ok"], report.get("errors")
    runs = [report["base"], *report["variants"]]
    for run in runs:
        audit = run["audit"]
        assert "inversions" not in audit  # counted, never listed
        dims = {g["dimension"] for g in audit["groups"]}
        assert {"gender", "household"} <= dims
        for g in audit["groups"]:
            if isinstance(g["waiting"], int) and g["waiting"] >= 5:
                assert 0.0 <= g["rate"] <= 1.0
                assert g["flagged"] == (g["ratio_to_best"] < 0.8)
            else:
                assert g["rate"] is None
        total = sum(n for c in audit["inversion_counts"].values() for n in c.values())
        assert total == audit["inversions_total"]
    html = render_html(report, {})
    assert 'id="audit"' in html and "ratio to best" in html
    csv = csv_text(report)
    assert "audit.inversions_total" in csv and "audit.gender.M.rate" in csv


def test_no_name_reaches_a_planners_report(engine: Engine, tmp_path: Path) -> None:
    """On the agency's data, with an inversion of priority (a victim of exploitation left
    out while a family of lower priority gets the one home): the report says there is
    one (suppressed: fewer than 5) and never who."""
    with Session(engine) as s:
        off = office(s)
        household(s, off, 1, tags=["exploitation_victim"], informal_settlement="Borgo", priority=8)
        household(s, off, 2, adults=2, minors=2, income_cents=110000, priority=3)
        for n in range(3, 9):
            household(s, off, n, gender="F" if n % 2 else "M", accepts_dwelling=False)
        dwelling(s, off, area_m2=75, bedrooms=3, rent_cents=45000)
        fund(s, "regional", 1_000_000)
        fund(s, "victims", 300_000, ("exploitation_victim",))
        s.commit()
        secrets = {b.ref for b in s.exec(select(Beneficiary))} | {
            n for b in s.exec(select(Beneficiary)) for n in (b.given_name, b.family_name)
        }
        secrets |= {d.ref for d in s.exec(select(Dwelling))}
    report = run_on_agency_data(engine, tmp_path)
    assert report["ok"], report.get("errors")
    text = _texts(report)
    assert not any(x in text for x in secrets), "the report names someone"
    # nor the snapshot's pseudonyms (H0001…, D0001…)
    assert "H0001" not in text and "D0001" not in text
    audit = report["base"]["audit"]
    assert "inversions" not in audit
    # one inversion (the victim left out, the family housed): a count under 5, hidden
    assert audit["inversions_total"] is None
    assert audit["inversion_counts"]["left_out"] == {"weight": None}
    groups = {(g["dimension"], g["group"]): g for g in audit["groups"]}
    # a victim's tag is protected data: planners never see it, not even as a group
    assert ("tag", "exploitation_victim") not in groups
    assert groups["gender", "M"]["waiting"] == 5 and groups["gender", "M"]["rate"] == 0.2
    assert report["suppressed_below"] == 5


def test_the_findings_name_the_groups_flagged_and_the_inversions() -> None:
    from scenarios.findings import findings

    run = {
        "status": "OPTIMAL",
        "housed": {"households": 10, "persons": 12},
        "totals": {"households": 20},
        "money": {"contribution_cents_per_month": 0, "funds": {}},
        "unplaced": {"by_reason": {}},
        "audit": {
            "groups": [
                {"dimension": "gender", "group": "F", "rate": 0.9, "flagged": False},
                {"dimension": "gender", "group": "M", "rate": 0.5, "flagged": True},
            ],
            "inversion_counts": {
                "left_out": {"weight": 3, "funds_exhausted": None},
                "placed_worse": {"weight": 4},
            },
            "inversions_total": 9,
        },
    }
    en = " ".join(findings(run, "en"))
    assert "Under four fifths of the best-served group: gender M (50% placed)." in en
    assert "9 priority inversions" in en and "priority weight 7 and funds spent <5" in en
    it = " ".join(findings(run, "it"))
    assert "Sotto i quattro quinti" in it and "peso di priorità 7 e fondi esauriti <5" in it
