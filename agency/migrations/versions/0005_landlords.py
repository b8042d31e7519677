"""Landlords' dwellings walk proposed -> visited -> certified -> available, with negotiated
terms; the guarantee fund's ledger; offers and leases carry their terms and one-offs; a
household's tags and priority breakdown are sealed (encrypted), and its avoid zones
stored sealed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 05:30:00

"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agency import protected

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _term_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("term", sa.String(length=32), nullable=True),
        sa.Column("one_off_cents", sa.Integer(), nullable=False, server_default="0"),
    ]


def upgrade() -> None:
    with op.batch_alter_table("dwelling", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visited_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("certificate_number", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("certificate_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("certificate_occupants", sa.Integer(), nullable=True))
    for table in ("proposal", "offer"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in _term_columns():
                batch_op.add_column(column)
    with op.batch_alter_table("lease", schema=None) as batch_op:
        for column in _term_columns():
            batch_op.add_column(column)
        batch_op.add_column(sa.Column("rent_cents", sa.Integer(), nullable=True))
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        batch_op.add_column(sa.Column("avoid_zones", sa.JSON(), nullable=True))
    op.create_table(
        "dwelling_term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dwelling_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("rent_cents", sa.Integer(), nullable=False),
        sa.Column("one_off_cents", sa.BigInteger(), nullable=False),
        sa.Column("guaranteed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["dwelling_id"], ["dwelling.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dwelling_id", "label"),
    )
    op.create_index("ix_dwelling_term_dwelling_id", "dwelling_term", ["dwelling_id"])
    op.create_table(
        "guarantee_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("lease_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["allocation_round.id"]),
        sa.ForeignKeyConstraint(["lease_id"], ["lease.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_guarantee_entry_round_id", "guarantee_entry", ["round_id"])
    op.create_index("ix_guarantee_entry_lease_id", "guarantee_entry", ["lease_id"])
    _append_only("guarantee_entry")
    _seal_beneficiaries(seal=True)


def _seal_beneficiaries(*, seal: bool) -> None:
    """Encrypt (or, going down, decrypt) the tags and priority breakdowns already stored:
    they may reveal a victim's status. Needs the data key when there are rows."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, CAST(tags AS TEXT), CAST(priority_breakdown AS TEXT) FROM beneficiary")
    ).all()
    for row_id, *values in rows:
        out = []
        for value in values:
            v = json.loads(value) if value is not None else None
            if seal and not (isinstance(v, str) and v.startswith(protected.TOKEN_PREFIX)):
                v = protected.seal(v if v is not None else [])
            elif not seal and isinstance(v, str) and v.startswith(protected.TOKEN_PREFIX):
                v = protected.unseal(v)
            out.append(json.dumps(v))
        cast = "CAST(:{} AS JSON)" if bind.dialect.name == "postgresql" else ":{}"
        bind.execute(
            sa.text(
                f"UPDATE beneficiary SET tags = {cast.format('t')}, "
                f"priority_breakdown = {cast.format('p')} WHERE id = :i"
            ),
            {"t": out[0], "p": out[1], "i": row_id},
        )


def _append_only(table: str) -> None:
    """The guarantee's ledger refuses UPDATE and DELETE, as the funds' ledger does."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(f"""CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql""")
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )


def downgrade() -> None:
    _seal_beneficiaries(seal=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS guarantee_entry_no_{verb}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS guarantee_entry_append_only ON guarantee_entry")
        op.execute("DROP FUNCTION IF EXISTS guarantee_entry_append_only()")
    op.drop_index("ix_guarantee_entry_lease_id", table_name="guarantee_entry")
    op.drop_index("ix_guarantee_entry_round_id", table_name="guarantee_entry")
    op.drop_table("guarantee_entry")
    op.drop_index("ix_dwelling_term_dwelling_id", table_name="dwelling_term")
    op.drop_table("dwelling_term")
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        batch_op.drop_column("avoid_zones")
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.drop_column("rent_cents")
        batch_op.drop_column("one_off_cents")
        batch_op.drop_column("term")
    for table in ("offer", "proposal"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("one_off_cents")
            batch_op.drop_column("term")
    with op.batch_alter_table("dwelling", schema=None) as batch_op:
        batch_op.drop_column("certificate_occupants")
        batch_op.drop_column("certificate_on")
        batch_op.drop_column("certificate_number")
        batch_op.drop_column("visited_on")
