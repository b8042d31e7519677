"""Pair eligibility: every (beneficiary, unit) pair the spec's rules allow.

Rules 1-7 of the spec are properties of a single pair, so they are enforced here, by
construction: a pair that breaks one never becomes a model variable. A shared flat is
one unit for these rules (its rooms differ only in their number of beds); which room a
beneficiary sleeps in is decided by the model, under the room rules.

One more filter follows from the round constraints: a pair whose monthly contribution,
over the contribution months, exceeds the whole budget of every fund that may pay for
the beneficiary can never be funded, so it is dropped too.

The work is vectorised with NumPy in blocks of beneficiaries of nearby latitude, each
against the band of units that can be within reach; see :mod:`matching.geo` for how
distances agree with the spec exactly.
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

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

BLOCK_ELEMENTS = 1 << 21
"""About how many (beneficiary, unit) cells one vectorised block evaluates."""


@dataclass(frozen=True)
class Pairs:
    """The eligible pairs, sorted by beneficiary then unit.

    ``unit`` indexes dwellings first, then shared flats (``Instance.unit_index``).
    """

    beneficiary: IntArray
    unit: IntArray
    contribution_cents: IntArray
    commute_km: FloatArray
    commute_m: IntArray
    """The spec's whole metres of each commute, ``floor(1000 * commute_km + 0.5)``."""
    seconds: float = 0.0
    cells: int = 0
    """How many (beneficiary, unit) cells were considered before filtering."""

    def __len__(self) -> int:
        return int(self.beneficiary.shape[0])

    def subset(self, keep: IntArray) -> Pairs:
        """The pairs ``keep`` (sorted indices), still sorted by beneficiary then unit."""
        return Pairs(beneficiary=self.beneficiary[keep], unit=self.unit[keep],
                     contribution_cents=self.contribution_cents[keep],
                     commute_km=self.commute_km[keep], commute_m=self.commute_m[keep],
                     seconds=self.seconds, cells=self.cells)

    def of_beneficiary(self, b: int) -> slice:
        """The slice of pairs belonging to beneficiary index ``b``."""
        lo, hi = np.searchsorted(self.beneficiary, [b, b + 1])
        return slice(int(lo), int(hi))


@dataclass(frozen=True)
class Arrays:
    """The instance's per-beneficiary and per-unit attributes as NumPy arrays."""

    # beneficiaries
    b_lat: FloatArray
    b_lon: FloatArray
    b_persons: IntArray
    b_minors: IntArray
    b_step_free: BoolArray
    b_accepts_dwelling: BoolArray
    b_bed_ok: BoolArray
    b_pay: IntArray
    b_max_km: FloatArray
    b_fund_cap: IntArray
    """Largest budget among the funds eligible for the beneficiary (0 if none)."""
    # units
    u_lat: FloatArray
    u_lon: FloatArray
    u_is_dwelling: BoolArray
    u_capacity: IntArray
    u_children_ok: BoolArray
    u_step_free: BoolArray
    u_rent: IntArray
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
        fund_cap = [max((f.budget_cents for f in inst.funds if f.eligible(b.tags)), default=-1)
                    for b in bs]
        b_lat = np.array([b.work.lat for b in bs], dtype=np.float64)
        b_lon = np.array([b.work.lon for b in bs], dtype=np.float64)
        u_lat = np.array([d.lat for d in ds] + [f.lat for f in fs], dtype=np.float64)
        u_lon = np.array([d.lon for d in ds] + [f.lon for f in fs], dtype=np.float64)
        b_sin_u, b_cos_u = geo.reduced_latitude(b_lat)
        u_sin_u, u_cos_u = geo.reduced_latitude(u_lat)
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
            b_fund_cap=np.array(fund_cap, dtype=np.int64),
            u_lat=u_lat,
            u_lon=u_lon,
            u_is_dwelling=np.array([True] * len(ds) + [False] * len(fs), dtype=bool),
            u_capacity=np.array([d.capacity for d in ds] + [0] * len(fs), dtype=np.int64),
            u_children_ok=np.array([d.children_ok for d in ds] + [False] * len(fs), dtype=bool),
            u_step_free=np.array([d.step_free for d in ds] + [f.step_free for f in fs],
                                 dtype=bool),
            u_rent=np.array([d.rent_cents for d in ds] + [f.rent_per_bed_cents for f in fs],
                            dtype=np.int64),
            b_vec=geo.unit_vectors(b_lat, b_lon).reshape(-1, 3),
            u_vec=geo.unit_vectors(u_lat, u_lon).reshape(-1, 3),
            b_sin_u=b_sin_u, b_cos_u=b_cos_u, u_sin_u=u_sin_u, u_cos_u=u_cos_u,
        )


def rule_masks(inst: Instance, arr: Arrays, bi: IntArray, ui: IntArray
               ) -> tuple[dict[str, BoolArray], IntArray]:
    """Which non-distance rules each (bi[k], ui[k]) pair passes, and its contribution.

    The keys are the explanation codes of :mod:`matching.explain` (``True`` = passes).
    """
    pol = inst.policy
    is_dw = arr.u_is_dwelling[ui]
    contribution = np.maximum(0, arr.u_rent[ui] - arr.b_pay[bi])
    funded = (contribution == 0) | (
        contribution * pol.contribution_months <= arr.b_fund_cap[bi])
    masks = {
        "unit_type_not_accepted": np.where(is_dw, arr.b_accepts_dwelling[bi],
                                           arr.b_bed_ok[bi]),
        "too_large": ~is_dw | (arr.b_persons[bi] <= arr.u_capacity[ui]),
        "children_not_allowed": ~is_dw | (arr.b_minors[bi] == 0) | arr.u_children_ok[ui],
        "not_step_free": ~arr.b_step_free[bi] | arr.u_step_free[ui],
        "unaffordable_at_cap": contribution <= pol.max_contribution_cents,
        "no_fund_can_pay": funded,
    }
    return masks, contribution


def commute_km(inst: Instance, arr: Arrays, bi: IntArray, ui: IntArray) -> FloatArray:
    """``circuity * geodesic_km`` for each pair (Vincenty, geopy where it did not converge)."""
    dist, ok = geo.vincenty_reduced_km(arr.b_sin_u[bi], arr.b_cos_u[bi], arr.u_sin_u[ui],
                                       arr.u_cos_u[ui], np.radians(arr.u_lon[ui] - arr.b_lon[bi]))
    for k in np.flatnonzero(~ok):
        dist[k] = geo.geodesic_km(arr.b_lat[bi[k]], arr.b_lon[bi[k]],
                                  arr.u_lat[ui[k]], arr.u_lon[ui[k]])
    return inst.policy.circuity * dist


def within_commute(inst: Instance, arr: Arrays, bi: IntArray, ui: IntArray,
                   km: FloatArray) -> BoolArray:
    """Rule 5, decided exactly: geopy settles every pair near its limit."""
    limit = arr.b_max_km[bi]
    ok = km <= limit
    near = np.flatnonzero(np.abs(km - limit) <= geo.DECISION_BAND_KM)
    for k in near:
        exact = inst.policy.circuity * geo.geodesic_km(
            arr.b_lat[bi[k]], arr.b_lon[bi[k]], arr.u_lat[ui[k]], arr.u_lon[ui[k]])
        km[k] = exact
        ok[k] = exact <= limit[k]
    return ok


def whole_metres(inst: Instance, arr: Arrays, bi: IntArray, ui: IntArray,
                 km: FloatArray) -> IntArray:
    """``floor(1000 * commute_km + 0.5)`` per pair, as the spec's geodesic gives it.

    Vincenty agrees with geopy to far less than :data:`geo.METRE_BAND_M`; a pair whose
    commute lies that close to a half metre is settled by geopy itself (``km`` is
    updated in place), so that every metre agrees with the spec's.
    """
    scaled = 1000.0 * km + 0.5
    frac = scaled - np.floor(scaled)
    for k in np.flatnonzero((frac < geo.METRE_BAND_M) | (frac > 1 - geo.METRE_BAND_M)):
        km[k] = inst.policy.circuity * geo.geodesic_km(
            arr.b_lat[bi[k]], arr.b_lon[bi[k]], arr.u_lat[ui[k]], arr.u_lon[ui[k]])
        scaled[k] = 1000.0 * km[k] + 0.5
    return np.floor(scaled).astype(np.int64)


_Block = tuple[IntArray, IntArray, IntArray, FloatArray, IntArray, int]


def _block(inst: Instance, arr: Arrays, bsel: IntArray, u_order: IntArray,
           u_lat_sorted: FloatArray, reach_deg: FloatArray, reach_cos: FloatArray) -> _Block:
    """The eligible pairs of one block of beneficiaries, sorted by (beneficiary, unit)."""
    lo = np.searchsorted(u_lat_sorted, (arr.b_lat[bsel] - reach_deg[bsel]).min(), "left")
    hi = np.searchsorted(u_lat_sorted, (arr.b_lat[bsel] + reach_deg[bsel]).max(), "right")
    usel = np.sort(u_order[lo:hi])
    near = arr.b_vec[bsel] @ arr.u_vec[usel].T >= reach_cos[bsel, None]
    rb, ru = np.nonzero(near)
    bi, ui = bsel[rb].astype(np.int64), usel[ru].astype(np.int64)
    masks, contribution = rule_masks(inst, arr, bi, ui)
    keep = np.logical_and.reduce(list(masks.values()))
    bi, ui, contribution = bi[keep], ui[keep], contribution[keep]
    km = commute_km(inst, arr, bi, ui)
    ok = within_commute(inst, arr, bi, ui, km)
    bi, ui, contribution, km = bi[ok], ui[ok], contribution[ok], km[ok]
    metres = whole_metres(inst, arr, bi, ui, km)
    return bi, ui, contribution, km, metres, int(bsel.size * usel.size)


def eligible_pairs(inst: Instance, threads: int | None = None) -> Pairs:
    """All eligible (beneficiary, unit) pairs with contribution and commute.

    Forbidden pairs are left out. Pinned pairs are not forced here: a pinned pair that
    breaks a rule is absent, and the solver reports the round ``INFEASIBLE``. Blocks run
    on ``threads`` threads (NumPy releases the GIL; default: one per core).
    """
    t0 = time.perf_counter()
    arr = Arrays.of(inst)
    nb, nu = len(inst.beneficiaries), inst.n_units
    out_b: list[IntArray] = []
    out_u: list[IntArray] = []
    out_c: list[IntArray] = []
    out_k: list[FloatArray] = []
    out_m: list[IntArray] = []
    cells = 0
    if nb and nu:
        circ = inst.policy.circuity
        b_order = np.argsort(arr.b_lat, kind="stable")
        u_order = np.argsort(arr.u_lat, kind="stable")
        u_lat_sorted = arr.u_lat[u_order]
        reach_deg = arr.b_max_km / circ / geo.KM_PER_DEGREE_LAT_MIN
        # exact on the sphere, with the margin that covers the ellipsoid
        reach_cos = geo.cos_reach(geo.sphere_reach_km(arr.b_max_km, circ))
        block = max(16, min(nb, BLOCK_ELEMENTS // max(1, min(nu, 4096))))
        blocks = [np.sort(b_order[s:s + block]) for s in range(0, nb, block)]
        workers = threads or os.cpu_count() or 1
        with ThreadPoolExecutor(max_workers=min(workers, len(blocks))) as pool:
            for bi, ui, ci, ki, mi, n in pool.map(
                    lambda bsel: _block(inst, arr, bsel, u_order, u_lat_sorted, reach_deg,
                                        reach_cos), blocks):
                out_b.append(bi)
                out_u.append(ui)
                out_c.append(ci)
                out_k.append(ki)
                out_m.append(mi)
                cells += n
    b = np.concatenate(out_b) if out_b else np.zeros(0, np.int64)
    u = np.concatenate(out_u) if out_u else np.zeros(0, np.int64)
    c = np.concatenate(out_c) if out_c else np.zeros(0, np.int64)
    k = np.concatenate(out_k) if out_k else np.zeros(0, np.float64)
    m = np.concatenate(out_m) if out_m else np.zeros(0, np.int64)
    if inst.forbidden and b.size:
        codes = b * nu + u
        banned = np.array([inst.beneficiary_index[f.beneficiary] * nu + inst.unit_index[f.unit]
                           for f in inst.forbidden], dtype=np.int64)
        allowed = ~np.isin(codes, banned)
        b, u, c, k, m = b[allowed], u[allowed], c[allowed], k[allowed], m[allowed]
    # each block is sorted by (beneficiary, unit) already: a stable sort on the
    # beneficiary merges the blocks' runs
    order = np.argsort(b, kind="stable")
    return Pairs(beneficiary=b[order], unit=u[order], contribution_cents=c[order],
                 commute_km=k[order], commute_m=m[order], seconds=time.perf_counter() - t0,
                 cells=cells)
