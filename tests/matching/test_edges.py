"""Regressions at the edges of the contract: each test here failed on an earlier engine.

Every decision at a limit must agree with the contract's own arithmetic: the geodesic
as geopy computes it, the occupancy thresholds compared exactly, the commute counted in
whole metres as ``floor(1000 * commute_km + 0.5)``.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.eligibility import eligible_pairs
from matching.instance import Beneficiary, Dwelling, Fund, Instance, Point, Policy
from matching.params import SolveParams
from matching.solve import solve
from matching.validate import validate

POLICY = Policy(Decimal("0.30"), 30_000, 12, 1.3, "persons")


def household(
    i: int, work: Point, reach_km: float, adults: int = 1, minors: int = 0, priority: int = 3
) -> Beneficiary:
    return Beneficiary(
        f"B{i}",
        adults,
        minors,
        "M",
        100_000,
        work,
        reach_km,
        False,
        priority,
        ("dwelling", "bed"),
        (),
    )


def dwelling(i: int, lat: float, lon: float, area: float = 50.0, bedrooms: int = 2) -> Dwelling:
    return Dwelling(f"D{i}", lat, lon, area, bedrooms, 20_000, False, None, True)


def round_of(bens: list[Beneficiary], dws: list[Dwelling], policy: Policy = POLICY) -> Instance:
    return Instance("edge", policy, (Fund("regional", 10**9, ()),), tuple(bens), tuple(dws), ())


# A point whose unit vector's dot product with itself is 0.9999999999999996 in floating
# point: the spherical pre-filter used to drop its zero-length commute.
SAME_POINT = (41.36961687321454, 19.77281066219063)


def test_regression_home_at_the_workplace_with_zero_reach_is_placed() -> None:
    lat, lon = SAME_POINT
    inst = round_of([household(1, Point(lat, lon), 0.0)], [dwelling(1, lat, lon)])
    res = solve(inst, SolveParams(time_limit=10))
    assert validate(inst, res) == []
    assert res.status == "OPTIMAL"
    assert [a.unit for a in res.assignments] == ["D1"]
    assert res.bound_weight == res.objective.weight == 3


@settings(max_examples=60, deadline=None)
@given(st.floats(-89.0, 89.0), st.floats(-180.0, 180.0))
def test_zero_reach_keeps_a_home_at_the_workplace_anywhere(lat: float, lon: float) -> None:
    inst = round_of([household(1, Point(lat, lon), 0.0)], [dwelling(1, lat, lon)])
    pairs = eligible_pairs(inst)
    assert len(pairs) == 1 and pairs.commute_m.tolist() == [0]


@settings(max_examples=80, deadline=None)
@given(
    st.floats(-80.0, 80.0),
    st.floats(-179.0, 179.0),
    st.floats(0.0, 360.0),
    st.floats(0.001, 0.2),
    st.sampled_from([-1e-9, 0.0, 1e-9, 1e-6]),
)
def test_centimetre_limits_agree_with_the_geodesic(
    lat: float, lon: float, bearing: float, metres: float, delta: float
) -> None:
    """A home a few centimetres from work, the limit at, just under or over its commute."""
    home = geodesic(meters=metres).destination((lat, lon), bearing)
    exact_km = 1.3 * float(geodesic((lat, lon), (home.latitude, home.longitude)).km)
    limit = max(0.0, exact_km + delta * exact_km)
    inst = round_of(
        [household(1, Point(lat, lon), limit)], [dwelling(1, home.latitude, home.longitude)]
    )
    pairs = eligible_pairs(inst)
    assert (len(pairs) == 1) == (exact_km <= limit)


@pytest.mark.parametrize(
    ("area", "bedrooms", "persons", "fits"),
    [
        (41.99999999995, 1, 3, False),
        (42.0, 1, 3, True),
        (55.99999999999, 2, 4, False),
        (56.0, 2, 4, True),
        (65.99999999999, 2, 5, False),
        (66.0, 2, 5, True),
        (13.99999999999, 1, 1, False),
        (14.0, 1, 1, True),
        (37.99999999999, 0, 2, False),
        (38.0, 0, 2, True),
    ],
)
def test_regression_occupancy_thresholds_are_exact(
    area: float, bedrooms: int, persons: int, fits: bool
) -> None:
    work = Point(41.46, 15.55)
    inst = round_of(
        [household(1, work, 10.0, adults=persons)],
        [dwelling(1, 41.461, 15.551, area=area, bedrooms=bedrooms)],
    )
    res = solve(inst, SolveParams(time_limit=10))
    assert validate(inst, res) == []
    assert (len(res.assignments) == 1) == fits
    if not fits:
        assert res.unassigned[0].reasons == ("too_large",)


def test_commute_metres_round_halves_up_as_the_geodesic_gives_them() -> None:
    """Homes at k + 1/2 metres (give or take the geodesic's last digits) from work."""
    work = (41.4584, 15.5519)
    policy = Policy(Decimal("0.30"), 30_000, 12, 1.0, "persons")
    dws = []
    for k in range(200):
        p = geodesic(meters=1000 + k + 0.5).destination(work, 1.7 * k)
        dws.append(dwelling(k, p.latitude, p.longitude))
    inst = round_of([household(1, Point(*work), 5.0)], dws, policy)
    pairs = eligible_pairs(inst)
    assert len(pairs) == 200
    expected = [math.floor(1000 * float(geodesic(work, (d.lat, d.lon)).km) + 0.5) for d in dws]
    assert pairs.commute_m.tolist() == expected
    # about half of them sit just under a half metre, half on or over it
    ups = sum(m == 1000 + k + 1 for k, m in enumerate(expected))
    assert 0 < ups < 200


def test_objective_three_is_reported_and_checked_in_whole_metres() -> None:
    work = Point(41.4584, 15.5519)
    inst = round_of(
        [household(i, work, 20.0) for i in range(3)],
        [dwelling(i, 41.46 + 0.01 * i, 15.55) for i in range(3)],
    )
    res = solve(inst, SolveParams(time_limit=10))
    assert validate(inst, res) == []
    assert res.objective.commute_m == sum(a.commute_m for a in res.assignments)
    assert all(a.commute_m == math.floor(1000 * a.commute_km + 0.5) for a in res.assignments)
    # a result whose metres do not add up is refused
    from dataclasses import replace

    bad = replace(res, objective=replace(res.objective, commute_m=res.objective.commute_m + 1))
    assert [v.code for v in validate(inst, bad)] == ["objective_commute_m_mismatch"]


def test_pairs_metres_match_the_validators_on_random_rounds() -> None:
    from scenarios.synthetic import generate

    inst = generate("S", seed=3)
    pairs = eligible_pairs(inst)
    rng = np.random.default_rng(0)
    for p in rng.choice(len(pairs), 300, replace=False).tolist():
        b = inst.beneficiaries[int(pairs.beneficiary[p])]
        u = int(pairs.unit[p])
        lat, lon = (
            (inst.dwellings[u].lat, inst.dwellings[u].lon)
            if u < len(inst.dwellings)
            else (
                inst.shared_flats[u - len(inst.dwellings)].lat,
                inst.shared_flats[u - len(inst.dwellings)].lon,
            )
        )
        km = inst.policy.circuity * float(geodesic((b.work.lat, b.work.lon), (lat, lon)).km)
        assert int(pairs.commute_m[p]) == math.floor(1000 * km + 0.5)
