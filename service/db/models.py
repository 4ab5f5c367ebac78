"""SQLAlchemy models. The chain_* tables mirror contract events (the chain is authoritative);
each row remembers the block it came from so the indexer can rewind after a reorg."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Hex32 = String(66)
Address = String(42)


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
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


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
    block_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
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
