"""Geocoding goes through the gazetteer offline; an online geocoder only when configured."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from places.geocoding import Geocoder, GeocodingError, online_from_env


@dataclass
class _Location:
    latitude: float
    longitude: float


class _Recorder:
    """Stands for an online service (the tests never reach the network)."""

    def __init__(self, answer: _Location | None) -> None:
        self.answer = answer
        self.queries: list[str] = []

    def geocode(self, query: str, *args: Any, **kwargs: Any) -> _Location | None:
        self.queries.append(query)
        return self.answer


def test_municipalities_are_answered_offline_even_with_an_online_geocoder() -> None:
    online = _Recorder(_Location(0.0, 0.0))
    lat, lon = Geocoder(online).locate("NARDÒ")
    assert abs(lat - 40.18) < 0.03 and abs(lon - 18.03) < 0.03
    assert online.queries == []


def test_unknown_place_offline_names_it_and_how_to_go_online() -> None:
    with pytest.raises(GeocodingError) as err:
        Geocoder().locate("Borgo Mezzanone")
    text = str(err.value)
    assert "Borgo Mezzanone" in text and "HOUSING_GEOCODER" in text


def test_unknown_place_goes_online_when_configured() -> None:
    online = _Recorder(_Location(41.515, 15.64))
    assert Geocoder(online).locate("Borgo Mezzanone") == (41.515, 15.64)
    assert online.queries == ["Borgo Mezzanone, Puglia, Italia"]


def test_online_miss_is_an_error_naming_the_place() -> None:
    with pytest.raises(GeocodingError, match="Nowhere"):
        Geocoder(_Recorder(None)).locate("Nowhere")


def test_online_geocoder_comes_only_from_the_environment_when_set() -> None:
    assert online_from_env({}) is None
    assert Geocoder.from_env({}).online is None
    geocoder = online_from_env(
        {"HOUSING_GEOCODER": "nominatim", "HOUSING_GEOCODER_USER_AGENT": "housing-match-test"}
    )
    assert type(geocoder).__name__ == "Nominatim"  # built, not called: no network here
