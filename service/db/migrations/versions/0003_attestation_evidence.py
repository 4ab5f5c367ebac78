"""attestation evidence links

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attestation_evidence",
        sa.Column("attestation_uid", sa.String(length=66), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["attestation_uid"], ["attestations.uid"], name=op.f("fk_attestation_evidence_attestation_uid_attestations")
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["evidence_documents.sha256"], name=op.f("fk_attestation_evidence_sha256_evidence_documents")
        ),
        sa.PrimaryKeyConstraint("attestation_uid", "sha256", name=op.f("pk_attestation_evidence")),
    )
    with op.batch_alter_table("attestation_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attestation_evidence_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attestation_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestation_evidence_sha256"))
    op.drop_table("attestation_evidence")
