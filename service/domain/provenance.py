"""The provenance graph over captured events, walked breadth-first with one indexed query per
level: TransformationEvents lead from inputs to outputs, Aggregation and Association events
from children to the parent that holds them (ADD, OBSERVE), and every event that names an
item is a step of its custody chain.

- upstream: from a product back to every origin (items nothing further was made from);
- downstream (recall): from an input lot forward to everything made from it or packed with it,
  each with its last known custodian and location;
- custody: the events of one item in time order, who held it and where.

Every step is the policy engine's: an edge is crossed only through an event whose fields naming
both ends the reader may see (and whose time, when the walk is bounded in time), so a trace
never crosses or reveals an event the reader may not see; the identifiers it reveals are logged
as reads of their events. A journey's walk crosses only the events of those who speak for its
item (service/domain/speakers.py): nobody else can graft lineage or containers onto it."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from service.db.models import EpcisEvent, EventIdentifier
from service.domain.policy import Access, Decision
from service.domain.speakers import Speakers
from service.epcis.analysis import ROLE_FIELDS
from service.epcis.categories import category_of
from service.epcis.identifiers import canonical_id

Direction = Literal["upstream", "downstream"]
INPUT_ROLES = ("input", "input_quantity")
OUTPUT_ROLES = ("output", "output_quantity")
CHILD_ROLES = ("child", "child_quantity")
ITEM_ROLES = (
    "epc",
    "quantity",
    "child",
    "child_quantity",
    "parent",
    "input",
    "input_quantity",
    "output",
    "output_quantity",
)
CONTAINING_ACTIONS = ("ADD", "OBSERVE")
CHUNK = 900  # bound parameters per IN (SQLite allows 32766; PostgreSQL 65535)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    relation: str  # made_into · packed_into (downstream); made_from · holds (upstream)
    record_id: str
    ref: str
    """The event's public reference (its leaf)."""
    fields: tuple[str, str]
    """The event fields naming the source and the target."""


@dataclass
class Trace:
    start: str
    direction: Direction
    nodes: dict[str, int] = field(default_factory=dict)
    """Each identifier reached, with its depth (the start is 0)."""
    edges: list[Edge] = field(default_factory=list)
    truncated: bool = False
    """The depth or node limit cut the walk short."""

    @property
    def leaves(self) -> list[str]:
        """Identifiers the walk could not go beyond: origins upstream, end products downstream."""
        sources = {e.source for e in self.edges}
        return [n for n in self.nodes if n not in sources]

    @property
    def record_ids(self) -> list[str]:
        return list(dict.fromkeys(e.record_id for e in self.edges))


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _visible_for(access: Access, roles: Collection[str], *, timed: bool) -> Any:
    """SQL: the event shows the reader the fields of `roles` (and its time, if `timed`)."""
    categories = {category_of(ROLE_FIELDS[role]) for role in roles} | ({"when"} if timed else set())
    return access.sees_all(categories, EpcisEvent.owner_id, EpcisEvent.constellation)


def _edge_query(
    frontier: list[str],
    from_roles: tuple[str, ...],
    to_roles: tuple[str, ...],
    *,
    types: tuple[str, ...],
    actions: tuple[str, ...] | None,
    access: Access,
    since: datetime | None,
    until: datetime | None,
    speakers: Speakers | None = None,
) -> Select[Any]:
    near, far = aliased(EventIdentifier), aliased(EventIdentifier)
    timed = since is not None or until is not None
    extra = ("parent",) if actions is not None else ()  # the action sits with the identifiers (what)
    crossing = or_(
        *(
            and_(near.role == a, far.role == b, _visible_for(access, (a, b, *extra), timed=timed))
            for a in from_roles
            for b in to_roles
        )
    )
    query: Select[Any] = (
        select(
            near.identifier,
            far.identifier,
            near.role,
            far.role,
            EpcisEvent.id,
            EpcisEvent.leaf,
            EpcisEvent.owner_id,
            EpcisEvent.constellation,
        )
        .join(far, and_(far.record_id == near.record_id, far.role.in_(to_roles)))
        .join(EpcisEvent, EpcisEvent.id == near.record_id)
        .where(near.identifier.in_(frontier), near.role.in_(from_roles), EpcisEvent.event_type.in_(types), crossing)
    )
    if actions is not None:
        query = query.where(EpcisEvent.action.in_(actions))
    if speakers is not None:
        query = query.where(speakers.sql(EpcisEvent.owner_id, EpcisEvent.constellation))
    if since is not None:
        query = query.where(EpcisEvent.event_time >= since)
    if until is not None:
        query = query.where(EpcisEvent.event_time < until)
    return query


def trace(
    *,
    session: Session,
    start: str,
    direction: Direction,
    access: Access,
    endpoint: str,
    max_depth: int = 25,
    max_nodes: int = 100_000,
    since: datetime | None = None,
    until: datetime | None = None,
    log: bool = True,
    speakers: Speakers | None = None,
) -> Trace:
    """Walks the graph from `start` (any identifier form) through events the reader may see
    (and, given `speakers`, only theirs), at most `max_depth` steps and `max_nodes`
    identifiers; logs the events it crossed (unless the caller logs its reads itself)."""
    root = canonical_id(start)
    result = Trace(start=root, direction=direction, nodes={root: 0})
    if direction == "downstream":
        steps = (
            (INPUT_ROLES, OUTPUT_ROLES, ("TransformationEvent",), None, "made_into"),
            (CHILD_ROLES, ("parent",), ("AggregationEvent", "AssociationEvent"), CONTAINING_ACTIONS, "packed_into"),
        )
    else:
        steps = (
            (OUTPUT_ROLES, INPUT_ROLES, ("TransformationEvent",), None, "made_from"),
            (("parent",), CHILD_ROLES, ("AggregationEvent", "AssociationEvent"), CONTAINING_ACTIONS, "holds"),
        )
    frontier = [root]
    seen_edges: set[tuple[str, str, str]] = set()
    crossed: dict[str, tuple[str, str, set[str]]] = {}

    def walk() -> None:
        nonlocal frontier
        for depth in range(1, max_depth + 1):
            reached: list[str] = []
            for from_roles, to_roles, types, actions, relation in steps:
                for chunk in _chunks(frontier):
                    query = _edge_query(
                        chunk,
                        from_roles,
                        to_roles,
                        types=types,
                        actions=actions,
                        access=access,
                        since=since,
                        until=until,
                        speakers=speakers,
                    )
                    for source, target, near_role, far_role, record, ref, owner, cid in session.execute(query):
                        if source == target or (source, target, record) in seen_edges:
                            continue
                        seen_edges.add((source, target, record))
                        fields = (ROLE_FIELDS[near_role], ROLE_FIELDS[far_role])
                        result.edges.append(Edge(source, target, relation, record, ref, fields))
                        read = crossed.setdefault(ref, (owner, cid, set()))[2]
                        read.update(fields)
                        if since is not None or until is not None:
                            read.add("eventTime")  # the bound read its time
                        if target not in result.nodes:
                            if len(result.nodes) >= max_nodes:
                                result.truncated = True
                                return
                            result.nodes[target] = depth
                            reached.append(target)
            if not reached:
                return
            frontier = reached
        result.truncated = True

    walk()
    if not log:
        return result
    access.log(
        session,
        endpoint=endpoint,
        decisions=[
            Decision(owner, cid, "event", ref, sorted(fields), [], sorted({category_of(f) for f in fields}))
            for ref, (owner, cid, fields) in crossed.items()
        ],
    )
    return result


def last_sightings(*, session: Session, identifiers: list[str], access: Access) -> dict[str, EpcisEvent]:
    """The latest event naming each identifier among those whose naming field and time the
    reader may see (the time ranks them)."""
    found: dict[str, EpcisEvent] = {}
    for chunk in _chunks(identifiers):
        naming = or_(
            *(
                and_(
                    EventIdentifier.role.in_(roles),
                    access.sees_all((category, "when"), EpcisEvent.owner_id, EpcisEvent.constellation),
                )
                for category, roles in _roles_by_category(ITEM_ROLES).items()
            )
        )
        latest_sq = (
            select(EventIdentifier.identifier, func.max(EpcisEvent.event_time).label("at"))
            .join(EpcisEvent, EpcisEvent.id == EventIdentifier.record_id)
            .where(EventIdentifier.identifier.in_(chunk), naming)
            .group_by(EventIdentifier.identifier)
            .subquery()
        )
        outer = (
            select(latest_sq.c.identifier, EpcisEvent)
            .join(EventIdentifier, EventIdentifier.identifier == latest_sq.c.identifier)
            .join(EpcisEvent, and_(EpcisEvent.id == EventIdentifier.record_id, EpcisEvent.event_time == latest_sq.c.at))
            .where(naming)  # the latest visible time may also be an invisible event's time
            .order_by(EpcisEvent.leaf)
        )
        for identifier, event in session.execute(outer):
            found.setdefault(identifier, event)
    return found


def _roles_by_category(roles: Collection[str]) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for role in roles:
        grouped.setdefault(category_of(ROLE_FIELDS[role]), []).append(role)
    return {category: tuple(group) for category, group in grouped.items()}


def custody_chain(*, session: Session, identifier: str, access: Access) -> list[EpcisEvent]:
    """Every event naming the item in a field the reader may see (the caller renders and
    orders them: by time where the time is shown)."""
    return events_naming(session=session, identifiers=[identifier], access=access)


def events_naming(*, session: Session, identifiers: Collection[str], access: Access) -> list[EpcisEvent]:
    """Every event naming any of the items in a field the reader may see, in reference order."""
    items = list(dict.fromkeys(canonical_id(i) for i in identifiers))
    found: dict[str, EpcisEvent] = {}
    for chunk in _chunks(items):
        named_in_sight = [
            and_(
                EpcisEvent.id.in_(
                    select(EventIdentifier.record_id).where(
                        EventIdentifier.identifier.in_(chunk), EventIdentifier.role.in_(roles)
                    )
                ),
                access.sees(category, EpcisEvent.owner_id, EpcisEvent.constellation),
            )
            for category, roles in _roles_by_category(ITEM_ROLES).items()
        ]
        for row in session.scalars(select(EpcisEvent).where(or_(*named_in_sight))):
            found.setdefault(row.id, row)
    return sorted(found.values(), key=lambda row: row.leaf)


def containers_of(
    *,
    session: Session,
    identifiers: Collection[str],
    access: Access,
    max_depth: int = 5,
    speakers: Speakers | None = None,
) -> dict[str, str]:
    """The containers (pallets, cases, shipments) the items were packed into, transitively,
    through aggregations the reader may see (and, given `speakers`, only theirs): each container
    with the item it holds. Only upward: a container's other contents are not its items' journey."""
    found: dict[str, str] = {}
    frontier = list(dict.fromkeys(canonical_id(i) for i in identifiers))
    for _ in range(max_depth):
        reached: list[str] = []
        for chunk in _chunks(frontier):
            query = _edge_query(
                chunk,
                CHILD_ROLES,
                ("parent",),
                types=("AggregationEvent", "AssociationEvent"),
                actions=CONTAINING_ACTIONS,
                access=access,
                since=None,
                until=None,
                speakers=speakers,
            )
            for source, target, *_ in session.execute(query):
                if target not in found and target not in frontier and target != source:
                    found[target] = source
                    reached.append(target)
        if not reached:
            break
        frontier = reached
    return found


def items_named(*, session: Session, prefix: str, access: Access, limit: int = 200) -> list[str]:
    """The identifiers starting with `prefix` (the lots and units of a product class) named in
    a field the reader sees."""
    named_in_sight = or_(
        *(
            and_(EventIdentifier.role.in_(roles), access.sees(category, EpcisEvent.owner_id, EpcisEvent.constellation))
            for category, roles in _roles_by_category(ITEM_ROLES).items()
        )
    )
    rows = session.execute(
        select(EventIdentifier.identifier)
        .join(EpcisEvent, EpcisEvent.id == EventIdentifier.record_id)
        .where(EventIdentifier.identifier.startswith(prefix, autoescape=True), named_in_sight)
        .distinct()
        .order_by(EventIdentifier.identifier)
        .limit(limit)
    )
    return [identifier for (identifier,) in rows]
