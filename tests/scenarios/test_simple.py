"""The common variants of the planners' form, written as a scenario file that the
scenarios' own parser reads back whole."""

from __future__ import annotations

from decimal import Decimal

from scenarios.simple import Beds, Money, Reach, SimpleScenario, scenario_text
from scenarios.spec import parse_spec


def test_the_form_makes_a_scenario_file_the_parser_reads() -> None:
    s = SimpleScenario(
        name='più "soldi"',
        base="example",
        time_limit=10,
        money=[
            Money("victims", (Decimal("2500"),)),
            Money("regional", (Decimal("5000"), Decimal("10000.5"))),
        ],
        reach=[Reach("Borgo Mezzanone", Decimal("10"), Decimal("15"), "informal_settlement")],
        beds=[Beds("San Severo", 5, 2, 2)],
    )
    spec = parse_spec(scenario_text(s))
    assert spec.name == 'più "soldi"' and spec.time_limit == 10
    names = [v.name for v in spec.variants]
    assert names == [
        "money_victims",
        "money_regional[5000]",
        "money_regional[10000.5]",
        "reach_1_borgo_mezzanone",
        "beds_1_san_severo",
    ]
    described = {v.name: v.description for v in spec.variants}
    assert described["beds_1_san_severo"] == "20 more beds in San Severo"
    assert "+15 km" in described["reach_1_borgo_mezzanone"]
    assert "agency" not in scenario_text(s)
    italian = parse_spec(scenario_text(s, "it"))
    assert italian.variants[-1].description == "20 posti letto in più a San Severo"
    assert "agency = {}" in scenario_text(
        SimpleScenario(name="x", money=[Money("regional", (Decimal(1),))])
    )
