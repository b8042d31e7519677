"""Place names to coordinates: the offline gazetteer first, an online geocoder only if set.

The agency's records name workplaces and homes by municipality. Every municipality of
Puglia is answered offline by :mod:`places.gazetteer`. A place it does not know (a
hamlet, a street address) is sent to one of geopy's online geocoders only when one is
configured, in code or by the environment:

``HOUSING_GEOCODER``             a geopy service name, e.g. ``nominatim``
``HOUSING_GEOCODER_USER_AGENT``  the user agent the service requires (``housing-match``)

With none configured, an unknown place is an error that suggests close municipalities.
The query text never reaches the logs (it may be part of an address).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

from places import gazetteer

ENV_SERVICE = "HOUSING_GEOCODER"
ENV_USER_AGENT = "HOUSING_GEOCODER_USER_AGENT"


class OnlineGeocoder(Protocol):
    """What is used of a geopy geocoder: ``geocode(query)`` with a location or None."""

    def geocode(self, query: str, *args: Any, **kwargs: Any) -> Any: ...


class GeocodingError(KeyError):
    """A place neither the gazetteer nor the configured geocoder could locate."""


def online_from_env(env: Mapping[str, str] | None = None) -> OnlineGeocoder | None:
    """The geopy geocoder named by ``HOUSING_GEOCODER``, or None when it is not set."""
    env = os.environ if env is None else env
    service = env.get(ENV_SERVICE, "").strip()
    if not service:
        return None
    from geopy.geocoders import get_geocoder_for_service

    cls = get_geocoder_for_service(service)
    geocoder: OnlineGeocoder = cls(user_agent=env.get(ENV_USER_AGENT, "housing-match"))
    return geocoder


class Geocoder:
    """Locates place names: the gazetteer of Puglia, then ``online`` if given."""

    def __init__(
        self, online: OnlineGeocoder | None = None, region: str = "Puglia, Italia"
    ) -> None:
        self.online = online
        self.region = region

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Geocoder:
        return cls(online_from_env(env))

    def locate(self, place: str) -> tuple[float, float]:
        """``(lat, lon)`` of ``place``.

        Raises
        ------
        GeocodingError
            Naming the place and, offline, the closest municipalities.
        """
        try:
            return gazetteer.geocode(place)
        except KeyError as offline:
            if self.online is None:
                raise GeocodingError(
                    f"{place!r} is not a municipality of Puglia ({offline.args[0]}); no "
                    f"online geocoder is configured (set {ENV_SERVICE})"
                ) from None
        found = self.online.geocode(f"{place}, {self.region}")
        if found is None:
            raise GeocodingError(f"{place!r} was found neither in the gazetteer nor online")
        return (float(found.latitude), float(found.longitude))
