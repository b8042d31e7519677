"""Running scenarios: results, monotonicity, the Dask path, the report files, the API entry."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from matching.instance import Instance, save_instance
from matching.params import SolveParams
from matching.solve import solve
from matching.validate import Violation, validate
from scenarios import runner as runner_module
from scenarios.overrides import FundBudget
from scenarios.report import csv_text, render_html, write_report
from scenarios.runner import REPORT_FORMAT, ScenarioReport, run_scenario_text, run_scenarios
from scenarios.spec import ScenarioError, parse_spec
from scenarios.synthetic import generate
from tests.strategies import instances

PARAMS = SolveParams(time_limit=10.0, seed=0)
SPEC = """
[scenario]
name = "tiny"
description = "Every kind of override on a generated XS round."
time_limit = 10

[base]
generate = { scale = "XS", seed = 1 }

[variants.money]
description = "more on the regional fund"
sweep = { key = "funds.regional.add_eur", values = [0, 1000, 5000] }

[variants.beds]
overrides.add_shared_flats.foggia = { municipality = "Foggia", count = 2, rooms = 2, beds_per_room = 2 }

[variants.shuttle]
overrides.commute = { extra_km = 15, zone = { place = "Borgo Mezzanone", radius_km = 15 } }

[variants.afford]
sweep = { key = "policy.affordability_ratio", values = [0.25, 0.35] }

[variants.victims_first]
overrides.priority = { add = { exploitation_victim = 5 } }
overrides.remove_units = ["D00001"]
"""  # noqa: E501


def without_timings(data: Any) -> Any:
    """The report data without wall-clock figures (they differ from run to run)."""
    if isinstance(data, dict):
        return {
            k: without_timings(v)
            for k, v in data.items()
            if k not in ("solve_seconds", "wall_seconds", "created", "executor")
        }
    if isinstance(data, list):
        return [without_timings(v) for v in data]
    return data


@pytest.fixture(scope="module")
def report() -> ScenarioReport:
    spec = parse_spec(SPEC)
    seen: list[tuple[int, int, str]] = []
    with ThreadPoolExecutor(2) as pool:
        out = run_scenarios(
            spec,
            executor=pool,
            params=PARAMS,
            progress=lambda d, n, name: seen.append((d, n, name)),
        )
    assert [d for d, _, _ in seen] == list(range(1, 10))
    assert {n for _, n, _ in seen} == {9}
    assert sorted(name for _, _, name in seen) == sorted(["base", *[v.name for v in spec.variants]])
    return out


def test_every_variant_is_solved_and_valid(report: ScenarioReport) -> None:
    data = report.to_dict()
    assert data["format"] == REPORT_FORMAT and data["ok"] and data["errors"] == []
    names = [v["name"] for v in data["variants"]]
    assert names == [
        "money[0]",
        "money[1000]",
        "money[5000]",
        "beds",
        "shuttle",
        "afford[0.25]",
        "afford[0.35]",
        "victims_first",
    ]
    base = generate("XS", 1)
    for v in [data["base"], *data["variants"]]:
        assert v["status"] == "OPTIMAL" and v["gap"] == 0.0 and v["violations"] == {}
        res = report.results[v["name"]]
        inst = (
            next(s for s in report.spec.variants if s.name == v["name"]).build(base)
            if v["name"] != "base"
            else base
        )
        assert validate(inst, res) == []
        assert v["housed"]["households"] == len(res.assignments)
        assert v["housed"]["persons"] == sum(
            inst.beneficiary(a.beneficiary).persons for a in res.assignments
        )
        assert v["housed"]["persons"] + v["unplaced"]["persons"] == v["totals"]["persons"]
        assert sum(v["unplaced"]["by_reason"].values()) == v["unplaced"]["households"]
        assert sum(v["housed"]["persons_by_gender"].values()) == v["housed"]["persons"]
        assert sum(v["housed"]["persons_by_household_type"].values()) == v["housed"]["persons"]
        money = v["money"]
        assert money["committed_cents"] == money["contribution_cents_per_month"] * 12
        assert sum(f["used_cents"] for f in money["funds"].values()) == money["committed_cents"]
        assert all(f["used_cents"] <= f["budget_cents"] for f in money["funds"].values())
        assert sum(v["commute"]["histogram"]["households"]) == v["housed"]["households"]


def test_differences_against_the_base(report: ScenarioReport) -> None:
    data = report.to_dict()
    by_name = {v["name"]: v for v in data["variants"]}
    assert by_name["money[0]"]["difference"] == {}  # adding nothing changes nothing
    assert without_timings(
        {
            k: v
            for k, v in by_name["money[0]"].items()
            if k not in ("name", "group", "overrides", "sweep", "description", "difference")
        }
    ) == without_timings(
        {
            k: v
            for k, v in data["base"].items()
            if k not in ("name", "group", "overrides", "sweep", "description")
        }
    )
    beds = by_name["beds"]
    assert beds["difference"]["totals.beds"] == 8
    assert beds["difference"]["totals.shared_flats"] == 2
    money = by_name["money[5000]"]
    assert money["difference"]["totals.budget_cents"] == 500_000
    assert money["difference"].get("housed.persons", 0) == (
        money["housed"]["persons"] - data["base"]["housed"]["persons"]
    )
    assert by_name["money[5000]"]["sweep"] == {"key": "funds.regional.add_eur", "value": "5000"}
    assert by_name["victims_first"]["difference"]["totals.dwellings"] == -1


def test_weight_never_falls_with_more_money(report: ScenarioReport) -> None:
    data = report.to_dict()
    weights = [v["weight"] for v in data["variants"] if v["group"] == "money"]
    assert weights == sorted(weights)


PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(instances(max_beneficiaries=6, max_dwellings=3, max_flats=2, pins=False))
def test_at_optimality_a_larger_budget_never_houses_fewer_persons(inst: Instance) -> None:
    """With every priority 1 and the objective in persons, weight is persons housed.

    (With other priorities the engine maximises priority-weighted persons, and more money
    may place two high-priority persons instead of three others: the weight never falls,
    the head count may.) Funds start empty and commutes generous, so money binds.
    """
    flat = inst.replace(
        beneficiaries=tuple(
            dataclasses.replace(b, priority=1, max_commute_km=25.0) for b in inst.beneficiaries
        ),
        funds=tuple(dataclasses.replace(f, budget_cents=0) for f in inst.funds),
        policy=dataclasses.replace(inst.policy, objective_unit="persons"),
    )
    params = SolveParams(time_limit=10.0, seed=0)
    previous: int | None = None
    for budget in (0, 150_000, 400_000, 1_500_000):
        variant = FundBudget(fund_id=flat.funds[0].id, op="set", cents=budget).apply(flat)
        res = solve(variant, params)
        assert validate(variant, res) == []
        assert res.status == "OPTIMAL"
        persons = sum(variant.beneficiary(a.beneficiary).persons for a in res.assignments)
        assert persons == res.objective.weight
        assert previous is None or persons >= previous
        previous = persons


def test_a_violation_is_a_hard_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Violation("fund_over_budget", "B00001", None, "B00001 over budget")
    monkeypatch.setattr(runner_module, "validate", lambda inst, res: [fake])
    spec = parse_spec(
        '[base]\ngenerate = { scale = "XS", seed = 2 }\n[variants.a]\n'
        "overrides.policy.contribution_months = 6\n"
    )
    with ThreadPoolExecutor(1) as pool:
        rep = run_scenarios(spec, executor=pool, params=PARAMS)
    assert not rep.ok
    assert rep.errors == [
        "base: the result breaks the spec (fund_over_budget x1)",
        "a: the result breaks the spec (fund_over_budget x1)",
    ]
    assert "B00001" not in json.dumps(rep.to_dict())


def test_a_crashed_variant_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(inst: Instance, params: SolveParams | None = None) -> Any:
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(runner_module, "solve", boom)
    spec = parse_spec(
        '[base]\ngenerate = { scale = "XS", seed = 2 }\n[variants.a]\n'
        "overrides.policy.contribution_months = 6\n"
    )
    with ThreadPoolExecutor(1) as pool:
        rep = run_scenarios(spec, executor=pool, params=PARAMS)
    assert rep.errors == ["base: RuntimeError: solver exploded", "a: RuntimeError: solver exploded"]
    assert rep.to_dict()["variants"][0]["status"] == "ERROR"
    render_html(rep.to_dict())  # still renders


def test_override_that_does_not_fit_the_base_stops_before_solving() -> None:
    spec = parse_spec(
        '[base]\ngenerate = { scale = "XS", seed = 2 }\n[variants.a]\n'
        'overrides.remove_units = ["NOPE"]\n'
    )
    with pytest.raises(ScenarioError, match=r'variant "a": overrides\.remove_units: unknown'):
        run_scenarios(spec, executor=ThreadPoolExecutor(1), params=PARAMS)


# --------------------------------------------------------------------------- report files


def test_report_files_render_without_identities(report: ScenarioReport, tmp_path: Path) -> None:
    data = report.to_dict()
    paths = write_report(data, tmp_path)
    assert set(paths) == {"json", "csv", "html", "budget_vs_persons", "commute", "unplaced"}
    loaded = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert loaded == json.loads(json.dumps(data))
    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text(encoding="utf-8"))))
    assert [r["name"] for r in rows] == ["base", *[v["name"] for v in data["variants"]]]
    assert rows[0]["housed.persons"] == str(data["base"]["housed"]["persons"])
    assert "difference.totals.beds" in rows[0]
    html = paths["html"].read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 3
    assert "<script" not in html and "http://" not in html and "https://" not in html
    for name in ("budget_vs_persons", "commute", "unplaced"):
        assert paths[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Borgo Mezzanone" in html and "money[5000]" in html
    # the findings of every run in plain words, in Italian and in English
    for lang, word in (("it", "Alloggia"), ("en", "It houses")):
        section = html.split(f'id="findings-{lang}"')[1].split("</section>")[0]
        assert section.count(word) == len(data["variants"]) + 1
        for v in data["variants"]:
            assert f"<strong>{v['name']}</strong>" in section
    cut = json.loads(json.dumps(data))
    cut["variants"][0]["status"] = "FEASIBLE"
    warned = render_html(cut, {})
    assert 'id="time-limit-warning"' in warned and cut["variants"][0]["name"] in warned
    assert ('id="time-limit-warning"' in html) == any(
        v["status"] not in ("OPTIMAL", "ERROR") for v in [data["base"], *data["variants"]]
    )
    # no household is identified anywhere
    base = generate("XS", 1)
    texts = [paths[k].read_text(encoding="utf-8") for k in ("json", "csv", "html")]
    for b in base.beneficiaries:
        for text in texts:
            assert b.id not in text
    assert "beneficiary" not in texts[0]


def test_csv_of_a_report_with_an_error() -> None:
    rows = list(
        csv.DictReader(
            io.StringIO(
                csv_text(
                    {
                        "base": {
                            "name": "base",
                            "group": "base",
                            "status": "ERROR",
                            "error": "boom",
                        },
                        "variants": [],
                    }
                )
            )
        )
    )
    assert rows == [{"name": "base", "group": "base", "status": "ERROR", "error": "boom"}]


# --------------------------------------------------------------------------- executors


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    from distributed import LocalCluster

    c = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        yield str(c.scheduler_address)
    finally:
        c.close()


@pytest.mark.slow
def test_dask_path_equals_local_processes(cluster: str) -> None:
    spec = parse_spec("""
[base]
generate = { scale = "XS", seed = 3 }
[variants.money]
sweep = { key = "funds.victims.add_eur", values = [500, 5000] }
[variants.shuttle]
overrides.commute = { extra_km = 10, zone = { place = "Foggia", radius_km = 20 } }
""")
    local = run_scenarios(spec, params=PARAMS, workers=2)
    with runner_module.dask_executor(cluster) as executor:
        remote = run_scenarios(spec, executor=executor, params=PARAMS, executor_name="dask")
    assert local.ok and remote.ok
    for v in [local.base, *local.variants]:
        assert v["status"] == "OPTIMAL"
    assert without_timings(remote.to_dict()) == without_timings(local.to_dict())
    for name, res in local.results.items():
        assert remote.results[name].assignments == res.assignments
    assert local.provenance["executor"].startswith("local processes")
    assert remote.provenance["executor"] == "dask"


# --------------------------------------------------------------------------- API entry


def test_run_scenario_text_returns_aggregates_only(tmp_path: Path) -> None:
    inst = generate("XS", 4)
    save_instance(inst, tmp_path / "round.json")
    text = (
        '[scenario]\nname = "uploaded"\n[base]\ninstance = "round.json"\n'
        "[variants.more]\noverrides.funds.regional.add_eur = 2000\n"
    )
    with ThreadPoolExecutor(2) as pool:
        data = run_scenario_text(text, tmp_path, executor=pool, time_limit=5.0)
    assert data["ok"] and data["scenario"]["name"] == "uploaded"
    assert data["provenance"]["time_limit"] == 5.0
    assert data["scenario"]["base"] == {"kind": "instance", "path": "round.json"}
    dumped = json.dumps(data)
    assert all(b.id not in dumped for b in inst.beneficiaries)
    assert data["provenance"]["base_instance_sha256"] == data["base"]["instance_sha256"]


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ('instance = "../outside.json"', "base: instance: '../outside.json' is outside"),
        ('instance = "/etc/passwd"', "base: instance: '/etc/passwd' is outside"),
        ('agency = { database_url = "postgresql://x/y" }', "base: agency.database_url: may not"),
    ],
)
def test_run_scenario_text_refuses_what_an_upload_may_not_name(
    tmp_path: Path, base: str, expected: str
) -> None:
    text = f"[base]\n{base}\n[variants.a]\noverrides.policy.contribution_months = 6\n"
    with pytest.raises(ScenarioError) as exc:
        run_scenario_text(text, tmp_path / "uploads")
    assert any(expected in str(e) for e in exc.value.errors), exc.value.errors


def test_provenance_records_how_to_reproduce(report: ScenarioReport) -> None:
    p = report.to_dict()["provenance"]
    assert p["seed"] == 0 and p["time_limit"] == 10.0
    assert p["package_version"] not in ("", "unknown") and p["ortools_version"] != "unknown"
    assert len(p["scenario_sha256"]) == 64 and len(p["base_instance_sha256"]) == 64
    from scenarios.summary import instance_sha256

    assert p["base_instance_sha256"] == instance_sha256(generate("XS", 1))
    assert report.to_dict()["scenario"]["file_sha256"] == p["scenario_sha256"]


def test_the_priority_policies_example_prices_each_policy() -> None:
    """The shipped example: every variant valid (the runner validates each result); the
    strict mode, the household count and the floor each weigh no more than the default on
    its own measure, and each is proven optimal."""
    from scenarios.spec import load_spec

    spec = load_spec(
        Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "priority-policies.toml"
    )
    report = run_scenarios(spec, executor=ThreadPoolExecutor(max_workers=1))
    assert report.ok, report.errors
    rows = {v["name"]: v for v in [report.base, *report.variants]}
    assert set(rows) == {"base", "strict", "households", "victims_floor"}
    for name, row in rows.items():
        assert (row["status"], row["violations"]) == ("OPTIMAL", {}), name
    # the default's weight is the most any allocation weighs by persons x priority
    assert rows["strict"]["weight"] <= rows["base"]["weight"]
    assert rows["victims_floor"]["weight"] <= rows["base"]["weight"]
    assert "policy: priority mode strict" in rows["strict"]["overrides"]
