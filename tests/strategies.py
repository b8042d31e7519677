"""Hypothesis strategies that build small, consistent instances, and an exhaustive solver.

The exhaustive solver is the oracle for optimality: it enumerates every allocation of a
small instance from the spec's text alone (through the independent validator's helper
functions, never the engine's eligibility or model) and keeps the lexicographic best.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from matching.instance import (
    Beneficiary,
    Dwelling,
    Forbidden,
    Fund,
    Instance,
    Pin,
    Point,
    Policy,
    Room,
    SharedFlat,
)
from matching.validate import commute_km, commute_m, contribution_cents, legal_max_from_spec

# A box around Foggia, about 11 km by 12 km: commute limits both bind and don't.
LAT = st.floats(41.42, 41.52, allow_nan=False)
LON = st.floats(15.48, 15.62, allow_nan=False)


@st.composite
def instances(draw: st.DrawFn, max_beneficiaries: int = 4, max_dwellings: int = 3,
              max_flats: int = 2, pins: bool = True) -> Instance:
    """A small random instance whose records are all valid."""
    policy = Policy(
        affordability_ratio=draw(st.sampled_from([Decimal("0.30"), Decimal("0.29"),
                                                  Decimal("0.25")])),
        max_contribution_cents=draw(st.sampled_from([10000, 30000, 60000])),
        contribution_months=draw(st.sampled_from([1, 12])),
        circuity=draw(st.sampled_from([1.0, 1.3])),
        objective_unit=draw(st.sampled_from(["persons", "households"])),
    )
    funds = tuple(
        Fund(id=f"fund{k}",
             budget_cents=draw(st.sampled_from([0, 150000, 400000, 3600000, 3600000])),
             eligible_tags=("victim",) if k == 1 else ())
        for k in range(draw(st.integers(1, 2))))
    bens = []
    for i in range(draw(st.integers(min(2, max_beneficiaries), max_beneficiaries))):
        bens.append(Beneficiary(
            id=f"B{i}", adults=draw(st.sampled_from([1, 1, 1, 2])),
            minors=draw(st.sampled_from([0, 0, 0, 1, 2])),
            gender=draw(st.sampled_from(["F", "M"])),
            income_cents=draw(st.integers(50000, 150000)),
            work=Point(draw(LAT), draw(LON)),
            max_commute_km=draw(st.sampled_from([6.0, 12.0, 25.0, 25.0])),
            needs_step_free=draw(st.sampled_from([False, False, False, True])),
            priority=draw(st.integers(0, 5)),
            accepts=draw(st.sampled_from([("dwelling", "bed"), ("dwelling",), ("bed",)])),
            tags=draw(st.sampled_from([(), ("victim",)])),
        ))
    dwellings = tuple(
        Dwelling(id=f"D{k}", lat=draw(LAT), lon=draw(LON),
                 area_m2=draw(st.sampled_from([27, 30, 45, 60, 75, 90])),
                 bedrooms=draw(st.sampled_from([0, 1, 2, 2, 3])),
                 rent_cents=draw(st.integers(15000, 45000)),
                 step_free=draw(st.booleans()),
                 max_occupants=draw(st.sampled_from([None, None, 1, 3])),
                 children_ok=draw(st.sampled_from([True, True, False])))
        for k in range(draw(st.integers(min(1, max_dwellings), max_dwellings))))
    flats = tuple(
        SharedFlat(id=f"F{k}", lat=draw(LAT), lon=draw(LON),
                   rent_per_bed_cents=draw(st.integers(8000, 30000)),
                   step_free=draw(st.booleans()),
                   rooms=tuple(Room(id=f"F{k}-R{r}", beds=draw(st.integers(1, 2)))
                               for r in range(draw(st.integers(1, 2)))))
        for k in range(draw(st.integers(0, max_flats))))
    units = [d.id for d in dwellings] + [f.id for f in flats]
    pinned: tuple[Pin, ...] = ()
    forbidden: tuple[Forbidden, ...] = ()
    if units and draw(st.booleans()):
        forbidden = (Forbidden(draw(st.sampled_from([b.id for b in bens])),
                               draw(st.sampled_from(units))),)
    if pins and units and draw(st.integers(0, 4)) == 0:
        b = draw(st.sampled_from([b.id for b in bens]))
        u = draw(st.sampled_from(units))
        room = None
        flat = next((f for f in flats if f.id == u), None)
        if flat is not None and draw(st.booleans()):
            room = draw(st.sampled_from([r.id for r in flat.rooms]))
        pinned = (Pin(b, u, room),)
    return Instance(name="hypothesis", policy=policy, funds=funds, beneficiaries=tuple(bens),
                    dwellings=dwellings, shared_flats=flats, pinned=pinned, forbidden=forbidden)


@dataclass(frozen=True)
class Best:
    """The lexicographic optimum found by enumeration (None: no feasible allocation)."""

    weight: int
    contribution_cents: int
    commute_m: int
    """Objective 3 in the contract's whole metres, ``floor(1000 * commute_km + 0.5)``."""
    placements: tuple[tuple[str, str, str | None, str | None], ...]


def _weight(inst: Instance, b: Beneficiary) -> int:
    return b.priority * (b.adults + b.minors) if inst.policy.objective_unit == "persons" \
        else b.priority


def _options(inst: Instance, b: Beneficiary) -> list[tuple[str, str | None, str | None,
                                                         int, float]]:
    """Every (unit, room, fund, contribution, commute) the spec's pair rules allow for b."""
    pol = inst.policy
    banned = {f.unit for f in inst.forbidden if f.beneficiary == b.id}
    persons = b.adults + b.minors
    out: list[tuple[str, str | None, str | None, int, float]] = []

    def funds_for(c: int) -> list[str | None]:
        if c == 0:
            return [None]
        return [f.id for f in inst.funds
                if not f.eligible_tags or set(f.eligible_tags) & set(b.tags)]

    for d in inst.dwellings:
        cap = legal_max_from_spec(d.area_m2, d.bedrooms)
        if d.max_occupants is not None:
            cap = min(cap, d.max_occupants)
        km = commute_km(pol, b, d.lat, d.lon)
        c = contribution_cents(pol, b.income_cents, d.rent_cents)
        if ("dwelling" in b.accepts and persons <= cap and (b.minors == 0 or d.children_ok)
                and (not b.needs_step_free or d.step_free) and km <= b.max_commute_km
                and c <= pol.max_contribution_cents and d.id not in banned):
            out += [(d.id, None, f, c, km) for f in funds_for(c)]
    for fl in inst.shared_flats:
        km = commute_km(pol, b, fl.lat, fl.lon)
        c = contribution_cents(pol, b.income_cents, fl.rent_per_bed_cents)
        if ("bed" in b.accepts and b.adults == 1 and b.minors == 0
                and (not b.needs_step_free or fl.step_free) and km <= b.max_commute_km
                and c <= pol.max_contribution_cents and fl.id not in banned):
            out += [(fl.id, r.id, f, c, km) for r in fl.rooms for f in funds_for(c)]
    return out


def exhaustive(inst: Instance) -> Best | None:
    """The lexicographically best allocation by full enumeration (tiny instances only)."""
    pol = inst.policy
    pins = {p.beneficiary: p for p in inst.pinned}
    beds = {(f.id, r.id): r.beds for f in inst.shared_flats for r in f.rooms}
    choices: list[list[Any]] = []
    for b in inst.beneficiaries:
        opts: list[Any] = _options(inst, b)
        if b.id in pins:
            p = pins[b.id]
            opts = [o for o in opts if o[0] == p.unit and (p.room is None or o[1] == p.room)]
        else:
            opts = [None, *opts]
        choices.append(opts)
    best: list[Any] = [None]
    used_dw: set[str] = set()
    room_people: dict[tuple[str, str], list[str]] = {}
    spent: dict[str, int] = {f.id: 0 for f in inst.funds}
    budget = {f.id: f.budget_cents for f in inst.funds}
    chosen: list[Any] = []

    def key(w: int, c: int, m: int) -> tuple[int, int, int]:
        return (-w, c, m)

    def rec(i: int, w: int, c: int, m: int) -> None:
        if i == len(inst.beneficiaries):
            if best[0] is None or key(w, c, m) < key(*best[0][:3]):
                best[0] = (w, c, m, tuple(chosen))
            return
        b = inst.beneficiaries[i]
        for o in choices[i]:
            if o is None:
                chosen.append(None)
                rec(i + 1, w, c, m)
                chosen.pop()
                continue
            unit, room, fund, cc, kk = o
            if room is None:
                if unit in used_dw:
                    continue
            else:
                people = room_people.get((unit, room), [])
                if len(people) >= beds[unit, room] or any(g != b.gender for g in people):
                    continue
            if fund is not None and spent[fund] + cc * pol.contribution_months > budget[fund]:
                continue
            if room is None:
                used_dw.add(unit)
            else:
                room_people.setdefault((unit, room), []).append(b.gender)
            if fund is not None:
                spent[fund] += cc * pol.contribution_months
            chosen.append((b.id, unit, room, fund))
            rec(i + 1, w + _weight(inst, b), c + cc, m + commute_m(kk))
            chosen.pop()
            if fund is not None:
                spent[fund] -= cc * pol.contribution_months
            if room is None:
                used_dw.discard(unit)
            else:
                room_people[unit, room].pop()

    rec(0, 0, 0, 0)
    if best[0] is None:
        return None
    w, c, m, placements = best[0]
    return Best(w, c, m, tuple(p for p in placements if p is not None))
