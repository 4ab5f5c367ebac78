"""`scripts/up` as a user runs it: it comes up, serves /ready = ok against freshly deployed
contracts, stops cleanly on Ctrl-C (SIGINT), and a rerun reuses its chain and deployment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from service.chain.anvil import free_port
from service.settings import PROJECT_ROOT


def _start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "CONSTELLATE_DATABASE_URL": f"sqlite:///{tmp_path / 'up.db'}",
        "CONSTELLATE_MANIFEST_PATH": str(tmp_path / "deployment.json"),
        "CONSTELLATE_BUILD_DIR": str(tmp_path / "contracts"),
    }
    return subprocess.Popen(
        [str(PROJECT_ROOT / "scripts" / "up"), "--port", str(port), "--state-dir", str(tmp_path / "state")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_urls(process: subprocess.Popen[str], timeout: float = 240) -> str:
    output = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        output.append(line)
        if "Press Ctrl-C" in line:
            return "".join(output)
    process.kill()
    raise AssertionError("up did not come up:\n" + "".join(output))


def _rpc_port(output: str) -> int:
    line = next(line for line in output.splitlines() if line.strip().startswith("rpc"))
    return int(line.rsplit(":", 1)[1])


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    remaining, _ = process.communicate(timeout=30)
    assert process.returncode == 0, remaining
    return remaining


def test_up_serves_ready_and_stops_on_ctrl_c_then_reruns_idempotently(tmp_path: Path) -> None:
    port = free_port()
    first = _start(tmp_path, port)
    output = _wait_for_urls(first)
    assert f"http://127.0.0.1:{port}/docs" in output
    assert "deploying contracts" in output
    ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=10)
    assert ready.status_code == 200 and ready.json()["status"] == "ok", ready.text
    rpc_port = _rpc_port(output)
    assert "stopped" in _stop(first)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", rpc_port)) != 0, "anvil still listening after Ctrl-C"
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "API still listening after Ctrl-C"

    second = _start(tmp_path, port)
    output = _wait_for_urls(second)
    assert "deploying contracts" not in output, "a rerun must reuse the persisted chain and deployment"
    assert httpx.get(f"http://127.0.0.1:{port}/ready", timeout=10).json()["status"] == "ok"
    _stop(second)
