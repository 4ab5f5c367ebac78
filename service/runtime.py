"""What a running service holds beside its settings: the database, the key vault and, opened
lazily (the chain may be down when the service starts), the chain and its indexer. The API and
the CLI build one Runtime each; tests pass their own settings."""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.chain import anchorer
from service.chain.deployment import Chain, DeploymentManifest
from service.chain.indexer import LogIndexer
from service.db.models import AttestationSchema
from service.db.session import is_unreachable, make_engine, make_session_factory
from service.domain import attestations, leases, schema_catalogue
from service.domain.disclosure import AnchorRef
from service.domain.keys import KeyVault
from service.epcis import capture as capturing
from service.errors import ChainUnavailable, TransactionTimeout
from service.settings import Settings

log = logging.getLogger(__name__)
ANCHOR_LEASE_SECONDS = 60.0


@dataclass
class RelayRound:
    attestations: attestations.RelayReport
    anchoring: anchorer.AnchorReport | None
    """None when another process leads the anchorer."""

    def did_something(self) -> bool:
        a, e = self.attestations, self.anchoring
        return bool(a.attested or a.revoked or a.failed or (e and (e.sealed or e.anchored or e.adopted or e.contested)))

    def as_dict(self) -> dict[str, object]:
        def plain(report: object) -> dict[str, object] | None:
            if report is None:
                return None
            return {k: v for k, v in dataclasses.asdict(report).items() if k != "outage"}  # type: ignore[call-overload]

        return {"attestations": plain(self.attestations), "anchoring": plain(self.anchoring)}


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        kek = settings.key_encryption_key
        self.vault: KeyVault | None = KeyVault(kek.get_secret_value()) if kek else None
        self._chain: Chain | None = None
        self._anchor_ref: AnchorRef | None = None
        self._attestation_registry: str | None = None
        self._indexer: LogIndexer | None = None
        self._lock = threading.Lock()
        self.index_lock = threading.Lock()
        self.relay_lock = threading.Lock()
        self._schemas_lock = threading.Lock()
        self._relayer: BackgroundRelayer | None = None
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @property
    def chain(self) -> Chain:
        """The checked chain connection (ChainUnavailable / ManifestMismatch if it cannot be had)."""
        with self._lock:
            if self._chain is None:
                self._chain = Chain.open(self.settings)
            return self._chain

    def anchor_ref(self) -> AnchorRef | None:
        """Where the anchors live, from the deployment manifest (no chain call: views name it
        even while the chain is down)."""
        if self._anchor_ref is None and self.settings.manifest_path.is_file():
            manifest = DeploymentManifest.load(self.settings.manifest_path)
            self._anchor_ref = AnchorRef(manifest.chain_id, manifest.contracts["ProvenanceAnchor"].address)
            self._attestation_registry = manifest.contracts["AttestationRegistry"].address
        return self._anchor_ref

    def attestation_registry(self) -> tuple[int, str]:
        """The chain and AttestationRegistry address, from the deployment manifest (no chain
        call: credentials name them while the chain is down too)."""
        where = self.anchor_ref()
        if where is not None and self._attestation_registry is not None:
            return where.chain_id, self._attestation_registry
        manifest = self.chain.manifest
        return manifest.chain_id, manifest.contracts["AttestationRegistry"].address

    def anchorer_address(self) -> str | None:
        """The account that anchors (the relayer's), without a chain call: pages name it even
        while the chain is down."""
        key = self.settings.relayer_private_key
        return Account.from_key(key.get_secret_value()).address if key is not None else None

    def trust(self) -> dict[str, Any]:
        """What an outside verifier pins (docs/proof-format.md §1) — the chain, the four
        contracts, the anchoring account — from the manifest and the relayer key, with no chain
        call. All None without a deployment manifest."""
        where = self.anchor_ref()
        contracts = DeploymentManifest.load(self.settings.manifest_path).contracts if where else {}

        def address(name: str) -> str | None:
            return contracts[name].address if name in contracts else None

        return {
            "chainId": where.chain_id if where else None,
            "provenanceAnchor": where.contract if where else None,
            "constellationRegistry": address("ConstellationRegistry"),
            "attestationRegistry": address("AttestationRegistry"),
            "sharingLedger": address("SharingLedger"),
            "anchorer": self.anchorer_address() if where else None,
        }

    def reachable_chain(self) -> Chain | None:
        """The chain, or None while it cannot be reached (readers then say what they could not check)."""
        try:
            return self.chain
        except ChainUnavailable:
            return None

    @property
    def indexer(self) -> LogIndexer:
        chain = self.chain
        with self._lock:
            if self._indexer is None:
                self._indexer = LogIndexer(
                    chain.w3,
                    self.sessions,
                    chain.manifest,
                    chain.artifacts,
                    confirmations=self.settings.confirmations,
                    batch_blocks=self.settings.indexer_batch_blocks,
                )
            return self._indexer

    def sync_index(self) -> None:
        """Mirrors new chain events now (after the service itself sent a transaction)."""
        with self.index_lock:
            report = self.indexer.sync()
        if report.rewound_to is not None:  # our transactions in the dropped blocks are gone: so are their nonces
            self.chain.sender.resync_nonce()

    def ensure_schemas(self) -> None:
        """Registers the built-in attestation schemas (on chain too) the first time they are needed."""
        with self._schemas_lock, self.sessions() as session, session.begin():
            count = session.scalar(select(func.count()).select_from(AttestationSchema).where(AttestationSchema.builtin))
            if count == len(schema_catalogue.BUILTIN):
                return
            schema_catalogue.ensure_builtin_schemas(session=session, chain=self.chain)
        self.sync_index()

    def _anchor(self, chain: Chain, *, flush: bool) -> anchorer.AnchorReport | None:
        """Anchors due event batches if this process leads the anchorer (a database lease)."""

        def lead() -> bool:
            return leases.acquire(self.sessions, name="anchorer", holder=self.identity, ttl=ANCHOR_LEASE_SECONDS)

        if not lead():
            return None
        return anchorer.anchor_pending(
            sessions=self.sessions,
            chain=chain,
            max_leaves=self.settings.anchor_batch_max_leaves,
            max_age=self.settings.anchor_batch_max_age_seconds,
            flush=flush,
            still_leading=lead,
        )

    def relay(self, *, wait: float | None = None, flush: bool = False) -> RelayRound | None:
        """Sends the outbox (attestations in batches, revocations) and due event batches
        (`flush`: every pending event now) to the chain and mirrors the result.

        Returns None if another round holds the outbox for longer than `wait` seconds (None: as
        long as it takes). Raises ChainUnavailable / TransactionTimeout; what is unsent stays
        pending."""
        if not self.relay_lock.acquire(timeout=-1 if wait is None else wait):
            return None
        try:
            chain = self.chain
            self.sync_index()  # so attestations already on chain are adopted, not resent
            with self.sessions() as session, session.begin():  # before their records are sealed
                capturing.sign_migrated_captures(session=session, chain=chain, vault=self.vault)
            try:
                report = RelayRound(
                    attestations.relay_outbox(
                        sessions=self.sessions, chain=chain, batch_size=self.settings.attestation_batch_size
                    ),
                    self._anchor(chain, flush=flush),
                )
            except (ChainUnavailable, TransactionTimeout):
                chain.sender.resync_nonce()
                raise
            self.sync_index()
            return report
        finally:
            self.relay_lock.release()

    def start_relayer(self) -> None:
        if self.settings.relay_interval_seconds > 0 and self._relayer is None:
            self._relayer = BackgroundRelayer(self, self.settings.relay_interval_seconds)
            self._relayer.start()

    def close(self) -> None:
        if self._relayer is not None:
            self._relayer.stop()
            self._relayer = None
        self.engine.dispose()


class BackgroundRelayer(threading.Thread):
    """Retries the outbox every `interval` seconds, so work queued during a chain outage goes
    out when the chain is back, without anyone asking."""

    def __init__(self, runtime: Runtime, interval: float) -> None:
        super().__init__(name="relayer", daemon=True)
        self.runtime = runtime
        self.interval = interval
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                report = self.runtime.relay(wait=0)
            except (ChainUnavailable, TransactionTimeout) as exc:
                log.warning("relay postponed, the chain is unavailable: %s", exc)
            except Exception as exc:  # the loop must outlive any one failure; it is logged with its traceback
                if is_unreachable(exc):
                    log.warning("relay postponed, the database is unavailable: %s", getattr(exc, "orig", exc))
                else:
                    log.exception("relay round failed")
            else:
                if report and report.did_something():
                    log.info("relayed %s", report)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=30)
