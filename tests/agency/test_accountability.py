"""Every solve of a round is kept with its instance's hash, the engine's parameters and the
round's audit; its instance rebuilds exactly, and a replay gives the same allocation."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency import accountability
from agency.errors import NotFoundError
from agency.models import DecisionKind, Dwelling, Round, RoundSolve
from agency.rounds import decide, instance_for, open_round, solve_round
from matching.result import result_from_dict
from matching.validate import validate
from tests.agency.factories import ACTOR, dwelling, fund, household, office

ON = date(2026, 7, 1)


def contested(engine: Engine) -> tuple[int, str, str, str]:
    """One dwelling, two households: a single victim of exploitation (priority 8, weight
    8) and a family of four (priority 3, weight 12). The family gets the home: an
    inversion of priority that stands on the weight it would lose."""
    with Session(engine) as s:
        off = office(s)
        victim = household(
            s,
            off,
            1,
            tags=["exploitation_victim"],
            informal_settlement="Borgo Mezzanone",
            nationality="NG",
        )
        family = household(s, off, 2, adults=2, minors=2, income_cents=110000, nationality="MA")
        home = dwelling(s, off, area_m2=75, bedrooms=3, rent_cents=45000)
        fund(s, "regional", 1_000_000)
        s.commit()
        refs = (victim.ref, family.ref, home.ref)
        r = open_round(s, ACTOR, name="contested", on=ON, time_limit_s=10, seed=3)
        s.commit()
        assert r.id is not None
        return r.id, *refs


def test_each_solve_is_kept_with_its_hash_params_and_audit(engine: Engine) -> None:
    rid, victim, family, home = contested(engine)
    solve_round(engine, ACTOR, rid)
    with Session(engine) as s:
        r = s.get(Round, rid)
        assert r is not None and r.result is not None
        inst = instance_for(s, r)
        assert validate(inst, result_from_dict(r.result)) == []
        (kept,) = s.exec(select(RoundSolve).where(RoundSolve.round_id == rid)).all()
        assert kept.iteration == 1
        assert kept.instance_sha256 == accountability.instance_sha256(inst)
        assert kept.params["seed"] == 3 and kept.params["time_limit"] == 10
        assert kept.params["workers"] >= 1
        assert kept.engine["name"] and kept.engine["ortools"]
        assert kept.status == "OPTIMAL"
        assert [st["status"] for st in kept.stages] == ["OPTIMAL"] * len(kept.stages)
        assert kept.result_sha256 == accountability.result_sha256(result_from_dict(r.result))
        assert kept.audit is not None and kept.audit_seconds is not None
        # the family holds the home; the victim, of higher priority, is left out
        (inv,) = kept.audit["inversions"]
        assert (inv["left"], inv["holder"], inv["unit"]) == (victim, family, home)
        assert inv["left_unit"] is None and inv["why"] == "weight" and inv["lost"] == 4
        assert kept.audit["inversion_counts"]["left_out"] == {"weight": 1}
        groups = {(g["dimension"], g["group"]): g for g in kept.audit["groups"]}
        # two households: every count is "<5", no rate, nobody recognisable
        assert groups["nationality", "NG"]["waiting"] == "<5"
        assert groups["household", "family_with_minors"]["placed"] == "<5"
        assert groups["tag", "exploitation_victim"]["rate"] is None
        # the instance rebuilds exactly from the record
        assert accountability.solved_instance(r, kept) == inst


def test_a_locked_swap_is_a_new_solve_and_the_first_still_rebuilds(engine: Engine) -> None:
    rid, victim, _family, home = contested(engine)
    solve_round(engine, ACTOR, rid)
    with Session(engine) as s:
        decide(s, ACTOR, rid, victim, home, DecisionKind.lock)
        s.commit()
    solve_round(engine, ACTOR, rid)
    with Session(engine) as s:
        r = s.get(Round, rid)
        assert r is not None
        first, second = accountability.solves(s, rid)
        assert second.inputs["pinned"] == [{"beneficiary": victim, "unit": home}]
        assert first.inputs["pinned"] == []
        assert first.instance_sha256 != second.instance_sha256
        assert second.audit is not None and second.audit["inversions"] == []
        # the first solve's instance is still the one it solved, though a lock came since
        again = accountability.replay(s, r, 1)
        assert again.identical, again.why
        assert again.iteration == 1 and again.stored == again.replayed
        latest = accountability.replay(s, r)
        assert latest.identical and latest.iteration == 2


def test_a_tampered_instance_is_refused(engine: Engine) -> None:
    rid, *_ = contested(engine)
    solve_round(engine, ACTOR, rid)
    with Session(engine) as s:
        r = s.get(Round, rid)
        assert r is not None
        kept = accountability.solve_of(s, r)
        kept.inputs = {"excluded": [r.snapshot["beneficiaries"][0]["id"]]}
        with pytest.raises(accountability.ReplayError, match="hashes to"):
            accountability.solved_instance(r, kept)
        with pytest.raises(NotFoundError):
            accountability.solve_of(s, r, 7)
        assert s.exec(select(Dwelling)).first() is not None


def test_a_replay_that_differs_says_which_stage_a_time_limit_cut(engine: Engine) -> None:
    rid, *_ = contested(engine)
    solve_round(engine, ACTOR, rid)
    with Session(engine) as s:
        r = s.get(Round, rid)
        assert r is not None
        kept = accountability.solve_of(s, r)
        # as if the stored solve's first stage had stopped at its time limit
        kept.stages = [{**kept.stages[0], "status": "FEASIBLE"}, *kept.stages[1:]]
        kept.result_sha256 = "0" * 64
        found = accountability.replay(s, r)
        assert not found.identical
        assert found.why == ["time limit cut the stored solve's stage(s): weight"]
        assert found.to_dict()["replayed_stages"][0]["status"] == "OPTIMAL"
        s.rollback()
