"""The demo runs a whole round on the embedded database (``make demo`` runs the same)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from agency.db import dispose_engines, get_engine
from agency.ledger import balances
from agency.models import Lease, Offer, OfferStatus, Round, RoundStatus
from agency.rounds import instance_for
from housing.cli_agency import DEMO_ANSWERS, demo
from matching.result import result_from_dict
from matching.validate import validate


@pytest.mark.slow
def test_demo_round_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demo.sqlite3"
    try:
        demo(path, time_limit=15)
        out = capsys.readouterr().out
        engine = get_engine(f"sqlite:///{path}")
        with Session(engine) as s:
            r = s.exec(select(Round)).one()
            assert r.status == RoundStatus.closed and r.solve_count == 2
            assert r.result is not None
            assert validate(instance_for(s, r), result_from_dict(r.result)) == []
            answers = [o.status for o in s.exec(select(Offer).order_by(Offer.id))]
            assert answers[:3] == [a for a, _ in DEMO_ANSWERS]
            leases = s.exec(select(Lease)).all()
            assert len(leases) == answers.count(OfferStatus.accepted) > 40
            assert all(v >= 0 for v in balances(s).values())
        assert "closed:" in out and "Left out, and why" in out
    finally:
        dispose_engines()
