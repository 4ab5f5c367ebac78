"""A claim's validity period, from its body (its schema's own fields, read as RFC 3339 reads
them) and its on-chain expiry — docs/proof-format.md §8's "validity period". The one
implementation the service's claim statuses (claim_status.py) and the journey verifier
(journey_proofs.py) read it with; no database here.

A validity field present but unreadable fails closed: the claim's period is `unreadable`, and a
status from it is `expired` from its first moment, with no date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

PACT_VALIDITY_YEARS = 3
"""PACT: a footprint without a validity period is valid for 3 years from its reference period's end."""
VALIDITY_FIELDS: dict[str, tuple[str, str]] = {
    "product-carbon-footprint": ("validityPeriodStart", "validityPeriodEnd"),
    "labour-audit": ("auditDate", "nextAuditDue"),
}
"""Each built-in schema's own names for the first and last day of its claims' validity (any
other schema: `validFrom` and `validUntil`)."""


@dataclass(frozen=True)
class Validity:
    """A claim's validity period: its first and last valid days (None: open) and the exact
    moments it begins and ends (an on-chain expiry may end it within its last day)."""

    valid_from: date | None = None
    valid_until: date | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    unreadable: tuple[str, ...] = ()
    """The validity fields the body holds but no reader can read as a date: the claim fails closed."""


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?)?"
)


def _moment(value: Any) -> datetime | None:
    """A body's RFC 3339 full-date or date-time as an aware moment (a date: its midnight, UTC; a
    date-time without an offset: UTC; a leap second: the second before it); None if unreadable."""
    if not isinstance(value, str) or (parts := _RFC3339.fullmatch(value)) is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = parts.groups()
    try:
        if hour is None:
            return datetime.combine(date(int(year), int(month), int(day)), time.min, UTC)
        zone = UTC
        if offset and offset not in "Zz":
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                return None
            sign = -1 if offset[0] == "-" else 1
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        leap = int(second) == 60
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), 59 if leap else int(second), micro, zone
        )
    except ValueError:
        return None


def _unreadable(value: Any) -> bool:
    return value is not None and _moment(value) is None


def _years_on(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def validity_of(schema_name: str, body: dict[str, Any], expires_at: int) -> Validity:
    """The validity period of a claim: from its body (the schema's own fields) and its on-chain
    expiry, whichever ends first. A day named as the last valid one lasts until its end."""
    first, last = VALIDITY_FIELDS.get(schema_name, ("validFrom", "validUntil"))
    consulted = dict.fromkeys((first, "validFrom", last, "validUntil"))
    if schema_name == "product-carbon-footprint":
        consulted["referencePeriodEnd"] = None
    unreadable = tuple(name for name in consulted if _unreadable(body.get(name)))
    starts = _moment(body.get(first)) or _moment(body.get("validFrom"))
    last_value = body.get(last) or body.get("validUntil")
    ends = _moment(last_value)
    if ends is not None and isinstance(last_value, str) and len(last_value) == 10:
        ends += timedelta(days=1)  # all of the last day
    if schema_name == "product-carbon-footprint" and starts is None:
        starts = _moment(body.get("referencePeriodEnd"))
        if starts is not None and ends is None:
            ends = _years_on(starts, PACT_VALIDITY_YEARS)
    if expires_at:
        on_chain = datetime.fromtimestamp(expires_at, UTC)
        ends = on_chain if ends is None else min(ends, on_chain)
    return Validity(
        valid_from=starts.date() if starts else None,
        valid_until=(ends - timedelta(microseconds=1)).date() if ends else None,
        starts_at=starts,
        ends_at=ends,
        unreadable=unreadable,
    )


__all__ = ["PACT_VALIDITY_YEARS", "VALIDITY_FIELDS", "Validity", "validity_of"]
