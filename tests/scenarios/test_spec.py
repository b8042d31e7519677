"""Scenario files: parsing, sweeps, and errors that name the variant and the key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from matching.instance import GroupFloor, Instance, save_instance
from places.sites import place
from scenarios.overrides import (
    AddDwellings,
    AddSharedFlats,
    CommuteChange,
    FundBudget,
    PolicyChange,
    PriorityChange,
    RemoveUnits,
)
from scenarios.spec import (
    AgencyBase,
    GenerateBase,
    InstanceBase,
    ScenarioError,
    load_spec,
    parse_spec,
)
from scenarios.synthetic import generate

EXAMPLES = Path(__file__).resolve().parents[2] / "scenarios" / "examples"
BASE = '[base]\ngenerate = { scale = "XS", seed = 1 }\n'


def errors_of(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        parse_spec(text)
    return [str(e) for e in exc.value.errors]


def test_the_policy_options_are_overrides() -> None:
    spec = parse_spec(
        BASE
        + """
[variants.strict.overrides.policy]
priority_mode = "strict"
[variants.floors.overrides.policy]
group_floors = [
    { group = "tag:exploitation_victim", share = 0.25 },
    { group = "gender:F", share = 0.3 },
]
"""
    )
    strict, floors = (v.overrides[0] for v in spec.variants)
    assert isinstance(strict, PolicyChange) and isinstance(floors, PolicyChange)
    assert strict.changes() == {"priority_mode": "strict"}
    assert floors.changes() == {
        "group_floors": (
            GroupFloor("tag:exploitation_victim", Decimal("0.25")),
            GroupFloor("gender:F", Decimal("0.3")),
        )
    }
    assert floors.describe() == "policy: group floors tag:exploitation_victim 25%, gender:F 30%"
    inst = floors.apply(strict.apply(generate("XS", 1)))
    assert (inst.policy.priority_mode, len(inst.policy.group_floors)) == ("strict", 2)


def test_full_file_parses_every_override() -> None:
    spec = parse_spec(
        BASE
        + """
[scenario]
name = "everything"
description = "all overrides"
time_limit = 7.5
seed = 3

[variants.all]
description = "one of each"
overrides.funds.victims.add_eur = 100000.50
overrides.funds.regional.scale = 1.5
overrides.funds.municipal.set_cents = 1234
overrides.priority = { add = { exploitation_victim = 3 }, multiply = { health = 2 }, max = 10 }
overrides.remove_units = ["D00001", "F0001"]
[variants.all.overrides.policy]
affordability_ratio = 0.29
max_contribution_eur = 350
contribution_months = 6
objective_unit = "households"
[variants.all.overrides.commute]
extra_km = 15
zone = { place = "Borgo Mezzanone", radius_km = 10, tags = ["informal_settlement"] }
[variants.all.overrides.add_dwellings.lucera]
municipality = "lucera"
count = 2
area_m2 = 60
bedrooms = 2
rent_eur = 400
[variants.all.overrides.add_shared_flats.ss]
municipality = "San Severo"
count = 5
rooms = 2
beds_per_room = 2
"""
    )
    assert (spec.name, spec.description, spec.time_limit, spec.seed) == (
        "everything",
        "all overrides",
        7.5,
        3,
    )
    assert spec.base == GenerateBase("XS", 1)
    (v,) = spec.variants
    kinds = {type(o): o for o in v.overrides}
    funds = [o for o in v.overrides if isinstance(o, FundBudget)]
    assert {(f.fund_id, f.op, f.cents, f.factor) for f in funds} == {
        ("victims", "add", 10_000_050, Decimal(1)),
        ("regional", "scale", 0, Decimal("1.5")),
        ("municipal", "set", 1234, Decimal(1)),
    }
    pol = kinds[PolicyChange]
    assert isinstance(pol, PolicyChange)
    assert pol.affordability_ratio == Decimal("0.29")  # exact, not a binary float
    assert (pol.max_contribution_cents, pol.contribution_months, pol.objective_unit) == (
        35000,
        6,
        "households",
    )
    com = kinds[CommuteChange]
    assert isinstance(com, CommuteChange) and com.zone is not None
    bm = place("Borgo Mezzanone")
    assert (com.op, com.km, com.zone.lat, com.zone.lon, com.zone.tags) == (
        "add",
        15.0,
        bm.lat,
        bm.lon,
        ("informal_settlement",),
    )
    pri = kinds[PriorityChange]
    assert isinstance(pri, PriorityChange)
    assert (dict(pri.add), dict(pri.multiply), pri.maximum) == (
        {"exploitation_victim": 3},
        {"health": 2},
        10,
    )
    dw = kinds[AddDwellings]
    assert isinstance(dw, AddDwellings)
    assert (dw.municipality, dw.count, dw.rent_cents, dw.ids()) == (
        "Lucera",
        2,
        40000,
        ["D-lucera-1", "D-lucera-2"],
    )
    sf = kinds[AddSharedFlats]
    assert isinstance(sf, AddSharedFlats) and sf.beds == 20 and sf.rent_per_bed_cents is None
    assert kinds[RemoveUnits] == RemoveUnits(unit_ids=("D00001", "F0001"))
    # and it all applies to the base
    base = spec.load_base()
    assert spec.check_against(base) == []
    out = v.build(base)
    assert len(out.shared_flats) == len(base.shared_flats) - 1 + 5
    assert len(v.describe()) == len(v.overrides)


def test_sweep_of_values_expands_in_order() -> None:
    spec = parse_spec(
        BASE
        + """
[variants.afford]
description = "ratios"
sweep = { key = "policy.affordability_ratio", values = [0.25, 0.30, 0.35] }
[variants.other]
overrides.policy.contribution_months = 6
"""
    )
    names = [v.name for v in spec.variants]
    assert names == ["afford[0.25]", "afford[0.30]", "afford[0.35]", "other"]
    ratios = [
        o.affordability_ratio
        for v in spec.variants[:3]
        for o in v.overrides
        if isinstance(o, PolicyChange)
    ]
    assert ratios == [Decimal("0.25"), Decimal("0.30"), Decimal("0.35")]
    assert {v.group for v in spec.variants[:3]} == {"afford"}
    assert spec.variants[0].sweep_key == "policy.affordability_ratio"
    assert spec.variants[0].sweep_value == "0.25"
    assert spec.variants[0].description == "ratios"


def test_sweep_of_a_range_keeps_the_other_overrides() -> None:
    spec = parse_spec(
        BASE
        + """
[variants.money]
sweep = { key = "overrides.funds.victims.add_eur", start = 0, stop = 100000, step = 25000 }
overrides.commute.extra_km = 5
"""
    )
    assert [v.sweep_value for v in spec.variants] == ["0", "25000", "50000", "75000", "100000"]
    for k, v in enumerate(spec.variants):
        (fund,) = [o for o in v.overrides if isinstance(o, FundBudget)]
        assert fund.cents == k * 25000 * 100
        assert any(isinstance(o, CommuteChange) and o.km == 5 for o in v.overrides)


def test_decimal_range_is_exact() -> None:
    spec = parse_spec(
        BASE + '[variants.r]\nsweep = { key = "policy.affordability_ratio", '
        "start = 0.2, stop = 0.3, step = 0.05 }\n"
    )
    assert [v.sweep_value for v in spec.variants] == ["0.20", "0.25", "0.30"]


def test_bases_and_defaults(tmp_path: Path) -> None:
    save_instance(generate("XS", 2), tmp_path / "round.json")
    f = tmp_path / "s.toml"
    f.write_text(
        '[base]\ninstance = "round.json"\n[variants.a]\noverrides.policy.contribution_months = 6\n',
        encoding="utf-8",
    )
    spec = load_spec(f)
    assert spec.name == "s" and spec.time_limit == 20.0 and spec.seed == 0
    assert isinstance(spec.base, InstanceBase) and spec.base.path == tmp_path / "round.json"
    assert spec.load_base() == generate("XS", 2)
    assert len(spec.source_sha256) == 64
    agency = parse_spec(
        '[base]\nagency = { database_url = "postgresql://u:secret@h/db" }\n'
        "[variants.a]\noverrides.policy.contribution_months = 6\n"
    )
    assert agency.base == AgencyBase("postgresql://u:secret@h/db")
    assert "secret" not in str(agency.base.describe())
    assert parse_spec(
        "[base]\nagency = {}\n[variants.a]\noverrides.policy.contribution_months = 6\n"
    ).base == AgencyBase(None)
    triple = parse_spec(
        "[base]\ngenerate = { scale = [5, 3, 1], seed = 0 }\n[variants.a]\n"
        "overrides.policy.contribution_months = 6\n"
    )
    assert triple.base == GenerateBase((5, 3, 1), 0)


V = "[variants.v]\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            V + "overrides.commute.extra_km = -3\n",
            'variant "v": overrides.commute.extra_km: must be a positive number, got -3',
        ),
        (
            V + 'overrides.commute.extra_km = "far"\n',
            "variant \"v\": overrides.commute.extra_km: must be a positive number, got 'far'",
        ),
        (
            V + "overrides.commute = { extra_km = 3, max_km = 4 }\n",
            'variant "v": overrides.commute: give exactly one of max_km (set) or extra_km (add)',
        ),
        (
            V + "overrides.commute = { extra_km = 3, "
            'zone = { place = "Atlantis", radius_km = 5 } }\n',
            'variant "v": overrides.commute.zone.place: no municipality of Puglia is named',
        ),
        (
            V + 'overrides.commute = { extra_km = 3, zone = { place = "Foggia" } }\n',
            'variant "v": overrides.commute.zone.radius_km: is required',
        ),
        (
            V + "overrides.funds.victims = { add_eur = 1, scale = 2 }\n",
            'variant "v": overrides.funds.victims: give exactly one of',
        ),
        (
            V + "overrides.funds.victims.add_eur = 0.001\n",
            'variant "v": overrides.funds.victims.add_eur: must have at most two decimals',
        ),
        (
            V + "overrides.funds.victims.set_cents = 10.5\n",
            'variant "v": overrides.funds.victims.set_cents: must be a non-negative integer number',
        ),
        (
            V + "overrides.funds.victims.set_eur = -5\n",
            'variant "v": overrides.funds.victims.set_eur: must be a non-negative amount',
        ),
        (
            V + "overrides.funds.victims.scale = -1\n",
            'variant "v": overrides.funds.victims.scale: must be at least 0',
        ),
        (
            V + "overrides.funds.victims.bonus = 1\n",
            'variant "v": overrides.funds.victims: give exactly one of',
        ),
        (
            V + "overrides.policy.affordability_ratio = 1.5\n",
            'variant "v": overrides.policy.affordability_ratio: must be at most 1, got 1.5',
        ),
        (
            V + "overrides.policy.contribution_months = 0\n",
            'variant "v": overrides.policy.contribution_months: must be at least 1, got 0',
        ),
        (
            V + 'overrides.policy.objective_unit = "euros"\n',
            'variant "v": overrides.policy.objective_unit: must be persons or households',
        ),
        (
            V + 'overrides.policy.priority_mode = "lottery"\n',
            'variant "v": overrides.policy.priority_mode: must be weighted or strict',
        ),
        (
            V + 'overrides.policy.group_floors = [{ group = "nation:MA", share = 0.2 }]\n',
            'variant "v": overrides.policy.group_floors[0].group: must be one of gender, household',
        ),
        (
            V + 'overrides.policy.group_floors = [{ group = "gender:F", share = 2 }]\n',
            'variant "v": overrides.policy.group_floors[0].share: must be between 0 and 1',
        ),
        (
            V + "overrides.policy.max_contribution_eur = 1\noverrides.policy.max_contribution_cents"
            " = 1\n",
            'variant "v": overrides.policy.max_contribution_cents: give max_contribution_cents or',
        ),
        (
            V + "overrides.policy.circuity = 1.2\n",
            'variant "v": overrides.policy.circuity: unknown key',
        ),
        (
            V + "overrides.priority.add.victim = 1.5\n",
            'variant "v": overrides.priority.add.victim: must be an integer, got 1.5',
        ),
        (
            V + "overrides.priority.multiply.victim = -2\n",
            'variant "v": overrides.priority.multiply.victim: must be a non-negative integer',
        ),
        (
            V + "overrides.priority.max = 10\n",
            'variant "v": overrides.priority: give add = {tag = n, ...} and/or multiply',
        ),
        (
            V
            + 'overrides.add_shared_flats.ss = { municipality = "San Sevro", count = 5, rooms = 2,'
            " beds_per_room = 2 }\n",
            "did you mean 'San Severo'?",
        ),
        (
            V
            + 'overrides.add_shared_flats.ss = { municipality = "San Severo", count = 0, rooms = 2,'
            " beds_per_room = 2 }\n",
            'variant "v": overrides.add_shared_flats.ss.count: must be at least 1, got 0',
        ),
        (
            V + 'overrides.add_shared_flats.ss = { municipality = "San Severo", rooms = 2 }\n',
            'variant "v": overrides.add_shared_flats.ss.count: is required',
        ),
        (
            V + 'overrides.add_shared_flats."bad label!" = { municipality = "Foggia", count = 1,'
            " rooms = 1, beds_per_room = 1 }\n",
            'variant "v": overrides.add_shared_flats.bad label!: a label must be',
        ),
        (
            V + 'overrides.add_dwellings.d = { municipality = "Foggia", count = 1, area_m2 = 0,'
            " bedrooms = 1 }\n",
            'variant "v": overrides.add_dwellings.d.area_m2: must be a positive number, got 0',
        ),
        (
            V + 'overrides.add_dwellings.d = { municipality = "Foggia", count = 1, area_m2 = 50,'
            ' bedrooms = 1, colour = "red" }\n',
            'variant "v": overrides.add_dwellings.d.colour: unknown key',
        ),
        (
            V + "overrides.remove_units = []\n",
            'variant "v": overrides.remove_units: must list at least one unit id',
        ),
        (
            V + "overrides.remove_units = [1, 2]\n",
            'variant "v": overrides.remove_units: must be a list of non-empty strings',
        ),
        (V + "overrides.shuttle = 1\n", 'variant "v": overrides.shuttle: unknown key'),
        (V + 'description = "nothing"\n', 'variant "v": overrides: is required (or a sweep)'),
        (V + "overides.policy.contribution_months = 6\n", 'variant "v": overides: unknown key'),
        (
            V + 'sweep = { key = "policy.affordability_ratio", values = [] }\n',
            'variant "v": sweep.values: must be a non-empty list',
        ),
        (
            V + 'sweep = { key = "budget", values = [1] }\n',
            'variant "v": sweep.key: must be a dotted key inside overrides',
        ),
        (
            V + 'sweep = { key = "policy.affordability_ratio", values = [0.2, 2.0] }\n',
            'variant "v[2.0]": overrides.policy.affordability_ratio: must be at most 1, got 2.0',
        ),
        (
            V + 'sweep = { key = "funds.victims.add_eur", start = 10, stop = 0, step = 5 }\n',
            'variant "v": sweep.stop: must be at least start',
        ),
        (
            V + 'sweep = { key = "funds.victims.add_eur", start = 0, stop = 1000, step = 1 }\n',
            'variant "v": sweep.step: gives 1001 points; at most 50',
        ),
        (
            "[variants.base]\noverrides.policy.contribution_months = 6\n",
            'variant "base": (name): a variant name must be',
        ),
        ("", "variants: (table): at least one [variants.<name>] is required"),
    ],
)
def test_bad_file_names_variant_and_key(body: str, expected: str) -> None:
    messages = errors_of(BASE + body)
    assert any(expected in m for m in messages), messages


def test_every_error_is_reported_at_once() -> None:
    messages = errors_of("""
[scenario]
time_limit = -1
colour = "blue"
[base]
generate = { scale = "XXL", seed = 1 }
[variants.shuttle]
overrides.commute.extra_km = 0
[variants.money]
overrides.funds.victims.add_eur = "lots"
overrides.policy.affordability_ratio = -0.1
""")
    assert messages == [
        "scenario: time_limit: must be a positive number, got -1",
        "scenario: colour: unknown key",
        "base: generate.scale: must be one of XS, S, M, L, XL or [households, dwellings, "
        "shared_flats], got 'XXL'",
        'variant "shuttle": overrides.commute.extra_km: must be a positive number, got 0',
        "variant \"money\": overrides.funds.victims.add_eur: must be an amount in euro, got 'lots'",
        'variant "money": overrides.policy.affordability_ratio: must be at least 0, got -0.1',
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[base\n", "file: (syntax): invalid TOML"),
        ("[variants.a]\noverrides.policy.contribution_months = 6\n", "base: (table): is required"),
        (
            '[base]\ninstance = "a.json"\ngenerate = { scale = "S", seed = 1 }\n[variants.a]\n'
            "overrides.policy.contribution_months = 6\n",
            "base: (table): give exactly one of instance",
        ),
        (
            "[base]\nagency = { database_url = 5 }\n[variants.a]\n"
            "overrides.policy.contribution_months = 6\n",
            "base: agency.database_url: must be a non-empty string",
        ),
        (
            '[base]\ngenerate = { scale = "S" }\n[variants.a]\n'
            "overrides.policy.contribution_months = 6\n",
            "base: generate.seed: is required",
        ),
        (
            '[extra]\n[base]\ngenerate = { scale = "S", seed = 1 }\n[variants.a]\n'
            "overrides.policy.contribution_months = 6\n",
            "file: extra: unknown section",
        ),
    ],
)
def test_bad_file_structure(text: str, expected: str) -> None:
    messages = errors_of(text)
    assert any(expected in m for m in messages), messages


def test_errors_only_the_base_can_show() -> None:
    spec = parse_spec(
        BASE
        + """
[variants.a]
overrides.funds.nope.add_eur = 10
[variants.b]
overrides.remove_units = ["D99999"]
[variants.c]
overrides.funds.victims.add_eur = -1000000000
"""
    )
    errors = [str(e) for e in spec.check_against(spec.load_base())]
    assert errors == [
        "variant \"a\": overrides.funds.nope: unknown fund 'nope' (funds: regional, victims, "
        "municipal)",
        'variant "b": overrides.remove_units: unknown unit id(s) D99999',
        'variant "c": overrides.funds.victims: the budget would be -€999,998,000.00; it cannot '
        "fall below zero",
    ]


def test_an_agency_base_comes_from_the_data_handed_in() -> None:
    spec = parse_spec(
        '[base]\nagency = { database_url = "sqlite:///a.db" }\n[variants.a]\n'
        "overrides.policy.contribution_months = 6\n",
        source="s.toml",
    )
    asked: list[str | None] = []

    def agency(url: str | None) -> Instance:
        asked.append(url)
        return generate("XS", 3)

    assert spec.load_base(agency) == generate("XS", 3)
    assert asked == ["sqlite:///a.db"]
    with pytest.raises(ScenarioError, match="base: agency: the agency's data is not available"):
        spec.load_base()

    def no_office(url: str | None) -> Instance:
        raise KeyError("office 'XX': no such office")

    def old_schema(url: str | None) -> Instance:
        raise ValueError("the database is at schema revision none: run `housing db upgrade`")

    with pytest.raises(ScenarioError, match="base: agency: office 'XX': no such office"):
        spec.load_base(no_office)
    with pytest.raises(ScenarioError, match="base: agency: the database is at schema"):
        spec.load_base(old_schema)


def test_missing_instance_file(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text(
        '[base]\ninstance = "missing.json"\n[variants.a]\n'
        "overrides.policy.contribution_months = 6\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match=r"base: instance: cannot read 'missing\.json'"):
        load_spec(f).load_base()


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_examples_are_valid(path: Path) -> None:
    spec = load_spec(path)
    assert spec.check_against(spec.load_base()) == []
    assert spec.description and spec.time_limit <= 30
