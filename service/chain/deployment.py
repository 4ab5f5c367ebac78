"""Deploys the contracts to any JSON-RPC endpoint, writes the deployment manifest, and opens
a checked connection: the service refuses a manifest that does not describe the chain."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from eth_utils import keccak
from pydantic import BaseModel, ValidationError
from web3 import Web3

from service.chain.compiler import DEPLOYABLE, Artifact, load_artifacts
from service.chain.contracts import AttestationRegistry, ConstellationRegistry, ProvenanceAnchor, SharingLedger
from service.chain.reverts import ErrorDecoder
from service.chain.rpc import chain_id, connect
from service.chain.sender import TransactionSender
from service.errors import ChainUnavailable, ConfigurationError, ManifestMismatch
from service.settings import Settings


class DeployedContract(BaseModel):
    address: str
    tx_hash: str
    code_hash: str
    """keccak256 of the code on chain (immutables filled in)."""
    artifact_hash: str
    """keccak256 of the compiled runtime bytecode it was deployed from."""


class DeploymentManifest(BaseModel):
    chain_id: int
    deploy_block: int
    deployer: str
    compiler: str
    created_at: datetime
    contracts: dict[str, DeployedContract]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> DeploymentManifest:
        if not path.is_file():
            raise ConfigurationError(f"deployment manifest {path} is missing: run `constellate deploy`")
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except (ValueError, ValidationError) as exc:
            raise ConfigurationError(f"deployment manifest {path} is not valid: {exc}") from exc


def _code_hash(w3: Web3, address: str) -> str:
    return "0x" + keccak(bytes(w3.eth.get_code(Web3.to_checksum_address(address)))).hex()


def deploy_contracts(sender: TransactionSender, artifacts: dict[str, Artifact]) -> DeploymentManifest:
    """Deploys the registry, then the three contracts that consult it."""
    w3 = sender.w3
    deployed: dict[str, DeployedContract] = {}
    first_block: int | None = None

    def deploy(name: str, *constructor_args: str) -> str:
        nonlocal first_block
        artifact = artifacts[name]
        constructor = next((e for e in artifact.abi if e["type"] == "constructor"), {"inputs": []})
        types = [p["type"] for p in constructor["inputs"]]
        data = artifact.bytecode + w3.codec.encode(types, list(constructor_args)).hex()
        receipt = sender.send({"data": data})
        tx = w3.eth.get_transaction_receipt(receipt.tx_hash)
        address = Web3.to_checksum_address(tx["contractAddress"])
        first_block = receipt.block_number if first_block is None else first_block
        deployed[name] = DeployedContract(
            address=address,
            tx_hash=receipt.tx_hash,
            code_hash=_code_hash(w3, address),
            artifact_hash=artifact.runtime_hash,
        )
        return address

    registry = deploy("ConstellationRegistry")
    for name in ("ProvenanceAnchor", "AttestationRegistry", "SharingLedger"):
        deploy(name, registry)
    assert first_block is not None
    return DeploymentManifest(
        chain_id=chain_id(w3),
        deploy_block=first_block,
        deployer=sender.address,
        compiler=artifacts["ConstellationRegistry"].compiler,
        created_at=datetime.now(UTC),
        contracts=deployed,
    )


def check_manifest(w3: Web3, manifest: DeploymentManifest, artifacts: dict[str, Artifact]) -> None:
    """Raises ManifestMismatch unless the chain id, the code on chain and the artifacts all match."""
    actual = chain_id(w3)
    if actual != manifest.chain_id:
        raise ManifestMismatch(f"manifest is for chain id {manifest.chain_id} but the endpoint is chain id {actual}")
    missing = [name for name in DEPLOYABLE if name not in manifest.contracts]
    if missing:
        raise ManifestMismatch(f"manifest lacks contracts {missing}")
    for name in DEPLOYABLE:
        entry = manifest.contracts[name]
        try:
            on_chain = _code_hash(w3, entry.address)
        except OSError as exc:
            raise ChainUnavailable(f"could not read the code of {name}: {exc}") from exc
        if on_chain != entry.code_hash:
            found = "no code" if on_chain == "0x" + keccak(b"").hex() else f"code hash {on_chain}"
            raise ManifestMismatch(f"{name} at {entry.address} has {found}, manifest says {entry.code_hash}")
        if artifacts[name].runtime_hash != entry.artifact_hash:
            raise ManifestMismatch(f"{name} was rebuilt since it was deployed: redeploy or restore the artifacts")


class Chain:
    """A checked connection to the deployed contracts, with one transaction sender."""

    def __init__(
        self, w3: Web3, sender: TransactionSender, manifest: DeploymentManifest, artifacts: dict[str, Artifact]
    ):
        self.w3 = w3
        self.sender = sender
        self.manifest = manifest
        self.artifacts = artifacts

        def client(cls: type, name: str):  # type: ignore[no-untyped-def]
            return cls(w3, manifest.contracts[name].address, artifacts[name].abi, sender)

        self.registry: ConstellationRegistry = client(ConstellationRegistry, "ConstellationRegistry")
        self.anchor: ProvenanceAnchor = client(ProvenanceAnchor, "ProvenanceAnchor")
        self.attestations: AttestationRegistry = client(AttestationRegistry, "AttestationRegistry")
        self.sharing: SharingLedger = client(SharingLedger, "SharingLedger")

    @property
    def chain_id(self) -> int:
        return self.manifest.chain_id

    def address_of(self, name: str) -> str:
        return self.manifest.contracts[name].address

    @classmethod
    def open(cls, settings: Settings, *, w3: Web3 | None = None, check: bool = True) -> Chain:
        """Connects to settings.rpc_url and checks the manifest against the chain."""
        if settings.relayer_private_key is None:
            raise ConfigurationError(
                "CONSTELLATE_RELAYER_PRIVATE_KEY is not set: the service needs an account to send transactions"
            )
        w3 = w3 or connect(settings.rpc_url, timeout=settings.rpc_timeout_seconds)
        artifacts = load_artifacts(settings)
        manifest = DeploymentManifest.load(settings.manifest_path)
        if check:
            check_manifest(w3, manifest, artifacts)
        sender = new_sender(w3, settings, artifacts)
        return cls(w3, sender, manifest, artifacts)


def new_sender(w3: Web3, settings: Settings, artifacts: dict[str, Artifact]) -> TransactionSender:
    if settings.relayer_private_key is None:
        raise ConfigurationError("CONSTELLATE_RELAYER_PRIVATE_KEY is not set")
    return TransactionSender(
        w3,
        settings.relayer_private_key.get_secret_value(),
        decoder=ErrorDecoder([a.abi for a in artifacts.values()]),
        timeout=settings.tx_timeout_seconds,
        max_retries=settings.tx_max_retries,
    )
