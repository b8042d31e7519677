"""Tests of the offline gazetteer of Puglia (places.gazetteer and its data file)."""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import pytest

from places.gazetteer import Gazetteer, Municipality, find, geocode, load, normalize_name
from places.sites import PUGLIA_BBOX, towns

CSV = Path(__file__).resolve().parents[2] / "places" / "data" / "puglia_municipalities.csv"
PER_PROVINCE = {"BA": 41, "BT": 10, "BR": 20, "FG": 61, "LE": 96, "TA": 29}
PROVINCE_PREFIX = {"FG": "071", "BA": "072", "TA": "073", "BR": "074", "LE": "075", "BT": "110"}


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def test_csv_columns_and_row_count() -> None:
    with CSV.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == ["istat_code", "name", "province", "lat", "lon", "source"]
    assert len(rows) == 257
    assert all(r["source"].startswith("geonames:") for r in rows)


def test_257_municipalities_per_province() -> None:
    g = load()
    assert len(g) == 257
    assert Counter(m.province for m in g) == PER_PROVINCE
    for province, n in PER_PROVINCE.items():
        assert len(g.in_province(province)) == n
    assert len(g.in_province("fg")) == 61


def test_codes_unique_and_match_province() -> None:
    g = load()
    codes = [m.istat_code for m in g]
    assert len(set(codes)) == 257
    for m in g:
        assert len(m.istat_code) == 6 and m.istat_code.isdigit()
        assert m.istat_code[:3] == PROVINCE_PREFIX[m.province], m


def test_names_unique_after_folding() -> None:
    assert len({normalize_name(m.name) for m in load()}) == 257


def test_coordinates_inside_puglia() -> None:
    lat_min, lat_max, lon_min, lon_max = PUGLIA_BBOX
    assert (lat_min, lat_max, lon_min, lon_max) == (39.7, 42.3, 14.9, 18.6)
    for m in load():
        assert lat_min <= m.lat <= lat_max and lon_min <= m.lon <= lon_max, m


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Foggia", (41.46, 15.55)), ("Nardò", (40.18, 18.03)), ("Bari", (41.12, 16.87))],
)
def test_known_towns_within_3_km(name: str, expected: tuple[float, float]) -> None:
    assert km(geocode(name), expected) < 3.0


def test_agrees_with_places_table() -> None:
    g = load()
    for town in towns():
        assert town.istat is not None
        m = g.by_code(town.istat)
        assert (m.name, m.province) == (town.name, town.province)
        assert km((m.lat, m.lon), (town.lat, town.lon)) < 3.0, town.name


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("nardo", "075052"),
        ("NARDÒ", "075052"),
        ("Nardo'", "075052"),
        ("  Nardò ", "075052"),
        ("san giovanni rotondo", "071046"),
        ("San-Giovanni-Rotondo", "071046"),
        ("Sannicandro di Bari", "072040"),
        ("sannicandro-di-bari", "072040"),
        ("monte sant angelo", "071033"),
        ("MONTE SANT’ANGELO", "071033"),
        ("Castrignano de Greci", "075018"),
        ("patu", "075060"),
        ("presicce acquarica", "075098"),
        ("Barletta", "110002"),
    ],
)
def test_by_name_variants(query: str, code: str) -> None:
    assert load().by_name(query).istat_code == code


def test_by_code() -> None:
    g = load()
    foggia = g.by_code("071024")
    assert foggia == Municipality("071024", "Foggia", "FG", foggia.lat, foggia.lon)
    assert g.by_code(71024) is foggia
    assert g.by_code(" 71024 ") is foggia
    assert g.by_code("110001").name == "Andria"
    with pytest.raises(KeyError, match="ISTAT code"):
        g.by_code("999999")
    with pytest.raises(KeyError):
        g.by_code("001001")  # Agliè, Piedmont: not in Puglia


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(KeyError, match="did you mean 'Nardò'"):
        load().by_name("Nardoo")
    with pytest.raises(KeyError, match="Cerignola"):
        load().by_name("Cerignolla")
    with pytest.raises(KeyError, match="no municipality of Puglia is named 'Roma'"):
        load().by_name("Roma")


def test_geocode_forms() -> None:
    nardo = geocode("Nardò")
    assert geocode("nardo (LE)") == nardo
    assert geocode("NARDO, le") == nardo
    assert geocode("075052") == nardo
    with pytest.raises(KeyError, match="province LE, not BA"):
        geocode("Nardò (BA)")
    with pytest.raises(KeyError):
        geocode("Atlantis")


def test_find_gives_the_official_record() -> None:
    nardo = load().by_code("075052")
    assert find("nardo (LE)") is nardo
    assert find(" 75052 ") is nardo
    with pytest.raises(KeyError, match="province LE, not BA"):
        find("Nardò (BA)")


def test_nearest_municipality() -> None:
    g = load()
    foggia = g.by_code("071024")
    assert g.nearest(foggia.lat + 0.01, foggia.lon - 0.01) is foggia
    # the Arneo's farm district, in the countryside north-west of Nardò
    assert g.nearest(40.23, 18.0).name == "Nardò"


def test_load_is_cached_and_municipality_frozen() -> None:
    g = load()
    assert load() is g
    with pytest.raises(AttributeError):
        g.by_code("071024").lat = 0.0  # type: ignore[misc]


def test_duplicates_rejected() -> None:
    m = Municipality("071024", "Foggia", "FG", 41.46, 15.55)
    with pytest.raises(ValueError, match="duplicate ISTAT code"):
        Gazetteer([m, m])
    with pytest.raises(ValueError, match="fold to one name"):
        Gazetteer([m, Municipality("071999", "FOGGIA", "FG", 41.46, 15.55)])
