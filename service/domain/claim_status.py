"""Where a claim (an attestation) stands at a moment, from the claim itself: the validity period
its body states (`validFrom`/`validUntil`, or its schema's equivalent), its expiry and revocation
on chain, and a live dispute of it. One function answers it for every place that shows a status:
the journey, the /attestations routes, the credential and PACT exports, the health views.

    pending        not yet on chain
    failed         refused by the chain: never a claim
    revoked        revoked by its issuer                      (since: the revocation)
    expired        its validity period or on-chain expiry ended (since: its last valid day)
    disputed       a certifier or the coordinator disputes it  (since: the dispute)
    not-yet-valid  its validity period has not begun          (since: its first valid day)
    valid          none of the above                          (since: its last valid day, if any)

A dispute is an attestation under the built-in `dispute` schema (issued only by a certifier or
a coordinator: the registry checks the role) whose refUID names the claim, in the claim's
constellation, about the claim's subject, on chain and neither revoked nor expired. The chain
holds its refUID, schema and issuer for anyone to read, so a claim's being disputed is no
secret; the dispute's reason is the issuer's to share.

The validity period is service/domain/claim_validity.py's (its fields read as RFC 3339 reads
them: a full-date, or a date-time with T and Z in either case, a leap second, an offset), shared
with the journey verifier. A validity field present but unreadable fails closed:
the claim is `expired` from its first moment, with no date (no status is added for it: a claim
whose period cannot be read is not one to rely on, which `expired` already tells a reader)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import Attestation, AttestationSchema, ChainRevocation, OutboxItem
from service.domain.claim_validity import Validity, validity_of

DISPUTE_SCHEMA = "dispute"
STATES = ("valid", "not-yet-valid", "expired", "revoked", "disputed", "pending", "failed")


@dataclass(frozen=True)
class ClaimStatus:
    state: str
    since: date | None
    """The day the state began (revoked, disputed, expired: the last valid day) or, for
    not-yet-valid and valid, the day it ends."""
    validity: Validity
    changes_at: datetime | None = None
    """The next moment the state changes by itself (it begins or expires), or None."""


@dataclass(frozen=True)
class SeenDates:
    """A claim's dates as one reader may know them."""

    status_date: date | None
    valid_from: date | None
    valid_until: date | None


def dates_seen(
    status: ClaimStatus, schema_name: str, body: dict[str, Any], shown: Callable[[str], bool], expires_at: int
) -> SeenDates:
    """The dates of a claim as far as its reader may know them — from the body fields it is shown
    (`shown(key)`) and the chain's expiry: a withheld validUntil is not given away by the dates
    beside the status it decides (the status itself stands: a lapsed claim never reads as valid).
    A revocation's or a dispute's day is the chain's or the disputer's, not the body's."""
    visible = validity_of(schema_name, {k: v for k, v in body.items() if shown(k)}, expires_at)
    dated = visible == status.validity or status.state in ("revoked", "disputed")
    return SeenDates(status.since if dated else None, visible.valid_from, visible.valid_until)


@dataclass(frozen=True)
class _Facts:
    """What decides the statuses of a set of claims, read in a few queries."""

    failed: set[str]
    revoked_at: dict[str, datetime | None]
    disputed_at: dict[str, tuple[datetime, datetime | None]]
    """Per disputed claim: when its earliest live dispute was made, and when the first of its
    live disputes expires (None: none does)."""


def _facts(session: Session, rows: list[Attestation], now: datetime) -> _Facts:
    uids = [r.uid for r in rows]
    unanchored = [r.uid for r in rows if r.anchored_tx is None]
    failed = (
        set(
            session.scalars(
                select(OutboxItem.ref).where(
                    OutboxItem.kind == "attest", OutboxItem.ref.in_(unanchored), OutboxItem.status == "failed"
                )
            )
        )
        if unanchored
        else set()
    )
    on_chain = dict(
        session.execute(
            select(ChainRevocation.uid, ChainRevocation.revoked_at).where(ChainRevocation.uid.in_(uids))
        ).all()
    )
    revoked_at: dict[str, datetime | None] = {
        uid: datetime.fromtimestamp(at, UTC) if at else None for uid, at in on_chain.items()
    }
    for row in rows:
        if row.revoked_tx is not None and row.uid not in revoked_at:
            revoked_at[row.uid] = row.revoke_requested_at
    by_uid = {r.uid: r for r in rows}
    disputes = session.scalars(
        select(Attestation)
        .join(AttestationSchema, AttestationSchema.uid == Attestation.schema_uid)
        .where(
            Attestation.ref_uid.in_(uids),
            AttestationSchema.name == DISPUTE_SCHEMA,
            AttestationSchema.builtin.is_(True),
            Attestation.anchored_tx.is_not(None),
            Attestation.revoked_tx.is_(None),
        )
    ).all()
    live = [d for d in disputes if not d.expires_at or d.expires_at > now.timestamp()]
    revoked_disputes = set(
        session.scalars(select(ChainRevocation.uid).where(ChainRevocation.uid.in_([d.uid for d in live])))
        if live
        else ()
    )
    disputed_at: dict[str, tuple[datetime, datetime | None]] = {}
    for dispute in live:
        claim = by_uid[dispute.ref_uid]
        if dispute.uid in revoked_disputes or (dispute.constellation, dispute.subject) != (
            claim.constellation,
            claim.subject,
        ):
            continue
        made = dispute.created_at if dispute.created_at.tzinfo else dispute.created_at.replace(tzinfo=UTC)
        ends = datetime.fromtimestamp(dispute.expires_at, UTC) if dispute.expires_at else None
        before = disputed_at.get(claim.uid)
        if before is not None:
            made = min(made, before[0])
            ends = None if ends is None or before[1] is None else max(ends, before[1])
        disputed_at[claim.uid] = (made, ends)
    return _Facts(failed, revoked_at, disputed_at)


def _status(row: Attestation, schema_name: str, facts: _Facts, now: datetime) -> ClaimStatus:
    validity = validity_of(schema_name, row.body, row.expires_at)
    if row.anchored_tx is None:
        return ClaimStatus("failed" if row.uid in facts.failed else "pending", None, validity)
    if row.uid in facts.revoked_at:
        revoked = facts.revoked_at[row.uid]
        return ClaimStatus("revoked", revoked.date() if revoked else None, validity)
    if validity.unreadable:
        return ClaimStatus("expired", None, validity)
    if validity.ends_at is not None and validity.ends_at <= now:
        return ClaimStatus("expired", validity.valid_until, validity)
    ends = validity.ends_at
    if row.uid in facts.disputed_at:
        made, dispute_ends = facts.disputed_at[row.uid]
        changes = min((m for m in (ends, dispute_ends) if m is not None), default=None)
        return ClaimStatus("disputed", made.date(), validity, changes)
    if validity.starts_at is not None and validity.starts_at > now:
        return ClaimStatus("not-yet-valid", validity.valid_from, validity, validity.starts_at)
    return ClaimStatus("valid", validity.valid_until, validity, ends)


def claim_statuses(
    *, session: Session, claims: Iterable[tuple[Attestation, str]], now: datetime | None = None
) -> dict[str, ClaimStatus]:
    """The status of each (attestation, its schema's name), by uid."""
    now = now or datetime.now(UTC)
    pairs = list(claims)
    if not pairs:
        return {}
    facts = _facts(session, [row for row, _ in pairs], now)
    return {row.uid: _status(row, name, facts, now) for row, name in pairs}


def claim_status(*, session: Session, row: Attestation, schema_name: str, now: datetime | None = None) -> ClaimStatus:
    return claim_statuses(session=session, claims=[(row, schema_name)], now=now)[row.uid]


__all__ = [
    "DISPUTE_SCHEMA",
    "STATES",
    "ClaimStatus",
    "SeenDates",
    "claim_status",
    "claim_statuses",
    "dates_seen",
]
