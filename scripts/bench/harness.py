"""What the benchmarks share: the API served in its own processes (`constellate serve`), wrk
driving it, the memory of a process tree, the summary of repeated runs, and the results file a
stage writes (`--json PATH`) for `scripts/bench/all.py` to gather."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from service.settings import PROJECT_ROOT, Settings
from service.stack import LocalStack

# Appended to a wrk script: one REPORT line of JSON when the run ends. A script may define
# `unexpected` (responses of another status than the one asked for) and `sample` (the first
# of them) as globals of each thread; setup() keeps the threads so done() can add them up.
WRK_REPORT = r"""
local wrk_threads = {}
function setup(thread) table.insert(wrk_threads, thread) end

done = function(summary, latency, requests)
  local unexpected, sample = 0, ""
  for _, thread in ipairs(wrk_threads) do
    unexpected = unexpected + (thread:get("unexpected") or 0)
    if sample == "" then sample = thread:get("sample") or "" end
  end
  local e = summary.errors
  io.write(string.format('REPORT {"requests": %d, "socket_errors": %d, "status_errors": %d, "unexpected": %d, '
    .. '"sample": "%s", "p50_ms": %.3f, "p90_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, '
    .. '"rps": %.1f, "seconds": %.3f}\n',
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status, unexpected, sample,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests / (summary.duration / 1e6),
    summary.duration / 1e6))
end
"""


# --- repeated runs ------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (a value that was measured, never an interpolation)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "runs": len(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "p5": percentile(values, 5),
        "p95": percentile(values, 95),
    }


@dataclass
class Figure:
    """One measured figure: a value per run, judged by its median against the target."""

    name: str
    unit: str
    values: list[float]
    target: tuple[str, float] | None = None  # (">=" | "<=" | "==", value)
    note: str = ""

    def passed(self) -> bool | None:
        if self.target is None:
            return None
        op, bound = self.target
        median = statistics.median(self.values)
        return {">=": median >= bound, "<=": median <= bound, "==": median == bound}[op]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "values": self.values,
            **summary(self.values),
            "target": f"{self.target[0]} {self.target[1]:g}" if self.target else None,
            "passed": self.passed(),
            "note": self.note,
        }

    def line(self) -> str:
        s = summary(self.values)
        spread = f" (min {s['min']:,.2f} · max {s['max']:,.2f}, {s['runs']} runs)" if len(self.values) > 1 else ""
        verdict = ""
        if self.target is not None:
            verdict = f"  [target {self.target[0]} {self.target[1]:g}: {'met' if self.passed() else 'MISSED'}]"
        return f"{self.name}: median {s['median']:,.2f} {self.unit}{spread}{verdict}"


def add_results_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, metavar="PATH", help="Also write the figures as JSON (for all.py)")


def report(stage: str, figures: list[Figure], facts: dict[str, Any], path: Path | None) -> None:
    """Prints each figure; writes the stage's results file when asked."""
    for figure in figures:
        print(figure.line())
    if path is not None:
        results = {"stage": stage, "figures": [f.as_dict() for f in figures], "facts": facts}
        path.write_text(json.dumps(results, indent=2) + "\n")


@contextlib.contextmanager
def workspace(name: str) -> Iterator[Path]:
    """A temporary folder for one run (database, chain state, logs): removed when the run
    succeeds, kept and named on stderr when it fails, for its logs."""
    folder = Path(tempfile.mkdtemp(prefix=f"constellate-{name}-"))
    try:
        yield folder
    except BaseException:
        print(f"kept for its logs: {folder}", file=sys.stderr)
        raise
    shutil.rmtree(folder, ignore_errors=True)


def local_stack(folder: Path, name: str, database_url: str | None = None) -> LocalStack:
    """The local stack of `up` in `folder`, started: its own Anvil (automine), a SQLite file
    named after the stage unless `database_url`, the API on a free port, the relayer off."""
    settings = Settings(
        database_url=database_url or f"sqlite:///{folder}/{name}.db",
        manifest_path=folder / "deployment.json",
        port=0,
        relay_interval_seconds=0,
    )
    return LocalStack(settings=settings, state_dir=folder).start(embedded_chain=True)


def admin_headers(stack: LocalStack) -> dict[str, str]:
    """The operator's credentials on a local stack."""
    assert stack.settings.admin_api_key is not None
    return {"Authorization": f"Bearer {stack.settings.admin_api_key.get_secret_value()}"}


def add_lineage_options(parser: argparse.ArgumentParser) -> None:
    """The size of the seeded journey (the journey and load benchmarks), and its database."""
    parser.add_argument("--inputs", type=int, default=20)
    parser.add_argument("--per-input", type=int, default=7)
    parser.add_argument("--product-events", type=int, default=59)
    parser.add_argument("--database-url")


# --- the environment a figure was measured in -----------------------------------------------


def chain_facts(rpc_url: str) -> dict[str, Any]:
    """The node and its mining mode, as it says (Anvil's methods; None on another client)."""

    def call(method: str) -> Any:
        try:
            body = httpx.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": []}, timeout=5)
            return body.json().get("result")
        except (httpx.HTTPError, ValueError):
            return None

    automine = call("anvil_getAutomine")
    return {"node": call("web3_clientVersion"), "mining": {True: "automine", False: "interval"}.get(automine)}


def database_facts(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"database": "SQLite", "version": sqlite3.sqlite_version}
    from sqlalchemy import text

    from service.db.session import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar()
    finally:
        engine.dispose()
    return {"database": "PostgreSQL", "version": version}


# --- the API in its own processes ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """`constellate serve` on 127.0.0.1, its logs in a file; stop() ends its process group."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def logged_errors(self) -> tuple[list[str], list[str]]:
        """Log lines at ERROR or above (the service logs one JSON object per line): those about
        requests the client abandoned before the server read their body (Starlette's
        ClientDisconnect: wrk ends a run with requests in flight), and all others."""
        abandoned: list[str] = []
        others: list[str] = []
        for line in self.log.read_text(errors="replace").splitlines():
            if '"level":"ERROR"' in line or '"level":"CRITICAL"' in line or line.startswith("Traceback"):
                gone = '"error":"ClientDisconnect"' in line or line.rstrip('"}').endswith("ClientDisconnect")
                (abandoned if gone else others).append(line)
        return abandoned, others


def serve(settings: Settings, *, workers: int, log: Path, env: dict[str, str] | None = None) -> Server:
    """Starts the API with `settings` and returns once every worker has started and /health answers."""
    port = free_port()
    secrets = {
        "CONSTELLATE_RELAYER_PRIVATE_KEY": settings.relayer_private_key,
        "CONSTELLATE_ADMIN_API_KEY": settings.admin_api_key,
        "CONSTELLATE_KEY_ENCRYPTION_KEY": settings.key_encryption_key,
    }
    environment = {
        **os.environ,
        "CONSTELLATE_DATABASE_URL": settings.database_url,
        "CONSTELLATE_RPC_URL": settings.rpc_url,
        "CONSTELLATE_MANIFEST_PATH": str(settings.manifest_path),
        "CONSTELLATE_RELAY_INTERVAL_SECONDS": "0",
        **{name: value.get_secret_value() for name, value in secrets.items() if value is not None},
        **(env or {}),
    }
    command = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=environment,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the API exited with {process.returncode}; its log: {log}")
        if log.read_text(errors="replace").count("Application startup complete") >= workers:
            try:
                if httpx.get(server.base + "/health", timeout=2).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"the API did not start within 120 s; its log: {log}")


# --- wrk ----------------------------------------------------------------------------------------


def wrk_command(
    url: str,
    *,
    clients: int,
    seconds: float,
    script: Path,
    threads: int = 2,
    headers: Sequence[str] = (),
    args: Sequence[str] = (),
) -> list[str]:
    """A closed-loop wrk run: keep-alive connections, a 10 s timeout, `args` passed to the script."""
    return [
        "wrk",
        f"-t{min(threads, clients)}",
        f"-c{clients}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        *(part for header in headers for part in ("-H", header)),
        "-s",
        str(script),
        url,
        *(["--", *args] if args else []),
    ]


def wrk_result(stdout: str, stderr: str = "") -> dict[str, Any]:
    """The REPORT line of WRK_REPORT; `errors` counts socket errors, timeouts and responses of
    another status than expected (HTTP >= 400 when the script expects none in particular)."""
    line = next((line for line in stdout.splitlines() if line.startswith("REPORT ")), None)
    if line is None:
        raise SystemExit(f"wrk wrote no report:\n{stdout}\n{stderr}")
    result = dict(json.loads(line.removeprefix("REPORT ")))
    result["errors"] = result["socket_errors"] + max(result["status_errors"], result["unexpected"])
    return result


def wrk(url: str, **options: Any) -> dict[str, Any]:
    ran = subprocess.run(wrk_command(url, **options), capture_output=True, text=True, check=True)
    return wrk_result(ran.stdout, ran.stderr)


# --- memory -------------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


def process_tree(pid: int) -> list[int]:
    """The process and every descendant (uvicorn's workers, the capture pool)."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, ()))
    return found


def _kib(path: Path, names: Sequence[str]) -> dict[str, int]:
    values = dict.fromkeys(names, 0)
    try:
        for line in path.read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in values:
                values[name] = int(rest.split()[0])
    except OSError:
        pass  # the process ended between listing and reading
    return values


def processes(pid: int) -> list[dict[str, Any]]:
    """Each process of the tree: its command line and memory, MiB — RSS (shared pages counted in
    every process that maps them), PSS (shared pages divided among them) and its peak RSS (VmHWM)."""
    found = []
    for each in process_tree(pid):
        status = _kib(Path(f"/proc/{each}/status"), ("VmRSS", "VmHWM"))
        try:
            command = Path(f"/proc/{each}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append(
            {
                "pid": each,
                "command": command.strip()[:160],
                "rss_mib": status["VmRSS"] / 1024,
                "pss_mib": _kib(Path(f"/proc/{each}/smaps_rollup"), ("Pss",))["Pss"] / 1024,
                "hwm_mib": status["VmHWM"] / 1024,
            }
        )
    return found


def memory(pid: int) -> dict[str, float]:
    """The tree's total RSS, PSS (the honest total) and sum of the processes' own peaks, MiB."""
    each = processes(pid)
    return {"processes": len(each), **{k: sum(p[k] for p in each) for k in ("rss_mib", "pss_mib", "hwm_mib")}}


@dataclass
class MemorySampler:
    """Samples a process tree's memory every `interval` seconds while in use; keeps the peaks."""

    pid: int
    interval: float = 0.5
    peak: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._take()
            self._stop.wait(self.interval)

    def _take(self) -> None:
        now = memory(self.pid)
        for key, value in now.items():
            self.peak[key] = max(self.peak.get(key, 0.0), value)

    def __enter__(self) -> MemorySampler:
        self.peak = {}
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self._take()
