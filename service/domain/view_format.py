"""What a record view is made of beside the event's own members (docs/proof-format.md §3, "A
record view"): the block that carries its proofs, what is shown but never committed, the
committed fields that describe themselves, and the hex its proofs are written in. The view's
maker (service/domain/disclosure.py) and its verifiers (proofs.py, journey_proofs.py) read
these here; nothing in this module needs a database."""

from __future__ import annotations

from typing import Any

from service.domain.commitments import FIELDS_FIELD, HASH_FIELD

RECORD_KEY = "constellate:record"
NAMESPACE = {"constellate": "urn:constellate:"}
"""The JSON-LD prefix of the record block, declared in the query document's @context."""
NOT_DISCLOSED = frozenset({"recordTime"})
"""recordTime is set by this service at capture, not by the signer: shown, never proven."""
SELF_DESCRIBING = (HASH_FIELD, FIELDS_FIELD)
"""Committed fields whose disclosure carries its own value (they are not event fields)."""


def to_hex(raw: bytes) -> str:
    """Bytes as a view writes them: 0x and lowercase hex."""
    return "0x" + raw.hex()


def from_hex(value: str) -> bytes:
    """A view's hex (with or without 0x) as bytes; ValueError if it is no hex."""
    return bytes.fromhex(value.removeprefix("0x"))


def is_hash_id(value: Any) -> bool:
    """Whether an eventID is a CBV event hash ID (`ni:///…`): it digests every field."""
    return isinstance(value, str) and value.startswith("ni:///")


__all__ = ["NAMESPACE", "NOT_DISCLOSED", "RECORD_KEY", "SELF_DESCRIBING", "from_hex", "is_hash_id", "to_hex"]
