"""sharing policy: constellation defaults and owner narrowing, the access log, records by leaf,
one record per owner; events committed before it are committed again (event hash and field
list as salted fields, the new leaf) and sealed again by the anchorer

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.domain.commitments import FIELDS_FIELD, HASH_FIELD, RecordCommitment, event_leaf
from service.epcis.analysis import committed_fields

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sharing_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effect", sa.String(length=8), nullable=False, server_default="share"))
        batch_op.add_column(sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()))
    _recommit_legacy_events()
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_epcis_events_leaf"), ["leaf"], unique=True)
        batch_op.drop_constraint("uq_epcis_events_constellation_event_hash", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_epcis_events_constellation_owner_id"), ["constellation", "owner_id", "event_hash"]
        )
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


def _recommit_legacy_events() -> None:
    """Events committed before this revision (no salted event hash or field list) get both,
    a new root and leaf, and leave their batch: the anchorer anchors them again (the old roots
    stay on chain, proving the old leaves)."""
    events = sa.table(
        "epcis_events",
        sa.column("id", sa.String),
        sa.column("event_hash", sa.String),
        sa.column("constellation", sa.String),
        sa.column("signer", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("salts", sa.JSON),
        sa.column("record_root", sa.String),
        sa.column("leaf", sa.String),
        sa.column("batch_id", sa.Integer),
        sa.column("leaf_index", sa.Integer),
        sa.column("proof", sa.JSON),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            events.c.id, events.c.event_hash, events.c.constellation, events.c.signer, events.c.payload, events.c.salts
        )
    ).all()
    for record, digest, constellation, signer, payload, salts in rows:
        if HASH_FIELD in salts and FIELDS_FIELD in salts:
            continue
        kept = {path: bytes.fromhex(salt) for path, salt in salts.items()}
        commitment = RecordCommitment.commit(committed_fields(payload, digest), kept)
        bind.execute(
            sa.update(events)
            .where(events.c.id == record)
            .values(
                salts={path: salt.hex() for path, salt in commitment.salts.items()},
                record_root="0x" + commitment.root.hex(),
                leaf="0x" + event_leaf(commitment.root, signer, constellation).hex(),
                batch_id=None,
                leaf_index=None,
                proof=sa.null(),
            )
        )


def downgrade() -> None:
    op.drop_table("access_log")
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_epcis_events_constellation_owner_id"), type_="unique")
        batch_op.create_unique_constraint("uq_epcis_events_constellation_event_hash", ["constellation", "event_hash"])
        batch_op.drop_index(batch_op.f("ix_epcis_events_leaf"))
    with op.batch_alter_table("sharing_grants", schema=None) as batch_op:
        batch_op.drop_column("is_default")
        batch_op.drop_column("effect")
