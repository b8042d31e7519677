"""A landlord's dwelling from proposed to let, with its terms, the one-off and the guarantee,
on every database the suite runs on."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.errors import RecordError
from agency.ledger import balance, exposure_of, guarantee_balance, guarantee_grant, pay_claim
from agency.models import (
    Dwelling,
    GuaranteeEntry,
    Landlord,
    Lease,
    LedgerEntry,
    LedgerKind,
    OfferStatus,
    Round,
    UnitStatus,
)
from agency.records.dwellings import propose_dwelling, set_dwelling_status
from agency.records.landlords import (
    certify,
    make_available,
    record_visit,
    set_terms,
    walk_view,
)
from agency.rounds import (
    close_round,
    instance_for,
    open_round,
    record_answer,
    round_view,
    send_offers,
)
from agency.schemas import CertificateBody, DwellingCreate, DwellingTermCreate, VisitBody
from matching.instance import INSTANCE_FORMAT_V2
from tests.agency.factories import ACTOR, fund, household, office
from tests.agency.test_rounds import solved

ON = date(2026, 7, 1)
MARKET = DwellingTermCreate(label="market", rent_cents=60000)
AGREED = DwellingTermCreate(
    label="agreed", rent_cents=43000, one_off_cents=150_000, guaranteed=True
)


def _proposed(s: Session) -> tuple[int, str]:
    """An office with a household (income 700 €) and a landlord's dwelling, proposed."""
    off = office(s)
    assert off.id is not None
    household(s, off, 1, tags=["exploitation_victim"])
    landlord = Landlord(office_id=off.id, name="Rossi Immobiliare")
    s.add(landlord)
    s.flush()
    d = propose_dwelling(
        s,
        ACTOR,
        off.id,
        DwellingCreate(
            landlord_ref=landlord.ref,
            address="Via Arpi 4",
            municipality="Foggia",
            lat=41.4622,
            lon=15.5446,
            area_m2=70,
            bedrooms=2,
            rent_cents=60000,
        ),
    )
    return off.id, d.ref


def test_a_landlords_dwelling_from_proposed_to_let(engine: Engine) -> None:
    with Session(engine) as s:
        office_id, ref = _proposed(s)
        fund(s, "regional", 1_000_000)
        guarantee_grant(s, ACTOR, 300_000, note="guarantee fund")
        s.commit()
        assert walk_view(s, s.exec(select(Dwelling)).one()).next_step == "visit"
        # steps out of order are refused, naming the stage
        with pytest.raises(RecordError, match=r"proposed.*next step: visit"):
            certify(s, ACTOR, ref, CertificateBody(number="C-1", issued_on=ON, occupants=3))
        with pytest.raises(RecordError, match="step by step"):
            set_dwelling_status(s, ACTOR, ref, UnitStatus.available)
        record_visit(s, ACTOR, ref, VisitBody(visited_on=date(2026, 6, 10)))
        d = certify(
            s,
            ACTOR,
            ref,
            CertificateBody(number="IA-2026/118", issued_on=date(2026, 6, 20), occupants=3),
        )
        assert (d.status, d.max_occupants, d.certificate_occupants) == ("certified", 3, 3)
        set_terms(s, ACTOR, ref, [MARKET, AGREED])
        s.commit()
        # a certified dwelling is not in a round yet
        early = open_round(s, ACTOR, name="too early", office_id=office_id, on=ON)
        assert early.snapshot["dwellings"] == []
        s.rollback()
        make_available(s, ACTOR, ref)
        view = walk_view(s, s.exec(select(Dwelling)).one())
        assert view.next_step is None and [t.label for t in view.terms] == ["agreed", "market"]
        r = open_round(s, ACTOR, name="July", office_id=office_id, on=ON, time_limit_s=10)
        s.commit()
        assert r.id is not None
        rid = r.id
        assert r.snapshot["format"] == INSTANCE_FORMAT_V2
        assert r.snapshot["policy"]["guarantee"] == {"capacity_cents": 300_000, "months": 3}
        (dd,) = r.snapshot["dwellings"]
        assert "rent_cents" not in dd and [t["id"] for t in dd["terms"]] == ["agreed", "market"]
    solved(engine, rid)  # the validator checks the stored result
    with Session(engine) as s:
        # the round page's proposal says the terms and the one-off
        (proposal,) = round_view(s, rid).proposals
        assert (proposal.term, proposal.one_off_cents) == ("agreed", 150_000)
        (offer,) = send_offers(s, ACTOR, rid)
        # at the market rent the household cannot afford it: the agreed terms are chosen
        assert (offer.term, offer.one_off_cents) == ("agreed", 150_000)
        assert offer.contribution_cents == 43000 - 21000
        record_answer(s, ACTOR, offer.id, OfferStatus.accepted)
        s.commit()
        r = s.get(Round, rid)
        assert r is not None
        # a re-solve keeps the agreed terms of the accepted offer
        inst = instance_for(s, r)
        assert [t.id for t in inst.dwellings[0].terms] == ["agreed"]
        fund_id = offer.fund_id
        assert fund_id is not None
        before = balance(s, fund_id)
    report = close_round(engine, ACTOR, rid, on=ON)
    assert report.one_off_cents == 150_000 and report.guarantee_cents == 43000 * 3
    assert report.committed_cents == {"regional": 22000 * 12 + 150_000}
    with Session(engine) as s:
        (lease,) = s.exec(select(Lease)).all()
        assert (lease.term, lease.rent_cents, lease.one_off_cents) == ("agreed", 43000, 150_000)
        assert s.get(Dwelling, lease.dwelling_id).status == UnitStatus.let
        kinds = sorted(
            (e.kind, e.amount_cents)
            for e in s.exec(select(LedgerEntry).where(LedgerEntry.lease_id == lease.id))
        )
        assert kinds == [(LedgerKind.commitment, -22000 * 12), (LedgerKind.one_off, -150_000)]
        assert balance(s, fund_id) == before - 22000 * 12 - 150_000
        assert lease.id is not None
        assert exposure_of(s, lease.id) == 129_000
        assert guarantee_balance(s) == 300_000 - 129_000
        # a claim of arrears: paid, the exposure shrinks by it, what is left stays
        pay_claim(s, ACTOR, lease.id, 43000, note="one month of arrears")
        assert exposure_of(s, lease.id) == 86_000
        assert guarantee_balance(s) == 300_000 - 129_000
        with pytest.raises(ValueError, match="exceeds"):
            pay_claim(s, ACTOR, lease.id, 90_000)
        s.commit()
        assert len(s.exec(select(GuaranteeEntry)).all()) == 4
        # a let dwelling keeps its terms
        with pytest.raises(RecordError, match="terms"):
            set_terms(s, ACTOR, ref, [MARKET])
