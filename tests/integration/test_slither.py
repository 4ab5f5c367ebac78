"""slither, in its own venv and through forge (so with the one pinned solc), leaves no high or
medium finding in contracts/ that contracts/slither-triage.json does not explain."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from service.chain.compiler import SOLC_VERSION
from service.settings import PROJECT_ROOT

SLITHER = PROJECT_ROOT / "scripts" / "slither"
TRIAGE = PROJECT_ROOT / "contracts" / "slither-triage.json"
BLOCKING = {"High", "Medium"}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    report = tmp_path_factory.mktemp("slither") / "report.json"
    run = subprocess.run(
        [str(SLITHER), "--json", str(report), "--json-types", "compilations,detectors"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, f"scripts/slither failed:\n{run.stderr[-4000:]}"
    output = json.loads(report.read_text())
    assert output["success"], output["error"]
    return dict(output["results"])


def location(element: dict[str, Any]) -> str:
    """Contract.function of a finding's first element (Contract alone at contract level)."""
    if element["type"] == "contract":
        return str(element["name"])
    if element["type"] == "node":
        element = element["type_specific_fields"]["parent"]
    parent = element.get("type_specific_fields", {}).get("parent")
    return f"{parent['name']}.{element['name']}" if parent else str(element["name"])


def blocking_findings(results: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (r["check"], location(r["elements"][0])): r["description"].strip()
        for r in results.get("detectors", [])
        if r["impact"] in BLOCKING
    }


def accepted() -> dict[tuple[str, str], str]:
    entries = json.loads(TRIAGE.read_text())["accepted"]
    return {(e["detector"], where): e["explanation"] for e in entries for where in e["where"]}


def test_slither_analyses_every_contract_with_the_pinned_compiler(results: dict[str, Any]) -> None:
    units = [unit for compilation in results["compilations"] for unit in compilation["compilation_units"].values()]
    assert {unit["compiler"]["version"] for unit in units} == {SOLC_VERSION}
    analysed = {source for unit in units for source in unit["source_units"]}
    ours = {
        path.relative_to(PROJECT_ROOT).as_posix()
        for path in (PROJECT_ROOT / "contracts").rglob("*.sol")
        if "test" not in path.relative_to(PROJECT_ROOT).parts
    }
    assert ours and ours <= analysed
    assert not {source for source in analysed if source.startswith("contracts/test/")}


def test_every_high_or_medium_finding_is_explained(results: dict[str, Any]) -> None:
    explained = accepted()
    unexplained = {key: text for key, text in blocking_findings(results).items() if key not in explained}
    assert not unexplained, "fix these or explain them in contracts/slither-triage.json:\n" + "\n".join(
        f"{check} at {where}: {text}" for (check, where), text in sorted(unexplained.items())
    )
    assert all(len(text.split()) >= 20 for text in explained.values()), "each explanation says why, in full"


def test_triage_lists_no_finding_slither_no_longer_reports(results: dict[str, Any]) -> None:
    stale = sorted(set(accepted()) - set(blocking_findings(results)))
    assert not stale, f"remove from contracts/slither-triage.json: {stale}"


def test_triage_and_security_doc_agree() -> None:
    """docs/security.md names every accepted finding, so the explanation a reader finds is the live one."""
    doc = (PROJECT_ROOT / "docs" / "security.md").read_text()
    missing = [f"{check} {where}" for check, where in accepted() if check not in doc or where not in doc]
    assert not missing, f"docs/security.md does not explain: {missing}"
