"""Closing rounds at the same moment, and a process killed while closing one.

Two rounds opened on the same records propose the same units; whichever closes first wins
and the other is refused whole, with its conflicts named. Funds are never overspent, units
never let twice, and a kill in the middle of a close leaves nothing half-written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from agency import round_scope
from agency.faults import EXIT_STATUS
from agency.ledger import balances
from agency.models import Lease, LedgerEntry, OfferStatus, Office, Room, Round, RoundStatus
from agency.rounds import (
    CloseReport,
    RoundConflict,
    close_round,
    open_round,
    record_answer,
    send_offers,
)
from tests.agency.factories import ACTOR, dwelling, foggia_round_data, fund, household, office
from tests.agency.test_rounds import solved

ON = date(2026, 7, 1)


def _open(engine: Engine, name: str, office_id: int | None = None) -> int:
    with Session(engine) as s:
        r = open_round(s, ACTOR, name=name, office_id=office_id, on=ON, time_limit_s=10)
        s.commit()
        assert r.id is not None
        return r.id


def _accept_all(engine: Engine, rid: int) -> int:
    solved(engine, rid)
    with Session(engine) as s:
        for o in send_offers(s, ACTOR, rid):
            record_answer(s, ACTOR, o.id, OfferStatus.accepted)
        s.commit()
    return rid


def _close_together(engine: Engine, rids: list[int]) -> dict[int, CloseReport | RoundConflict]:
    barrier = threading.Barrier(len(rids))
    out: dict[int, CloseReport | RoundConflict] = {}
    errors: list[BaseException] = []

    def run(rid: int) -> None:
        barrier.wait()
        try:
            out[rid] = close_round(engine, ACTOR, rid, on=ON)
        except RoundConflict as exc:
            out[rid] = exc
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(rid,)) for rid in rids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return out


def _assert_consistent(s: Session) -> None:
    active = s.exec(select(Lease).where(col(Lease.ended_on).is_(None))).all()
    dwellings = Counter(lease.dwelling_id for lease in active if lease.dwelling_id)
    assert all(n == 1 for n in dwellings.values()), "a dwelling let twice"
    people = Counter(lease.beneficiary_id for lease in active)
    assert all(n == 1 for n in people.values()), "a household housed twice"
    beds = {room.id: room.beds for room in s.exec(select(Room))}
    per_room = Counter(lease.room_id for lease in active if lease.room_id)
    assert all(n <= beds[rid] for rid, n in per_room.items()), "a room over its beds"
    assert all(v >= 0 for v in balances(s).values()), "a fund overspent"
    # every lease with a contribution has exactly its commitment in the ledger
    for lease in active:
        entries = s.exec(select(LedgerEntry).where(LedgerEntry.lease_id == lease.id)).all()
        expected = lease.contribution_cents * lease.months
        assert sum(-e.amount_cents for e in entries) == expected


def test_two_rounds_on_the_same_units_closing_at_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(engine) as s:
        foggia_round_data(s)
    # Opening a second round over the same households is refused now (issue 17); rounds
    # opened before that rule, still in a database, must close safely all the same.
    monkeypatch.setattr(round_scope, "overlap", lambda session, office_id: {})
    a, b = _open(engine, "morning"), _open(engine, "afternoon")  # the same snapshot
    _accept_all(engine, a)
    _accept_all(engine, b)
    out = _close_together(engine, [a, b])
    winners = [rid for rid, v in out.items() if isinstance(v, CloseReport)]
    losers = [rid for rid, v in out.items() if isinstance(v, RoundConflict)]
    assert len(winners) == 1 and len(losers) == 1
    conflict = out[losers[0]]
    assert isinstance(conflict, RoundConflict)
    assert any(
        "no longer available" in c or "already holds a lease" in c for c in conflict.conflicts
    )
    with Session(engine) as s:
        _assert_consistent(s)
        assert s.get(Round, winners[0]).status == RoundStatus.closed
        loser = s.get(Round, losers[0])
        assert loser.status == RoundStatus.offers  # untouched, can be re-solved
        assert s.exec(select(Lease).where(Lease.round_id == losers[0])).all() == []


def test_two_offices_sharing_a_fund_that_pays_for_one_round_only(engine: Engine) -> None:
    with Session(engine) as s:
        for code in ("FG", "SS"):
            off = office(s, code, code)
            household(
                s, off, 1, tags=["exploitation_victim"], accepts_bed=False, income_cents=70000
            )
            dwelling(s, off, rent_cents=45000)  # contribution 24,000 a month
        fund(s, "victims", 24000 * 12 + 5000, ("exploitation_victim",))
        s.commit()
        ids = [o.id for o in s.exec(select(Office).order_by(col(Office.code)))]
    rids = [_open(engine, f"office {oid}", office_id=oid) for oid in ids]
    for rid in rids:
        _accept_all(engine, rid)
    out = _close_together(engine, rids)
    reports = [v for v in out.values() if isinstance(v, CloseReport)]
    conflicts = [v for v in out.values() if isinstance(v, RoundConflict)]
    assert len(reports) == 1 and len(conflicts) == 1
    assert reports[0].committed_cents == {"victims": 24000 * 12}
    assert any(c.startswith("fund victims has 5000 cents") for c in conflicts[0].conflicts)
    with Session(engine) as s:
        _assert_consistent(s)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_a_process_killed_while_closing_leaves_the_round_closable(engine: Engine) -> None:
    with Session(engine) as s:
        foggia_round_data(s)
    rid = _open(engine, "killed")
    _accept_all(engine, rid)
    with Session(engine) as s:
        before_entries = len(s.exec(select(LedgerEntry)).all())
    engine.dispose()
    code = (
        "import sys; from agency.db import make_engine; from agency.rounds import close_round;"
        "from tests.agency.factories import ACTOR;"
        f"close_round(make_engine(sys.argv[1]), ACTOR, {rid})"
    )
    root = Path(__file__).resolve().parents[2]
    for point in ("close:after-first-lease", "close:before-commit"):
        env = {**os.environ, "HOUSING_FAULT": point, "PYTHONPATH": str(root)}
        proc = subprocess.run(
            [sys.executable, "-c", code, _url(engine)],
            env=env,
            cwd=root,
            capture_output=True,
            timeout=120,
        )
        assert proc.returncode == EXIT_STATUS, proc.stderr.decode()[-2000:]
        with Session(engine) as s:
            assert s.get(Round, rid).status == RoundStatus.offers
            assert s.exec(select(Lease)).all() == []
            assert len(s.exec(select(LedgerEntry)).all()) == before_entries
    report = close_round(engine, ACTOR, rid, on=ON)
    assert report.leases > 0
    with Session(engine) as s:
        assert s.get(Round, rid).status == RoundStatus.closed
        _assert_consistent(s)
