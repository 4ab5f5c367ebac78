"""The per-event work of a capture — the CBV 2.0 hash, the salted commitment of each field,
the normalised identifiers — as one pure function over a slice of events, so
large documents are spread over every core (a process pool) instead of one."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.domain.commitments import FIELDS_FIELD, HASH_FIELD, RecordCommitment, derived_salts, utf16_order
from service.epcis.event_hash import DEFAULT_CONTEXT, HashContext, event_digest
from service.epcis.identifiers import canonical_id

STANDARD_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def epcis_document(events: Sequence[dict[str, Any]], *, creation_date: str | None = None) -> dict[str, Any]:
    """An EPCISDocument holding `events`, under the standard EPCIS 2.0 context."""
    created = creation_date or datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "@context": [STANDARD_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created,
        "epcisBody": {"eventList": list(events)},
    }


STANDARD_CONTEXTS = frozenset({STANDARD_CONTEXT, "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"})
PARALLEL_FROM = 256
"""Documents with fewer events are analysed in the calling process (a pool round trip costs more)."""

# Where each kind of event names its identifiers, by role (see EventIdentifier).
_ID_FIELDS = (("epcList", "epc"), ("childEPCs", "child"), ("inputEPCList", "input"), ("outputEPCList", "output"))
_QUANTITY_FIELDS = (
    ("quantityList", "quantity"),
    ("childQuantityList", "child_quantity"),
    ("inputQuantityList", "input_quantity"),
    ("outputQuantityList", "output_quantity"),
)
_PARTY_FIELDS = (("sourceList", "source", "source"), ("destinationList", "destination", "destination"))
ITEM_ROLES = frozenset({"parent", *(role for _, role in _ID_FIELDS + _QUANTITY_FIELDS)})
"""The roles in which an event names an item (not a party): what an item's record chain follows."""
ROLE_FIELDS: dict[str, str] = {
    "parent": "parentID",
    **{role: name for name, role in _ID_FIELDS + _QUANTITY_FIELDS},
    **{role: name for name, _, role in _PARTY_FIELDS},
}
"""The event field each identifier role comes from: what a reader must see to match on it."""


@dataclass(frozen=True, slots=True)
class AnalysedEvent:
    hash_hex: str
    record_root: bytes
    salts: dict[str, str]
    identifiers: list[tuple[str, str]]


def identifiers_of(event: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if event.get("parentID"):
        found.append(("parent", canonical_id(event["parentID"])))
    for name, role in _ID_FIELDS:
        found.extend((role, canonical_id(epc)) for epc in event.get(name) or ())
    for name, role in _QUANTITY_FIELDS:
        found.extend((role, canonical_id(q["epcClass"])) for q in event.get(name) or () if "epcClass" in q)
    for name, key, role in _PARTY_FIELDS:
        found.extend((role, canonical_id(entry[key])) for entry in event.get(name) or () if key in entry)
    return list(dict.fromkeys(found))


def context_list(value: Any) -> list[Any]:
    """A JSON-LD @context as a list of its entries (it may be one entry, or absent)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def stored_payload(
    event: dict[str, Any], document_context: Sequence[Any], context: HashContext = DEFAULT_CONTEXT
) -> dict[str, Any]:
    """The event as captured, carrying the namespaces of its document beside its own, so the row
    alone is enough to recompute its hash and read its extensions. A recordTime the capturer
    sent is dropped: the repository sets it (EPCIS), and the CBV hash leaves it out. So are the
    fields its document (`context`) declares outside the hash with `<prefix>:ignoreFields` —
    another repository's capture ID or stored hash: re-emitted without that declaration, they
    would change the event's hash."""
    own = context_list(event.get("@context"))
    merged = [c for c in document_context if not (isinstance(c, str) and c in STANDARD_CONTEXTS)] + own
    body = {k: v for k, v in event.items() if k not in ("@context", "recordTime")}  # recordTime is ours to set
    declared = context.ignored - DEFAULT_CONTEXT.ignored
    if declared:
        body = _without(body, declared, context.with_context(event.get("@context")))
    return {"@context": merged, **body} if merged else body


def _without(value: Any, names: frozenset[str], context: HashContext) -> Any:
    """`value` without the namespaced members, at any depth, whose expanded names are in `names`."""
    if isinstance(value, dict):
        return {
            key: _without(item, names, context)
            for key, item in value.items()
            if ":" not in key or context.expand_key(key) not in names
        }
    if isinstance(value, list):
        return [_without(item, names, context) for item in value]
    return value


def committed_fields(payload: dict[str, Any], digest: str) -> dict[str, Any]:
    """What an event's record root commits to: every top-level field (its @context too), the
    event's CBV 2.0 hash (hex) as `#eventHash`, and the list of its field names (in UTF-16
    order, docs/proof-format.md §3) as `#fields`."""
    fields = dict(payload)
    fields[FIELDS_FIELD] = utf16_order(fields)
    fields[HASH_FIELD] = digest
    return fields


def commit_event(payload: dict[str, Any], digest: str, seed: bytes | None = None) -> RecordCommitment:
    """The salted commitment of an event: one leaf per field, so any subset of fields can be
    disclosed and checked against the anchored root without revealing the others. With a
    capture's `seed` the salts are derived from it (docs/proof-format.md §4), else drawn."""
    fields = committed_fields(payload, digest)
    salts = derived_salts(seed, bytes.fromhex(digest), fields) if seed is not None else None
    return RecordCommitment.commit(fields, salts)


def analyse(
    events: Sequence[dict[str, Any]],
    context: HashContext,
    document_context: Sequence[Any] = (),
    seed: bytes | None = None,
) -> list[AnalysedEvent]:
    """Hashes each event and commits it as it will be stored (with its document's namespaces,
    salts from the capture's `seed`); a pure function: it runs in the pool's workers."""
    analysed = []
    for event in events:
        digest = event_digest(event, context)
        commitment = commit_event(stored_payload(event, document_context, context), digest, seed)
        analysed.append(
            AnalysedEvent(
                digest, commitment.root, {p: s.hex() for p, s in commitment.salts.items()}, identifiers_of(event)
            )
        )
    return analysed


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def pool(*, replace_broken: bool = False) -> ProcessPoolExecutor:
    """The process pool, started on first use: one worker per core, started by a fork server
    (the service has threads; forking it directly would copy their locks). A pool broken by a
    dead worker is replaced."""
    global _pool
    with _pool_lock:
        if _pool is not None and replace_broken and getattr(_pool, "_broken", False):
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
        if _pool is None:
            workers = max(1, min(os.cpu_count() or 1, 8))
            _pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
        return _pool


def analyse_all(
    events: list[dict[str, Any]], context: HashContext, document_context: Sequence[Any] = (), seed: bytes | None = None
) -> list[AnalysedEvent]:
    """`analyse` over every event, in slices across the pool for large documents."""
    if len(events) < PARALLEL_FROM:
        return analyse(events, context, document_context, seed)
    for attempt in range(2):
        executor = pool(replace_broken=attempt > 0)
        slices = max(2, executor._max_workers)  # type: ignore[attr-defined]
        size = -(-len(events) // slices)
        try:
            futures = [
                executor.submit(analyse, events[start : start + size], context, document_context, seed)
                for start in range(0, len(events), size)
            ]
            return [item for future in futures for item in future.result()]
        except BrokenProcessPool:
            if attempt:
                raise
    raise AssertionError("unreachable")
