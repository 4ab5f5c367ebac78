"""company prefixes: a GTIN is branded by the member holding the approved GS1 company prefix
it falls under; the access log counts the records an aggregate view drew on

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company_prefixes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=36), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_company_prefixes_member_id_members")),
        sa.ForeignKeyConstraint(["approved_by"], ["members.id"], name=op.f("fk_company_prefixes_approved_by_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_prefixes")),
        sa.UniqueConstraint("prefix", "member_id", name=op.f("uq_company_prefixes_prefix_member_id")),
    )
    with op.batch_alter_table("company_prefixes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_prefixes_prefix"), ["prefix"], unique=False)
        batch_op.create_index(batch_op.f("ix_company_prefixes_member_id"), ["member_id"], unique=False)
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("records", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_column("records")
    op.drop_table("company_prefixes")
