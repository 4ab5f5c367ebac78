"""epcis events, capture jobs, anchor batches, leases

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "capture_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("constellation", sa.String(length=66), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("event_hashes", sa.JSON(), nullable=False),
        sa.Column("hash_context", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_capture_jobs_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capture_jobs")),
    )
    with op.batch_alter_table("capture_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capture_jobs_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_capture_jobs_constellation"), ["constellation"], unique=False)

    op.create_table(
        "anchor_batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("constellation", sa.String(length=66), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("leaf_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anchor_batches")),
        sa.UniqueConstraint("root", name=op.f("uq_anchor_batches_root_")),
    )
    with op.batch_alter_table("anchor_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_anchor_batches_constellation"), ["constellation"], unique=False)
        batch_op.create_index(batch_op.f("ix_anchor_batches_status"), ["status"], unique=False)

    op.create_table(
        "epcis_events",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("event_hash", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=500), nullable=False),
        sa.Column("capture_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("constellation", sa.String(length=66), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_time_zone_offset", sa.String(length=6), nullable=False),
        sa.Column("record_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=True),
        sa.Column("biz_step", sa.String(length=300), nullable=True),
        sa.Column("disposition", sa.String(length=300), nullable=True),
        sa.Column("read_point", sa.String(length=300), nullable=True),
        sa.Column("biz_location", sa.String(length=300), nullable=True),
        sa.Column("transformation_id", sa.String(length=300), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("record_root", sa.String(length=66), nullable=False),
        sa.Column("salts", sa.JSON(), nullable=False),
        sa.Column("leaf", sa.String(length=66), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("leaf_index", sa.Integer(), nullable=True),
        sa.Column("proof", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["anchor_batches.id"], name=op.f("fk_epcis_events_batch_id_anchor_batches")
        ),
        sa.ForeignKeyConstraint(
            ["capture_id"], ["capture_jobs.id"], name=op.f("fk_epcis_events_capture_id_capture_jobs")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["members.id"], name=op.f("fk_epcis_events_owner_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_events")),
        sa.UniqueConstraint("constellation", "event_hash", name=op.f("uq_epcis_events_constellation_event_hash")),
    )
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        for column in (
            "event_hash",
            "event_id",
            "capture_id",
            "constellation",
            "owner_id",
            "event_type",
            "event_time",
            "record_time",
            "biz_step",
            "disposition",
            "read_point",
            "biz_location",
            "transformation_id",
            "batch_id",
        ):
            batch_op.create_index(batch_op.f(f"ix_epcis_events_{column}"), [column], unique=False)

    op.create_table(
        "epcis_event_ids",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("identifier", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["epcis_events.id"], name=op.f("fk_epcis_event_ids_record_id_epcis_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_event_ids")),
    )
    with op.batch_alter_table("epcis_event_ids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_epcis_event_ids_record_id"), ["record_id"], unique=False)
        batch_op.create_index("ix_epcis_event_ids_identifier_role", ["identifier", "role"], unique=False)

    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_table("epcis_event_ids")
    op.drop_table("epcis_events")
    op.drop_table("anchor_batches")
    op.drop_table("capture_jobs")
