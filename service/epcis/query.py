"""The EPCIS 2.0 SimpleEventQuery over stored events: the standard query parameters, keyset
pagination (perPage, nextPageToken) and the EPCISQueryDocument it answers. Identifiers are
matched in their normalised form, so a URN finds events captured with Digital Links."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service.db.models import EpcisEvent, EventIdentifier, Member
from service.domain.constellations import constellations_of
from service.epcis import policy
from service.epcis.analysis import STANDARD_CONTEXT
from service.epcis.event_hash import hash_hex, hash_id
from service.epcis.identifiers import canonical_id
from service.errors import MalformedInput, NotFound

MATCH_ROLES: dict[str, tuple[str, ...]] = {
    "MATCH_epc": ("epc", "child"),
    "MATCH_parentID": ("parent",),
    "MATCH_inputEPC": ("input",),
    "MATCH_outputEPC": ("output",),
    "MATCH_anyEPC": ("epc", "child", "parent", "input", "output"),
    "MATCH_epcClass": ("quantity", "child_quantity"),
    "MATCH_inputEPCClass": ("input_quantity",),
    "MATCH_outputEPCClass": ("output_quantity",),
    "MATCH_anyEPCClass": ("quantity", "child_quantity", "input_quantity", "output_quantity"),
}
EQ_COLUMNS = {
    "eventType": EpcisEvent.event_type,
    "EQ_action": EpcisEvent.action,
    "EQ_bizStep": EpcisEvent.biz_step,
    "EQ_disposition": EpcisEvent.disposition,
    "EQ_readPoint": EpcisEvent.read_point,
    "EQ_bizLocation": EpcisEvent.biz_location,
    "EQ_transformationID": EpcisEvent.transformation_id,
    "EQ_eventID": EpcisEvent.event_id,
}
TIME_BOUNDS = {
    "GE_eventTime": (EpcisEvent.event_time, ">="),
    "LT_eventTime": (EpcisEvent.event_time, "<"),
    "GE_recordTime": (EpcisEvent.record_time, ">="),
    "LT_recordTime": (EpcisEvent.record_time, "<"),
}
PAGING = ("perPage", "nextPageToken")
KNOWN = set(MATCH_ROLES) | set(EQ_COLUMNS) | set(TIME_BOUNDS) | set(PAGING)
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 100


def _normalise(name: str, value: str) -> str:
    if name == "EQ_bizStep":
        return policy.biz_step_term(value) or value
    if name == "EQ_disposition":
        return policy.disposition_term(value) or value
    if name in ("EQ_readPoint", "EQ_bizLocation"):
        return canonical_id(value)
    return value


# EPC pure-identity patterns (EPC Tag Data Standard): a company prefix and '*' for the rest.
_COMPANY_PATTERNS = {
    "urn:epc:idpat:sgtin:": "https://id.gs1.org/01/_",
    "urn:epc:idpat:sscc:": "https://id.gs1.org/00/_",
    "urn:epc:idpat:sgln:": "https://id.gs1.org/414/",
    "urn:epc:idpat:grai:": "https://id.gs1.org/8003/0",
}


def _matches(value: str) -> Any:
    """The condition for one MATCH_ value: an identifier in any form, or an EPC pattern —
    `urn:epc:idpat:sgtin:0614141.107346.*` (every instance, lot and serial of one GTIN) or
    `urn:epc:idpat:sgtin:0614141.*.*` (everything of one GS1 company prefix)."""
    canonical = canonical_id(value)
    if not value.startswith("urn:epc:idpat:"):
        return EventIdentifier.identifier == canonical
    if canonical.startswith("https://id.gs1.org/"):  # the pattern fixes the item: the class and its members
        return or_(EventIdentifier.identifier == canonical, EventIdentifier.identifier.startswith(canonical + "/"))
    for prefix, link in _COMPANY_PATTERNS.items():
        rest = value.removeprefix(prefix)
        company, _, stars = rest.partition(".")
        if value.startswith(prefix) and company.isdigit() and 6 <= len(company) <= 12 and set(stars) <= {"*", "."}:
            return EventIdentifier.identifier.like(f"{link}{company}%")
    raise MalformedInput(f"EPC pattern {value!r} is not supported: give a company prefix, and an item reference or '*'")


def _values(raw: str) -> list[str]:
    values = [v for v in raw.split("|") if v]
    if not values:
        raise MalformedInput("a query parameter needs at least one value")
    return values


def parse_time(name: str, raw: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw.upper().replace("Z", "+00:00").replace(" ", "+"))
        if parsed.tzinfo is None:
            raise MalformedInput(f"{name} must carry a time zone offset")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise MalformedInput(f"{name} must be a date-time with a time zone, e.g. 2026-06-30T00:00:00Z") from None


@dataclass(frozen=True)
class PageToken:
    event_time: datetime
    record_id: str

    def encode(self) -> str:
        raw = json.dumps([self.event_time.isoformat(), self.record_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> PageToken:
        try:
            when, digest = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return cls(datetime.fromisoformat(when), str(digest))
        except (ValueError, TypeError):
            raise MalformedInput("nextPageToken is not one this service issued") from None


@dataclass
class Page:
    events: list[EpcisEvent]
    next_token: str | None


def readable_constellations(*, session: Session, member: Member) -> list[str]:
    """Until grants decide finer, a member reads the events of the constellations it belongs to."""
    return [m.constellation for m in constellations_of(session=session, address=member.address)]


def query(*, session: Session, reader: Member | None, params: Mapping[str, str]) -> Page:
    """Events matching every parameter that `reader` (None: the operator) may read, a page."""
    unknown = sorted(set(params) - KNOWN)
    if unknown:
        raise MalformedInput(f"unknown query parameters {unknown}; supported: {sorted(KNOWN)}")
    conditions: list[Any] = []
    if reader is not None:
        conditions.append(EpcisEvent.constellation.in_(readable_constellations(session=session, member=reader)))
    for name, raw in params.items():
        if name in EQ_COLUMNS:
            conditions.append(EQ_COLUMNS[name].in_([_normalise(name, v) for v in _values(raw)]))
        elif name in TIME_BOUNDS:
            column, op = TIME_BOUNDS[name]
            bound = parse_time(name, raw)
            conditions.append(column >= bound if op == ">=" else column < bound)
        elif name in MATCH_ROLES:
            matching = select(EventIdentifier.record_id).where(
                or_(*(_matches(v) for v in _values(raw))), EventIdentifier.role.in_(MATCH_ROLES[name])
            )
            conditions.append(EpcisEvent.id.in_(matching))
    per_page = DEFAULT_PER_PAGE
    if "perPage" in params:
        try:
            per_page = int(params["perPage"])
        except ValueError:
            raise MalformedInput("perPage must be an integer") from None
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise MalformedInput(f"perPage must be between 1 and {MAX_PER_PAGE}")
    if "nextPageToken" in params:
        after = PageToken.decode(params["nextPageToken"])
        conditions.append(
            or_(
                EpcisEvent.event_time > after.event_time,
                and_(EpcisEvent.event_time == after.event_time, EpcisEvent.id > after.record_id),
            )
        )
    rows = list(
        session.scalars(
            select(EpcisEvent).where(*conditions).order_by(EpcisEvent.event_time, EpcisEvent.id).limit(per_page + 1)
        )
    )
    token = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        last = rows[-1]
        token = PageToken(last.event_time, last.id).encode()
    return Page(rows, token)


def find_event(*, session: Session, reader: Member | None, event_id: str) -> EpcisEvent:
    """One event by its eventID or its hash ID."""
    condition = EpcisEvent.event_id == event_id
    if event_id.startswith("ni:///sha-256;"):
        condition = or_(condition, EpcisEvent.event_hash == hash_hex(event_id))
    query = select(EpcisEvent).where(condition)
    if reader is not None:
        query = query.where(EpcisEvent.constellation.in_(readable_constellations(session=session, member=reader)))
    row = session.scalar(query.order_by(EpcisEvent.record_time, EpcisEvent.id).limit(1))
    if row is None:
        raise NotFound(f"no event {event_id}")
    return row


def event_json(row: EpcisEvent) -> dict[str, Any]:
    """The event as the query interface returns it: as captured, with its recordTime and,
    where the capturer gave none, its hash ID as eventID."""
    event = dict(row.payload)
    event.setdefault("eventID", hash_id(row.event_hash))
    event["recordTime"] = row.record_time.isoformat().replace("+00:00", "Z")
    return event


def query_document(events: Sequence[EpcisEvent]) -> dict[str, Any]:
    return {
        "@context": [STANDARD_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": [event_json(e) for e in events]},
            }
        },
    }
