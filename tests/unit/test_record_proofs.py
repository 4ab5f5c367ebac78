"""Record-view checks that need no chain (docs/proof-format.md §3 to §5): a view built here from
the format's primitives proves its fields, its leaf and its authorship under pinned EIP-712
domain values; a changed signature, signer or capture count fails authorship; without pins
authorship is not decided; pins parse as /verify/trust writes them, naming what is wrong."""

from __future__ import annotations

import os
from copy import deepcopy
from typing import Any

import pytest
from eth_account import Account

from service.chain import typed_data
from service.chain.proof_reader import TrustPins
from service.domain.commitments import FIELDS_FIELD, RecordCommitment, event_leaf
from service.domain.merkle import MerkleTree
from service.domain.proofs import CHECKS, MalformedView, verify_event_view

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
SIGNER = Account.from_key(KEY).address
CONSTELLATION = "0x" + "c1" * 32
PINS = TrustPins.of(
    chain_id=31337,
    provenance_anchor="0x" + "a1" * 20,
    constellation_registry="0x" + "a2" * 20,
    attestation_registry="0x" + "a3" * 20,
    anchorer="0x" + "a4" * 20,
)


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def _view(signer_key: str = KEY) -> dict[str, Any]:
    """A record view of one event among three of a capture, signed by `signer_key`."""
    event = {"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "inspecting"}
    commitment = RecordCommitment.commit({**event, FIELDS_FIELD: sorted(event)})
    leaf = event_leaf(commitment.root, SIGNER, CONSTELLATION)
    capture = MerkleTree([os.urandom(32), leaf, os.urandom(32)])
    message = {"constellation": bytes.fromhex(CONSTELLATION[2:]), "captureRoot": capture.root, "recordCount": 3}
    typed = typed_data.typed_message("Capture", message, chain_id=31337, contract=PINS.provenance_anchor)
    disclosures = {}
    for item in commitment.disclose([*event, FIELDS_FIELD]):
        entry: dict[str, Any] = {"salt": _hex(item.salt), "proof": [_hex(p) for p in item.proof]}
        disclosures[item.path] = {"value": item.value, **entry} if item.path == FIELDS_FIELD else entry
    record: dict[str, Any] = {
        "ref": _hex(leaf),
        "constellation": {"id": CONSTELLATION, "slug": "coffee"},
        "owner": {"id": "m1", "name": "Farm", "address": SIGNER},
        "withheld": [],
        "recordRoot": _hex(commitment.root),
        "disclosures": disclosures,
        "anchor": None,
        "capture": {
            "root": _hex(capture.root),
            "count": 3,
            "index": 1,
            "proof": [_hex(p) for p in capture.proof(1)],
            "signature": _hex(typed_data.sign(signer_key, typed)),
            "signedBy": "self",
        },
    }
    return {**event, "constellate:record": record}


def _checks(view: dict[str, Any], pins: TrustPins | None = PINS) -> dict[str, bool | None]:
    return {c.name: c.ok for c in verify_event_view(view, None, pins=pins).checks}


def test_a_view_proves_its_fields_leaf_and_authorship_without_a_chain() -> None:
    checks = _checks(_view())
    assert list(checks) == list(CHECKS)
    assert checks == {
        "disclosed_fields": True,
        "field_list": True,
        "leaf": True,
        "authorship": True,
        "signer_role": None,
        "merkle_proof": None,
        "anchored": None,
    }
    assert verify_event_view(_view(), None, pins=PINS).status == "pending"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda r: r["capture"].update(count=4), id="count"),
        pytest.param(lambda r: r["capture"].update(root="0x" + "00" * 32), id="root"),
        pytest.param(lambda r: r["capture"].update(proof=[]), id="proof"),
        pytest.param(lambda r: r["capture"].update(signature=None), id="no signature"),
        pytest.param(lambda r: r.pop("capture"), id="no capture"),
        pytest.param(lambda r: r["constellation"].update(id="0x" + "c2" * 32), id="constellation"),
    ],
)
def test_anything_the_signature_does_not_cover_fails_authorship(tamper: Any) -> None:
    view = _view()
    tamper(view["constellate:record"])
    assert _checks(view)["authorship"] is False


def test_another_key_or_another_domain_fails_authorship() -> None:
    assert _checks(_view(signer_key="0x" + "42" * 32))["authorship"] is False
    elsewhere = TrustPins.of(chain_id=1, provenance_anchor=PINS.provenance_anchor, anchorer=PINS.anchorer)
    assert _checks(_view(), elsewhere)["authorship"] is False
    assert _checks(_view(), None)["authorship"] is None  # no pins: the domain is unknown, nothing decided


def test_a_malformed_capture_block_is_named() -> None:
    for change, words in (
        (lambda c: c.update(signature="0x1234"), "capture.signature"),
        (lambda c: c.update(count=True), "capture.count"),
        (lambda c: c.update(proof=["0x12"]), "capture.proof[0]"),
        (lambda c: c.update(signedBy="operator"), "capture.signedBy"),
    ):
        view = deepcopy(_view())
        change(view["constellate:record"]["capture"])
        with pytest.raises(MalformedView, match=words.replace("[", r"\[").replace("]", r"\]")):
            verify_event_view(view, None, pins=PINS)


def test_pins_parse_as_verify_trust_writes_them() -> None:
    assert TrustPins.from_json({**PINS.as_json(), "command": "…", "commands": {}}) == PINS
    assert list(PINS.as_json()) == [
        "chainId",
        "provenanceAnchor",
        "constellationRegistry",
        "attestationRegistry",
        "sharingLedger",
        "anchorer",
    ]
    for bad, words in (
        ({"anchorer": PINS.anchorer}, "no provenanceAnchor"),
        ({**PINS.as_json(), "chainId": "31337"}, "chainId"),
        ({**PINS.as_json(), "constellationRegistry": "0x12"}, "constellationRegistry is not an address"),
        ([PINS.as_json()], "JSON object"),
    ):
        with pytest.raises(ValueError, match=words):
            TrustPins.from_json(bad)
    named = {**PINS.as_json(), "anchorer": PINS.anchorer.lower(), "attestationRegistry": "0x" + "99" * 20}
    assert PINS.differences(named) == ["attestationRegistry"]
