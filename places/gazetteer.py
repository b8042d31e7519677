"""Offline gazetteer of the 257 municipalities of Puglia.

Every municipality of the region with its six-digit ISTAT code, province and the
coordinates of its main centre, read from ``places/data/puglia_municipalities.csv``
(built by ``places/data/build_gazetteer.py`` from ISTAT's list and GeoNames' points;
GeoNames data is CC BY 4.0, see ``places/data/README.md``).

Look-ups by name fold accents, case, apostrophes, hyphens and spaces, so ``"nardo"``,
``"NARDÒ"``, ``"Nardo'"`` and ``"Nardò"`` are the same town; unknown names raise
:class:`KeyError` with the closest matches.  :func:`geocode` turns a place name (or an ISTAT
code) into coordinates without any network access.

Examples
--------
>>> from places.gazetteer import geocode, load
>>> load().by_name("san giovanni rotondo").istat_code
'071046'
>>> geocode("NARDÒ")
(40.17953, 18.03174)
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

__all__ = ["DATA_FILE", "Gazetteer", "Municipality", "find", "geocode", "load", "normalize_name"]

#: Name of the data file, in the ``data`` folder of the ``places`` package.
DATA_FILE = "puglia_municipalities.csv"

_NON_ALNUM = re.compile(r"[^a-z0-9]")
# "Nardò (LE)" or "Nardò, LE": a trailing province code.
_PROVINCE_SUFFIX = re.compile(
    r"^(?P<name>.+?)\s*(?:\((?P<p1>[A-Za-z]{2})\)|,\s*(?P<p2>[A-Za-z]{2}))$"
)


@dataclass(frozen=True, slots=True)
class Municipality:
    """A municipality (comune) of Puglia.

    Attributes
    ----------
    istat_code
        Six-digit ISTAT municipality code, e.g. ``"071024"`` for Foggia (``110xxx`` for the
        province of Barletta-Andria-Trani).
    name
        Official Italian name, e.g. ``"Nardò"``.
    province
        Province code: ``"BA"``, ``"BT"``, ``"BR"``, ``"FG"``, ``"LE"`` or ``"TA"``.
    lat, lon
        WGS-84 decimal degrees of the municipality's main centre.
    """

    istat_code: str
    name: str
    province: str
    lat: float
    lon: float


def normalize_name(name: str) -> str:
    """Fold a place name to the key used for look-ups.

    Accents are stripped, case is folded and everything but ASCII letters and digits
    (spaces, apostrophes, hyphens, dots) is dropped.

    Parameters
    ----------
    name
        A place name, as typed by a person or found in a record.

    Returns
    -------
    str
        The folded key, e.g. ``"montesantangelo"`` for ``"Monte Sant'Angelo"``.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub("", stripped.casefold())


def _normalize_code(code: str | int) -> str:
    text = str(code).strip()
    return text.zfill(6) if text.isdigit() else text


class Gazetteer:
    """Municipalities indexed by ISTAT code and by folded name.

    Parameters
    ----------
    municipalities
        The municipalities; codes and folded names must be unique.

    Raises
    ------
    ValueError
        If two municipalities share a code or a folded name.
    """

    def __init__(self, municipalities: Iterable[Municipality]) -> None:
        self._items: tuple[Municipality, ...] = tuple(municipalities)
        self._by_code: dict[str, Municipality] = {}
        self._by_name: dict[str, Municipality] = {}
        for m in self._items:
            key = normalize_name(m.name)
            if m.istat_code in self._by_code:
                raise ValueError(f"duplicate ISTAT code {m.istat_code!r}")
            if key in self._by_name:
                raise ValueError(f"{m.name!r} and {self._by_name[key].name!r} fold to one name")
            self._by_code[m.istat_code] = m
            self._by_name[key] = m

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Municipality]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"Gazetteer({len(self)} municipalities)"

    def by_code(self, code: str | int) -> Municipality:
        """Return the municipality with an ISTAT code.

        Parameters
        ----------
        code
            Six-digit ISTAT code; an integer or a string without its leading zeros
            (``71024``) is accepted too.

        Returns
        -------
        Municipality
            The municipality.

        Raises
        ------
        KeyError
            If no municipality of Puglia has that code.
        """
        key = _normalize_code(code)
        try:
            return self._by_code[key]
        except KeyError:
            raise KeyError(f"no municipality of Puglia has ISTAT code {code!r}") from None

    def by_name(self, name: str) -> Municipality:
        """Return the municipality with a name, ignoring accents, case and punctuation.

        Parameters
        ----------
        name
            The municipality's name, e.g. ``"nardo"``, ``"NARDÒ"`` or
            ``"san giovanni rotondo"``.

        Returns
        -------
        Municipality
            The municipality.

        Raises
        ------
        KeyError
            If no municipality has that name; the message lists the closest names.
        """
        try:
            return self._by_name[normalize_name(name)]
        except KeyError:
            close = self.suggest(name)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise KeyError(f"no municipality of Puglia is named {name!r}{hint}") from None

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Return the official names closest to ``name`` (best first).

        Parameters
        ----------
        name
            A possibly misspelled name.
        n
            Largest number of names returned.

        Returns
        -------
        list of str
            Up to ``n`` official names, compared on their folded keys with :mod:`difflib`.
        """
        keys = difflib.get_close_matches(normalize_name(name), self._by_name, n=n, cutoff=0.6)
        return [self._by_name[k].name for k in keys]

    def nearest(self, lat: float, lon: float) -> Municipality:
        """Return the municipality whose centre is nearest to a point.

        Distances are equirectangular (exact enough between neighbouring towns).

        Parameters
        ----------
        lat, lon
            WGS-84 decimal degrees.
        """
        k = math.cos(math.radians(lat))
        return min(self._items, key=lambda m: (m.lat - lat) ** 2 + ((m.lon - lon) * k) ** 2)

    def in_province(self, province: str) -> tuple[Municipality, ...]:
        """Return the municipalities of a province, in ISTAT-code order.

        Parameters
        ----------
        province
            Province code (``"FG"``, ``"BA"``, ...), case-insensitive.

        Returns
        -------
        tuple of Municipality
            Empty when the code is not a province of Puglia.
        """
        wanted = province.strip().upper()
        return tuple(m for m in self._items if m.province == wanted)


def _parse(text: str) -> Iterator[Municipality]:
    for row in csv.DictReader(io.StringIO(text)):
        yield Municipality(
            istat_code=row["istat_code"],
            name=row["name"],
            province=row["province"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
        )


@functools.cache
def load() -> Gazetteer:
    """Return the gazetteer of Puglia, read once from the packaged CSV and cached.

    Returns
    -------
    Gazetteer
        The 257 municipalities.
    """
    text = resources.files("places").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return Gazetteer(_parse(text))


def find(place: str) -> Municipality:
    """Return the municipality of Puglia that ``place`` names, offline.

    Parameters
    ----------
    place
        A municipality's name (accents, case, apostrophes, hyphens and spaces are ignored),
        optionally followed by its province as in ``"Nardò (LE)"`` or ``"Nardò, LE"``, or
        its ISTAT code.

    Returns
    -------
    Municipality
        The municipality, with its official name, code and centre.

    Raises
    ------
    KeyError
        If the place is not a municipality of Puglia, or not in the province given.
    """
    gazetteer = load()
    text = place.strip()
    if text.isdigit():
        return gazetteer.by_code(text)
    province: str | None = None
    suffix = _PROVINCE_SUFFIX.match(text)
    if suffix is not None:
        text = suffix["name"]
        province = (suffix["p1"] or suffix["p2"]).upper()
    m = gazetteer.by_name(text)
    if province is not None and m.province != province:
        raise KeyError(f"{m.name!r} is in province {m.province}, not {province}")
    return m


def geocode(place: str) -> tuple[float, float]:
    """Return the coordinates of a municipality of Puglia, offline (see :func:`find`).

    Returns
    -------
    tuple of float
        ``(lat, lon)`` in WGS-84 decimal degrees of the municipality's main centre.

    Raises
    ------
    KeyError
        If the place is not a municipality of Puglia, or not in the province given.
    """
    m = find(place)
    return (m.lat, m.lon)
