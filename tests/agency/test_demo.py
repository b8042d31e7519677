"""The demo runs the July round end to end on the embedded database and leaves the August
round open, with households waiting and money in the funds (``make demo`` runs the same),
and its records and numbers are the same on every run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from agency.db import dispose_engines, get_engine
from agency.ledger import balances
from agency.models import Beneficiary, Lease, Offer, OfferStatus, Round, RoundStatus
from agency.rounds import instance_for
from housing.cli_agency import DEMO_ANSWERS, demo
from matching.result import result_from_dict
from matching.validate import validate


def _state(path: Path) -> tuple[list[tuple[str, str, int]], list[str], dict[int, int], str]:
    engine = get_engine(f"sqlite:///{path}")
    with Session(engine) as s:
        rounds = [
            (r.ref, str(r.status), r.solve_count)
            for r in s.exec(select(Round).order_by(col(Round.id)))
        ]
        leases = [lease.ref for lease in s.exec(select(Lease).order_by(col(Lease.id)))]
        people = ",".join(b.ref for b in s.exec(select(Beneficiary).order_by(col(Beneficiary.id))))
        return rounds, leases, balances(s), people


@pytest.mark.slow
def test_demo_round_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demo.sqlite3"
    try:
        demo(path, time_limit=15)
        out = capsys.readouterr().out
        engine = get_engine(f"sqlite:///{path}")
        with Session(engine) as s:
            july, august = s.exec(select(Round).order_by(col(Round.id))).all()
            assert july.status == RoundStatus.closed and july.solve_count == 2
            assert july.result is not None
            assert validate(instance_for(s, july), result_from_dict(july.result)) == []
            answers = [o.status for o in s.exec(select(Offer).order_by(col(Offer.id)))]
            assert answers[:3] == [a for a, _ in DEMO_ANSWERS]
            leases = s.exec(select(Lease)).all()
            assert len(leases) == answers.count(OfferStatus.accepted) > 40
            assert all(v >= 0 for v in balances(s).values())
            # August: an open round to work, with households waiting and money to pay
            assert august.status == RoundStatus.open and august.office_id is not None
            assert len(august.snapshot["beneficiaries"]) >= 10
            assert len(august.snapshot["dwellings"]) >= 3
            assert sum(f["budget_cents"] for f in august.snapshot["funds"]) > 300_000
        assert "closed:" in out and "Left out, and why" in out
        assert "What happened" in out and "housing serve --db sqlite:///" in out
        assert "--office FG" in out and august.ref in out
        first = _state(path)
        dispose_engines()
        demo(path, time_limit=15)  # again: the same refs, leases and money
        assert _state(path) == first
    finally:
        dispose_engines()


@pytest.mark.slow
def test_replay_reproduces_the_demo_round_exactly(tmp_path: Path) -> None:
    """Both solves of the demo's July round (the second after refusals, with accepted
    offers pinned), solved again from their records by ``housing round replay``."""
    from typer.testing import CliRunner

    from housing.cli import app

    path = tmp_path / "demo.sqlite3"
    try:
        demo(path, time_limit=15)
        with Session(get_engine(f"sqlite:///{path}")) as s:
            july = s.exec(select(Round).order_by(col(Round.id))).first()
            assert july is not None and july.solve_count == 2
        for solve in ("1", "2"):
            res = CliRunner().invoke(
                app, ["round", "replay", july.ref, "--solve", solve, "--db", f"sqlite:///{path}"]
            )
            assert res.exit_code == 0, res.output
            assert f"solve {solve}" in res.output and "identical" in res.output
        res = CliRunner().invoke(app, ["round", "show", july.ref, "--db", f"sqlite:///{path}"])
        assert res.exit_code == 0, res.output
        # the second solve's audit: the accepted offers pinned keep the inversions there
        assert "Audit" in res.output and "placed worse: pinned" in res.output
    finally:
        dispose_engines()
