"""Verification of record views with only the chain: each shown field against the record
root, the withheld list against the committed field list, the record's authorship (its signed
capture root), the signer's role when its root was anchored, and the anchoring of that root —
docs/proof-format.md is the specification this module implements, and the one a verifier in
any other language follows.

The chain is read through a `ProofReader` the caller hands in (service/chain/proof_reader.py
implements it over batched JSON-RPC), pinned to the addresses the verifier trusts: a view
never names its own pins."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from service.addresses import checksum_address
from service.chain import typed_data
from service.chain.proof_reader import WRITERS, AnchorLog, TrustPins
from service.domain.commitments import (
    FIELDS_FIELD,
    HASH_FIELD,
    FieldDisclosure,
    event_leaf,
    verify_disclosure,
)
from service.domain.merkle import verify_proof
from service.domain.view_format import NOT_DISCLOSED, RECORD_KEY, SELF_DESCRIBING, from_hex, to_hex
from service.epcis.event_hash import hash_id
from service.errors import ChainUnavailable

if TYPE_CHECKING:
    from service.chain.structs import AnchorRecord, AttestationRecord

CHECKS = ("disclosed_fields", "field_list", "leaf", "authorship", "signer_role", "merkle_proof", "anchored")
"""A record view's checks, in the order a verdict lists them (docs/proof-format.md §9a)."""
MAX_UINT32 = 2**32 - 1


class ProofReader(Protocol):
    """What a verifier reads from the chain, pinned to `pins`. Any failed read raises
    ChainUnavailable. Also an `AttestationReader` (service/domain/credential_proofs.py): `address`
    is the pinned AttestationRegistry, so claims are read through the same reader."""

    @property
    def pins(self) -> TrustPins: ...

    @property
    def chain_id(self) -> int:
        """The endpoint's chain id (eth_chainId)."""
        ...

    @property
    def address(self) -> str: ...

    def prefetch(
        self,
        *,
        roots: Iterable[tuple[bytes, int | None]] = (),
        uids: Iterable[bytes] = (),
        roles: Iterable[tuple[bytes, str, str]] = (),
        schemas: Iterable[bytes] = (),
    ) -> None:
        """Reads ahead, in as few round trips as it can: each root's state and log (`(root,
        block the view names)`), each attestation, each `(root, constellation, account)` role
        at the block that anchored the root."""
        ...

    def anchor(self, root: bytes) -> AnchorRecord:
        """`ProvenanceAnchor.getAnchor(root)` at the latest block."""
        ...

    def anchoring(self, root: bytes, block: int | None = None) -> AnchorLog | None:
        """The root's `RootAnchored` log: in `block` first, then anywhere."""
        ...

    def writer_at(self, constellation: str, account: str, block: int) -> bool:
        """`ConstellationRegistry.hasAnyRole(constellation, account, WRITERS)` at `block`."""
        ...

    def get_attestation(self, uid: bytes) -> AttestationRecord: ...


def verdict_status(results: Iterable[bool | None], chain_unavailable: bool) -> str:
    """A verdict's status from its checks' results (docs/proof-format.md §9a): failed (a check
    failed: tampering, a forged signature, a wrong role) · verified (every check passed) ·
    unavailable (nothing failed, but the chain could not be read) · pending (nothing failed; not
    anchored yet)."""
    found = list(results)
    if any(ok is False for ok in found):
        return "failed"
    if all(ok is True for ok in found):
        return "verified"
    return "unavailable" if chain_unavailable else "pending"


@dataclass
class ViewCheck:
    name: str
    ok: bool | None
    detail: str
    step: int | None = None
    """The journey step (1-based) the check is about, if any."""
    claim: str | None = None
    """The claim (attestation uid) the check is about, if any."""

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.name, "ok": self.ok, "detail": self.detail}
        if self.step is not None:
            found["step"] = self.step
        if self.claim is not None:
            found["claim"] = self.claim
        return found


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
        return verdict_status([c.ok for c in self.checks], self.chain_unavailable)

    def as_json(self) -> dict[str, Any]:
        """The verdict JSON of docs/proof-format.md §9a (`status`, `checks`), with the record's
        `ref`, what it withholds and what the service adds that nothing proves."""
        return {
            "ref": self.ref,
            "status": self.status,
            "verified": self.status == "verified",
            "disclosure": "partial" if self.withheld else "full",
            "withheld": self.withheld,
            "unproven": self.unproven,
            "checks": [c.as_json() for c in self.checks],
        }


class MalformedView(ValueError):
    """The document is not a record view this service issues."""


@dataclass(frozen=True)
class _Capture:
    """The record's signed capture root: the path to it and the member's signature."""

    root: bytes
    count: int
    proof: list[bytes]
    signature: bytes | None


@dataclass(frozen=True)
class _Anchor:
    root: bytes
    proof: list[bytes]
    block: int | None
    leaf_count: int | None
    chain_id: Any
    contract: Any


@dataclass(frozen=True)
class _Parsed:
    ref: bytes
    root: bytes
    signer: str
    constellation: str
    withheld: list[str]
    disclosures: dict[str, FieldDisclosure]
    anchor: _Anchor | None
    capture: _Capture | None


def _strict(value: Any, size: int, name: str) -> str:
    """0x and exactly `size` bytes of hex, nothing else (no spaces bytes.fromhex would skip)."""
    if not isinstance(value, str) or re.fullmatch(rf"0x[0-9a-fA-F]{{{size * 2}}}", value) is None:
        raise ValueError(f"{name} is not 0x and {size} bytes of hex")
    return value


def _hashes(value: Any, name: str) -> list[bytes]:
    if not isinstance(value, list):
        raise TypeError(f"{name} is not a list")
    return [from_hex(_strict(item, 32, f"{name}[{n}]")) for n, item in enumerate(value)]


def _count(value: Any, name: str, *, least: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= MAX_UINT32:
        raise TypeError(f"{name} is not an integer from {least} to {MAX_UINT32}")
    return value


def _parse_anchor(anchor: Any) -> _Anchor | None:
    if not anchor:
        return None
    if not isinstance(anchor, Mapping) or not isinstance(anchor.get("proof"), list):
        raise TypeError("anchor is not an object with a proof list")
    number = anchor.get("blockNumber")
    if number is not None and (not isinstance(number, int) or isinstance(number, bool) or number < 0):
        raise TypeError("anchor.blockNumber is not a block number")
    count = anchor.get("leafCount")
    return _Anchor(
        root=from_hex(_strict(anchor.get("root"), 32, "anchor.root")),
        proof=_hashes(anchor["proof"], "anchor.proof"),
        block=number,
        leaf_count=None if count is None else _count(count, "anchor.leafCount", least=1),
        chain_id=anchor.get("chainId"),
        contract=anchor.get("contract"),
    )


def _parse_capture(capture: Any) -> _Capture | None:
    if capture is None:
        return None
    if not isinstance(capture, Mapping):
        raise TypeError("capture is not an object")
    signature = capture.get("signature")
    if signature is not None and (
        not isinstance(signature, str) or re.fullmatch(r"0x[0-9a-fA-F]{130}", signature) is None
    ):
        raise ValueError("capture.signature is not 0x and 65 bytes of hex")
    if capture.get("signedBy", "self") not in ("self", "service"):
        raise ValueError("capture.signedBy is neither 'self' nor 'service'")
    return _Capture(
        root=from_hex(_strict(capture.get("root"), 32, "capture.root")),
        count=_count(capture.get("count"), "capture.count", least=1),
        proof=_hashes(capture.get("proof"), "capture.proof"),
        signature=None if signature is None else from_hex(signature),
    )


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
            disclosures[str(path)] = FieldDisclosure(  # strict hex, as every other verifier reads it
                str(path),
                value,
                from_hex(_strict(entry.get("salt"), 16, f"the salt of {path!r}")),
                [from_hex(_strict(p, 32, f"a proof element of {path!r}")) for p in entry["proof"]],
            )
        withheld = block.get("withheld") or []
        if not isinstance(withheld, list) or not all(isinstance(w, str) for w in withheld):
            raise TypeError("withheld is not a list of field names")
        return _Parsed(
            ref=from_hex(_strict(block["ref"], 32, "ref")),
            root=from_hex(_strict(block["recordRoot"], 32, "recordRoot")),
            signer=_strict(block["owner"]["address"], 20, "owner.address"),
            constellation=_strict(block["constellation"]["id"], 32, "constellation.id"),
            withheld=list(withheld),
            disclosures=disclosures,
            anchor=_parse_anchor(block.get("anchor")),
            capture=_parse_capture(block.get("capture")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedView(f"the {RECORD_KEY!r} block is malformed: {exc}") from None


LABELS = (
    ("owner", "id"),
    ("owner", "name"),
    ("constellation", "slug"),
    ("anchor", "leafIndex"),
    ("anchor", "txHash"),
    ("anchor", "blockNumber"),
    ("capture", "index"),
    ("capture", "signedBy"),
)
"""Names in a view the service adds for its readers: what it proves is the signer's address,
the constellation id, the signed capture root and the anchoring on chain, not these (a leaf's
index is a label: a Merkle proof proves membership, not position)."""


def _labels(block: Mapping[str, Any]) -> list[str]:
    return [
        f"{outer}.{inner}" for outer, inner in LABELS if isinstance(block.get(outer), Mapping) and inner in block[outer]
    ]


def view_reads(view: Any) -> tuple[tuple[bytes, int | None], tuple[bytes, str, str]] | None:
    """What verifying `view` reads from the chain — its anchored root with the block it names,
    and its signer's role at the block anchoring that root — for `ProofReader.prefetch`; None
    for a view not anchored yet, or one that cannot be read (its verdict says why)."""
    try:
        parsed = _parse(view)
    except MalformedView:
        return None
    if parsed.anchor is None:
        return None
    root = parsed.anchor.root
    return (root, parsed.anchor.block), (root, parsed.constellation, parsed.signer)


def prefetch_views(reader: ProofReader, views: Iterable[Any], *, uids: Iterable[bytes] = ()) -> None:
    """Reads everything the record checks of `views` (and the attestations `uids`) need in one
    go: each root once, however many views it anchors."""
    reads = [r for r in (view_reads(v) for v in views) if r is not None]
    reader.prefetch(roots=[root for root, _ in reads], roles=[role for _, role in reads], uids=uids)


def _capture_domain(pins: TrustPins | None, reader: ProofReader | None) -> tuple[int, str] | str:
    """The EIP-712 domain's chain and contract for `Capture`, from the pins (the endpoint's chain
    if no chain id is pinned); a reason when it cannot be had (raises ChainUnavailable when the
    endpoint cannot say its chain id)."""
    if pins is None:
        return "no pinned ProvenanceAnchor and chain: the signature's EIP-712 domain is unknown"
    if pins.chain_id is not None:
        return pins.chain_id, pins.provenance_anchor
    if reader is None:
        return "no pinned chain id and no chain to ask it: the signature's EIP-712 domain is unknown"
    return reader.chain_id, pins.provenance_anchor


def _authorship(parsed: _Parsed, leaf: bytes, domain: tuple[int, str] | str) -> tuple[bool | None, str]:
    """The record leaf proves into the signed capture root, whose `Capture` signature recovers
    the record's signer (docs/proof-format.md §4)."""
    capture = parsed.capture
    if capture is None:
        return False, "the view has no capture block: nothing shows its signer signed this record"
    if not leaf or not verify_proof(capture.root, leaf, capture.proof):
        return False, f"the record's leaf does not prove into the signed capture root {to_hex(capture.root)}"
    if capture.signature is None:
        return False, f"nobody signed the capture root {to_hex(capture.root)}: the view carries no signature"
    if isinstance(domain, str):
        return None, domain
    chain_id, contract = domain
    message = {
        "constellation": from_hex(parsed.constellation),
        "captureRoot": capture.root,
        "recordCount": capture.count,
    }
    try:
        typed = typed_data.typed_message("Capture", message, chain_id=chain_id, contract=contract)
        recovered = typed_data.recover(typed, capture.signature)
    except ValueError as exc:
        return False, f"the capture signature is not valid: {exc}"
    if recovered.lower() != parsed.signer.lower():
        return False, (
            f"the Capture signature over root {to_hex(capture.root)} ({capture.count} records) recovers {recovered}, "
            f"not the record's signer {checksum_address(parsed.signer)}"
        )
    return True, (
        f"{recovered} signed Capture(constellation, root {to_hex(capture.root)}, {capture.count} records) under "
        f"ProvenanceAnchor {contract} on chain {chain_id}; the record's leaf proves into that root"
    )


@dataclass
class _ChainFindings:
    """What the chain says of the view's root and signer (None: not read, `why` says so)."""

    anchored: tuple[bool | None, str]
    signer_role: tuple[bool | None, str]
    unavailable: bool = False


def _read_chain(
    parsed: _Parsed, anchor: _Anchor, leaf: bytes, leaf_ok: bool, proof_ok: bool, reader: ProofReader
) -> _ChainFindings:
    pins = reader.pins
    root = anchor.root
    reader.prefetch(roots=[(root, anchor.block)], roles=[(root, parsed.constellation, parsed.signer)])
    chain_id = reader.chain_id
    not_read = "not read"
    if pins.chain_id is not None and chain_id != pins.chain_id:  # the endpoint, not the view, is wrong
        why = f"the endpoint is chain {chain_id}; you pin chain {pins.chain_id}: nothing could be read"
        return _ChainFindings((None, why), (None, f"{not_read}: {why}"), unavailable=True)
    if anchor.chain_id is not None and anchor.chain_id != chain_id:
        why = f"the view names chain {anchor.chain_id}; the endpoint is chain {chain_id}"
        return _ChainFindings((False, why), (None, f"{not_read}: {why}"))
    if isinstance(anchor.contract, str) and anchor.contract.lower() != pins.provenance_anchor.lower():
        why = f"the view names ProvenanceAnchor {anchor.contract}; you pin {pins.provenance_anchor}"
        return _ChainFindings((False, why), (None, f"{not_read}: {why}"))
    state = reader.anchor(root)
    if not state.on_chain:
        why = f"root {to_hex(root)} is not on ProvenanceAnchor {pins.provenance_anchor} on chain {chain_id} (yet)"
        return _ChainFindings((None, why), (None, "not anchored yet: the role is read at the anchoring block"))
    log = reader.anchoring(root, anchor.block)
    if log is None:
        why = f"root {to_hex(root)} is on chain but the endpoint returns no RootAnchored log of it"
        return _ChainFindings((None, why), (None, f"{not_read}: {why}"), unavailable=True)
    signer = checksum_address(parsed.signer)
    trusted = leaf_ok and state.by in (pins.anchorer, signer)
    same_constellation = log.constellation == parsed.constellation.lower()
    same_count = anchor.leaf_count == state.leaf_count
    moved = anchor.block is not None and anchor.block != log.block_number
    problems = []
    if not proof_ok:
        problems.append("the leaf's proof does not prove it into the root")
    if not trusted:
        problems.append(f"the anchoring account is neither the trusted anchorer {pins.anchorer} nor the signer")
    if not same_constellation:
        problems.append("anchored for another constellation than the record's")
    if not same_count:
        problems.append(f"the view says {anchor.leaf_count} leaves, the chain {state.leaf_count}")
    anchored = (
        not problems,
        f"ProvenanceAnchor {pins.provenance_anchor} on chain {chain_id}: root {to_hex(root)} of {state.leaf_count} "
        f"leaves anchored at {state.anchored_at} by {state.by} for constellation {log.constellation} in block "
        f"{log.block_number}"
        + (f" (the view names block {anchor.block})" if moved else "")
        + "".join(f"; {p}" for p in problems),
    )
    if pins.constellation_registry is None:
        return _ChainFindings(anchored, (None, "no ConstellationRegistry is pinned: the signer's role is not read"))
    held = reader.writer_at(parsed.constellation, signer, log.block_number)
    role = (
        held,
        f"{signer} {'held' if held else 'held no'} writing role (any of {WRITERS:#x}) in constellation "
        f"{parsed.constellation.lower()} at block {log.block_number}, which anchored the root "
        f"(ConstellationRegistry {pins.constellation_registry})",
    )
    return _ChainFindings(anchored, role)


def verify_event_view(view: Any, reader: ProofReader | None, *, pins: TrustPins | None = None) -> ViewVerdict:
    """Checks a (possibly redacted) event view with only the chain (docs/proof-format.md §3 to §6):
    `disclosed_fields`, `field_list`, `leaf`, `authorship` (the leaf in the capture root its
    signer signed), `signer_role` (a writing role when the root was anchored), `merkle_proof`
    and `anchored` (the root on the pinned ProvenanceAnchor, by the pinned anchorer or the
    signer, for the record's constellation). `pins` default to the reader's; `reader` None:
    everything but the chain. Raises MalformedView for a document that is not a record view."""
    parsed = _parse(view)
    pins = pins or (reader.pins if reader is not None else None)
    verdict = ViewVerdict(ref=to_hex(parsed.ref), withheld=parsed.withheld)
    verdict.unproven = sorted(n for n in NOT_DISCLOSED if n in view) + _labels(view[RECORD_KEY])
    disclosures = parsed.disclosures
    found: dict[str, tuple[bool | None, str]] = {}

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
    found["disclosed_fields"] = (
        not bad and not unproven,
        f"{len(disclosures)} disclosed fields prove into record root {to_hex(parsed.root)}"
        if not bad and not unproven
        else f"fields that do not prove into the record root: {sorted(bad + unproven)}",
    )
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        found["field_list"] = (False, f"the view does not disclose the committed field list {FIELDS_FIELD!r}")
    else:
        missing = sorted(set(names) - shown)
        complete = missing == sorted(parsed.withheld) and shown <= set(names)
        found["field_list"] = (
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
    found["leaf"] = (
        leaf_ok,
        "keccak256(abi.encode(recordRoot, signer, constellation)) equals the record's ref"
        if leaf_ok
        else "the record's ref is not the leaf of its record root, signer and constellation",
    )
    try:
        found["authorship"] = _authorship(parsed, leaf, _capture_domain(pins, reader))
    except ChainUnavailable as exc:
        verdict.chain_unavailable = True
        found["authorship"] = (None, f"the chain id for the signature's EIP-712 domain cannot be read: {exc}")
    anchor = parsed.anchor
    if anchor is None:
        found["signer_role"] = (None, "not anchored yet: the role is read at the anchoring block")
        found["merkle_proof"] = (None, "the record is not in a sealed batch yet")
        found["anchored"] = (None, "not anchored yet")
    else:
        proof_ok = bool(leaf) and verify_proof(anchor.root, leaf, anchor.proof)
        found["merkle_proof"] = (
            proof_ok,
            f"the leaf proves into batch root {to_hex(anchor.root)} (sorted-pair keccak256)"
            if proof_ok
            else f"the leaf does not prove into batch root {to_hex(anchor.root)}",
        )
        if reader is None:
            verdict.chain_unavailable = True
            found["signer_role"] = (None, "no chain to read the role from")
            found["anchored"] = (None, "no chain to read the root from")
        else:
            try:
                chain = _read_chain(parsed, anchor, leaf, leaf_ok, proof_ok, reader)
            except ChainUnavailable as exc:
                chain = _ChainFindings((None, str(exc)), (None, str(exc)), unavailable=True)
            verdict.chain_unavailable = verdict.chain_unavailable or chain.unavailable
            found["anchored"], found["signer_role"] = chain.anchored, chain.signer_role
    for name in CHECKS:
        verdict.add(name, *found[name])
    return verdict


__all__ = [
    "CHECKS",
    "LABELS",
    "MalformedView",
    "ProofReader",
    "ViewCheck",
    "ViewVerdict",
    "prefetch_views",
    "verify_event_view",
    "view_reads",
]
