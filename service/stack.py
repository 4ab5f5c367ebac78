"""The local stack `scripts/up` runs: Anvil (unless an RPC URL is given), compiled and deployed
contracts, a migrated database and the API server. Tests start the same stack. What an instance
owns stays in its state folder (state_folder.py); the Anvil it starts never outlives it."""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from pydantic import SecretStr

from service import demo
from service.api.app import create_app
from service.chain.anvil import DEV_PRIVATE_KEY, AnvilProcess
from service.chain.compiler import compile_contracts, load_artifacts
from service.chain.deployment import DeploymentManifest, check_manifest, deploy_contracts, new_sender
from service.chain.rpc import connect
from service.client import Client
from service.db.migrate import upgrade
from service.demo import Demo
from service.domain.keys import generate_key_encryption_key
from service.errors import ConfigurationError
from service.settings import Settings
from service.state_folder import StateFolder

log = logging.getLogger(__name__)


def ensure_artifacts(settings: Settings, *, rebuild: bool = False) -> None:
    """Compiles unless every artifact is present and newer than every source."""
    sources = list(settings.contracts_dir.rglob("*.sol"))
    newest_source = max((p.stat().st_mtime for p in sources), default=0.0)
    try:
        artifacts = [settings.build_dir / f"{name}.json" for name in load_artifacts(settings)]
        stale = rebuild or min(p.stat().st_mtime for p in artifacts) < newest_source
    except ConfigurationError:
        stale = True
    if stale:
        log.info("compiling contracts")
        compile_contracts(settings)


def ensure_deployment(settings: Settings) -> tuple[DeploymentManifest, bool]:
    """Keeps the manifest if it matches the chain, else deploys afresh. Returns (manifest, deployed)."""
    w3 = connect(settings.rpc_url, timeout=settings.rpc_timeout_seconds)
    artifacts = load_artifacts(settings)
    try:
        manifest = DeploymentManifest.load(settings.manifest_path)
        check_manifest(w3, manifest, artifacts)
        return manifest, False
    except ConfigurationError as exc:
        log.info("deploying contracts (%s)", exc)
    manifest = deploy_contracts(new_sender(w3, settings, artifacts), artifacts)
    manifest.save(settings.manifest_path)
    return manifest, True


class ApiServer:
    """Uvicorn in a background thread, stoppable."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            lifespan="on",
            timeout_keep_alive=settings.keep_alive_seconds,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="api", daemon=True)

    def start(self, timeout: float = 20.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ConfigurationError(
                    f"the API did not start on {self.server.config.host}:{self.server.config.port}"
                )
            time.sleep(0.05)

    @property
    def port(self) -> int:
        sockets = [s for server in self.server.servers for s in server.sockets]
        return int(sockets[0].getsockname()[1]) if sockets else self.server.config.port

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _local_secrets(settings: Settings, state_dir: Path) -> dict[str, object]:
    """An admin API key and a key-encryption key for the embedded stack when settings give
    none: made once, kept in `state_dir/secrets.json` (mode 0600) so reruns keep working."""
    path = state_dir / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
    if "admin_api_key" not in stored or "key_encryption_key" not in stored:
        stored = {
            "admin_api_key": stored.get("admin_api_key") or f"admin_{secrets.token_urlsafe(24)}",
            "key_encryption_key": stored.get("key_encryption_key") or generate_key_encryption_key(),
        }
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(stored))
    updates: dict[str, object] = {}
    if settings.admin_api_key is None:
        updates["admin_api_key"] = SecretStr(stored["admin_api_key"])
    if settings.key_encryption_key is None:
        updates["key_encryption_key"] = SecretStr(stored["key_encryption_key"])
    return updates


@dataclass
class LocalStack:
    """Everything `up` runs; start() returns once the API answers."""

    settings: Settings
    state_dir: Path
    anvil: AnvilProcess | None = None
    api: ApiServer | None = None
    deployed: bool = False
    qr_dir: Path | None = None
    urls: dict[str, str] = field(default_factory=dict)
    folder: StateFolder | None = None

    def start(self, *, embedded_chain: bool) -> LocalStack:
        try:
            self._start(embedded_chain)
        except BaseException:  # nothing is left running, whatever went wrong
            self.stop()
            raise
        return self

    def _start(self, embedded_chain: bool) -> None:
        self.folder = StateFolder(self.state_dir)
        self.settings = self.folder.owned_settings(self.settings)
        self.folder.lock(self.settings)
        self.folder.check_made_by_up()
        if embedded_chain:
            self.anvil = AnvilProcess(
                state_path=self.state_dir / "anvil-state.json",
                log_path=self.state_dir / "anvil.log",
                stop_with_parent=True,  # a crash of this process (the API's) stops it too
            ).start()
            updates: dict[str, object] = {"rpc_url": self.anvil.rpc_url}
            if "dev_mode" not in self.settings.model_fields_set:  # a chain of published keys: say so
                updates["dev_mode"] = True
            if self.settings.relayer_private_key is None:
                updates["relayer_private_key"] = SecretStr(DEV_PRIVATE_KEY)
            self.settings = self.settings.model_copy(update=updates)
        self.settings = self.settings.model_copy(update=_local_secrets(self.settings, self.state_dir))
        ensure_artifacts(self.settings)
        manifest, self.deployed = ensure_deployment(self.settings)
        self.folder.record_database(  # the manifest is up's; the database only if up makes or made it
            self.settings.database_url,
            chain_id=manifest.chain_id,
            contracts={name: contract.address for name, contract in manifest.contracts.items()},
        )
        if self.deployed and embedded_chain:  # the database mirrored a chain that is gone
            self.folder.forget_database(self.settings.database_url)
        upgrade(self.settings.database_url)
        if "public_base_url" not in self.settings.model_fields_set and self.settings.port:
            # QR codes and pages point at this server unless settings name a public address.
            local = f"http://{self.settings.host}:{self.settings.port}"
            self.settings = self.settings.model_copy(update={"public_base_url": local})
        self.api = ApiServer(self.settings)
        self.api.start()
        base = f"http://{self.settings.host}:{self.api.port}"
        self.urls = {"api": base, "docs": f"{base}/docs", "ready": f"{base}/ready", "rpc": self.settings.rpc_url}

    def seed_demo(self) -> Demo:
        """Seeds the demo constellations through the API (idempotent), anchors what is pending
        and writes a QR code (PNG) for each demo journey into `state_dir/qr`."""
        assert self.api is not None and self.settings.admin_api_key is not None
        base = self.urls["api"]
        with Client(base, self.settings.admin_api_key.get_secret_value()) as admin:
            seeded = demo.seed(admin, self.state_dir / "demo.json")
            self.api.app.state.runtime.relay(flush=True)
            qr_dir = self.state_dir / "qr"
            qr_dir.mkdir(exist_ok=True)
            for path in seeded.journeys:
                png = admin.http.get(f"/qr{path}.png", params={"scale": 8})
                png.raise_for_status()
                (qr_dir / (path.strip("/").replace("/", "-") + ".png")).write_bytes(png.content)
        with httpx.Client(base_url=base, timeout=60) as public:  # teasers say what the public page shows
            seeded = dataclasses.replace(seeded, journeys=demo.teasers(public, seeded.journeys))
        self.qr_dir = qr_dir
        return seeded

    def stop(self) -> None:
        if self.api is not None:
            self.api.stop()
            self.api = None
        if self.anvil is not None:
            self.anvil.stop()
            self.anvil = None
        if self.folder is not None:
            self.folder.release()
