"""Tests of :mod:`matching.eligibility` and :mod:`matching.geo` against the spec.

The vectorised distances are compared with geopy (the spec's definition of the geodesic),
the commute limit is probed at and around its exact value, and the eligible pairs of
synthetic rounds are compared with a brute-force, pure-Python evaluation of the spec's
pair rules 1-7 written here from the contract alone.
"""

from __future__ import annotations

import dataclasses
import math
import random
from decimal import ROUND_FLOOR, Decimal

import numpy as np
import pytest
from geopy.distance import geodesic

from matching import geo
from matching.eligibility import Pairs, eligible_among, eligible_pairs
from matching.instance import (
    Beneficiary,
    Dwelling,
    Forbidden,
    Fund,
    Instance,
    Point,
    Policy,
    Room,
    SharedFlat,
)
from scenarios.synthetic import generate

# Puglia's bounding box (Gargano to Santa Maria di Leuca, Murge to the Adriatic).
LAT_RANGE = (39.78, 42.23)
LON_RANGE = (14.93, 18.52)
FOGGIA = Point(41.4622, 15.5446)
SAN_SEVERO = (41.6856, 15.3815)


def random_puglia_pairs(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    lat1 = rng.uniform(*LAT_RANGE, n)
    lon1 = rng.uniform(*LON_RANGE, n)
    # half the pairs are close together (commute scale), half anywhere in the region
    close = np.arange(n) < n // 2
    lat2 = np.where(close, lat1 + rng.uniform(-0.4, 0.4, n), rng.uniform(*LAT_RANGE, n))
    lon2 = np.where(close, lon1 + rng.uniform(-0.5, 0.5, n), rng.uniform(*LON_RANGE, n))
    return lat1, lon1, lat2, lon2


def geopy_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(geodesic((lat1, lon1), (lat2, lon2)).km)


# --------------------------------------------------------------------------- geo


def test_vincenty_agrees_with_geopy_on_puglia_pairs() -> None:
    lat1, lon1, lat2, lon2 = random_puglia_pairs(400, seed=20260701)
    dist, converged = geo.vincenty_km(lat1, lon1, lat2, lon2)
    assert converged.all()
    expected = np.array([geopy_km(*p) for p in zip(lat1, lon1, lat2, lon2, strict=True)])
    assert np.abs(dist - expected).max() <= 1e-6


def test_vincenty_of_identical_points_is_zero() -> None:
    lat = np.array([41.4622, 40.3515])
    lon = np.array([15.5446, 18.1750])
    dist, converged = geo.vincenty_km(lat, lon, lat.copy(), lon.copy())
    assert converged.all()
    assert dist.tolist() == [0.0, 0.0]


def test_sphere_with_margin_never_below_the_geodesic() -> None:
    lat1, lon1, lat2, lon2 = random_puglia_pairs(400, seed=7)
    hav = geo.haversine_km(lat1, lon1, lat2, lon2)
    expected = np.array([geopy_km(*p) for p in zip(lat1, lon1, lat2, lon2, strict=True)])
    assert (hav * geo.SPHERE_MARGIN >= expected).all()


# --------------------------------------------------------------------------- the limit


def one_pair_instance(max_commute_km: float, unit: str = "dwelling") -> Instance:
    dwellings: tuple[Dwelling, ...] = ()
    flats: tuple[SharedFlat, ...] = ()
    if unit == "dwelling":
        dwellings = (
            Dwelling("D1", SAN_SEVERO[0], SAN_SEVERO[1], area_m2=50, bedrooms=1, rent_cents=10_000),
        )
    else:
        flats = (
            SharedFlat(
                "F1",
                SAN_SEVERO[0],
                SAN_SEVERO[1],
                rent_per_bed_cents=10_000,
                rooms=(Room("F1-R1", 2),),
            ),
        )
    ben = Beneficiary(
        "B1",
        adults=1,
        minors=0,
        gender="M",
        income_cents=100_000,
        work=FOGGIA,
        max_commute_km=max_commute_km,
    )
    return Instance(
        name="limit",
        policy=Policy(),
        funds=(Fund("regional", 10_000_000),),
        beneficiaries=(ben,),
        dwellings=dwellings,
        shared_flats=flats,
    )


@pytest.mark.parametrize("unit", ["dwelling", "bed"])
def test_commute_limit_is_decided_exactly(unit: str) -> None:
    limit = Policy().circuity * geopy_km(FOGGIA.lat, FOGGIA.lon, *SAN_SEVERO)
    at = eligible_pairs(one_pair_instance(limit, unit))
    above = eligible_pairs(one_pair_instance(limit + 1e-9, unit))
    below = eligible_pairs(one_pair_instance(limit - 1e-9, unit))
    assert len(at) == 1
    assert len(above) == 1
    assert len(below) == 0
    assert at.commute_km[0] == limit
    assert abs(above.commute_km[0] - limit) <= 1e-9


def test_unit_at_the_workplace_with_zero_commute_is_eligible() -> None:
    inst = one_pair_instance(0.0)
    d = dataclasses.replace(inst.dwellings[0], lat=FOGGIA.lat, lon=FOGGIA.lon)
    pairs = eligible_pairs(inst.replace(dwellings=(d,)))
    assert len(pairs) == 1
    assert pairs.commute_km[0] == 0.0


# --------------------------------------------------------------------------- brute force


def sphere_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean sphere (pure Python)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(min(h, 1.0)))


def spec_pay(policy: Policy, income_cents: int) -> int:
    ratio = Decimal(str(policy.affordability_ratio))
    return int((ratio * Decimal(income_cents)).to_integral_value(ROUND_FLOOR))


def brute_force_pairs(inst: Instance) -> dict[tuple[str, str], tuple[int, float]]:
    """(beneficiary id, unit id) -> (contribution, commute), per pair, from the spec."""
    pol = inst.policy
    forbidden = {(f.beneficiary, f.unit) for f in inst.forbidden}
    units: list[tuple[str, bool, float, float, int, bool, int, bool]] = [
        (d.id, True, d.lat, d.lon, d.rent_cents, d.step_free, d.capacity, d.children_ok)
        for d in inst.dwellings
    ]
    units += [
        (f.id, False, f.lat, f.lon, f.rent_per_bed_cents, f.step_free, 0, False)
        for f in inst.shared_flats
    ]
    out: dict[tuple[str, str], tuple[int, float]] = {}
    for b in inst.beneficiaries:
        persons = b.adults + b.minors
        pay = spec_pay(pol, b.income_cents)
        budgets = [
            f.budget_cents
            for f in inst.funds
            if not f.eligible_tags or set(f.eligible_tags) & set(b.tags)
        ]
        for uid, is_dwelling, lat, lon, rent, step_free, capacity, children_ok in units:
            if is_dwelling:
                if "dwelling" not in b.accepts:  # rule 1
                    continue
                if persons > capacity:  # rule 2
                    continue
                if b.minors > 0 and not children_ok:  # rule 3
                    continue
            elif "bed" not in b.accepts or b.adults != 1 or b.minors != 0:  # bed rule 1
                continue
            if b.needs_step_free and not step_free:  # rule 4
                continue
            contribution = max(0, rent - pay)
            if contribution > pol.max_contribution_cents:  # rule 6
                continue
            if (b.id, uid) in forbidden:  # rule 7
                continue
            if contribution > 0 and not any(
                contribution * pol.contribution_months <= budget for budget in budgets
            ):
                continue  # the documented extra filter: no fund could ever pay it
            # Only to save time: the mean sphere is within 0.6% of the ellipsoid, so a
            # pair whose spherical commute exceeds the limit by 3% is far for sure.
            if pol.circuity * sphere_km(b.work.lat, b.work.lon, lat, lon) * 0.97 > b.max_commute_km:
                continue
            km = pol.circuity * geopy_km(b.work.lat, b.work.lon, lat, lon)
            if not km <= b.max_commute_km:  # rule 5
                continue
            out[b.id, uid] = (contribution, km)
    return out


def engine_pairs(inst: Instance, pairs: Pairs) -> dict[tuple[str, str], tuple[int, float]]:
    out: dict[tuple[str, str], tuple[int, float]] = {}
    for b, u, c, k in zip(
        pairs.beneficiary.tolist(),
        pairs.unit.tolist(),
        pairs.contribution_cents.tolist(),
        pairs.commute_km.tolist(),
        strict=True,
    ):
        key = (inst.beneficiaries[b].id, inst.unit_id(u))
        assert key not in out, f"pair {key} listed twice"
        out[key] = (int(c), float(k))
    return out


def assert_pairs_match_brute_force(inst: Instance) -> Pairs:
    pairs = eligible_pairs(inst)
    got = engine_pairs(inst, pairs)
    want = brute_force_pairs(inst)
    assert set(got) - set(want) == set(), "pairs the spec's rules reject"
    assert set(want) - set(got) == set(), "pairs the spec's rules allow are missing"
    for key, (c, km) in want.items():
        assert got[key][0] == c, key
        assert abs(got[key][1] - km) <= 1e-6, key
    return pairs


def tight_funds(inst: Instance) -> Instance:
    """The same round with funds so small that the extra fund filter bites."""
    funds = (
        Fund("regional", 60_000),
        Fund("victims", 150_000, ("exploitation_victim",)),
        Fund("municipal", 0, ("informal_settlement",)),
    )
    return inst.replace(funds=funds)


def test_eligible_pairs_equal_brute_force_on_s3() -> None:
    inst = generate("S", 3)
    pairs = assert_pairs_match_brute_force(inst)
    assert len(pairs) > 100  # the round is not trivially empty


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_eligible_pairs_equal_brute_force_over_seeds(seed: int) -> None:
    assert_pairs_match_brute_force(generate("S", seed))


@pytest.mark.parametrize("seed", [3, 4])
def test_eligible_pairs_equal_brute_force_with_tight_funds(seed: int) -> None:
    inst = tight_funds(generate("S", seed))
    loose = engine_pairs(inst, eligible_pairs(generate("S", seed)))
    pairs = assert_pairs_match_brute_force(inst)
    assert len(pairs) < len(loose)  # the fund filter actually dropped some pairs


@pytest.mark.parametrize("ratio", ["0.29", "0.33", "0.5"])
def test_eligible_pairs_equal_brute_force_with_other_ratios(ratio: str) -> None:
    inst = generate("S", 6)
    policy = dataclasses.replace(
        inst.policy, affordability_ratio=Decimal(ratio), max_contribution_cents=20_000
    )
    assert_pairs_match_brute_force(inst.replace(policy=policy))


def test_decimal_pay_is_exact() -> None:
    # 0.29 * 100 is 29 exactly; a binary float would give 28
    pol = Policy(affordability_ratio=Decimal("0.29"))
    assert pol.pay(100) == 29
    assert spec_pay(pol, 100) == 29


def test_forbidden_pair_disappears() -> None:
    inst = generate("S", 3)
    before = engine_pairs(inst, eligible_pairs(inst))
    (bid, uid), *_ = sorted(before)
    (bid2, uid2) = sorted(before)[len(before) // 2]
    banned = inst.replace(forbidden=(Forbidden(bid, uid), Forbidden(bid2, uid2)))
    after = engine_pairs(banned, assert_pairs_match_brute_force(banned))
    assert set(before) - set(after) == {(bid, uid), (bid2, uid2)}
    assert set(after) <= set(before)
    assert all(after[k] == before[k] for k in after)


# --------------------------------------------------------------------------- the Pairs


def test_pairs_sorted_by_beneficiary_then_unit() -> None:
    pairs = eligible_pairs(generate("S", 3))
    keys = list(zip(pairs.beneficiary.tolist(), pairs.unit.tolist(), strict=True))
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert pairs.cells >= len(pairs)


def test_of_beneficiary_returns_the_right_slice() -> None:
    inst = generate("S", 3)
    pairs = eligible_pairs(inst)
    covered = 0
    for b in range(len(inst.beneficiaries)):
        sl = pairs.of_beneficiary(b)
        idx = np.flatnonzero(pairs.beneficiary == b)
        if idx.size:
            assert (sl.start, sl.stop) == (int(idx[0]), int(idx[-1]) + 1)
        else:
            assert sl.start == sl.stop
        assert (pairs.beneficiary[sl] == b).all()
        covered += sl.stop - sl.start
    assert covered == len(pairs)
    # some beneficiaries have no pair at all, so empty slices were checked too
    assert len(set(pairs.beneficiary.tolist())) < len(inst.beneficiaries)


def test_of_beneficiary_on_no_pairs() -> None:
    inst = one_pair_instance(1.0)  # San Severo is ~37 km from Foggia
    pairs = eligible_pairs(inst)
    assert len(pairs) == 0
    sl = pairs.of_beneficiary(0)
    assert sl.start == sl.stop


def test_random_subsets_match_brute_force() -> None:
    """Random small rounds cut from a synthetic one, with random forbidden pairs."""
    base = generate("S", 8)
    rng = random.Random(8)
    for _ in range(3):
        bens = tuple(rng.sample(base.beneficiaries, 40))
        dws = tuple(rng.sample(base.dwellings, 30))
        fls = tuple(rng.sample(base.shared_flats, 8))
        units = [d.id for d in dws] + [f.id for f in fls]
        forbidden = tuple({Forbidden(rng.choice(bens).id, rng.choice(units)) for _ in range(30)})
        inst = Instance(
            name="subset",
            policy=base.policy,
            funds=base.funds,
            beneficiaries=bens,
            dwellings=dws,
            shared_flats=fls,
            forbidden=forbidden,
        )
        assert_pairs_match_brute_force(inst)


@pytest.mark.parametrize("variant", ["plain", "full"])
def test_settled_households_get_the_options_of_their_one_unit_only(variant: str) -> None:
    """``only``: the stitch's occupants are compared with their own unit alone, and get
    exactly the options the whole listing has for it (terms and lines included)."""
    inst = generate("S", 2, variant)
    full = eligible_pairs(inst)
    rng = np.random.default_rng(0)
    only = np.full(len(inst.beneficiaries), -1, dtype=np.int64)
    settled = rng.choice(len(inst.beneficiaries), size=len(inst.beneficiaries) // 2, replace=False)
    # half of them on a unit they have an option for, the rest on any unit at all
    for k, b in enumerate(settled.tolist()):
        units = full.unit[full.of_beneficiary(b)]
        only[b] = int(units[0]) if k % 2 == 0 and units.size else int(rng.integers(inst.n_units))
    got = eligible_pairs(inst, only=only)
    keep = (only[full.beneficiary] < 0) | (only[full.beneficiary] == full.unit)
    for name in ("beneficiary", "unit", "contribution_cents", "commute_m", "term", "line"):
        assert np.array_equal(getattr(got, name), getattr(full, name)[keep]), name
    assert np.array_equal(got.commute_km, full.commute_km[keep])
    assert keep.sum() < len(full)


@pytest.mark.parametrize("seed", [1, 3])
def test_pairs_checked_one_by_one_agree_with_the_listing(seed: int) -> None:
    """``eligible_among``: any (household, unit) pairs, households repeated, get the
    answer the whole listing gives (forbidden pairs never eligible)."""
    base = generate("S", seed)
    full = eligible_pairs(base)
    listed = sorted(engine_pairs(base, full))
    bid, uid = listed[len(listed) // 3]
    inst = base.replace(forbidden=(Forbidden(bid, uid),))
    full = eligible_pairs(inst)
    have = set(zip(full.beneficiary.tolist(), full.unit.tolist(), strict=True))
    rng = np.random.default_rng(seed)
    # half the pairs listed (the forbidden one among them), half any pair at all
    some = rng.choice(len(full), size=2_000)
    bi = np.concatenate(
        [full.beneficiary[some], rng.integers(len(inst.beneficiaries), size=2_000)]
    ).astype(np.int64)
    ui = np.concatenate([full.unit[some], rng.integers(inst.n_units, size=2_000)]).astype(np.int64)
    bi = np.append(bi, inst.beneficiary_index[bid])
    ui = np.append(ui, inst.unit_index[uid])
    got = eligible_among(inst, bi, ui)
    want = np.array([(b, u) in have for b, u in zip(bi.tolist(), ui.tolist(), strict=True)])
    assert np.array_equal(got, want)
    assert got.sum() >= 2_000 and not got[-1]
    assert eligible_among(inst, bi[:0], ui[:0]).size == 0
