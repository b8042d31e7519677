"""Eligibility, formulation and LP on S and M.

Run on their own: ``.venv/bin/pytest benchmarks/micro --benchmark-only``. They assert
what the code computes, never how fast it is: speed is read from the table they print.
"""

from __future__ import annotations

from typing import Any

from matching.eligibility import eligible_pairs
from matching.instance import Instance
from matching.lp import solve_lp
from matching.model.build import build_formulation, to_cpsat


def test_eligibility(benchmark: Any, instance: Instance) -> None:
    pairs = benchmark(eligible_pairs, instance)
    benchmark.extra_info["pairs"] = len(pairs)
    assert len(pairs) > 0


def test_formulation(benchmark: Any, instance: Instance) -> None:
    pairs = eligible_pairs(instance)
    form = benchmark(build_formulation, instance, pairs)
    benchmark.extra_info["columns"] = form.vars.n
    assert form.vars.n >= len(pairs) // 2


def test_cpsat_model(benchmark: Any, instance: Instance) -> None:
    form = build_formulation(instance, eligible_pairs(instance))
    cm = benchmark.pedantic(to_cpsat, args=(form,), rounds=3, iterations=1)
    assert len(cm.var) == form.vars.size


def test_lp_relaxation(benchmark: Any, instance: Instance) -> None:
    form = build_formulation(instance, eligible_pairs(instance))
    lp = benchmark.pedantic(solve_lp, args=(form, 0), rounds=3, iterations=1)
    assert lp.optimal
