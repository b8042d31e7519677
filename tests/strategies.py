"""Hypothesis strategies that build small, consistent instances, and an exhaustive solver.

The exhaustive solver is the oracle for optimality: it enumerates every allocation of a
small instance from the spec's text alone (through the independent validator's helper
functions, never the engine's eligibility or model) and keeps the lexicographic best.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from geopy.distance import geodesic
from hypothesis import strategies as st

from matching.instance import (
    INSTANCE_FORMAT_V2,
    Beneficiary,
    Dwelling,
    Forbidden,
    Fund,
    Guarantee,
    Instance,
    Pin,
    Point,
    Policy,
    Room,
    SharedFlat,
    Shuttle,
    Span,
    Stop,
    Term,
    Zone,
)
from matching.validate import commute_km, commute_m, contribution_cents, legal_max_from_spec

# A box around Foggia, about 11 km by 12 km: commute limits both bind and don't.
LAT = st.floats(41.42, 41.52, allow_nan=False)
LON = st.floats(15.48, 15.62, allow_nan=False)


@st.composite
def instances(
    draw: st.DrawFn,
    max_beneficiaries: int = 4,
    max_dwellings: int = 3,
    max_flats: int = 2,
    pins: bool = True,
) -> Instance:
    """A small random instance whose records are all valid."""
    policy = Policy(
        affordability_ratio=draw(
            st.sampled_from([Decimal("0.30"), Decimal("0.29"), Decimal("0.25")])
        ),
        max_contribution_cents=draw(st.sampled_from([10000, 30000, 60000])),
        contribution_months=draw(st.sampled_from([1, 12])),
        circuity=draw(st.sampled_from([1.0, 1.3])),
        objective_unit=draw(st.sampled_from(["persons", "households"])),
    )
    funds = tuple(
        Fund(
            id=f"fund{k}",
            budget_cents=draw(st.sampled_from([0, 150000, 400000, 3600000, 3600000])),
            eligible_tags=("victim",) if k == 1 else (),
        )
        for k in range(draw(st.integers(1, 2)))
    )
    bens = []
    for i in range(draw(st.integers(min(2, max_beneficiaries), max_beneficiaries))):
        bens.append(
            Beneficiary(
                id=f"B{i}",
                adults=draw(st.sampled_from([1, 1, 1, 2])),
                minors=draw(st.sampled_from([0, 0, 0, 1, 2])),
                gender=draw(st.sampled_from(["F", "M"])),
                income_cents=draw(st.integers(50000, 150000)),
                work=Point(draw(LAT), draw(LON)),
                max_commute_km=draw(st.sampled_from([6.0, 12.0, 25.0, 25.0])),
                needs_step_free=draw(st.sampled_from([False, False, False, True])),
                priority=draw(st.integers(0, 5)),
                accepts=draw(st.sampled_from([("dwelling", "bed"), ("dwelling",), ("bed",)])),
                tags=draw(st.sampled_from([(), ("victim",)])),
            )
        )
    dwellings = tuple(
        Dwelling(
            id=f"D{k}",
            lat=draw(LAT),
            lon=draw(LON),
            area_m2=draw(st.sampled_from([27, 30, 45, 60, 75, 90])),
            bedrooms=draw(st.sampled_from([0, 1, 2, 2, 3])),
            rent_cents=draw(st.integers(15000, 45000)),
            step_free=draw(st.booleans()),
            max_occupants=draw(st.sampled_from([None, None, 1, 3])),
            children_ok=draw(st.sampled_from([True, True, False])),
        )
        for k in range(draw(st.integers(min(1, max_dwellings), max_dwellings)))
    )
    flats = tuple(
        SharedFlat(
            id=f"F{k}",
            lat=draw(LAT),
            lon=draw(LON),
            rent_per_bed_cents=draw(st.integers(8000, 30000)),
            step_free=draw(st.booleans()),
            rooms=tuple(
                Room(id=f"F{k}-R{r}", beds=draw(st.integers(1, 2)))
                for r in range(draw(st.integers(1, 2)))
            ),
        )
        for k in range(draw(st.integers(0, max_flats)))
    )
    units = [d.id for d in dwellings] + [f.id for f in flats]
    pinned: tuple[Pin, ...] = ()
    forbidden: tuple[Forbidden, ...] = ()
    if units and draw(st.booleans()):
        forbidden = (
            Forbidden(draw(st.sampled_from([b.id for b in bens])), draw(st.sampled_from(units))),
        )
    if pins and units and draw(st.integers(0, 4)) == 0:
        b = draw(st.sampled_from([b.id for b in bens]))
        u = draw(st.sampled_from(units))
        room = None
        flat = next((f for f in flats if f.id == u), None)
        if flat is not None and draw(st.booleans()):
            room = draw(st.sampled_from([r.id for r in flat.rooms]))
        pinned = (Pin(b, u, room),)
    return Instance(
        name="hypothesis",
        policy=policy,
        funds=funds,
        beneficiaries=tuple(bens),
        dwellings=dwellings,
        shared_flats=flats,
        pinned=pinned,
        forbidden=forbidden,
    )


@dataclass(frozen=True)
class Best:
    """The lexicographic optimum found by enumeration (None: no feasible allocation)."""

    weight: int
    contribution_cents: int
    commute_m: int
    """Objective 3 in the contract's whole metres, ``floor(1000 * commute_km + 0.5)``."""
    placements: tuple[tuple[str, str, str | None, str | None], ...]


def _weight(inst: Instance, b: Beneficiary) -> int:
    return (
        b.priority * (b.adults + b.minors)
        if inst.policy.objective_unit == "persons"
        else b.priority
    )


def _options(
    inst: Instance, b: Beneficiary
) -> list[tuple[str, str | None, str | None, int, float]]:
    """Every (unit, room, fund, contribution, commute) the spec's pair rules allow for b."""
    pol = inst.policy
    banned = {f.unit for f in inst.forbidden if f.beneficiary == b.id}
    persons = b.adults + b.minors
    out: list[tuple[str, str | None, str | None, int, float]] = []

    def funds_for(c: int) -> list[str | None]:
        if c == 0:
            return [None]
        return [
            f.id for f in inst.funds if not f.eligible_tags or set(f.eligible_tags) & set(b.tags)
        ]

    for d in inst.dwellings:
        cap = legal_max_from_spec(d.area_m2, d.bedrooms)
        if d.max_occupants is not None:
            cap = min(cap, d.max_occupants)
        km = commute_km(pol, b, d.lat, d.lon)
        c = contribution_cents(pol, b.income_cents, d.rent_cents)
        if (
            "dwelling" in b.accepts
            and persons <= cap
            and (b.minors == 0 or d.children_ok)
            and (not b.needs_step_free or d.step_free)
            and km <= b.max_commute_km
            and c <= pol.max_contribution_cents
            and d.id not in banned
        ):
            out += [(d.id, None, f, c, km) for f in funds_for(c)]
    for fl in inst.shared_flats:
        km = commute_km(pol, b, fl.lat, fl.lon)
        c = contribution_cents(pol, b.income_cents, fl.rent_per_bed_cents)
        if (
            "bed" in b.accepts
            and b.adults == 1
            and b.minors == 0
            and (not b.needs_step_free or fl.step_free)
            and km <= b.max_commute_km
            and c <= pol.max_contribution_cents
            and fl.id not in banned
        ):
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

    classes = sorted({b.priority for b in inst.beneficiaries if b.priority > 0}, reverse=True)
    by_id = {b.id: b for b in inst.beneficiaries}
    # group floors: each group's members that could be placed on their own (a fund that
    # may pay with the money for it)
    floor_groups = [
        (
            f,
            {b.id for b in inst.beneficiaries if f.holds(b)},
            {
                b.id
                for b, opts in zip(inst.beneficiaries, choices, strict=True)
                if f.holds(b)
                and any(
                    o is not None
                    and (o[2] is None or o[3] * pol.contribution_months <= budget[o[2]])
                    for o in opts
                )
            },
        )
        for f in pol.group_floors
    ]

    def floors_hold() -> bool:
        placed = {x[0] for x in chosen if x is not None}
        return all(
            len(members & placed) >= f.share * len(placed) or reach <= placed
            for f, members, reach in floor_groups
        )

    def key(w: int, c: int, m: int) -> tuple[int, ...]:
        if pol.priority_mode != "strict" or not classes:
            return (-w, c, m)
        # the strict priority mode: each class's weight, highest class first
        placed = [by_id[x[0]] for x in chosen if x is not None]
        return (
            *(-sum(_weight(inst, b) for b in placed if b.priority == p) for p in classes),
            c,
            m,
        )

    def rec(i: int, w: int, c: int, m: int) -> None:
        if i == len(inst.beneficiaries):
            if not floors_hold():
                return
            k = key(w, c, m)
            if best[0] is None or k < best[0][4]:
                best[0] = (w, c, m, tuple(chosen), k)
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
    w, c, m, placements, _ = best[0]
    return Best(w, c, m, tuple(p for p in placements if p is not None))


# --------------------------------------------------------------------------- instance@2


MONTH0 = 2027 * 12  # January 2027, as a month number


@st.composite
def spans(draw: st.DrawFn, months: int) -> Span:
    first = draw(st.integers(0, months - 1))
    last = draw(st.integers(first, months - 1))
    return Span(MONTH0 + first, MONTH0 + last)


@st.composite
def instances_v2(
    draw: st.DrawFn,
    max_beneficiaries: int = 4,
    months: int = 4,
    pins: bool = True,
    line: bool | None = None,
    crowded: bool = False,
) -> Instance:
    """A small instance@2 where every kind of rule has a chance to bind: stays and
    availability, a line that brings a far home within reach, terms with one-offs and a
    guarantee, safety zones and areas. ``line`` forces a line (or none); ``crowded``
    makes single adults of different stays compete for one dwelling and one flat, so that
    homes and beds are used in turn."""
    horizon = Span(MONTH0, MONTH0 + months - 1)
    policy = Policy(
        affordability_ratio=draw(st.sampled_from([Decimal("0.30"), Decimal("0.25")])),
        max_contribution_cents=60_000,
        contribution_months=12,
        circuity=draw(st.sampled_from([1.0, 1.3])),
        objective_unit=draw(st.sampled_from(["persons", "households"])),
        horizon=horizon,
        guarantee=draw(
            st.sampled_from(
                [None, Guarantee(0, 3), Guarantee(100_000, 3), Guarantee(10_000_000, 3)]
            )
        ),
    )
    funds = tuple(
        Fund(
            id=f"fund{k}",
            budget_cents=draw(st.sampled_from([200_000, 600_000, 5_000_000, 5_000_000])),
            eligible_tags=("victim",) if k == 1 else (),
        )
        for k in range(draw(st.integers(1, 2)))
    )
    areas = ("071024", "071051")
    bens = []
    for i in range(draw(st.integers(2, max_beneficiaries))):
        single = crowded or draw(st.sampled_from([True, True, False]))
        bens.append(
            Beneficiary(
                id=f"B{i}",
                adults=1 if single else 2,
                minors=0 if single else draw(st.integers(0, 2)),
                gender=draw(st.sampled_from(["F", "M"])),
                income_cents=draw(st.integers(40_000, 150_000)),
                work=Point(draw(LAT), draw(LON)),
                max_commute_km=25.0 if crowded else draw(st.sampled_from([1.0, 12.0, 25.0, 25.0])),
                needs_step_free=draw(st.sampled_from([False, False, False, False, True])),
                priority=draw(st.integers(1, 5)),
                accepts=("dwelling", "bed")
                if crowded
                else draw(st.sampled_from([("dwelling", "bed"), ("dwelling",), ("bed",)])),
                tags=draw(st.sampled_from([(), ("victim",)])),
                stay=draw(spans(months)) if crowded or draw(st.integers(0, 2)) else None,
                avoid=()
                if crowded
                else draw(st.sampled_from([(), (), (), (), (Zone(draw(LAT), draw(LON), 3.0),)])),
                areas=()
                if crowded
                else draw(st.sampled_from([(), (), (), (), (areas[0],), areas])),
            )
        )
    dws = []
    for k in range(1 if crowded else draw(st.integers(1, 2))):
        terms: tuple[Term, ...] = ()
        if draw(st.booleans()):
            terms = tuple(
                Term(
                    f"t{j}",
                    draw(st.integers(15_000, 55_000)),
                    one_off_cents=draw(st.sampled_from([0, 0, 60_000])),
                    guaranteed=draw(st.booleans()),
                )
                for j in range(draw(st.integers(1, 2)))
            )
        dws.append(
            Dwelling(
                id=f"D{k}",
                lat=draw(LAT),
                lon=draw(LON),
                area_m2=draw(st.sampled_from([30, 45, 60, 75])),
                bedrooms=draw(st.sampled_from([0, 1, 2, 3])),
                rent_cents=0 if terms else draw(st.integers(15_000, 45_000)),
                step_free=draw(st.booleans()),
                max_occupants=None,
                children_ok=draw(st.sampled_from([True, True, False])),
                terms=terms,
                available=None if crowded or draw(st.integers(0, 3)) else draw(spans(months)),
                area=draw(st.sampled_from([None, *areas, *areas])),
            )
        )
    flats = tuple(
        SharedFlat(
            id=f"F{k}",
            lat=draw(LAT),
            lon=draw(LON),
            rent_per_bed_cents=draw(st.integers(8_000, 25_000)),
            step_free=draw(st.booleans()),
            rooms=tuple(
                Room(f"F{k}-R{r}", draw(st.integers(1, 2))) for r in range(draw(st.integers(1, 2)))
            ),
            available=None if crowded or draw(st.integers(0, 3)) else draw(spans(months)),
            area=draw(st.sampled_from([None, *areas, *areas])),
        )
        for k in range(1 if crowded else draw(st.integers(0, 1)))
    )
    units = [(d.lat, d.lon) for d in dws] + [(f.lat, f.lon) for f in flats]
    lines: tuple[Shuttle, ...] = ()
    if units and (line if line is not None else bool(draw(st.integers(0, 2)))):
        # from near a home to near somebody's work
        home = draw(st.sampled_from(units))
        rider = draw(st.integers(0, len(bens) - 1))
        work = (bens[rider].work.lat, bens[rider].work.lon)
        # the rider's own reach is short: the line is its way to a farther home
        bens[rider] = dataclasses.replace(bens[rider], max_commute_km=1.0)
        stops = (Stop("S0", home[0] + 0.002, home[1]), Stop("S1", work[0], work[1] + 0.002))
        lines = (
            Shuttle(
                "L1",
                stops,
                seats=draw(st.sampled_from([0, 1, 2, 2])),
                monthly_cost_cents=draw(st.sampled_from([0, 50_000, 200_000])),
                running=draw(st.booleans()),
            ),
        )
        policy = dataclasses.replace(
            policy,
            walk_km=1.0,
            transport_budget_cents=draw(st.sampled_from([0, 400_000, 10_000_000, 10_000_000])),
        )
    pinned: tuple[Pin, ...] = ()
    ids = [d.id for d in dws] + [f.id for f in flats]
    if pins and ids and draw(st.integers(0, 5)) == 0:
        pinned = (Pin(draw(st.sampled_from([b.id for b in bens])), draw(st.sampled_from(ids))),)
    return Instance(
        name="hypothesis-v2",
        policy=policy,
        funds=funds,
        beneficiaries=tuple(bens),
        dwellings=tuple(dws),
        shared_flats=flats,
        pinned=pinned,
        shuttles=lines,
        format=INSTANCE_FORMAT_V2,
    )


@dataclass(frozen=True)
class BestV2:
    """The lexicographic optimum of an instance@2 found by enumeration."""

    weight: int
    money_cents: int
    commute_m: int


def _stay(inst: Instance, b: Beneficiary) -> list[int]:
    h = inst.policy.horizon
    assert h is not None
    span = b.stay if b.stay is not None else h
    return list(range(span.first, span.last + 1))


def _ride(inst: Instance, b: Beneficiary, line: Shuttle, lat: float, lon: float) -> float | None:
    walk = inst.policy.walk_km or 0.0
    circ = float(inst.policy.circuity)
    best = None
    for i in line.stops:
        di = float(geodesic((lat, lon), (i.lat, i.lon)).km)
        for j in line.stops:
            dj = float(geodesic((b.work.lat, b.work.lon), (j.lat, j.lon)).km)
            if di <= walk and dj <= walk:
                km = di + circ * float(geodesic((i.lat, i.lon), (j.lat, j.lon)).km) + dj
                best = km if best is None else min(best, km)
    return best


def _options_v2(inst: Instance, b: Beneficiary) -> list[dict[str, Any]]:
    """Every way the contract lets ``b`` be placed (unit, room, terms, line, fund)."""
    pol = inst.policy
    banned = {f.unit for f in inst.forbidden if f.beneficiary == b.id}
    stay = _stay(inst, b)
    h = pol.horizon
    assert h is not None
    out: list[dict[str, Any]] = []
    persons = b.adults + b.minors
    units: list[tuple[Any, str | None, list[tuple[str | None, int, int, bool]]]] = []
    for d in inst.dwellings:
        cap = legal_max_from_spec(d.area_m2, d.bedrooms)
        if d.max_occupants is not None:
            cap = min(cap, d.max_occupants)
        if "dwelling" in b.accepts and persons <= cap and (b.minors == 0 or d.children_ok):
            offers = [(t.id, t.rent_cents, t.one_off_cents, t.guaranteed) for t in d.terms] or [
                (None, d.rent_cents, 0, False)
            ]
            units.append((d, None, offers))
    for f in inst.shared_flats:
        if "bed" in b.accepts and b.adults == 1 and b.minors == 0:
            units += [(f, r.id, [(None, f.rent_per_bed_cents, 0, False)]) for r in f.rooms]
    for u, room, offers in units:
        avail = u.available if u.available is not None else h
        if (b.needs_step_free and not u.step_free) or u.id in banned:
            continue
        if not (avail.first <= stay[0] and stay[-1] <= avail.last):
            continue
        if any(
            not float(geodesic((z.lat, z.lon), (u.lat, u.lon)).km) > z.radius_km for z in b.avoid
        ):
            continue
        if b.areas and u.area not in b.areas:
            continue
        ways: list[tuple[str | None, float]] = []
        km = commute_km(pol, b, u.lat, u.lon)
        if km <= b.max_commute_km:
            ways.append((None, km))
        for line in inst.shuttles:
            ride = _ride(inst, b, line, u.lat, u.lon)
            if ride is not None:
                ways.append((line.id, ride))
        for term, rent, one_off, guaranteed in offers:
            c = contribution_cents(pol, b.income_cents, rent)
            if c > pol.max_contribution_cents:
                continue
            cost = c * len(stay) + one_off
            exposure = rent * pol.guarantee.months if guaranteed and pol.guarantee else 0
            funds = (
                [None]
                if cost == 0
                else [
                    f.id
                    for f in inst.funds
                    if not f.eligible_tags or set(f.eligible_tags) & set(b.tags)
                ]
            )
            for line_id, km_way in ways:
                for fund in funds:
                    out.append(
                        {
                            "unit": u.id,
                            "room": room,
                            "dwelling": room is None,
                            "term": term,
                            "line": line_id,
                            "fund": fund,
                            "cost": cost,
                            "metres": commute_m(km_way),
                            "exposure": exposure,
                            "contribution": c,
                            "km": km_way,
                            "months": len(stay),
                            "one_off": one_off,
                        }
                    )
    return out


def exhaustive_v2(inst: Instance) -> BestV2 | None:
    """The lexicographic optimum of an instance@2 by full enumeration (tiny rounds only),
    from the contract's text: month by month dwellings, rooms and seats, funds paying the
    costs, the guarantee's capacity, lines opened within the transport budget."""
    pol = inst.policy
    h = pol.horizon
    assert h is not None
    pins = {p.beneficiary: p for p in inst.pinned}
    beds = {(f.id, r.id): r.beds for f in inst.shared_flats for r in f.rooms}
    lines = {x.id: x for x in inst.shuttles}
    choices: list[list[Any]] = []
    for b in inst.beneficiaries:
        opts: list[Any] = _options_v2(inst, b)
        if b.id in pins:
            p = pins[b.id]
            opts = [
                o for o in opts if o["unit"] == p.unit and (p.room is None or o["room"] == p.room)
            ]
        else:
            opts = [None, *opts]
        choices.append(opts)
    best: list[Any] = [None]
    dwelling_months: set[tuple[str, int]] = set()
    room_people: dict[tuple[str, str, int], list[str]] = {}
    seats: dict[tuple[str, int], int] = {}
    spent = {f.id: 0 for f in inst.funds}
    budget = {f.id: f.budget_cents for f in inst.funds}
    state = {"exposure": 0}

    def leaf(w: int, money: int, metres: int, used: set[str]) -> None:
        opened = [x for x in used if not lines[x].running]
        line_cost = sum(lines[x].monthly_cost_cents * h.months for x in opened)
        if opened and line_cost > (pol.transport_budget_cents or 0):
            return
        key = (-w, money + line_cost, metres)
        if best[0] is None or key < best[0]:
            best[0] = key

    def rec(i: int, w: int, money: int, metres: int, used: tuple[str, ...]) -> None:
        if i == len(inst.beneficiaries):
            leaf(w, money, metres, set(used))
            return
        b = inst.beneficiaries[i]
        stay = _stay(inst, b)
        for o in choices[i]:
            if o is None:
                rec(i + 1, w, money, metres, used)
                continue
            if o["dwelling"] and any((o["unit"], m) in dwelling_months for m in stay):
                continue
            if not o["dwelling"] and any(
                len(room_people.get((o["unit"], o["room"], m), [])) >= beds[o["unit"], o["room"]]
                or any(g != b.gender for g in room_people.get((o["unit"], o["room"], m), []))
                for m in stay
            ):
                continue
            if o["line"] is not None and any(
                seats.get((o["line"], m), 0) + b.adults > lines[o["line"]].seats for m in stay
            ):
                continue
            if o["fund"] is not None and spent[o["fund"]] + o["cost"] > budget[o["fund"]]:
                continue
            if (
                pol.guarantee is not None
                and state["exposure"] + o["exposure"] > pol.guarantee.capacity_cents
            ):
                continue
            for m in stay:
                if o["dwelling"]:
                    dwelling_months.add((o["unit"], m))
                else:
                    room_people.setdefault((o["unit"], o["room"], m), []).append(b.gender)
                if o["line"] is not None:
                    seats[o["line"], m] = seats.get((o["line"], m), 0) + b.adults
            if o["fund"] is not None:
                spent[o["fund"]] += o["cost"]
            state["exposure"] += o["exposure"]
            rec(
                i + 1,
                w + _weight(inst, b),
                money + o["cost"],
                metres + o["metres"],
                used + ((o["line"],) if o["line"] is not None else ()),
            )
            state["exposure"] -= o["exposure"]
            if o["fund"] is not None:
                spent[o["fund"]] -= o["cost"]
            for m in stay:
                if o["dwelling"]:
                    dwelling_months.discard((o["unit"], m))
                else:
                    room_people[o["unit"], o["room"], m].pop()
                if o["line"] is not None:
                    seats[o["line"], m] -= b.adults

    rec(0, 0, 0, 0, ())
    if best[0] is None:
        return None
    w, money, metres = best[0]
    return BestV2(-w, money, metres)
