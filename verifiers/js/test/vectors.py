"""Prints, as JSON, test vectors computed by the service's own code (service.domain.commitments,
service.domain.merkle, the GS1 identifiers, the EIP-712 messages), so the JavaScript verifier's
unit tests check that both implementations of docs/proof-format.md agree byte for byte.
Run by tests/integration/test_js_verifier.py: `python verifiers/js/test/vectors.py > FILE`."""

from __future__ import annotations

import json
import sys
from typing import Any

from service.chain import typed_data
from service.chain.contracts import AttestationRequest
from service.domain import commitments
from service.domain.merkle import MerkleTree
from service.epcis import policy
from service.epcis.identifiers import canonical_id
from service.hashing import keccak256

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # Anvil account 1
ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CONSTELLATION = "0x" + keccak256(b"coffee").hex()
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

VALUES: list[Any] = [
    0,
    -0.0,
    12.0,
    1e21,
    1e-7,
    0.1,
    0.30000000000000004,
    5e-324,
    1.7976931348623157e308,
    9007199254740991,
    -9007199254740991,
    123456789.125,
    600,
    0.000001,
    1e20,
    4.5e-7,
    333333333.3333333,
    "",
    "a\u0000b",
    "\u20ac",
    "é",
    "\U0001f600",
    'line\nbreak\t"quoted" \\ /',
    "\u007f\u0080\u2028\u2029",
    True,
    False,
    None,
    [],
    {},
    [1, [2, [3]]],
    {"b": 1, "a": 2, "\u20ac": 3, "\U0001f600": 4, "\ufb33": 5, "1": 6, "10": 7, "A": 8, "é": 9},
    {"numbers": [333333333.33333329, 1e30, 4.5, 2e-3, 0.000001, -1.5e-9], "string": '\u20ac$\u000f\nA\'B"\\\\"/'},
    {"quantity": 600, "uom": "KGM", "epcClass": "https://id.gs1.org/01/09506000134352/10/FARM1-2026"},
]

IDENTIFIERS = [
    "urn:epc:id:sgtin:0614141.112345.400",
    "urn:epc:id:sgtin:0614141.012345.62852",
    "urn:epc:class:lgtin:4012345.012345.998877",
    "urn:epc:id:sscc:0614141.1234567890",
    "urn:epc:id:sgln:0614141.12345.0",
    "urn:epc:id:sgln:0614141.12345.400",
    "urn:epc:id:grai:0614141.12345.400",
    "urn:epc:id:giai:0614141.12345400",
    "urn:epc:id:gsrn:0614141.1234567890",
    "urn:epc:id:gdti:0614141.12345.400",
    "urn:epc:id:cpi:0614141.123ABC.123456789",
    "urn:epc:id:sgcn:4012345.67890.04711",
    "urn:epc:id:itip:4012345.012345.01.02.987",
    "urn:epc:id:upui:1234567.089456.51qIgY)%3C%26Jp3*j7'SDB",
    "urn:epc:id:pgln:1234567.89012",
    "urn:epc:idpat:sgtin:4012345.012345.*",
    "urn:epc:id:sgtin:4012345.011111.98%22",
    "urn:epc:id:bic:CSQU3054383",
    "urn:epc:id:sgtin:12345.012345.400",
    "https://id.gs1.org/01/09506000134352/10/FARM1-2026",
    "https://example.com/01/9506000134352/21/987?17=250101",
    "https://example.com/shop/gtin/09506000134352/lot/ABC/ser/12",
    "https://id.gs1.org/01/09506000134352/22/2A/10/L1",
    "https://id.gs1.org/414/9506000000016/254/A%20B",
    "https://id.gs1.org/00/095060000000000017",
    "https://id.gs1.org/8004/0614141ABC",
    "http://id.gs1.org/01/09506000134352/",
    "https://example.com/not/a/link",
    "https://id.gs1.org/01/12345",
    "urn:uuid:3f2a1f66-7c2b-4a59-9b41-roast0042",
    "a plain name",
]

TERMS = [
    "shipping",
    "https://ref.gs1.org/cbv/BizStep-receiving",
    "http://gs1.org/voc/BizStep-packing",
    "cbv:BizStep-commissioning",
    "gs1:Disp-recalled",
    "https://ref.gs1.org/cbv/Disp-in_transit",
    "urn:epcglobal:cbv:bizstep:shipping",
    "https://example.com/steps/roasting",
    "cbv:Disp-active",
]


def hx(raw: bytes) -> str:
    return "0x" + raw.hex()


def salt(n: int) -> bytes:
    return keccak256(n.to_bytes(4, "big"))[:16]


def main() -> None:
    out: dict[str, Any] = {}
    out["jcs"] = [{"value": v, "text": commitments.canonical_json(v).decode()} for v in VALUES]
    out["fieldLeaves"] = [
        {"path": p, "value": v, "salt": hx(salt(i)), "leaf": hx(commitments.field_leaf(p, v, salt(i)))}
        for i, (p, v) in enumerate(
            [
                ("eventTime", "2026-05-10T08:00:00Z"),
                ("quantityList", VALUES[-1]),
                *[(f"f{i}", v) for i, v in enumerate(VALUES)],
            ]
        )
    ]
    fields = {
        "type": "ObjectEvent",
        "Zeta": 1,
        "eventTime": "2026-05-10T08:00:00Z",
        "\U0001f600": 2.0,
        "\ufb33": [0.1],
        "@context": ["x"],
    }
    fields["#fields"] = commitments.utf16_order(fields)
    fields["#eventHash"] = "ab" * 32
    salts = {p: salt(i) for i, p in enumerate(sorted(fields))}
    record = commitments.RecordCommitment.commit(fields, salts)
    out["record"] = {
        "fields": {p: {"value": fields[p], "salt": hx(salts[p])} for p in fields},
        "order": record.paths,
        "root": hx(record.root),
        "leaf": hx(commitments.event_leaf(record.root, ADDRESS, CONSTELLATION)),
        "signer": ADDRESS,
        "constellation": CONSTELLATION,
    }
    seed, digest = keccak256(b"seed"), keccak256(b"event")
    out["derivedSalts"] = {
        "seed": hx(seed),
        "eventHash": hx(digest),
        "salts": {p: hx(s) for p, s in commitments.derived_salts(seed, digest, ["eventTime", "#fields", "é"]).items()},
    }
    trees = []
    for n in range(1, 10):
        leaves = [keccak256(bytes([n, i])) for i in range(n)]
        tree = MerkleTree(leaves)
        trees.append(
            {
                "leaves": [hx(x) for x in leaves],
                "root": hx(tree.root),
                "proofs": [[hx(p) for p in tree.proof(i)] for i in range(n)],
            }
        )
    out["merkle"] = trees
    records = [keccak256(bytes([9, i])) for i in range(3)]
    head = commitments.chain_head(records)
    item = "https://id.gs1.org/01/09506000134352/10/FARM1-2026"
    out["itemChain"] = {
        "records": [hx(r) for r in records],
        "head": hx(head),
        "item": item,
        "constellation": CONSTELLATION,
        "stateLeaf": hx(commitments.item_state_leaf(CONSTELLATION, commitments.item_hash(item), 3, head)),
        "itemState": hx(commitments.ITEM_STATE),
    }
    capture_root = MerkleTree([bytes.fromhex(record.root.hex()), keccak256(b"other")]).root
    typed = typed_data.typed_message(
        "Capture",
        {"constellation": CONSTELLATION, "captureRoot": capture_root, "recordCount": 2},
        chain_id=31337,
        contract=CONTRACT,
    )
    out["capture"] = {
        "chainId": 31337,
        "contract": CONTRACT,
        "constellation": CONSTELLATION,
        "captureRoot": hx(capture_root),
        "recordCount": 2,
        "signature": hx(typed_data.sign(KEY, typed)),
        "signer": ADDRESS,
    }
    request = AttestationRequest(
        keccak256(b"schema"),
        bytes.fromhex(CONSTELLATION[2:]),
        keccak256(item.encode()),
        keccak256(b"data"),
        1900000000,
        bytes(32),
        True,
    )
    out["attestation"] = {
        "request": {
            "schema": hx(request.schema),
            "constellation": CONSTELLATION,
            "subject": hx(request.subject),
            "dataHash": hx(request.data_hash),
            "expiresAt": request.expires_at,
            "refUID": hx(request.ref_uid),
            "revocable": True,
        },
        "subjectId": item,
        "issuer": ADDRESS,
        "uid": hx(request.uid(ADDRESS)),
    }
    out["canonicalIds"] = {i: canonical_id(i) for i in IDENTIFIERS}
    out["terms"] = {t: [policy.biz_step_term(t), policy.disposition_term(t)] for t in TERMS}
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
