"""Distances on the WGS-84 ellipsoid, vectorised.

The spec defines commute on the geodesic as ``geopy.distance.geodesic`` computes it
(Karney's algorithm). Calling geopy per pair costs tens of microseconds, far too slow
for millions of pairs, so the engine works in three steps:

1. a test on the sphere, vectorised, to discard pairs that are clearly far (a sphere of
   radius 6371.0088 km is within 0.6% of the ellipsoid, so a 1% margin never discards
   a pair the ellipsoid would keep); with points as unit vectors (:func:`unit_vectors`)
   the test ``p_b . p_u >= cos(reach)`` is one matrix product per block;
2. :func:`vincenty_km`, Vincenty's inverse formula vectorised with NumPy, which agrees
   with Karney's algorithm to well under a millimetre for points that are not nearly
   antipodal (all of Italy);
3. :func:`geodesic_km` (geopy itself) for every pair whose Vincenty distance did not
   converge or lies within :data:`DECISION_BAND_KM` of the limit, so that each decision
   agrees with the spec exactly.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from geopy.distance import geodesic

FloatArray = npt.NDArray[np.float64]

EARTH_MEAN_RADIUS_KM = 6371.0088
WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_B = (1 - WGS84_F) * WGS84_A
SPHERE_MARGIN = 1.01
"""A spherical distance times this is never shorter than the ellipsoidal one."""
DECISION_BAND_KM = 1e-4
"""Pairs whose commute lies this close to a limit are decided by geopy itself."""
METRE_BAND_M = 1e-3
"""Commutes this close to a half metre are measured by geopy itself (objective 3 counts
whole metres, ``floor(1000 * km + 0.5)``)."""
KM_PER_DEGREE_LAT_MIN = 110.5
"""A degree of latitude is never shorter than this (110.574 km at the equator)."""
DOT_SLACK = 1e-12
"""The dot product of two unit vectors comes out within a few parts in 1e16 of its true
value (that of a point with itself may be 0.9999999999999996): the pre-filter lowers its
threshold by this much, so that it never drops a pair the ellipsoid keeps, at the cost of
letting through pairs up to about 9 m beyond a zero reach."""


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance in km on WGS-84, exactly as the spec defines it (geopy)."""
    return float(geodesic((lat1, lon1), (lat2, lon2)).km)


def haversine_km(
    lat1: FloatArray | float,
    lon1: FloatArray | float,
    lat2: FloatArray | float,
    lon2: FloatArray | float,
) -> FloatArray:
    """Great-circle distance on the mean sphere, broadcasting over arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(
        2 * EARTH_MEAN_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0))), dtype=np.float64
    )


def unit_vectors(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Points as unit vectors on the sphere (n x 3): ``p1 . p2 = cos(central angle)``."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=1)


def sphere_reach_km(max_commute_km: FloatArray, circuity: float) -> FloatArray:
    """The distance on the mean sphere beyond which no ellipsoidal commute is within
    ``max_commute_km``: the limit without circuity, widened by :data:`SPHERE_MARGIN`."""
    return np.asarray(max_commute_km / circuity * SPHERE_MARGIN + 1e-6, dtype=np.float64)


def cos_reach(km: FloatArray) -> FloatArray:
    """The pre-filter's threshold on ``p_b . p_u`` for a spherical reach of ``km``: the
    cosine of the central angle it spans (capped at pi), less :data:`DOT_SLACK`."""
    return np.asarray(
        np.cos(np.minimum(km / EARTH_MEAN_RADIUS_KM, np.pi)) - DOT_SLACK, dtype=np.float64
    )


def reduced_latitude(lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``sin`` and ``cos`` of the reduced latitude on WGS-84 (per point, for Vincenty)."""
    u = np.arctan((1 - WGS84_F) * np.tan(np.radians(lat)))
    return np.sin(u), np.cos(u)


def vincenty_km(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray, max_iter: int = 100
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Vincenty's inverse formula on WGS-84 for equal-length arrays.

    Returns
    -------
    distance_km, converged
        ``converged`` is False where the iteration did not settle (nearly antipodal
        points); callers must fall back to :func:`geodesic_km` there.
    """
    s1, c1 = reduced_latitude(lat1)
    s2, c2 = reduced_latitude(lat2)
    return vincenty_reduced_km(s1, c1, s2, c2, np.radians(lon2 - lon1), max_iter)


def vincenty_reduced_km(
    sin_u1: FloatArray,
    cos_u1: FloatArray,
    sin_u2: FloatArray,
    cos_u2: FloatArray,
    big_l: FloatArray,
    max_iter: int = 100,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """:func:`vincenty_km` from precomputed reduced latitudes and the longitude difference."""
    a, b, f = WGS84_A, WGS84_B, WGS84_F
    lam = big_l.copy()
    converged = np.zeros(lam.shape, dtype=bool)
    n = lam.shape[0]
    sin_sigma = np.zeros(n)
    cos_sigma = np.ones(n)
    sigma = np.zeros(n)
    cos2_alpha = np.ones(n)
    cos_2sm = np.zeros(n)
    ss = sin_u1 * sin_u2
    cc = cos_u1 * cos_u2
    cs = cos_u1 * sin_u2
    sc = sin_u1 * cos_u2
    with np.errstate(invalid="ignore", divide="ignore"):
        for _ in range(max_iter):
            sin_lam, cos_lam = np.sin(lam), np.cos(lam)
            sin_sigma = np.sqrt((cos_u2 * sin_lam) ** 2 + (cs - sc * cos_lam) ** 2)
            cos_sigma = ss + cc * cos_lam
            sigma = np.arctan2(sin_sigma, cos_sigma)
            sin_alpha = np.where(sin_sigma == 0, 0.0, cc * sin_lam / sin_sigma)
            cos2_alpha = 1 - sin_alpha**2
            cos_2sm = np.where(cos2_alpha == 0, 0.0, cos_sigma - 2 * ss / cos2_alpha)
            c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
            lam_prev = lam
            lam = big_l + (1 - c) * f * sin_alpha * (
                sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm**2))
            )
            converged = np.abs(lam - lam_prev) < 1e-12
            if converged.all():
                break
        u_sq = cos2_alpha * (a * a - b * b) / (b * b)
        big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
        big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
        d_sigma = (
            big_b
            * sin_sigma
            * (
                cos_2sm
                + big_b
                / 4
                * (
                    cos_sigma * (-1 + 2 * cos_2sm**2)
                    - big_b / 6 * cos_2sm * (-3 + 4 * sin_sigma**2) * (-3 + 4 * cos_2sm**2)
                )
            )
        )
        dist = b * big_a * (sigma - d_sigma) / 1000.0
    converged &= np.isfinite(dist)
    return np.where(sin_sigma == 0, 0.0, dist), converged | (sin_sigma == 0)
