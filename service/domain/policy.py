"""The policy engine: which categories of a record a reader may see. One pure function over
the record, the reader and the owner's grants, so every read path can ask the same question
and a test can hold it against a reference model.

Rules (docs/design.md, "Sharing"):
- the owner of a record (the member that signed it) sees all of it;
- a grant reaches a reader when it is the owner's, in the record's constellation, live at the
  time of the read (from `valid_from`, before `valid_until`, not revoked), and its audience
  is the reader (member), a role the reader holds there now (role), any member of that
  constellation (constellation), or anyone, signed in or not (public);
- grants only add: what a reader sees is the union of the categories of the grants that
  reach it. Nothing else is shown."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.chain.contracts import Role
from service.epcis.categories import category_of

ANONYMOUS = None


@dataclass(frozen=True)
class Reader:
    """Who reads: a member with its current roles per constellation, or the public (no member)."""

    member_id: str | None
    roles: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class GrantTerms:
    owner_id: str
    constellation: str
    categories: frozenset[str]
    audience_kind: str
    audience_value: str | None
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class RecordRef:
    owner_id: str
    constellation: str
    kind: str  # event | attestation
    schema: str | None = None


def is_live(grant: GrantTerms, now: datetime) -> bool:
    if grant.revoked_at is not None and grant.revoked_at <= now:
        return False
    if grant.valid_from > now:
        return False
    return grant.valid_until is None or now < grant.valid_until


def reaches(grant: GrantTerms, reader: Reader) -> bool:
    """Whether the grant's audience includes the reader (roles as the reader holds them now)."""
    if grant.audience_kind == "public":
        return True
    if reader.member_id is None:
        return False
    held = reader.roles.get(grant.constellation, 0)
    if grant.audience_kind == "constellation":
        return held != 0
    if grant.audience_kind == "role":
        return bool(held & Role.NAMES.get(grant.audience_value or "", 0))
    return grant.audience_kind == "member" and grant.audience_value == reader.member_id


def visible_categories(
    *, reader: Reader, record: RecordRef, grants: Iterable[GrantTerms], now: datetime
) -> frozenset[str] | None:
    """The categories of `record` the reader may see; None means all of it (the owner)."""
    if reader.member_id is not None and reader.member_id == record.owner_id:
        return None
    shown: set[str] = set()
    for grant in grants:
        if (
            grant.owner_id == record.owner_id
            and grant.constellation == record.constellation
            and is_live(grant, now)
            and reaches(grant, reader)
        ):
            shown |= grant.categories
    return frozenset(shown)


def attestation_visible(record: RecordRef, visible: frozenset[str] | None) -> bool:
    return visible is None or "attestations" in visible or f"attestation:{record.schema}" in visible


@dataclass(frozen=True)
class EventView:
    shown: dict[str, Any]
    withheld: list[str]
    """Top-level fields left out, by name: the record keeps its shape and says what is missing."""


def event_view(payload: Mapping[str, Any], visible: frozenset[str] | None) -> EventView:
    """The event's fields the reader may see; `type` always stays (it names the record's shape)."""
    if visible is None:
        return EventView(dict(payload), [])
    shown: dict[str, Any] = {}
    withheld: list[str] = []
    for name, value in payload.items():
        if name in ("type", "@context") or category_of(name) in visible:
            shown[name] = value
        else:
            withheld.append(name)
    return EventView(shown, sorted(withheld))
