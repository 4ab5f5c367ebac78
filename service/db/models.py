"""SQLAlchemy models. The chain_* tables mirror contract events (the chain is authoritative);
each row remembers the block it came from so the indexer can rewind after a reorg."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Hex32 = String(66)
Address = String(42)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment, stored with its zone and always read back time-zone aware, in UTC — also on
    SQLite, which keeps no zone — so domain code compares timestamps without special cases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None and value.tzinfo is not None else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class IndexerCheckpoint(Base):
    """The last block a named indexer has fully processed, with its hash (for reorg checks)."""

    __tablename__ = "indexer_checkpoints"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(Hex32)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class IndexedBlock(Base):
    """Hashes of blocks the indexer read (range ends and blocks with logs): where a reorg forked."""

    __tablename__ = "indexed_blocks"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_hash: Mapped[str] = mapped_column(Hex32)


class ChainFact:
    """Where a mirrored event was read: block, transaction and log position."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    block_hash: Mapped[str] = mapped_column(Hex32)
    block_time: Mapped[datetime] = mapped_column(UtcDateTime())
    tx_hash: Mapped[str] = mapped_column(Hex32)
    log_index: Mapped[int] = mapped_column(Integer)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint]:
        return (UniqueConstraint("block_number", "log_index"),)


class ChainConstellation(ChainFact, Base):
    __tablename__ = "chain_constellations"
    constellation: Mapped[str] = mapped_column(Hex32, index=True)
    coordinator: Mapped[str] = mapped_column(Address)
    name: Mapped[str] = mapped_column(Text)


class ChainRoleChange(ChainFact, Base):
    """History of roles: the latest row per (constellation, account) is the current mask."""

    __tablename__ = "chain_role_changes"
    constellation: Mapped[str] = mapped_column(Hex32, index=True)
    account: Mapped[str] = mapped_column(Address, index=True)
    by: Mapped[str] = mapped_column(Address)
    previous_roles: Mapped[int] = mapped_column(BigInteger)
    roles: Mapped[int] = mapped_column(BigInteger)


class ChainAnchor(ChainFact, Base):
    __tablename__ = "chain_anchors"
    constellation: Mapped[str] = mapped_column(Hex32, index=True)
    root: Mapped[str] = mapped_column(Hex32, index=True)
    by: Mapped[str] = mapped_column(Address)
    leaves: Mapped[int] = mapped_column(BigInteger)
    metadata_hash: Mapped[str] = mapped_column(Hex32)


class ChainSchema(ChainFact, Base):
    __tablename__ = "chain_schemas"
    uid: Mapped[str] = mapped_column(Hex32, index=True)
    registrant: Mapped[str] = mapped_column(Address)
    revocable: Mapped[bool] = mapped_column(Boolean)
    required_roles: Mapped[int] = mapped_column(BigInteger)
    definition: Mapped[str] = mapped_column(Text)


class ChainAttestation(ChainFact, Base):
    __tablename__ = "chain_attestations"
    uid: Mapped[str] = mapped_column(Hex32, index=True)
    constellation: Mapped[str] = mapped_column(Hex32, index=True)
    schema_uid: Mapped[str] = mapped_column(Hex32, index=True)
    issuer: Mapped[str] = mapped_column(Address, index=True)
    subject: Mapped[str] = mapped_column(Hex32, index=True)
    data_hash: Mapped[str] = mapped_column(Hex32)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class ChainRevocation(ChainFact, Base):
    __tablename__ = "chain_revocations"
    uid: Mapped[str] = mapped_column(Hex32, index=True)
    constellation: Mapped[str] = mapped_column(Hex32)
    issuer: Mapped[str] = mapped_column(Address)
    revoked_at: Mapped[int] = mapped_column(BigInteger)


class ChainGrant(ChainFact, Base):
    __tablename__ = "chain_grants"
    grant_id: Mapped[str] = mapped_column(Hex32, index=True)
    constellation: Mapped[str] = mapped_column(Hex32, index=True)
    grantor: Mapped[str] = mapped_column(Address, index=True)
    audience_hash: Mapped[str] = mapped_column(Hex32)
    terms_hash: Mapped[str] = mapped_column(Hex32)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class ChainGrantRevocation(ChainFact, Base):
    __tablename__ = "chain_grant_revocations"
    grant_id: Mapped[str] = mapped_column(Hex32, index=True)
    constellation: Mapped[str] = mapped_column(Hex32)
    grantor: Mapped[str] = mapped_column(Address)
    revoked_at: Mapped[int] = mapped_column(BigInteger)


CHAIN_FACTS: tuple[type[ChainFact], ...] = (
    ChainConstellation,
    ChainRoleChange,
    ChainAnchor,
    ChainSchema,
    ChainAttestation,
    ChainRevocation,
    ChainGrant,
    ChainGrantRevocation,
)

Index(
    "ix_chain_role_changes_member", ChainRoleChange.constellation, ChainRoleChange.account, ChainRoleChange.block_number
)


# --- Members, keys and API keys ------------------------------------------------------------


class Member(Base):
    """An organisation. `address` is the key it signs with now (self-custody or managed)."""

    __tablename__ = "members"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    gln: Mapped[str | None] = mapped_column(String(13), unique=True)
    lei: Mapped[str | None] = mapped_column(String(20))
    website: Mapped[str | None] = mapped_column(String(500))
    address: Mapped[str] = mapped_column(Address, unique=True)
    custody: Mapped[str] = mapped_column(String(16))  # self | managed | operator
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ManagedKey(Base):
    """A key the service holds for a member, encrypted at rest (AES-256-GCM, member-bound)."""

    __tablename__ = "managed_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    address: Mapped[str] = mapped_column(Address, unique=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    exported_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ApiKey(Base):
    """A member's API key: only its SHA-256 is stored; the secret is shown once."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Constellation(Base):
    """What the service knows beside the chain: the human slug behind the bytes32 id."""

    __tablename__ = "constellations"
    id: Mapped[str] = mapped_column(Hex32, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(ForeignKey("members.id"))
    tx_hash: Mapped[str | None] = mapped_column(Hex32)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


# --- Attestations ----------------------------------------------------------------------------


class AttestationSchema(Base):
    """A schema of the catalogue; `uid` is its id on the AttestationRegistry."""

    __tablename__ = "attestation_schemas"
    uid: Mapped[str] = mapped_column(Hex32, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text)
    json_schema: Mapped[dict[str, object]] = mapped_column(JSON)
    revocable: Mapped[bool] = mapped_column(Boolean)
    required_roles: Mapped[int] = mapped_column(BigInteger)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_by: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    tx_hash: Mapped[str | None] = mapped_column(Hex32)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Attestation(Base):
    """A signed claim. The body and its salts stay here; the chain holds its commitment root."""

    __tablename__ = "attestations"
    uid: Mapped[str] = mapped_column(Hex32, primary_key=True)
    schema_uid: Mapped[str] = mapped_column(ForeignKey("attestation_schemas.uid"), index=True)
    constellation: Mapped[str] = mapped_column(Hex32, index=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300), index=True)
    subject_hash: Mapped[str] = mapped_column(Hex32)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    issuer_address: Mapped[str] = mapped_column(Address)
    body: Mapped[dict[str, object]] = mapped_column(JSON)
    salts: Mapped[dict[str, str]] = mapped_column(JSON)
    data_hash: Mapped[str] = mapped_column(Hex32)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    ref_uid: Mapped[str] = mapped_column(Hex32, index=True)
    revocable: Mapped[bool] = mapped_column(Boolean)
    deadline: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(String(132))
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    anchored_tx: Mapped[str | None] = mapped_column(Hex32)
    anchored_block: Mapped[int | None] = mapped_column(BigInteger)
    revoke_signature: Mapped[str | None] = mapped_column(String(132))
    revoke_deadline: Mapped[int | None] = mapped_column(BigInteger)
    revoke_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_tx: Mapped[str | None] = mapped_column(Hex32)


class EvidenceDocument(Base):
    """An evidence file, content-addressed: its id is the SHA-256 of its bytes."""

    __tablename__ = "evidence_documents"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AttestationEvidence(Base):
    """Which attestation cites which evidence document (who may fetch a document follows it)."""

    __tablename__ = "attestation_evidence"
    attestation_uid: Mapped[str] = mapped_column(ForeignKey("attestations.uid"), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("evidence_documents.sha256"), primary_key=True, index=True)


class OutboxItem(Base):
    """Work that must reach the chain exactly once, kept until it has (durable across outages)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # attest | revoke | ...
    ref: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    tx_hash: Mapped[str | None] = mapped_column(Hex32)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("kind", "ref"),)


class CaptureJob(Base):
    """One EPCIS capture (a document, accepted or rejected whole), as the REST binding reports it."""

    __tablename__ = "capture_jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    constellation: Mapped[str] = mapped_column(Hex32, index=True)
    signer: Mapped[str] = mapped_column(Address)
    signature: Mapped[str] = mapped_column(String(132))
    """The signer's EIP-712 `Capture` signature over the constellation, the capture root and the
    record count (docs/proof-format.md §4); "" for a capture committed again by migration 0012
    that its member has not signed again yet."""
    signed_by: Mapped[str] = mapped_column(String(8), default="service")
    """self: the member's own wallet; service: the member's managed key, in this service."""
    capture_root: Mapped[str | None] = mapped_column(Hex32)
    """The Merkle root of the capture's record leaves, in document order (what is signed)."""
    record_count: Mapped[int | None] = mapped_column(Integer)
    """How many leaves the capture tree holds (signed beside its root)."""
    event_count: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    event_hashes: Mapped[list[str]] = mapped_column(JSON)
    """The events' CBV 2.0 hashes, in document order (internal: never shown)."""
    hash_context: Mapped[dict[str, object]] = mapped_column(JSON)
    """The document's namespaces and ignored fields: what the events' hashes were computed in."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AnchorBatch(Base):
    """A Merkle tree of event leaves of one constellation, anchored as one root."""

    __tablename__ = "anchor_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    constellation: Mapped[str] = mapped_column(Hex32, index=True)
    root: Mapped[str] = mapped_column(Hex32, unique=True)
    leaf_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending | anchored | contested
    tx_hash: Mapped[str | None] = mapped_column(Hex32)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    anchored_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class EpcisEvent(Base):
    """A captured EPCIS event: its payload, its CBV 2.0 hash, who signed it, and its leaf."""

    __tablename__ = "epcis_events"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The record: sha256(constellation ‖ owner ‖ event hash), internal. One event captured in
    two constellations, or by two members, is two records, each its owner's: a capture learns
    nothing of another member's events."""
    event_hash: Mapped[str] = mapped_column(String(64), index=True)
    """The SHA-256 of the CBV 2.0 pre-hash string (the event hash ID without its ni:/// wrapping)."""
    event_id: Mapped[str] = mapped_column(String(500), index=True)
    capture_id: Mapped[str] = mapped_column(ForeignKey("capture_jobs.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    constellation: Mapped[str] = mapped_column(Hex32, index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    signer: Mapped[str] = mapped_column(Address)
    event_type: Mapped[str] = mapped_column(String(32), index=True)
    event_time: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    event_time_zone_offset: Mapped[str] = mapped_column(String(6))
    record_time: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    action: Mapped[str | None] = mapped_column(String(8))
    biz_step: Mapped[str | None] = mapped_column(String(300), index=True)
    disposition: Mapped[str | None] = mapped_column(String(300), index=True)
    read_point: Mapped[str | None] = mapped_column(String(300), index=True)
    biz_location: Mapped[str | None] = mapped_column(String(300), index=True)
    transformation_id: Mapped[str | None] = mapped_column(String(300), index=True)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    """The event as captured, with the namespaces of its context (enough to recompute the hash)."""
    record_root: Mapped[str] = mapped_column(Hex32)
    """Root of the salted per-field commitments of the payload (selective disclosure)."""
    salts: Mapped[dict[str, str]] = mapped_column(JSON)
    leaf: Mapped[str] = mapped_column(Hex32, index=True, unique=True)
    """keccak256(abi.encode(recordRoot, signer, constellation)): what the anchored tree commits
    to, and the record's public reference (it reveals nothing of the fields: the root is salted)."""
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("anchor_batches.id"), index=True)
    leaf_index: Mapped[int | None] = mapped_column(Integer)
    proof: Mapped[list[str] | None] = mapped_column(JSON)
    capture_proof: Mapped[list[str] | None] = mapped_column(JSON)
    """The leaf's proof into its capture's signed root (the capture index is `position`)."""

    __table_args__ = (UniqueConstraint("constellation", "owner_id", "event_hash"),)


class EventIdentifier(Base):
    """An identifier an event names, normalised (URN and Digital Link forms agree), by its role:
    epc, parent, child, input, output, quantity, child_quantity, input_quantity,
    output_quantity, source, destination. Queries and the provenance graph use it."""

    __tablename__ = "epcis_event_ids"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("epcis_events.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    identifier: Mapped[str] = mapped_column(String(300))

    __table_args__ = (Index("ix_epcis_event_ids_identifier_role", "identifier", "role"),)


class ItemChain(Base):
    """The tip of an item's record chain in a constellation (docs/proof-format.md §7): how many
    record leaves name the item there, in anchoring order, and the hash chain's head."""

    __tablename__ = "item_chains"
    constellation: Mapped[str] = mapped_column(Hex32, primary_key=True)
    item_hash: Mapped[str] = mapped_column(Hex32, primary_key=True)
    item: Mapped[str] = mapped_column(String(300))
    count: Mapped[int] = mapped_column(Integer)
    head: Mapped[str] = mapped_column(Hex32)


class ItemRecord(Base):
    """One record in an item's chain: its place (`seq`, from 0) and its leaf."""

    __tablename__ = "item_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    constellation: Mapped[str] = mapped_column(Hex32)
    item_hash: Mapped[str] = mapped_column(Hex32)
    seq: Mapped[int] = mapped_column(Integer)
    record_id: Mapped[str] = mapped_column(ForeignKey("epcis_events.id"), index=True)
    leaf: Mapped[str] = mapped_column(Hex32)

    __table_args__ = (
        UniqueConstraint("constellation", "item_hash", "seq"),
        UniqueConstraint("constellation", "item_hash", "record_id", name="uq_item_records_record"),
    )


class ItemState(Base):
    """An item chain's state as one batch anchors it: the state leaf's place in the batch tree."""

    __tablename__ = "item_states"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("anchor_batches.id"), index=True)
    constellation: Mapped[str] = mapped_column(Hex32)
    item_hash: Mapped[str] = mapped_column(Hex32)
    count: Mapped[int] = mapped_column(Integer)
    head: Mapped[str] = mapped_column(Hex32)
    leaf_index: Mapped[int] = mapped_column(Integer)
    proof: Mapped[list[str]] = mapped_column(JSON)

    __table_args__ = (Index("ix_item_states_item", "constellation", "item_hash", "count"),)


class Lease(Base):
    """A named lease held by one process until it expires: one anchorer leads per database."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SiweNonce(Base):
    """A Sign-In with Ethereum nonce: bound to one address, short-lived, used once."""

    __tablename__ = "siwe_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(Address, index=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SharingGrant(Base):
    """An owner lets an audience see categories of its data in a constellation, for a purpose,
    for a time. Its hash is anchored on the SharingLedger, so who could see what, when, is
    auditable later."""

    __tablename__ = "sharing_grants"
    id: Mapped[str] = mapped_column(Hex32, primary_key=True)
    """The grant id on the SharingLedger (random, chosen before signing)."""
    owner_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    constellation: Mapped[str] = mapped_column(Hex32, index=True)
    categories: Mapped[list[str]] = mapped_column(JSON)
    audience_kind: Mapped[str] = mapped_column(String(16))  # member | role | constellation | public
    audience_value: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    effect: Mapped[str] = mapped_column(String(8), default="share")
    """share: the audience sees the categories · withhold: the owner narrows its constellation's
    defaults for its own data (docs/design.md, "Sharing")."""
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    """A constellation default: made by a coordinator, it applies to every member's data there."""
    audience_hash: Mapped[str] = mapped_column(Hex32)
    terms_hash: Mapped[str] = mapped_column(Hex32)
    tx_hash: Mapped[str] = mapped_column(Hex32)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoke_tx_hash: Mapped[str | None] = mapped_column(Hex32)


class AccessLogEntry(Base):
    """One read decision: who read which record, what it was shown and what was withheld, for
    which purpose, on which grants. The record's owner reads these; nobody else."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    reader_id: Mapped[str | None] = mapped_column(String(36), index=True)
    reader_kind: Mapped[str] = mapped_column(String(16))  # member | public | operator
    record_kind: Mapped[str] = mapped_column(String(16))  # event | attestation | evidence
    record_ref: Mapped[str] = mapped_column(String(80), index=True)
    constellation: Mapped[str] = mapped_column(Hex32)
    shown: Mapped[list[str]] = mapped_column(JSON)
    withheld: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(200))
    basis: Mapped[list[str]] = mapped_column(JSON)
    """The grants that disclosed what was shown ("owner", "operator" for full reads)."""
    endpoint: Mapped[str] = mapped_column(String(100))
    records: Mapped[int | None] = mapped_column(Integer)
    """For an aggregate (record kind `aggregate`): how many of the owner's records it drew on."""


class DataRevision(Base):
    """One row: a number every committed write to the data pages show bumps (service/db/session.py).
    A cached page is served only while the number it was built at is still current, so a new
    event, a revocation or a grant shows on the next request — across every API replica."""

    __tablename__ = "data_revision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Product(Base):
    """Trade item master data (what a GS1 registry would hold): the name and net content of a
    GTIN, registered by the member that brands it. Public: it is printed on the pack."""

    __tablename__ = "products"
    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    """GTIN-14."""
    owner_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    net_content: Mapped[float | None] = mapped_column(Float)
    """How much of `net_content_unit` one unit of the product holds (e.g. 0.25 kilogram)."""
    net_content_unit: Mapped[str | None] = mapped_column(String(16))
    """A PACT declared unit: kilogram, liter, ..."""
    image: Mapped[str | None] = mapped_column(String(500))
    """A picture of the product: an http(s) URL or a path on this site."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CompanyPrefix(Base):
    """A member's claim to a GS1 company prefix: the GTINs under it are the member's to brand
    once the claim is approved (by a coordinator of a constellation the member belongs to, or
    the operator). Claims of one prefix by several members may wait side by side; approved
    prefixes of different members never overlap."""

    __tablename__ = "company_prefixes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(String(12), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | revoked
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("prefix", "member_id"),)


class Place(Base):
    """Location master data (what a GS1 registry holds of a GLN): its name, address and
    coordinates, registered by the member holding the approved company prefix the GLN falls
    under, or by the operator. Public, as a signpost is: journeys name and map the places of the
    steps a reader may see."""

    __tablename__ = "places"
    gln: Mapped[str] = mapped_column(String(13), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    street_address: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    """ISO 3166-1 alpha-2."""
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    registered_by: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
