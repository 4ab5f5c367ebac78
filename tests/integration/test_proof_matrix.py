"""The tampering matrix both verifiers run (issue 19): from a real journey on Anvil — the coffee
journey as the public reads it, with a revoked and a lapsed certificate besides its valid claims
— one untampered document and one tampered copy per way of lying, written to
build/test-artifacts/proofs/ (`trust.json`, `journey.json`, `cases/<name>.json`, each
{"name", "expect", "document"}). The Python verifier fails each with the check `expect` names
(a leaf index is a label: that case must still verify); the JavaScript verifier
(verifiers/js/cli.mjs) must reach the same status with the same failing checks."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from service.chain.proof_reader import ChainProofReader, TrustPins
from service.chain.rpc import endpoint
from service.domain.commitments import chain_head, event_leaf, item_hash, item_state_leaf
from service.domain.journey_proofs import step_summary, verify_journey
from service.domain.merkle import MerkleTree
from service.domain.view_format import RECORD_KEY
from service.settings import PROJECT_ROOT

from . import journey
from .test_journeys import JSON, ROAST_PATH, Shop

ARTIFACTS = PROJECT_ROOT / "build" / "test-artifacts" / "proofs"
NODE = shutil.which("node")
CLI = PROJECT_ROOT / "verifiers" / "js" / "cli.mjs"
LAPSED = {"standard": "Organic (EU)", "certificateId": "BIO-1", "issuingBody": "Kiwa BCS", "validUntil": "2025-01-31"}
WITHDRAWN = {
    "standard": "Rainforest Alliance",
    "certificateId": "RA-7",
    "issuingBody": "Rainforest Alliance",
    "validUntil": "2027-12-31",
}

sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""The chain is what is checked here: one database kind is enough."""


class Matrix(Shop):
    """The coffee journey with a certificate revoked by its certifier and one lapsed by its body."""

    def __init__(self, api: Any) -> None:
        super().__init__(api)
        self.lapsed = self.attest(self.certifier_h, "certification", journey.LOT_1, LAPSED)
        self.withdrawn = self.attest(self.certifier_h, "certification", journey.LOT_2, WITHDRAWN)
        self.runtime.relay(flush=True)
        revoked = api.client.post(f"/attestations/{self.withdrawn}/revoke", json={}, headers=self.certifier_h)
        assert revoked.status_code in (200, 202), revoked.text
        self.runtime.relay(flush=True)


# --- what a careful forger keeps consistent ----------------------------------------------------


def _resummarise_step(step: dict[str, Any]) -> None:
    """The step's summary made to say what its (tampered) view says, labels kept."""
    labels = {"where": step["where"].get("name"), "custody": step["who"].get("custody")}
    step.update(step_summary(step["event"]))
    step["where"]["name"] = labels["where"]
    step["who"]["custody"] = labels["custody"]


def _recount(document: dict[str, Any]) -> None:
    """The summary made to count what the (tampered) document lists."""
    summary = document["summary"]
    steps, claims = document["steps"], document["claims"]
    summary["steps"] = len(steps)
    summary["anchored"] = sum(1 for s in steps if s["event"][RECORD_KEY].get("anchor"))
    summary["claims"] = {state: sum(1 for c in claims if c["status"] == state) for state in summary["claims"]}
    summary["certifications"] = [
        {k: c[k] for k in ("title", "issuer", "validFrom", "validUntil", "status", "subject")}
        for c in claims
        if c["kind"] == "certification" and c["status"] == "valid"
    ]


def _step_of(document: dict[str, Any], owner: str, biz_step: str | None = None) -> dict[str, Any]:
    return next(
        s for s in document["steps"] if s["who"]["name"] == owner and (biz_step is None or s["bizStep"] == biz_step)
    )


def _claim(document: dict[str, Any], uid: str) -> dict[str, Any]:
    return next(c for c in document["claims"] if c["uid"] == uid)


def _flip(value: str, at: int = -1) -> str:
    """A hex string with one digit changed (at `at`)."""
    digits = list(value)
    digits[at] = "0" if digits[at] != "0" else "1"
    return "".join(digits)


# --- the tamperings ------------------------------------------------------------------------------


def _field_value(document: dict[str, Any], matrix: Matrix) -> None:
    step = _step_of(document, "Farms Cooperative")
    step["event"]["quantityList"][0]["quantity"] = 60
    _resummarise_step(step)


def _salt(document: dict[str, Any], matrix: Matrix) -> None:
    block = document["steps"][0]["event"][RECORD_KEY]
    block["disclosures"]["eventTime"]["salt"] = _flip(block["disclosures"]["eventTime"]["salt"])


def _proof_element(document: dict[str, Any], matrix: Matrix) -> None:
    step = document["steps"][1]
    anchor = step["event"][RECORD_KEY]["anchor"]
    anchor["proof"][0] = _flip(anchor["proof"][0])
    _resummarise_step(step)


def _leaf_index(document: dict[str, Any], matrix: Matrix) -> None:
    step = document["steps"][1]
    step["event"][RECORD_KEY]["anchor"]["leafIndex"] += 1
    _resummarise_step(step)


def _signer_address(document: dict[str, Any], matrix: Matrix) -> None:
    document["steps"][0]["event"][RECORD_KEY]["owner"]["address"] = str(matrix.shop["address"])


def _capture_signature(document: dict[str, Any], matrix: Matrix) -> None:
    capture = document["steps"][0]["event"][RECORD_KEY]["capture"]
    capture["signature"] = _flip(capture["signature"], 10)


def _reattributed(document: dict[str, Any], matrix: Matrix) -> None:
    """The anchorer's key holder re-attributes the farm's first record to the shop (a member
    with a writing role): a new record leaf, the item chains naming it rewritten around it, all
    anchored in a batch of its own on the real chain by the anchorer. Only the member's signature
    over its capture root can tell."""
    step = document["steps"][0]
    block = step["event"][RECORD_KEY]
    old = block["ref"]
    other = str(matrix.shop["address"])
    new = "0x" + event_leaf(bytes.fromhex(block["recordRoot"][2:]), other, block["constellation"]["id"]).hex()
    block["owner"] |= {"address": other, "id": matrix.shop["id"], "name": matrix.shop["name"]}
    block["ref"] = new
    states = []
    for entry in document["completeness"]:
        if old in entry["records"]:
            entry["records"] = [new if r == old else r for r in entry["records"]]
            entry["head"] = "0x" + chain_head(bytes.fromhex(r[2:]) for r in entry["records"]).hex()
            leaf = item_state_leaf(
                entry["constellation"], item_hash(entry["item"]), entry["count"], bytes.fromhex(entry["head"][2:])
            )
            states.append((leaf, entry))
    assert states, "the record is in no item chain"
    leaves = [bytes.fromhex(new[2:]), *sorted(leaf for leaf, _ in states), secrets.token_bytes(32)]
    tree = MerkleTree(leaves)
    receipt = matrix.runtime.chain.anchor.anchor(
        bytes.fromhex(block["constellation"]["id"][2:]), tree.root, len(leaves), secrets.token_bytes(32)
    )

    def anchor_of(index: int, like: dict[str, Any]) -> dict[str, Any]:
        return like | {
            "root": "0x" + tree.root.hex(),
            "leafIndex": index,
            "leafCount": len(leaves),
            "proof": ["0x" + p.hex() for p in tree.proof(index)],
            "txHash": receipt.tx_hash,
            "blockNumber": receipt.block_number,
        }

    block["anchor"] = anchor_of(0, block["anchor"])
    for leaf, entry in states:
        entry["anchor"] = anchor_of(leaves.index(leaf), entry["anchor"])
    _resummarise_step(step)


def _dropped_step(document: dict[str, Any], matrix: Matrix) -> None:
    document["steps"].remove(_step_of(document, "Farms Cooperative"))
    _recount(document)  # but not the records it says are not shown


def _dropped_step_counted(document: dict[str, Any], matrix: Matrix) -> None:
    """A step dropped and counted as not shown: it verifies, and the verdict says so."""
    dropped = _step_of(document, "Farms Cooperative")
    document["steps"].remove(dropped)
    _recount(document)
    hidden: set[str] = set()
    for entry in document["completeness"]:
        if dropped["ref"] in entry["records"]:
            entry["notShown"] += 1
        hidden |= set(entry["records"])
    document["summary"]["recordsNotShown"] = len(hidden - {s["ref"] for s in document["steps"]})


def _duplicated_step(document: dict[str, Any], matrix: Matrix) -> None:
    document["steps"].insert(1, deepcopy(document["steps"][1]))
    _recount(document)


def _duplicated_step_respelt(document: dict[str, Any], matrix: Matrix) -> None:
    """The same record twice, its ref spelt in upper case in the copy (hex reads the same bytes)."""
    copy = deepcopy(document["steps"][1])
    copy["ref"] = "0x" + copy["ref"][2:].upper()
    copy["event"]["constellate:record"]["ref"] = copy["ref"]
    document["steps"].insert(1, copy)
    _recount(document)


def _reordered_steps(document: dict[str, Any], matrix: Matrix) -> None:
    steps = document["steps"]
    assert steps[0]["eventTime"] < steps[1]["eventTime"]
    steps[0], steps[1] = steps[1], steps[0]


def _claim_signature(document: dict[str, Any], matrix: Matrix) -> None:
    proof = _claim(document, matrix.certificate)["credential"]["proof"]
    proof["proofValue"] = _flip(proof["proofValue"], 10)


def _claim_issuer(document: dict[str, Any], matrix: Matrix) -> None:
    _claim(document, matrix.certificate)["issuer"]["address"] = str(matrix.roaster["address"])
    _recount(document)


def _claim_body(document: dict[str, Any], matrix: Matrix) -> None:
    claim = _claim(document, matrix.certificate)
    claim["body"]["certificateId"] = "FT-999"
    claim["credential"]["credentialSubject"]["body"]["certificateId"] = "FT-999"


def _claim_status(document: dict[str, Any], matrix: Matrix) -> None:
    claim = _claim(document, matrix.withdrawn)
    assert claim["status"] == "revoked"
    claim["status"], claim["statusDate"] = "valid", claim["validUntil"]
    _recount(document)


def _claim_expiry(document: dict[str, Any], matrix: Matrix) -> None:
    claim = _claim(document, matrix.lapsed)
    assert claim["status"] == "expired"
    claim["status"] = "valid"
    claim["statusDate"] = claim["validUntil"] = "2030-01-31"
    _recount(document)


def _claim_schema_renamed(document: dict[str, Any], matrix: Matrix) -> None:
    """A schema renamed in the claim and its credential (the definition is no signed field): the
    name decides which body fields bound validity, so the verifier takes it from the registry."""
    claim = _claim(document, matrix.lapsed)
    claim["schema"] = "renamed"
    schema = claim["credential"]["credentialSchema"]
    schema["definition"] = "constellate/renamed " + schema["definition"].split(" ", 1)[1]


def _footprint_figure(document: dict[str, Any], matrix: Matrix) -> None:
    footprint = document["footprint"]
    footprint["kgCO2ePerDeclaredUnit"] = 3.2
    footprint["kgCO2ePerUnit"] = 0.8


def _page_pins(document: dict[str, Any], matrix: Matrix) -> None:
    document["verify"]["attestationRegistry"] = "0x" + "11" * 20


CASES = {
    "field-value": (_field_value, "disclosed_fields"),
    "salt": (_salt, "disclosed_fields"),
    "proof-element": (_proof_element, "merkle_proof"),
    "leaf-index": (_leaf_index, "verified"),
    "signer-address": (_signer_address, "leaf"),
    "capture-signature": (_capture_signature, "authorship"),
    "record-reattributed-and-anchored": (_reattributed, "authorship"),
    "dropped-step": (_dropped_step, "completeness"),
    "dropped-step-counted": (_dropped_step_counted, "verified"),
    "duplicated-step": (_duplicated_step, "structure"),
    "duplicated-step-respelt": (_duplicated_step_respelt, "structure"),
    "reordered-steps": (_reordered_steps, "order"),
    "claim-signature": (_claim_signature, "claim.signature"),
    "claim-issuer": (_claim_issuer, "claim.summary"),
    "claim-body": (_claim_body, "claim.disclosed_fields"),
    "claim-status": (_claim_status, "claim.status"),
    "claim-expiry": (_claim_expiry, "claim.status"),
    "claim-schema-renamed": (_claim_schema_renamed, "claim.summary"),
    "footprint-figure": (_footprint_figure, "footprint"),
    "page-pins": (_page_pins, "pins"),
}
"""Each way of lying: how, and the check that must fail (`verified`: a label, it must not fail)."""


# --- the matrix ----------------------------------------------------------------------------------


def _failing(verdict: dict[str, Any]) -> set[tuple[str, Any, Any]]:
    return {(c["name"], c.get("step"), c.get("claim")) for c in verdict["checks"] if c["ok"] is False}


def _write(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _javascript(document_path: Path, rpc_url: str, trust: Path) -> dict[str, Any] | None:
    """The JavaScript verifier's verdict, while verifiers/js/cli.mjs exists (None before)."""
    if NODE is None or not CLI.exists():
        return None
    run = subprocess.run(
        [NODE, str(CLI), "journey", str(document_path), "--rpc-url", rpc_url, "--trust", str(trust), "--json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode in (0, 1), f"{document_path.name}: exit {run.returncode}: {run.stderr[-2000:]}"
    verdict: dict[str, Any] = json.loads(run.stdout)
    assert run.returncode == (0 if verdict["status"] == "verified" else 1), document_path.name
    return verdict


@sqlite
def test_every_tampering_fails_with_its_check_in_both_verifiers(api: Any, w3: Web3, anvil: Any, tmp_path: Path) -> None:
    matrix = Matrix(api)
    pins = api.client.get("/verify/trust").json()
    untampered = matrix.page(ROAST_PATH, JSON).json()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    _write(ARTIFACTS / "trust.json", pins)
    _write(ARTIFACTS / "journey.json", untampered)
    cases = {"untampered": ("verified", untampered)}
    for name, (tamper, expect) in CASES.items():
        document = deepcopy(untampered)
        tamper(document, matrix)
        assert document != untampered, name
        _write(ARTIFACTS / "cases" / f"{name}.json", {"name": name, "expect": expect, "document": document})
        cases[name] = (expect, document)

    problems = []
    verdicts = {}
    for name, (expect, document) in cases.items():
        reader = ChainProofReader(endpoint(w3), TrustPins.from_json(pins))
        python = verify_journey(document, reader, pins).as_json()
        failing = _failing(python)
        if expect == "verified":
            if python["status"] != "verified":
                problems.append(f"{name}: Python says {python['status']}, failing {sorted(failing)}")
        elif python["status"] != "failed" or expect not in {n for n, _, _ in failing}:
            problems.append(f"{name}: Python says {python['status']}, failing {sorted(failing)}, not {expect}")
        verdicts[name] = {"status": python["status"], "failing": sorted(n for n, _, _ in failing)}
        path = tmp_path / f"{name}.json"
        _write(path, document)
        script = _javascript(path, anvil.rpc_url, ARTIFACTS / "trust.json")
        if script is not None and (script["status"], _failing(script)) != (python["status"], failing):
            problems.append(
                f"{name}: JavaScript says {script['status']}, failing {sorted(_failing(script))}; "
                f"Python {python['status']}, failing {sorted(failing)}"
            )
        if script is not None and script["recordsNotShown"] != python["recordsNotShown"]:
            problems.append(
                f"{name}: records not shown {script['recordsNotShown']} (JS) vs {python['recordsNotShown']}"
            )
    _write(ARTIFACTS / "verdicts.json", verdicts)  # what failed, per case (for people reading the matrix)
    assert not problems, "\n".join(problems)
