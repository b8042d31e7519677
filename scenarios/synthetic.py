"""The Puglia instance generator: realistic synthetic allocation rounds at any scale.

:func:`generate` draws an :class:`~matching.instance.Instance` from a seed, so that the
same ``(scale, seed)`` always gives the same instance. What it draws, and why:

- **Beneficiaries** work in the farm districts of :data:`places.sites.HUBS`
  (Capitanata dominates; the Arneo around Nardò and the Bari plain are smaller): their
  workplace is uniform in the district's disc. About 70% are single men, 8% single
  women, 10% couples and 12% families with one to three minors; gender ``X`` is rare
  (1%). Monthly incomes are farm wages, 400 to 1,200 euro (families and couples a bit
  more). Most accept a commute of 15 to 35 km. About half live in an informal
  settlement (more in Capitanata), 30% are victims of labour exploitation, 5% have a
  health condition (and are likelier to need a step-free home); each tag raises the
  priority (1 to 10). Single adults mostly accept a dwelling or a bed, some only a bed;
  couples and families only a dwelling.
- **Dwellings** and **shared flats** are in the towns where each district's workers
  look for housing, drawn by district weight and then by town population, within
  1.5 km of the town centre. Areas follow the number of bedrooms; rents follow the
  local market (from about 4 euro/m² in the small towns to 9 in Bari). A shared flat
  has 2 to 5 rooms of 1 to 4 beds, at 120 to 250 euro a bed.
- **Funds**: a regional fund open to all, a victims' fund (``exploitation_victim``)
  and a municipal fund (``informal_settlement``), whose total covers 40-60% of what a
  year of contributions for every beneficiary would cost, so money binds.

Everything is drawn with NumPy in a few vectorised passes and the frozen records are
built directly, so a 20,000-household instance takes well under a second.

Variants (``variant=``) add instance@2's parts on top of the same draws:

- ``"seasonal"``: a 12-month horizon from January 2027; each household stays for the
  harvest of its district (:data:`CALENDARS`: tomatoes July to September and asparagus
  March to May in the Capitanata, watermelons June to August in the Salento, table grapes
  July to October around Bari, olives in the autumn, a quarter to a third all year), a
  month more or less; 40% of the shared flats are *foresterie* open June to October; and
  shuttle lines (:func:`_lines`) run from a camp and a housing town through the farm
  district (a walk of up to 3 km to a stop), the first of them already running, the
  others proposed, with a transport budget for about half of those.
- ``"landlords"``: 30% of the dwellings come with terms (the market rent; an agreed rent
  15% lower with a one-off payment of 1,000 to 2,000 euro and the agency's guarantee), a
  guarantee fund for about half of the agreed terms, safety zones around a camp for 10%
  of the victims, and acceptable areas (the two towns nearest work) for 10% of the
  families with minors.
- ``"full"``: both.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.instance import (
    INSTANCE_FORMAT,
    INSTANCE_FORMAT_V2,
    Beneficiary,
    Dwelling,
    Fund,
    Guarantee,
    Instance,
    Point,
    Policy,
    Room,
    SharedFlat,
    Shuttle,
    Span,
    Stop,
    Term,
    UnitKind,
    Zone,
)
from places.sites import HUBS, PLACE_BY_NAME, Hub, Place

__all__ = [
    "CALENDARS",
    "FUND_IDS",
    "HOUSING_RADIUS_KM",
    "SCALES",
    "TAGS",
    "VARIANTS",
    "generate",
    "legal_max_array",
    "scale_counts",
]

#: The generator's variants (see the module docstring).
VARIANTS: tuple[str, ...] = ("plain", "seasonal", "landlords", "full")

HORIZON = Span(2027 * 12, 2027 * 12 + 11)
"""January to December 2027."""

#: Harvest calendars by district family: (first month, last month, share), months 0-11.
CALENDARS: dict[str, tuple[tuple[int, int, float], ...]] = {
    # tomatoes, asparagus, olives, all year
    "capitanata": ((6, 8, 0.45), (2, 4, 0.15), (9, 11, 0.15), (0, 11, 0.25)),
    # watermelons, olives, all year
    "salento": ((5, 7, 0.45), (9, 11, 0.25), (0, 11, 0.30)),
    # table grapes, cherries, olives, all year
    "bari": ((6, 9, 0.45), (4, 5, 0.15), (10, 11, 0.10), (0, 11, 0.30)),
}
FORESTERIA = (5, 9)
"""June to October: when a farm's guest house (foresteria) is open."""
LINES_BY_SCALE = {"XS": 1, "S": 2, "M": 4, "L": 10, "XL": 30}

#: Named scales: (households, dwellings, shared flats).
SCALES: dict[str, tuple[int, int, int]] = {
    "XS": (30, 12, 3),
    "S": (200, 80, 20),
    "M": (2_000, 800, 200),
    "L": (20_000, 8_000, 2_000),
    "XL": (200_000, 80_000, 20_000),
}

#: The beneficiary tags the generator uses.
TAGS: tuple[str, ...] = ("exploitation_victim", "informal_settlement", "health")

#: Fund ids: the regional fund (open to all), the victims' fund, the municipal fund.
FUND_IDS: tuple[str, ...] = ("regional", "victims", "municipal")

KM_PER_DEGREE = 6371.0088 * math.pi / 180.0  # on the mean Earth sphere
HOUSING_RADIUS_KM = 1.5

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class _Towns:
    """The housing towns, as arrays, with the probability of housing being in each."""

    places: tuple[Place, ...]
    lat: FloatArray
    lon: FloatArray
    rent_eur_m2: FloatArray
    p: FloatArray


def scale_counts(scale: str | Sequence[int]) -> tuple[int, int, int]:
    """``(households, dwellings, shared_flats)`` of a named scale or an explicit triple.

    Raises
    ------
    ValueError
        For an unknown scale name or counts that are not three non-negative integers.
    """
    if isinstance(scale, str):
        try:
            return SCALES[scale.upper()]
        except KeyError:
            raise ValueError(
                f"unknown scale {scale!r}; use one of {', '.join(SCALES)} "
                "or a (households, dwellings, shared_flats) triple"
            ) from None
    counts = tuple(scale)
    if len(counts) != 3 or not all(
        isinstance(c, int | np.integer) and not isinstance(c, bool) and c >= 0 for c in counts
    ):
        raise ValueError(
            "scale must be a name or three non-negative integers "
            f"(households, dwellings, shared_flats), got {scale!r}"
        )
    return int(counts[0]), int(counts[1]), int(counts[2])


def generate(scale: str | tuple[int, int, int], seed: int, variant: str = "plain") -> Instance:
    """A synthetic allocation round in Puglia.

    Parameters
    ----------
    scale
        ``"XS"`` (30 households, 12 dwellings, 3 shared flats), ``"S"`` (200/80/20),
        ``"M"`` (2,000/800/200), ``"L"`` (20,000/8,000/2,000), ``"XL"``
        (200,000/80,000/20,000), or an explicit ``(households, dwellings, shared_flats)``.
    seed
        Seed of :func:`numpy.random.default_rng`; the same scale and seed give the same
        instance.
    variant
        ``"plain"`` (an instance@1) or one of the instance@2 variants of the module
        docstring; the households, units and funds are the plain ones, with more on top.

    Returns
    -------
    Instance
        Named ``synthetic-<scale>-seed<seed>``, with the default policy (ratio 0.30,
        cap 300 euro, 12 months, circuity 1.3, objective in persons), three funds, and
        no pinned or forbidden pairs. Ids are ``B00001``, ``D00001``, ``F0001`` and
        rooms ``F0001-R1``.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; use one of {', '.join(VARIANTS)}")
    n_b, n_d, n_f = scale_counts(scale)
    label = scale.upper() if isinstance(scale, str) else f"{n_b}x{n_d}x{n_f}"
    # Independent streams, so that e.g. the dwellings do not change with the households.
    rng_b, rng_d, rng_f, rng_m = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    towns = _housing_towns(HUBS)
    policy = Policy(
        affordability_ratio=Decimal("0.30"),
        max_contribution_cents=30000,
        contribution_months=12,
        circuity=1.3,
        objective_unit="persons",
    )

    beneficiaries, b_arrays = _beneficiaries(rng_b, n_b, HUBS)
    dwellings, d_rent, d_capacity = _dwellings(rng_d, n_d, towns)
    flats, f_rent = _shared_flats(rng_f, n_f, towns)
    if variant == "plain":
        funds = _funds(rng_m, policy, b_arrays, d_rent, d_capacity, f_rent)
        return Instance(
            name=f"synthetic-{label}-seed{seed}",
            policy=policy,
            funds=funds,
            beneficiaries=beneficiaries,
            dwellings=dwellings,
            shared_flats=flats,
            format=INSTANCE_FORMAT,
        )
    # the instance@2 parts draw from streams of their own: the plain draws stay the same
    rng_s, rng_t = (np.random.default_rng(s) for s in np.random.SeedSequence([seed, 2]).spawn(2))
    lines: tuple[Shuttle, ...] = ()
    months = np.full(n_b, 12, dtype=np.int64)
    if variant in ("seasonal", "full"):
        beneficiaries, months = _seasons(rng_s, beneficiaries, b_arrays["hub"])
        flats = _foresterie(rng_s, flats)
        lines, budget = _lines(rng_s, LINES_BY_SCALE.get(label, max(1, n_b // 2000)), towns)
        policy = Policy(
            affordability_ratio=policy.affordability_ratio,
            max_contribution_cents=policy.max_contribution_cents,
            contribution_months=12,
            circuity=policy.circuity,
            objective_unit=policy.objective_unit,
            horizon=HORIZON,
            walk_km=3.0,
            transport_budget_cents=budget,
        )
    if variant in ("landlords", "full"):
        beneficiaries, dwellings, policy = _landlords(
            rng_t, beneficiaries, dwellings, policy, b_arrays, towns
        )
    funds = _funds(rng_m, policy, b_arrays, d_rent, d_capacity, f_rent, months)
    return Instance(
        name=f"synthetic-{label}-{variant}-seed{seed}",
        policy=policy,
        funds=funds,
        beneficiaries=beneficiaries,
        dwellings=dwellings,
        shared_flats=flats,
        shuttles=lines,
        format=INSTANCE_FORMAT_V2,
    )


# --------------------------------------------------------------------------- geometry


def _disc(
    rng: np.random.Generator, lat: FloatArray, lon: FloatArray, radius_km: FloatArray | float
) -> tuple[FloatArray, FloatArray]:
    """Points uniform in discs of ``radius_km`` around (lat, lon), rounded to ~1 m."""
    n = lat.shape[0]
    r = np.sqrt(rng.random(n)) * radius_km
    theta = rng.random(n) * (2.0 * math.pi)
    dlat = r * np.cos(theta) / KM_PER_DEGREE
    dlon = r * np.sin(theta) / (KM_PER_DEGREE * np.cos(np.radians(lat)))
    return np.round(lat + dlat, 5), np.round(lon + dlon, 5)


def _ids(prefix: str, n: int, width: int) -> list[str]:
    w = max(width, len(str(n)))
    return [f"{prefix}{i:0{w}d}" for i in range(1, n + 1)]


def _housing_towns(hubs: Sequence[Hub]) -> _Towns:
    """Towns where housing is drawn: by hub weight, then by population within the hub."""
    names: list[str] = []
    for h in hubs:
        names += [t for t in h.towns if t not in names]
    index = {n: i for i, n in enumerate(names)}
    p = np.zeros(len(names))
    total_w = sum(h.weight for h in hubs)
    for h in hubs:
        pops = np.array([PLACE_BY_NAME[t].population for t in h.towns], dtype=float)
        for t, share in zip(h.towns, pops / pops.sum(), strict=True):
            p[index[t]] += h.weight / total_w * share
    places = tuple(PLACE_BY_NAME[n] for n in names)
    return _Towns(
        places=places,
        lat=np.array([t.lat for t in places]),
        lon=np.array([t.lon for t in places]),
        rent_eur_m2=np.array([t.rent_eur_m2 for t in places]),
        p=p / p.sum(),
    )


# --------------------------------------------------------------------------- households

_TAG_SETS: tuple[tuple[str, ...], ...] = tuple(
    tuple(t for k, t in enumerate(TAGS) if code >> k & 1) for code in range(8)
)
_ACCEPTS: tuple[tuple[UnitKind, ...], ...] = (("dwelling", "bed"), ("bed",), ("dwelling",))
_GENDERS = np.array(["M", "F", "X"])
_COMMUTES = np.array([10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0])
_COMMUTE_P = np.array([0.03, 0.14, 0.22, 0.26, 0.20, 0.12, 0.03])


def _beneficiaries(
    rng: np.random.Generator,
    n: int,
    hubs: Sequence[Hub],
) -> tuple[tuple[Beneficiary, ...], dict[str, Any]]:
    weights = np.array([h.weight for h in hubs])
    hub = rng.choice(len(hubs), size=n, p=weights / weights.sum())
    h_lat = np.array([h.lat for h in hubs])[hub]
    h_lon = np.array([h.lon for h in hubs])[hub]
    w_lat, w_lon = _disc(rng, h_lat, h_lon, np.array([h.spread_km for h in hubs])[hub])

    # 0 single man, 1 single woman, 2 couple, 3 family with minors
    kind = rng.choice(4, size=n, p=[0.70, 0.08, 0.10, 0.12])
    family = kind == 3
    adults = np.where(kind >= 2, 2, 1)
    adults[family & (rng.random(n) < 0.30)] = 1  # single parents
    minors = np.where(family, rng.choice([1, 2, 3], size=n, p=[0.45, 0.35, 0.20]), 0)
    gender = np.select(
        [kind == 0, kind == 1, kind == 2],
        [0, 1, (rng.random(n) >= 0.80).astype(np.int64)],
        (rng.random(n) >= 0.65).astype(np.int64),
    )
    gender[rng.random(n) < 0.01] = 2

    mean = np.select([kind <= 1, kind == 2], [700.0, 900.0], 880.0)
    sd = np.where(kind <= 1, 140.0, 160.0)
    income_eur = np.clip(np.round(rng.normal(mean, sd) / 5.0) * 5.0, 400.0, 1200.0)
    income = (income_eur * 100).astype(np.int64)

    informal = rng.random(n) < np.array([h.informal_share for h in hubs])[hub]
    victim = rng.random(n) < np.where(informal, 0.42, 0.18)
    health = rng.random(n) < 0.05
    tag_code = (
        victim.astype(np.int64) | informal.astype(np.int64) << 1 | health.astype(np.int64) << 2
    )
    priority = np.clip(
        rng.integers(1, 5, size=n) + 2 * victim + 2 * informal + 2 * health + (minors > 0), 1, 10
    )

    single = (adults == 1) & (minors == 0)
    u = rng.random(n)
    accepts = np.where(single, np.select([u < 0.80, u < 0.95], [0, 1], 2), 2)
    step_free = rng.random(n) < np.where(health, 0.25, 0.02)
    commute = rng.choice(_COMMUTES, size=n, p=_COMMUTE_P)

    ids = _ids("B", n, 5)
    out = tuple(
        Beneficiary(
            id=i,
            adults=a,
            minors=m,
            gender=g,
            income_cents=inc,
            work=Point(la, lo),
            max_commute_km=c,
            needs_step_free=sf,
            priority=pr,
            accepts=_ACCEPTS[ac],
            tags=_TAG_SETS[tc],
        )
        for i, a, m, g, inc, la, lo, c, sf, pr, ac, tc in zip(
            ids,
            adults.tolist(),
            minors.tolist(),
            _GENDERS[gender].tolist(),
            income.tolist(),
            w_lat.tolist(),
            w_lon.tolist(),
            commute.tolist(),
            step_free.tolist(),
            priority.tolist(),
            accepts.tolist(),
            tag_code.tolist(),
            strict=True,
        )
    )
    arrays: dict[str, Any] = {
        "persons": adults + minors,
        "income": income,
        "takes_bed": single & (accepts <= 1),
        "hub": hub,
        "victim": victim,
        "minors": minors,
        "lat": w_lat,
        "lon": w_lon,
    }
    return out, arrays


# --------------------------------------------------------------------------- housing

_AREA_LO = np.array([28.0, 40.0, 60.0, 80.0, 100.0])
_AREA_HI = np.array([45.0, 65.0, 90.0, 115.0, 140.0])


def legal_max_array(area: FloatArray, bedrooms: IntArray) -> IntArray:
    """Vectorised :func:`matching.instance.legal_max_occupants` (DM 5 July 1975)."""
    studio = np.where(area >= 38, 2, np.where(area >= 28, 1, 0))
    # whole numbers of persons per threshold, compared exactly (the generator's areas are
    # whole square metres, so the quotients are exact)
    small = np.floor(area / 14)
    large = 4 + np.floor((area - 56) / 10)
    flat = np.where(area < 56, small, large)
    return np.where(bedrooms == 0, studio, flat).astype(np.int64)


def _dwellings(
    rng: np.random.Generator,
    n: int,
    towns: _Towns,
) -> tuple[tuple[Dwelling, ...], IntArray, IntArray]:
    town = rng.choice(len(towns.places), size=n, p=towns.p)
    lat, lon = _disc(rng, towns.lat[town], towns.lon[town], HOUSING_RADIUS_KM)
    bedrooms = rng.choice(5, size=n, p=[0.12, 0.30, 0.33, 0.20, 0.05])
    area = np.round(_AREA_LO[bedrooms] + (_AREA_HI[bedrooms] - _AREA_LO[bedrooms]) * rng.random(n))
    # Small flats cost more per m²; each flat varies around its town's market rent.
    premium = np.where(bedrooms == 0, 1.15, np.where(bedrooms == 1, 1.05, 1.0))
    per_m2 = np.clip(
        towns.rent_eur_m2[town] * premium * rng.lognormal(0.0, 0.10, size=n), 4.0, 10.0
    )
    rent = (np.round(area * per_m2 / 5.0) * 500).astype(np.int64)
    step_free = rng.random(n) < 0.25
    children_ok = rng.random(n) < 0.85
    legal = legal_max_array(area, bedrooms)
    certified = rng.random(n) < 0.10
    cert_value = np.maximum(legal - rng.integers(0, 2, size=n), 1)
    capacity = np.where(certified, np.minimum(legal, cert_value), legal)
    max_occ: list[int | None] = [
        int(c) if k else None for c, k in zip(cert_value.tolist(), certified.tolist(), strict=True)
    ]
    ids = _ids("D", n, 5)
    out = tuple(
        Dwelling(
            id=i,
            lat=la,
            lon=lo,
            area_m2=ar,
            bedrooms=b,
            rent_cents=r,
            step_free=sf,
            max_occupants=mo,
            children_ok=co,
        )
        for i, la, lo, ar, b, r, sf, mo, co in zip(
            ids,
            lat.tolist(),
            lon.tolist(),
            area.tolist(),
            bedrooms.tolist(),
            rent.tolist(),
            step_free.tolist(),
            max_occ,
            children_ok.tolist(),
            strict=True,
        )
    )
    return out, rent, capacity


def _shared_flats(
    rng: np.random.Generator,
    n: int,
    towns: _Towns,
) -> tuple[tuple[SharedFlat, ...], IntArray]:
    town = rng.choice(len(towns.places), size=n, p=towns.p)
    lat, lon = _disc(rng, towns.lat[town], towns.lon[town], HOUSING_RADIUS_KM)
    base = 120.0 + (towns.rent_eur_m2[town] - 4.0) * 16.0
    rent_eur = np.clip(np.round((base + rng.normal(0.0, 20.0, size=n)) / 5.0) * 5.0, 120.0, 250.0)
    rent = (rent_eur * 100).astype(np.int64)
    step_free = rng.random(n) < 0.25
    n_rooms = rng.integers(2, 6, size=n)
    beds = rng.choice([1, 2, 3, 4], size=int(n_rooms.sum()), p=[0.25, 0.45, 0.20, 0.10])
    ids = _ids("F", n, 4)
    out: list[SharedFlat] = []
    start = 0
    beds_list = beds.tolist()
    for i, la, lo, r, sf, k in zip(
        ids,
        lat.tolist(),
        lon.tolist(),
        rent.tolist(),
        step_free.tolist(),
        n_rooms.tolist(),
        strict=True,
    ):
        rooms = tuple(Room(id=f"{i}-R{j + 1}", beds=beds_list[start + j]) for j in range(k))
        start += k
        out.append(
            SharedFlat(id=i, lat=la, lon=lo, rent_per_bed_cents=r, step_free=sf, rooms=rooms)
        )
    return tuple(out), rent


# --------------------------------------------------------------------------- funds


def _funds(
    rng: np.random.Generator,
    policy: Policy,
    b: dict[str, Any],
    d_rent: IntArray,
    d_capacity: IntArray,
    f_rent: IntArray,
    months: IntArray | None = None,
) -> tuple[Fund, ...]:
    """Three funds whose total covers 40-60% of everyone's contributions (a year of them,
    or each household's months of stay).

    Everyone's contribution is estimated from a typical unit for the household: the
    median bed for a single adult who takes a bed, else the median dwelling large enough
    for the household (the median dwelling when none is, 60 m² at 5 euro/m² when there
    are no dwellings at all).
    """
    persons: IntArray = b["persons"]
    income: IntArray = b["income"]
    num, den = policy.affordability_ratio.as_integer_ratio()
    pay = income * num // den  # floor(ratio * income), exactly
    fallback = 60 * 500
    median_d = int(np.median(d_rent)) if d_rent.size else fallback
    by_size = np.full(int(persons.max(initial=1)) + 1, median_d, dtype=np.int64)
    for k in range(1, by_size.size):
        fits = d_rent[d_capacity >= k]
        by_size[k] = int(np.median(fits)) if fits.size else median_d
    dwelling_rent = by_size[persons]
    bed_rent = int(np.median(f_rent)) if f_rent.size else median_d
    rent = np.where(b["takes_bed"], bed_rent, dwelling_rent)
    contribution = np.clip(rent - pay, 0, policy.max_contribution_cents)
    yearly = (
        int((contribution * months).sum())
        if months is not None
        else int(contribution.sum()) * policy.contribution_months
    )
    total = yearly * rng.uniform(0.40, 0.60)
    shares = (0.50, 0.25, 0.25)
    budgets = [int(total * s) // 10_000 * 10_000 for s in shares]  # whole hundreds of euro
    tags: tuple[tuple[str, ...], ...] = ((), ("exploitation_victim",), ("informal_settlement",))
    return tuple(
        Fund(id=f, budget_cents=bc, eligible_tags=t)
        for f, bc, t in zip(FUND_IDS, budgets, tags, strict=True)
    )


# --------------------------------------------------------------------------- instance@2


def _family(hub: Hub) -> str:
    if hub.lat < 40.6:
        return "salento"
    if hub.lat < 41.25:
        return "bari"
    return "capitanata"


def _seasons(
    rng: np.random.Generator, bens: tuple[Beneficiary, ...], hub: IntArray
) -> tuple[tuple[Beneficiary, ...], IntArray]:
    """Each household's stay: its district's harvest, a month more or less at each end."""
    n = len(bens)
    first = np.zeros(n, dtype=np.int64)
    last = np.full(n, 11, dtype=np.int64)
    for family, calendar in CALENDARS.items():
        mine = np.flatnonzero([_family(HUBS[h]) == family for h in hub.tolist()])
        if mine.size == 0:
            continue
        p = np.array([c[2] for c in calendar])
        pick = rng.choice(len(calendar), size=mine.size, p=p / p.sum())
        lo = np.array([c[0] for c in calendar])[pick]
        hi = np.array([c[1] for c in calendar])[pick]
        year_round = (lo == 0) & (hi == 11)
        lo = np.where(year_round, lo, np.clip(lo - rng.integers(0, 2, mine.size), 0, 11))
        hi = np.where(year_round, hi, np.clip(hi + rng.integers(0, 2, mine.size), 0, 11))
        first[mine], last[mine] = lo, hi
    out = tuple(
        dataclasses.replace(
            b, stay=None if (f == 0 and t == 11) else Span(HORIZON.first + f, HORIZON.first + t)
        )
        for b, f, t in zip(bens, first.tolist(), last.tolist(), strict=True)
    )
    return out, last - first + 1


def _foresterie(rng: np.random.Generator, flats: tuple[SharedFlat, ...]) -> tuple[SharedFlat, ...]:
    """40% of the shared flats are farms' guest houses, open June to October."""
    season = Span(HORIZON.first + FORESTERIA[0], HORIZON.first + FORESTERIA[1])
    open_in_season = rng.random(len(flats)) < 0.40
    return tuple(
        dataclasses.replace(f, available=season) if o else f
        for f, o in zip(flats, open_in_season.tolist(), strict=True)
    )


def _lines(rng: np.random.Generator, n: int, towns: _Towns) -> tuple[tuple[Shuttle, ...], int]:
    """``n`` shuttle lines from a camp (or a housing town) through a farm district.

    Each line stops at its origin, at one of the district's housing towns, at the
    district's centre and at four farm stops around it; the first runs already, the others
    are proposed. The transport budget opens about
    half of the proposed ones for the year.
    """
    weights = np.array([h.weight for h in HUBS])
    out: list[Shuttle] = []
    for k in range(n):
        h = HUBS[int(rng.choice(len(HUBS), p=weights / weights.sum()))]
        origins = [PLACE_BY_NAME[c] for c in h.camps] or [PLACE_BY_NAME[t] for t in h.towns]
        origin = origins[int(rng.integers(len(origins)))]
        town = PLACE_BY_NAME[h.towns[int(rng.integers(len(h.towns)))]]
        angle = rng.random() * 2 * math.pi
        farms = [(h.lat, h.lon)]
        for q in range(4):  # four farm stops half-way out, a quarter turn apart
            a = angle + q * math.pi / 2
            farms.append(
                (
                    h.lat + 0.5 * h.spread_km * math.cos(a) / KM_PER_DEGREE,
                    h.lon
                    + 0.5
                    * h.spread_km
                    * math.sin(a)
                    / (KM_PER_DEGREE * math.cos(math.radians(h.lat))),
                )
            )
        stops = (
            Stop("S1", round(origin.lat, 5), round(origin.lon, 5)),
            Stop("S2", round(town.lat, 5), round(town.lon, 5)),
            *(Stop(f"S{3 + q}", round(la, 5), round(lo, 5)) for q, (la, lo) in enumerate(farms)),
        )
        out.append(
            Shuttle(
                id=f"L{k + 1:02d}",
                stops=stops,
                seats=int(rng.choice([16, 20, 25, 30])),
                monthly_cost_cents=int(rng.integers(35, 51)) * 10_000,
                running=k == 0,
            )
        )
    proposed = sorted(x.monthly_cost_cents * HORIZON.months for x in out if not x.running)
    budget = sum(proposed[: (len(proposed) + 1) // 2])
    del towns
    return tuple(out), budget


def _landlords(
    rng: np.random.Generator,
    bens: tuple[Beneficiary, ...],
    dws: tuple[Dwelling, ...],
    policy: Policy,
    b: dict[str, Any],
    towns: _Towns,
) -> tuple[tuple[Beneficiary, ...], tuple[Dwelling, ...], Policy]:
    """Landlords' terms, the guarantee, safety zones and acceptable areas."""
    n_d = len(dws)
    has_terms = rng.random(n_d) < 0.30
    one_off = rng.integers(10, 21, size=n_d) * 10_000
    d_lat = np.array([d.lat for d in dws])
    d_lon = np.array([d.lon for d in dws])
    town_of = _nearest_town(d_lat, d_lon, towns)
    out_d = []
    exposure = 0
    for k, d in enumerate(dws):
        area = towns.places[town_of[k]].istat
        if has_terms[k]:
            agreed = round(d.rent_cents * 0.85 / 500) * 500
            exposure += agreed * 3
            terms = (
                Term("market", d.rent_cents),
                Term("agreed", agreed, one_off_cents=int(one_off[k]), guaranteed=True),
            )
            out_d.append(dataclasses.replace(d, terms=terms, rent_cents=0, area=area))
        else:
            out_d.append(dataclasses.replace(d, area=area))
    victims = np.flatnonzero(b["victim"] & (rng.random(len(bens)) < 0.10))
    families = np.flatnonzero((b["minors"] > 0) & (rng.random(len(bens)) < 0.10))
    out_b = list(bens)
    for i in victims.tolist():
        h = HUBS[int(b["hub"][i])]
        if not h.camps:
            continue
        camp = PLACE_BY_NAME[h.camps[int(rng.integers(len(h.camps)))]]
        out_b[i] = dataclasses.replace(
            out_b[i], avoid=(Zone(camp.lat, camp.lon, float(rng.choice([5.0, 8.0, 12.0]))),)
        )
    for i in families.tolist():
        dist = (towns.lat - b["lat"][i]) ** 2 + (
            (towns.lon - b["lon"][i]) * math.cos(math.radians(b["lat"][i]))
        ) ** 2
        near = [towns.places[j].istat for j in np.argsort(dist)[:2].tolist()]
        out_b[i] = dataclasses.replace(out_b[i], areas=tuple(x for x in near if x))
    guarantee = Guarantee(capacity_cents=int(exposure * 0.5) // 10_000 * 10_000, months=3)
    return tuple(out_b), tuple(out_d), dataclasses.replace(policy, guarantee=guarantee)


def _nearest_town(lat: FloatArray, lon: FloatArray, towns: _Towns) -> IntArray:
    """The housing town each point was drawn around (the nearest centre)."""
    cos = np.cos(np.radians(lat))[:, None]
    d = (lat[:, None] - towns.lat[None, :]) ** 2 + ((lon[:, None] - towns.lon[None, :]) * cos) ** 2
    return np.asarray(np.argmin(d, axis=1), dtype=np.int64)
