"""The benchmark harness runs each solver in its own process and reports what it measured."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.harness import bench, markdown, write


def test_bench_runs_solvers_side_by_side_and_writes_its_reports(tmp_path: Path) -> None:
    runs = bench(["XS"], [1, 2], time_limit=10, solvers=["cp-sat", "greedy", "lp"])
    assert [(r.seed, r.solver) for r in runs] == [
        (1, "cp-sat"),
        (1, "greedy"),
        (1, "lp"),
        (2, "cp-sat"),
        (2, "greedy"),
        (2, "lp"),
    ]
    for seed in (1, 2):
        cp, greedy, lp = (r for r in runs if r.seed == seed)
        assert cp.valid and greedy.valid  # the independent validator ran on both
        assert cp.status == "OPTIMAL" and cp.ratio == 1.0
        assert greedy.weight is not None and cp.weight is not None
        assert greedy.weight <= cp.weight
        assert lp.bound is not None and lp.bound >= cp.weight  # no allocation beats the LP
        assert cp.first_feasible_s is not None and cp.best_s is not None
        assert cp.first_feasible_s <= cp.best_s <= cp.total_s
        assert cp.peak_mib > 10 and cp.pairs > 0
    paths = write(runs, 10, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert len(data["runs"]) == 6 and data["machine"]["cpus"] >= 1
    table = paths["md"].read_text()
    assert table == markdown(runs, 10)
    assert table.count("| XS |") == 6
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
