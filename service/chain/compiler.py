"""Builds the contracts with py-solc-x through the project's one pinned compiler (scripts/solc).

The compiler settings are read from foundry.toml, so forge and the service compile the same
sources with the same settings and produce identical bytecode.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx
import solcx.wrapper
from eth_utils import keccak

from service.errors import ConfigurationError
from service.settings import PROJECT_ROOT, Settings

SOLC_VERSION = "0.8.30"
DEPLOYABLE = ("ConstellationRegistry", "ProvenanceAnchor", "AttestationRegistry", "SharingLedger")
SOLC_WRAPPER = PROJECT_ROOT / "scripts" / "solc"


@dataclass(frozen=True)
class Artifact:
    """What the service needs of one compiled contract."""

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    metadata: str
    compiler: str

    @property
    def runtime_hash(self) -> str:
        """keccak256 of the runtime bytecode, as recorded in the deployment manifest."""
        return "0x" + keccak(hexstr=self.deployed_bytecode).hex()

    def to_json(self) -> dict[str, Any]:
        return {
            "contractName": self.name,
            "sourceName": self.source,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
            "metadata": self.metadata,
            "compiler": self.compiler,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        return cls(
            name=data["contractName"],
            source=data["sourceName"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
            metadata=data["metadata"],
            compiler=data["compiler"],
        )


def _foundry_profile(root: Path) -> dict[str, Any]:
    with (root / "foundry.toml").open("rb") as handle:
        profile: dict[str, Any] = tomllib.load(handle)["profile"]["default"]
    return profile


def standard_json_input(root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The solc standard-JSON input for every non-test source, with foundry.toml's settings."""
    profile = _foundry_profile(root)
    src = root / profile["src"]
    tests = root / profile["test"]
    sources = {
        path.relative_to(root).as_posix(): {"content": path.read_text()}
        for path in sorted(src.rglob("*.sol"))
        if tests not in path.parents
    }
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "remappings": profile.get("remappings", []),
            "optimizer": {"enabled": profile.get("optimizer", False), "runs": profile.get("optimizer_runs", 200)},
            "metadata": {
                "useLiteralContent": False,
                "bytecodeHash": profile.get("bytecode_hash", "ipfs"),
                "appendCBOR": True,
            },
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"]}},
            "evmVersion": profile["evm_version"],
            "viaIR": profile.get("via_ir", False),
            "libraries": {},
        },
    }


def _solc_binary(settings: Settings) -> Path:
    if settings.solc:
        os.environ["CONSTELLATE_SOLC"] = settings.solc
    return SOLC_WRAPPER


def compile_contracts(settings: Settings, *, root: Path = PROJECT_ROOT) -> dict[str, Artifact]:
    """Compiles the deployable contracts and writes their artifacts to settings.build_dir."""
    solc = _solc_binary(settings)
    version = str(solcx.wrapper.get_solc_version(solc, with_commit_hash=True))
    if not version.startswith(SOLC_VERSION):
        raise ConfigurationError(f"solc {version} found, but the project pins {SOLC_VERSION}")
    output = solcx.compile_standard(
        standard_json_input(root),
        solc_binary=solc,
        base_path=str(root),
        allow_paths=[str(root), str(root / "node_modules")],
    )
    artifacts: dict[str, Artifact] = {}
    for source, contracts in output["contracts"].items():
        for name, out in contracts.items():
            if name not in DEPLOYABLE:
                continue
            artifacts[name] = Artifact(
                name=name,
                source=source,
                abi=out["abi"],
                bytecode="0x" + out["evm"]["bytecode"]["object"],
                deployed_bytecode="0x" + out["evm"]["deployedBytecode"]["object"],
                metadata=out["metadata"],
                compiler=version,
            )
    missing = set(DEPLOYABLE) - artifacts.keys()
    if missing:
        raise ConfigurationError(f"contracts missing from the build: {sorted(missing)}")
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    for artifact in artifacts.values():
        (settings.build_dir / f"{artifact.name}.json").write_text(json.dumps(artifact.to_json(), indent=1))
    return artifacts


def load_artifacts(settings: Settings) -> dict[str, Artifact]:
    """The built artifacts; run `constellate build` first."""
    artifacts: dict[str, Artifact] = {}
    for name in DEPLOYABLE:
        path = settings.build_dir / f"{name}.json"
        if not path.is_file():
            raise ConfigurationError(f"artifact {path} is missing: run `constellate build`")
        artifacts[name] = Artifact.from_json(json.loads(path.read_text()))
    return artifacts
