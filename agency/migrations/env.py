"""Alembic's environment: the agency's SQLModel metadata, on the engine it is given."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import agency.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from agency.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or make_engine(
        config.get_main_option("sqlalchemy.url")
    )
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection if sqlite else None
        if raw is not None:
            # Batch mode copies a table and drops the old one; with foreign keys enforced,
            # SQLite refuses the drop once another table's rows point at it (a lease at
            # its offer). Off for the migration (set outside any transaction, where SQLite
            # honours it), the whole database checked before the commit, on again after.
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(
                        f"the migration left {len(broken)} rows pointing at no row "
                        f"(first: table {broken[0][0]}, row {broken[0][1]}); nothing is kept"
                    )
            connection.commit()
        finally:
            if raw is not None:
                connection.rollback()
                raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
