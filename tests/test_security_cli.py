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


def test_retention_pseudonymises_old_closed_cases(tmp_path: Path) -> None:
    """Item 8: ``housing retention run`` erases closed cases older than the period,
    keeps the others, and is audited."""
    from datetime import timedelta

    from sqlmodel import Session, select

    from agency.db import make_engine
    from agency.models import AuditEntry, Beneficiary, BeneficiaryStatus, utcnow

    db = str(tmp_path / "agency.sqlite3")
    ok("office", "add", "FG", "Foggia", "--db", db)
    ok("import", "beneficiaries", str(TEMPLATES / "beneficiaries.csv"), "--db", db)
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        people = list(s.exec(select(Beneficiary).order_by(Beneficiary.id)))
        old, recent = people[0], people[1]
        for b, age in ((old, 400), (recent, 10)):
            b.status = BeneficiaryStatus.closed
            b.updated_at = utcnow() - timedelta(days=age)
            s.add(b)
        s.commit()
        old_ref, old_name, recent_ref = old.ref, old.family_name, recent.ref
    dry = ok("retention", "run", "--days", "365", "--dry-run", "--db", db)
    assert "would pseudonymise 1" in dry
    out = ok("retention", "run", "--days", "365", "--db", db)
    assert "pseudonymised 1 closed cases" in out
    with Session(engine) as s:
        erased = s.exec(select(Beneficiary).where(Beneficiary.ref == old_ref)).one()
        kept = s.exec(select(Beneficiary).where(Beneficiary.ref == recent_ref)).one()
        assert erased.pseudonymised_at is not None and erased.family_name != old_name
        assert kept.pseudonymised_at is None
        runs = s.exec(select(AuditEntry).where(AuditEntry.action == "retention.run")).all()
        assert len(runs) == 2
    export = tmp_path / "subject.json"
    ok("subject", "export", recent_ref, "-o", str(export), "--db", db)
    assert recent_ref in export.read_text()
    engine.dispose()
