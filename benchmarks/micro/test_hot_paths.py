"""Eligibility, formulation and LP on S and M.

Run on their own: ``.venv/bin/pytest benchmarks/micro --benchmark-only``. They assert
what the code computes, never how fast it is: speed is read from the table they print.
"""

from __future__ import annotations

from typing import Any

from matching.eligibility import eligible_pairs
from matching.instance import Instance
from matching.model.formulation import Formulation
from matching.solvers.cpsat import CpSatModel
from matching.solvers.lp import solve_lp
from matching.strategies.common import prepare


def _form(instance: Instance) -> Formulation:
    form = prepare(instance).form
    assert form is not None  # generated rounds pin nothing
    return form


def test_eligibility(benchmark: Any, instance: Instance) -> None:
    pairs = benchmark(eligible_pairs, instance)
    benchmark.extra_info["pairs"] = len(pairs)
    assert len(pairs) > 0


def test_formulation(benchmark: Any, instance: Instance) -> None:
    pairs = eligible_pairs(instance)
    form = benchmark(lambda: prepare(instance, pairs).form)
    assert form is not None
    benchmark.extra_info["columns"] = form.n
    assert form.n >= len(pairs) // 2


def test_cpsat_model(benchmark: Any, instance: Instance) -> None:
    form = _form(instance)
    cm = benchmark.pedantic(CpSatModel, args=(form,), rounds=3, iterations=1)
    assert len(cm.var) == form.size


def test_lp_relaxation(benchmark: Any, instance: Instance) -> None:
    form = _form(instance)
    lp = benchmark.pedantic(solve_lp, args=(form, 0), rounds=3, iterations=1)
    assert lp.optimal
