"""The CLI commands of the foundation, run as a user would (subprocess), with clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from service.settings import Settings


def _run(args: list[str], settings: Settings, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "CONSTELLATE_RPC_URL": settings.rpc_url,
        "CONSTELLATE_DATABASE_URL": settings.database_url,
        "CONSTELLATE_MANIFEST_PATH": str(settings.manifest_path),
        "CONSTELLATE_BUILD_DIR": str(settings.build_dir),
        "CONSTELLATE_RELAYER_PRIVATE_KEY": settings.relayer_private_key.get_secret_value()
        if settings.relayer_private_key
        else "",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args], env=environment, capture_output=True, text=True, timeout=120
    )


def test_deploy_then_ready_then_index(settings: Settings, tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.json"
    deployed = _run(["deploy", "--manifest", str(manifest)], settings)
    assert deployed.returncode == 0, deployed.stderr
    assert "ConstellationRegistry: 0x" in deployed.stdout and manifest.is_file()
    ready = _run(["ready"], settings, CONSTELLATE_MANIFEST_PATH=str(manifest))
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "ok   chain" in ready.stdout
    indexed = _run(["index"], settings, CONSTELLATE_MANIFEST_PATH=str(manifest))
    assert indexed.returncode == 0, indexed.stderr
    assert '"indexed_to"' in indexed.stdout


def test_unreachable_rpc_exits_non_zero_with_a_clear_message(settings: Settings) -> None:
    result = _run(["deploy", "--rpc-url", "http://127.0.0.1:9"], settings)
    assert result.returncode == 1
    assert "ChainUnavailable" in result.stderr and "127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def test_ready_fails_and_names_the_problem(settings: Settings) -> None:
    result = _run(["ready", "--rpc-url", "http://127.0.0.1:9"], settings)
    assert result.returncode == 1
    assert "FAIL chain" in result.stdout


def test_db_upgrade_is_idempotent(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for _ in range(2):
        result = _run(["db", "upgrade", "--database-url", url], settings)
        assert result.returncode == 0, result.stderr


def test_relay_sends_nothing_twice_and_names_an_unreachable_chain(settings: Settings) -> None:
    relayed = _run(["relay"], settings)
    assert relayed.returncode == 0, relayed.stderr
    assert '"attested": 0' in relayed.stdout
    down = _run(["relay", "--rpc-url", "http://127.0.0.1:9"], settings)
    assert down.returncode == 1 and "ChainUnavailable" in down.stderr and "Traceback" not in down.stderr
