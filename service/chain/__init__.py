"""Everything that talks to the chain: compiler, deployment, contract clients and their structs,
sender, indexer, and the verifiers' reader (proof_reader) and EIP-712 messages (typed_data).

The names below are loaded on first use (PEP 562), not with the package: importing one module
of it — a verifier imports proof_reader, typed_data and structs — does not load web3, the
compiler and every contract client. Import from the submodules; these names are the package's
public face."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.chain.anvil import AnvilProcess
    from service.chain.compiler import Artifact, compile_contracts, load_artifacts
    from service.chain.contracts import AttestationRegistry, ConstellationRegistry, ProvenanceAnchor, SharingLedger
    from service.chain.deployment import Chain, DeploymentManifest, check_manifest, deploy_contracts
    from service.chain.indexer import LogIndexer, SyncReport
    from service.chain.reverts import ErrorDecoder, revert_class, revert_data
    from service.chain.sender import PendingTransaction, Receipt, TransactionSender
    from service.chain.structs import AttestationRequest, SignedAttestation

_MODULE_OF = {
    "AnvilProcess": "anvil",
    "Artifact": "compiler",
    "compile_contracts": "compiler",
    "load_artifacts": "compiler",
    "AttestationRegistry": "contracts",
    "ConstellationRegistry": "contracts",
    "ProvenanceAnchor": "contracts",
    "SharingLedger": "contracts",
    "AttestationRequest": "structs",
    "SignedAttestation": "structs",
    "Chain": "deployment",
    "DeploymentManifest": "deployment",
    "check_manifest": "deployment",
    "deploy_contracts": "deployment",
    "LogIndexer": "indexer",
    "SyncReport": "indexer",
    "ErrorDecoder": "reverts",
    "revert_class": "reverts",
    "revert_data": "reverts",
    "PendingTransaction": "sender",
    "Receipt": "sender",
    "TransactionSender": "sender",
}

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


def __getattr__(name: str) -> Any:
    """A public name, imported from its submodule the first time it is asked for."""
    module = _MODULE_OF.get(name)
    if module is None:  # also how `from service.chain import typed_data` finds a submodule not loaded yet
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
