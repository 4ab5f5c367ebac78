"""The benchmark scripts keep working (tiny sizes; the figures themselves live in
docs/benchmarks.md, measured at full size — never asserted in tests)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service.settings import PROJECT_ROOT

BENCH = PROJECT_ROOT / "scripts" / "bench"


def _run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.timeout(600)
def test_every_benchmark_runs_from_one_command(tmp_path: Path) -> None:
    """`all.py --quick` runs every stage at tiny sizes and writes one results file: each stage's
    figures with their runs, spread and exact command; the load run and journey pages without an
    error; the verification of the journey and the API's memory measured."""
    ran = subprocess.run(
        [sys.executable, str(BENCH / "all.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=580,
        cwd=PROJECT_ROOT,
    )
    assert ran.returncode == 0, ran.stdout[-6000:] + ran.stderr[-3000:]
    (found,) = tmp_path.glob("results-*-quick.json")
    results = json.loads(found.read_text())
    stages = {s["stage"]: s for s in results["stages"]}
    assert list(stages) == ["capture", "anchor_gas", "recall", "journey", "load"]
    assert all(s["returncode"] == 0 and "python scripts/bench/" in s["command"] for s in stages.values())
    figures = {f["name"]: f for s in stages.values() for f in s["figures"]}
    for figure in figures.values():
        assert figure["runs"] == len(figure["values"]) >= 1 and figure["min"] <= figure["median"] <= figure["max"]

    def named(stage: str, *words: str) -> list[dict[str, Any]]:
        return [f for f in stages[stage]["figures"] if all(w in f["name"] for w in words)]

    (capture,) = named("capture", "events")
    assert capture["runs"] == 2 and capture["median"] > 0 and capture["target"] == ">= 3000"
    batched, baseline = stages["anchor_gas"]["figures"]
    assert baseline["runs"] == 3 and batched["median"] * 64 == pytest.approx(baseline["median"], rel=0.01)
    assert named("recall", "over 3,000 events")[0]["runs"] == 5
    assert named("journey", "errors")[0]["median"] == 0 and named("journey", "p95")[0]["target"] == "<= 25"
    (verify,) = named("journey", "verify journey, 10 events")
    assert verify["median"] > 0
    assert named("load", "errors")[0]["median"] == 0 and stages["load"]["facts"]["healthy_after"]
    kinds = {name for f in stages["load"]["figures"] if (name := f["name"].partition("load · ")[2].split(" (")[0])}
    assert kinds == {"journey_public", "journey_member", "event_queries", "traces", "attestation_reads",
                     "verification", "capture"}  # fmt: skip
    assert all(f["median"] > 50 for f in named("load", "API memory", "RSS"))
    assert results["machine"]["cores"] and results["git"]["commit"] and results["mining"] == "automine"
    table = found.with_suffix(".md").read_text()
    assert "| load | load: errors in 2 x 2 s" in table and "python scripts/bench/load.py --inputs 3 " in table


def test_the_large_fuzz_run_runs() -> None:
    """fuzz_api.py at a tiny size: every operation, as a member and as the operator, no failure."""
    output = _run("fuzz_api.py", "--examples", "1", "--phases", "examples,fuzzing")
    assert re.search(r"^operator: (\d+)/\1 operations", output, re.M) and "server log: 0 errors" in output
    assert output.rstrip().endswith("failures: 0"), output
