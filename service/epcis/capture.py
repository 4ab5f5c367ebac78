"""EPCIS capture: a document is validated, hashed (CBV 2.0 event hash IDs), authorised (the
signer's roles permit every event), signed (EIP-712 over the event hashes: the member's own
signature, or its managed key's) and stored whole — or rejected whole, storing nothing.

Each stored event carries its salted per-field commitment root and its leaf, ready for the
anchorer; re-capturing an event (same hash) is idempotent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from service.chain import typed_data
from service.chain.deployment import Chain
from service.db.models import CaptureJob, Constellation, EpcisEvent, EventIdentifier, Member
from service.domain.commitments import RecordCommitment, event_leaf
from service.domain.constellations import current_roles, get_constellation
from service.domain.keys import KeyVault
from service.domain.signing import authorise
from service.epcis import policy
from service.epcis.event_hash import hash_ids, iter_events
from service.epcis.identifiers import canonical_id
from service.epcis.validation import validate_document
from service.errors import MalformedInput, PayloadTooLarge, PolicyDenied, ValidationFailed

HASH_PREFIX = "ni:///sha-256;"
HASH_SUFFIX = "?ver=CBV2.0"
STANDARD_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
STANDARD_CONTEXTS = frozenset({STANDARD_CONTEXT, "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"})
DISPOSITION_PREFIXES = ("https://ref.gs1.org/cbv/Disp-", "https://gs1.org/voc/Disp-", "cbv:Disp-")

# Where each kind of event names its identifiers, by role (see EventIdentifier).
_ID_FIELDS = (("epcList", "epc"), ("childEPCs", "child"), ("inputEPCList", "input"), ("outputEPCList", "output"))
_QUANTITY_FIELDS = (
    ("quantityList", "quantity"),
    ("childQuantityList", "child_quantity"),
    ("inputQuantityList", "input_quantity"),
    ("outputQuantityList", "output_quantity"),
)


def hash_hex(hash_id: str) -> str:
    """The SHA-256 hex of an event hash ID (ni:///sha-256;<hex>?ver=CBV2.0)."""
    return hash_id.removeprefix(HASH_PREFIX).split("?", 1)[0]


def hash_id(hex_digest: str) -> str:
    return f"{HASH_PREFIX}{hex_digest}{HASH_SUFFIX}"


def disposition_term(value: str | None) -> str | None:
    if value is None:
        return None
    for prefix in DISPOSITION_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def _context_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@dataclass
class PreparedCapture:
    constellation: Constellation
    events: list[dict[str, Any]]
    hashes: list[str]
    """SHA-256 hex of each event's CBV 2.0 pre-hash string, in document order."""
    context: list[Any]
    typed: dict[str, Any]


def prepare(
    *, session: Session, chain: Chain, signer: Member, slug: str, document: Any, max_events: int
) -> PreparedCapture:
    """Everything about a capture that can be checked before signing: schema and vocabularies,
    hashes, the constellation and the signer's roles for every event."""
    validate_document(document)
    events = iter_events(document)
    if not events:
        raise MalformedInput("the document holds no events")
    if len(events) > max_events:
        raise PayloadTooLarge(f"a capture holds at most {max_events} events, this one {len(events)}")
    try:
        hashes = [hash_hex(h) for h in hash_ids(document)]
    except ValueError as exc:
        raise MalformedInput(f"cannot compute the event hash: {exc}") from exc
    try:
        constellation = get_constellation(session=session, slug=slug)
    except LookupError as exc:
        raise ValidationFailed(str(exc)) from exc
    held = current_roles(session=session, cid=constellation.id, address=signer.address)
    if not held:
        raise PolicyDenied(f"{signer.name} is not a member of constellation {slug!r}")
    for index, event in enumerate(events):
        reason = policy.denial(event, held)
        if reason is not None:
            raise PolicyDenied(f"event #{index}: {reason}")
    typed = capture_message(chain=chain, constellation=constellation.id, hashes=hashes)
    return PreparedCapture(constellation, events, hashes, _context_list(document.get("@context")), typed)


def capture_message(*, chain: Chain, constellation: str, hashes: list[str]) -> dict[str, Any]:
    """The EIP-712 `Capture` message a member signs: the constellation and its events' hashes."""
    return typed_data.typed_message(
        "Capture",
        {"constellation": bytes.fromhex(constellation[2:]), "eventHashes": [bytes.fromhex(h) for h in hashes]},
        chain_id=chain.chain_id,
        contract=chain.address_of("ProvenanceAnchor"),
    )


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _identifiers(event: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if event.get("parentID"):
        found.append(("parent", canonical_id(event["parentID"])))
    for field, role in _ID_FIELDS:
        found.extend((role, canonical_id(epc)) for epc in event.get(field) or ())
    for field, role in _QUANTITY_FIELDS:
        found.extend((role, canonical_id(q["epcClass"])) for q in event.get(field) or () if "epcClass" in q)
    for field, key, role in (("sourceList", "source", "source"), ("destinationList", "destination", "destination")):
        found.extend((role, canonical_id(entry[key])) for entry in event.get(field) or () if key in entry)
    return list(dict.fromkeys(found))


def _id_of(place: Any) -> str | None:
    return canonical_id(place["id"]) if isinstance(place, dict) and "id" in place else None


def _payload(event: dict[str, Any], context: list[Any]) -> dict[str, Any]:
    """The event as captured, carrying every namespace of its document so its hash can be
    recomputed from the stored row alone."""
    own = _context_list(event.get("@context"))
    merged = [c for c in context if not (isinstance(c, str) and c in STANDARD_CONTEXTS)] + own
    body = {k: v for k, v in event.items() if k != "@context"}
    return {"@context": merged, **body} if merged else body


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
) -> CaptureJob:
    """Stores a whole document's new events, signed by `member`; returns the finished job."""
    prepared = prepare(session=session, chain=chain, signer=member, slug=slug, document=document, max_events=max_events)
    signed = authorise(session=session, vault=vault, member=member, typed=prepared.typed, signature=signature)
    now = datetime.now(UTC)
    job = CaptureJob(
        id=str(uuid.uuid4()),
        member_id=member.id,
        constellation=prepared.constellation.id,
        signer=member.address,
        signature="0x" + signed.hex(),
        event_count=len(prepared.events),
        event_hashes=prepared.hashes,
        created_at=now,
    )
    session.add(job)
    session.flush()
    known: set[str] = set()
    for start in range(0, len(prepared.hashes), 500):
        chunk = prepared.hashes[start : start + 500]
        known.update(session.scalars(select(EpcisEvent.event_hash).where(EpcisEvent.event_hash.in_(chunk))))
    rows: list[dict[str, Any]] = []
    id_rows: list[dict[str, Any]] = []
    for position, (event, digest) in enumerate(zip(prepared.events, prepared.hashes, strict=True)):
        if digest in known:
            continue
        known.add(digest)
        payload = _payload(event, prepared.context)
        commitment = RecordCommitment.commit({k: v for k, v in payload.items() if k != "@context"})
        root = commitment.root
        rows.append(
            {
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
                "biz_step": policy.biz_step_term(event.get("bizStep")),
                "disposition": disposition_term(event.get("disposition")),
                "read_point": _id_of(event.get("readPoint")),
                "biz_location": _id_of(event.get("bizLocation")),
                "transformation_id": event.get("transformationID"),
                "payload": payload,
                "record_root": "0x" + root.hex(),
                "salts": {path: salt.hex() for path, salt in commitment.salts.items()},
                "leaf": "0x" + event_leaf(bytes.fromhex(digest), member.address, root).hex(),
            }
        )
        id_rows.extend({"event_hash": digest, "role": role, "identifier": value} for role, value in _identifiers(event))
    if rows:
        session.execute(insert(EpcisEvent), rows)
    if id_rows:
        session.execute(insert(EventIdentifier), id_rows)
    job.duplicates = len(prepared.events) - len(rows)
    job.finished_at = datetime.now(UTC)
    session.flush()
    return job
