"""Issue 17 on the command line: ``--db`` takes a path everywhere; users; retention."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from housing.cli import app

runner = CliRunner()
TEMPLATES = Path(__file__).resolve().parents[1] / "agency" / "data" / "templates"


def ok(*args: str, input: str | None = None) -> str:
    res = runner.invoke(app, list(args), input=input)
    assert res.exit_code == 0, res.output
    return res.output


def test_db_takes_a_path_as_demo_does(tmp_path: Path) -> None:
    """Item 19: ``housing import ... --db PATH`` works like ``housing demo --db PATH``."""
    db = str(tmp_path / "agency.sqlite3")
    ok("office", "add", "FG", "Foggia", "--db", db)
    out = ok("import", "beneficiaries", str(TEMPLATES / "beneficiaries.csv"), "--db", db)
    assert "imported" in out
    assert "schema" in ok("db", "status", "--db", db)
