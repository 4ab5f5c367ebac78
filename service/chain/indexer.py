"""Mirrors contract events into the database: eth_getLogs over block ranges from a stored
checkpoint, a confirmation depth, idempotent writes (a range is replaced, never doubled),
resumption after a restart, and a rewind to the fork point when the chain reorganises."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_utils import event_abi_to_log_topic
from sqlalchemy import delete, select, update
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
    database (a database restored from a backup older than the revocation) is marked revoked."""
    for fact in revocations:
        session.execute(
            update(models.SharingGrant)
            .where(models.SharingGrant.id == fact.grant_id, models.SharingGrant.revoked_at.is_(None))
            .values(revoked_at=fact.block_time, revoke_tx_hash=fact.tx_hash)
        )


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
            for model in models.CHAIN_FACTS:
                session.execute(delete(model).where(model.block_number > fork_block))  # type: ignore[attr-defined]
            session.execute(
                delete(models.IndexedBlock).where(
                    models.IndexedBlock.name == self.name, models.IndexedBlock.block_number > fork_block
                )
            )
            if fork_hash is None:
                session.execute(delete(models.IndexerCheckpoint).where(models.IndexerCheckpoint.name == self.name))
            else:
                session.merge(models.IndexerCheckpoint(name=self.name, block_number=fork_block, block_hash=fork_hash))
        log.warning("chain reorganised: indexer rewound to block %d", fork_block)
        return fork_block

    def _canonical(self, number: int, block_hash: str) -> bool:
        try:
            return self._block_hash(number) == block_hash
        except BlockNotFound:
            return False
