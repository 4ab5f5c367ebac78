"""sharing policy: constellation defaults and owner narrowing, the access log, records by leaf

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sharing_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effect", sa.String(length=8), nullable=False, server_default="share"))
        batch_op.add_column(sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_epcis_events_leaf"), ["leaf"], unique=True)
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("reader_id", sa.String(length=36), nullable=True),
        sa.Column("reader_kind", sa.String(length=16), nullable=False),
        sa.Column("record_kind", sa.String(length=16), nullable=False),
        sa.Column("record_ref", sa.String(length=80), nullable=False),
        sa.Column("constellation", sa.String(length=66), nullable=False),
        sa.Column("shown", sa.JSON(), nullable=False),
        sa.Column("withheld", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["members.id"], name=op.f("fk_access_log_owner_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_reader_id"), ["reader_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_record_ref"), ["record_ref"], unique=False)


def downgrade() -> None:
    op.drop_table("access_log")
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_epcis_events_leaf"))
    with op.batch_alter_table("sharing_grants", schema=None) as batch_op:
        batch_op.drop_column("is_default")
        batch_op.drop_column("effect")
