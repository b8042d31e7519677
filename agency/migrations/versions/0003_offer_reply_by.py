"""Offers carry the date by which the household is asked to answer.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 17:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_by", sa.Date(), nullable=True))


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        # in place (SQLite >= 3.35): batch mode would copy the table and DROP the old one,
        # which the leases' foreign key to offer refuses once any offer became a lease
        op.execute("ALTER TABLE offer DROP COLUMN reply_by")
        return
    op.drop_column("offer", "reply_by")
