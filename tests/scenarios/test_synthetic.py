"""Tests of the Puglia generator (scenarios.synthetic), its places table and the example round."""

from __future__ import annotations

import math
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from matching.instance import Instance, legal_max_occupants, load_instance, save_instance
from places.sites import HUBS, PLACES, PUGLIA_BBOX, camps, check_table, place, towns
from scenarios.synthetic import (
    FUND_IDS,
    HOUSING_RADIUS_KM,
    SCALES,
    generate,
    legal_max_array,
    scale_counts,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "foggia-round.json"


@pytest.fixture(scope="module")
def medium() -> Instance:
    return generate("M", 11)


FloatArray = npt.NDArray[np.float64]


def _km(lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray) -> FloatArray:
    """Great-circle distance in km (haversine; ample for 0.1 km tolerances)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    out: FloatArray = 2 * 6371.0088 * np.arcsin(np.sqrt(a))
    return out


# --------------------------------------------------------------------------- sizes, seeds


@pytest.mark.parametrize("scale", ["XS", "S", "M", "L"])
def test_sizes_per_scale(scale: str) -> None:
    inst = generate(scale, 1)
    n_b, n_d, n_f = SCALES[scale]
    assert (len(inst.beneficiaries), len(inst.dwellings), len(inst.shared_flats)) == (n_b, n_d, n_f)
    assert inst.name == f"synthetic-{scale}-seed1"


@pytest.mark.slow
def test_xl_size() -> None:
    inst = generate("XL", 1)
    assert (len(inst.beneficiaries), len(inst.dwellings), len(inst.shared_flats)) == SCALES["XL"]
    assert inst.beneficiaries[-1].id == "B200000"


def test_scale_names_and_explicit_counts() -> None:
    assert SCALES == {
        "XS": (30, 12, 3),
        "S": (200, 80, 20),
        "M": (2000, 800, 200),
        "L": (20000, 8000, 2000),
        "XL": (200000, 80000, 20000),
    }
    assert scale_counts("xs") == (30, 12, 3)
    inst = generate((7, 3, 2), 5)
    assert (len(inst.beneficiaries), len(inst.dwellings), len(inst.shared_flats)) == (7, 3, 2)
    assert inst.name == "synthetic-7x3x2-seed5"


def test_empty_and_one_sided_instances() -> None:
    empty = generate((0, 0, 0), 1)
    assert empty.beneficiaries == () and empty.dwellings == () and empty.shared_flats == ()
    assert all(f.budget_cents == 0 for f in empty.funds)
    only_people = generate((25, 0, 0), 1)
    assert len(only_people.beneficiaries) == 25
    assert sum(f.budget_cents for f in only_people.funds) > 0


@pytest.mark.parametrize("bad", ["XXL", (1, 2), (1, -2, 3), (1.5, 2, 3), (True, 1, 1)])
def test_bad_scale_is_a_clear_error(bad: object) -> None:
    with pytest.raises(ValueError, match="scale"):
        generate(bad, 1)  # type: ignore[arg-type]


def test_same_seed_same_instance() -> None:
    assert generate("S", 3) == generate("S", 3)
    assert generate((50, 20, 5), 9) == generate((50, 20, 5), 9)


def test_different_seed_different_instance() -> None:
    a, b = generate("S", 3), generate("S", 4)
    assert a != b
    assert a.beneficiaries != b.beneficiaries
    assert a.dwellings != b.dwellings
    assert a.shared_flats != b.shared_flats


def test_housing_does_not_depend_on_the_number_of_households() -> None:
    assert generate((10, 40, 5), 8).dwellings == generate((90, 40, 5), 8).dwellings


@pytest.mark.parametrize("scale", ["XS", "S", "M", "L", (13, 0, 4)])
def test_round_trip_through_the_file_format(
    scale: str | tuple[int, int, int], tmp_path: Path
) -> None:
    inst = generate(scale, 2)
    path = tmp_path / "instance.json"
    save_instance(inst, path)
    back = load_instance(path)
    assert back == inst
    assert back.policy.affordability_ratio == Decimal("0.30")


# --------------------------------------------------------------------------- realism


def test_ids(medium: Instance) -> None:
    assert [b.id for b in medium.beneficiaries[:2]] == ["B00001", "B00002"]
    assert medium.dwellings[0].id == "D00001"
    assert medium.shared_flats[0].id == "F0001"
    for f in medium.shared_flats:
        assert re.fullmatch(r"F\d{4}", f.id)
        assert [r.id for r in f.rooms] == [f"{f.id}-R{k}" for k in range(1, len(f.rooms) + 1)]
    assert medium.pinned == () and medium.forbidden == ()


def test_policy_and_funds(medium: Instance) -> None:
    p = medium.policy
    assert (
        p.affordability_ratio,
        p.max_contribution_cents,
        p.contribution_months,
        p.circuity,
        p.objective_unit,
    ) == (Decimal("0.30"), 30000, 12, 1.3, "persons")
    assert tuple(f.id for f in medium.funds) == FUND_IDS
    assert [f.eligible_tags for f in medium.funds] == [
        (),
        ("exploitation_victim",),
        ("informal_settlement",),
    ]
    budgets = [f.budget_cents for f in medium.funds]
    assert all(b > 0 and b % 10_000 == 0 for b in budgets)
    assert budgets[0] > budgets[1] and budgets[0] > budgets[2]
    # Money binds: the funds cannot pay the cap for a year for everyone, far from it.
    total = sum(budgets)
    everyone_at_cap = len(medium.beneficiaries) * p.max_contribution_cents * 12
    assert total < 0.25 * everyone_at_cap


def test_budgets_scale_with_households() -> None:
    small = sum(f.budget_cents for f in generate("S", 5).funds)
    large = sum(f.budget_cents for f in generate("M", 5).funds)
    assert 5 < large / small < 20


def test_households(medium: Instance) -> None:
    bs = medium.beneficiaries
    n = len(bs)
    kind = Counter(
        "single" if b.single_adult else "couple" if b.minors == 0 else "family" for b in bs
    )
    single_men = sum(b.single_adult and b.gender == "M" for b in bs)
    single_women = sum(b.single_adult and b.gender == "F" for b in bs)
    assert 0.64 < single_men / n < 0.76
    assert 0.05 < single_women / n < 0.11
    assert 0.07 < kind["couple"] / n < 0.13
    assert 0.09 < kind["family"] / n < 0.15
    assert 0 < sum(b.gender == "X" for b in bs) / n < 0.025
    for b in bs:
        assert b.adults in (1, 2) and 0 <= b.minors <= 3
        assert b.minors == 0 or b.accepts == ("dwelling",)
        assert b.single_adult or b.accepts == ("dwelling",)
        assert b.accepts in (("dwelling", "bed"), ("bed",), ("dwelling",))
        assert 40_000 <= b.income_cents <= 120_000 and b.income_cents % 500 == 0
        assert 10 <= b.max_commute_km <= 40
        assert 1 <= b.priority <= 10
        assert set(b.tags) <= {"exploitation_victim", "informal_settlement", "health"}
    commute = np.array([b.max_commute_km for b in bs])
    assert ((commute >= 15) & (commute <= 35)).mean() > 0.9
    tags = Counter(t for b in bs for t in b.tags)
    assert 0.25 < tags["exploitation_victim"] / n < 0.35
    assert 0.43 < tags["informal_settlement"] / n < 0.57
    assert 0.03 < tags["health"] / n < 0.07
    assert 0.015 < sum(b.needs_step_free for b in bs) / n < 0.05
    assert sum(b.accepts == ("bed",) for b in bs) > 0
    # tags raise the priority
    tagged = np.mean([b.priority for b in bs if b.tags])
    untagged = np.mean([b.priority for b in bs if not b.tags])
    assert tagged > untagged + 1
    # families earn a bit more than single adults
    fam = np.mean([b.income_cents for b in bs if b.minors])
    single = np.mean([b.income_cents for b in bs if b.single_adult])
    assert fam > single


def test_workplaces_are_in_the_farm_districts(medium: Instance) -> None:
    lat = np.array([b.work.lat for b in medium.beneficiaries])
    lon = np.array([b.work.lon for b in medium.beneficiaries])
    inside = np.zeros((len(HUBS), lat.size), dtype=bool)
    for k, h in enumerate(HUBS):
        inside[k] = (
            _km(lat, lon, np.full_like(lat, h.lat), np.full_like(lon, h.lon)) <= h.spread_km + 0.05
        )
    assert inside.any(axis=0).all()
    capitanata = lat > 41.15
    assert capitanata.mean() > 0.7  # Capitanata dominates
    assert (lat < 40.5).mean() > 0.04  # the Arneo around Nardò is there too


def test_dwellings(medium: Instance) -> None:
    lo = {0: 28, 1: 40, 2: 60, 3: 80, 4: 100}
    hi = {0: 45, 1: 65, 2: 90, 3: 115, 4: 140}
    ds = medium.dwellings
    for d in ds:
        assert lo[d.bedrooms] <= d.area_m2 <= hi[d.bedrooms]
        assert d.area_m2 == int(d.area_m2)
        per_m2 = d.rent_cents / 100 / d.area_m2
        assert 4.0 - 2.5 / d.area_m2 <= per_m2 <= 10.0 + 2.5 / d.area_m2
        assert d.rent_cents % 500 == 0
        assert d.capacity >= 1
        if d.max_occupants is not None:
            assert 1 <= d.max_occupants <= d.legal_max
    n = len(ds)
    assert 0.18 < sum(d.step_free for d in ds) / n < 0.32
    assert 0.80 < sum(d.children_ok for d in ds) / n < 0.90
    assert 0.04 < sum(d.max_occupants is not None for d in ds) / n < 0.16
    assert {d.bedrooms for d in ds} == {0, 1, 2, 3, 4}


def test_rents_follow_the_town(medium: Instance) -> None:
    bari, small = place("Bari"), place("Stornara")

    def per_m2_near(lat: float, lon: float) -> list[float]:
        return [
            d.rent_cents / 100 / d.area_m2
            for d in medium.dwellings
            if _km(np.array(d.lat), np.array(d.lon), np.array(lat), np.array(lon)) < 2
        ]

    bari_rents, small_rents = per_m2_near(bari.lat, bari.lon), per_m2_near(small.lat, small.lon)
    assert bari_rents and small_rents
    assert np.median(bari_rents) > np.median(small_rents) + 3


def test_shared_flats(medium: Instance) -> None:
    for f in medium.shared_flats:
        assert 12_000 <= f.rent_per_bed_cents <= 25_000 and f.rent_per_bed_cents % 500 == 0
        assert 2 <= len(f.rooms) <= 5
        assert all(1 <= r.beds <= 4 for r in f.rooms)
    beds = Counter(r.beds for f in medium.shared_flats for r in f.rooms)
    assert set(beds) == {1, 2, 3, 4}


def test_housing_is_near_a_town_centre(medium: Instance) -> None:
    ts = [t for t in towns()]
    t_lat = np.array([t.lat for t in ts])
    t_lon = np.array([t.lon for t in ts])
    units = [(d.lat, d.lon) for d in medium.dwellings] + [
        (f.lat, f.lon) for f in medium.shared_flats
    ]
    for lat, lon in units:
        d = _km(np.full_like(t_lat, lat), np.full_like(t_lon, lon), t_lat, t_lon)
        assert d.min() <= HOUSING_RADIUS_KM + 0.01
    camp_pts = [(c.lat, c.lon) for c in camps()]
    for lat, lon in units:  # nobody is offered a home in a camp
        for c_lat, c_lon in camp_pts:
            assert (lat, lon) != (c_lat, c_lon)


def test_legal_max_array_matches_the_scalar_rule() -> None:
    areas = np.arange(20.0, 160.0, 0.5)
    for bedrooms in range(5):
        got = legal_max_array(areas, np.full(areas.size, bedrooms))
        want = [legal_max_occupants(float(a), bedrooms) for a in areas]
        assert got.tolist() == want


# --------------------------------------------------------------------------- places


def test_places_are_in_puglia() -> None:
    lat0, lat1, lon0, lon1 = PUGLIA_BBOX
    assert (lat0, lat1, lon0, lon1) == (39.7, 42.3, 14.9, 18.6)
    for p in PLACES:
        assert lat0 <= p.lat <= lat1 and lon0 <= p.lon <= lon1, p.name
    for h in HUBS:
        assert lat0 <= h.lat <= lat1 and lon0 <= h.lon <= lon1, h.name
    assert check_table() == []


@pytest.mark.parametrize(
    ("name", "lat", "lon"),
    [
        ("Foggia", 41.4622, 15.5446),
        ("San Severo", 41.6856, 15.3815),
        ("Cerignola", 41.2652, 15.8997),
        ("Lucera", 41.5057, 15.3357),
        ("Manfredonia", 41.6264, 15.9100),
        ("Rignano Garganico", 41.6770, 15.5880),
        ("Nardò", 40.1790, 18.0330),
        ("Bari", 41.1171, 16.8719),
    ],
)
def test_known_coordinates(name: str, lat: float, lon: float) -> None:
    p = place(name)
    assert math.isclose(p.lat, lat, abs_tol=0.01) and math.isclose(p.lon, lon, abs_tol=0.01)


def test_places_table_contents() -> None:
    names = {p.name for p in PLACES}
    for n in (
        "San Marco in Lamis",
        "Apricena",
        "Torremaggiore",
        "Orta Nova",
        "Stornara",
        "Stornarella",
        "Ordona",
        "Carapelle",
        "Trinitapoli",
        "San Ferdinando di Puglia",
        "Zapponeta",
        "Troia",
        "Ascoli Satriano",
        "San Giovanni Rotondo",
        "Poggio Imperiale",
        "Lesina",
        "San Paolo di Civitate",
        "Serracapriola",
        "Copertino",
        "Leverano",
        "Porto Cesareo",
        "Galatone",
        "Lecce",
        "Bitonto",
        "Altamura",
        "Gravina in Puglia",
        "Acquaviva delle Fonti",
        "Adelfia",
        "Noicattaro",
        "Rutigliano",
        "Conversano",
        "Andria",
        "Barletta",
        "Canosa di Puglia",
    ):
        assert n in names
    assert {c.name for c in camps()} == {
        "Borgo Mezzanone",
        "Torretta Antonacci (Gran Ghetto)",
        "Borgo Tre Titoli",
        "Palmori",
    }
    assert all(c.approximate and c.istat is None for c in camps())
    assert place("Foggia").istat == "071024" and place("Trinitapoli").province == "BT"
    with pytest.raises(KeyError, match="unknown place"):
        place("Atlantide")


# --------------------------------------------------------------------------- example


def test_example_round_loads(tmp_path: Path) -> None:
    inst = load_instance(EXAMPLE)
    assert inst.name == "foggia-2026-07"
    assert 55 <= len(inst.beneficiaries) <= 65
    assert 20 <= len(inst.dwellings) <= 30 and 5 <= len(inst.shared_flats) <= 7
    assert {f.id for f in inst.funds} == {"regional", "victims", "municipal"}
    assert 1 <= len(inst.pinned) <= 2 and len(inst.forbidden) == 1
    assert any(p.room is not None for p in inst.pinned)
    assert any("informal_settlement" in b.tags for b in inst.beneficiaries)
    assert any(b.needs_step_free for b in inst.beneficiaries)
    biggest = max(b.persons for b in inst.beneficiaries)
    assert biggest > max(d.capacity for d in inst.dwellings)  # one family fits nowhere
    save_instance(inst, tmp_path / "again.json")
    assert load_instance(tmp_path / "again.json") == inst


# --------------------------------------------------------------------------- variants


@pytest.mark.parametrize("variant", ["seasonal", "landlords", "full"])
def test_variants_are_deterministic_instance2_rounds(variant: str) -> None:
    from matching.instance import INSTANCE_FORMAT_V2, instance_from_dict

    a, b = generate("S", 3, variant), generate("S", 3, variant)
    assert a == b and a.format == INSTANCE_FORMAT_V2
    assert instance_from_dict(a.to_dict()) == a  # written and read back as the contract says
    plain = generate("S", 3)
    # the plain draws stay: the same households at the same workplaces
    assert [x.work for x in a.beneficiaries] == [x.work for x in plain.beneficiaries]


def test_seasons_follow_the_districts_harvests() -> None:
    from scenarios.synthetic import FORESTERIA, HORIZON

    inst = generate("M", 1, "seasonal")
    stays = [b.stay for b in inst.beneficiaries if b.stay is not None]
    # most stay for a season, a quarter to a third all year
    assert 0.55 < len(stays) / len(inst.beneficiaries) < 0.85
    summer = sum(1 for x in stays if x.first <= HORIZON.first + 7 <= x.last)
    assert summer > len(stays) / 3  # August: tomatoes, watermelons, grapes
    open_in_season = [f for f in inst.shared_flats if f.available is not None]
    assert 0.25 < len(open_in_season) / len(inst.shared_flats) < 0.55
    assert {
        (f.available.first - HORIZON.first, f.available.last - HORIZON.first)
        for f in open_in_season
        if f.available
    } == {FORESTERIA}
    assert len(inst.shuttles) == 4 and inst.shuttles[0].running
    assert not any(x.running for x in inst.shuttles[1:])
    assert inst.policy.transport_budget_cents and inst.policy.walk_km == 3.0


def test_landlords_terms_guarantee_zones_and_areas() -> None:
    inst = generate("M", 2, "landlords")
    with_terms = [d for d in inst.dwellings if d.terms]
    assert 0.2 < len(with_terms) / len(inst.dwellings) < 0.4
    for d in with_terms:
        market, agreed = d.terms
        assert agreed.rent_cents < market.rent_cents and agreed.guaranteed
        assert 100_000 <= agreed.one_off_cents <= 200_000
    assert inst.policy.guarantee is not None and inst.policy.guarantee.capacity_cents > 0
    assert any(b.avoid for b in inst.beneficiaries)
    assert any(b.areas for b in inst.beneficiaries)
    assert all(d.area for d in inst.dwellings)
