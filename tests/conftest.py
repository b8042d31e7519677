"""Shared fixtures: a freshly migrated database on SQLite, and on PostgreSQL too when
``TEST_DATABASE_URL`` is set (CI sets it to the PostgreSQL of the machine).

Each test that asks for ``engine`` gets its own empty database at the code's schema
revision: a copy of a SQLite file migrated once per run, or a PostgreSQL schema of its own
(dropped afterwards). Tests may commit freely, so the same fixture serves concurrency tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from agency.db import database_url, make_engine, upgrade
from agency.protected import KEY_ENV

# The protected data's key (a test key, never a real one): the suite reads and writes them.
os.environ.setdefault(KEY_ENV, "wos8sTO1D8gQnBITLAH3TIzEUIxR1KgWeXKQkC-1jRA=")


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def postgres_engine(schema: str) -> Engine:
    """An engine on ``TEST_DATABASE_URL`` whose connections use ``schema``."""
    url = sa.make_url(database_url(os.environ["TEST_DATABASE_URL"]))
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return make_engine(url.render_as_string(hide_password=False))


@contextmanager
def postgres_schema(prefix: str, *, migrate: bool) -> Iterator[Engine]:
    """An engine on a new schema of ``TEST_DATABASE_URL`` (migrated to head when
    ``migrate``), dropped with everything in it afterwards."""
    schema = prefix + uuid.uuid4().hex[:12]
    admin = make_engine(os.environ["TEST_DATABASE_URL"])
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    eng = postgres_engine(schema)
    try:
        if migrate:
            upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=_backends())
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path
) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path / "agency.sqlite3"
        shutil.copyfile(_sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    with postgres_schema("t_", migrate=True) as eng:
        yield eng


@pytest.fixture(params=_backends())
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no schema at all (a new SQLite file, or a new
    PostgreSQL schema): where restores go, and releases' databases are loaded."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'empty' / 'agency.sqlite3'}")
        yield eng
        eng.dispose()
        return
    with postgres_schema("e_", migrate=False) as eng:
        yield eng
