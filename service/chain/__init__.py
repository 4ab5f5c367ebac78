"""Everything that talks to the chain: compiler, deployment, contract clients, sender, indexer."""

from service.chain.anvil import AnvilProcess
from service.chain.compiler import Artifact, compile_contracts, load_artifacts
from service.chain.contracts import (
    AttestationRegistry,
    AttestationRequest,
    ConstellationRegistry,
    ProvenanceAnchor,
    Role,
    SharingLedger,
    SignedAttestation,
)
from service.chain.deployment import Chain, DeploymentManifest, check_manifest, deploy_contracts
from service.chain.indexer import LogIndexer, SyncReport
from service.chain.reverts import ErrorDecoder, revert_class, revert_data
from service.chain.sender import PendingTransaction, Receipt, TransactionSender

__all__ = [
    "AnvilProcess",
    "Artifact",
    "AttestationRegistry",
    "AttestationRequest",
    "Chain",
    "ConstellationRegistry",
    "DeploymentManifest",
    "ErrorDecoder",
    "LogIndexer",
    "PendingTransaction",
    "ProvenanceAnchor",
    "Receipt",
    "Role",
    "SharingLedger",
    "SignedAttestation",
    "SyncReport",
    "TransactionSender",
    "check_manifest",
    "compile_contracts",
    "deploy_contracts",
    "load_artifacts",
    "revert_class",
    "revert_data",
]
