"""Each rule of the spec alone makes a pair feasible or infeasible."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from matching.eligibility import eligible_pairs
from matching.instance import (
    Beneficiary,
    Dwelling,
    Forbidden,
    Fund,
    Instance,
    Point,
    Policy,
    Room,
    SharedFlat,
)
from matching.params import SolveParams
from matching.solve import solve
from matching.validate import validate

FOGGIA = Point(41.4622, 15.5446)


def base(
    b: dict[str, Any] | None = None,
    d: dict[str, Any] | None = None,
    f: dict[str, Any] | None = None,
    kind: str = "dwelling",
    forbidden: tuple[Forbidden, ...] = (),
) -> Instance:
    """One single adult near Foggia and one unit 1 km away that it may take."""
    ben = Beneficiary(
        id="B1",
        adults=1,
        minors=0,
        gender="M",
        income_cents=80000,
        work=FOGGIA,
        max_commute_km=10.0,
        priority=3,
        accepts=("dwelling", "bed"),
    )
    dw = Dwelling(
        id="D1",
        lat=41.4700,
        lon=15.5500,
        area_m2=60,
        bedrooms=2,
        rent_cents=40000,
        step_free=False,
        children_ok=True,
    )
    fl = SharedFlat(
        id="F1", lat=41.4700, lon=15.5500, rent_per_bed_cents=30000, rooms=(Room("F1-R1", 2),)
    )
    return Instance(
        name="rules",
        policy=Policy(),
        funds=(Fund("regional", 10_000_000),),
        beneficiaries=(replace(ben, **(b or {})),),
        dwellings=(replace(dw, **(d or {})),) if kind == "dwelling" else (),
        shared_flats=(replace(fl, **(f or {})),) if kind == "bed" else (),
        forbidden=forbidden,
    )


def placed(inst: Instance) -> bool:
    res = solve(inst, SolveParams(time_limit=10))
    assert validate(inst, res) == []
    assert res.status == "OPTIMAL"
    in_pairs = len(eligible_pairs(inst)) == 1
    assert in_pairs == bool(res.assignments)
    return bool(res.assignments)


# (rule, beneficiary change, unit change, kind) that breaks exactly that rule
BREAKS = [
    ("1 dwelling accepted", {"accepts": ("bed",)}, {}, "dwelling"),
    ("2 size: 5 persons in 60 m2", {"adults": 2, "minors": 3}, {}, "dwelling"),
    ("2 certificate's maximum", {"adults": 2}, {"max_occupants": 1}, "dwelling"),
    ("3 children", {"minors": 1}, {"children_ok": False}, "dwelling"),
    ("4 step-free", {"needs_step_free": True}, {}, "dwelling"),
    ("5 commute", {"max_commute_km": 0.5}, {}, "dwelling"),
    ("6 contribution cap", {"income_cents": 0}, {"rent_cents": 30001}, "dwelling"),
    ("bed accepted", {"accepts": ("dwelling",)}, {}, "bed"),
    ("bed: single adult only", {"adults": 2}, {}, "bed"),
    ("bed: no minors", {"minors": 1}, {}, "bed"),
    ("bed: step-free", {"needs_step_free": True}, {}, "bed"),
    ("bed: commute", {"max_commute_km": 0.5}, {}, "bed"),
    ("bed: contribution cap", {"income_cents": 0}, {"rent_per_bed_cents": 30001}, "bed"),
]


@pytest.mark.parametrize(("rule", "bchange", "uchange", "kind"), BREAKS, ids=[r[0] for r in BREAKS])
def test_each_rule_alone_excludes_the_pair(
    rule: str, bchange: dict[str, Any], uchange: dict[str, Any], kind: str
) -> None:
    unit_key = "d" if kind == "dwelling" else "f"
    assert placed(base(kind=kind))
    assert not placed(base(b=bchange, kind=kind, **{unit_key: uchange}))


@pytest.mark.parametrize(
    ("rule", "bchange", "uchange", "kind"),
    [
        (
            "step-free unit satisfies the need",
            {"needs_step_free": True},
            {"step_free": True},
            "dwelling",
        ),
        ("children_ok takes minors", {"minors": 2}, {"children_ok": True}, "dwelling"),
        ("contribution exactly at the cap", {"income_cents": 0}, {"rent_cents": 30000}, "dwelling"),
        ("studio of 38 m2 holds two", {"adults": 2}, {"area_m2": 38, "bedrooms": 0}, "dwelling"),
    ],
)
def test_the_rule_allows_its_boundary(
    rule: str, bchange: dict[str, Any], uchange: dict[str, Any], kind: str
) -> None:
    assert placed(base(b=bchange, d=uchange, kind=kind))


def test_forbidden_pair_is_excluded() -> None:
    assert not placed(base(forbidden=(Forbidden("B1", "D1"),)))


def test_fund_eligibility_tags() -> None:
    inst = base(d={"rent_cents": 40000})
    only_victims = inst.replace(funds=(Fund("victims", 10_000_000, ("exploitation_victim",)),))
    assert not placed(only_victims)
    tagged = only_victims.replace(
        beneficiaries=(replace(only_victims.beneficiaries[0], tags=("exploitation_victim",)),)
    )
    assert placed(tagged)


def test_zero_contribution_needs_no_fund() -> None:
    inst = base(b={"income_cents": 200000}).replace(funds=())
    res = solve(inst, SolveParams(time_limit=10))
    assert validate(inst, res) == []
    assert [(a.unit, a.fund, a.contribution_cents) for a in res.assignments] == [("D1", None, 0)]
