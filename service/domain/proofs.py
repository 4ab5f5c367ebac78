"""Verification of record views with only the chain: each shown field against the record
root, the withheld list against the committed field list, the record's authorship (its signed
capture root), the signer's role, and the anchoring of its root — docs/proof-format.md is the
specification this module implements, and the one a verifier in any other language follows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from service.domain.commitments import (
    FIELDS_FIELD,
    HASH_FIELD,
    FieldDisclosure,
    event_leaf,
    verify_disclosure,
)
from service.domain.disclosure import NOT_DISCLOSED, RECORD_KEY, SELF_DESCRIBING, _hex, _raw
from service.domain.merkle import verify_proof
from service.epcis.event_hash import hash_id
from service.errors import ChainUnavailable
from service.hashing import keccak256_text

# --- verification with only the chain ---------------------------------------------------------

ANCHOR_ABI = [
    {
        "inputs": [{"name": "root", "type": "bytes32"}],
        "name": "getAnchor",
        "outputs": [
            {
                "components": [
                    {"name": "by", "type": "address"},
                    {"name": "anchoredAt", "type": "uint64"},
                    {"name": "leafCount", "type": "uint32"},
                ],
                "name": "",
                "type": "tuple",
            }
        ],
        "stateMutability": "view",
        "type": "function",
    },
    {
        "inputs": [
            {"name": "root", "type": "bytes32"},
            {"name": "leaf", "type": "bytes32"},
            {"name": "proof", "type": "bytes32[]"},
        ],
        "name": "verify",
        "outputs": [{"name": "", "type": "bool"}],
        "stateMutability": "view",
        "type": "function",
    },
]


ROOT_ANCHORED = "0x" + keccak256_text("RootAnchored(bytes32,bytes32,address,uint32,bytes32)").hex()


class AnchorReader:
    """Reads the ProvenanceAnchor with nothing but a JSON-RPC endpoint, its address and the
    account trusted to anchor (the service's anchorer): a view cannot vouch for itself."""

    def __init__(self, w3: Web3, contract: str, anchorer: str) -> None:
        self.w3 = w3
        self.contract = Web3.to_checksum_address(contract)
        self.anchorer = Web3.to_checksum_address(anchorer)
        self._anchor = w3.eth.contract(address=self.contract, abi=ANCHOR_ABI)

    def _call(self, what: str, call: Any) -> Any:
        try:
            return call()
        except Exception as exc:
            raise ChainUnavailable(f"{what} failed: {exc}") from exc

    @property
    def chain_id(self) -> int:
        return int(self._call("eth_chainId", lambda: self.w3.eth.chain_id))

    def anchor(self, root: bytes) -> tuple[str, int, int]:
        by, at, count = self._call("ProvenanceAnchor.getAnchor", lambda: self._anchor.functions.getAnchor(root).call())
        return Web3.to_checksum_address(by), int(at), int(count)

    def verify(self, root: bytes, leaf: bytes, proof: list[bytes]) -> bool:
        return bool(
            self._call("ProvenanceAnchor.verify", lambda: self._anchor.functions.verify(root, leaf, proof).call())
        )

    def constellation_of(self, root: bytes, block: int | None) -> str | None:
        """The constellation the root was anchored for (its RootAnchored log)."""
        where = {"fromBlock": block, "toBlock": block} if block is not None else {"fromBlock": 0, "toBlock": "latest"}
        logs = self._call(
            "eth_getLogs",
            lambda: self.w3.eth.get_logs(
                {"address": self.contract, "topics": [ROOT_ANCHORED, None, _hex(root)], **where}  # type: ignore[typeddict-item]
            ),
        )
        return _hex(bytes(logs[0]["topics"][1])) if logs else None


@dataclass
class ViewCheck:
    name: str
    ok: bool | None
    detail: str


@dataclass
class ViewVerdict:
    ref: str
    checks: list[ViewCheck] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    unproven: list[str] = field(default_factory=list)
    chain_unavailable: bool = False

    def add(self, name: str, ok: bool | None, detail: str) -> None:
        self.checks.append(ViewCheck(name, ok, detail))

    @property
    def status(self) -> str:
        """verified · failed · unavailable (the chain could not be read) · pending (not anchored yet)."""
        if any(c.ok is False for c in self.checks):
            return "failed"
        if all(c.ok is True for c in self.checks):
            return "verified"
        return "unavailable" if self.chain_unavailable else "pending"

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "status": self.status,
            "verified": self.status == "verified",
            "disclosure": "partial" if self.withheld else "full",
            "withheld": self.withheld,
            "unproven": self.unproven,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


class MalformedView(ValueError):
    """The document is not a record view this service issues."""


@dataclass(frozen=True)
class _Parsed:
    ref: bytes
    root: bytes
    signer: str
    constellation: str
    withheld: list[str]
    disclosures: dict[str, FieldDisclosure]
    anchor: tuple[bytes, list[bytes], int | None, Any] | None  # batch root, proof, block, chain id


def _strict(value: Any, size: int, name: str) -> str:
    """0x and exactly `size` bytes of hex, nothing else (no spaces bytes.fromhex would skip)."""
    if not isinstance(value, str) or re.fullmatch(rf"0x[0-9a-fA-F]{{{size * 2}}}", value) is None:
        raise ValueError(f"{name} is not 0x and {size} bytes of hex")
    return value


def _parse(view: Any) -> _Parsed:
    """The record block, every value of the type it must have, or MalformedView naming the problem."""
    if not isinstance(view, Mapping):
        raise MalformedView("a record view is a JSON object")
    block = view.get(RECORD_KEY)
    if not isinstance(block, Mapping):
        raise MalformedView(f"not a record view: it has no {RECORD_KEY!r} object")
    try:
        entries = block["disclosures"]
        if not isinstance(entries, Mapping):
            raise TypeError("disclosures is not an object")
        disclosures = {}
        for path, entry in entries.items():
            if not isinstance(entry, Mapping) or not isinstance(entry.get("proof"), list):
                raise TypeError(f"disclosure {path!r} is not an object with a proof list")
            value = entry.get("value") if path in SELF_DESCRIBING else view.get(path)
            disclosures[str(path)] = FieldDisclosure(
                str(path), value, _raw(str(entry["salt"])), [_raw(str(p)) for p in entry["proof"]]
            )
        anchor = block.get("anchor")
        parsed_anchor = None
        if anchor:
            if not isinstance(anchor, Mapping) or not isinstance(anchor.get("proof"), list):
                raise TypeError("anchor is not an object with a proof list")
            number = anchor.get("blockNumber")
            if number is not None and (not isinstance(number, int) or isinstance(number, bool) or number < 0):
                raise TypeError("anchor.blockNumber is not a block number")
            parsed_anchor = (
                _raw(str(anchor["root"])),
                [_raw(str(p)) for p in anchor["proof"]],
                number,
                anchor.get("chainId"),
            )
        withheld = block.get("withheld") or []
        if not isinstance(withheld, list) or not all(isinstance(w, str) for w in withheld):
            raise TypeError("withheld is not a list of field names")
        return _Parsed(
            ref=_raw(_strict(block["ref"], 32, "ref")),
            root=_raw(_strict(block["recordRoot"], 32, "recordRoot")),
            signer=_strict(block["owner"]["address"], 20, "owner.address"),
            constellation=_strict(block["constellation"]["id"], 32, "constellation.id"),
            withheld=list(withheld),
            disclosures=disclosures,
            anchor=parsed_anchor,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedView(f"the {RECORD_KEY!r} block is malformed: {exc}") from None


LABELS = (
    ("owner", "id"),
    ("owner", "name"),
    ("constellation", "slug"),
    ("anchor", "txHash"),
    ("anchor", "blockNumber"),
)
"""Names in a view the service adds for its readers: what it proves is the signer's address,
the constellation id and the anchoring on chain, not these."""


def _labels(block: Mapping[str, Any]) -> list[str]:
    return [
        f"{outer}.{inner}" for outer, inner in LABELS if isinstance(block.get(outer), Mapping) and inner in block[outer]
    ]


def verify_event_view(view: Any, reader: AnchorReader | None) -> ViewVerdict:
    """Checks a (possibly redacted) event view: each shown field against the record root, the
    withheld list against the committed field list, the leaf against root, signer and
    constellation, the leaf's proof into the batch root, and the batch root on chain —
    anchored by the trusted anchorer (or the signer itself) for the record's constellation
    (`reader` None: everything but the chain)."""
    parsed = _parse(view)
    verdict = ViewVerdict(ref=_hex(parsed.ref), withheld=parsed.withheld)
    verdict.unproven = sorted(n for n in NOT_DISCLOSED if n in view) + _labels(view[RECORD_KEY])
    disclosures = parsed.disclosures

    listed = disclosures.get(FIELDS_FIELD)
    names = listed.value if listed is not None else None
    committed_id = not isinstance(names, list) or "eventID" in names
    derived_id = HASH_FIELD in disclosures and "eventID" in view and "eventID" not in disclosures and not committed_id
    shown = {n for n in view if n not in NOT_DISCLOSED and n != RECORD_KEY} - ({"eventID"} if derived_id else set())
    bad = sorted(
        path
        for path, item in disclosures.items()
        if (path not in SELF_DESCRIBING and path not in view) or not verify_disclosure(parsed.root, item)
    )
    unproven = sorted(shown - set(disclosures))
    bad += [name for name in SELF_DESCRIBING if name in view]  # they live in the disclosures only
    if derived_id and view["eventID"] != hash_id(str(disclosures[HASH_FIELD].value)):
        bad.append("eventID")
    verdict.add(
        "disclosed_fields",
        not bad and not unproven,
        f"{len(disclosures)} disclosed fields prove into record root {_hex(parsed.root)}"
        if not bad and not unproven
        else f"fields that do not prove into the record root: {sorted(bad + unproven)}",
    )
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        verdict.add("field_list", False, f"the view does not disclose the committed field list {FIELDS_FIELD!r}")
    else:
        missing = sorted(set(names) - shown)
        complete = missing == sorted(parsed.withheld) and shown <= set(names)
        verdict.add(
            "field_list",
            complete,
            f"the record commits {len(names)} fields: {len(shown)} shown, {len(missing)} withheld, as the view says"
            if complete
            else f"the view's withheld list {sorted(parsed.withheld)} is not what the record withholds: {missing}",
        )
    try:
        leaf = event_leaf(parsed.root, parsed.signer, parsed.constellation)
        leaf_ok = leaf == parsed.ref
    except ValueError:
        leaf, leaf_ok = b"", False
    verdict.add(
        "leaf",
        leaf_ok,
        "keccak256(abi.encode(recordRoot, signer, constellation)) equals the record's ref"
        if leaf_ok
        else "the record's ref is not the leaf of its record root, signer and constellation",
    )
    if parsed.anchor is None:
        verdict.add("merkle_proof", None, "the record is not in a sealed batch yet")
        verdict.add("anchored", None, "not anchored yet")
        return verdict
    batch_root, proof, block, named_chain = parsed.anchor
    verdict.add(
        "merkle_proof",
        verify_proof(batch_root, leaf, proof),
        f"the leaf proves into batch root {_hex(batch_root)} (sorted-pair keccak256)",
    )
    if reader is None:
        verdict.chain_unavailable = True
        verdict.add("anchored", None, "no chain to read the root from")
        return verdict
    try:
        chain_id = reader.chain_id
        if named_chain not in (None, chain_id):
            verdict.add("anchored", False, f"the view names chain {named_chain}; the endpoint is chain {chain_id}")
            return verdict
        by, at, count = reader.anchor(batch_root)
        if not at:
            verdict.add("anchored", None, f"root {_hex(batch_root)} is not on chain {chain_id} yet")
            return verdict
        on_chain = reader.verify(batch_root, leaf, proof)
        anchored_for = reader.constellation_of(batch_root, block)
    except ChainUnavailable as exc:
        verdict.chain_unavailable = True
        verdict.add("anchored", None, str(exc))
        return verdict
    trusted = by in (reader.anchorer, Web3.to_checksum_address(parsed.signer)) if leaf_ok else False
    ok = on_chain and trusted and anchored_for == parsed.constellation.lower()
    verdict.add(
        "anchored",
        ok,
        f"ProvenanceAnchor {reader.contract} on chain {chain_id}: root of {count} leaves anchored at {at} by {by} "
        f"for constellation {anchored_for}; verify(root, leaf, proof) is {on_chain}"
        + (
            ""
            if trusted
            else f"; the anchoring account is neither the trusted anchorer {reader.anchorer} nor the signer"
        )
        + (
            ""
            if anchored_for == parsed.constellation.lower()
            else "; anchored for another constellation than the record's"
        ),
    )
    return verdict
