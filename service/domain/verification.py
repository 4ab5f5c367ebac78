"""Verification of a stored event: a structured verdict with every check named — the hash
recomputed from the payload, the capture signature, the signer's role, the commitment and
leaf, the Merkle proof, and the root as the chain holds it. Nothing is taken on trust from the
database that the chain or the payload can confirm."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy.orm import Session

from service.chain import typed_data
from service.chain.deployment import Chain
from service.db.models import AnchorBatch, CaptureJob, EpcisEvent
from service.domain.commitments import RecordCommitment, event_leaf
from service.domain.constellations import roles_at
from service.domain.merkle import verify_proof
from service.domain.proofs import verdict_status
from service.epcis import policy
from service.epcis.analysis import committed_fields
from service.epcis.capture import capture_message
from service.epcis.event_hash import HashContext, event_digest, hash_id
from service.errors import ChainUnavailable
from service.roles import Role


@dataclass
class Check:
    name: str
    ok: bool | None
    """None: could not be checked yet (not anchored yet, or the chain is unreachable)."""
    detail: str


@dataclass
class Verdict:
    event_id: str
    hash_id: str
    checks: list[Check] = field(default_factory=list)
    anchor: dict[str, Any] | None = None
    chain_unavailable: bool = False

    @property
    def verified(self) -> bool:
        return all(check.ok is True for check in self.checks)

    @property
    def status(self) -> str:
        return verdict_status([check.ok for check in self.checks], self.chain_unavailable)

    def add(self, name: str, ok: bool | None, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))


def _hash_context(job: CaptureJob) -> HashContext:
    """The namespaces and ignored fields the capture's events were hashed in."""
    return HashContext(
        namespaces=dict(job.hash_context["namespaces"]),  # type: ignore[call-overload]
        ignored=frozenset(job.hash_context["ignored"]),  # type: ignore[arg-type]
    )


def verify_event(*, session: Session, chain: Chain | None, row: EpcisEvent) -> Verdict:
    verdict = Verdict(event_id=row.event_id, hash_id=hash_id(row.event_hash))

    job = session.get(CaptureJob, row.capture_id)
    assert job is not None
    context = _hash_context(job)
    recomputed = event_digest(row.payload, context)
    verdict.add(
        "event_hash",
        recomputed == row.event_hash,
        f"CBV 2.0 hash of the stored payload is {hash_id(recomputed)}",
    )
    signed_ok: bool | None = None
    signed_detail = "the chain is unreachable: the signed message (bound to its contract) cannot be rebuilt"
    verdict.chain_unavailable = chain is None
    if not job.signature or job.capture_root is None or job.record_count is None or row.capture_proof is None:
        signed_ok, signed_detail = False, "the capture root is not signed by its member (yet)"
    elif chain is not None:
        capture_root = bytes.fromhex(job.capture_root[2:])
        typed = capture_message(chain=chain, constellation=job.constellation, root=capture_root, count=job.record_count)
        try:
            signer = to_checksum_address(typed_data.recover(typed, bytes.fromhex(job.signature[2:])))
        except (ValueError, TypeError) as exc:
            signer, signed_detail = "", f"the capture signature does not recover: {exc}"
        in_capture = verify_proof(
            capture_root, bytes.fromhex(row.leaf[2:]), [bytes.fromhex(p[2:]) for p in row.capture_proof]
        )
        signed_ok = signer == row.signer and in_capture
        if signer:
            signed_detail = (
                f"EIP-712 Capture signature over the root of {job.record_count} record leaves recovers {signer}"
                + ("" if in_capture else "; this record's leaf does not prove into it")
            )
    verdict.add("signature", signed_ok, signed_detail)

    held = roles_at(session=session, cid=row.constellation, address=row.signer, at=row.record_time)
    reason = policy.denial(row.payload, held, context.expand_curie)
    verdict.add(
        "signer_role",
        reason is None,
        reason or f"at capture the signer held {Role.names(held)} in the constellation, which permits this event",
    )

    salts = {path: bytes.fromhex(salt) for path, salt in row.salts.items()}
    fields = committed_fields(row.payload, recomputed)
    try:
        root = RecordCommitment.commit(fields, salts).root
        committed = "0x" + root.hex() == row.record_root and set(salts) == set(fields)
    except ValueError:
        root, committed = b"", False
    leaf = event_leaf(root, row.signer, row.constellation) if root else b""
    verdict.add(
        "commitment",
        committed and "0x" + leaf.hex() == row.leaf,
        "the salted per-field commitment root (the event hash among its fields) and the leaf "
        "keccak256(recordRoot, signer, constellation) recompute",
    )

    batch = session.get(AnchorBatch, row.batch_id) if row.batch_id is not None else None
    if batch is None or row.proof is None or row.leaf_index is None:
        verdict.add("merkle_proof", None, "the event is not in a sealed batch yet")
        verdict.add("anchored", None, "not anchored yet")
        return verdict
    proof = [bytes.fromhex(p[2:]) for p in row.proof]
    root_bytes = bytes.fromhex(batch.root[2:])
    verdict.add(
        "merkle_proof",
        verify_proof(root_bytes, leaf, proof),
        f"leaf {row.leaf_index} of {batch.leaf_count} proves into root {batch.root} (sorted-pair keccak256)",
    )
    if chain is None:
        verdict.add("anchored", None, "the chain is unreachable: the root cannot be read")
        return verdict
    try:
        record = chain.anchor.get_anchor(root_bytes)
        on_chain_proof = chain.anchor.verify(root_bytes, leaf, proof) if record.anchored_at else False
    except ChainUnavailable as exc:
        verdict.chain_unavailable = True
        verdict.add("anchored", None, f"the chain is unreachable: {exc}")
        return verdict
    if not record.anchored_at:
        verdict.add("anchored", None, f"root {batch.root} is not on chain yet")
        return verdict
    verdict.anchor = {
        "root": batch.root,
        "leaf_count": record.leaf_count,
        "anchored_by": record.by,
        "anchored_at": datetime.fromtimestamp(record.anchored_at, UTC).isoformat(),
        "tx_hash": batch.tx_hash,
        "block_number": batch.block_number,
        "contract": chain.address_of("ProvenanceAnchor"),
        "chain_id": chain.chain_id,
    }
    trusted = to_checksum_address(record.by) in (
        to_checksum_address(chain.sender.address),
        to_checksum_address(row.signer),
    )
    verdict.add(
        "anchored",
        on_chain_proof and record.leaf_count == batch.leaf_count and trusted,
        f"ProvenanceAnchor.verify(root, leaf, proof) is {on_chain_proof} for a root of {record.leaf_count} leaves "
        f"anchored at {verdict.anchor['anchored_at']} by {record.by}"
        + ("" if trusted else ", neither this service's anchorer nor the signer"),
    )
    return verdict
