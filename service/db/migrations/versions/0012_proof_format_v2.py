"""proof format v2 (docs/proof-format.md): values committed in RFC 8785 canonical JSON, fields
in UTF-16 order, captures signed as a Merkle root of their record leaves, item record chains.
Every record is committed again (its salts kept), gets its proof into its capture's new root,
and leaves its batch for the anchorer to anchor it again (the old roots stay on chain, proving
the old leaves). A capture's new root needs its member's signature: the service signs for
managed members when it next relays; a self-custody member signs it again
(/epcis/captures/{id}/signature) — until then its records' authorship does not verify.

The formulas are copied here, not imported: a migration must keep doing what it did when the
live code moves on.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 01:30:00
"""

from __future__ import annotations

from typing import Any

import rfc8785
import sha3
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _keccak(data: bytes) -> bytes:
    return sha3.keccak_256(data).digest()


def _pair(a: bytes, b: bytes) -> bytes:
    return _keccak(a + b) if a < b else _keccak(b + a)


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    levels = [leaves]
    while len(levels[-1]) > 1:
        level = levels[-1]
        parents = [_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            parents.append(level[-1])
        levels.append(parents)
    return levels


def _proof(levels: list[list[bytes]], index: int) -> list[bytes]:
    proof = []
    for level in levels[:-1]:
        if index ^ 1 < len(level):
            proof.append(level[index ^ 1])
        index //= 2
    return proof


def _utf16(names: Any) -> list[str]:
    return sorted(names, key=lambda name: name.encode("utf-16-be"))


def _record_root(payload: dict[str, Any], digest: str, salts: dict[str, str]) -> bytes:
    fields = dict(payload)
    fields["#fields"] = _utf16(fields)
    fields["#eventHash"] = digest
    leaves = [
        _keccak(bytes.fromhex(salts[path]) + _keccak(path.encode()) + _keccak(rfc8785.dumps(fields[path])))
        for path in _utf16(fields)
    ]
    return _levels(leaves)[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("capture_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_by", sa.String(length=8), nullable=False, server_default="service"))
        batch_op.add_column(sa.Column("capture_root", sa.String(length=66), nullable=True))
        batch_op.add_column(sa.Column("record_count", sa.Integer(), nullable=True))
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capture_proof", sa.JSON(), nullable=True))
    op.create_table(
        "item_chains",
        sa.Column("constellation", sa.String(length=66), nullable=False),
        sa.Column("item_hash", sa.String(length=66), nullable=False),
        sa.Column("item", sa.String(length=300), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("constellation", "item_hash", name=op.f("pk_item_chains")),
    )
    op.create_table(
        "item_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("constellation", sa.String(length=66), nullable=False),
        sa.Column("item_hash", sa.String(length=66), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("leaf", sa.String(length=66), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["epcis_events.id"], name=op.f("fk_item_records_record_id_epcis_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_records")),
        sa.UniqueConstraint("constellation", "item_hash", "record_id", name="uq_item_records_record"),
        sa.UniqueConstraint("constellation", "item_hash", "seq", name=op.f("uq_item_records_constellation_item_hash")),
    )
    with op.batch_alter_table("item_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_records_record_id"), ["record_id"], unique=False)
    op.create_table(
        "item_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("constellation", sa.String(length=66), nullable=False),
        sa.Column("item_hash", sa.String(length=66), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=66), nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=False),
        sa.Column("proof", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["anchor_batches.id"], name=op.f("fk_item_states_batch_id_anchor_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_states")),
    )
    with op.batch_alter_table("item_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_states_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index("ix_item_states_item", ["constellation", "item_hash", "count"], unique=False)
    _recommit()


def _recommit() -> None:
    events = sa.table(
        "epcis_events",
        sa.column("id", sa.String),
        sa.column("event_hash", sa.String),
        sa.column("capture_id", sa.String),
        sa.column("position", sa.Integer),
        sa.column("constellation", sa.String),
        sa.column("signer", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("salts", sa.JSON),
        sa.column("record_root", sa.String),
        sa.column("leaf", sa.String),
        sa.column("batch_id", sa.Integer),
        sa.column("leaf_index", sa.Integer),
        sa.column("proof", sa.JSON),
        sa.column("capture_proof", sa.JSON),
    )
    jobs = sa.table(
        "capture_jobs",
        sa.column("id", sa.String),
        sa.column("member_id", sa.String),
        sa.column("signature", sa.String),
        sa.column("signed_by", sa.String),
        sa.column("capture_root", sa.String),
        sa.column("record_count", sa.Integer),
    )
    members = sa.table("members", sa.column("id", sa.String), sa.column("custody", sa.String))
    bind = op.get_bind()
    custody = dict(bind.execute(sa.select(members.c.id, members.c.custody)).all())
    by_job: dict[str, list[tuple[str, bytes]]] = {}
    rows = bind.execute(
        sa.select(
            events.c.id,
            events.c.capture_id,
            events.c.event_hash,
            events.c.constellation,
            events.c.signer,
            events.c.payload,
            events.c.salts,
        ).order_by(events.c.capture_id, events.c.position)
    ).all()
    for record, job, digest, constellation, signer, payload, salts in rows:
        root = _record_root(payload, digest, salts)
        leaf = _keccak(root + bytes(12) + bytes.fromhex(signer[2:]) + bytes.fromhex(constellation[2:]))
        by_job.setdefault(job, []).append((record, leaf))
        bind.execute(
            sa.update(events)
            .where(events.c.id == record)
            .values(
                record_root="0x" + root.hex(),
                leaf="0x" + leaf.hex(),
                batch_id=None,
                leaf_index=None,
                proof=sa.null(),
            )
        )
    for job, member in bind.execute(sa.select(jobs.c.id, jobs.c.member_id)).all():
        records = by_job.get(job, [])
        values: dict[str, Any] = {
            "signature": "",
            "signed_by": "self" if custody.get(member) == "self" else "service",
        }
        if records:
            levels = _levels([leaf for _, leaf in records])
            values["capture_root"] = "0x" + levels[-1][0].hex()
            values["record_count"] = len(records)
            for index, (record, _) in enumerate(records):
                bind.execute(
                    sa.update(events)
                    .where(events.c.id == record)
                    .values(capture_proof=["0x" + p.hex() for p in _proof(levels, index)])
                )
        bind.execute(sa.update(jobs).where(jobs.c.id == job).values(**values))


def downgrade() -> None:
    raise NotImplementedError("proof format v2 cannot be undone: restore the backup taken before upgrading")
