"""product images: an optional image URL in product master data; disputes are found by the
claim they name (an index on attestations.ref_uid)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("image", sa.String(length=500), nullable=True))
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attestations_ref_uid"), ["ref_uid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestations_ref_uid"))
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("image")
