"""The priority policy audited on the waiting list: each component's points across groups,
a component that ranks a whole group down flagged, small groups and counts never shown."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from agency.db import dispose_engines
from agency.models import Office
from agency.priority import PriorityPolicy
from agency.priority_audit import priority_audit
from housing.cli import app
from tests.agency.factories import household, office

ON = date(2026, 9, 1)


def waiting_list(engine: Engine) -> None:
    """Six single men, six families with minors (women at their head), two victims of
    exploitation among the single men (fewer than 5), one household in another office."""
    with Session(engine) as s:
        fg = office(s)
        le = office(s, "LE", "Lecce")
        for n in range(6):
            tags = ["exploitation_victim"] if n < 2 else []
            household(s, fg, n, tags=tags, nationality="SN" if n % 2 else "ML")
        for n in range(6, 12):
            household(s, fg, n, gender="F", adults=2, minors=2, nationality="MA")
        household(s, le, 99, nationality="IN")
        s.commit()


def test_a_component_that_ranks_a_whole_group_down_is_flagged(engine: Engine) -> None:
    waiting_list(engine)
    with Session(engine) as s:
        fg = s.exec(select(Office).where(Office.code == "FG")).one()
        found = priority_audit(s, fg.id, PriorityPolicy(), ON).to_dict()
    assert found["households"] == 12
    groups = {(g["dimension"], g["group"]): g for g in found["groups"]}
    single = groups["household", "single_adult"]
    families = groups["household", "family_with_minors"]
    assert single["households"] == 6 and families["households"] == 6
    # the minors' points: 2 for every family, none for a single adult
    assert families["components"]["minors"] == {"mean_points": 2.0, "share": 1.0, "households": 6}
    assert single["components"]["minors"] == {"mean_points": 0.0, "share": 0.0, "households": 0}
    assert single["flagged"] == ["minors"]
    # and the victims' points are all single men's: the families get none
    assert families["flagged"] == ["exploitation_victim"]
    flag = next(f for f in found["flags"] if f["group"] == "single_adult")
    assert flag == {
        "dimension": "household",
        "group": "single_adult",
        "component": "minors",
        "ratio_to_best": 0.0,
        "never": True,
    }
    # the families' mean priority: base 1, minors 2, one waiting period (registered 1 June)
    assert families["mean_priority"] == 4.0
    # two victims: a count under 5, no share nor mean; their group is not shown at all
    assert single["components"]["exploitation_victim"]["households"] == "<5"
    assert single["components"]["exploitation_victim"]["mean_points"] is None
    victims = groups["tag", "exploitation_victim"]
    assert victims["households"] == "<5" and victims["mean_priority"] is None
    assert all(v["households"] is None for v in victims["components"].values())
    # the other office's household is not on this list
    assert ("nationality", "IN") not in groups
    assert found["policy"]["per_minor"] == 1


def test_the_command_prints_the_audit(engine: Engine, tmp_path: Path) -> None:
    waiting_list(engine)
    url = engine.url.render_as_string(hide_password=False)
    policy = tmp_path / "p.toml"
    policy.write_text("base = 1\n[components]\nper_minor = 0\n", encoding="utf-8")
    try:
        runner = CliRunner()
        res = runner.invoke(app, ["priority", "audit", "--db", url, "--on", "2026-09-01"])
        assert res.exit_code == 0, res.output
        assert "household: single_adult" in res.output
        assert "flagged: minors ranks household single_adult down" in res.output
        # the same list under a policy without points for minors: nothing flagged for them
        res = runner.invoke(
            app, ["priority", "audit", "--db", url, "--policy", str(policy), "--json"]
        )
        assert res.exit_code == 0, res.output
        assert '"component": "minors"' not in res.output
        bad = tmp_path / "bad.toml"
        bad.write_text("[components]\nper_kid = 1\n", encoding="utf-8")
        res = runner.invoke(app, ["priority", "audit", "--db", url, "--policy", str(bad)])
        assert res.exit_code == 2 and "per_kid" in res.output
    finally:
        dispose_engines()


@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_page_in_both_languages(engine: Engine, lang: str) -> None:
    from fastapi.testclient import TestClient

    from agency import records
    from agency.audit import Actor
    from agency.models import Role
    from api.main import create_app
    from api.security import issue
    from api.settings import Settings

    waiting_list(engine)
    with Session(engine) as s:
        pia = records.create_user(
            s, Actor("t"), "pia", "Pia", "a long secret passphrase", Role.planner, None
        )
        token = issue(s, pia, Settings()).token
        s.commit()
    c = TestClient(create_app(Settings(), engine), follow_redirects=False)
    c.cookies.set("housing_session", token)
    res = c.get(f"/priority?lang={lang}")
    assert res.status_code == 200, res.text
    body = res.text
    assert (
        "Verifica della politica di priorità" if lang == "it" else "Priority policy audit"
    ) in body
    assert 'data-component="minors"' in body and "&lt;5" in body
    assert "Given1" not in body and "Family1" not in body
