"""Real places of Puglia used by the synthetic generator and the example rounds.

A small embedded table, not a gazetteer: the towns where the agency finds housing near
the three farm-labour areas of the region (Capitanata around Foggia, the Arneo around
Nardò, the Bari plain), the informal settlements where many farm workers live, and the
farm districts ("hubs") where they work.

Coordinates are WGS-84 decimal degrees of the town centre, accurate to about 0.01°.
ISTAT codes are the six-digit municipality codes in force (the towns that moved to the
province of Barletta-Andria-Trani in 2009 carry their ``110xxx`` code). Populations are
rounded resident counts (ISTAT, early 2020s); they only weight where housing is drawn.
Rents are typical asking rents of the local market in euro per m² per month.

The informal settlements have no municipality of their own and their extent changes
from season to season: their position is approximate and flagged so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Province = Literal["FG", "BA", "BT", "LE", "TA", "BR"]
PlaceKind = Literal["town", "camp"]

#: Puglia's bounding box (lat_min, lat_max, lon_min, lon_max), a sanity check for data.
PUGLIA_BBOX: tuple[float, float, float, float] = (39.7, 42.3, 14.9, 18.6)


@dataclass(frozen=True, slots=True)
class Place:
    """A town (a municipality's main centre) or an informal settlement.

    Attributes
    ----------
    name
        Official Italian name (the settlement's usual name for a camp).
    province
        Province code: FG, BA, BT, LE, TA or BR.
    lat, lon
        Centre of the place, WGS-84 decimal degrees.
    istat
        Six-digit ISTAT municipality code, or None (camps, or not known reliably).
    population
        Rounded number of residents; for a camp, a rough peak-season estimate.
    rent_eur_m2
        Typical monthly rent per m² in the local market (0 for camps: nothing to rent).
    kind
        ``"town"`` or ``"camp"`` (an informal settlement: ghetto, tent city, shacks).
    approximate
        True when the position is only approximate (camps move and sprawl).
    """

    name: str
    province: Province
    lat: float
    lon: float
    istat: str | None
    population: int
    rent_eur_m2: float = 0.0
    kind: PlaceKind = "town"
    approximate: bool = False

    @property
    def is_camp(self) -> bool:
        return self.kind == "camp"


@dataclass(frozen=True, slots=True)
class Hub:
    """A farm district where farm workers are employed.

    Workplaces are drawn uniformly in the disc of radius ``spread_km`` around the
    centre; homes for the district's workers are looked for in ``towns``.

    Attributes
    ----------
    name
        Descriptive name of the district.
    lat, lon
        Centre of the district, WGS-84 decimal degrees.
    spread_km
        Radius of the district, in km.
    weight
        Relative share of the region's farm jobs (the weights need not sum to 1).
    towns
        Names of the towns (in :data:`PLACES`) where its workers could be housed.
    camps
        Names of the informal settlements (in :data:`PLACES`) near it.
    informal_share
        Share of its workers who live in an informal settlement.
    """

    name: str
    lat: float
    lon: float
    spread_km: float
    weight: float
    towns: tuple[str, ...]
    camps: tuple[str, ...] = ()
    informal_share: float = 0.2


def _town(
    name: str,
    province: Province,
    lat: float,
    lon: float,
    istat: str | None,
    population: int,
    rent_eur_m2: float,
) -> Place:
    return Place(name, province, lat, lon, istat, population, rent_eur_m2)


def _camp(name: str, lat: float, lon: float, population: int) -> Place:
    return Place(name, "FG", lat, lon, None, population, kind="camp", approximate=True)


PLACES: tuple[Place, ...] = (
    # -- Capitanata (province of Foggia, and the BT towns of the Ofanto plain) ---------
    _town("Foggia", "FG", 41.4622, 15.5446, "071024", 147_000, 6.5),
    _town("San Severo", "FG", 41.6856, 15.3815, "071051", 49_000, 5.0),
    _town("Cerignola", "FG", 41.2652, 15.8997, "071020", 57_000, 5.0),
    _town("Lucera", "FG", 41.5057, 15.3357, "071028", 31_000, 4.8),
    _town("Manfredonia", "FG", 41.6264, 15.9100, "071029", 54_000, 5.8),
    _town("Rignano Garganico", "FG", 41.6770, 15.5880, "071041", 2_000, 4.0),
    _town("San Marco in Lamis", "FG", 41.7121, 15.6382, "071047", 13_000, 4.2),
    _town("Apricena", "FG", 41.7862, 15.4439, "071004", 13_000, 4.3),
    _town("Torremaggiore", "FG", 41.6890, 15.2940, "071056", 16_000, 4.3),
    _town("Orta Nova", "FG", 41.3288, 15.7099, "071036", 17_000, 4.4),
    _town("Stornara", "FG", 41.2860, 15.7700, "071054", 6_000, 4.0),
    _town("Stornarella", "FG", 41.2560, 15.7320, "071055", 5_000, 4.0),
    _town("Ordona", "FG", 41.3120, 15.6290, "071063", 2_700, 4.0),
    _town("Carapelle", "FG", 41.3630, 15.6930, "071010", 6_500, 4.1),
    _town("Trinitapoli", "BT", 41.3580, 16.0880, "110010", 14_000, 4.5),
    _town("San Ferdinando di Puglia", "BT", 41.3020, 16.0690, "110007", 13_500, 4.5),
    _town("Zapponeta", "FG", 41.4581, 15.9579, "071064", 3_500, 4.5),
    _town("Troia", "FG", 41.3611, 15.3088, "071058", 7_000, 4.0),
    _town("Ascoli Satriano", "FG", 41.2071, 15.5624, "071005", 6_000, 4.0),
    _town("San Giovanni Rotondo", "FG", 41.7064, 15.7277, "071046", 27_000, 5.5),
    _town("Poggio Imperiale", "FG", 41.8261, 15.3662, "071040", 2_500, 4.0),
    _town("Lesina", "FG", 41.8627, 15.3531, "071027", 6_000, 4.8),
    _town("San Paolo di Civitate", "FG", 41.7386, 15.2606, "071050", 5_500, 4.0),
    _town("Serracapriola", "FG", 41.8064, 15.1597, "071053", 3_800, 4.0),
    # -- Salento, the Arneo around Nardò (province of Lecce) ---------------------------
    _town("Nardò", "LE", 40.1790, 18.0330, "075052", 31_000, 6.0),
    _town("Copertino", "LE", 40.2710, 18.0490, "075022", 24_000, 5.0),
    _town("Leverano", "LE", 40.2880, 17.9960, "075037", 14_000, 4.8),
    _town("Porto Cesareo", "LE", 40.2620, 17.8990, "075097", 6_000, 7.5),
    _town("Galatone", "LE", 40.1470, 18.0720, "075030", 15_000, 4.6),
    _town("Lecce", "LE", 40.3529, 18.1743, "075035", 95_000, 8.0),
    # -- the Bari plain and the Murgia (provinces of Bari and BT) ----------------------
    _town("Bari", "BA", 41.1171, 16.8719, "072006", 316_000, 9.0),
    _town("Bitonto", "BA", 41.1083, 16.6906, "072011", 53_000, 6.0),
    _town("Altamura", "BA", 40.8270, 16.5530, "072004", 70_000, 6.5),
    _town("Gravina in Puglia", "BA", 40.8190, 16.4230, "072023", 43_000, 5.5),
    _town("Acquaviva delle Fonti", "BA", 40.8970, 16.8420, "072001", 20_000, 5.8),
    _town("Adelfia", "BA", 41.0040, 16.8710, "072002", 17_000, 5.5),
    _town("Noicattaro", "BA", 41.0340, 17.0130, "072032", 26_000, 6.0),
    _town("Rutigliano", "BA", 41.0100, 17.0050, "072037", 18_000, 5.8),
    _town("Conversano", "BA", 40.9680, 17.1140, "072019", 26_000, 6.5),
    _town("Andria", "BT", 41.2270, 16.2960, "110001", 98_000, 6.0),
    _town("Barletta", "BT", 41.3190, 16.2830, "110002", 94_000, 7.0),
    _town("Canosa di Puglia", "BT", 41.2230, 16.0650, "110004", 29_000, 4.8),
    # -- informal settlements (approximate positions) ----------------------------------
    # The shacks and caravans on the former airstrip next to the village of Borgo
    # Mezzanone (frazione of Manfredonia; the village itself is at 41.506, 15.628).
    _camp("Borgo Mezzanone", 41.5150, 15.6400, 2_000),
    # The "Gran Ghetto di Rignano": in the territory of San Severo, locality Torretta
    # Antonacci, between San Severo, Foggia and Rignano Garganico.
    _camp("Torretta Antonacci (Gran Ghetto)", 41.5720, 15.4720, 1_500),
    # Rural settlements in the countryside of Cerignola and of Lucera.
    _camp("Borgo Tre Titoli", 41.2950, 15.8100, 600),
    _camp("Palmori", 41.4700, 15.4100, 300),
)

PLACE_BY_NAME: dict[str, Place] = {p.name: p for p in PLACES}

HUBS: tuple[Hub, ...] = (
    Hub(
        "Alto Tavoliere (San Severo - Torretta Antonacci)",
        41.6200,
        15.4300,
        12.0,
        0.22,
        (
            "San Severo",
            "Lucera",
            "Torremaggiore",
            "Apricena",
            "Rignano Garganico",
            "San Marco in Lamis",
            "Foggia",
            "San Paolo di Civitate",
        ),
        ("Torretta Antonacci (Gran Ghetto)",),
        informal_share=0.62,
    ),
    Hub(
        "Tavoliere centrale (Foggia - Borgo Mezzanone)",
        41.5000,
        15.6000,
        12.0,
        0.20,
        (
            "Foggia",
            "Manfredonia",
            "Lucera",
            "San Giovanni Rotondo",
            "Carapelle",
            "Rignano Garganico",
            "Zapponeta",
        ),
        ("Borgo Mezzanone", "Palmori"),
        informal_share=0.62,
    ),
    Hub(
        "Basso Tavoliere (Cerignola - Orta Nova)",
        41.2900,
        15.7900,
        12.0,
        0.20,
        (
            "Cerignola",
            "Orta Nova",
            "Stornara",
            "Stornarella",
            "Ordona",
            "Carapelle",
            "Trinitapoli",
            "San Ferdinando di Puglia",
            "Ascoli Satriano",
        ),
        ("Borgo Tre Titoli",),
        informal_share=0.60,
    ),
    Hub(
        "Monti Dauni bassi (Lucera - Troia)",
        41.4400,
        15.3500,
        10.0,
        0.06,
        ("Lucera", "Troia", "Foggia"),
        ("Palmori",),
        informal_share=0.45,
    ),
    Hub(
        "Laguna di Lesina (Lesina - Poggio Imperiale)",
        41.8300,
        15.3200,
        8.0,
        0.04,
        ("Lesina", "Poggio Imperiale", "San Paolo di Civitate", "Serracapriola", "Apricena"),
        informal_share=0.35,
    ),
    Hub(
        "Bassa valle dell'Ofanto (Trinitapoli - San Ferdinando)",
        41.3200,
        16.0500,
        8.0,
        0.06,
        ("Trinitapoli", "San Ferdinando di Puglia", "Cerignola", "Canosa di Puglia", "Barletta"),
        informal_share=0.35,
    ),
    Hub(
        "Arneo (Nardò - Leverano)",
        40.2300,
        18.0000,
        7.0,
        0.10,
        ("Nardò", "Copertino", "Leverano", "Porto Cesareo", "Galatone", "Lecce"),
        informal_share=0.25,
    ),
    Hub(
        "Sud-est barese (Noicattaro - Rutigliano)",
        41.0000,
        17.0000,
        8.0,
        0.05,
        ("Noicattaro", "Rutigliano", "Conversano", "Adelfia", "Bari"),
        informal_share=0.15,
    ),
    Hub(
        "Murgia (Altamura - Gravina)",
        40.8300,
        16.5000,
        10.0,
        0.03,
        ("Altamura", "Gravina in Puglia", "Acquaviva delle Fonti"),
        informal_share=0.10,
    ),
    Hub(
        "Nord barese (Andria - Bitonto)",
        41.1800,
        16.4500,
        12.0,
        0.04,
        ("Andria", "Bitonto", "Canosa di Puglia", "Barletta", "Bari"),
        informal_share=0.15,
    ),
)


def towns() -> tuple[Place, ...]:
    """The towns of :data:`PLACES` (no camps)."""
    return tuple(p for p in PLACES if not p.is_camp)


def camps() -> tuple[Place, ...]:
    """The informal settlements of :data:`PLACES`."""
    return tuple(p for p in PLACES if p.is_camp)


def place(name: str) -> Place:
    """The place called ``name``.

    Raises
    ------
    KeyError
        With the list of known names, when ``name`` is not in the table.
    """
    try:
        return PLACE_BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"unknown place {name!r}; known places: {', '.join(sorted(PLACE_BY_NAME))}"
        ) from None


def check_table(places: Iterable[Place] = PLACES, hubs: Iterable[Hub] = HUBS) -> list[str]:
    """Problems in the tables (empty when they are sound): used by the tests."""
    problems: list[str] = []
    lat0, lat1, lon0, lon1 = PUGLIA_BBOX
    names: set[str] = set()
    for p in places:
        if p.name in names:
            problems.append(f"{p.name}: duplicate name")
        names.add(p.name)
        if not (lat0 <= p.lat <= lat1 and lon0 <= p.lon <= lon1):
            problems.append(f"{p.name}: ({p.lat}, {p.lon}) is outside Puglia")
        if p.istat is not None and (len(p.istat) != 6 or not p.istat.isdigit()):
            problems.append(f"{p.name}: ISTAT code {p.istat!r} is not six digits")
        if not p.is_camp and p.rent_eur_m2 <= 0:
            problems.append(f"{p.name}: a town needs a positive rent per m²")
    for h in hubs:
        if not (lat0 <= h.lat <= lat1 and lon0 <= h.lon <= lon1):
            problems.append(f"hub {h.name}: centre is outside Puglia")
        for n in h.towns:
            if n not in names or PLACE_BY_NAME[n].is_camp:
                problems.append(f"hub {h.name}: {n!r} is not a town of the table")
        for n in h.camps:
            if n not in names or not PLACE_BY_NAME[n].is_camp:
                problems.append(f"hub {h.name}: {n!r} is not a camp of the table")
    return problems
