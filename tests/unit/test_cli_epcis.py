"""`constellate epcis hash` prints the hash IDs exactly as the reference `.hashes` files do; `constellate capture
--check` refuses what the service refuses, naming the field (or the CSV row and column)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from service.cli import app

VECTORS = Path(__file__).resolve().parent.parent / "fixtures" / "epcis" / "event-hash"


def test_epcis_hash_matches_every_reference_file() -> None:
    documents = sorted(VECTORS.glob("*.jsonld"))
    result = CliRunner().invoke(app, ["epcis", "hash", *map(str, documents)])
    assert result.exit_code == 0, result.output
    expected = "".join(path.with_suffix(".hashes").read_text().strip() + "\n" for path in documents)
    assert [line.strip() for line in result.output.splitlines()] == [line.strip() for line in expected.splitlines()]


def test_epcis_hash_names_a_bad_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = CliRunner().invoke(app, ["epcis", "hash", str(broken), str(tmp_path / "missing.json")])
    assert result.exit_code == 1 and "broken.json is not an EPCIS document" in result.output


EXAMPLES = VECTORS.parent / "examples"


def _check(*files: Path) -> Any:
    return CliRunner().invoke(app, ["capture", *map(str, files), "--check", "-c", "coffee"])


def test_capture_check_passes_the_reference_examples() -> None:
    examples = sorted(EXAMPLES.glob("*.jsonld"))
    result = _check(*examples)
    assert result.exit_code == 0, result.output
    assert result.output.count("valid EPCIS 2.0") == len(examples)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            lambda event: event.update(action="ADD") or event.pop("parentID"),
            "epcisBody.eventList[0].parentID",
            "required in an AggregationEvent ADD",
        ),
        (
            lambda event: event["childEPCs"].__setitem__(0, "https://id.gs1.org/01/70614141123452/21/2017"),
            "epcisBody.eventList[0].childEPCs[0]",
            "the GTIN 70614141123452 has a wrong check digit (expected 1)",
        ),
        (lambda event: event.update(action="add"), "epcisBody.eventList[0].action", "in capitals"),
    ],
)
def test_capture_check_refuses_what_capture_refuses_naming_the_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], field: str, words: str
) -> None:
    document = json.loads((EXAMPLES / "Example_9.6.3-AggregationEvent.jsonld").read_text())
    change(document["epcisBody"]["eventList"][0])
    broken = tmp_path / "broken.jsonld"
    broken.write_text(json.dumps(document))
    result = _check(broken)
    assert result.exit_code == 2 and f"{field}: " in result.output and words in result.output, result.output
    assert "nothing was sent" in result.output


def test_capture_check_names_an_event_list_that_is_no_list(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "EPCISDocument", "epcisBody": {"eventList": {"type": "ObjectEvent"}}}')
    result = _check(broken)
    assert (
        result.exit_code == 2 and "epcisBody.eventList: must be a JSON array of events, not an object" in result.output
    )


def test_capture_check_applies_the_rules_to_csv_rows(tmp_path: Path) -> None:
    rows = tmp_path / "packing.csv"
    rows.write_text(
        "eventType,eventTime,action,childEPCs\n"
        "AggregationEvent,2026-03-01T08:00:00Z,ADD,urn:epc:id:sgtin:0614141.107346.2017\n"
    )
    result = _check(rows)
    assert result.exit_code == 2 and "row 2, column parentID: required in an AggregationEvent ADD" in result.output
