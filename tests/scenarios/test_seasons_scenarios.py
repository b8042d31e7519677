"""Seasons and shuttles in what-if scenarios: the overrides on lines, the transport policy,
seasons and open months, their keys in a scenario file, and the Borgo Mezzanone example
run through the validator."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from matching.instance import INSTANCE_FORMAT_V2, Instance, Span, load_instance, parse_month
from matching.params import SolveParams
from matching.solve import solve
from matching.validate import validate
from scenarios.bundled import examples_dir
from scenarios.findings import report_findings
from scenarios.overrides import (
    DEFAULT_WALK_KM,
    AddLine,
    LineChange,
    OverrideError,
    RemoveLines,
    SeasonChange,
    TransportPolicy,
    UnitMonths,
    Zone,
)
from scenarios.report import csv_text, render_html
from scenarios.runner import run_scenarios
from scenarios.spec import ScenarioError, load_spec, parse_spec
from scenarios.synthetic import generate

EXAMPLE = "borgo-mezzanone-line"
STOPS = (("Borgo Mezzanone", 41.506, 15.628), ("Masseria Incoronata", 41.392, 15.628))


@pytest.fixture(scope="module")
def base() -> Instance:
    return load_instance(examples_dir() / f"{EXAMPLE}.json")


def test_add_line_makes_a_round_with_a_line_and_solves_valid(base: Instance) -> None:
    plain = generate("XS", 1)
    assert not plain.v2 and not plain.shuttles
    with_line = AddLine(line_id="L9", stops=STOPS, seats=4, monthly_cost_cents=100).apply(plain)
    assert with_line.format == INSTANCE_FORMAT_V2
    assert [s.id for s in with_line.shuttles[0].stops] == ["L9-S1", "L9-S2"]
    assert with_line.policy.walk_km == DEFAULT_WALK_KM
    assert with_line.policy.transport_budget_cents == 0
    # nothing else moved
    assert with_line.beneficiaries == plain.beneficiaries
    assert with_line.dwellings == plain.dwellings and with_line.funds == plain.funds
    result = solve(with_line, SolveParams(time_limit=10, seed=0))
    assert validate(with_line, result) == []
    assert result.lines_opened == ()  # no budget to open it
    with pytest.raises(OverrideError, match="already exists"):
        AddLine(line_id="L9", stops=STOPS).apply(with_line)


def test_line_change_remove_and_transport(base: Instance) -> None:
    inst = AddLine(line_id="L1", stops=STOPS, seats=16, monthly_cost_cents=300_000).apply(base)
    changed = LineChange(line_id="L1", seats=3, running=True).apply(inst)
    assert (changed.shuttles[0].seats, changed.shuttles[0].running) == (3, True)
    assert changed.shuttles[0].stops == inst.shuttles[0].stops
    moved = LineChange(line_id="L1", stops=STOPS[:1]).apply(inst)
    assert len(moved.shuttles[0].stops) == 1 and moved.shuttles[0].seats == 16
    with pytest.raises(OverrideError, match="unknown line 'L2'"):
        LineChange(line_id="L2", seats=3).apply(inst)
    assert RemoveLines(line_ids=("L1",)).apply(inst).shuttles == ()
    with pytest.raises(OverrideError, match="unknown line id"):
        RemoveLines(line_ids=("L7",)).apply(inst)
    t = TransportPolicy(transport_budget_cents=5_000_00, walk_km=2.0).apply(inst)
    assert (t.policy.transport_budget_cents, t.policy.walk_km) == (500_000, 2.0)
    assert t.policy.horizon == inst.policy.horizon


def test_seasons_stretch_and_shorten_within_the_horizon(base: Instance) -> None:
    h = base.policy.horizon
    assert h is not None
    longer = SeasonChange(later=4).apply(base)
    for before, after in zip(base.beneficiaries, longer.beneficiaries, strict=True):
        if before.stay is None:
            assert after.stay is None  # all year stays all year
        else:
            assert after.stay == Span(before.stay.first, min(h.last, before.stay.last + 4))
    shorter = SeasonChange(earlier=-5, later=-5).apply(base)
    for before, after in zip(base.beneficiaries, shorter.beneficiaries, strict=True):
        assert after.stay is not None and after.stay.months >= 1
        span = before.stay or h
        assert span.covers(after.stay)
    zone = Zone(name="Tressanti", lat=41.372, lon=15.600, radius_km=2.0)
    some = SeasonChange(later=1, zone=zone).apply(base)
    changed = [a.id for a, b in zip(some.beneficiaries, base.beneficiaries, strict=True) if a != b]
    assert changed and all(zone.contains(b) for b in some.beneficiaries if b.id in changed)
    with pytest.raises(OverrideError, match="no horizon"):
        SeasonChange(later=1).apply(generate("XS", 1))


def test_unit_months_open_a_foresteria_for_some_months(base: Instance) -> None:
    may, nov = parse_month("2027-05"), parse_month("2027-11")
    out = UnitMonths(unit_ids=("F-BM-FORESTERIA",), first=may, last=nov).apply(base)
    assert out.shared_flats[0].available == Span(may, nov)
    assert out.shared_flats[1:] == base.shared_flats[1:]
    with pytest.raises(OverrideError, match="not within the horizon"):
        UnitMonths(unit_ids=("F-BM-FORESTERIA",), first=may, last=nov + 3).apply(base)
    with pytest.raises(OverrideError, match="unknown unit"):
        UnitMonths(unit_ids=("F-NOPE",), first=may, last=nov).apply(base)


SPEC = """
[scenario]
name = "keys"
[base]
generate = {{ scale = "XS", seed = 1 }}
[variants.v]
{body}
"""


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (
            'overrides.add_line.L1 = { stops = ["Atlantide"], seats = 4, monthly_cost_eur = 1 }',
            "overrides.add_line.L1.stops[0]",
        ),
        (
            'overrides.add_line.L1 = { stops = ["Foggia"], seats = 0, monthly_cost_eur = 1 }',
            "overrides.add_line.L1.seats",
        ),
        (
            "overrides.add_line.L1 = { stops = [], seats = 4, monthly_cost_eur = 1 }",
            "overrides.add_line.L1.stops",
        ),
        ("overrides.line.L1 = {}", "overrides.line.L1"),
        ("overrides.transport = { budget_eur = -1 }", "overrides.transport.budget_eur"),
        ("overrides.seasons = { later = 99 }", "overrides.seasons.later"),
        (
            'overrides.unit_months = { units = ["F1"], from = "2027-13", to = "2027-10" }',
            "overrides.unit_months.from",
        ),
        ("overrides.remove_lines = []", "overrides.remove_lines"),
    ],
)
def test_bad_keys_are_named(body: str, where: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        parse_spec(SPEC.format(body=body))
    assert any(e.field == where for e in exc.value.errors), exc.value.errors


def test_the_borgo_mezzanone_example_runs_valid_and_the_line_buys_placements() -> None:
    spec = load_spec(examples_dir() / f"{EXAMPLE}.toml")
    with ThreadPoolExecutor(2) as ex:
        report = run_scenarios(spec, executor=ex, params=SolveParams(time_limit=10, seed=0))
    assert report.ok, report.errors  # every variant solved and passed the validator
    runs = {v["name"]: v for v in [report.base, *report.variants]}
    assert all(v["violations"] == {} for v in runs.values())
    housed = {name: v["housed"]["households"] for name, v in runs.items()}
    assert housed["line"] > housed["town"] > housed["base"]
    assert housed["line_no_budget"] == housed["base"]
    assert runs["line"]["transport"]["lines_opened"] == ["bm_farms"]
    assert runs["line"]["housed"]["households_by_line"]["bm_farms"] > 0
    assert runs["line_no_budget"]["transport"]["lines_opened"] == []
    # two proposed lines, budget for one: the engine opens the one that houses more
    two = runs["two_lines"]["transport"]
    assert len(two["lines_opened"]) == 1 and two["spent_cents"] <= two["budget_cents"]
    assert runs["two_lines"]["housed"]["households"] >= housed["line"]
    said = dict(report_findings(report.to_dict(), "en"))
    assert any(x.startswith("Shuttles opened: bm_farms (") for x in said["line"])
    assert "No proposed shuttle is opened." in said["line_no_budget"]
    html = render_html(report.to_dict())
    assert "Shuttle lines" in html and "households riding bm_farms" in html
    assert "transport.lines_opened" in csv_text(report.to_dict()).splitlines()[0]
