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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.instance import (
    Beneficiary,
    Dwelling,
    Fund,
    Instance,
    Point,
    Policy,
    Room,
    SharedFlat,
    UnitKind,
)
from places.sites import HUBS, PLACE_BY_NAME, Hub, Place

__all__ = ["FUND_IDS", "HOUSING_RADIUS_KM", "SCALES", "TAGS", "generate", "legal_max_array",
           "scale_counts"]

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
            raise ValueError(f"unknown scale {scale!r}; use one of {', '.join(SCALES)} "
                             "or a (households, dwellings, shared_flats) triple") from None
    counts = tuple(scale)
    if len(counts) != 3 or not all(isinstance(c, int | np.integer) and not isinstance(c, bool)
                                   and c >= 0 for c in counts):
        raise ValueError("scale must be a name or three non-negative integers "
                         f"(households, dwellings, shared_flats), got {scale!r}")
    return int(counts[0]), int(counts[1]), int(counts[2])


def generate(scale: str | tuple[int, int, int], seed: int) -> Instance:
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

    Returns
    -------
    Instance
        Named ``synthetic-<scale>-seed<seed>``, with the default policy (ratio 0.30,
        cap 300 euro, 12 months, circuity 1.3, objective in persons), three funds, and
        no pinned or forbidden pairs. Ids are ``B00001``, ``D00001``, ``F0001`` and
        rooms ``F0001-R1``.
    """
    n_b, n_d, n_f = scale_counts(scale)
    label = scale.upper() if isinstance(scale, str) else f"{n_b}x{n_d}x{n_f}"
    # Independent streams, so that e.g. the dwellings do not change with the households.
    rng_b, rng_d, rng_f, rng_m = (np.random.default_rng(s)
                                  for s in np.random.SeedSequence(seed).spawn(4))
    towns = _housing_towns(HUBS)
    policy = Policy(affordability_ratio=Decimal("0.30"), max_contribution_cents=30000,
                    contribution_months=12, circuity=1.3, objective_unit="persons")

    beneficiaries, b_arrays = _beneficiaries(rng_b, n_b, HUBS)
    dwellings, d_rent, d_capacity = _dwellings(rng_d, n_d, towns)
    flats, f_rent = _shared_flats(rng_f, n_f, towns)
    funds = _funds(rng_m, policy, b_arrays, d_rent, d_capacity, f_rent)
    return Instance(name=f"synthetic-{label}-seed{seed}", policy=policy, funds=funds,
                    beneficiaries=beneficiaries, dwellings=dwellings, shared_flats=flats)


# --------------------------------------------------------------------------- geometry


def _disc(rng: np.random.Generator, lat: FloatArray, lon: FloatArray,
          radius_km: FloatArray | float) -> tuple[FloatArray, FloatArray]:
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
    return _Towns(places=places,
                  lat=np.array([t.lat for t in places]), lon=np.array([t.lon for t in places]),
                  rent_eur_m2=np.array([t.rent_eur_m2 for t in places]), p=p / p.sum())


# --------------------------------------------------------------------------- households

_TAG_SETS: tuple[tuple[str, ...], ...] = tuple(
    tuple(t for k, t in enumerate(TAGS) if code >> k & 1) for code in range(8))
_ACCEPTS: tuple[tuple[UnitKind, ...], ...] = (("dwelling", "bed"), ("bed",), ("dwelling",))
_GENDERS = np.array(["M", "F", "X"])
_COMMUTES = np.array([10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0])
_COMMUTE_P = np.array([0.03, 0.14, 0.22, 0.26, 0.20, 0.12, 0.03])


def _beneficiaries(rng: np.random.Generator, n: int, hubs: Sequence[Hub],
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
    gender = np.select([kind == 0, kind == 1, kind == 2],
                       [0, 1, (rng.random(n) >= 0.80).astype(np.int64)],
                       (rng.random(n) >= 0.65).astype(np.int64))
    gender[rng.random(n) < 0.01] = 2

    mean = np.select([kind <= 1, kind == 2], [700.0, 900.0], 880.0)
    sd = np.where(kind <= 1, 140.0, 160.0)
    income_eur = np.clip(np.round(rng.normal(mean, sd) / 5.0) * 5.0, 400.0, 1200.0)
    income = (income_eur * 100).astype(np.int64)

    informal = rng.random(n) < np.array([h.informal_share for h in hubs])[hub]
    victim = rng.random(n) < np.where(informal, 0.42, 0.18)
    health = rng.random(n) < 0.05
    tag_code = victim.astype(np.int64) | informal.astype(np.int64) << 1 \
        | health.astype(np.int64) << 2
    priority = np.clip(rng.integers(1, 5, size=n) + 2 * victim + 2 * informal + 2 * health
                       + (minors > 0), 1, 10)

    single = (adults == 1) & (minors == 0)
    u = rng.random(n)
    accepts = np.where(single, np.select([u < 0.80, u < 0.95], [0, 1], 2), 2)
    step_free = rng.random(n) < np.where(health, 0.25, 0.02)
    commute = rng.choice(_COMMUTES, size=n, p=_COMMUTE_P)

    ids = _ids("B", n, 5)
    out = tuple(
        Beneficiary(id=i, adults=a, minors=m, gender=g, income_cents=inc,
                    work=Point(la, lo), max_commute_km=c, needs_step_free=sf, priority=pr,
                    accepts=_ACCEPTS[ac], tags=_TAG_SETS[tc])
        for i, a, m, g, inc, la, lo, c, sf, pr, ac, tc in zip(
            ids, adults.tolist(), minors.tolist(), _GENDERS[gender].tolist(),
            income.tolist(), w_lat.tolist(), w_lon.tolist(), commute.tolist(),
            step_free.tolist(), priority.tolist(), accepts.tolist(), tag_code.tolist(),
            strict=True))
    arrays: dict[str, Any] = {"persons": adults + minors, "income": income,
                              "takes_bed": single & (accepts <= 1)}
    return out, arrays


# --------------------------------------------------------------------------- housing

_AREA_LO = np.array([28.0, 40.0, 60.0, 80.0, 100.0])
_AREA_HI = np.array([45.0, 65.0, 90.0, 115.0, 140.0])


def legal_max_array(area: FloatArray, bedrooms: IntArray) -> IntArray:
    """Vectorised :func:`matching.instance.legal_max_occupants` (DM 5 July 1975)."""
    studio = np.where(area >= 38, 2, np.where(area >= 28, 1, 0))
    small = np.floor(area / 14 + 1e-9)
    large = 4 + np.floor((area - 56) / 10 + 1e-9)
    flat = np.where(area < 56, small, large)
    return np.where(bedrooms == 0, studio, flat).astype(np.int64)


def _dwellings(rng: np.random.Generator, n: int, towns: _Towns,
               ) -> tuple[tuple[Dwelling, ...], IntArray, IntArray]:
    town = rng.choice(len(towns.places), size=n, p=towns.p)
    lat, lon = _disc(rng, towns.lat[town], towns.lon[town], HOUSING_RADIUS_KM)
    bedrooms = rng.choice(5, size=n, p=[0.12, 0.30, 0.33, 0.20, 0.05])
    area = np.round(_AREA_LO[bedrooms] + (_AREA_HI[bedrooms] - _AREA_LO[bedrooms])
                    * rng.random(n))
    # Small flats cost more per m²; each flat varies around its town's market rent.
    premium = np.where(bedrooms == 0, 1.15, np.where(bedrooms == 1, 1.05, 1.0))
    per_m2 = np.clip(towns.rent_eur_m2[town] * premium * rng.lognormal(0.0, 0.10, size=n),
                     4.0, 10.0)
    rent = (np.round(area * per_m2 / 5.0) * 500).astype(np.int64)
    step_free = rng.random(n) < 0.25
    children_ok = rng.random(n) < 0.85
    legal = legal_max_array(area, bedrooms)
    certified = rng.random(n) < 0.10
    cert_value = np.maximum(legal - rng.integers(0, 2, size=n), 1)
    capacity = np.where(certified, np.minimum(legal, cert_value), legal)
    max_occ: list[int | None] = [int(c) if k else None
                                 for c, k in zip(cert_value.tolist(), certified.tolist(),
                                                 strict=True)]
    ids = _ids("D", n, 5)
    out = tuple(
        Dwelling(id=i, lat=la, lon=lo, area_m2=ar, bedrooms=b, rent_cents=r, step_free=sf,
                 max_occupants=mo, children_ok=co)
        for i, la, lo, ar, b, r, sf, mo, co in zip(
            ids, lat.tolist(), lon.tolist(), area.tolist(), bedrooms.tolist(), rent.tolist(),
            step_free.tolist(), max_occ, children_ok.tolist(), strict=True))
    return out, rent, capacity


def _shared_flats(rng: np.random.Generator, n: int, towns: _Towns,
                  ) -> tuple[tuple[SharedFlat, ...], IntArray]:
    town = rng.choice(len(towns.places), size=n, p=towns.p)
    lat, lon = _disc(rng, towns.lat[town], towns.lon[town], HOUSING_RADIUS_KM)
    base = 120.0 + (towns.rent_eur_m2[town] - 4.0) * 16.0
    rent_eur = np.clip(np.round((base + rng.normal(0.0, 20.0, size=n)) / 5.0) * 5.0,
                       120.0, 250.0)
    rent = (rent_eur * 100).astype(np.int64)
    step_free = rng.random(n) < 0.25
    n_rooms = rng.integers(2, 6, size=n)
    beds = rng.choice([1, 2, 3, 4], size=int(n_rooms.sum()), p=[0.25, 0.45, 0.20, 0.10])
    ids = _ids("F", n, 4)
    out: list[SharedFlat] = []
    start = 0
    beds_list = beds.tolist()
    for i, la, lo, r, sf, k in zip(ids, lat.tolist(), lon.tolist(), rent.tolist(),
                                   step_free.tolist(), n_rooms.tolist(), strict=True):
        rooms = tuple(Room(id=f"{i}-R{j + 1}", beds=beds_list[start + j]) for j in range(k))
        start += k
        out.append(SharedFlat(id=i, lat=la, lon=lo, rent_per_bed_cents=r, step_free=sf,
                              rooms=rooms))
    return tuple(out), rent


# --------------------------------------------------------------------------- funds


def _funds(rng: np.random.Generator, policy: Policy, b: dict[str, Any], d_rent: IntArray,
           d_capacity: IntArray, f_rent: IntArray) -> tuple[Fund, ...]:
    """Three funds whose total covers 40-60% of a year of everyone's contributions.

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
    yearly = int(contribution.sum()) * policy.contribution_months
    total = yearly * rng.uniform(0.40, 0.60)
    shares = (0.50, 0.25, 0.25)
    budgets = [int(total * s) // 10_000 * 10_000 for s in shares]  # whole hundreds of euro
    tags: tuple[tuple[str, ...], ...] = ((), ("exploitation_victim",), ("informal_settlement",))
    return tuple(Fund(id=f, budget_cents=bc, eligible_tags=t)
                 for f, bc, t in zip(FUND_IDS, budgets, tags, strict=True))
