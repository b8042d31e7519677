"""Tests of the ``housing`` command line (``housing.cli.app``) through Typer's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from housing.cli import app
from matching.explain import REASON_TEXT, REASONS
from matching.instance import load_instance
from matching.result import load_result
from matching.validate import validate


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def flat_text(result: Result) -> str:
    """Everything printed (stdout and stderr), with whitespace runs collapsed."""
    return " ".join(result.output.split())


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    # rich wraps at the terminal width (80 under the runner); keep messages on one line
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``generate --scale XS --seed 1`` then ``solve``: (instance file, result file)."""
    d = tmp_path_factory.mktemp("cli")
    inst_path, res_path = d / "f.json", d / "r.json"
    gen = invoke("generate", "--scale", "XS", "--seed", "1", "-o", inst_path)
    assert gen.exit_code == 0, gen.output
    out = invoke("solve", inst_path, "-o", res_path, "--time-limit", "10")
    assert out.exit_code == 0, out.output
    return inst_path, res_path


def test_generate_writes_a_loadable_instance(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    res = invoke("generate", "--scale", "XS", "--seed", "1", "-o", path)
    assert res.exit_code == 0, res.output
    inst = load_instance(path)
    assert (len(inst.beneficiaries), len(inst.dwellings), len(inst.shared_flats)) == (30, 12, 3)
    assert inst.name == "synthetic-XS-seed1"
    assert "30 households" in flat_text(res)


def test_generate_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert invoke("generate", "--scale", "XS", "--seed", "1", "-o", a).exit_code == 0
    assert invoke("generate", "--scale", "xs", "--seed", "1", "-o", b).exit_code == 0
    assert a.read_text() == b.read_text()


def test_generate_unknown_scale_exits_2(tmp_path: Path) -> None:
    res = invoke("generate", "--scale", "XXL", "-o", tmp_path / "f.json")
    assert res.exit_code == 2
    assert "scale" in flat_text(res)
    assert not (tmp_path / "f.json").exists()


def test_solve_writes_a_valid_result(solved: tuple[Path, Path]) -> None:
    inst_path, res_path = solved
    inst, res = load_instance(inst_path), load_result(res_path)
    assert validate(inst, res) == []
    assert res.status in ("OPTIMAL", "FEASIBLE")
    ids = {a.beneficiary for a in res.assignments} | {u.beneficiary for u in res.unassigned}
    assert ids == {b.id for b in inst.beneficiaries}
    assert res.assignments and res.unassigned
    assert all(set(u.reasons) <= set(REASONS) for u in res.unassigned)


def test_solve_prints_the_summary(tmp_path: Path, solved: tuple[Path, Path]) -> None:
    inst_path, _ = solved
    out = tmp_path / "sub" / "r.json"  # the parent folder is created
    res = invoke("solve", inst_path, "-o", out, "--time-limit", "10", "--seed", "3")
    assert res.exit_code == 0, res.output
    text = flat_text(res)
    assert "status" in text and "households placed" in text
    assert f"result written to {out}" in text
    assert validate(load_instance(inst_path), load_result(out)) == []


def test_validate_command_accepts_the_result(solved: tuple[Path, Path]) -> None:
    inst_path, res_path = solved
    res = invoke("validate", inst_path, res_path)
    assert res.exit_code == 0, res.output
    assert "valid" in flat_text(res)


def tamper(src: Path, dst: Path, change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(src.read_text(encoding="utf-8"))
    change(data)
    dst.write_text(json.dumps(data), encoding="utf-8")
    return data


def test_validate_command_rejects_a_tampered_contribution(
    tmp_path: Path, solved: tuple[Path, Path]
) -> None:
    inst_path, res_path = solved
    bad = tmp_path / "bad.json"

    def raise_first_paid(data: dict[str, Any]) -> None:
        a = next(a for a in data["assignments"] if a["contribution_cents"] > 0)
        a["contribution_cents"] += 1
        data["objective"]["contribution_cents"] += 1

    data = tamper(res_path, bad, raise_first_paid)
    who = next(a for a in data["assignments"] if a["fund"] is not None)["beneficiary"]
    res = invoke("validate", inst_path, bad)
    assert res.exit_code == 1
    text = flat_text(res)
    a = next(a for a in data["assignments"] if a["beneficiary"] == who)
    assert (
        f"beneficiary {who}, unit {a['unit']}: reported contribution_cents "
        f"{a['contribution_cents']}, recomputed {a['contribution_cents'] - 1}"
    ) in text
    assert f"reported contribution_cents {data['objective']['contribution_cents']}" in text
    assert "2 violation(s)" in text
    assert validate(load_instance(inst_path), load_result(bad)) != []


def test_validate_command_rejects_a_missing_beneficiary(
    tmp_path: Path, solved: tuple[Path, Path]
) -> None:
    inst_path, res_path = solved
    bad = tmp_path / "bad.json"
    data = tamper(res_path, bad, lambda d: d["unassigned"].pop(0))
    gone = json.loads(res_path.read_text())["unassigned"][0]["beneficiary"]
    assert all(u["beneficiary"] != gone for u in data["unassigned"])
    res = invoke("validate", inst_path, bad)
    assert res.exit_code == 1
    assert f"beneficiary {gone}: appears in neither assignments nor unassigned" in flat_text(res)


def test_validate_command_prints_the_violation_code(
    tmp_path: Path, solved: tuple[Path, Path]
) -> None:
    inst_path, res_path = solved
    bad = tmp_path / "bad.json"
    tamper(res_path, bad, lambda d: d["unassigned"].pop(0))
    res = invoke("validate", inst_path, bad)
    assert res.exit_code == 1
    assert "[beneficiary_missing]" in flat_text(res)


def test_solve_invalid_room_names_the_room_field(tmp_path: Path, solved: tuple[Path, Path]) -> None:
    inst_path, _ = solved
    data = json.loads(inst_path.read_text(encoding="utf-8"))
    data["shared_flats"][0]["rooms"][0] = {"id": "r1", "beds": 0}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    res = invoke("solve", bad, "--time-limit", "10")
    assert res.exit_code == 2
    fid = data["shared_flats"][0]["id"]
    assert f"shared_flat {fid}: rooms[r1].beds: must be at least 1, got 0" in flat_text(res)


def test_validate_command_unreadable_result_exits_2(
    tmp_path: Path, solved: tuple[Path, Path]
) -> None:
    inst_path, _ = solved
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert invoke("validate", inst_path, bad).exit_code == 2
    assert invoke("validate", inst_path, tmp_path / "missing.json").exit_code == 2


def test_explain_unassigned_prints_the_reasons(solved: tuple[Path, Path]) -> None:
    _, res_path = solved
    result = load_result(res_path)
    u = result.unassigned[0]
    res = invoke("explain", res_path, u.beneficiary)
    assert res.exit_code == 0, res.output
    text = flat_text(res)
    assert f"{u.beneficiary} was not placed" in text
    for code in u.reasons:
        assert f"{code}: {' '.join(REASON_TEXT[code].split())}" in text


def test_explain_units_taken_names_the_holders(solved: tuple[Path, Path]) -> None:
    _, res_path = solved
    result = load_result(res_path)
    u = next(x for x in result.unassigned if "units_taken" in x.reasons)
    res = invoke("explain", res_path, u.beneficiary)
    assert res.exit_code == 0, res.output
    item = u.details["taken"][0]
    assert f"{item['unit']} went to {item['by'][0]} (weight {item['weights'][0]})" in flat_text(res)


def test_explain_placed_prints_the_unit(solved: tuple[Path, Path]) -> None:
    _, res_path = solved
    a = load_result(res_path).assignments[0]
    res = invoke("explain", res_path, a.beneficiary)
    assert res.exit_code == 0, res.output
    text = flat_text(res)
    assert f"{a.beneficiary} is placed in {a.unit}" in text
    if a.room is not None:
        assert f"room {a.room}" in text


def test_explain_without_id_explains_every_unplaced(solved: tuple[Path, Path]) -> None:
    _, res_path = solved
    result = load_result(res_path)
    res = invoke("explain", res_path)
    assert res.exit_code == 0, res.output
    text = flat_text(res)
    assert text.count("was not placed") == len(result.unassigned)
    assert "is placed in" not in text


def test_explain_unknown_id_exits_2(solved: tuple[Path, Path]) -> None:
    _, res_path = solved
    res = invoke("explain", res_path, "NOPE")
    assert res.exit_code == 2
    assert "NOPE is not in this result" in flat_text(res)


def test_solve_invalid_instance_exits_2_naming_record_and_field(
    tmp_path: Path, solved: tuple[Path, Path]
) -> None:
    inst_path, _ = solved
    data = json.loads(inst_path.read_text(encoding="utf-8"))
    data["beneficiaries"][1]["income_cents"] = -5
    data["dwellings"][0]["area_m2"] = "big"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "r.json"
    res = invoke("solve", bad, "-o", out, "--time-limit", "10")
    assert res.exit_code == 2
    text = flat_text(res)
    bid, did = data["beneficiaries"][1]["id"], data["dwellings"][0]["id"]
    assert f"beneficiary {bid}: income_cents: must be at least 0, got -5" in text
    assert f"dwelling {did}: area_m2: must be a number" in text
    assert "2 error(s)" in text
    assert not out.exists()


def test_solve_unreadable_instance_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": ', encoding="utf-8")
    assert invoke("solve", bad, "--time-limit", "10").exit_code == 2
    assert invoke("solve", tmp_path / "missing.json", "--time-limit", "10").exit_code == 2


@pytest.mark.parametrize(
    ("option", "value", "name"),
    [
        ("--time-limit", "0", "time_limit"),
        ("--time-limit", "-1", "time_limit"),
        ("--workers", "0", "workers"),
        ("--seed", "-1", "seed"),
    ],
)
def test_solve_bad_option_exits_2_naming_it(
    tmp_path: Path, solved: tuple[Path, Path], option: str, value: str, name: str
) -> None:
    inst_path, _ = solved
    out = tmp_path / "r.json"
    res = invoke("solve", inst_path, "-o", out, option, value)
    assert res.exit_code == 2
    assert name in flat_text(res)
    assert not out.exists()


def test_bench_refuses_an_unknown_solver(tmp_path: Path) -> None:
    res = invoke(
        "bench", "--scale", "XS", "--seeds", "1", "--solvers", "cp-sat,magic", "-o", tmp_path / "b"
    )
    assert res.exit_code == 2
    assert "solvers: unknown magic" in flat_text(res)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    ("mutate", "record", "field"),
    [
        (lambda d: d["beneficiaries"][0].update(adults=2**63), "beneficiary", "adults"),
        (lambda d: d["beneficiaries"][0].update(income_cents=2**63), "beneficiary", "income_cents"),
        (lambda d: d["dwellings"][0].update(area_m2=2**63), "dwelling", "area_m2"),
        (lambda d: d.pop("policy"), "instance", "policy"),
        (lambda d: d["policy"].update(affordability_ratio=None), "policy", "affordability_ratio"),
    ],
    ids=["adults", "income", "area", "no-policy", "null-ratio"],
)
def test_regression_out_of_range_numbers_exit_2_and_write_nothing(
    solved: tuple[Path, Path],
    tmp_path: Path,
    mutate: Callable[[dict[str, Any]], object],
    record: str,
    field: str,
) -> None:
    data = json.loads(solved[0].read_text(encoding="utf-8"))
    mutate(data)
    bad, out = tmp_path / "bad.json", tmp_path / "r.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    res = invoke("solve", bad, "-o", out)
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert record in flat_text(res) and field in flat_text(res)
    assert not out.exists()


def test_regression_a_file_that_is_not_utf8_exits_2(
    solved: tuple[Path, Path], tmp_path: Path
) -> None:
    bad, out = tmp_path / "latin1.json", tmp_path / "r.json"
    bad.write_bytes(
        solved[0]
        .read_text(encoding="utf-8")
        .replace('"name": "synthetic', '"name": "Cerignola è synthetic')
        .encode("latin-1")
    )
    res = invoke("solve", bad, "-o", out)
    assert res.exit_code == 2, res.output
    assert "not UTF-8" in flat_text(res)
    assert not out.exists()


def test_a_limit_too_short_for_the_whole_run_is_said_and_timed(
    solved: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    res = invoke("solve", solved[0], "-o", out, "--time-limit", "0.001")
    assert res.exit_code == 0, res.output
    assert "could not be kept" in flat_text(res)
    result = load_result(out)
    assert validate(load_instance(solved[0]), result) == []
    # the time actually used is recorded, reading included
    assert result.solve_seconds > 0.001
    assert result.timings["read"] > 0 and result.timings["total"] >= result.timings["read"]


def test_summary_never_indexes_an_empty_list_of_reasons() -> None:
    from housing.cli import summary_table
    from matching.instance import Beneficiary, Instance, Point, Policy
    from matching.result import Objective, Result, Unassigned

    b = Beneficiary("B1", 1, 0, "M", 0, Point(41.4, 15.5), 1.0, False, 1, ("bed",), ())
    inst = Instance("r", Policy(), (), (b,), (), ())
    res = Result("r", "FEASIBLE", Objective(0, 0, 0.0, 0), 1, (), (Unassigned("B1", ()),), 0.1)
    table = summary_table(inst, res)
    assert table.row_count > 0


def test_solve_takes_engine_parameters_from_a_file_and_records_them(
    solved: tuple[Path, Path], tmp_path: Path
) -> None:
    params, out = tmp_path / "p.toml", tmp_path / "r.json"
    params.write_text("[stage]\nlp_share = 0.2\n[pricing]\nmin_pairs = 0\n", encoding="utf-8")
    res = invoke("solve", solved[0], "-o", out, "--params", params, "--time-limit", "10")
    assert res.exit_code == 0, res.output
    record = json.loads(out.read_text(encoding="utf-8"))["engine"]
    assert record["params"]["stage"]["lp_share"] == 0.2
    assert record["strategy"] == "priced"
    bad = tmp_path / "bad.toml"
    bad.write_text("[stage]\nlp_share = 2\n", encoding="utf-8")
    res = invoke("solve", solved[0], "--params", bad)
    assert res.exit_code == 2 and "stage.lp_share" in flat_text(res)


def test_bench_runs_on_instance_files_and_variants(
    solved: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "bench"
    res = invoke(
        "bench",
        "--instance",
        solved[0],
        "--scale",
        "XS:seasonal",
        "--seeds",
        "1",
        "--time-limit",
        "10",
        "--solvers",
        "cp-sat,greedy",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.output
    rows = json.loads((out / "bench.json").read_text(encoding="utf-8"))["runs"]
    assert {r["scale"] for r in rows} == {str(solved[0]), "XS:seasonal"}
    assert all(r["valid"] for r in rows)
    bad = invoke("bench", "--instance", tmp_path / "missing.json", "-o", out)
    assert bad.exit_code == 2 and "not a .json instance file" in flat_text(bad)
    bad = invoke("bench", "--scale", "S:winter", "-o", out)
    assert bad.exit_code == 2 and "S:winter" in flat_text(bad)


def test_solve_in_parts_on_two_local_workers(tmp_path: Path) -> None:
    """``--part-workers 2``: a round solved in parts (forced here by the parameters'
    file), two parts at a time on a local Dask cluster; the result is valid."""
    inst_path, res_path = tmp_path / "s.json", tmp_path / "r.json"
    assert invoke("generate", "--scale", "S", "--seed", "3", "-o", inst_path).exit_code == 0
    params = tmp_path / "parts.toml"
    params.write_text("[decompose]\nmin_cells = 1\npart_pairs = 300\n", encoding="utf-8")
    out = invoke(
        "solve",
        inst_path,
        "--params",
        params,
        "--part-workers",
        "2",
        "--time-limit",
        "20",
        "-o",
        res_path,
    )
    assert out.exit_code == 0, out.output
    inst, res = load_instance(inst_path), load_result(res_path)
    assert validate(inst, res) == []
    assert res.engine["decomposition"]["workers"] == 2
    assert res.engine["params"]["decompose"]["workers"] == 2


def test_solve_with_an_unreachable_scheduler_exits_2(
    tmp_path: Path, solved: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from contextlib import contextmanager

    import scenarios.cluster as cluster

    @contextmanager
    def refuse(workers: int = 0, address: str | None = None):  # type: ignore[no-untyped-def]
        raise OSError(f"Timed out trying to connect to {address}")
        yield

    monkeypatch.setattr(cluster, "dask_workers", refuse)
    inst_path, _ = solved
    out = invoke("solve", inst_path, "--scheduler", "tcp://127.0.0.1:1", "-o", tmp_path / "r.json")
    assert out.exit_code == 2
    assert "Cannot reach the scheduler tcp://127.0.0.1:1" in flat_text(out)
    assert not (tmp_path / "r.json").exists()


def test_bench_times_resolves_after_refusals(tmp_path: Path) -> None:
    out = invoke(
        "bench",
        "--scale",
        "XS",
        "--seeds",
        "1",
        "--refusals",
        "1",
        "--refusals",
        "5",
        "--time-limit",
        "10",
        "-o",
        tmp_path,
    )
    assert out.exit_code == 0, out.output
    rows = json.loads((tmp_path / "resolves.json").read_text(encoding="utf-8"))
    assert [r["refusals"] for r in rows] == [1, 5]
    for r in rows:  # both ways reach the same proven weight
        assert r["warm_status"] == r["fresh_status"] == "OPTIMAL"
        assert r["warm_weight"] == r["fresh_weight"] > 0
    bad = invoke("bench", "--scale", "XL", "--refusals", "1", "-o", tmp_path)
    assert bad.exit_code == 2 and "for re-solves" in flat_text(bad)
