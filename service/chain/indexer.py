"""Mirrors contract events into the database: eth_getLogs over block ranges from a stored
checkpoint, a confirmation depth, idempotent writes (a range is replaced, never doubled),
resumption after a restart, and a rewind to the fork point when the chain reorganises.

The mirror is also how the service learns that something it sent is gone: whatever it recorded
as sent in a block the chain no longer holds is reopened (`reopen_dropped`) in the transaction
that rewinds or indexes that block, so the relayer sends it again or adopts it from the new chain."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from eth_utils import event_abi_to_log_topic
from sqlalchemy import ColumnElement, and_, delete, exists, select, update
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3
from web3._utils.events import get_event_data
from web3.exceptions import BlockNotFound

from service.chain.compiler import Artifact
from service.chain.deployment import DeploymentManifest
from service.chain.rpc import TRANSIENT_ERRORS, endpoint
from service.db import models
from service.errors import ChainUnavailable

log = logging.getLogger(__name__)


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


# Event name -> (model, function from decoded args to columns).
FactBuilder = Callable[[dict[str, Any]], dict[str, Any]]
FACTS: dict[str, tuple[type[models.ChainFact], FactBuilder]] = {
    "ConstellationCreated": (
        models.ChainConstellation,
        lambda a: {"constellation": _hex(a["constellation"]), "coordinator": a["coordinator"], "name": a["name"]},
    ),
    "RolesChanged": (
        models.ChainRoleChange,
        lambda a: {
            "constellation": _hex(a["constellation"]),
            "account": a["account"],
            "by": a["by"],
            "previous_roles": a["previousRoles"],
            "roles": a["roles"],
        },
    ),
    "RootAnchored": (
        models.ChainAnchor,
        lambda a: {
            "constellation": _hex(a["constellation"]),
            "root": _hex(a["root"]),
            "by": a["by"],
            "leaves": a["leaves"],
            "metadata_hash": _hex(a["metadata"]),
        },
    ),
    "SchemaRegistered": (
        models.ChainSchema,
        lambda a: {
            "uid": _hex(a["uid"]),
            "registrant": a["registrant"],
            "revocable": a["revocable"],
            "required_roles": a["requiredRoles"],
            "definition": a["definition"],
        },
    ),
    "Attested": (
        models.ChainAttestation,
        lambda a: {
            "uid": _hex(a["uid"]),
            "constellation": _hex(a["constellation"]),
            "schema_uid": _hex(a["schema"]),
            "issuer": a["issuer"],
            "subject": _hex(a["subject"]),
            "data_hash": _hex(a["dataHash"]),
            "expires_at": a["expiresAt"],
        },
    ),
    "Revoked": (
        models.ChainRevocation,
        lambda a: {
            "uid": _hex(a["uid"]),
            "constellation": _hex(a["constellation"]),
            "issuer": a["issuer"],
            "revoked_at": a["revokedAt"],
        },
    ),
    "GrantAnchored": (
        models.ChainGrant,
        lambda a: {
            "grant_id": _hex(a["grantId"]),
            "constellation": _hex(a["constellation"]),
            "grantor": a["grantor"],
            "audience_hash": _hex(a["audienceHash"]),
            "terms_hash": _hex(a["termsHash"]),
            "expires_at": a["expiresAt"],
        },
    ),
    "GrantRevoked": (
        models.ChainGrantRevocation,
        lambda a: {
            "grant_id": _hex(a["grantId"]),
            "constellation": _hex(a["constellation"]),
            "grantor": a["grantor"],
            "revoked_at": a["revokedAt"],
        },
    ),
}


def _mark_revoked_grants(session: Session, revocations: list[models.ChainGrantRevocation]) -> None:
    """The chain is the truth of a grant's revocation: a grant revoked on chain but not in the
    database (a database restored from a backup older than the revocation) is marked revoked,
    and one whose revocation a reorganisation dropped gets it back when it is mined again."""
    grant = models.SharingGrant
    for fact in revocations:
        session.execute(
            update(grant)
            .where(grant.id == fact.grant_id, grant.revoked_at.is_(None))
            .values(revoked_at=fact.block_time, revoke_tx_hash=fact.tx_hash)
        )
        session.execute(
            update(grant)
            .where(grant.id == fact.grant_id, grant.revoke_tx_hash.is_(None))
            .values(revoke_tx_hash=fact.tx_hash)
        )


NOT_ON_CHAIN = "0x" + "00" * 32
"""The transaction hash of a grant that is not (or no longer) anchored."""
DROPPED = "its block was dropped by a chain reorganisation: to be sent again"


@dataclass
class Reopened:
    """What a reorganisation took off the chain, counted by kind."""

    batches: int = 0
    attestations: int = 0
    revocations: int = 0
    grants: int = 0
    grant_revocations: int = 0

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


def reopen_dropped(
    session: Session, *, first: int, last: int | None = None, dropped_txs: Collection[str] = ()
) -> Reopened:
    """Reopens what the service recorded as sent in blocks `first`..`last` (None: no end) that
    the mirror does not hold — its block was dropped — and what was sent in `dropped_txs`
    (records that keep no block number), in the caller's transaction. Nothing stays marked as
    on chain on the strength of a dropped block:

    - an event batch is pending again (same root, same proofs): the anchorer adopts it if the new
      chain holds its root, else sends it again — once, the contract refuses a second anchoring;
    - an attestation and its revocation go back to the outbox (their signatures are kept), so the
      relayer resends or adopts them the same way;
    - a grant is revoked here: its owner's signature is not kept, so it cannot be sent again, and
      no grant is in force that the chain does not record (the owner may grant again); a dropped
      grant revocation stays revoked here, unrecorded on chain until the owner revokes again."""
    reopened = Reopened()
    batch_unmirrored = and_(
        models.AnchorBatch.status == "anchored",
        _in_blocks(models.AnchorBatch.block_number, first, last),
        ~exists().where(
            models.ChainAnchor.root == models.AnchorBatch.root,
            models.ChainAnchor.tx_hash == models.AnchorBatch.tx_hash,
            models.ChainAnchor.block_number == models.AnchorBatch.block_number,
        ),
    )
    if session.scalar(select(exists().where(batch_unmirrored))):  # read first: no write lock for nothing
        reopened.batches = _update(
            session,
            update(models.AnchorBatch)
            .where(batch_unmirrored)
            .values(status="pending", tx_hash=None, block_number=None, anchored_at=None, last_error=DROPPED),
        )
    attested = set(
        session.scalars(
            select(models.Attestation.uid).where(
                _in_blocks(models.Attestation.anchored_block, first, last),
                ~exists().where(
                    models.ChainAttestation.uid == models.Attestation.uid,
                    models.ChainAttestation.tx_hash == models.Attestation.anchored_tx,
                    models.ChainAttestation.block_number == models.Attestation.anchored_block,
                ),
            )
        )
    )
    dropped = sorted(dropped_txs)
    revoked = set(attested)  # a revocation cannot outlive the attestation it revokes
    if dropped:
        revoked.update(
            session.scalars(select(models.Attestation.uid).where(models.Attestation.revoked_tx.in_(dropped)))
        )
    if attested:
        _back_to_outbox(session, "attest", attested)
        reopened.attestations = _update(
            session,
            update(models.Attestation)
            .where(models.Attestation.uid.in_(attested))
            .values(anchored_tx=None, anchored_block=None),
        )
    if revoked:
        _back_to_outbox(session, "revoke", revoked)
        reopened.revocations = _update(
            session,
            update(models.Attestation)
            .where(models.Attestation.uid.in_(revoked), models.Attestation.revoked_tx.is_not(None))
            .values(revoked_tx=None),
        )
    if dropped:
        grant = models.SharingGrant
        _update(
            session,
            update(grant)
            .where(grant.tx_hash.in_(dropped), grant.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC)),
        )
        reopened.grants = _update(
            session, update(grant).where(grant.tx_hash.in_(dropped)).values(tx_hash=NOT_ON_CHAIN, revoke_tx_hash=None)
        )
        reopened.grant_revocations = _update(
            session, update(grant).where(grant.revoke_tx_hash.in_(dropped)).values(revoke_tx_hash=None)
        )
    if reopened:
        log.warning("chain reorganisation: reopened what was sent in dropped blocks: %s", reopened)
    return reopened


def _in_blocks(column: Any, first: int, last: int | None) -> ColumnElement[bool]:
    return and_(column >= first, column <= last) if last is not None else column >= first


def _back_to_outbox(session: Session, kind: str, refs: Collection[str]) -> None:
    item = models.OutboxItem
    _update(
        session,
        update(item)
        .where(item.kind == kind, item.ref.in_(refs), item.status == "done")
        .values(status="pending", tx_hash=None, done_at=None, last_error=DROPPED),
    )


def _update(session: Session, statement: Any) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SyncReport:
    from_block: int
    to_block: int
    facts: int
    rewound_to: int | None


class LogIndexer:
    """Indexes the deployment's events. `sync()` catches up to head minus `confirmations`."""

    def __init__(
        self,
        w3: Web3,
        sessions: sessionmaker[Session],
        manifest: DeploymentManifest,
        artifacts: dict[str, Artifact],
        *,
        confirmations: int = 0,
        batch_blocks: int = 2000,
        name: str = "contracts",
    ) -> None:
        self.w3 = w3
        self.sessions = sessions
        self.manifest = manifest
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        self.name = name
        self.addresses = [Web3.to_checksum_address(c.address) for c in manifest.contracts.values()]
        self._events: dict[bytes, dict[str, Any]] = {}
        for artifact in artifacts.values():
            for entry in artifact.abi:
                if entry["type"] == "event" and entry["name"] in FACTS:
                    self._events[event_abi_to_log_topic(entry)] = entry

    def _rpc(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except TRANSIENT_ERRORS as exc:
            raise ChainUnavailable(f"{what} failed on {endpoint(self.w3)}: {exc}") from exc

    def _block_hash(self, number: int) -> str:
        block = self._rpc("eth_getBlockByNumber", lambda: self.w3.eth.get_block(number))
        return _hex(block["hash"])

    def checkpoint(self) -> int:
        """The last block processed (deploy block - 1 before the first sync)."""
        with self.sessions() as session:
            row = session.get(models.IndexerCheckpoint, self.name)
            return row.block_number if row else self.manifest.deploy_block - 1

    def sync(self, *, max_ranges: int | None = None) -> SyncReport:
        """Processes new blocks up to the safe head, range by range, each in one transaction."""
        rewound = self._rewind_if_reorganised()
        head = int(self._rpc("eth_blockNumber", lambda: self.w3.eth.block_number))
        with self.sessions() as session, session.begin():
            reopen_dropped(session, first=head + 1)  # sent in blocks the chain no longer reaches
        safe = head - self.confirmations
        start = self.checkpoint() + 1
        current, facts, ranges = start, 0, 0
        while current <= safe and (max_ranges is None or ranges < max_ranges):
            end = min(safe, current + self.batch_blocks - 1)
            facts += self._index_range(current, end)
            current, ranges = end + 1, ranges + 1
        return SyncReport(start, current - 1, facts, rewound)

    def _index_range(self, start: int, end: int) -> int:
        logs = self._rpc(
            "eth_getLogs",
            lambda: self.w3.eth.get_logs({"fromBlock": start, "toBlock": end, "address": self.addresses}),
        )
        times: dict[int, datetime] = {}
        hashes: dict[int, str] = {}
        rows: list[models.ChainFact] = []
        for entry in logs:
            abi = self._events.get(bytes(entry["topics"][0])) if entry["topics"] else None
            if abi is None:
                continue
            decoded = get_event_data(self.w3.codec, abi, entry)
            number = int(entry["blockNumber"])
            if number not in times:
                block = self._rpc("eth_getBlockByNumber", lambda n=number: self.w3.eth.get_block(n))
                times[number] = datetime.fromtimestamp(int(block["timestamp"]), UTC)
                hashes[number] = _hex(block["hash"])
            if _hex(entry["blockHash"]) != hashes[number]:
                raise ChainUnavailable(f"block {number} changed while indexing; retry")
            model, build = FACTS[abi["name"]]
            rows.append(
                model(
                    block_number=number,
                    block_hash=hashes[number],
                    block_time=times[number],
                    tx_hash=_hex(entry["transactionHash"]),
                    log_index=int(entry["logIndex"]),
                    **build(dict(decoded["args"])),
                )
            )
        end_hash = hashes.get(end) or self._block_hash(end)
        hashes[end] = end_hash
        with self.sessions() as session, session.begin():
            for model in models.CHAIN_FACTS:
                session.execute(delete(model).where(model.block_number.between(start, end)))  # type: ignore[attr-defined]
            session.execute(
                delete(models.IndexedBlock).where(
                    models.IndexedBlock.name == self.name, models.IndexedBlock.block_number.between(start, end)
                )
            )
            session.add_all(rows)
            session.flush()
            reopen_dropped(session, first=start, last=end)  # sent in a block that did not hold it after all
            _mark_revoked_grants(session, [r for r in rows if isinstance(r, models.ChainGrantRevocation)])
            session.add_all(
                models.IndexedBlock(name=self.name, block_number=n, block_hash=h) for n, h in hashes.items()
            )
            session.merge(models.IndexerCheckpoint(name=self.name, block_number=end, block_hash=end_hash))
        if rows:
            log.info("indexed %d events in blocks %d-%d", len(rows), start, end)
        return len(rows)

    def _rewind_if_reorganised(self) -> int | None:
        """If the checkpoint's block is no longer canonical, rewinds to the last block that is."""
        with self.sessions() as session:
            checkpoint = session.get(models.IndexerCheckpoint, self.name)
            if checkpoint is None or self._canonical(checkpoint.block_number, checkpoint.block_hash):
                return None
            seen = session.scalars(
                select(models.IndexedBlock)
                .where(
                    models.IndexedBlock.name == self.name, models.IndexedBlock.block_number < checkpoint.block_number
                )
                .order_by(models.IndexedBlock.block_number.desc())
            ).all()
            fork = next(
                ((b.block_number, b.block_hash) for b in seen if self._canonical(b.block_number, b.block_hash)), None
            )
        fork_block, fork_hash = fork if fork else (self.manifest.deploy_block - 1, None)
        with self.sessions() as session, session.begin():
            dropped: set[str] = set()
            for model in models.CHAIN_FACTS:
                above = model.block_number > fork_block
                dropped.update(session.scalars(select(model.tx_hash).where(above)))
                session.execute(delete(model).where(above))
            session.execute(
                delete(models.IndexedBlock).where(
                    models.IndexedBlock.name == self.name, models.IndexedBlock.block_number > fork_block
                )
            )
            if fork_hash is None:
                session.execute(delete(models.IndexerCheckpoint).where(models.IndexerCheckpoint.name == self.name))
            else:
                session.merge(models.IndexerCheckpoint(name=self.name, block_number=fork_block, block_hash=fork_hash))
            reopen_dropped(session, first=fork_block + 1, dropped_txs=dropped)
        log.warning("chain reorganised: indexer rewound to block %d", fork_block)
        return fork_block

    def _canonical(self, number: int, block_hash: str) -> bool:
        try:
            return self._block_hash(number) == block_hash
        except BlockNotFound:
            return False
