"""The large schemathesis run: every operation of the service's own OpenAPI schema, many
generated requests each (boundary and invalid values, random ones, then stateful sequences that
feed one response's ids into the next request; half the bodies made hostile by fuzz_hooks.py:
too deep, thousands of keys, catastrophic regex patterns), against `constellate serve` on
127.0.0.1 holding the demo of `up` (two constellations, nine members, EPCIS journeys, claims, grants). It runs
twice: as a member (Alpine Roasters, who coordinates one constellation and takes part in the
other) and as the operator. No answer may be a 5xx or break the schema; the server's log must
hold no error. tests/integration/test_api_fuzz.py is the small run, part of every test run.

    .venv/bin/python scripts/bench/fuzz_api.py [--examples 200] [--phases examples,coverage,fuzzing,stateful]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from harness import local_stack, serve

BENCH = Path(__file__).resolve().parent

SEED = 20261123
EXCLUDED_CHECKS = ["positive_data_acceptance"]
"""A request the schema allows may still break a rule no JSON Schema states (a GS1 check digit,
a signature, a role): the service answers a 4xx naming it (test_api_fuzz.py excludes it too)."""
MEMBER_SKIPS = ["DELETE /members/me/api-keys/{key_id}"]
"""Operations the member run leaves to the operator run: stateful sequences would revoke the very
key the run speaks with (the operator's key is the settings', which no request revokes)."""


def fuzz(base: str, key: str, *, examples: int, phases: str, report: Path, skip: list[str]) -> dict[str, Any]:
    """One schemathesis run with `key`; its JSON report."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base}/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        "--max-examples",
        str(examples),
        "--phases",
        phases,
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--exclude-checks",
        ",".join(EXCLUDED_CHECKS),
        *(part for label in skip for part in ("--exclude-name", label)),
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    shown = ["schemathesis", *(f"'{p}'" if " " in p else p for p in command[1:])]
    print("$", " ".join(shown).replace(key, "<key>"), flush=True)
    # In the run's folder: schemathesis's own output and its cache of crashes (for `st replay`).
    # Half the bodies hostile (fuzz_hooks.py): too deep, thousands of keys, catastrophic patterns.
    hooks = {"SCHEMATHESIS_HOOKS": "fuzz_hooks", "PYTHONPATH": os.pathsep.join([str(BENCH), str(BENCH.parents[1])])}
    with report.with_suffix(".txt").open("w") as output:
        subprocess.run(
            command,
            cwd=report.parent,
            env={**os.environ, **hooks},
            timeout=4 * 3600,
            stdout=output,
            stderr=output,
            check=False,
        )
    if not report.is_file():
        raise SystemExit(f"schemathesis wrote no report: {report.with_suffix('.txt')} says why")
    return dict(json.loads(report.read_text()))


def summarize(name: str, result: dict[str, Any]) -> int:
    """Prints a run's figures; the number of its failures and errors."""
    operations, cases = result["operations"], result["test_cases"]
    failures = sum(f["count"] for f in result["failures"])
    errors = sum(e["count"] for e in result["errors"])
    print(
        f"{name}: {operations['tested']}/{operations['total']} operations, {cases['generated']} test cases, "
        f"{failures} failures, {errors} errors in {result['running_time']:.0f} s"
    )
    for failure in result["failures"]:
        print(f"  {failure['code']} {failure['title']} ({failure['count']}): {', '.join(failure['operations'])}")
    for error in result["errors"]:
        print(f"  error: {error['title']} ({error['count']})")
    stopped = result["stop_reason"] != "completed"
    if stopped:
        print(f"  stopped early: {result['stop_reason']}")
    return failures + errors + stopped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200, help="Examples per operation (--max-examples)")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful", help="schemathesis's phases to run")
    parser.add_argument("--member", default="alpine", help="The demo member the member run speaks for")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="constellate-fuzz-"))
    stack = local_stack(folder, "fuzz")
    server = None
    try:
        demo = stack.seed_demo()
        assert stack.api is not None and stack.settings.admin_api_key is not None
        stack.api.stop()  # the fuzzed API runs in its own process, its log kept
        stack.api = None
        server = serve(stack.settings, workers=1, log=folder / "api.log")
        identities = {
            f"member ({demo.members[args.member]['name']})": (demo.members[args.member]["api_key"], MEMBER_SKIPS),
            "operator": (stack.settings.admin_api_key.get_secret_value(), []),
        }
        problems = 0
        for name, (key, skip) in identities.items():
            report = folder / f"{name.split()[0]}.json"
            result = fuzz(server.base, key, examples=args.examples, phases=args.phases, report=report, skip=skip)
            problems += summarize(name, result)
        _abandoned, logged = server.logged_errors()
        print(f"server log: {len(logged)} errors")
        for line in logged[:10]:
            print(f"  {line[:300]}")
        problems += len(logged)
        print(f"failures: {problems}")
        if problems:
            print(f"schemathesis's output and reports, the server's log: {folder}")
            raise SystemExit(1)
    finally:
        if server is not None:
            server.stop()
        stack.stop()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
