"""Seasons and shuttles: a household's season, a unit's open months, the agency's shuttle
lines and their stops, and the months and line of each proposal, offer and lease.

A dwelling may now hold one lease a season: the unique index of active dwelling leases
covers the leases without a season, and a second one the seasonal leases by first month
(the round's close checks that seasons do not overlap).

Every new column may be null, so every existing record stays valid and means what it
meant: no season is all year, no opening is always open, no months is the round's
``contribution_months``, no line is the household's own way to work.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 05:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONTH = sqlmodel.sql.sqltypes.AutoString(length=7)


def upgrade() -> None:
    op.create_table(
        "shuttle_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("monthly_cost_cents", sa.Integer(), nullable=False),
        sa.Column("running", sa.Boolean(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_shuttle_line_ref", "shuttle_line", ["ref"], unique=True)
    op.create_index("ix_shuttle_line_office_id", "shuttle_line", ["office_id"], unique=False)
    op.create_table(
        "shuttle_stop",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["shuttle_line.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_shuttle_stop_line_id", "shuttle_stop", ["line_id"], unique=False)
    with op.batch_alter_table("beneficiary", schema=None) as b:
        b.add_column(sa.Column("season_from", _MONTH, nullable=True))
        b.add_column(sa.Column("season_to", _MONTH, nullable=True))
    for table in ("dwelling", "shared_flat"):
        with op.batch_alter_table(table, schema=None) as b:
            b.add_column(sa.Column("open_from", _MONTH, nullable=True))
            b.add_column(sa.Column("open_to", _MONTH, nullable=True))
    for table in ("proposal", "offer"):
        with op.batch_alter_table(table, schema=None) as b:
            b.add_column(sa.Column("months", sa.Integer(), nullable=True))
            b.add_column(sa.Column("stay_from", sqlmodel.sql.sqltypes.AutoString(7)))
            b.add_column(sa.Column("stay_to", sqlmodel.sql.sqltypes.AutoString(7)))
            b.add_column(sa.Column("line_id", sa.Integer(), nullable=True))
            b.create_foreign_key(f"fk_{table}_line_id", "shuttle_line", ["line_id"], ["id"])
    with op.batch_alter_table("lease", schema=None) as b:
        b.add_column(sa.Column("stay_from", sqlmodel.sql.sqltypes.AutoString(7)))
        b.add_column(sa.Column("stay_to", sqlmodel.sql.sqltypes.AutoString(7)))
        b.add_column(sa.Column("line_id", sa.Integer(), nullable=True))
        b.create_foreign_key("fk_lease_line_id", "shuttle_line", ["line_id"], ["id"])
        b.create_index("ix_lease_line_id", ["line_id"], unique=False)
    op.drop_index("uq_lease_active_dwelling", table_name="lease")
    _dwelling_indexes(seasons=True)


_ACTIVE = "ended_on IS NULL AND dwelling_id IS NOT NULL"


def _dwelling_indexes(*, seasons: bool) -> None:
    whole = _ACTIVE + (" AND stay_from IS NULL" if seasons else "")
    op.create_index(
        "uq_lease_active_dwelling",
        "lease",
        ["dwelling_id"],
        unique=True,
        sqlite_where=sa.text(whole),
        postgresql_where=sa.text(whole),
    )
    if seasons:
        season = _ACTIVE + " AND stay_from IS NOT NULL"
        op.create_index(
            "uq_lease_season_dwelling",
            "lease",
            ["dwelling_id", "stay_from"],
            unique=True,
            sqlite_where=sa.text(season),
            postgresql_where=sa.text(season),
        )


def downgrade() -> None:
    op.drop_index("uq_lease_season_dwelling", table_name="lease")
    op.drop_index("uq_lease_active_dwelling", table_name="lease")
    _dwelling_indexes(seasons=False)
    with op.batch_alter_table("lease", schema=None) as b:
        b.drop_index("ix_lease_line_id")
        b.drop_constraint("fk_lease_line_id", type_="foreignkey")
        b.drop_column("line_id")
        b.drop_column("stay_to")
        b.drop_column("stay_from")
    for table in ("offer", "proposal"):
        with op.batch_alter_table(table, schema=None) as b:
            b.drop_constraint(f"fk_{table}_line_id", type_="foreignkey")
            b.drop_column("line_id")
            b.drop_column("stay_to")
            b.drop_column("stay_from")
            b.drop_column("months")
    for table in ("shared_flat", "dwelling"):
        with op.batch_alter_table(table, schema=None) as b:
            b.drop_column("open_to")
            b.drop_column("open_from")
    with op.batch_alter_table("beneficiary", schema=None) as b:
        b.drop_column("season_to")
        b.drop_column("season_from")
    op.drop_index("ix_shuttle_stop_line_id", table_name="shuttle_stop")
    op.drop_table("shuttle_stop")
    op.drop_index("ix_shuttle_line_office_id", table_name="shuttle_line")
    op.drop_index("ix_shuttle_line_ref", table_name="shuttle_line")
    op.drop_table("shuttle_line")
