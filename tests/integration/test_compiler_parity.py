"""py-solc-x (the service's build) and forge produce identical bytecode for every contract:
both go through scripts/solc with the settings of foundry.toml."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from service.chain.compiler import DEPLOYABLE, SOLC_VERSION, Artifact
from service.settings import PROJECT_ROOT

FORGE = PROJECT_ROOT / "node_modules" / "@foundry-rs" / "forge-linux-amd64" / "bin" / "forge"


@pytest.fixture(scope="module")
def forge_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("forge-out")
    subprocess.run(
        [str(FORGE), "build", "--skip", "test", "--out", str(out), "--cache-path", str(out / "cache")],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return out


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_forge_and_py_solc_x_build_identical_runtime_bytecode(
    name: str, forge_out: Path, artifacts: dict[str, Artifact]
) -> None:
    forged = json.loads((forge_out / f"{name}.sol" / f"{name}.json").read_text())
    assert forged["deployedBytecode"]["object"] == artifacts[name].deployed_bytecode
    assert forged["bytecode"]["object"] == artifacts[name].bytecode


def test_one_pinned_compiler_version(artifacts: dict[str, Artifact]) -> None:
    version = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "solc"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"Version: {SOLC_VERSION}+" in version
    assert {a.compiler.split("+")[0] for a in artifacts.values()} == {SOLC_VERSION}
