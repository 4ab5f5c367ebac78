"""Verifying a journey with only the chain — target ≤ 1 s for a 200-event journey, in process
and as the command a reader types.

The journey of scripts/bench/journey.py (20 input lots of 7 events each, the transformation
blending them, 59 events of the product lot: 200 steps; a certification and a PACT footprint
per input, rolled up), seeded on the local stack of `up` (its own Anvil, automine; SQLite unless
--database-url), every event anchored and every claim on chain. Then, with the pins of
GET /verify/trust:

- in process: `service.domain.journey_proofs.verify_journey` with a fresh chain reader each
  run (nothing cached between runs), --runs times — pins, structure, every step's record checks
  and summary, order, completeness, every claim, the footprint;
- as the command: `python -m service.cli verify journey URL --rpc-url … --trust trust.json`, a
  new interpreter each run (its imports and the fetch of the journey included), --command-runs
  times, on the journey's URL and on its saved JSON;
- the imports alone: a new interpreter importing what the command imports (the CLI, the
  journey verifier, the chain reader), --command-runs times: the floor under the command.

Whether the interpreters write and reuse bytecode (PYTHONDONTWRITEBYTECODE unset) is written
with the facts: without it, every module of service/ is compiled from source each run.

Every run must verify (exit 1 otherwise). The reader counts its HTTP round trips and its reads
by kind (each root's `getAnchor` once), written with the figures. --hold N keeps the stack up N
seconds after measuring, printing the commands, so an outside timer can run them too.

    .venv/bin/python scripts/bench/verify_journey.py [--runs 10] [--command-runs 5]
        [--inputs 20 --per-input 7 --product-events 59] [--database-url URL] [--json PATH] [--hold SECONDS]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
from harness import (
    Figure,
    add_lineage_options,
    add_results_option,
    admin_headers,
    chain_facts,
    database_facts,
    local_stack,
    report,
    workspace,
)
from journey import seed

from service.chain.proof_reader import ChainProofReader, TrustPins
from service.domain.journey_proofs import verify_journey
from service.settings import PROJECT_ROOT

TARGET_SECONDS = 1.0
IMPORTS = (
    "import service.cli, service.chain.proof_reader, service.domain.journey_proofs",
    "the modules verify journey imports",
)


def in_process(
    document: dict[str, Any], rpc_url: str, pins: TrustPins, runs: int
) -> tuple[list[float], Counter[str], int]:
    """Seconds per verification (a fresh reader each run), the reads and round trips of the last."""
    seconds: list[float] = []
    reads: Counter[str] = Counter()
    trips = 0
    for _ in range(runs):
        began = time.perf_counter()
        reader = ChainProofReader(rpc_url, pins)
        verdict = verify_journey(document, reader, pins)
        seconds.append(time.perf_counter() - began)
        if verdict.status != "verified":
            failing = [c.as_json() for c in verdict.checks if c.ok is not True][:5]
            raise SystemExit(f"the journey did not verify ({verdict.status}): {failing}")
        reads, trips = reader.reads, reader.round_trips
    return seconds, reads, trips


def as_command(command: list[str], runs: int, steps: int | None) -> list[float]:
    """Seconds per run of `command` (a new interpreter each time); each must succeed and, given
    `steps`, say the journey verified."""
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        ran = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=PROJECT_ROOT)
        seconds.append(time.perf_counter() - began)
        if ran.returncode != 0 or (steps is not None and f"{steps} steps: all verified" not in ran.stdout):
            raise SystemExit(
                f"{shlex.join(command)} failed ({ran.returncode}):\n{ran.stdout[-2000:]}{ran.stderr[-2000:]}"
            )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="Verifications in process")
    parser.add_argument("--command-runs", type=int, default=5, help="Runs of the command on the URL and on the file")
    parser.add_argument("--hold", type=int, default=0, help="Seconds to keep the stack up afterwards (0: none)")
    add_lineage_options(parser)
    add_results_option(parser)
    args = parser.parse_args()
    with workspace("verify-journey") as folder:
        stack = local_stack(folder, "verify_journey", args.database_url)
        try:
            base = stack.urls["api"]
            path = seed(base, admin_headers(stack), args.inputs, args.per_input, args.product_events).path
            assert stack.api is not None
            runtime = stack.api.server.config.app.state.runtime  # type: ignore[union-attr]
            runtime.relay(flush=True)  # every event anchored, every claim sent
            journey = httpx.get(base + path, headers={"Accept": "application/json"}, timeout=120).raise_for_status()
            document = journey.json()
            trust = httpx.get(base + "/verify/trust", timeout=30).raise_for_status().json()
            saved, pinned = folder / "journey.json", folder / "trust.json"
            saved.write_text(journey.text)
            pinned.write_text(json.dumps(trust))
            steps, claims = len(document["steps"]), len(document["claims"])
            rpc_url = stack.settings.rpc_url
            seconds, reads, trips = in_process(document, rpc_url, TrustPins.from_json(trust), args.runs)
            command = [sys.executable, "-m", "service.cli", "verify", "journey"]
            pins = ["--rpc-url", rpc_url, "--trust", str(pinned)]
            on_url = as_command([*command, base + path, *pins], args.command_runs, steps)
            on_file = as_command([*command, str(saved), *pins], args.command_runs, steps)
            imports = as_command([sys.executable, "-c", IMPORTS[0]], args.command_runs, None)
            label = f"verify journey, {steps} events and {claims} claims"
            figures = [
                Figure(f"{label}, in process (fresh reader each run)", "s", seconds, target=("<=", TARGET_SECONDS)),
                Figure(
                    f"{label}, as the command on its URL",
                    "s",
                    on_url,
                    target=("<=", TARGET_SECONDS),
                    note="a new interpreter each run: imports and the fetch included",
                ),
                Figure(f"{label}, as the command on its saved JSON", "s", on_file, target=("<=", TARGET_SECONDS)),
                Figure(f"{IMPORTS[1]}, alone", "s", imports, note="a new interpreter each run: " + IMPORTS[0]),
            ]
            roots = {step["event"]["constellate:record"]["anchor"]["root"] for step in document["steps"]}
            roots |= {entry["anchor"]["root"] for entry in document.get("completeness") or []}
            facts: dict[str, Any] = {
                "path": path,
                "steps": steps,
                "claims": claims,
                "journey_bytes": len(journey.content),
                "distinct_roots": len(roots),
                "round_trips": trips,
                "reads": dict(reads),
                "command": shlex.join([".venv/bin/python", *command[1:], base + path, *pins]),
                "python_writes_bytecode": not sys.dont_write_bytecode,
                **database_facts(stack.settings.database_url),
                **chain_facts(rpc_url),
            }
            print(
                f"{steps} steps, {claims} claims, {len(journey.content):,} bytes; {len(roots)} roots; "
                f"{trips} round trips; reads {dict(reads)}; mining {facts['mining']}"
            )
            report("verify_journey", figures, facts, args.json)
            if args.hold:
                print(f"holding the stack {args.hold} s; try:\n  {facts['command']}", flush=True)
                time.sleep(args.hold)
        finally:
            stack.stop()


if __name__ == "__main__":
    os.chdir(PROJECT_ROOT)
    main()
