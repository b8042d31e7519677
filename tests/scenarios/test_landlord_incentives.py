"""The landlords' incentives as what-if overrides, and the shipped example run end to end
with the validator as the oracle."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from matching.instance import INSTANCE_FORMAT_V2
from matching.params import SolveParams
from matching.validate import validate
from scenarios.overrides import GuaranteeCapacity, IncentiveBudget, OverrideError
from scenarios.runner import run_scenarios
from scenarios.spec import load_spec
from scenarios.synthetic import generate

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "landlord-incentives.toml"
)


def test_an_incentive_budget_buys_agreements_on_the_dearest_dwellings() -> None:
    base = generate("XS", 1)
    o = IncentiveBudget(
        budget_cents=500_000, one_off_cents=150_000, discount=Decimal("0.2"), fund_id="regional"
    )
    inst = o.apply(base)
    assert inst.format == INSTANCE_FORMAT_V2
    dearest = sorted(base.dwellings, key=lambda d: (-d.rent_cents, d.id))[:3]
    changed = {d.id: d for d in inst.dwellings if d.terms}
    assert set(changed) == {d.id for d in dearest}  # €5,000 buys 3 one-offs of €1,500
    for d in dearest:
        incentive, market = changed[d.id].terms
        assert (market.id, market.rent_cents) == ("market", d.rent_cents)
        assert incentive.one_off_cents == 150_000
        assert incentive.rent_cents == d.rent_cents * 4 // 5
    before = {f.id: f.budget_cents for f in base.funds}
    assert {f.id: f.budget_cents - before[f.id] for f in inst.funds}["regional"] == 500_000
    with pytest.raises(OverrideError, match="unknown fund"):
        IncentiveBudget(budget_cents=1, fund_id="nope").apply(base)


def test_the_guarantee_capacity() -> None:
    inst = GuaranteeCapacity(capacity_cents=2_000_000).apply(generate("XS", 1))
    assert inst.policy.guarantee is not None
    assert (inst.policy.guarantee.capacity_cents, inst.policy.guarantee.months) == (2_000_000, 3)


def test_the_example_runs_and_every_result_is_valid() -> None:
    spec = load_spec(EXAMPLE)
    assert [v.name for v in spec.variants] == [
        "one_offs",
        "contributions",
        "guarantee[0]",
        "guarantee[20000]",
        "guarantee[50000]",
    ]
    with ThreadPoolExecutor(2) as pool:
        report = run_scenarios(spec, executor=pool, params=SolveParams(time_limit=5.0, seed=0))
    data = report.to_dict()
    assert data["ok"] and data["errors"] == []
    base = generate("S", 1)
    for v in spec.variants:
        inst = v.build(base)
        assert validate(inst, report.results[v.name]) == []
    one_offs = report.results["one_offs"]
    assert any(a.term == "incentive" and a.one_off_cents == 150_000 for a in one_offs.assignments)
