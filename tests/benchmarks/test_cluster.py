"""The cluster benchmark: its schedule model, and a run on a local Dask cluster."""

from __future__ import annotations

import pytest

from benchmarks.cluster import makespan, model, run


def test_makespan_is_list_scheduling_in_order() -> None:
    assert makespan([5.0, 3.0, 2.0, 2.0], 1) == 12.0
    # 5 on one worker; 3, then 2 (at 3), then 2 (at 5, on the first free)
    assert makespan([5.0, 3.0, 2.0, 2.0], 2) == 7.0
    assert makespan([5.0, 3.0, 2.0, 2.0], 8) == 5.0
    assert makespan([], 4) == 0.0


def test_the_model_sits_between_its_lower_bounds() -> None:
    parts = [40.0, 35.0, 30.0, 12.0, 9.0, 9.0, 3.0]
    for row in model(parts, serial=10.0, counts=[1, 2, 3, 4, 16]):
        assert row["modelled_s"] >= max(row["critical_path_s"], row["work_over_n_s"]) - 1e-9
    one = model(parts, 10.0, [1])[0]
    assert one["modelled_s"] == pytest.approx(10.0 + sum(parts))


def test_a_small_round_in_parts_on_two_local_workers() -> None:
    r = run("S", 3, 2, 20.0, part_pairs=300)  # validated inside
    assert r["workers"] == 2 and r["parts"] >= 2
    assert r["status"] == "FEASIBLE" and 0 < r["weight"] <= r["bound"]
    assert len(r["part_seconds"]) == r["parts"]
    assert r["peak_gib_workers"] > 0
