"""The priority policy: each component scores what it says, and a bad file names the key."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agency.models import Beneficiary
from agency.priority import PolicyError, PriorityPolicy, compute

ON = date(2026, 7, 1)


def person(**kw: object) -> Beneficiary:
    data: dict[str, object] = dict(
        office_id=1,
        given_name="A",
        family_name="B",
        gender="M",
        adults=1,
        minors=0,
        income_cents=0,
        work_lat=41.0,
        work_lon=15.0,
        registered_on=ON,
        tags=[],
    )
    data.update(kw)
    return Beneficiary(**data)


def test_the_shipped_policy_and_its_breakdown() -> None:
    policy = PriorityPolicy.load()
    assert compute(person(), policy, ON) == (1, [{"component": "base", "value": 1, "points": 1}])
    total, lines = compute(
        person(
            tags=["exploitation_victim"],
            informal_settlement="Borgo Mezzanone",
            minors=5,
            adults=2,
            health_needs=True,
            registered_on=date(2025, 7, 1),
        ),
        policy,
        ON,
    )
    parts = {line["component"]: (line["value"], line["points"]) for line in lines}
    assert parts == {
        "base": (1, 1),
        "exploitation_victim": (True, 4),
        "informal_settlement": (True, 3),
        "minors": (3, 3),
        "health": (True, 2),
        "days_waiting": (3, 3),
    }
    assert total == 16 == sum(p for _, p in parts.values())


@given(
    days=st.integers(0, 2000),
    minors=st.integers(0, 12),
    victim=st.booleans(),
    camp=st.booleans(),
    health=st.booleans(),
    weights=st.tuples(*[st.integers(0, 20)] * 6),
)
def test_total_is_the_sum_of_the_documented_components(
    days: int, minors: int, victim: bool, camp: bool, health: bool, weights: tuple[int, ...]
) -> None:
    base, v, c, m, h, w = weights
    policy = PriorityPolicy(
        base=base,
        exploitation_victim=v,
        informal_settlement=c,
        per_minor=m,
        health=h,
        per_waiting_period=w,
    )
    b = person(
        tags=["exploitation_victim"] if victim else [],
        minors=minors,
        adults=1,
        informal_settlement="camp" if camp else None,
        health_needs=health,
        registered_on=date.fromordinal(ON.toordinal() - days),
    )
    total, lines = compute(b, policy, ON)
    expected = (
        base + v * victim + c * camp + m * min(minors, 3) + h * health + w * min(days // 90, 3)
    )
    assert total == max(1, expected)
    assert sum(line["points"] for line in lines) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("base = -1", "base: must be a non-negative integer"),
        ("colour = 3", "colour: unknown key"),
        ("[components]\nvictim = 3", "components.victim: unknown component"),
        ("[components]\nhealth = 'a lot'", "health: must be a non-negative integer"),
        ("[components]\nwaiting_period_days = 0", "waiting_period_days: must be at least 1"),
        ("base = ", "not valid TOML"),
    ],
)
def test_bad_policy_files_name_the_key(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        PriorityPolicy.from_toml(text, "test.toml")


def test_policy_file_from_the_environment(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "p.toml"
    path.write_text("base = 2\n[components]\nhealth = 10\n")
    monkeypatch.setenv("HOUSING_PRIORITY_POLICY", str(path))
    policy = PriorityPolicy.load()
    assert (policy.base, policy.health, policy.exploitation_victim) == (2, 10, 4)
