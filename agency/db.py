"""Engines, sessions and the schema's migrations.

SQLite is the embedded default (a file created and migrated on first use); PostgreSQL is
reached through ``DATABASE_URL`` with psycopg 3. Alembic owns the schema on both.

Writes that must not race (closing a round, moving money) take a *write session*
(:func:`write_session`): on SQLite it opens the transaction with ``BEGIN IMMEDIATE``, so
writers queue on the database lock instead of failing half-way; on PostgreSQL the same code
takes row locks (``SELECT ... FOR UPDATE``) in a fixed order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agency import protected

DEFAULT_SQLITE_PATH = Path("var") / "housing.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaError(RuntimeError):
    """The database's schema is not the one this version of the code needs."""


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``DATABASE_URL``, else the embedded SQLite file.

    A plain path (``out/agency.sqlite3``, no ``scheme://``) is an embedded SQLite file, as
    ``housing demo --db PATH`` takes it; ``postgresql://`` and ``postgres://`` URLs are
    given the psycopg 3 driver.
    """
    url = url or os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"
    if "://" not in url:
        url = f"sqlite:///{url}"
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            url = "postgresql+psycopg://" + url[len(plain) :]
    return url


def is_sqlite(url_or_engine: str | Engine) -> bool:
    name = (
        url_or_engine.dialect.name
        if isinstance(url_or_engine, Engine)
        else sa.make_url(url_or_engine).get_backend_name()
    )
    return name == "sqlite"


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the project's connection settings.

    SQLite: foreign keys on, WAL journal (readers never wait for the writer), a 30 s busy
    timeout, and the driver's own transaction handling replaced by explicit ``BEGIN``
    (``BEGIN IMMEDIATE`` in write sessions). The file's folder is created if missing.
    """
    url = database_url(url)
    if is_sqlite(url):
        path = sa.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            protected.use_key_file_beside(Path(path))  # the demo's key, when none is set
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_events(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (SQLAlchemy's recipe)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("housing_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction takes the write lock at once (see the module's notes).

    Commits when the block ends without an exception, rolls back otherwise.
    """
    bound = engine.execution_options(housing_write=True)
    with Session(bound) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# --------------------------------------------------------------------------- migrations


def alembic_config(engine: Engine) -> Any:
    """Alembic's configuration for ``engine``, with our migrations (no ini file needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (Alembic ``upgrade``)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def ensure_schema(engine: Engine) -> None:
    """Migrate an embedded SQLite database on first use; check any other one.

    A PostgreSQL database is never migrated behind the operator's back: when it is not at
    the code's revision the error says to run ``housing db upgrade``.
    """
    current, head = current_revision(engine), head_revision(engine)
    if current == head:
        return
    if is_sqlite(engine):
        upgrade(engine)
        return
    raise SchemaError(
        f"the database is at schema revision {current or 'none'}, this code "
        f"needs {head}: run `housing db upgrade`"
    )


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """The process's engine for ``url`` (default: ``DATABASE_URL`` or the embedded file),
    created once and with its schema ensured."""
    url = database_url(url)
    engine = _engines.get(url)
    if engine is None:
        engine = make_engine(url)
        ensure_schema(engine)
        _engines[url] = engine
    return engine


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
