"""Redacted views of records and their verification with only the chain.

A view keeps the record's shape, leaves out what the reader may not see, names it, and
carries each shown field's salt and Merkle proof under the record's commitment root, with
the proof of the record's leaf into the anchored batch root. Anyone holding a view checks it
against the chain (`verify_event_view`) — the service's verify endpoint and the CLI run the
same code — without learning a withheld field: nothing in a view digests a withheld field
without a secret salt (the CBV event hash, which digests every field, is disclosed only to
readers who see them all, and so is an eventID that is that hash)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import AnchorBatch, CaptureJob, Constellation, EpcisEvent, Member
from service.domain.commitments import (
    FIELDS_FIELD,
    HASH_FIELD,
    RecordCommitment,
)
from service.domain.policy import Access, Decision
from service.domain.view_format import NOT_DISCLOSED, RECORD_KEY, is_hash_id, to_hex
from service.epcis.analysis import committed_fields
from service.epcis.categories import category_of
from service.epcis.event_hash import hash_id


def event_categories(payload: Mapping[str, Any]) -> set[str]:
    """The categories an event has data in (`type` always shows: it is the record's shape)."""
    return {category_of(name) for name in payload if name not in ("@context", "type")}


def is_namespaced(name: str) -> bool:
    return ":" in name


def shows_anything(access: Access, row: EpcisEvent) -> bool:
    """Whether the reader sees any field of the event: else it does not learn the event exists."""
    visible = access.visible(row.owner_id, row.constellation, event_categories(row.payload))
    return visible is None or bool(visible)


@dataclass(frozen=True)
class AnchorRef:
    """Where the anchors live: what a view names so its reader can check it on chain."""

    chain_id: int
    contract: str


def anchor_block(row: EpcisEvent, batch: AnchorBatch | None, where: AnchorRef | None) -> dict[str, Any] | None:
    if batch is None or row.proof is None or row.leaf_index is None:
        return None
    return {
        "root": batch.root,
        "leafIndex": row.leaf_index,
        "leafCount": batch.leaf_count,
        "proof": list(row.proof),
        "txHash": batch.tx_hash,
        "blockNumber": batch.block_number,
        "chainId": where.chain_id if where else None,
        "contract": where.contract if where else None,
    }


def capture_block(row: EpcisEvent, job: CaptureJob | None) -> dict[str, Any] | None:
    """Where the record's authorship is proven (docs/proof-format.md §4): the capture root its
    member signed, the record leaf's proof into it, and the signature — all a redacted reader
    can check, since the leaf is recomputed from the view."""
    if job is None or job.capture_root is None or row.capture_proof is None:
        return None
    return {
        "root": job.capture_root,
        "count": job.record_count,
        "index": row.position,
        "proof": list(row.capture_proof),
        "signature": job.signature or None,
        "signedBy": job.signed_by,
    }


@dataclass
class EventView:
    document: dict[str, Any]
    decision: Decision
    full: bool
    row: EpcisEvent


def event_view(
    row: EpcisEvent,
    access: Access,
    *,
    slug: str,
    owner_name: str,
    batch: AnchorBatch | None,
    where: AnchorRef | None,
    capture: CaptureJob | None = None,
) -> EventView | None:
    """The event as `access`'s reader may see it, or None if it may see none of it."""
    payload = row.payload
    present = event_categories(payload)
    visible = access.visible(row.owner_id, row.constellation, present)
    if visible is not None and not visible:  # as shows_anything, without deciding twice
        return None  # nothing of this record reaches the reader: not even that it exists
    full = visible is None or present <= visible
    event: dict[str, Any] = {}
    withheld: list[str] = []
    for name, value in payload.items():
        if name == "@context":
            continue
        shown = full or name == "type" or category_of(name) in (visible or ())
        if shown and name == "eventID" and is_hash_id(value) and not full:
            shown = False  # the hash digests every field, the withheld ones too
        if shown:
            event[name] = value
        else:
            withheld.append(name)
    if full:
        event.setdefault("eventID", hash_id(row.event_hash))
    if full or "when" in (visible or ()):
        event["recordTime"] = row.record_time.isoformat().replace("+00:00", "Z")
    if "@context" in payload:  # the namespaces: shown with a namespaced field they give meaning to
        if full or "ilmd" in event or any(is_namespaced(name) for name in event):
            event = {"@context": payload["@context"], **event}
        else:
            withheld.append("@context")
    commitment = RecordCommitment.commit(
        committed_fields(payload, row.event_hash), {path: bytes.fromhex(salt) for path, salt in row.salts.items()}
    )
    paths = [p for p in event if p in commitment.fields and p not in NOT_DISCLOSED]
    paths.append(FIELDS_FIELD)
    if full:
        paths.append(HASH_FIELD)
    disclosures: dict[str, Any] = {}
    for item in commitment.disclose(paths):
        entry: dict[str, Any] = {"salt": to_hex(item.salt), "proof": [to_hex(p) for p in item.proof]}
        if item.path in (HASH_FIELD, FIELDS_FIELD):
            entry = {"value": item.value, **entry}
        disclosures[item.path] = entry
    event[RECORD_KEY] = {
        "ref": row.leaf,
        "constellation": {"id": row.constellation, "slug": slug},
        "owner": {"id": row.owner_id, "name": owner_name, "address": row.signer},
        "withheld": sorted(withheld),
        "recordRoot": row.record_root,
        "disclosures": disclosures,
        "capture": capture_block(row, capture),
        "anchor": anchor_block(row, batch, where),
    }
    shown_fields = [n for n in event if n not in ("@context", RECORD_KEY)]
    decision = Decision(
        owner_id=row.owner_id,
        constellation=row.constellation,
        record_kind="event",
        record_ref=row.leaf,
        shown=shown_fields,
        withheld=withheld,
        shown_categories=sorted(present if visible is None else visible & present) or ["type"],
    )
    return EventView(event, decision, full, row)


def field_disclosures(commitment: RecordCommitment, paths: Collection[str]) -> dict[str, Any]:
    """Salt and proof of each path (for attestation views)."""
    return {
        item.path: {"salt": to_hex(item.salt), "proof": [to_hex(p) for p in item.proof]}
        for item in commitment.disclose(list(paths))
    }


def render_events(
    session: Session,
    access: Access,
    rows: list[EpcisEvent],
    *,
    where: AnchorRef | None,
    endpoint: str,
    log: bool = True,
) -> list[EventView]:
    """The views of `rows` the reader may see (in order), each read decision logged (unless
    the caller logs only those it returns)."""
    slugs = dict(
        session.execute(
            select(Constellation.id, Constellation.slug).where(Constellation.id.in_({r.constellation for r in rows}))
        ).all()
    )
    names = dict(session.execute(select(Member.id, Member.name).where(Member.id.in_({r.owner_id for r in rows}))).all())
    batch_ids = {r.batch_id for r in rows if r.batch_id is not None}
    batches = {b.id: b for b in session.scalars(select(AnchorBatch).where(AnchorBatch.id.in_(batch_ids)))}
    captures = {
        j.id: j for j in session.scalars(select(CaptureJob).where(CaptureJob.id.in_({r.capture_id for r in rows})))
    }
    views = []
    for row in rows:
        view = event_view(
            row,
            access,
            slug=slugs.get(row.constellation, row.constellation),
            owner_name=names.get(row.owner_id, ""),
            batch=batches.get(row.batch_id) if row.batch_id is not None else None,
            where=where,
            capture=captures.get(row.capture_id),
        )
        if view is not None:
            views.append(view)
    if log:
        access.log(session, endpoint=endpoint, decisions=[v.decision for v in views])
    return views
