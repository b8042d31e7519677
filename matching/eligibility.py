"""Pair eligibility: every way a household may be placed in a unit that the rules allow.

The contract's rules 1-7, and instance@2's pair rules (a home free for the whole stay,
safety zones, acceptable areas, landlords' terms, shuttle lines), concern one household
and one unit, so they are enforced here, by construction: an option that breaks one never
becomes a model column. An *option* (kept in :class:`Pairs`) is a (household, unit) pair
with the terms it is let on (when the dwelling has several) and the way to work: on foot
or by car within the household's own reach, or on one of the agency's shuttle lines. A
shared flat is one unit for these rules; which room is decided by the model.

One more filter follows from the round's funds: an option whose cost (contribution x
months, plus a one-off) exceeds the whole budget of every fund that may pay for the
household can never be paid, so it is dropped too.

The work is vectorised with NumPy in blocks of households of nearby latitude, each
against the band of units that can be within reach; see :mod:`matching.geo` for how
distances agree with the contract exactly.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching import geo
from matching.instance import Instance
from matching.model.payers import FundTable, cost_cents

IntArray = npt.NDArray[np.int64]
SmallArray = npt.NDArray[np.int16]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

BLOCK_ELEMENTS = 1 << 21
"""About how many (household, unit) cells one vectorised block evaluates."""


@dataclass(frozen=True)
class Pairs:
    """The eligible options, sorted by household, unit, terms, then line.

    ``unit`` indexes dwellings first, then shared flats (``Instance.unit_index``);
    ``term`` indexes the dwelling's ``terms`` (-1: a plain rent); ``line`` indexes the
    round's ``shuttles`` (-1: the household's own way to work, within its reach).
    """

    beneficiary: IntArray
    unit: IntArray
    contribution_cents: IntArray
    commute_km: FloatArray
    commute_m: IntArray
    """The contract's whole metres of each commute, ``floor(1000 * commute_km + 0.5)``."""
    term: SmallArray
    line: SmallArray
    seconds: float = 0.0
    cells: int = 0
    """How many (household, unit) cells were considered before filtering."""

    def __len__(self) -> int:
        return int(self.beneficiary.shape[0])

    def subset(self, keep: IntArray) -> Pairs:
        """The options ``keep`` (sorted indices), still in their order."""
        return Pairs(
            beneficiary=self.beneficiary[keep],
            unit=self.unit[keep],
            contribution_cents=self.contribution_cents[keep],
            commute_km=self.commute_km[keep],
            commute_m=self.commute_m[keep],
            term=self.term[keep],
            line=self.line[keep],
            seconds=self.seconds,
            cells=self.cells,
        )

    def of_beneficiary(self, b: int) -> slice:
        """The slice of options belonging to household index ``b``."""
        lo, hi = np.searchsorted(self.beneficiary, [b, b + 1])
        return slice(int(lo), int(hi))


@dataclass(frozen=True)
class Arrays:
    """The round's per-household, per-unit and per-offer attributes as NumPy arrays.

    An *offer* is a way a unit may be let: one per set of terms of a dwelling that has
    them, else one (its plain rent, ``term`` -1).
    """

    # households
    b_lat: FloatArray
    b_lon: FloatArray
    b_persons: IntArray
    b_minors: IntArray
    b_step_free: BoolArray
    b_accepts_dwelling: BoolArray
    b_bed_ok: BoolArray
    b_pay: IntArray
    b_max_km: FloatArray
    b_months: IntArray
    b_first: IntArray
    b_last: IntArray
    b_fund_cap: IntArray
    """Largest budget among the funds that may pay for the household (-1 if none)."""
    b_avoid: BoolArray
    """The household has safety zones."""
    area_ok: BoolArray
    """(households, areas + 1): the household may live in the area (last column: a unit
    with no area); all True for households that name no areas."""
    # units
    u_lat: FloatArray
    u_lon: FloatArray
    u_is_dwelling: BoolArray
    u_capacity: IntArray
    u_children_ok: BoolArray
    u_step_free: BoolArray
    u_first: IntArray
    u_last: IntArray
    u_area: IntArray
    """Index of the unit's area (the last column of ``area_ok`` when it has none)."""
    u_offers: IntArray
    """Offers of unit ``u`` are ``u_offers[u]`` to ``u_offers[u + 1]``."""
    # offers
    o_term: SmallArray
    o_rent: IntArray
    o_one_off: IntArray
    # per-point geometry, computed once: unit vectors and reduced latitudes
    b_vec: FloatArray
    u_vec: FloatArray
    b_sin_u: FloatArray
    b_cos_u: FloatArray
    u_sin_u: FloatArray
    u_cos_u: FloatArray

    @staticmethod
    def of(inst: Instance) -> Arrays:
        bs, ds, fs = inst.beneficiaries, inst.dwellings, inst.shared_flats
        pol = inst.policy
        b_lat = np.array([b.work.lat for b in bs], dtype=np.float64)
        b_lon = np.array([b.work.lon for b in bs], dtype=np.float64)
        u_lat = np.array([d.lat for d in ds] + [f.lat for f in fs], dtype=np.float64)
        u_lon = np.array([d.lon for d in ds] + [f.lon for f in fs], dtype=np.float64)
        b_sin_u, b_cos_u = geo.reduced_latitude(b_lat)
        u_sin_u, u_cos_u = geo.reduced_latitude(u_lat)
        stays = [inst.stay(b) for b in bs]
        avail = [inst.available(u) for u in range(inst.n_units)]
        unit_areas: list[str | None] = [d.area for d in ds] + [f.area for f in fs]
        areas = sorted({x for b in bs for x in b.areas} | {a for a in unit_areas if a})
        code = {a: k for k, a in enumerate(areas)}
        area_ok = np.ones((len(bs), len(areas) + 1), dtype=bool)
        for i, b in enumerate(bs):
            if b.areas:
                area_ok[i, :] = False
                area_ok[i, [code[a] for a in b.areas]] = True
        offers = [d.offers for d in ds] + [(None,)] * len(fs)
        o_term: list[int] = []
        o_rent: list[int] = []
        o_one_off: list[int] = []
        starts = [0]
        for u, offered in enumerate(offers):
            for k, t in enumerate(offered):
                if t is None:  # a shared flat's bed
                    o_term.append(-1)
                    o_rent.append(fs[u - len(ds)].rent_per_bed_cents)
                    o_one_off.append(0)
                else:
                    o_term.append(k if ds[u].terms else -1)
                    o_rent.append(t.rent_cents)
                    o_one_off.append(t.one_off_cents)
            starts.append(len(o_term))
        return Arrays(
            b_lat=b_lat,
            b_lon=b_lon,
            b_persons=np.array([b.persons for b in bs], dtype=np.int64),
            b_minors=np.array([b.minors for b in bs], dtype=np.int64),
            b_step_free=np.array([b.needs_step_free for b in bs], dtype=bool),
            b_accepts_dwelling=np.array(["dwelling" in b.accepts for b in bs], dtype=bool),
            b_bed_ok=np.array(["bed" in b.accepts and b.single_adult for b in bs], dtype=bool),
            b_pay=np.array([pol.pay(b.income_cents) for b in bs], dtype=np.int64),
            b_max_km=np.array([b.max_commute_km for b in bs], dtype=np.float64),
            b_months=np.array([inst.months(b) for b in bs], dtype=np.int64),
            b_first=np.array([s.first for s in stays], dtype=np.int64),
            b_last=np.array([s.last for s in stays], dtype=np.int64),
            b_fund_cap=FundTable.of(inst).largest_budget(),
            b_avoid=np.array([bool(b.avoid) for b in bs], dtype=bool),
            area_ok=area_ok,
            u_lat=u_lat,
            u_lon=u_lon,
            u_is_dwelling=np.array([True] * len(ds) + [False] * len(fs), dtype=bool),
            u_capacity=np.array([d.capacity for d in ds] + [0] * len(fs), dtype=np.int64),
            u_children_ok=np.array([d.children_ok for d in ds] + [False] * len(fs), dtype=bool),
            u_step_free=np.array([d.step_free for d in ds] + [f.step_free for f in fs], dtype=bool),
            u_first=np.array([s.first for s in avail], dtype=np.int64),
            u_last=np.array([s.last for s in avail], dtype=np.int64),
            u_area=np.array(
                [code[a] if a is not None else len(areas) for a in unit_areas], dtype=np.int64
            ),
            u_offers=np.array(starts, dtype=np.int64),
            o_term=np.array(o_term, dtype=np.int16),
            o_rent=np.array(o_rent, dtype=np.int64),
            o_one_off=np.array(o_one_off, dtype=np.int64),
            b_vec=geo.unit_vectors(b_lat, b_lon).reshape(-1, 3),
            u_vec=geo.unit_vectors(u_lat, u_lon).reshape(-1, 3),
            b_sin_u=b_sin_u,
            b_cos_u=b_cos_u,
            u_sin_u=u_sin_u,
            u_cos_u=u_cos_u,
        )


PAIR_CODES = (
    "unit_type_not_accepted",
    "too_large",
    "children_not_allowed",
    "not_step_free",
    "unit_not_available",
    "outside_areas",
    "safety",
)
"""The rules of a (household, unit) pair, by the explanation code of each."""
OFFER_CODES = ("unaffordable_at_cap", "no_fund_can_pay")
"""The rules of an offer (the dwelling's terms), by the explanation code of each."""


def pair_masks(inst: Instance, arr: Arrays, bi: IntArray, ui: IntArray) -> dict[str, BoolArray]:
    """Which of the pair rules each (bi[k], ui[k]) passes (keys: :data:`PAIR_CODES`)."""
    is_dw = arr.u_is_dwelling[ui]
    masks = {
        "unit_type_not_accepted": np.where(is_dw, arr.b_accepts_dwelling[bi], arr.b_bed_ok[bi]),
        "too_large": ~is_dw | (arr.b_persons[bi] <= arr.u_capacity[ui]),
        "children_not_allowed": ~is_dw | (arr.b_minors[bi] == 0) | arr.u_children_ok[ui],
        "not_step_free": ~arr.b_step_free[bi] | arr.u_step_free[ui],
        "unit_not_available": (arr.u_first[ui] <= arr.b_first[bi])
        & (arr.b_last[bi] <= arr.u_last[ui]),
        "outside_areas": arr.area_ok[bi, arr.u_area[ui]],
    }
    masks["safety"] = outside_zones(inst, arr, bi, ui)
    return masks


def outside_zones(inst: Instance, arr: Arrays, bi: IntArray, ui: IntArray) -> BoolArray:
    """Whether each unit lies farther than every safety zone of its household, decided on
    the geodesic exactly (geopy near each radius)."""
    ok = np.ones(bi.shape, dtype=bool)
    for k in np.flatnonzero(arr.b_avoid[bi]).tolist():
        b, u = int(bi[k]), int(ui[k])
        for z in inst.beneficiaries[b].avoid:
            d, conv = geo.vincenty_km(
                np.array([z.lat]),
                np.array([z.lon]),
                np.array([arr.u_lat[u]]),
                np.array([arr.u_lon[u]]),
            )
            km = float(d[0])
            if not conv[0] or abs(km - z.radius_km) <= geo.DECISION_BAND_KM:
                km = geo.geodesic_km(z.lat, z.lon, arr.u_lat[u], arr.u_lon[u])
            if not km > z.radius_km:
                ok[k] = False
                break
    return ok


def offer_masks(
    inst: Instance, arr: Arrays, bi: IntArray, oi: IntArray
) -> tuple[dict[str, BoolArray], IntArray]:
    """Which offer rules each (household bi[k], offer oi[k]) passes (keys:
    :data:`OFFER_CODES`), and the monthly contribution of each."""
    contribution = np.maximum(0, arr.o_rent[oi] - arr.b_pay[bi])
    cost = cost_cents(contribution, arr.b_months[bi], arr.o_one_off[oi])
    masks = {
        "unaffordable_at_cap": contribution <= inst.policy.max_contribution_cents,
        "no_fund_can_pay": (cost == 0) | (cost <= arr.b_fund_cap[bi]),
    }
    return masks, contribution


def commute_km(inst: Instance, arr: Arrays, bi: IntArray, ui: IntArray) -> FloatArray:
    """``circuity * geodesic_km`` for each pair (Vincenty, geopy where it did not converge)."""
    dist, ok = geo.vincenty_reduced_km(
        arr.b_sin_u[bi],
        arr.b_cos_u[bi],
        arr.u_sin_u[ui],
        arr.u_cos_u[ui],
        np.radians(arr.u_lon[ui] - arr.b_lon[bi]),
    )
    for k in np.flatnonzero(~ok):
        dist[k] = geo.geodesic_km(
            arr.b_lat[bi[k]], arr.b_lon[bi[k]], arr.u_lat[ui[k]], arr.u_lon[ui[k]]
        )
    return inst.policy.circuity * dist


def within_commute(
    inst: Instance, arr: Arrays, bi: IntArray, ui: IntArray, km: FloatArray
) -> BoolArray:
    """Rule 5, decided exactly: geopy settles every pair near its limit."""
    limit = arr.b_max_km[bi]
    ok = km <= limit
    near = np.flatnonzero(np.abs(km - limit) <= geo.DECISION_BAND_KM)
    for k in near:
        exact = inst.policy.circuity * geo.geodesic_km(
            arr.b_lat[bi[k]], arr.b_lon[bi[k]], arr.u_lat[ui[k]], arr.u_lon[ui[k]]
        )
        km[k] = exact
        ok[k] = exact <= limit[k]
    return ok


def whole_metres(
    inst: Instance, arr: Arrays, bi: IntArray, ui: IntArray, km: FloatArray
) -> IntArray:
    """``floor(1000 * commute_km + 0.5)`` per direct pair, as the contract's geodesic gives it.

    Vincenty agrees with geopy to far less than :data:`geo.METRE_BAND_M`; a pair whose
    commute lies that close to a half metre is settled by geopy itself (``km`` is
    updated in place), so that every metre agrees with the contract's.
    """
    scaled = 1000.0 * km + 0.5
    for k in _near_half_metre(scaled):
        km[k] = inst.policy.circuity * geo.geodesic_km(
            arr.b_lat[bi[k]], arr.b_lon[bi[k]], arr.u_lat[ui[k]], arr.u_lon[ui[k]]
        )
        scaled[k] = 1000.0 * km[k] + 0.5
    return np.floor(scaled).astype(np.int64)


def _near_half_metre(scaled: FloatArray) -> list[int]:
    frac = scaled - np.floor(scaled)
    return np.flatnonzero((frac < geo.METRE_BAND_M) | (frac > 1 - geo.METRE_BAND_M)).tolist()


@dataclass(frozen=True)
class _Options:
    """Options found in one block or by one line (parallel arrays)."""

    b: IntArray
    u: IntArray
    o: IntArray
    c: IntArray
    km: FloatArray
    m: IntArray
    line: int
    cells: int

    @staticmethod
    def empty(line: int = -1) -> _Options:
        z = np.zeros(0, dtype=np.int64)
        return _Options(z, z, z, z, np.zeros(0), z, line, 0)


def _with_offers(
    inst: Instance, arr: Arrays, bi: IntArray, ui: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Each pair repeated per offer of its unit, with the offers passing their rules:
    (index of the pair, household, offer, contribution)."""
    n_off = arr.u_offers[ui + 1] - arr.u_offers[ui]
    pair = np.repeat(np.arange(bi.size), n_off)
    first = np.repeat(arr.u_offers[ui], n_off)
    rank = np.arange(pair.size) - np.repeat(np.cumsum(n_off) - n_off, n_off)
    oi = first + rank
    b = bi[pair]
    masks, contribution = offer_masks(inst, arr, b, oi)
    keep = np.logical_and.reduce(list(masks.values()))
    return pair[keep], b[keep], oi[keep], contribution[keep]


def _direct(inst: Instance, arr: Arrays, bi: IntArray, ui: IntArray, cells: int) -> _Options:
    """The (household, unit) candidates ``bi``, ``ui`` that pass every pair rule, within
    the household's own reach, with their offers."""
    keep = np.logical_and.reduce(list(pair_masks(inst, arr, bi, ui).values()))
    bi, ui = bi[keep], ui[keep]
    km = commute_km(inst, arr, bi, ui)
    ok = within_commute(inst, arr, bi, ui, km)
    bi, ui, km = bi[ok], ui[ok], km[ok]
    metres = whole_metres(inst, arr, bi, ui, km)
    pair, b, oi, c = _with_offers(inst, arr, bi, ui)
    return _Options(b, ui[pair], oi, c, km[pair], metres[pair], -1, cells)


def _block(
    inst: Instance,
    arr: Arrays,
    bsel: IntArray,
    u_order: IntArray,
    u_lat_sorted: FloatArray,
    reach_deg: FloatArray,
    reach_cos: FloatArray,
) -> _Options:
    """The direct options (within the household's own reach) of a block of households."""
    lo = np.searchsorted(u_lat_sorted, (arr.b_lat[bsel] - reach_deg[bsel]).min(), "left")
    hi = np.searchsorted(u_lat_sorted, (arr.b_lat[bsel] + reach_deg[bsel]).max(), "right")
    usel = np.sort(u_order[lo:hi])
    near = arr.b_vec[bsel] @ arr.u_vec[usel].T >= reach_cos[bsel, None]
    rb, ru = np.nonzero(near)
    bi, ui = bsel[rb].astype(np.int64), usel[ru].astype(np.int64)
    return _direct(inst, arr, bi, ui, int(bsel.size * usel.size))


def _settled(
    inst: Instance, arr: Arrays, bi: IntArray, ui: IntArray, reach_cos: FloatArray
) -> _Options:
    """The direct options of households each compared with one unit only."""
    near = np.einsum("ij,ij->i", arr.b_vec[bi], arr.u_vec[ui]) >= reach_cos[bi]
    return _direct(inst, arr, bi[near], ui[near], int(bi.size))


def eligible_among(
    inst: Instance, bi: IntArray, ui: IntArray, arr: Arrays | None = None
) -> BoolArray:
    """Whether household ``bi[j]`` may be housed in unit ``ui[j]``, each pair on its
    own (a household may repeat): some offer of the unit passes every rule, within the
    household's own reach (no shuttle line). Forbidden pairs never are. For checking a
    few chosen pairs of a large round without listing all of them."""
    arr = Arrays.of(inst) if arr is None else arr
    if bi.size == 0:
        return np.zeros(0, dtype=bool)
    reach_cos = geo.cos_reach(geo.sphere_reach_km(arr.b_max_km, inst.policy.circuity))
    opts = _settled(inst, arr, bi, ui, reach_cos)
    nu = inst.n_units
    codes = bi.astype(np.int64) * nu + ui
    found = np.isin(codes, opts.b.astype(np.int64) * nu + opts.u)
    if inst.forbidden:
        banned = np.array(
            [
                inst.beneficiary_index[f.beneficiary] * nu + inst.unit_index[f.unit]
                for f in inst.forbidden
            ],
            dtype=np.int64,
        )
        found &= ~np.isin(codes, banned)
    return found


def stop_distances(
    arr_lat: FloatArray, arr_lon: FloatArray, stops: FloatArray, walk: float
) -> tuple[FloatArray, BoolArray]:
    """Geodesic km from each point to each stop, and whether it is within ``walk`` (geopy
    settles every distance near the limit)."""
    n, s = arr_lat.size, stops.shape[0]
    lat1 = np.repeat(arr_lat, s)
    lon1 = np.repeat(arr_lon, s)
    lat2 = np.tile(stops[:, 0], n)
    lon2 = np.tile(stops[:, 1], n)
    d, ok = geo.vincenty_km(lat1, lon1, lat2, lon2)
    for k in np.flatnonzero(~ok | (np.abs(d - walk) <= geo.DECISION_BAND_KM)).tolist():
        d[k] = geo.geodesic_km(lat1[k], lon1[k], lat2[k], lon2[k])
    d = d.reshape(n, s)
    return d, d <= walk


def line_options(inst: Instance, arr: Arrays, line: int) -> _Options:
    """The options of riding line ``line``: a home within walking distance of one of its
    stops, work within walking distance of another (instance@2, "Shuttles").

    The commute is the least, over such stops ``i`` (near home) and ``j`` (near work), of
    ``geodesic(u, i) + circuity * geodesic(i, j) + geodesic(j, work)``; the household's
    own reach does not apply.
    """
    shuttle = inst.shuttles[line]
    walk = inst.policy.walk_km
    if walk is None or not shuttle.stops:
        return _Options.empty(line)
    circ = inst.policy.circuity
    stops = np.array([[x.lat, x.lon] for x in shuttle.stops], dtype=np.float64)
    s = stops.shape[0]
    between, _ = stop_distances(stops[:, 0], stops[:, 1], stops, np.inf)
    d_work, near_work = stop_distances(arr.b_lat, arr.b_lon, stops, walk)
    d_home, near_home = stop_distances(arr.u_lat, arr.u_lon, stops, walk)
    hh = np.flatnonzero(near_work.any(axis=1))
    uu = np.flatnonzero(near_home.any(axis=1))
    if hh.size == 0 or uu.size == 0:
        return _Options.empty(line)
    # per household and boarding stop i: the best ride on to a stop j near work
    to_work = np.where(
        near_work[hh][:, None, :], circ * between[None, :, :] + d_work[hh][:, None, :], np.inf
    ).min(axis=2)  # (hh, s)
    from_home = np.where(near_home[uu], d_home[uu], np.inf)  # (uu, s)
    out_b: list[IntArray] = []
    out_u: list[IntArray] = []
    out_km: list[FloatArray] = []
    step = max(1, BLOCK_ELEMENTS // max(1, uu.size * s))
    for k in range(0, hh.size, step):
        blk = to_work[k : k + step]
        km = (from_home[None, :, :] + blk[:, None, :]).min(axis=2)  # (blk, uu)
        rb, ru = np.nonzero(np.isfinite(km))
        out_b.append(hh[k + rb])
        out_u.append(uu[ru])
        out_km.append(km[rb, ru])
    bi = np.concatenate(out_b).astype(np.int64)
    ui = np.concatenate(out_u).astype(np.int64)
    km = np.concatenate(out_km)
    keep = np.logical_and.reduce(list(pair_masks(inst, arr, bi, ui).values()))
    bi, ui, km = bi[keep], ui[keep], km[keep]
    scaled = 1000.0 * km + 0.5
    for k in _near_half_metre(scaled):  # the whole metres settled by geopy itself
        km[k] = (
            ride_km(
                inst,
                line,
                (arr.b_lat[bi[k]], arr.b_lon[bi[k]]),
                (arr.u_lat[ui[k]], arr.u_lon[ui[k]]),
            )
            or km[k]
        )
        scaled[k] = 1000.0 * km[k] + 0.5
    metres = np.floor(scaled).astype(np.int64)
    pair, b, oi, c = _with_offers(inst, arr, bi, ui)
    return _Options(b, ui[pair], oi, c, km[pair], metres[pair], line, int(hh.size * uu.size))


def ride_km(
    inst: Instance, line: int, work: tuple[float, float], home: tuple[float, float]
) -> float | None:
    """The commute riding ``line`` between ``home`` and ``work``, on geopy's geodesics
    (None when no stop is within walking distance of both)."""
    walk = inst.policy.walk_km
    if walk is None:
        return None
    circ = inst.policy.circuity
    stops = inst.shuttles[line].stops
    near_home = [(x, geo.geodesic_km(home[0], home[1], x.lat, x.lon)) for x in stops]
    near_work = [(x, geo.geodesic_km(work[0], work[1], x.lat, x.lon)) for x in stops]
    best = None
    for i, di in near_home:
        if not di <= walk:
            continue
        for j, dj in near_work:
            if not dj <= walk:
                continue
            km = di + circ * geo.geodesic_km(i.lat, i.lon, j.lat, j.lon) + dj
            best = km if best is None else min(best, km)
    return best


def eligible_pairs(
    inst: Instance,
    threads: int | None = None,
    only: IntArray | None = None,
    among: tuple[IntArray, IntArray] | None = None,
) -> Pairs:
    """Every eligible option with its contribution and commute.

    ``only``, when given, holds per household the one unit (index) whose options are
    wanted, or -1 for all of them: a household whose unit is settled (an occupant the
    stitch keeps in its flat) is not compared with every other unit. ``among``, when
    given, is (households, units): a household it names is compared with the units it
    pairs it with only (an occupant the stitch may move, with the homes nearest it), by
    its own way to work (no shuttle line). Forbidden pairs
    are left out. Pinned pairs are not forced here: a pinned pair that
    breaks a rule is absent, and the solver reports the round ``INFEASIBLE``. Blocks run
    on ``threads`` threads (NumPy releases the GIL; default: one per core).
    """
    t0 = time.perf_counter()
    arr = Arrays.of(inst)
    nb, nu = len(inst.beneficiaries), inst.n_units
    found: list[_Options] = []
    if nb and nu:
        circ = inst.policy.circuity
        b_order = np.argsort(arr.b_lat, kind="stable")
        u_order = np.argsort(arr.u_lat, kind="stable")
        u_lat_sorted = arr.u_lat[u_order]
        reach_deg = arr.b_max_km / circ / geo.KM_PER_DEGREE_LAT_MIN
        # exact on the sphere, with the margin that covers the ellipsoid
        reach_cos = geo.cos_reach(geo.sphere_reach_km(arr.b_max_km, circ))
        if only is not None:
            # households settled on one unit are compared with it alone
            fixed = np.flatnonzero(only >= 0)
            if fixed.size:
                found.append(_settled(inst, arr, fixed, only[fixed], reach_cos))
            b_order = b_order[only[b_order] < 0]
        if among is not None and among[0].size:
            # households with units of their own to compare with: those alone, each
            # household's in the order of the units (one run, as a block gives)
            bi, ui = np.unique(np.stack([among[0], among[1]]), axis=1)
            found.append(_settled(inst, arr, bi, ui, reach_cos))
            b_order = b_order[~np.isin(b_order, bi)]
        block = max(16, min(max(nb, 1), BLOCK_ELEMENTS // max(1, min(nu, 4096))))
        blocks = [np.sort(b_order[s : s + block]) for s in range(0, b_order.size, block)]
        workers = threads or os.cpu_count() or 1
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(blocks)))) as pool:
            found += pool.map(
                lambda bsel: _block(inst, arr, bsel, u_order, u_lat_sorted, reach_deg, reach_cos),
                blocks,
            )
        found += [line_options(inst, arr, k) for k in range(len(inst.shuttles))]
    if not found:
        found = [_Options.empty()]
    b = np.concatenate([f.b for f in found])
    u = np.concatenate([f.u for f in found])
    o = np.concatenate([f.o for f in found])
    c = np.concatenate([f.c for f in found])
    k = np.concatenate([f.km for f in found])
    m = np.concatenate([f.m for f in found])
    line = np.concatenate([np.full(f.b.shape, f.line, dtype=np.int16) for f in found])
    if among is not None and among[0].size and inst.shuttles and b.size:
        wanted = ~np.isin(b, among[0]) | (line < 0)
        b, u, o, c, k, m, line = (x[wanted] for x in (b, u, o, c, k, m, line))
    if only is not None and inst.shuttles and b.size:
        wanted = (only[b] < 0) | (only[b] == u)
        b, u, o, c, k, m, line = (x[wanted] for x in (b, u, o, c, k, m, line))
    if inst.forbidden and b.size:
        codes = b * nu + u
        banned = np.array(
            [
                inst.beneficiary_index[f.beneficiary] * nu + inst.unit_index[f.unit]
                for f in inst.forbidden
            ],
            dtype=np.int64,
        )
        allowed = ~np.isin(codes, banned)
        b, u, o, c, k, m, line = (x[allowed] for x in (b, u, o, c, k, m, line))
    term = arr.o_term[o] if o.size else np.zeros(0, dtype=np.int16)
    if inst.shuttles or np.any(arr.o_term >= 0):
        order = np.lexsort((line, term, u, b))
    else:
        # each block is sorted by (household, unit) already: a stable sort on the
        # household merges the blocks' runs
        order = np.argsort(b, kind="stable")
    return Pairs(
        beneficiary=b[order],
        unit=u[order],
        contribution_cents=c[order],
        commute_km=k[order],
        commute_m=m[order],
        term=term[order].astype(np.int16),
        line=line[order],
        seconds=time.perf_counter() - t0,
        cells=sum(f.cells for f in found),
    )
