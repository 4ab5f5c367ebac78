"""EPCIS capture: a document is validated, hashed (CBV 2.0 event hash IDs), committed (salted
per-field record roots, salts derived from the capture's seed), authorised (the signer's roles
permit every event), signed (EIP-712 over the capture root — the Merkle root of the record
leaves, docs/proof-format.md §4: the member's own signature, or its managed key's) and stored
whole — or rejected whole, storing nothing.

Each stored event carries its record root, its leaf and its proof into the signed capture root,
ready for the anchorer; re-capturing an event (same hash) is idempotent."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from service.chain import typed_data
from service.chain.deployment import Chain
from service.db.models import CaptureJob, Constellation, EpcisEvent, EventIdentifier, Member
from service.domain.commitments import HASH_FIELD, SEED_BYTES, capture_tree, event_leaf
from service.domain.constellations import current_roles, get_constellation
from service.domain.keys import KeyVault
from service.domain.members import managed_signer
from service.domain.merkle import MerkleTree
from service.domain.signing import authorise
from service.epcis import policy
from service.epcis.analysis import AnalysedEvent, analyse_all, context_list, stored_payload
from service.epcis.event_hash import HashContext, hash_id, iter_events
from service.epcis.identifiers import canonical_id
from service.epcis.validation import CONTEXT as VALIDATION_CONTEXT
from service.epcis.validation import validate_document
from service.errors import Conflict, InvalidField, MalformedInput, PayloadTooLarge, PolicyDenied, ValidationFailed


def record_id(constellation: str, owner_id: str, hex_digest: str) -> str:
    """The stored record of an owner's event in a constellation. Internal: never shown (it is
    an unsalted digest of the event hash)."""
    return hashlib.sha256(f"{constellation}:{owner_id}:{hex_digest}".encode()).hexdigest()


@dataclass
class PreparedCapture:
    constellation: Constellation
    events: list[dict[str, Any]]
    analysed: list[AnalysedEvent]
    hash_context: HashContext
    document_context: list[Any]
    seed: bytes
    leaves: list[bytes]
    """Each event's record leaf, in document order."""
    tree: MerkleTree
    """The capture tree over `leaves`: its root is what the member signs."""
    typed: dict[str, Any]

    @property
    def hashes(self) -> list[str]:
        """SHA-256 hex of each event's CBV 2.0 pre-hash string, in document order."""
        return [a.hash_hex for a in self.analysed]


def parse_seed(value: str) -> bytes:
    """A capture seed as a request carries it: 0x and 32 bytes of hex."""
    raw = value.removeprefix("0x")
    if len(raw) != SEED_BYTES * 2 or any(c not in "0123456789abcdefABCDEF" for c in raw):
        raise MalformedInput(f"the capture seed is 0x and {SEED_BYTES} bytes of hex (what /epcis/capture/prepare gave)")
    return bytes.fromhex(raw)


def prepare(
    *,
    session: Session,
    chain: Chain,
    signer: Member,
    slug: str,
    document: Any,
    max_events: int,
    seed: bytes | None = None,
) -> PreparedCapture:
    """Everything about a capture that can be checked before signing: schema and vocabularies,
    hashes, the constellation and the signer's roles for every event; and what is signed — the
    record roots (salts from `seed`, a fresh one if none) and their capture root."""
    if not isinstance(document, dict):
        raise MalformedInput("an EPCIS payload is a JSON object (an EPCISDocument, an EPCISQueryDocument or an event)")
    try:
        events = iter_events(document)
    except InvalidField as exc:
        raise InvalidField(exc.problem, path=exc.path, context=VALIDATION_CONTEXT) from None
    if len(events) > max_events:
        raise PayloadTooLarge(f"a capture holds at most {max_events} events, this one {len(events)}")
    validate_document(document)
    if not events:
        raise MalformedInput("the document holds no events")
    document_context = context_list(document.get("@context")) if "epcisBody" in document else []
    try:
        context = HashContext.from_document(document)
        seed = seed if seed is not None else secrets.token_bytes(SEED_BYTES)
        analysed = analyse_all(events, context, document_context, seed)
    except ValueError as exc:
        raise MalformedInput(f"cannot compute the event hash: {exc}") from exc
    try:
        constellation = get_constellation(session=session, slug=slug)
    except LookupError as exc:
        raise ValidationFailed(str(exc)) from exc
    held = current_roles(session=session, cid=constellation.id, address=signer.address)
    if not held:
        raise PolicyDenied(f"{signer.name} is not a member of constellation {slug!r}")
    for index, (event, item) in enumerate(zip(events, analysed, strict=True)):
        _check_storable(index, event, item)
        reason = policy.denial(event, held, context.expand_curie)
        if reason is not None:
            raise PolicyDenied(f"event #{index}: {reason}")
    leaves = record_leaves(analysed, signer.address, constellation.id)
    tree = capture_tree(leaves)
    typed = capture_message(chain=chain, constellation=constellation.id, root=tree.root, count=len(leaves))
    return PreparedCapture(constellation, events, analysed, context, document_context, seed, leaves, tree, typed)


def record_leaves(analysed: list[AnalysedEvent], signer: str, constellation: str) -> list[bytes]:
    return [event_leaf(a.record_root, signer, constellation) for a in analysed]


def signing_tree(document: dict[str, Any], *, seed: bytes, signer: str, constellation: str) -> MerkleTree:
    """The capture tree of `document` as a self-custody member computes it before it signs — no
    service, no chain: the events' hashes, their record roots salted from `seed`, their leaves.
    Its root and leaf count are what the `Capture` message holds (what prepare answers too)."""
    events = iter_events(document)
    context = HashContext.from_document(document)
    document_context = context_list(document.get("@context")) if "epcisBody" in document else []
    analysed = analyse_all(events, context, document_context, seed)
    return capture_tree(record_leaves(analysed, signer, constellation))


def capture_message(*, chain: Chain, constellation: str, root: bytes, count: int) -> dict[str, Any]:
    """The EIP-712 `Capture` message a member signs: the constellation, the capture root (the
    Merkle root of the capture's record leaves in document order) and how many records it holds."""
    return typed_data.typed_message(
        "Capture",
        {"constellation": bytes.fromhex(constellation[2:]), "captureRoot": root, "recordCount": count},
        chain_id=chain.chain_id,
        contract=chain.address_of("ProvenanceAnchor"),
    )


def _time(value: str) -> datetime:
    """An RFC 3339 date-time (the schema's format: 'T' and 'Z' in either case) in UTC."""
    return datetime.fromisoformat(value.upper().replace("Z", "+00:00")).astimezone(UTC)


MAX_EVENT_ID = 500
MAX_KEY = 300


def _check_storable(index: int, event: dict[str, Any], item: AnalysedEvent) -> None:
    """What the schema allows but a record cannot hold: times outside the calendar's range,
    identifiers longer than the indexed columns, a field named like the record's own hash field."""
    if HASH_FIELD in event:
        raise MalformedInput(
            f"event #{index}: {HASH_FIELD!r} is not an EPCIS field (this service commits the hash under it)"
        )
    try:
        _time(event["eventTime"])
    except (ValueError, OverflowError):
        raise MalformedInput(f"event #{index}: eventTime {event['eventTime']!r} is not a usable date-time") from None
    too_long = [
        name
        for name, value, limit in (
            ("eventID", event.get("eventID"), MAX_EVENT_ID),
            ("bizStep", event.get("bizStep"), MAX_KEY),
            ("disposition", event.get("disposition"), MAX_KEY),
            ("readPoint", _id_of(event.get("readPoint")), MAX_KEY),
            ("bizLocation", _id_of(event.get("bizLocation")), MAX_KEY),
            ("transformationID", event.get("transformationID"), MAX_KEY),
            *((role, identifier, MAX_KEY) for role, identifier in item.identifiers),
        )
        if isinstance(value, str) and len(value) > limit
    ]
    if too_long:
        raise MalformedInput(
            f"event #{index}: {', '.join(too_long)} longer than this service stores ({MAX_KEY} characters, eventID {MAX_EVENT_ID})"
        )


def _id_of(place: Any) -> str | None:
    return canonical_id(place["id"]) if isinstance(place, dict) and "id" in place else None


def capture(
    *,
    session: Session,
    chain: Chain,
    vault: KeyVault | None,
    member: Member,
    slug: str,
    document: Any,
    signature: str | None,
    max_events: int,
    seed: bytes | None = None,
) -> CaptureJob:
    """Stores a whole document's new events, signed by `member`; returns the finished job. A
    self-custody member's `signature` is over the capture root its `seed` gives."""
    if signature is not None and seed is None:
        raise MalformedInput(
            "a signed capture names its seed (Constellate-Capture-Seed): the record roots you signed are salted from it"
        )
    prepared = prepare(
        session=session, chain=chain, signer=member, slug=slug, document=document, max_events=max_events, seed=seed
    )
    signed = authorise(session=session, vault=vault, member=member, typed=prepared.typed, signature=signature)
    now = datetime.now(UTC)
    job = CaptureJob(
        id=str(uuid.uuid4()),
        member_id=member.id,
        constellation=prepared.constellation.id,
        signer=member.address,
        signature="0x" + signed.hex(),
        signed_by="self" if signature is not None else "service",
        capture_root="0x" + prepared.tree.root.hex(),
        record_count=len(prepared.leaves),
        event_count=len(prepared.events),
        event_hashes=prepared.hashes,
        hash_context={
            "namespaces": dict(prepared.hash_context.namespaces),
            "ignored": sorted(prepared.hash_context.ignored),
        },
        created_at=now,
    )
    session.add(job)
    session.flush()
    known: set[str] = set()
    for start in range(0, len(prepared.hashes), 500):
        chunk = prepared.hashes[start : start + 500]
        known.update(
            session.scalars(
                select(EpcisEvent.event_hash).where(  # the caller's own: others' say nothing (no oracle)
                    EpcisEvent.constellation == prepared.constellation.id,
                    EpcisEvent.owner_id == member.id,
                    EpcisEvent.event_hash.in_(chunk),
                )
            )
        )
    rows: list[dict[str, Any]] = []
    id_rows: list[dict[str, Any]] = []
    for position, (event, item) in enumerate(zip(prepared.events, prepared.analysed, strict=True)):
        digest = item.hash_hex
        if digest in known:
            continue
        known.add(digest)
        record = record_id(prepared.constellation.id, member.id, digest)
        rows.append(
            {
                "id": record,
                "event_hash": digest,
                "event_id": event.get("eventID") or hash_id(digest),
                "capture_id": job.id,
                "position": position,
                "constellation": prepared.constellation.id,
                "owner_id": member.id,
                "signer": member.address,
                "event_type": event["type"],
                "event_time": _time(event["eventTime"]),
                "event_time_zone_offset": event["eventTimeZoneOffset"],
                "record_time": now,
                "action": event.get("action"),
                "biz_step": policy.biz_step_term(event.get("bizStep"), prepared.hash_context.expand_curie),
                "disposition": policy.disposition_term(event.get("disposition"), prepared.hash_context.expand_curie),
                "read_point": _id_of(event.get("readPoint")),
                "biz_location": _id_of(event.get("bizLocation")),
                "transformation_id": event.get("transformationID"),
                "payload": stored_payload(event, prepared.document_context, prepared.hash_context),
                "record_root": "0x" + item.record_root.hex(),
                "salts": item.salts,
                "leaf": "0x" + prepared.leaves[position].hex(),
                "capture_proof": ["0x" + p.hex() for p in prepared.tree.proof(position)],
            }
        )
        id_rows.extend({"record_id": record, "role": role, "identifier": value} for role, value in item.identifiers)
    if rows:
        session.execute(insert(EpcisEvent), rows)
    if id_rows:
        session.execute(insert(EventIdentifier), id_rows)
    job.duplicates = len(prepared.events) - len(rows)
    job.finished_at = datetime.now(UTC)
    session.flush()
    return job


def sign_migrated_captures(*, session: Session, chain: Chain, vault: KeyVault | None) -> int:
    """Signs, with each managed member's own key, the capture roots migration 0012 computed
    anew (their signature is ""): the service signs for managed members as it did at capture.
    A self-custody member's capture waits for its own signature; one whose managed key has
    changed address since (a rotation) cannot be signed by it and stays unsigned. Returns how
    many captures it signed."""
    if vault is None:
        return 0
    signed = 0
    pending = session.execute(
        select(CaptureJob, Member)
        .join(Member, Member.id == CaptureJob.member_id)
        .where(CaptureJob.signature == "", CaptureJob.capture_root.is_not(None), Member.custody == "managed")
    ).all()
    for job, member in pending:
        account = managed_signer(session=session, vault=vault, member=member)
        if to_checksum_address(account.address) != to_checksum_address(job.signer):
            continue
        assert job.capture_root is not None and job.record_count is not None
        typed = capture_message(
            chain=chain,
            constellation=job.constellation,
            root=bytes.fromhex(job.capture_root[2:]),
            count=job.record_count,
        )
        job.signature = "0x" + typed_data.sign(bytes(account.key), typed).hex()
        job.signed_by = "service"
        signed += 1
    return signed


def unsigned_capture_message(*, chain: Chain, job: CaptureJob) -> dict[str, Any]:
    """The `Capture` message of a capture migration 0012 committed anew and nobody signed yet."""
    if job.signature:
        raise Conflict(f"capture {job.id} is signed already")
    if job.capture_root is None or job.record_count is None:
        raise Conflict(f"capture {job.id} stored no record: there is nothing to sign")
    return capture_message(
        chain=chain, constellation=job.constellation, root=bytes.fromhex(job.capture_root[2:]), count=job.record_count
    )


def sign_again(*, session: Session, chain: Chain, job: CaptureJob, member: Member, signature: str) -> CaptureJob:
    """Stores a self-custody member's signature over its migrated capture's new root, checked
    to recover the address its records name."""
    typed = unsigned_capture_message(chain=chain, job=job)
    if to_checksum_address(member.address) != to_checksum_address(job.signer):
        raise Conflict(
            f"capture {job.id} was signed by {job.signer}, which is no longer {member.name}'s address: "
            "only that key can sign its records"
        )
    signed = authorise(session=session, vault=None, member=member, typed=typed, signature=signature)
    job.signature = "0x" + signed.hex()
    job.signed_by = "self"
    session.flush()
    return job
