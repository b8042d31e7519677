"""``housing db``, ``housing import`` and ``housing round`` through the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from agency.db import dispose_engines, get_engine
from agency.models import Lease, Offer, Round, RoundStatus
from housing.cli import app
from tests.agency.factories import foggia_round_data

TEMPLATES = Path(__file__).resolve().parents[2] / "agency" / "data" / "templates"
runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    u = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", u)
    monkeypatch.setenv("HOUSING_OPERATOR", "tester")
    yield u
    dispose_engines()


def ok(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def test_db_upgrade_and_status(url: str) -> None:
    from agency.db import head_revision, make_engine

    head = head_revision(make_engine(url))
    assert f"schema at {head} (was empty)" in ok("db", "upgrade")
    assert f"schema {head} (code needs {head})" in ok("db", "status")


def test_a_bad_import_lists_its_errors_and_exits_1(url: str, tmp_path: Path) -> None:
    with Session(get_engine()) as s:
        foggia_round_data(s)
    bad = tmp_path / "d.csv"
    bad.write_text((TEMPLATES / "dwellings.csv").read_text().replace('"420,00"', "lots"))
    res = runner.invoke(app, ["import", "dwellings", str(bad)])
    assert res.exit_code == 1
    assert "row 2, column rent_eur: must be a number, got 'lots'" in res.output
    assert "nothing imported" in res.output
    assert "2 dwellings imported" in ok("import", "dwellings", str(TEMPLATES / "dwellings.csv"))


def test_a_round_through_the_command_line(url: str, tmp_path: Path) -> None:
    with Session(get_engine()) as s:
        foggia_round_data(s)
    assert "households" in ok(
        "round", "open", "Foggia July", "--office", "FG", "--on", "2026-07-01", "--time-limit", "10"
    )
    with Session(get_engine()) as s:
        ref = s.exec(select(Round)).one().ref
    out = ok("round", "solve", ref)
    assert "Proposals" in out and "Left out, and why" in out
    assert "offers sent" in ok("round", "offers", ref)
    with Session(get_engine()) as s:
        offers = [o.id for o in s.exec(select(Offer).order_by(col(Offer.id)))]
    res = runner.invoke(app, ["round", "record", str(offers[0]), "refused_household"])
    assert res.exit_code == 1 and "reason" in res.output
    ok("round", "record", str(offers[0]), "refused_household", "--reason", "too far")
    for o in offers[1:]:
        ok("round", "record", str(o), "accepted")
    ok("round", "solve", ref)
    ok("round", "offers", ref)
    with Session(get_engine()) as s:
        for o in s.exec(select(Offer).where(Offer.status == "pending")):
            ok("round", "record", str(o.id), "accepted")
    assert "closed" in ok("round", "close", ref)
    ok("round", "export", ref, "-o", str(tmp_path / "p.csv"))
    assert (
        (tmp_path / "p.csv").read_text(encoding="utf-8-sig").startswith("round;beneficiary")
    )  # for Italian office software: ';' between cells
    with Session(get_engine()) as s:
        assert s.exec(select(Round)).one().status == RoundStatus.closed
        assert s.exec(select(Lease)).all()
    res = runner.invoke(app, ["round", "close", ref])
    assert res.exit_code == 1 and "closed" in res.output
    res = runner.invoke(app, ["round", "show", "RND-NOPE"])
    assert res.exit_code == 2 and "no such round" in res.output


def test_a_seasonal_round_opens_from_the_command_line(url: str) -> None:
    with Session(get_engine()) as s:
        foggia_round_data(s)
    ok("round", "open", "Estate", "--office", "FG", "--on", "2026-07-01", "--horizon", "2027-06")
    with Session(get_engine()) as s:
        snap = s.exec(select(Round)).one().snapshot
    assert snap["format"] == "housing-match/instance@2"
    assert snap["policy"]["horizon"] == {"start": "2027-06", "months": 12}
    res = runner.invoke(app, ["round", "open", "Bad", "--horizon", "2027-13"])
    assert res.exit_code == 2 and "horizon_start" in res.output
