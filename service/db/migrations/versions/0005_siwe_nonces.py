"""sign-in with ethereum nonces

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "siwe_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_siwe_nonces")),
    )
    with op.batch_alter_table("siwe_nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_siwe_nonces_address"), ["address"], unique=False)


def downgrade() -> None:
    op.drop_table("siwe_nonces")
