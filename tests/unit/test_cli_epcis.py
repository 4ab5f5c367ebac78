"""`constellate epcis hash` prints the hash IDs exactly as the reference `.hashes` files do."""

from __future__ import annotations

from pathlib import Path

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
