"""Runs a local Anvil node on a free 127.0.0.1 port: used by tests and `scripts/up`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import requests

from service.errors import ChainUnavailable, ConfigurationError
from service.settings import PROJECT_ROOT

ANVIL_NPM_BINARY = PROJECT_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
# Anvil's well-known development mnemonic: its first account funds local deployments.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


WATCHDOG = """
exec 3<&0
"$@" &
anvil=$!
{ read -r _ <&3; kill -TERM "$anvil" 2>/dev/null; } &
wait "$anvil"
"""
"""Runs Anvil ("$@") beside a reader of this shell's stdin, a pipe only the starting process
writes to: when the pipe closes — stop(), or that process ending any way at all, a crash or a
SIGKILL included — Anvil gets SIGTERM (it dumps --state) and exits. The shell ends with Anvil."""


def anvil_binary() -> Path:
    """The pinned Anvil from npm, else one on PATH."""
    if ANVIL_NPM_BINARY.is_file():
        return ANVIL_NPM_BINARY
    found = shutil.which("anvil")
    if found is None:
        raise ConfigurationError("anvil not found: run ./scripts/bootstrap (npm ci) first")
    return Path(found)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class AnvilProcess:
    """A running Anvil; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        *,
        port: int | None = None,
        chain_id: int = 31337,
        block_time: float | None = None,
        state_path: Path | None = None,
        accounts: int = 10,
        log_path: Path | None = None,
        stop_with_parent: bool = False,
    ) -> None:
        self.port = port or free_port()
        self.chain_id = chain_id
        self.block_time = block_time
        self.state_path = state_path
        self.accounts = accounts
        self.log_path = log_path
        self.stop_with_parent = stop_with_parent
        """Run under WATCHDOG: Anvil never outlives the process that started it."""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            str(anvil_binary()),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
            "--accounts",
            str(self.accounts),
            "--mnemonic",
            DEV_MNEMONIC,
        ]
        if self.block_time is not None:
            cmd += ["--block-time", str(self.block_time)]
        if self.state_path is not None:
            cmd += ["--state", str(self.state_path)]
        return cmd

    def start(self, *, timeout: float = 30.0) -> AnvilProcess:
        if self._process is not None and self._process.poll() is None:
            return self
        if _port_in_use(self.port):
            raise ChainUnavailable(f"cannot start anvil: 127.0.0.1:{self.port} is already in use")
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        command = self.command()
        if self.stop_with_parent:
            command = ["/bin/sh", "-c", WATCHDOG, "anvil-watchdog", *command]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE if self.stop_with_parent else None,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a watchdog and its Anvil are killed together
            env=os.environ.copy(),
        )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise ChainUnavailable(f"anvil exited with code {self._process.returncode} on port {self.port}")
            try:
                reply = requests.post(
                    self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1
                )
                if reply.ok and "result" in reply.json():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise ChainUnavailable(f"anvil did not answer on {self.rpc_url} within {timeout}s")

    def stop(self, *, timeout: float = 10.0) -> None:
        """SIGTERM (Anvil then dumps --state), escalating to SIGKILL."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            if process is not None and process.stdin is not None:
                process.stdin.close()  # Anvil has gone: its watchdog's reader goes too
            return
        if process.stdin is not None:
            process.stdin.close()  # the watchdog sends Anvil SIGTERM
        else:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # a watchdog and its Anvil alike
            process.wait()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> AnvilProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
