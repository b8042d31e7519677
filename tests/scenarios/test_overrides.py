"""Each override changes exactly what it says, and nothing else (property tests)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.instance import Beneficiary, Instance
from places.gazetteer import geocode
from scenarios.overrides import (
    AddDwellings,
    AddSharedFlats,
    CommuteChange,
    FundBudget,
    OverrideError,
    PolicyChange,
    PriorityChange,
    RemoveUnits,
    Zone,
    apply_all,
)
from tests.strategies import instances

FIELDS = [f.name for f in dataclasses.fields(Instance)]
PROPS = settings(max_examples=60, deadline=None)


def same_except(before: Instance, after: Instance, *changed: str) -> None:
    """Every field of the instance but ``changed`` is equal before and after."""
    for name in FIELDS:
        if name not in changed:
            assert getattr(after, name) == getattr(before, name), name


def same_beneficiaries_except(before: Instance, after: Instance, field: str) -> None:
    """Beneficiaries are equal in every field but ``field``, in the same order."""
    assert [b.id for b in after.beneficiaries] == [b.id for b in before.beneficiaries]
    for a, b in zip(after.beneficiaries, before.beneficiaries, strict=True):
        assert dataclasses.replace(a, **{field: getattr(b, field)}) == b


# --------------------------------------------------------------------------- funds


@PROPS
@given(
    instances(),
    st.sampled_from(["set", "add", "scale"]),
    st.integers(0, 10_000_000),
    st.sampled_from([Decimal("0"), Decimal("0.5"), Decimal("1.25"), Decimal("3")]),
)
def test_fund_budget_changes_one_budget(
    inst: Instance, op: Any, cents: int, factor: Decimal
) -> None:
    fund = inst.funds[-1]
    o = FundBudget(fund_id=fund.id, op=op, cents=cents, factor=factor)
    out = o.apply(inst)
    same_except(inst, out, "funds")
    expected = {
        "set": cents,
        "add": fund.budget_cents + cents,
        "scale": int(factor * fund.budget_cents),
    }[op]
    assert out.fund(fund.id).budget_cents == expected
    for before, after in zip(inst.funds, out.funds, strict=True):
        if before.id != fund.id:
            assert after == before
        else:
            assert dataclasses.replace(after, budget_cents=before.budget_cents) == before


def test_fund_budget_scale_rounds_down_to_the_cent() -> None:
    assert FundBudget(fund_id="f", op="scale", factor=Decimal("0.333")).new_budget(1001) == 333


def test_fund_budget_unknown_fund_and_negative_budget() -> None:
    inst = _example()
    with pytest.raises(OverrideError, match="unknown fund 'nope'"):
        FundBudget(fund_id="nope", op="add", cents=1, key="overrides.funds.nope").apply(inst)
    with pytest.raises(OverrideError, match="below zero") as exc:
        FundBudget(
            fund_id=inst.funds[0].id, op="add", cents=-(10**12), key="overrides.funds.x"
        ).apply(inst)
    assert exc.value.key == "overrides.funds.x"


# --------------------------------------------------------------------------- policy


@PROPS
@given(
    instances(),
    st.one_of(st.none(), st.sampled_from([Decimal("0.25"), Decimal("0.35"), Decimal("0")])),
    st.one_of(st.none(), st.integers(0, 100_000)),
    st.one_of(st.none(), st.integers(1, 24)),
    st.one_of(st.none(), st.sampled_from(["persons", "households"])),
)
def test_policy_change_sets_only_the_given_fields(
    inst: Instance, ratio: Decimal | None, cap: int | None, months: int | None, unit: Any
) -> None:
    o = PolicyChange(
        affordability_ratio=ratio,
        max_contribution_cents=cap,
        contribution_months=months,
        objective_unit=unit,
    )
    out = o.apply(inst)
    same_except(inst, out, "policy")
    for name, given_value in (
        ("affordability_ratio", ratio),
        ("max_contribution_cents", cap),
        ("contribution_months", months),
        ("objective_unit", unit),
    ):
        expected = getattr(inst.policy, name) if given_value is None else given_value
        assert getattr(out.policy, name) == expected
    assert out.policy.circuity == inst.policy.circuity


# --------------------------------------------------------------------------- commute


@PROPS
@given(
    instances(),
    st.sampled_from(["set", "add"]),
    st.floats(0.5, 60.0),
    st.booleans(),
    st.floats(0.5, 8.0),
    st.sampled_from([(), ("victim",)]),
)
def test_commute_change_targets_the_zone_only(
    inst: Instance, op: Any, km: float, zoned: bool, radius: float, tags: tuple[str, ...]
) -> None:
    zone = Zone("centre", 41.47, 15.55, radius, tags) if zoned else None
    out = CommuteChange(op=op, km=km, zone=zone).apply(inst)
    same_except(inst, out, "beneficiaries")
    same_beneficiaries_except(inst, out, "max_commute_km")
    for a, b in zip(out.beneficiaries, inst.beneficiaries, strict=True):
        inside = zone is None or (
            (not tags or bool(set(tags) & set(b.tags)))
            and geodesic((b.work.lat, b.work.lon), (41.47, 15.55)).km <= radius
        )
        if not inside:
            assert a.max_commute_km == b.max_commute_km
        elif op == "set":
            assert a.max_commute_km == km
        else:
            assert a.max_commute_km == b.max_commute_km + km


# --------------------------------------------------------------------------- priority

TAGS = st.dictionaries(st.sampled_from(["victim", "other"]), st.integers(0, 4), max_size=2)


@PROPS
@given(instances(), TAGS, TAGS, st.one_of(st.none(), st.integers(0, 12)))
def test_priority_change_reweights_tagged_households(
    inst: Instance, add: dict[str, int], multiply: dict[str, int], maximum: int | None
) -> None:
    o = PriorityChange(add=add, multiply=multiply, maximum=maximum)
    out = o.apply(inst)
    same_except(inst, out, "beneficiaries")
    same_beneficiaries_except(inst, out, "priority")
    for a, b in zip(out.beneficiaries, inst.beneficiaries, strict=True):
        named = set(b.tags) & (set(add) | set(multiply))
        if not named:
            assert a.priority == b.priority
            continue
        p = b.priority
        for t in b.tags:
            p *= multiply.get(t, 1)
        p += sum(add.get(t, 0) for t in b.tags)
        assert a.priority == (p if maximum is None else min(p, maximum))


def test_priority_documented_example() -> None:
    b = Beneficiary(
        "B1",
        1,
        0,
        "M",
        50000,
        _example().beneficiaries[0].work,
        20.0,
        priority=4,
        tags=("exploitation_victim", "health"),
    )
    o = PriorityChange(add={"exploitation_victim": 3}, multiply={"health": 2}, maximum=10)
    assert o.new_priority(b) == 10  # 4 * 2 + 3 = 11, at most 10
    assert PriorityChange(add={"x": -9}).new_priority(dataclasses.replace(b, tags=("x",))) == 0


# --------------------------------------------------------------------------- units

MUNICIPALITIES = st.sampled_from(["Foggia", "San Severo", "Lucera"])


@PROPS
@given(
    instances(),
    MUNICIPALITIES,
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 3),
    st.one_of(st.none(), st.integers(0, 40_000)),
)
def test_add_shared_flats_appends_only_new_flats(
    inst: Instance, town: str, count: int, rooms: int, beds: int, rent: int | None
) -> None:
    lat, lon = geocode(town)
    o = AddSharedFlats(
        label="new",
        municipality=town,
        lat=lat,
        lon=lon,
        count=count,
        rooms=rooms,
        beds_per_room=beds,
        rent_per_bed_cents=rent,
    )
    if rent is None and not inst.shared_flats:
        with pytest.raises(OverrideError, match="median"):
            o.apply(inst)
        return
    out = o.apply(inst)
    same_except(inst, out, "shared_flats")
    assert out.shared_flats[: len(inst.shared_flats)] == inst.shared_flats
    new = out.shared_flats[len(inst.shared_flats) :]
    assert [f.id for f in new] == [f"SF-new-{k}" for k in range(1, count + 1)]
    assert sum(f.beds for f in new) == o.beds == count * rooms * beds
    rents = sorted(f.rent_per_bed_cents for f in inst.shared_flats)
    expected = rent if rent is not None else rents[(len(rents) - 1) // 2]
    assert all(
        f.rent_per_bed_cents == expected and (f.lat, f.lon) == (lat, lon) and not f.step_free
        for f in new
    )
    assert o.apply(inst) == out  # deterministic


@PROPS
@given(
    instances(),
    MUNICIPALITIES,
    st.integers(1, 4),
    st.integers(0, 3),
    st.one_of(st.none(), st.integers(0, 90_000)),
)
def test_add_dwellings_appends_only_new_dwellings(
    inst: Instance, town: str, count: int, bedrooms: int, rent: int | None
) -> None:
    lat, lon = geocode(town)
    o = AddDwellings(
        label="x",
        municipality=town,
        lat=lat,
        lon=lon,
        count=count,
        area_m2=55.0,
        bedrooms=bedrooms,
        rent_cents=rent,
    )
    out = o.apply(inst)
    same_except(inst, out, "dwellings")
    assert out.dwellings[: len(inst.dwellings)] == inst.dwellings
    new = out.dwellings[len(inst.dwellings) :]
    assert [d.id for d in new] == [f"D-x-{k}" for k in range(1, count + 1)]
    same_kind = sorted(d.rent_cents for d in inst.dwellings if d.bedrooms == bedrooms) or sorted(
        d.rent_cents for d in inst.dwellings
    )
    expected = rent if rent is not None else same_kind[(len(same_kind) - 1) // 2]
    assert all(
        d.rent_cents == expected and d.bedrooms == bedrooms and d.area_m2 == 55.0 for d in new
    )


@PROPS
@given(instances(), st.data())
def test_remove_units_drops_units_and_their_exclusions(inst: Instance, data: st.DataObject) -> None:
    units = list(inst.unit_index)
    gone = tuple(data.draw(st.lists(st.sampled_from(units), min_size=1, unique=True)))
    o = RemoveUnits(unit_ids=gone)
    if {p.unit for p in inst.pinned} & set(gone):
        with pytest.raises(OverrideError, match="pinned"):
            o.apply(inst)
        return
    out = o.apply(inst)
    same_except(inst, out, "dwellings", "shared_flats", "forbidden")
    assert out.dwellings == tuple(d for d in inst.dwellings if d.id not in gone)
    assert out.shared_flats == tuple(f for f in inst.shared_flats if f.id not in gone)
    assert out.forbidden == tuple(f for f in inst.forbidden if f.unit not in gone)


def test_remove_unknown_unit_and_clashing_ids() -> None:
    inst = _example()
    with pytest.raises(OverrideError, match="unknown unit id"):
        RemoveUnits(unit_ids=("NOPE",)).apply(inst)
    o = AddDwellings(
        label="a", municipality="Foggia", lat=41.46, lon=15.54, count=1, rent_cents=100
    )
    with pytest.raises(OverrideError, match="already exist"):
        o.apply(o.apply(inst))


def test_apply_all_runs_removals_before_additions() -> None:
    inst = _example()
    flat = inst.shared_flats[0]
    add = AddSharedFlats(label="n", municipality="Foggia", lat=41.46, lon=15.54, count=1)
    remove = RemoveUnits(unit_ids=tuple(f.id for f in inst.shared_flats[1:]))
    out = apply_all(inst, (add, remove))
    assert [f.id for f in out.shared_flats] == [flat.id, "SF-n-1"]
    assert out.shared_flats[1].rent_per_bed_cents == flat.rent_per_bed_cents  # median of one


def _example() -> Instance:
    from scenarios.synthetic import generate

    return generate("XS", 1)
