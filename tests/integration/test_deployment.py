from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils import keccak
from pydantic import SecretStr

from service.chain.anvil import AnvilProcess
from service.chain.compiler import DEPLOYABLE, Artifact
from service.chain.deployment import Chain, DeploymentManifest, check_manifest
from service.chain.rpc import connect
from service.errors import ChainUnavailable, ConfigurationError, ManifestMismatch
from service.settings import Settings


def test_manifest_records_chain_addresses_block_compiler_and_hashes(
    manifest: DeploymentManifest, base_settings: Settings, artifacts: dict[str, Artifact]
) -> None:
    saved = json.loads(base_settings.manifest_path.read_text())
    assert saved["chain_id"] == 31337
    assert saved["deploy_block"] >= 1
    assert saved["compiler"].startswith("0.8.30+commit")
    w3 = connect(base_settings.rpc_url)
    for name in DEPLOYABLE:
        entry = manifest.contracts[name]
        code = bytes(w3.eth.get_code(entry.address))
        assert entry.code_hash == "0x" + keccak(code).hex()
        assert entry.artifact_hash == artifacts[name].runtime_hash


def test_chain_open_accepts_a_matching_manifest(base_settings: Settings, manifest: DeploymentManifest) -> None:
    chain = Chain.open(base_settings)
    assert chain.chain_id == 31337
    assert chain.registry.address == manifest.contracts["ConstellationRegistry"].address


def test_wrong_chain_id_is_refused(base_settings: Settings, manifest: DeploymentManifest) -> None:
    with (
        AnvilProcess(chain_id=4242) as other,
        pytest.raises(ManifestMismatch, match="chain id 31337 but the endpoint is chain id 4242"),
    ):
        Chain.open(base_settings.model_copy(update={"rpc_url": other.rpc_url}))


def test_fresh_chain_with_same_id_has_no_code_and_is_refused(
    base_settings: Settings, manifest: DeploymentManifest
) -> None:
    with AnvilProcess() as fresh, pytest.raises(ManifestMismatch, match="has no code"):
        Chain.open(base_settings.model_copy(update={"rpc_url": fresh.rpc_url}))


def test_tampered_code_hash_is_refused(
    manifest: DeploymentManifest, base_settings: Settings, artifacts: dict[str, Artifact]
) -> None:
    forged = manifest.model_copy(deep=True)
    forged.contracts["ProvenanceAnchor"].code_hash = "0x" + "00" * 32
    with pytest.raises(ManifestMismatch, match="ProvenanceAnchor"):
        check_manifest(connect(base_settings.rpc_url), forged, artifacts)


def test_rebuilt_artifacts_are_refused(
    manifest: DeploymentManifest, base_settings: Settings, artifacts: dict[str, Artifact]
) -> None:
    changed = dict(artifacts)
    original = artifacts["SharingLedger"]
    changed["SharingLedger"] = Artifact(**{**original.__dict__, "deployed_bytecode": original.deployed_bytecode + "00"})
    with pytest.raises(ManifestMismatch, match="SharingLedger was rebuilt"):
        check_manifest(connect(base_settings.rpc_url), manifest, changed)


def test_unreachable_rpc_is_a_clear_error(base_settings: Settings, manifest: DeploymentManifest) -> None:
    with pytest.raises(ChainUnavailable, match=r"127\.0\.0\.1:9 is unreachable"):
        Chain.open(base_settings.model_copy(update={"rpc_url": "http://127.0.0.1:9"}))


def test_missing_or_corrupt_manifest_is_a_configuration_error(base_settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is missing"):
        DeploymentManifest.load(tmp_path / "absent.json")
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{not json")
    with pytest.raises(ConfigurationError, match="is not valid"):
        DeploymentManifest.load(corrupt)


def test_no_relayer_key_is_a_configuration_error(base_settings: Settings, manifest: DeploymentManifest) -> None:
    with pytest.raises(ConfigurationError, match="RELAYER_PRIVATE_KEY"):
        Chain.open(base_settings.model_copy(update={"relayer_private_key": None}))
    assert SecretStr  # the key is a SecretStr: it never prints
