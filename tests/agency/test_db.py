"""The schema: Alembic's migrations are the models, and the ledger and audit are append-only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from agency.audit import record
from agency.db import (
    current_revision,
    database_url,
    downgrade,
    ensure_schema,
    head_revision,
    is_sqlite,
    make_engine,
    upgrade,
)
from agency.models import AuditEntry, LedgerEntry
from tests.agency.factories import ACTOR, fund


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, SQLModel.metadata) == []
    assert current_revision(engine) == head_revision(engine)


def test_downgrade_to_nothing_and_back(engine: Engine) -> None:
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert "fund" not in sa.inspect(engine).get_table_names()
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET amount_cents = 999999999",
        "DELETE FROM ledger_entry",
        "UPDATE audit_entry SET actor = 'someone else'",
        "DELETE FROM audit_entry",
    ],
)
def test_ledger_and_audit_are_append_only(engine: Engine, statement: str) -> None:
    with Session(engine) as s:
        fund(s, "regional", 100_000)
        record(s, ACTOR, "test", "fund", "regional")
        s.commit()
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql(statement)
    with Session(engine) as s:
        assert [e.amount_cents for e in s.exec(select(LedgerEntry))] == [100_000]
        assert len(s.exec(select(AuditEntry)).all()) >= 2


def test_an_embedded_database_is_created_and_migrated_on_first_use(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'agency.sqlite3'}")
    assert current_revision(engine) is None
    ensure_schema(engine)
    assert current_revision(engine) == head_revision(engine)
    assert is_sqlite(engine)


def test_database_url() -> None:
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_the_ledger_holds_large_programmes(engine: Engine) -> None:
    """Regression: amounts were 32-bit on PostgreSQL, capping a grant at €21.4 M."""
    with Session(engine) as s:
        fund(s, "regional", 60_000_000_00)  # €60 M
        s.commit()
        assert s.exec(select(LedgerEntry.amount_cents)).one() == 60_000_000_00
