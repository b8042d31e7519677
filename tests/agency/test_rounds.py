"""The round end to end, on every database the suite runs on (see ``tests/conftest.py``)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from agency.errors import NotFoundError, RoundInputError, RoundStateError
from agency.ledger import balance, balances
from agency.models import (
    Beneficiary,
    BeneficiaryEvent,
    BeneficiaryStatus,
    DecisionKind,
    Dwelling,
    Fund,
    Lease,
    LedgerEntry,
    Offer,
    OfferStatus,
    Office,
    Proposal,
    Room,
    Round,
    RoundStatus,
    UnitStatus,
)
from agency.rounds import (
    RoundError,
    close_round,
    decide,
    instance_for,
    open_round,
    record_answer,
    round_view,
    send_offers,
    solve_round,
)
from matching.result import result_from_dict
from matching.validate import validate
from tests.agency.factories import ACTOR, dwelling, flat, foggia_round_data, household

ON = date(2026, 7, 1)  # a month after the households registered: no waiting points yet


def solved(engine: Engine, round_id: int) -> Round:
    """Solve, then check the stored result against the instance with the validator."""
    r = solve_round(engine, ACTOR, round_id)
    with Session(engine) as s:
        r = s.get(Round, round_id)
        assert r is not None and r.result is not None
        violations = validate(instance_for(s, r), result_from_dict(r.result))
        assert violations == []
        # accepted and pending offers are part of the allocation just stored, fund included
        # (regression: offers kept the fund of an older solve and overspent it at close)
        props = {
            p.beneficiary_id: p
            for p in s.exec(
                select(Proposal).where(
                    Proposal.round_id == round_id, col(Proposal.current).is_(True)
                )
            )
        }
        for o in s.exec(
            select(Offer).where(
                Offer.round_id == round_id, col(Offer.status).in_(["pending", "accepted"])
            )
        ):
            p = props[o.beneficiary_id]
            assert (o.proposal_id, o.dwelling_id, o.room_id, o.fund_id) == (
                p.id,
                p.dwelling_id,
                p.room_id,
                p.fund_id,
            )
    s.expunge_all()
    return r


def open_one(engine: Engine, name: str = "Foggia July", **kw: object) -> int:
    with Session(engine) as s:
        kw.setdefault("on", ON)
        r = open_round(s, ACTOR, name=name, time_limit_s=10, **kw)  # type: ignore[arg-type]
        s.commit()
        assert r.id is not None
        return r.id


def current(s: Session, round_id: int) -> dict[str, Proposal]:
    refs = dict(s.exec(select(Beneficiary.id, Beneficiary.ref)).all())
    return {
        refs[p.beneficiary_id]: p
        for p in s.exec(
            select(Proposal).where(Proposal.round_id == round_id, col(Proposal.current).is_(True))
        )
    }


def test_open_takes_a_snapshot_with_priorities(engine: Engine) -> None:
    with Session(engine) as s:
        foggia_round_data(s)
    rid = open_one(engine)
    with Session(engine) as s:
        r = s.get(Round, rid)
        assert r is not None and r.status == RoundStatus.open
        assert len(r.snapshot["beneficiaries"]) == 6
        assert len(r.snapshot["dwellings"]) == 2
        assert [len(f["rooms"]) for f in r.snapshot["shared_flats"]] == [2]
        assert {f["id"]: f["budget_cents"] for f in r.snapshot["funds"]} == {
            "regional": 1_000_000,
            "victims": 300_000,
        }
        victim = s.exec(select(Beneficiary).where(Beneficiary.given_name == "Given1")).one()
        # base 1 + victim 4 + informal settlement 3
        assert victim.priority == 8
        assert {line["component"] for line in victim.priority_breakdown} == {
            "base",
            "exploitation_victim",
            "informal_settlement",
        }


def test_no_waiting_household_is_a_clear_error(engine: Engine) -> None:
    with Session(engine) as s, pytest.raises(RoundError, match="no household is waiting"):
        open_round(s, ACTOR, name="empty")


def test_round_lifecycle_with_a_refusal_and_a_resolve_keeping_accepted_offers(
    engine: Engine,
) -> None:
    with Session(engine) as s:
        off = foggia_round_data(s)
        dwelling(s, off, area_m2=70, bedrooms=2, rent_cents=43000, at=(41.47, 15.56))
        s.commit()
    rid = open_one(engine)
    r = solved(engine, rid)
    assert r.status == RoundStatus.solved
    with Session(engine) as s:
        first = current(s, rid)
        view = round_view(s, rid)
        # the San Severo worker has no unit within 10 km: left out, with a reason
        unplaced = {u.beneficiary_ref: u for u in view.unplaced}
        far = s.exec(select(Beneficiary).where(Beneficiary.given_name == "Given6")).one()
        assert far.ref in unplaced and unplaced[far.ref].reasons
        assert len(view.proposals) == len(first) == 5
        # staff forbid one pair, then re-solve
        fam = s.exec(select(Beneficiary).where(Beneficiary.given_name == "Given4")).one()
        fam_unit = s.get(Dwelling, first[fam.ref].dwelling_id)
        assert fam_unit is not None
        fam_ref, fam_id, fam_unit_id = fam.ref, fam.id, fam_unit.id
        decide(
            s, ACTOR, rid, fam.ref, fam_unit.ref, DecisionKind.forbid, note="too far from school"
        )
        s.commit()
    solved(engine, rid)
    with Session(engine) as s:
        second = current(s, rid)
        assert second[fam_ref].dwelling_id != fam_unit_id
        offers = send_offers(s, ACTOR, rid)
        s.commit()
        assert len(offers) == len(second)
        assert all(
            s.get(Beneficiary, o.beneficiary_id).status == BeneficiaryStatus.offered for o in offers
        )
        refused = next(o for o in offers if o.beneficiary_id == fam_id)
        with pytest.raises(RoundError, match="reason"):
            record_answer(s, ACTOR, refused.id, OfferStatus.refused_household)
        record_answer(s, ACTOR, refused.id, OfferStatus.refused_household, "no bus to school")
        accepted = {}
        for o in offers:
            if o.id != refused.id:
                record_answer(s, ACTOR, o.id, OfferStatus.accepted)
                accepted[o.beneficiary_id] = (o.dwelling_id, o.room_id)
        s.commit()
        refused_unit = refused.dwelling_id
    solved(engine, rid)
    with Session(engine) as s:
        third = current(s, rid)
        for bid, unit in accepted.items():  # accepted offers are pinned in the re-solve
            ref = s.get(Beneficiary, bid).ref
            assert (third[ref].dwelling_id, third[ref].room_id) == unit
        if fam_ref in third:
            assert third[fam_ref].dwelling_id != refused_unit
            new = send_offers(s, ACTOR, rid)
            assert [o.beneficiary_id for o in new] == [fam_id]
            record_answer(s, ACTOR, new[0].id, OfferStatus.accepted)
            accepted[fam_id] = (new[0].dwelling_id, new[0].room_id)
        s.commit()
        before = balances(s)
    report = close_round(engine, ACTOR, rid)
    assert report.leases == len(accepted)
    with Session(engine) as s:
        r = s.get(Round, rid)
        assert r is not None and r.status == RoundStatus.closed
        leases = s.exec(select(Lease)).all()
        assert {lease.beneficiary_id for lease in leases} == set(accepted)
        for lease in leases:
            assert s.get(Beneficiary, lease.beneficiary_id).status == BeneficiaryStatus.housed
            if lease.dwelling_id:
                assert s.get(Dwelling, lease.dwelling_id).status == UnitStatus.let
        after = balances(s)
        spent = {f: before[f] - after[f] for f in before}
        codes = dict(s.exec(select(Fund.id, Fund.code)).all())
        assert {codes[f]: c for f, c in spent.items() if c} == report.committed_cents
        months = 12
        assert sum(spent.values()) == sum(lease.contribution_cents * months for lease in leases)
        assert all(v >= 0 for v in after.values())
        history = s.exec(
            select(BeneficiaryEvent).where(BeneficiaryEvent.beneficiary_id == fam_id)
        ).all()
        assert [e.to_status for e in history][:2] == ["offered", "waiting"]
    # a closed round is closed: no more solves, offers or decisions
    with pytest.raises(RoundError, match="closed"):
        solve_round(engine, ACTOR, rid)


def test_next_round_sees_the_leases_and_the_ledger(engine: Engine) -> None:
    with Session(engine) as s:
        off = foggia_round_data(s)
        flat(s, off, beds=(2, 2), at=(41.465, 15.55))  # room to spare after round 1
        s.commit()
    rid = open_one(engine)
    solved(engine, rid)
    with Session(engine) as s:
        for o in send_offers(s, ACTOR, rid):
            record_answer(s, ACTOR, o.id, OfferStatus.accepted)
        s.commit()
    close_round(engine, ACTOR, rid)
    with Session(engine) as s:
        household(s, s.exec(select(Office)).one(), 7, gender="M")
        s.commit()
    rid2 = open_one(engine, "Foggia August")
    with Session(engine) as s:
        r2 = s.get(Round, rid2)
        assert r2 is not None
        waiting = {
            b.ref
            for b in s.exec(
                select(Beneficiary).where(Beneficiary.status == BeneficiaryStatus.waiting)
            )
        }
        assert len(waiting) == 2  # the newcomer, and the worker too far from every unit
        assert {
            b["id"] for b in r2.snapshot["beneficiaries"] if not b["id"].startswith("OCC-")
        } == waiting
        let = {d.ref for d in s.exec(select(Dwelling).where(Dwelling.status == UnitStatus.let))}
        assert let and not let & {d["id"] for d in r2.snapshot["dwellings"]}
        # beds already let in flats with room to spare are held by pinned occupants of
        # weight 0; a full flat is left out
        kept = {f["id"]: {r["id"] for r in f["rooms"]} for f in r2.snapshot["shared_flats"]}
        rooms_kept = set().union(*kept.values())
        room_refs = dict(s.exec(select(Room.id, Room.ref)).all())
        beds_let = [
            lease
            for lease in s.exec(select(Lease).where(col(Lease.room_id).is_not(None)))
            if room_refs[lease.room_id] in rooms_kept
        ]
        occupants = [b for b in r2.snapshot["beneficiaries"] if b["id"].startswith("OCC-")]
        assert len(occupants) == len(beds_let)
        assert all(b["priority"] == 0 for b in occupants)
        assert {(p["unit"], p["room"]) for p in r2.snapshot["pinned"]} <= {
            (f, r) for f, rs in kept.items() for r in rs
        }
        funds = {f["id"]: f["budget_cents"] for f in r2.snapshot["funds"]}
        for f in s.exec(select(Fund)):
            assert funds[f.code] == balance(s, f.id)
    solved(engine, rid2)


def test_pending_offers_block_closing(engine: Engine) -> None:
    with Session(engine) as s:
        foggia_round_data(s)
    rid = open_one(engine)
    solved(engine, rid)
    with Session(engine) as s:
        send_offers(s, ACTOR, rid)
        s.commit()
    with pytest.raises(RoundError, match="without an answer"):
        close_round(engine, ACTOR, rid)
    with Session(engine) as s:
        assert s.exec(select(Lease)).all() == []
        assert s.exec(select(LedgerEntry).where(LedgerEntry.amount_cents < 0)).all() == []


def test_unreachable_household_leaves_the_round(engine: Engine) -> None:
    with Session(engine) as s:
        foggia_round_data(s)
    rid = open_one(engine)
    solved(engine, rid)
    with Session(engine) as s:
        offers = send_offers(s, ACTOR, rid)
        gone = offers[0]
        record_answer(s, ACTOR, gone.id, OfferStatus.unreachable, "phone off for a week")
        s.commit()
        r = s.get(Round, rid)
        inst = instance_for(s, r)
        ref = s.get(Beneficiary, gone.beneficiary_id).ref
        assert ref not in inst.beneficiary_index
        # the other offers are pending: pinned
        assert len(inst.pinned) == len(offers) - 1 + sum(
            1 for p in inst.pinned if p.beneficiary.startswith("OCC-")
        )


def test_decisions_are_checked(engine: Engine) -> None:
    with Session(engine) as s:
        foggia_round_data(s)
    rid = open_one(engine)
    with Session(engine) as s:
        r = s.get(Round, rid)
        b = s.exec(select(Beneficiary).where(Beneficiary.given_name == "Given2")).one().ref
        d = r.snapshot["dwellings"][0]["id"]
        with pytest.raises(RoundError, match="not part of round"):
            decide(s, ACTOR, rid, "B-NOTHERE", d, DecisionKind.lock)
        with pytest.raises(RoundError, match="not part of round"):
            decide(s, ACTOR, rid, b, "D-NOTHERE", DecisionKind.lock)
        decide(s, ACTOR, rid, b, d, DecisionKind.lock)
        with pytest.raises(RoundError, match="already has"):
            decide(s, ACTOR, rid, b, d, DecisionKind.forbid)
        s.commit()
    solved(engine, rid)
    with Session(engine) as s:
        props = current(s, rid)
        assert s.get(Dwelling, props[b].dwelling_id).ref == d


def test_refusals_say_their_kind_and_field(engine: Engine) -> None:
    with Session(engine) as s:
        foggia_round_data(s)
    rid = open_one(engine)
    with Session(engine) as s:
        r = s.get(Round, rid)
        b = r.snapshot["beneficiaries"][0]["id"]
        d = r.snapshot["dwellings"][0]["id"]
        for who, unit, room, field in (
            ("B-NOTHERE", d, None, "beneficiary_ref"),
            (b, "D-NOTHERE", None, "unit_ref"),
            (b, d, "R-NOTHERE", "room_ref"),
        ):
            with pytest.raises(RoundInputError) as got:
                decide(s, ACTOR, rid, who, unit, DecisionKind.lock, room)
            assert got.value.field == field and str(got.value).startswith(f"{field}: ")
        with pytest.raises(RoundStateError, match="solve it before sending offers"):
            send_offers(s, ACTOR, rid)
        with pytest.raises(NotFoundError) as missing:
            record_answer(s, ACTOR, 10**6, OfferStatus.accepted)
        assert (missing.value.entity, missing.value.ref) == ("offer", str(10**6))
        with pytest.raises(NotFoundError):
            send_offers(s, ACTOR, 10**6)
    with pytest.raises(RoundInputError) as unnamed, Session(engine) as s:
        open_round(s, ACTOR, name="  ", on=ON)
    assert unnamed.value.field == "name"


def test_a_lock_that_breaks_a_rule_gives_an_infeasible_round_with_the_conflict(
    engine: Engine,
) -> None:
    with Session(engine) as s:
        foggia_round_data(s)
    rid = open_one(engine)
    with Session(engine) as s:
        r = s.get(Round, rid)
        far = s.exec(select(Beneficiary).where(Beneficiary.given_name == "Given6")).one().ref
        decide(s, ACTOR, rid, far, r.snapshot["dwellings"][0]["id"], DecisionKind.lock)
        s.commit()
    r = solved(engine, rid)
    assert r.result["status"] == "INFEASIBLE"
    with Session(engine) as s:
        assert current(s, rid) == {}
        view = round_view(s, rid)
        assert far in {u.beneficiary_ref for u in view.unplaced}
