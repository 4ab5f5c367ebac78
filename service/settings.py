"""Every setting of the service, read once from the environment (prefix CONSTELLATE_) or .env."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSTELLATE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'build' / 'constellate.db'}",
        description="SQLAlchemy URL: a SQLite file by default, postgresql+psycopg://... in production.",
    )
    rpc_url: str = Field(default="http://127.0.0.1:8545", description="JSON-RPC endpoint of any EVM chain.")
    rpc_timeout_seconds: float = Field(default=10.0, gt=0, description="Timeout of one JSON-RPC request.")
    manifest_path: Path = Field(
        default=PROJECT_ROOT / "build" / "deployment.json",
        description="Deployment manifest written by `constellate deploy`; the service refuses one that does not match the chain.",
    )
    build_dir: Path = Field(default=PROJECT_ROOT / "build" / "contracts", description="Compiled contract artifacts.")
    contracts_dir: Path = Field(default=PROJECT_ROOT / "contracts", description="Solidity sources.")
    solc: str | None = Field(
        default=None,
        description="Path of a native solc of the pinned version; otherwise scripts/solc resolves one.",
    )
    relayer_private_key: SecretStr | None = Field(
        default=None,
        description="Key of the account that sends transactions and pays gas (the operator's relayer).",
    )
    admin_api_key: SecretStr | None = Field(
        default=None, description="Bootstrap admin API key: acts as the operator, may onboard members."
    )
    operator_address: str | None = Field(
        default=None,
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="The operator's administrative Ethereum account (a key kept apart, never the relayer's): "
        "signing in with it (SIWE) may obtain an admin API key. Unset: only the bootstrap admin API key acts as "
        "the operator. The relayer's key never signs anyone in.",
    )
    dev_mode: bool = Field(
        default=False,
        description="A development chain: Anvil's well-known accounts (public keys of its default mnemonic) may "
        "sign in and be members' keys. `up` turns it on for its own embedded Anvil; off everywhere else.",
    )
    key_encryption_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes: encrypts managed member keys at rest (AES-256-GCM).",
    )
    attestation_batch_size: int = Field(default=50, ge=1, le=500, description="Attestations per relayed transaction.")
    relay_interval_seconds: float = Field(
        default=5.0, ge=0, description="Seconds between retries of unsent attestations and revocations (0: off)."
    )
    signature_ttl_seconds: int = Field(
        default=7 * 86400, ge=60, description="Deadline the service gives its own signatures."
    )
    anchor_batch_max_leaves: int = Field(default=1000, ge=1, le=100_000, description="Events per anchored Merkle root.")
    anchor_batch_max_age_seconds: float = Field(
        default=10.0, ge=0, description="Longest an event waits for its batch to fill before it is anchored anyway."
    )
    capture_max_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="Largest EPCIS document accepted (413 above)."
    )
    request_max_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest body of any other request than a bulk document (capture, import, record verification): 413 above.",
    )
    capture_max_events: int = Field(default=10_000, ge=1, description="Most events in one EPCIS capture (413 above).")
    confirmations: int = Field(default=0, ge=0, description="Blocks the indexer waits before reading a block.")
    indexer_batch_blocks: int = Field(default=2000, ge=1, description="Largest block range of one eth_getLogs call.")
    tx_timeout_seconds: float = Field(default=60.0, gt=0, description="How long to wait for a transaction receipt.")
    tx_max_retries: int = Field(default=4, ge=0, description="Retries of a transaction on transient RPC errors.")
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Where the public reaches this service: the base of the Digital Link URLs in QR codes and pages.",
    )
    public_rpc_url: str | None = Field(
        default=None,
        description="The JSON-RPC URL pages tell readers to verify against (default: rpc_url).",
    )
    explorer_tx_url: str | None = Field(
        default=None,
        description="A block explorer's transaction URL with {tx} for the hash (e.g. https://etherscan.io/tx/{tx}); none on a local chain.",
    )
    journey_cache_entries: int = Field(
        default=1024,
        ge=0,
        description="Journeys kept rendered per process (0: none); any data change invalidates them.",
    )
    host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port the API listens on.")
    keep_alive_seconds: int = Field(
        default=75,
        ge=1,
        le=3600,
        description="How long `serve` keeps an idle connection open: longer than any proxy or client in front "
        "reuses one (a connection closed just as it is reused fails that request).",
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="How `constellate serve` writes its logs: one JSON object per line, or plain text.",
    )
    log_level: str = Field(
        default="INFO",
        pattern=r"(?i)^(debug|info|warning|error|critical)$",
        description="Least severe level `constellate serve` logs (DEBUG, INFO, WARNING, ERROR, CRITICAL).",
    )
    access_log: bool = Field(
        default=True,
        description="One log line per request (method, path, status, duration, request id); uvicorn's own is off.",
    )
    metrics_enabled: bool = Field(
        default=True,
        description="Serve Prometheus metrics at /metrics (aggregate numbers only; keep it off the public network).",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
