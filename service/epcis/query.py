"""The EPCIS 2.0 SimpleEventQuery over stored events: the standard query parameters, ordering,
keyset pagination (perPage, nextPageToken) and the EPCISQueryDocument it answers. Identifiers
are matched in their normalised form, so a URN finds events captured with Digital Links.

Every condition is the policy engine's too: a parameter matches only records whose field it
names the reader may see (a query on bizLocation never finds an event whose bizLocation is
withheld from the reader), and ordering by a time only ranks records whose times it may see.
Without orderBy the order is the records' opaque references (EPCIS leaves it unspecified),
which says nothing about any field."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service.db.models import EpcisEvent, EventIdentifier
from service.domain.disclosure import EventView, shows_anything
from service.domain.policy import EVENT_CATEGORIES, Access
from service.domain.view_format import NAMESPACE, RECORD_KEY, is_hash_id
from service.epcis import policy
from service.epcis.analysis import ROLE_FIELDS, STANDARD_CONTEXT
from service.epcis.categories import category_of
from service.epcis.event_hash import hash_hex
from service.epcis.identifiers import canonical_id
from service.errors import MalformedInput
from service.json_bounds import check_json_depth

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
EQ_CATEGORIES = {
    "eventType": (),  # the type is always shown: it is the record's shape
    "EQ_action": ("what",),
    "EQ_bizStep": ("why",),
    "EQ_disposition": ("why",),
    "EQ_readPoint": ("where",),
    "EQ_bizLocation": ("where",),
    "EQ_transformationID": ("what",),
    "EQ_eventID": ("what",),
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
ORDERING = ("orderBy", "orderDirection")
ORDER_COLUMNS = {"eventTime": EpcisEvent.event_time, "recordTime": EpcisEvent.record_time}
KNOWN = set(MATCH_ROLES) | set(EQ_COLUMNS) | set(TIME_BOUNDS) | set(PAGING) | set(ORDERING)
MAX_PER_PAGE = 1000
IGNORE_FIELDS = "constellate:ignoreFields"
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
    """Where the next page starts: the last record's reference (opaque, like the order)."""

    after: str

    def encode(self) -> str:
        return base64.urlsafe_b64encode(json.dumps([self.after]).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> PageToken:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            check_json_depth(raw, limit=1, what="nextPageToken")  # a forged one nested deep would recurse
            (after,) = json.loads(raw)
            if not isinstance(after, str):
                raise TypeError
            return cls(after)
        except (ValueError, TypeError):
            raise MalformedInput("nextPageToken is not one this service issued") from None


@dataclass
class Page:
    events: list[EpcisEvent]
    next_token: str | None


def _role_categories(roles: Sequence[str]) -> set[str]:
    return {category_of(ROLE_FIELDS[role]) for role in roles}


def query(*, session: Session, access: Access, params: Mapping[str, str]) -> Page:
    """Events matching every parameter on fields the reader may see, one page."""
    unknown = sorted(set(params) - KNOWN)
    if unknown:
        raise MalformedInput(f"unknown query parameters {unknown}; supported: {sorted(KNOWN)}")
    owner, constellation = EpcisEvent.owner_id, EpcisEvent.constellation
    conditions: list[Any] = [access.sees_any(EVENT_CATEGORIES, owner, constellation)]
    needed: set[str] = set()
    for name, raw in params.items():
        if name in EQ_COLUMNS:
            values = [_normalise(name, v) for v in _values(raw)]
            conditions.append(EQ_COLUMNS[name].in_(values))
            needed.update(EQ_CATEGORIES[name])
            if name == "EQ_eventID" and any(is_hash_id(v) for v in values):
                needed.update(EVENT_CATEGORIES)  # an eventID that is the event's hash digests every field
        elif name in TIME_BOUNDS:
            column, op = TIME_BOUNDS[name]
            bound = parse_time(name, raw)
            conditions.append(column >= bound if op == ">=" else column < bound)
            needed.add("when")
        elif name in MATCH_ROLES:
            roles = MATCH_ROLES[name]
            matching = select(EventIdentifier.record_id).where(
                or_(*(_matches(v) for v in _values(raw))), EventIdentifier.role.in_(roles)
            )
            conditions.append(EpcisEvent.id.in_(matching))
            needed.update(_role_categories(roles))
    order_by = params.get("orderBy")
    if order_by is not None and order_by not in ORDER_COLUMNS:
        raise MalformedInput(f"orderBy {order_by!r} is not supported: eventTime or recordTime")
    direction = params.get("orderDirection", "DESC" if order_by else "ASC")
    if direction not in ("ASC", "DESC"):
        raise MalformedInput("orderDirection is ASC or DESC")
    if order_by is not None:
        needed.add("when")
    conditions.append(access.sees_all(needed, owner, constellation))
    per_page = DEFAULT_PER_PAGE
    if "perPage" in params:
        try:
            per_page = int(params["perPage"])
        except ValueError:
            raise MalformedInput("perPage must be an integer") from None
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise MalformedInput(f"perPage must be between 1 and {MAX_PER_PAGE}")
    keys = [ORDER_COLUMNS[order_by], EpcisEvent.leaf] if order_by else [EpcisEvent.leaf]
    descending = direction == "DESC"
    column = ORDER_COLUMNS[order_by] if order_by else None

    def beyond(last_leaf: str, last_key: Any) -> Any:
        """Rows after (last_key, last_leaf) in the page order."""
        tie = (EpcisEvent.leaf < last_leaf) if descending else (EpcisEvent.leaf > last_leaf)
        if column is None:
            return tie
        return or_((column < last_key) if descending else (column > last_key), and_(column == last_key, tie))

    start: list[Any] = []
    if "nextPageToken" in params:
        after = PageToken.decode(params["nextPageToken"]).after
        key = None
        if column is not None:
            # The token's record must be one whose time the reader sees: a token naming any
            # other record would rank a withheld time against the reader's own.
            key = session.scalar(
                select(column).where(EpcisEvent.leaf == after, access.sees("when", owner, constellation))
            )
            if key is None:
                raise MalformedInput("nextPageToken is not one this service issued")
        start.append(beyond(after, key))
    ordering = [k.desc() if descending else k.asc() for k in keys]
    # Rows the SQL prefilter lets through but that show the reader none of their fields are
    # skipped here, never counted, and never name a page token.
    found: list[EpcisEvent] = []
    more = False
    while True:
        batch = list(
            session.scalars(select(EpcisEvent).where(*conditions, *start).order_by(*ordering).limit(per_page + 1))
        )
        for row in batch:
            if shows_anything(access, row):
                if len(found) == per_page:
                    more = True
                    break
                found.append(row)
        if more or len(batch) <= per_page:
            break
        last = batch[-1]
        start = [beyond(last.leaf, getattr(last, column.key) if column is not None else None)]
    token = PageToken(found[-1].leaf).encode() if more else None
    return Page(found, token)


def is_leaf(value: str) -> bool:
    raw = value.removeprefix("0x")
    return value.startswith("0x") and len(raw) == 64 and all(c in "0123456789abcdefABCDEF" for c in raw)


def find_candidates(*, session: Session, access: Access, event_id: str) -> list[EpcisEvent]:
    """The records an id may name — its reference (0x + leaf), its hash ID or its eventID —
    among those the reader may see something of; `lookup_matches` then checks the reader
    may see what the id is made of."""
    if is_leaf(event_id):
        condition = EpcisEvent.leaf == event_id.lower()
    elif is_hash_id(event_id):
        condition = or_(EpcisEvent.event_id == event_id, EpcisEvent.event_hash == hash_hex(event_id))
    else:
        condition = EpcisEvent.event_id == event_id
    visible = access.sees_any(EVENT_CATEGORIES, EpcisEvent.owner_id, EpcisEvent.constellation)
    query = select(EpcisEvent).where(condition, visible).order_by(EpcisEvent.record_time, EpcisEvent.leaf).limit(50)
    return list(session.scalars(query))


def lookup_matches(event_id: str, view: EventView) -> bool:
    """Whether the reader's view shows what `event_id` is made of: a reference always; a hash
    ID only in a full view (it digests every field); an eventID only where it is shown."""
    if is_leaf(event_id):
        return True
    if is_hash_id(event_id) and not view.full:
        return False
    return view.full or view.document.get("eventID") == event_id


def query_document(views: Sequence[EventView]) -> dict[str, Any]:
    return {
        "@context": [STANDARD_CONTEXT, NAMESPACE],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                # What this repository adds to each event is no part of its CBV 2.0 hash (the
                # reference hash generator's convention): the events re-hash to their hash IDs.
                IGNORE_FIELDS: [RECORD_KEY],
                "resultsBody": {"eventList": [v.document for v in views]},
            }
        },
    }
