"""Avoid zones and victim tags: sealed at rest, used by the engine, and never reaching a
planner, a log, an error body or a report."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency import protected
from agency.db import downgrade, upgrade
from agency.models import Beneficiary, Round
from agency.rounds import instance_for, open_round, solve_round
from agency.snapshot import snapshot_instance
from matching.result import result_from_dict
from matching.validate import validate
from tests.agency.factories import ACTOR, dwelling, fund, household, office

ON = date(2026, 7, 1)
# the exploiter's farm, close to the only dwelling: the household must not be housed there
ZONE = {"lat": 41.4611, "lon": 15.5432, "radius_km": 5.0}
SECRETS = ("exploitation_victim", "41.4611", "15.5432")


def _data(s: Session) -> int:
    off = office(s)
    household(s, off, 1, tags=["exploitation_victim", "health"], avoid_zones=[ZONE])
    household(s, off, 2)
    dwelling(s, off)
    fund(s, "regional", 1_000_000)
    fund(s, "victims", 300_000, ("exploitation_victim",))
    s.commit()
    assert off.id is not None
    return off.id


def _raw(engine: Engine, sql: str) -> str:
    with engine.connect() as conn:
        return json.dumps([list(map(str, row)) for row in conn.execute(sa.text(sql))])


def test_sealed_at_rest_and_in_the_rounds_snapshot(engine: Engine) -> None:
    with Session(engine) as s:
        office_id = _data(s)
        r = open_round(s, ACTOR, name="July", office_id=office_id, on=ON, time_limit_s=10)
        s.commit()
        rid = r.id
        assert rid is not None
    stored = _raw(engine, "SELECT tags, avoid_zones, priority_breakdown FROM beneficiary")
    with engine.connect() as conn:  # a fund's eligible tags are no one's: its households
        snap = conn.execute(sa.text("SELECT snapshot FROM allocation_round")).scalar_one()
    stored += json.dumps((json.loads(snap) if isinstance(snap, str) else snap)["beneficiaries"])
    for secret in SECRETS:
        assert secret not in stored
    with Session(engine) as s:
        b = s.exec(select(Beneficiary).where(Beneficiary.given_name == "Given1")).one()
        assert b.tags == ["exploitation_victim", "health"] and b.avoid_zones == [ZONE]
        # the round's instance, built in memory, has them
        inst = instance_for(s, s.get_one(Round, rid))
        (victim,) = [x for x in inst.beneficiaries if x.id == b.ref]
        assert victim.tags == ("exploitation_victim", "health") and len(victim.avoid) == 1


def test_nothing_reaches_a_planner_or_a_log(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with Session(engine) as s:
        office_id = _data(s)
        r = open_round(s, ACTOR, name="July", office_id=office_id, on=ON, time_limit_s=10)
        s.commit()
        rid = r.id
        assert rid is not None
        ref = s.exec(select(Beneficiary.ref).where(Beneficiary.given_name == "Given1")).one()
    with caplog.at_level(logging.DEBUG):
        solve_round(engine, ACTOR, rid)
    with Session(engine) as s:
        r = s.get_one(Round, rid)
        assert r.result is not None
        inst = instance_for(s, r)
        result = result_from_dict(r.result)
        assert validate(inst, result) == []
        # kept out only by its zone: the reason is `safety`, and nothing more
        (left,) = [u for u in result.unassigned if u.beneficiary == ref]
        assert (left.reasons, dict(left.details)) == (("safety",), {})
    text = caplog.text + json.dumps(r.result)
    for secret in SECRETS:
        assert secret not in text
    # the planners' snapshot has neither the zone nor the victim tag
    planners = snapshot_instance(engine)
    assert all(not b.avoid for b in planners.beneficiaries)
    assert all("exploitation_victim" not in b.tags for b in planners.beneficiaries)
    assert any("health" in b.tags for b in planners.beneficiaries)


def test_without_the_key_nothing_is_read_or_written_in_clear(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(engine) as s:
        _data(s)
    monkeypatch.delenv(protected.KEY_ENV)
    monkeypatch.delenv(protected.KEY_FILE_ENV, raising=False)
    with Session(engine) as s, pytest.raises(protected.DataKeyError, match="housing keygen"):
        s.exec(select(Beneficiary)).all()
    monkeypatch.setenv(protected.KEY_ENV, protected.new_key())
    with Session(engine) as s, pytest.raises(protected.DataKeyError, match="another key"):
        s.exec(select(Beneficiary)).all()


def test_the_migration_seals_what_was_stored_in_clear_and_opens_it_going_down(
    engine: Engine,
) -> None:
    with Session(engine) as s:
        _data(s)
    downgrade(engine, "0003")
    clear = _raw(engine, "SELECT tags FROM beneficiary")
    assert "exploitation_victim" in clear
    upgrade(engine)
    assert "exploitation_victim" not in _raw(engine, "SELECT tags FROM beneficiary")
    with Session(engine) as s:
        tags = s.exec(select(Beneficiary.tags).where(Beneficiary.given_name == "Given1")).one()
        assert tags == ["exploitation_victim", "health"]
