"""sharing grants

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 12:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sharing_grants",
        sa.Column("id", sa.String(length=66), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("constellation", sa.String(length=66), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("audience_kind", sa.String(length=16), nullable=False),
        sa.Column("audience_value", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("audience_hash", sa.String(length=66), nullable=False),
        sa.Column("terms_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_tx_hash", sa.String(length=66), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["members.id"], name=op.f("fk_sharing_grants_owner_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_grants")),
    )
    with op.batch_alter_table("sharing_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sharing_grants_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sharing_grants_constellation"), ["constellation"], unique=False)


def downgrade() -> None:
    op.drop_table("sharing_grants")
