"""Tests of the frozen instance types and their JSON I/O (``housing-match/instance@1``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from matching.instance import (
    Beneficiary,
    Dwelling,
    FieldError,
    Forbidden,
    Fund,
    Instance,
    InstanceError,
    Pin,
    Point,
    Policy,
    Room,
    SharedFlat,
    instance_from_dict,
    legal_max_occupants,
    load_instance,
    save_instance,
)

# The example instance of the contract (docs/problem.md), copied verbatim, plus one
# beneficiary B002: the spec's example names B002 in ``forbidden`` without defining it, and a
# forbidden pair naming an unknown beneficiary is an error (tested below).
SPEC_EXAMPLE: dict[str, Any] = {
    "format": "housing-match/instance@1",
    "name": "foggia-2026-07",
    "policy": {
        "affordability_ratio": 0.30,
        "max_contribution_cents": 30000,
        "contribution_months": 12,
        "circuity": 1.3,
        "objective_unit": "persons",
    },
    "funds": [
        {"id": "regional", "budget_cents": 6000000, "eligible_tags": []},
        {"id": "victims", "budget_cents": 2000000, "eligible_tags": ["exploitation_victim"]},
    ],
    "beneficiaries": [
        {
            "id": "B001",
            "adults": 1,
            "minors": 0,
            "gender": "M",
            "income_cents": 75000,
            "work": {"lat": 41.4584, "lon": 15.5519},
            "max_commute_km": 25.0,
            "needs_step_free": False,
            "priority": 5,
            "accepts": ["dwelling", "bed"],
            "tags": ["exploitation_victim"],
        },
        {
            "id": "B002",
            "adults": 2,
            "minors": 1,
            "gender": "F",
            "income_cents": 120000,
            "work": {"lat": 41.6856, "lon": 15.3815},
            "max_commute_km": 40.5,
            "needs_step_free": True,
            "priority": 3,
            "accepts": ["dwelling"],
        },
    ],
    "dwellings": [
        {
            "id": "D001",
            "lat": 41.4622,
            "lon": 15.5446,
            "area_m2": 62,
            "bedrooms": 2,
            "rent_cents": 42000,
            "step_free": False,
            "max_occupants": None,
            "children_ok": True,
        },
    ],
    "shared_flats": [
        {
            "id": "F001",
            "lat": 41.6856,
            "lon": 15.3815,
            "rent_per_bed_cents": 17000,
            "step_free": True,
            "rooms": [{"id": "F001-R1", "beds": 2}, {"id": "F001-R2", "beds": 1}],
        },
    ],
    "pinned": [{"beneficiary": "B001", "unit": "D001"}],
    "forbidden": [{"beneficiary": "B002", "unit": "F001"}],
}


@pytest.fixture
def spec_dict() -> dict[str, Any]:
    return copy.deepcopy(SPEC_EXAMPLE)


@pytest.fixture
def spec_instance(spec_dict: dict[str, Any]) -> Instance:
    return instance_from_dict(spec_dict)


def pairs(exc: InstanceError) -> list[tuple[str, str]]:
    return [(e.record, e.field) for e in exc.errors]


# --------------------------------------------------------------------------- loading


def test_spec_example_loads_every_field(spec_instance: Instance) -> None:
    inst = spec_instance
    assert inst.name == "foggia-2026-07"
    assert inst.policy == Policy(
        affordability_ratio=Decimal("0.3"),
        max_contribution_cents=30000,
        contribution_months=12,
        circuity=1.3,
        objective_unit="persons",
    )
    assert isinstance(inst.policy.affordability_ratio, Decimal)
    assert inst.funds == (
        Fund("regional", 6000000, ()),
        Fund("victims", 2000000, ("exploitation_victim",)),
    )
    assert inst.beneficiaries == (
        Beneficiary(
            id="B001",
            adults=1,
            minors=0,
            gender="M",
            income_cents=75000,
            work=Point(41.4584, 15.5519),
            max_commute_km=25.0,
            needs_step_free=False,
            priority=5,
            accepts=("dwelling", "bed"),
            tags=("exploitation_victim",),
        ),
        Beneficiary(
            id="B002",
            adults=2,
            minors=1,
            gender="F",
            income_cents=120000,
            work=Point(41.6856, 15.3815),
            max_commute_km=40.5,
            needs_step_free=True,
            priority=3,
            accepts=("dwelling",),
            tags=(),
        ),
    )
    assert inst.dwellings == (
        Dwelling(
            id="D001",
            lat=41.4622,
            lon=15.5446,
            area_m2=62,
            bedrooms=2,
            rent_cents=42000,
            step_free=False,
            max_occupants=None,
            children_ok=True,
        ),
    )
    assert inst.shared_flats == (
        SharedFlat(
            id="F001",
            lat=41.6856,
            lon=15.3815,
            rent_per_bed_cents=17000,
            step_free=True,
            rooms=(Room("F001-R1", 2), Room("F001-R2", 1)),
        ),
    )
    assert inst.pinned == (Pin("B001", "D001", None),)
    assert inst.forbidden == (Forbidden("B002", "F001"),)
    # derived lookups
    assert inst.beneficiary("B002").persons == 3
    assert inst.shared_flat("F001").beds == 3
    assert inst.dwelling("D001").capacity == 4 + 0  # 62 m2: 4 * 14 = 56, +10 not reached
    assert inst.unit_index == {"D001": 0, "F001": 1}
    assert inst.is_dwelling("D001") and not inst.is_dwelling("F001")
    assert inst.fund("victims").eligible(["exploitation_victim"])
    assert not inst.fund("victims").eligible(["other"])


def test_only_the_fields_the_contract_lets_be_absent_may_be(spec_dict: dict[str, Any]) -> None:
    del spec_dict["pinned"], spec_dict["forbidden"], spec_dict["beneficiaries"][0]["tags"]
    inst = instance_from_dict(spec_dict)
    assert inst.pinned == () and inst.forbidden == () and inst.beneficiaries[0].tags == ()


REQUIRED = [
    (("policy",), "instance", "policy"),
    (("name",), "instance", "name"),
    (("shared_flats",), "instance", "shared_flats"),
    (("policy", "affordability_ratio"), "policy", "affordability_ratio"),
    (("policy", "max_contribution_cents"), "policy", "max_contribution_cents"),
    (("policy", "contribution_months"), "policy", "contribution_months"),
    (("policy", "circuity"), "policy", "circuity"),
    (("policy", "objective_unit"), "policy", "objective_unit"),
    (("funds", 0, "eligible_tags"), "fund regional", "eligible_tags"),
    (("beneficiaries", 0, "needs_step_free"), "beneficiary B001", "needs_step_free"),
    (("beneficiaries", 0, "priority"), "beneficiary B001", "priority"),
    (("beneficiaries", 0, "accepts"), "beneficiary B001", "accepts"),
    (("dwellings", 0, "max_occupants"), "dwelling D001", "max_occupants"),
    (("dwellings", 0, "children_ok"), "dwelling D001", "children_ok"),
    (("shared_flats", 0, "step_free"), "shared_flat F001", "step_free"),
]


@pytest.mark.parametrize(
    ("path", "record", "field"), REQUIRED, ids=[".".join(map(str, p)) for p, _, _ in REQUIRED]
)
def test_a_missing_field_is_an_error_never_a_default(
    spec_dict: dict[str, Any], path: tuple[Any, ...], record: str, field: str
) -> None:
    parent: Any = spec_dict
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    with pytest.raises(InstanceError) as info:
        instance_from_dict(spec_dict)
    assert any(
        e.record == record and e.field == field and "required" in e.message
        for e in info.value.errors
    ), info.value.errors


NULLS = [
    (("policy", "affordability_ratio"), "policy", "affordability_ratio"),
    (("policy", "max_contribution_cents"), "policy", "max_contribution_cents"),
    (("policy", "circuity"), "policy", "circuity"),
    (("beneficiaries", 0, "priority"), "beneficiary B001", "priority"),
    (("dwellings", 0, "rent_cents"), "dwelling D001", "rent_cents"),
]


@pytest.mark.parametrize(
    ("path", "record", "field"), NULLS, ids=[".".join(map(str, p)) for p, _, _ in NULLS]
)
def test_null_where_a_number_is_due_is_an_error(
    spec_dict: dict[str, Any], path: tuple[Any, ...], record: str, field: str
) -> None:
    parent: Any = spec_dict
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = None
    with pytest.raises(InstanceError) as info:
        instance_from_dict(spec_dict)
    assert [(e.record, e.field) for e in info.value.errors] == [(record, field)]


TOO_LARGE = [
    (("beneficiaries", 0, "adults"), 2**63, "beneficiary B001", "adults"),
    (("beneficiaries", 0, "adults"), 101, "beneficiary B001", "adults"),
    (("beneficiaries", 0, "minors"), 101, "beneficiary B001", "minors"),
    (("beneficiaries", 0, "priority"), 2**63, "beneficiary B001", "priority"),
    (("beneficiaries", 0, "priority"), 2**53, "beneficiary B001", "priority"),
    (("beneficiaries", 0, "income_cents"), 2**63, "beneficiary B001", "income_cents"),
    (("beneficiaries", 0, "income_cents"), 2**31, "beneficiary B001", "income_cents"),
    (("dwellings", 0, "rent_cents"), 2**63, "dwelling D001", "rent_cents"),
    (("dwellings", 0, "area_m2"), 2**63, "dwelling D001", "area_m2"),
    (("dwellings", 0, "area_m2"), 100_000.5, "dwelling D001", "area_m2"),
    (("dwellings", 0, "bedrooms"), 2**53, "dwelling D001", "bedrooms"),
    (("shared_flats", 0, "rent_per_bed_cents"), 2**31, "shared_flat F001", "rent_per_bed_cents"),
    (("shared_flats", 0, "rooms", 0, "beds"), 2**63, "shared_flat F001", "rooms[F001-R1].beds"),
    (("shared_flats", 0, "rooms", 0, "beds"), 101, "shared_flat F001", "rooms[F001-R1].beds"),
    (("policy", "max_contribution_cents"), 2**63, "policy", "max_contribution_cents"),
    (("policy", "contribution_months"), 2**53, "policy", "contribution_months"),
    (("funds", 0, "budget_cents"), 2**53, "fund regional", "budget_cents"),
]


@pytest.mark.parametrize(
    ("path", "value", "record", "field"),
    TOO_LARGE,
    ids=[f"{'.'.join(map(str, p))}={v}" for p, v, _, _ in TOO_LARGE],
)
def test_numbers_beyond_the_contracts_limits_are_refused_by_field(
    spec_dict: dict[str, Any], path: tuple[Any, ...], value: Any, record: str, field: str
) -> None:
    parent: Any = spec_dict
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    with pytest.raises(InstanceError) as info:
        instance_from_dict(spec_dict)
    assert [(e.record, e.field) for e in info.value.errors] == [(record, field)]
    assert "at most" in info.value.errors[0].message


def test_numbers_at_the_contracts_limits_are_accepted(spec_dict: dict[str, Any]) -> None:
    b = spec_dict["beneficiaries"][0]
    b["adults"], b["priority"], b["income_cents"] = 100, 2**53 - 1, 2**31 - 1
    spec_dict["dwellings"][0]["area_m2"] = 100_000
    spec_dict["shared_flats"][0]["rooms"][0]["beds"] = 100
    spec_dict["funds"][0]["budget_cents"] = 2**53 - 1
    inst = instance_from_dict(spec_dict)
    assert inst.beneficiaries[0].priority == 2**53 - 1


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused_by_field(
    spec_dict: dict[str, Any], tmp_path: Path, constant: str
) -> None:
    spec_dict["dwellings"][0]["area_m2"] = "@X@"
    path = tmp_path / "inst.json"
    path.write_text(json.dumps(spec_dict).replace('"@X@"', constant), encoding="utf-8")
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert [(e.record, e.field) for e in info.value.errors] == [("dwelling D001", "area_m2")]


def test_a_file_that_is_not_utf8_is_a_clear_error(
    spec_dict: dict[str, Any], tmp_path: Path
) -> None:
    spec_dict["name"] = "Cerignola è"
    path = tmp_path / "latin1.json"
    path.write_bytes(json.dumps(spec_dict, ensure_ascii=False).encode("latin-1"))
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert "not UTF-8" in str(info.value)


def test_json_nested_too_deeply_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert "nested too deeply" in str(info.value)


def test_save_load_round_trip(spec_instance: Instance, tmp_path: Path) -> None:
    path = tmp_path / "inst.json"
    save_instance(spec_instance, path)
    again = load_instance(path)
    assert again == spec_instance
    assert again.to_dict() == spec_instance.to_dict()
    # and again: a second save writes the very same text
    path2 = tmp_path / "inst2.json"
    save_instance(again, path2)
    assert path2.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_ratio_stays_exact_decimal_through_files(spec_dict: dict[str, Any], tmp_path: Path) -> None:
    spec_dict["policy"]["affordability_ratio"] = "@RATIO@"
    text = json.dumps(spec_dict).replace('"@RATIO@"', "0.29")
    src = tmp_path / "in.json"
    src.write_text(text, encoding="utf-8")
    inst = load_instance(src)
    ratio = inst.policy.affordability_ratio
    assert isinstance(ratio, Decimal)
    assert ratio == Decimal("0.29") and str(ratio) == "0.29"
    assert inst.policy.pay(100) == 29
    out = tmp_path / "out.json"
    save_instance(inst, out)
    assert '"affordability_ratio": 0.29' in out.read_text(encoding="utf-8")
    again = load_instance(out)
    assert again == inst
    assert isinstance(again.policy.affordability_ratio, Decimal)
    assert str(again.policy.affordability_ratio) == "0.29"
    assert again.policy.pay(100) == 29


def test_ratio_given_as_python_float_is_read_as_its_decimal_text(spec_dict: dict[str, Any]) -> None:
    spec_dict["policy"]["affordability_ratio"] = 0.29
    inst = instance_from_dict(spec_dict)
    assert inst.policy.affordability_ratio == Decimal("0.29")
    assert inst.policy.pay(100) == 29


# --------------------------------------------------------------------------- pay


@pytest.mark.parametrize(
    ("ratio", "income", "expected"),
    [
        ("0.29", 100, 29),  # binary floats: int(0.29 * 100) == 28
        ("0.30", 75000, 22500),
        ("0.29", 99, 28),  # 28.71 floors to 28
        ("0.30", 33333, 9999),  # 9999.9 floors, never rounds up
        ("0.25", 3, 0),  # 0.75 -> 0
        ("0.30", 0, 0),
        ("1", 12345, 12345),
        ("0", 12345, 0),
        ("0.33", 10**15 + 1, 330000000000000),  # large incomes stay exact
    ],
)
def test_pay_is_exact_floor(ratio: str, income: int, expected: int) -> None:
    pay = Policy(affordability_ratio=Decimal(ratio)).pay(income)
    assert pay == expected
    assert type(pay) is int


# --------------------------------------------------------------------------- occupancy


@pytest.mark.parametrize(
    ("area", "bedrooms", "expected"),
    [
        (27, 0, 0),
        (28, 0, 1),
        (37.9, 0, 1),
        (38, 0, 2),
        (60, 0, 2),
        (200, 0, 2),
        (13.9, 1, 0),
        (14, 1, 1),
        (27.9, 1, 1),
        (28, 1, 2),
        (42, 1, 3),
        (56, 1, 4),
        (65.9, 1, 4),
        (66, 1, 5),
        (76, 1, 6),
        (62, 2, 4),
        (86, 3, 7),
    ],
)
def test_legal_max_occupants(area: float, bedrooms: int, expected: int) -> None:
    assert legal_max_occupants(area, bedrooms) == expected
    d = Dwelling(id="D", lat=0.0, lon=0.0, area_m2=area, bedrooms=bedrooms, rent_cents=0)
    assert d.legal_max == expected
    assert d.capacity == expected  # max_occupants None: the law alone


@pytest.mark.parametrize(
    ("area", "bedrooms", "max_occupants", "expected"),
    [
        (76, 1, 3, 3),  # landlord limit below the law
        (76, 1, 9, 6),  # the law below the landlord limit
        (76, 1, 6, 6),
        (76, 1, 0, 0),
        (38, 0, 5, 2),  # a studio never holds more than two
        (27, 0, 2, 0),
    ],
)
def test_capacity_is_min_of_law_and_max_occupants(
    area: float, bedrooms: int, max_occupants: int, expected: int
) -> None:
    d = Dwelling(
        id="D",
        lat=0.0,
        lon=0.0,
        area_m2=area,
        bedrooms=bedrooms,
        rent_cents=0,
        max_occupants=max_occupants,
    )
    assert d.capacity == expected


# --------------------------------------------------------------------------- weight


@pytest.mark.parametrize(("unit", "expected"), [("persons", [5, 9]), ("households", [5, 3])])
def test_weight_by_objective_unit(
    spec_dict: dict[str, Any], unit: str, expected: list[int]
) -> None:
    spec_dict["policy"]["objective_unit"] = unit
    inst = instance_from_dict(spec_dict)
    assert inst.policy.objective_unit == unit
    # B001: priority 5, 1 person; B002: priority 3, 3 persons
    assert [inst.weight(b) for b in inst.beneficiaries] == expected


# --------------------------------------------------------------------------- bad input


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """A mutation setting ``a.0.b``-style ``path`` (list indices as digits) to ``value``."""

    def apply(d: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = d
        for key in head:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _del(path: str) -> Mutation:
    def apply(d: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = d
        for key in head:
            node = node[int(key)] if isinstance(node, list) else node[key]
        del node[last]

    return apply


def _append(path: str, value: Any) -> Mutation:
    def apply(d: dict[str, Any]) -> None:
        d[path].append(copy.deepcopy(value))

    return apply


_B001 = SPEC_EXAMPLE["beneficiaries"][0]
_D001 = SPEC_EXAMPLE["dwellings"][0]
_F001 = SPEC_EXAMPLE["shared_flats"][0]

BAD_INPUT: list[Any] = [
    # negative money
    pytest.param(
        _set("dwellings.0.rent_cents", -1), [("dwelling D001", "rent_cents")], id="negative-rent"
    ),
    pytest.param(
        _set("shared_flats.0.rent_per_bed_cents", -5),
        [("shared_flat F001", "rent_per_bed_cents")],
        id="negative-rent-per-bed",
    ),
    pytest.param(
        _set("beneficiaries.0.income_cents", -100),
        [("beneficiary B001", "income_cents")],
        id="negative-income",
    ),
    pytest.param(
        _set("funds.1.budget_cents", -1), [("fund victims", "budget_cents")], id="negative-budget"
    ),
    pytest.param(
        _set("policy.max_contribution_cents", -1),
        [("policy", "max_contribution_cents")],
        id="negative-max-contribution",
    ),
    # households and their fields
    pytest.param(
        lambda d: d["beneficiaries"][1].update(adults=0, minors=0),
        [("beneficiary B002", "adults")],
        id="zero-persons",
    ),
    pytest.param(
        _set("beneficiaries.0.adults", -1), [("beneficiary B001", "adults")], id="negative-adults"
    ),
    pytest.param(
        _set("beneficiaries.0.gender", "W"), [("beneficiary B001", "gender")], id="unknown-gender"
    ),
    pytest.param(
        _set("beneficiaries.0.gender", None), [("beneficiary B001", "gender")], id="null-gender"
    ),
    pytest.param(
        _set("beneficiaries.0.accepts", ["dwelling", "sofa"]),
        [("beneficiary B001", "accepts")],
        id="unknown-accepts",
    ),
    pytest.param(
        _set("beneficiaries.0.accepts", "bed"),
        [("beneficiary B001", "accepts")],
        id="accepts-not-a-list",
    ),
    pytest.param(
        _set("policy.objective_unit", "people"),
        [("policy", "objective_unit")],
        id="unknown-objective-unit",
    ),
    pytest.param(
        _set("policy.affordability_ratio", 1.5),
        [("policy", "affordability_ratio")],
        id="ratio-above-one",
    ),
    # coordinates
    pytest.param(_set("dwellings.0.lat", 91.0), [("dwelling D001", "lat")], id="dwelling-lat"),
    pytest.param(
        _set("dwellings.0.lat", -90.5), [("dwelling D001", "lat")], id="dwelling-lat-south"
    ),
    pytest.param(
        _set("beneficiaries.0.work.lat", 120), [("beneficiary B001", "work.lat")], id="work-lat"
    ),
    pytest.param(_set("dwellings.0.lon", 181), [("dwelling D001", "lon")], id="dwelling-lon"),
    pytest.param(_set("shared_flats.0.lon", -180.01), [("shared_flat F001", "lon")], id="flat-lon"),
    pytest.param(
        _set("beneficiaries.1.work.lon", 200.0), [("beneficiary B002", "work.lon")], id="work-lon"
    ),
    pytest.param(
        _del("beneficiaries.0.work.lat"), [("beneficiary B001", "work.lat")], id="work-lat-missing"
    ),
    # duplicate ids
    pytest.param(
        _append("beneficiaries", {**_B001, "gender": "F"}),
        [("beneficiary B001", "id")],
        id="duplicate-beneficiary",
    ),
    pytest.param(
        _set("beneficiaries.1.id", "B001"),
        [("beneficiary B001", "id"), ("forbidden[0]", "beneficiary")],
        id="duplicate-beneficiary-by-renaming",
    ),
    pytest.param(_append("dwellings", {**_D001}), [("unit D001", "id")], id="duplicate-dwelling"),
    pytest.param(
        _append("shared_flats", {**_F001, "id": "D001"}),
        [("unit D001", "id")],
        id="dwelling-and-flat-share-id",
    ),
    pytest.param(
        _append("dwellings", {**_D001, "id": "F001"}),
        [("unit F001", "id")],
        id="flat-and-dwelling-share-id",
    ),
    pytest.param(_set("funds.1.id", "regional"), [("fund regional", "id")], id="duplicate-fund"),
    pytest.param(
        _set("shared_flats.0.rooms.1.id", "F001-R1"),
        [("shared_flat F001", "rooms[F001-R1].id")],
        id="duplicate-room",
    ),
    # references
    pytest.param(
        _set("pinned.0.beneficiary", "B999"),
        [("pinned[0]", "beneficiary")],
        id="pinned-unknown-beneficiary",
    ),
    pytest.param(_set("pinned.0.unit", "D999"), [("pinned[0]", "unit")], id="pinned-unknown-unit"),
    pytest.param(
        _append("pinned", {"beneficiary": "B001", "unit": "F001"}),
        [("pinned[1]", "beneficiary")],
        id="pinned-twice",
    ),
    pytest.param(
        _set("forbidden.0.beneficiary", "B999"),
        [("forbidden[0]", "beneficiary")],
        id="forbidden-unknown-beneficiary",
    ),
    pytest.param(
        _set("forbidden.0.unit", "F999"), [("forbidden[0]", "unit")], id="forbidden-unknown-unit"
    ),
    pytest.param(
        _set("pinned.0", {"beneficiary": "B001", "unit": "F001", "room": "F001-R9"}),
        [("pinned[0]", "room")],
        id="pinned-room-not-in-flat",
    ),
    pytest.param(
        _set("pinned.0", {"beneficiary": "B001", "unit": "F001", "room": "R1"}),
        [("pinned[0]", "room")],
        id="pinned-room-of-other-name",
    ),
    pytest.param(
        _set("pinned.0.room", "F001-R1"), [("pinned[0]", "room")], id="room-for-dwelling-pin"
    ),
    pytest.param(_set("pinned.0.room", 1), [("pinned[0]", "room")], id="room-not-a-string"),
    # rooms
    pytest.param(
        _set("shared_flats.0.rooms.0.beds", 0),
        [("shared_flat F001", "rooms[F001-R1].beds")],
        id="room-zero-beds",
    ),
    pytest.param(
        _set("shared_flats.0.rooms", []), [("shared_flat F001", "rooms")], id="flat-without-rooms"
    ),
    # format and shape
    pytest.param(
        _set("format", "housing-match/instance@3"), [("instance", "format")], id="wrong-format"
    ),
    pytest.param(_del("format"), [("instance", "format")], id="missing-format"),
    pytest.param(
        _set("dwellings.0", "D001"),
        [("dwelling[0]", "(record)"), ("pinned[0]", "unit")],
        id="record-not-an-object",
    ),
    pytest.param(
        _del("beneficiaries"),
        [
            ("instance", "beneficiaries"),
            ("pinned[0]", "beneficiary"),
            ("forbidden[0]", "beneficiary"),
        ],
        id="missing-beneficiaries",
    ),
    # missing required fields
    pytest.param(
        _del("beneficiaries.0.income_cents"),
        [("beneficiary B001", "income_cents")],
        id="missing-income",
    ),
    pytest.param(
        _del("beneficiaries.1.gender"), [("beneficiary B002", "gender")], id="missing-gender"
    ),
    pytest.param(
        _del("beneficiaries.0.max_commute_km"),
        [("beneficiary B001", "max_commute_km")],
        id="missing-max-commute",
    ),
    pytest.param(
        _del("dwellings.0.rent_cents"), [("dwelling D001", "rent_cents")], id="missing-rent"
    ),
    pytest.param(_del("dwellings.0.area_m2"), [("dwelling D001", "area_m2")], id="missing-area"),
    pytest.param(
        _del("shared_flats.0.rent_per_bed_cents"),
        [("shared_flat F001", "rent_per_bed_cents")],
        id="missing-rent-per-bed",
    ),
    pytest.param(
        _del("funds.0.budget_cents"), [("fund regional", "budget_cents")], id="missing-budget"
    ),
    pytest.param(
        _del("shared_flats.0.rooms.1.beds"),
        [("shared_flat F001", "rooms[F001-R2].beds")],
        id="missing-beds",
    ),
    # non-integer money / counts
    pytest.param(
        _set("dwellings.0.rent_cents", 420.5),
        [("dwelling D001", "rent_cents")],
        id="fractional-rent-float",
    ),
    pytest.param(
        _set("dwellings.0.rent_cents", Decimal("420.5")),
        [("dwelling D001", "rent_cents")],
        id="fractional-rent-decimal",
    ),
    pytest.param(
        _set("dwellings.0.rent_cents", "42000"), [("dwelling D001", "rent_cents")], id="string-rent"
    ),
    pytest.param(
        _set("beneficiaries.0.income_cents", 750.25),
        [("beneficiary B001", "income_cents")],
        id="fractional-income",
    ),
    pytest.param(
        _set("funds.0.budget_cents", "lots"),
        [("fund regional", "budget_cents")],
        id="string-budget",
    ),
    pytest.param(
        _set("shared_flats.0.rent_per_bed_cents", 170.01),
        [("shared_flat F001", "rent_per_bed_cents")],
        id="fractional-rent-per-bed",
    ),
    # a boolean where an int is required
    pytest.param(
        _set("dwellings.0.rent_cents", True), [("dwelling D001", "rent_cents")], id="bool-rent"
    ),
    pytest.param(
        _set("beneficiaries.0.income_cents", False),
        [("beneficiary B001", "income_cents")],
        id="bool-income",
    ),
    pytest.param(
        _set("beneficiaries.0.priority", True),
        [("beneficiary B001", "priority")],
        id="bool-priority",
    ),
    pytest.param(
        _set("beneficiaries.0.adults", True), [("beneficiary B001", "adults")], id="bool-adults"
    ),
    pytest.param(
        _set("beneficiaries.0.adults", 1.5),
        [("beneficiary B001", "adults")],
        id="fractional-adults",
    ),
    pytest.param(
        _set("beneficiaries.0.minors", "0"), [("beneficiary B001", "minors")], id="string-minors"
    ),
    pytest.param(
        _set("shared_flats.0.rooms.0.beds", True),
        [("shared_flat F001", "rooms[F001-R1].beds")],
        id="bool-beds",
    ),
    pytest.param(
        _set("funds.0.budget_cents", True), [("fund regional", "budget_cents")], id="bool-budget"
    ),
    pytest.param(
        _set("policy.contribution_months", True),
        [("policy", "contribution_months")],
        id="bool-months",
    ),
    pytest.param(
        _set("dwellings.0.max_occupants", True),
        [("dwelling D001", "max_occupants")],
        id="bool-max-occupants",
    ),
    # and the other way round
    pytest.param(
        _set("dwellings.0.step_free", 1), [("dwelling D001", "step_free")], id="int-for-bool"
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), BAD_INPUT)
def test_bad_input_names_record_and_field(
    spec_dict: dict[str, Any], mutate: Mutation, expected: list[tuple[str, str]]
) -> None:
    mutate(spec_dict)
    with pytest.raises(InstanceError) as info:
        instance_from_dict(spec_dict)
    assert pairs(info.value) == expected
    assert all(isinstance(e, FieldError) and e.message for e in info.value.errors)
    for record, field in expected:
        assert f"{record}: {field}: " in str(info.value)


def test_top_level_not_an_object() -> None:
    with pytest.raises(InstanceError) as info:
        instance_from_dict([SPEC_EXAMPLE])
    assert pairs(info.value) == [("instance", "(record)")]


def test_all_errors_listed_at_once(spec_dict: dict[str, Any]) -> None:
    spec_dict["format"] = "wrong"
    spec_dict["funds"][1]["budget_cents"] = -10
    spec_dict["beneficiaries"][0]["gender"] = "Q"
    spec_dict["beneficiaries"][0]["work"]["lat"] = 95
    spec_dict["beneficiaries"][1]["income_cents"] = 10.5
    spec_dict["beneficiaries"][1]["accepts"] = ["tent"]
    spec_dict["dwellings"][0]["rent_cents"] = -42000
    spec_dict["dwellings"][0]["lon"] = 190
    spec_dict["shared_flats"][0]["rooms"][1]["beds"] = 0
    spec_dict["shared_flats"][0]["id"] = "D001"
    spec_dict["pinned"][0]["beneficiary"] = "B404"
    spec_dict["forbidden"][0]["unit"] = "X404"
    with pytest.raises(InstanceError) as info:
        instance_from_dict(spec_dict, source="bad.json")
    expected = {
        ("instance", "format"),
        ("fund victims", "budget_cents"),
        ("beneficiary B001", "gender"),
        ("beneficiary B001", "work.lat"),
        ("beneficiary B002", "income_cents"),
        ("beneficiary B002", "accepts"),
        ("dwelling D001", "rent_cents"),
        ("dwelling D001", "lon"),
        ("shared_flat D001", "rooms[F001-R2].beds"),
        ("unit D001", "id"),
        ("pinned[0]", "beneficiary"),
        ("forbidden[0]", "unit"),
    }
    got = pairs(info.value)
    assert len(got) == len(expected) == 12
    assert set(got) == expected
    assert info.value.source == "bad.json"
    assert str(info.value).startswith("12 error(s) in bad.json:")


def test_all_errors_listed_at_once_from_file(spec_dict: dict[str, Any], tmp_path: Path) -> None:
    spec_dict["dwellings"][0]["rent_cents"] = "@RENT@"
    spec_dict["beneficiaries"][0]["adults"] = 0
    spec_dict["beneficiaries"][0]["minors"] = 0
    spec_dict["funds"][0]["id"] = "victims"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec_dict, indent=2).replace('"@RENT@"', "420.5"), encoding="utf-8")
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert sorted(pairs(info.value)) == sorted(
        [
            ("dwelling D001", "rent_cents"),
            ("beneficiary B001", "adults"),
            ("fund victims", "id"),
        ]
    )
    assert info.value.source == str(path)


def test_integral_decimal_money_from_json_is_accepted(
    spec_dict: dict[str, Any], tmp_path: Path
) -> None:
    spec_dict["dwellings"][0]["rent_cents"] = "@RENT@"
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(spec_dict).replace('"@RENT@"', "42000.0"), encoding="utf-8")
    rent = load_instance(path).dwellings[0].rent_cents
    assert rent == 42000 and type(rent) is int


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(
        '{\n  "format": "housing-match/instance@1",\n  "name": oops,\n}\n', encoding="utf-8"
    )
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    (err,) = info.value.errors
    assert err.record == "broken.json"
    assert err.field == "line 3"
    assert "invalid JSON" in err.message
    assert "line 3" in str(info.value)
    assert info.value.source == str(path)


# --------------------------------------------------------------------------- replace


def test_replace_returns_changed_copy(spec_instance: Instance) -> None:
    inst = spec_instance
    assert inst.beneficiary_index == {"B001": 0, "B002": 1}  # fill the cache first
    flipped = inst.replace(
        beneficiaries=tuple(reversed(inst.beneficiaries)),
        policy=Policy(objective_unit="households"),
    )
    assert flipped is not inst
    assert flipped != inst
    assert flipped.beneficiary_index == {"B002": 0, "B001": 1}
    assert [flipped.weight(b) for b in flipped.beneficiaries] == [3, 5]
    # the original is untouched
    assert [b.id for b in inst.beneficiaries] == ["B001", "B002"]
    assert inst.beneficiary_index == {"B001": 0, "B002": 1}
    assert [inst.weight(b) for b in inst.beneficiaries] == [5, 9]
    assert flipped.dwellings == inst.dwellings and flipped.pinned == inst.pinned


def test_replace_rechecks_duplicate_ids(spec_instance: Instance) -> None:
    dup = (*spec_instance.beneficiaries, spec_instance.beneficiaries[0])
    with pytest.raises(InstanceError) as info:
        spec_instance.replace(beneficiaries=dup)
    assert pairs(info.value) == [("beneficiary B001", "id")]
    assert info.value.source == "foggia-2026-07"


def test_replace_rechecks_references(spec_instance: Instance) -> None:
    with pytest.raises(InstanceError) as info:
        spec_instance.replace(dwellings=())
    assert pairs(info.value) == [("pinned[0]", "unit")]
    assert spec_instance.replace(dwellings=(), pinned=()).dwellings == ()


def test_instance_is_frozen(spec_instance: Instance) -> None:
    with pytest.raises(AttributeError):
        spec_instance.name = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        spec_instance.policy.circuity = 2.0  # type: ignore[misc]
