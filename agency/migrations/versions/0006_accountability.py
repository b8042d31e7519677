"""Every solve of a round kept for accountability: the instance's hash and the inputs of
that moment, the engine's version and parameters, each stage's status, the round's audit.

- ``round_solve``: one row per solve of a round (``round_id``, ``iteration``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 05:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import agency.models

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "round_solve",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("iteration", sa.Integer(), nullable=False),
        sa.Column("solved_at", agency.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("instance_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("engine", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("result_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("objective", sa.JSON(), nullable=False),
        sa.Column("audit", sa.JSON(), nullable=True),
        sa.Column("audit_seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["allocation_round.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "iteration"),
    )
    with op.batch_alter_table("round_solve", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_solve_round_id"), ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("round_solve", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_solve_round_id"))
    op.drop_table("round_solve")
