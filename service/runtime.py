"""What a running service holds beside its settings: the database, the key vault and, opened
lazily (the chain may be down when the service starts), the chain and its indexer. The API and
the CLI build one Runtime each; tests pass their own settings."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from service.chain.deployment import Chain
from service.chain.indexer import LogIndexer
from service.db.session import make_engine, make_session_factory
from service.domain.keys import KeyVault
from service.settings import Settings


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        kek = settings.key_encryption_key
        self.vault: KeyVault | None = KeyVault(kek.get_secret_value()) if kek else None
        self._chain: Chain | None = None
        self._indexer: LogIndexer | None = None
        self._lock = threading.Lock()
        self.index_lock = threading.Lock()

    @property
    def chain(self) -> Chain:
        """The checked chain connection (ChainUnavailable / ManifestMismatch if it cannot be had)."""
        with self._lock:
            if self._chain is None:
                self._chain = Chain.open(self.settings)
            return self._chain

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
            self.indexer.sync()

    def close(self) -> None:
        self.engine.dispose()
