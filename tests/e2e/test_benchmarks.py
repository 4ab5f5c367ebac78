"""The benchmark scripts keep working (tiny sizes; the figures themselves live in
docs/benchmarks.md, measured at full size — never asserted in tests)."""

from __future__ import annotations

import subprocess
import sys

from service.settings import PROJECT_ROOT

BENCH = PROJECT_ROOT / "scripts" / "bench"


def _run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_capture_benchmark_runs() -> None:
    assert "events/s" in _run("capture.py", "--documents", "3", "--events", "300")


def test_anchor_gas_benchmark_runs() -> None:
    output = _run("anchor_gas.py", "--batch", "64", "--baseline", "2")
    assert "gas per event" in output and "baseline" in output


def test_recall_benchmark_runs() -> None:
    assert "median" in _run("recall.py", "--events", "3000", "--runs", "3")


def test_journey_benchmark_runs() -> None:
    output = _run(
        "journey.py", "--inputs", "3", "--per-input", "2", "--product-events", "3", "--seconds", "2", "--runs", "1"
    )
    assert "10 events" in output and "errors: 0" in output
