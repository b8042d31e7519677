"""An offline map of Puglia: the gazetteer's municipalities projected equirectangularly,
with workplaces, units and a round's placements (lines from workplace to home).

No tiles, no network, no names of people: points are municipalities' centres, workplaces
and units, labelled by refs at most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from scipy.spatial import ConvexHull
from sqlmodel import Session, select

from agency import records
from agency.mapping import is_occupant
from agency.models import Beneficiary, BeneficiaryStatus, Dwelling, Round, SharedFlat, UnitStatus
from places.gazetteer import load

PROVINCES = ("FG", "BT", "BA", "TA", "BR", "LE")

LAT_MIN, LAT_MAX = 39.75, 42.25
LON_MIN, LON_MAX = 14.85, 18.60
WIDTH = 900.0
K = math.cos(math.radians((LAT_MIN + LAT_MAX) / 2))
SCALE = WIDTH / ((LON_MAX - LON_MIN) * K)
HEIGHT = (LAT_MAX - LAT_MIN) * SCALE
LABELLED = {
    "071024",
    "072006",
    "073027",
    "074001",
    "075035",
    "110001",
    "110002",
    "110009",
    "071051",
    "075052",
    "071028",
    "071033",
}


def project(lat: float, lon: float) -> tuple[float, float]:
    """Equirectangular projection (longitudes shrunk by the cosine of the mid latitude)."""
    return (round((lon - LON_MIN) * K * SCALE, 1), round((LAT_MAX - lat) * SCALE, 1))


@dataclass
class MapData:
    width: float = WIDTH
    height: float = HEIGHT
    towns: list[dict[str, Any]] = field(default_factory=list)
    work: list[tuple[float, float]] = field(default_factory=list)
    units: list[tuple[float, float, str]] = field(default_factory=list)
    lines: list[tuple[float, float, float, float, str]] = field(default_factory=list)
    households: int = 0
    """The households whose workplaces are shown (several may work in one place)."""
    provinces: list[dict[str, Any]] = field(default_factory=list)
    """Each province's outline (the hull of its municipalities' centres) and label."""
    routes: list[dict[str, Any]] = field(default_factory=list)
    """The shuttle lines: ref, name, running, the polyline of their stops and the stops."""


def shuttle_routes(session: Session, scope: int | None, chosen: str | None) -> list[dict[str, Any]]:
    """The office's shuttle lines as polylines through their stops, in calling order."""
    out = []
    for line in records.lines_of_office(session, scope):
        stops = records.stops_of(session, line.id or 0)
        pts = [(*project(s.lat, s.lon), s.name) for s in stops]
        out.append(
            {
                "ref": line.ref,
                "name": line.name,
                "running": line.running,
                "chosen": line.ref == chosen,
                "points": " ".join(f"{x},{y}" for x, y, _n in pts),
                "stops": pts,
            }
        )
    return out


def province_outlines() -> list[dict[str, Any]]:
    """An outline per province: the convex hull of its municipalities' centres, widened
    a little, with the label at its middle."""
    out = []
    towns = load()
    for code in PROVINCES:
        pts = np.array([project(m.lat, m.lon) for m in towns.in_province(code)])
        hull = pts[ConvexHull(pts).vertices]
        middle = pts.mean(axis=0)
        grown = middle + (hull - middle) * 1.04
        out.append(
            {
                "code": code,
                "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in grown),
                "x": round(float(middle[0]), 1),
                "y": round(float(middle[1]), 1),
            }
        )
    return out


def puglia_map(
    session: Session, r: Round | None, *, scope: int | None, on: date, line: str | None = None
) -> MapData:
    m = MapData(provinces=province_outlines(), routes=shuttle_routes(session, scope, line))
    for town in load():
        x, y = project(town.lat, town.lon)
        m.towns.append({"x": x, "y": y, "name": town.name, "big": town.istat_code in LABELLED})
    if r is not None:
        snap = r.snapshot
        # the households of the round; people already in their beds are not
        work = {
            b["id"]: project(b["work"]["lat"], b["work"]["lon"])
            for b in snap.get("beneficiaries", [])
            if not is_occupant(b["id"])
        }
        units = {
            u["id"]: project(u["lat"], u["lon"])
            for u in [*snap.get("dwellings", []), *snap.get("shared_flats", [])]
        }
        m.work = sorted(set(work.values()))
        m.households = len(work)
        m.units = [(x, y, ref) for ref, (x, y) in units.items()]
        for a in (r.result or {}).get("assignments", []):
            if a["beneficiary"] in work and a["unit"] in units:
                (x1, y1), (x2, y2) = work[a["beneficiary"]], units[a["unit"]]
                m.lines.append((x1, y1, x2, y2, a["unit"]))
        return m
    bq = select(Beneficiary.work_lat, Beneficiary.work_lon).where(
        Beneficiary.status == BeneficiaryStatus.waiting.value
    )
    dq = select(Dwelling.lat, Dwelling.lon, Dwelling.ref).where(
        Dwelling.status == UnitStatus.available.value
    )
    fq = select(SharedFlat.lat, SharedFlat.lon, SharedFlat.ref).where(
        SharedFlat.status == UnitStatus.available.value
    )
    if scope is not None:
        bq = bq.where(Beneficiary.office_id == scope)
        dq = dq.where(Dwelling.office_id == scope)
        fq = fq.where(SharedFlat.office_id == scope)
    workplaces = session.exec(bq).all()
    m.work = sorted({project(lat, lon) for lat, lon in workplaces})
    m.households = len(workplaces)
    m.units = [
        (*project(lat, lon), ref)
        for lat, lon, ref in [*session.exec(dq).all(), *session.exec(fq).all()]
    ]
    return m
