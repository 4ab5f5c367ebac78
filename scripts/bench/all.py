"""Every benchmark in one command: each stage runs as its own script with the sizes of the issue
(or tiny ones with --quick), and the figures — median of repeated runs with their spread,
target and verdict, the exact command of each stage, the commit and the machine — go to one
results file, JSON and Markdown: build/bench/results-<commit>.{json,md}.

Stages: capture throughput, anchoring gas beside its one-transaction-per-event baseline,
recall over 1,000,000 events, journey latency under 32 clients and the verification of that
200-event journey, a load run (64 clients, 3 x 60 s, mixed traffic, 0 errors) with the memory of
the API's processes; and, with --with-fuzz, the schema fuzzing of scripts/bench/fuzz_api.py.
About 10 to 15 minutes on the 2-core development machine: run it when nothing else does.

    scripts/bootstrap --bench   # installs wrk
    .venv/bin/python scripts/bench/all.py [--stages capture,journey] [--database-url URL]
        [--load-seconds 60] [--with-fuzz] [--out build/bench] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from harness import database_facts
from sqlalchemy import create_engine, make_url, text

from service.chain.anvil import anvil_binary
from service.settings import PROJECT_ROOT as ROOT

BENCH = ROOT / "scripts" / "bench"


@dataclass
class Stage:
    script: str
    full: str  # the sizes of the issue
    quick: str  # a smoke run
    database: bool = True  # takes --database-url
    results: bool = True  # writes --json


TINY_LINEAGE = "--inputs 3 --per-input 2 --product-events 3 --workers 1"
STAGES = {
    "capture": Stage(
        "capture.py", "--documents 10 --events 1000 --clients 2 --runs 5", "--documents 1 --events 300 --runs 2"
    ),
    "anchor_gas": Stage("anchor_gas.py", "--batch 1000 --baseline 100", "--batch 64 --baseline 3", database=False),
    "recall": Stage("recall.py", "--events 1000000 --runs 100", "--events 3000 --runs 5"),
    "journey": Stage(
        "journey.py",
        "--clients 32 --seconds 20 --workers 2 --runs 5 --verify-runs 10",
        f"{TINY_LINEAGE} --clients 4 --seconds 1 --runs 2 --warmup 1 --uncached-seconds 0 --verify-runs 1 --cold-runs 0",
    ),
    "load": Stage(
        "load.py",
        "--clients 64 --seconds 60 --runs 3 --workers 2 --capture-rate 1",
        f"{TINY_LINEAGE} --clients 7 --seconds 2 --runs 2 --capture-rate 4",
    ),
    "fuzz": Stage("fuzz_api.py", "", "--examples 3 --phases examples", database=False, results=False),
}
DEFAULT = ["capture", "anchor_gas", "recall", "journey", "load"]


def first_line(command: list[str]) -> str:
    """The first line a command prints (on either stream), or "" if it cannot run."""
    try:
        ran = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (ran.stdout.strip().splitlines() or [""])[0]


def machine(database_url: str | None) -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(memory_kib / 1024**2, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        **database_facts(database_url or "sqlite://"),
        "anvil": first_line([str(anvil_binary()), "--version"]),
        "wrk": first_line(["wrk", "-v"]).split(" Copyright")[0],
        "load_average_before": os.getloadavg(),
    }


def git() -> dict[str, Any]:
    commit = first_line(["git", "-C", str(ROOT), "rev-parse", "HEAD"])
    changed = first_line(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    return {"commit": commit, "dirty": bool(changed)}


def shown(command: list[str]) -> str:
    """The command as typed from the project root (a database password shown as ***)."""
    parts = [os.path.relpath(part, ROOT) if part.startswith(str(ROOT)) else part for part in command]
    if parts[0] == os.path.relpath(sys.executable, ROOT) or Path(parts[0]).name.startswith("python"):
        parts[0] = ".venv/bin/python" if (ROOT / ".venv").is_dir() else "python"
    if "--database-url" in parts[:-1]:
        at = parts.index("--database-url") + 1
        parts[at] = make_url(parts[at]).render_as_string(hide_password=True)
    return shlex.join(parts)


@contextlib.contextmanager
def database_for(stage: str, url: str | None) -> Iterator[str | None]:
    """SQLite stages make a file of their own; on PostgreSQL each stage gets an empty database
    of its own on the server named, dropped afterwards."""
    if url is None or not url.startswith("postgresql"):
        yield url
        return
    name = f"constellate_bench_{stage}_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_stage(name: str, stage: Stage, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    command = [sys.executable, str(BENCH / stage.script), *(stage.quick if args.quick else stage.full).split()]
    if name == "load" and args.load_seconds and not args.quick:
        command[command.index("--seconds") + 1] = str(args.load_seconds)
    if name == "fuzz" and args.fuzz_args:
        command += shlex.split(args.fuzz_args)
    with database_for(name, args.database_url if stage.database else None) as url:
        if url is not None:
            command += ["--database-url", url]
        return _run(name, command, stage, folder)


def _run(name: str, command: list[str], stage: Stage, folder: Path) -> dict[str, Any]:
    typed = shown(command)  # without the results file: what to type to see the figures
    results = folder / f"{name}.json"
    log = folder / f"{name}.log"
    if stage.results:
        command += ["--json", str(results)]
    print(f"==> {name}: {typed}", flush=True)
    began = time.perf_counter()
    with log.open("w") as out:
        try:
            code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, timeout=3600).returncode
        except subprocess.TimeoutExpired:
            code = -1
    seconds = time.perf_counter() - began
    outcome: dict[str, Any] = {"stage": name, "command": typed, "seconds": round(seconds, 1), "returncode": code}
    outcome["log"] = str(log)
    if stage.results and results.is_file():
        outcome.update(json.loads(results.read_text()))
    tail = log.read_text(errors="replace").splitlines()[-15:]
    if code != 0:
        print(f"    FAILED ({code}) after {seconds:.0f} s; the end of {log}:", *tail, sep="\n    ", flush=True)
    else:
        print(f"    done in {seconds:.0f} s", flush=True)
        if not stage.results:
            outcome["output"] = tail
    return outcome


def number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"


def markdown(results: dict[str, Any]) -> str:
    facts = results["machine"]
    commit = results["git"]["commit"][:12] + (" (with uncommitted changes)" if results["git"]["dirty"] else "")
    lines = [
        f"# Benchmarks at {commit}",
        "",
        f"{results['started']} · {results['mode']} · `{results['command']}`",
        "",
        f"Machine: {facts['cores']} cores ({facts['cpu']}), {facts['ram_gib']} GiB, {facts['os']}, "
        f"Python {facts['python']}, {facts['database']} {facts['version']}, "
        f"{facts['anvil'] or 'anvil'} ({results['mining'] or 'mining mode unknown'}), "
        f"{facts['wrk'] or 'wrk'}; load average before {facts['load_average_before'][0]:.2f}, "
        f"after {results['load_average_after'][0]:.2f}.",
        "",
        "Each figure is the median of its runs; the spread is min to max (and p5, p95 over 20 runs or more).",
        "",
        "| stage | figure | median | spread | runs | target | |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for stage in results["stages"]:
        if stage["returncode"] != 0:
            lines.append(f"| {stage['stage']} | the stage failed (exit {stage['returncode']}) | | | | | **FAILED** |")
        for f in stage.get("figures", []):
            unit = f" {f['unit']}" if f["unit"] else ""
            spread = "—"
            if f["runs"] > 1:
                spread = f"{number(f['min'])} to {number(f['max'])}"
                if f["runs"] >= 20:
                    spread += f" (p5 {number(f['p5'])}, p95 {number(f['p95'])})"
            verdict = {True: "met", False: "**missed**", None: ""}[f["passed"]]
            note = f" ({f['note']})" if f.get("note") else ""
            lines.append(
                f"| {stage['stage']} | {f['name']}{note} | **{number(f['median'])}**{unit} | {spread} "
                f"| {f['runs']} | {f['target'] or ''} | {verdict} |"
            )
    lines += ["", "## Commands", "", "| stage | command | seconds | exit |", "| --- | --- | --- | --- |"]
    for stage in results["stages"]:
        lines.append(f"| {stage['stage']} | `{stage['command']}` | {stage['seconds']:.0f} | {stage['returncode']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", help=f"Comma-separated, of {', '.join(STAGES)} (default: all but fuzz)")
    parser.add_argument("--quick", action="store_true", help="Tiny sizes: a smoke run that checks every stage works")
    parser.add_argument("--database-url", help="PostgreSQL for every stage that has a database (default SQLite)")
    parser.add_argument("--load-seconds", type=int, help="Length of each of the load run's 3 windows (default 60)")
    parser.add_argument("--with-fuzz", action="store_true", help="Also run scripts/bench/fuzz_api.py")
    parser.add_argument("--fuzz-args", help="Arguments for fuzz_api.py, as one string")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench", help="Where the results go")
    args = parser.parse_args()
    names = args.stages.split(",") if args.stages else [*DEFAULT, *(["fuzz"] if args.with_fuzz else [])]
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        parser.error(f"unknown stage {', '.join(unknown)}; the stages are {', '.join(STAGES)}")
    if "fuzz" in names and not (BENCH / STAGES["fuzz"].script).is_file():
        parser.error("scripts/bench/fuzz_api.py does not exist")
    if {"journey", "load"} & set(names) and shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: scripts/bootstrap --bench installs it")

    source = git()
    label = source["commit"][:12] + ("-dirty" if source["dirty"] else "") + ("-quick" if args.quick else "")
    folder = args.out / f"logs-{label}"
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick (tiny sizes: a smoke run, not figures)" if args.quick else "full",
        "command": shown([sys.executable, *sys.argv]),
        "git": source,
        "machine": machine(args.database_url),
        "stages": [],
    }
    print(f"commit {label}; results in {args.out}", flush=True)
    for name in names:
        results["stages"].append(run_stage(name, STAGES[name], args, folder))
    results["load_average_after"] = os.getloadavg()
    results["mining"] = next(
        (s["facts"]["mining"] for s in results["stages"] if s.get("facts", {}).get("mining")), None
    )
    (args.out / f"results-{label}.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (args.out / f"results-{label}.md").write_text(table)
    print("\n" + table)
    print(f"written: {args.out / f'results-{label}.json'} and .md")
    failed = [s["stage"] for s in results["stages"] if s["returncode"] != 0]
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
