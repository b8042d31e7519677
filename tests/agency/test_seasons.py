"""A seasonal round with a shuttle line, end to end, on every database the suite runs on:
open (instance@2 with seasons, a foresteria's open months, the line) → solve (validated)
→ offers → answers → close (leases for their months, the money for those months, the line
opened)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from agency import records
from agency.errors import RecordError, RoundConflict
from agency.ledger import balance, committed_months
from agency.models import (
    Lease,
    LedgerEntry,
    LedgerKind,
    Offer,
    OfferStatus,
    Office,
    Round,
    ShuttleLine,
)
from agency.records.common import checked
from agency.round_details import close_preview
from agency.rounds import (
    close_round,
    instance_for,
    open_round,
    record_answer,
    round_view,
    send_offers,
    solve_round,
)
from agency.schemas import (
    BeneficiaryCreate,
    RoundPolicy,
    ShuttleLineCreate,
    ShuttleLineUpdate,
)
from matching.instance import INSTANCE_FORMAT, INSTANCE_FORMAT_V2
from matching.result import result_from_dict
from matching.validate import validate
from tests.agency.factories import ACTOR, dwelling, flat, fund, household, office

ON = date(2026, 12, 1)
CAMP = (41.5190, 15.7390)  # Borgo Mezzanone
FORESTERIA = (41.5180, 15.7400)
FARM = (41.3810, 15.5010)  # farms south of Foggia, about 20 km away
SEASONAL = RoundPolicy(
    horizon_start="2027-01", horizon_months=12, walk_km=1.5, transport_budget_cents=1_200_000
)


def line_data(**kw: object) -> ShuttleLineCreate:
    data: dict[str, object] = {
        "name": "Borgo Mezzanone – Foggia sud",
        "seats": 16,
        "monthly_cost_cents": 100_000,
        "running": False,
        "stops": [
            {"name": "Borgo Mezzanone", "lat": CAMP[0], "lon": CAMP[1]},
            {"name": "Masseria sud", "lat": FARM[0], "lon": FARM[1]},
        ],
    }
    data.update(kw)
    return checked(ShuttleLineCreate, data)


def seasonal_office(s: Session) -> int:
    """Two pickers sharing one bed in turn (July–September, October–December) in a
    foresteria by the camp open June to December, 20 km from their farm: only the line
    gets them there."""
    off = office(s)
    assert off.id is not None
    for n, (first, last) in enumerate((("2027-07", "2027-09"), ("2027-10", "2027-12")), 1):
        household(s, off, n, work=FARM, max_commute_km=10.0, season_from=first, season_to=last)
    flat(
        s,
        off,
        beds=(1,),
        at=FORESTERIA,
        municipality="071029",
        rent_per_bed_cents=40_000,
        open_from="2027-06",
        open_to="2027-12",
    )
    fund(s, "regional", 1_000_000)
    records.create_line(s, ACTOR, off.id, line_data())
    s.commit()
    return off.id


def test_a_seasonal_round_rides_a_line_and_commits_its_months(engine: Engine) -> None:
    with Session(engine) as s:
        office_id = seasonal_office(s)
        r = open_round(s, ACTOR, name="Estate 2027", office_id=office_id, policy=SEASONAL, on=ON)
        s.commit()
        rid = r.id
        assert rid is not None
        assert r.snapshot["format"] == INSTANCE_FORMAT_V2
        assert r.snapshot["policy"]["horizon"] == {"start": "2027-01", "months": 12}
        assert sorted(
            (b["stay"] for b in r.snapshot["beneficiaries"]), key=lambda x: x["from"]
        ) == [
            {"from": "2027-07", "to": "2027-09"},
            {"from": "2027-10", "to": "2027-12"},
        ]
        assert r.snapshot["shared_flats"][0]["available"] == {"from": "2027-06", "to": "2027-12"}
        assert [x["running"] for x in r.snapshot["shuttles"]] == [False]

    solve_round(engine, ACTOR, rid)
    with Session(engine) as s:
        got = s.get(Round, rid)
        assert got is not None and got.result is not None
        r = got
        result = result_from_dict(r.result)
        assert validate(instance_for(s, r), result) == []
        line = s.exec(select(ShuttleLine)).one()
        assert result.lines_opened == (line.ref,)
        view = round_view(s, rid)
        # one bed, two seasons: both housed, both riding the line, each for their months
        assert sorted((p.stay_from, p.stay_to, p.months, p.line_ref) for p in view.proposals) == [
            ("2027-07", "2027-09", 3, line.ref),
            ("2027-10", "2027-12", 3, line.ref),
        ]
        offers = send_offers(s, ACTOR, rid, on=ON)
        s.commit()
        used = records.seats_used(s, r)
        assert used[line.id or 0] == {m: 1 for m in ("2027-07", "2027-08", "2027-09")} | {
            m: 1 for m in ("2027-10", "2027-11", "2027-12")
        }
        for o in offers:
            assert o.id is not None
            record_answer(s, ACTOR, o.id, OfferStatus.accepted)
        s.commit()
        contributions = {o.stay_from: o.contribution_cents for o in offers}
        # what the close page announces is what the close commits: each stay's months
        preview = close_preview(s, r)
        assert preview.committed_cents == {"regional": sum(3 * c for c in contributions.values())}
        regional = s.exec(select(LedgerEntry.fund_id)).first()
        assert regional is not None
        before = balance(s, regional)

    report = close_round(engine, ACTOR, rid, on=ON)
    assert report.leases == 2
    with Session(engine) as s:
        leases = list(s.exec(select(Lease).order_by(col(Lease.stay_from))))
        assert [(x.stay_from, x.stay_to, x.months) for x in leases] == [
            ("2027-07", "2027-09", 3),
            ("2027-10", "2027-12", 3),
        ]
        line = s.exec(select(ShuttleLine)).one()
        assert all(x.line_id == line.id for x in leases)
        assert line.running  # the round opened it
        notes = committed_months(s, rid)
        assert sorted(str(n) for n in notes.values()) == [
            "months 2027-07..2027-09 (3)",
            "months 2027-10..2027-12 (3)",
        ]
        commitments = s.exec(
            select(LedgerEntry.amount_cents).where(LedgerEntry.kind == LedgerKind.commitment)
        ).all()
        expected = sum(3 * c for c in contributions.values())
        assert expected > 0
        assert -sum(commitments) == expected
        assert balance(s, regional) == before - expected

    # the next rounds see the seats the leases take: one a month in 2027, none in 2028
    with Session(engine) as s:
        household(s, s.exec(select(Office)).one(), 9, work=FARM, max_commute_km=10.0)
        s.commit()
        seats = []
        for start in ("2027-01", "2028-01"):
            policy = SEASONAL.model_copy(update={"horizon_start": start})
            nxt = open_round(s, ACTOR, name=start, office_id=office_id, policy=policy, on=ON)
            seats.append(nxt.snapshot["shuttles"][0]["seats"])
            s.rollback()
        assert seats == [15, 16]


def test_a_round_without_horizon_or_lines_is_instance_at_1(engine: Engine) -> None:
    with Session(engine) as s:
        off = office(s)
        household(s, off, 1, season_from="2027-07", season_to="2027-09")
        flat(s, off, open_from="2027-06", open_to="2027-10")
        fund(s, "regional", 1_000_000)
        s.commit()
        r = open_round(s, ACTOR, name="Senza stagioni", office_id=off.id, on=ON)
        assert r.snapshot["format"] == INSTANCE_FORMAT
        assert "horizon" not in r.snapshot["policy"]
        assert "stay" not in r.snapshot["beneficiaries"][0]
        assert "available" not in r.snapshot["shared_flats"][0]


def test_a_season_outside_the_horizon_leaves_the_household_out(engine: Engine) -> None:
    with Session(engine) as s:
        off = office(s)
        household(s, off, 1, season_from="2026-03", season_to="2026-05")
        household(s, off, 2, season_from="2026-11", season_to="2027-02")
        flat(s, off)
        fund(s, "regional", 1_000_000)
        s.commit()
        policy = RoundPolicy(horizon_start="2027-01", horizon_months=6)
        r = open_round(s, ACTOR, name="Inverno", office_id=off.id, policy=policy, on=ON)
        stays = [b.get("stay") for b in r.snapshot["beneficiaries"]]
        assert stays == [{"from": "2027-01", "to": "2027-02"}]  # clipped to the horizon


@pytest.mark.parametrize(
    ("season", "message"),
    [
        ({"season_from": "2027-07"}, "both the first and the last month"),
        ({"season_from": "2027-09", "season_to": "2027-07"}, "last month is before"),
        ({"season_from": "2027-13", "season_to": "2027-14"}, "season_from"),
    ],
)
def test_a_bad_season_is_refused_naming_it(season: dict[str, str], message: str) -> None:
    data = {
        "given_name": "A",
        "family_name": "B",
        "gender": "M",
        "adults": 1,
        "income_cents": 50000,
        "work_municipality": "Foggia",
    } | season
    with pytest.raises(RecordError, match=message):
        checked(BeneficiaryCreate, data)


def test_lines_are_kept_with_their_stops_and_checked(engine: Engine) -> None:
    with Session(engine) as s:
        off = office(s)
        assert off.id is not None
        line = records.create_line(s, ACTOR, off.id, line_data())
        s.commit()
        assert [x.name for x in records.stops_of(s, line.id or 0)] == [
            "Borgo Mezzanone",
            "Masseria sud",
        ]
        records.update_line(
            s,
            ACTOR,
            line.ref,
            checked(
                ShuttleLineUpdate,
                {"seats": 8, "stops": [{"name": "Solo", "lat": CAMP[0], "lon": CAMP[1]}]},
            ),
        )
        s.commit()
        assert line.seats == 8
        assert [x.name for x in records.stops_of(s, line.id or 0)] == ["Solo"]
        with pytest.raises(RecordError, match="seats"):
            records.update_line(s, ACTOR, line.ref, checked(ShuttleLineUpdate, {"seats": 0}))
        with pytest.raises(RecordError, match="stops"):
            checked(ShuttleLineCreate, line_data().model_dump() | {"stops": []})
        with pytest.raises(RecordError, match="lat"):
            line_data(stops=[{"name": "Milano", "lat": 45.46, "lon": 16.0}])
        page = records.list_lines(s, scope=off.id, q="mezzanone")
        assert page.total == 1
        assert records.list_lines(s, scope=off.id, q="bari").total == 0
        assert records.list_lines(s, scope=(off.id or 0) + 1).total == 0
        assert s.exec(select(Offer)).first() is None


def test_one_dwelling_two_seasons_two_leases(engine: Engine) -> None:
    """A dwelling let March to May to one family and July to October to another: both
    leases stand, the database's one-active-lease rule counting seasons apart."""
    with Session(engine) as s:
        off = office(s)
        seasons = (("2027-03", "2027-05"), ("2027-07", "2027-10"))
        for n, (first, last) in enumerate(seasons, 1):
            household(
                s,
                off,
                n,
                adults=2,
                minors=1,
                income_cents=90_000,
                accepts_bed=False,
                season_from=first,
                season_to=last,
            )
        dwelling(s, off, bedrooms=2, area_m2=70, rent_cents=45_000)
        fund(s, "regional", 1_000_000)
        s.commit()
        policy = RoundPolicy(horizon_start="2027-01", horizon_months=12)
        r = open_round(s, ACTOR, name="Due stagioni", office_id=off.id, policy=policy, on=ON)
        s.commit()
        rid = r.id
        assert rid is not None
    solve_round(engine, ACTOR, rid)
    with Session(engine) as s:
        offers = send_offers(s, ACTOR, rid, on=ON)
        assert len(offers) == 2 and offers[0].dwelling_id == offers[1].dwelling_id
        for o in offers:
            assert o.id is not None
            record_answer(s, ACTOR, o.id, OfferStatus.accepted)
        s.commit()
    assert close_round(engine, ACTOR, rid, on=ON).leases == 2
    with Session(engine) as s:
        leases = list(s.exec(select(Lease).order_by(col(Lease.stay_from))))
        assert [(x.stay_from, x.stay_to, x.months) for x in leases] == [
            ("2027-03", "2027-05", 3),
            ("2027-07", "2027-10", 4),
        ]
        notes = sorted(str(n) for n in committed_months(s, rid).values())
        assert notes == ["months 2027-03..2027-05 (3)", "months 2027-07..2027-10 (4)"]


def test_a_close_that_would_overbook_a_line_is_refused(engine: Engine) -> None:
    """Another round filled the line's only seat in August meanwhile: nothing is written."""
    with Session(engine) as s:
        office_id = seasonal_office(s)
        line = s.exec(select(ShuttleLine)).one()
        line.seats, line.running = 1, True
        s.add(line)
        s.commit()
        line_ref, line_id = line.ref, line.id
        r = open_round(s, ACTOR, name="Estate", office_id=office_id, policy=SEASONAL, on=ON)
        s.commit()
        rid = r.id
        assert rid is not None
    solve_round(engine, ACTOR, rid)
    with Session(engine) as s:
        for o in send_offers(s, ACTOR, rid, on=ON):
            assert o.id is not None
            record_answer(s, ACTOR, o.id, OfferStatus.accepted)
        other = household(s, s.exec(select(Office)).one(), 7, work=FARM, status="housed")
        assert other.id is not None
        s.add(
            Lease(
                beneficiary_id=other.id,
                contribution_cents=0,
                months=1,
                stay_from="2027-08",
                stay_to="2027-08",
                line_id=line_id,
                started_on=ON,
            )
        )
        s.commit()
    with pytest.raises(RoundConflict) as exc:
        close_round(engine, ACTOR, rid, on=ON)
    assert any(f"line {line_ref} has 1 seats for 2 riders" in c for c in exc.value.conflicts)
    with Session(engine) as s:
        assert len(s.exec(select(Lease)).all()) == 1  # only the other round's
