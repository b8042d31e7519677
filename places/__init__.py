"""Places of Puglia, offline: the bottom layer beside :mod:`matching`.

- :mod:`places.gazetteer`: the 257 municipalities (ISTAT code, name, province, centre),
  looked up by name or code from the packaged ``data/puglia_municipalities.csv``;
- :mod:`places.geocoding`: place names to coordinates, the gazetteer first and one of
  geopy's online geocoders only when configured;
- :mod:`places.sites`: the towns, informal settlements and farm districts that the
  synthetic generator and the example rounds use.

It imports nothing of the project: the agency, the scenarios and the service all read it.
"""
