"""The provenance graph over captured events, walked breadth-first with one indexed query per
level: TransformationEvents lead from inputs to outputs, Aggregation and Association events
from children to the parent that holds them (ADD, OBSERVE), and every event that names an
item is a step of its custody chain.

- upstream: from a product back to every origin (items nothing further was made from);
- downstream (recall): from an input lot forward to everything made from it or packed with it,
  each with its last known custodian and location;
- custody: the events of one item in time order, who held it and where."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from service.db.models import EpcisEvent, EventIdentifier, Member
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
    event_hash: str


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


def _edge_query(
    frontier: list[str],
    from_roles: tuple[str, ...],
    to_roles: tuple[str, ...],
    *,
    types: tuple[str, ...],
    actions: tuple[str, ...] | None,
    visible: Collection[str] | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    near, far = aliased(EventIdentifier), aliased(EventIdentifier)
    query = (
        select(near.identifier, far.identifier, EpcisEvent.id, EpcisEvent.event_hash)
        .join(far, and_(far.record_id == near.record_id, far.role.in_(to_roles)))
        .join(EpcisEvent, EpcisEvent.id == near.record_id)
        .where(near.identifier.in_(frontier), near.role.in_(from_roles), EpcisEvent.event_type.in_(types))
    )
    if actions is not None:
        query = query.where(EpcisEvent.action.in_(actions))
    if visible is not None:
        query = query.where(EpcisEvent.constellation.in_(visible))
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
    visible: Collection[str] | None,
    max_depth: int = 25,
    max_nodes: int = 100_000,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Trace:
    """Walks the graph from `start` (any identifier form) through events in `visible`
    constellations (None: all), at most `max_depth` steps and `max_nodes` identifiers."""
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
    for depth in range(1, max_depth + 1):
        reached: list[str] = []
        for from_roles, to_roles, types, actions, relation in steps:
            for chunk in _chunks(frontier):
                query = _edge_query(
                    chunk, from_roles, to_roles, types=types, actions=actions, visible=visible, since=since, until=until
                )
                for source, target, record, event_hash in session.execute(query):
                    if source == target or (source, target, record) in seen_edges:
                        continue
                    seen_edges.add((source, target, record))
                    result.edges.append(Edge(source, target, relation, record, event_hash))
                    if target not in result.nodes:
                        if len(result.nodes) >= max_nodes:
                            result.truncated = True
                            return result
                        result.nodes[target] = depth
                        reached.append(target)
        if not reached:
            return result
        frontier = reached
    result.truncated = True
    return result


@dataclass
class Sighting:
    """The latest event that names an item: who held it, where, doing what."""

    identifier: str
    event_hash: str
    event_time: datetime
    biz_step: str | None
    disposition: str | None
    biz_location: str | None
    read_point: str | None
    custodian: str | None
    """The member who signed the event; for a shipment, its destination party if given."""


def last_sightings(*, session: Session, identifiers: list[str], visible: Collection[str] | None) -> dict[str, Sighting]:
    """The latest visible event naming each identifier."""
    found: dict[str, Sighting] = {}
    names = dict(session.execute(select(Member.id, Member.name)).all())
    for chunk in _chunks(identifiers):
        latest = (
            select(EventIdentifier.identifier, func.max(EpcisEvent.event_time).label("at"))
            .join(EpcisEvent, EpcisEvent.id == EventIdentifier.record_id)
            .where(EventIdentifier.identifier.in_(chunk), EventIdentifier.role.in_(ITEM_ROLES))
        )
        if visible is not None:
            latest = latest.where(EpcisEvent.constellation.in_(visible))
        latest_sq = latest.group_by(EventIdentifier.identifier).subquery()
        outer = (
            select(latest_sq.c.identifier, EpcisEvent)
            .join(EventIdentifier, EventIdentifier.identifier == latest_sq.c.identifier)
            .join(EpcisEvent, and_(EpcisEvent.id == EventIdentifier.record_id, EpcisEvent.event_time == latest_sq.c.at))
            .where(EventIdentifier.role.in_(ITEM_ROLES))
        )
        if visible is not None:  # the latest visible time may also be another constellation's event time
            outer = outer.where(EpcisEvent.constellation.in_(visible))
        rows = session.execute(outer)
        for identifier, event in rows:
            if identifier in found:
                continue
            destinations = [d.get("destination") for d in event.payload.get("destinationList") or ()]
            custodian = destinations[0] if destinations and event.biz_step in ("shipping", "departing") else None
            found[identifier] = Sighting(
                identifier=identifier,
                event_hash=event.event_hash,
                event_time=event.event_time,
                biz_step=event.biz_step,
                disposition=event.disposition,
                biz_location=event.biz_location,
                read_point=event.read_point,
                custodian=custodian or names.get(event.owner_id),
            )
    return found


def custody_chain(*, session: Session, identifier: str, visible: Collection[str] | None) -> list[EpcisEvent]:
    """Every visible event naming the item (in any role), oldest first."""
    item = canonical_id(identifier)
    naming = select(EventIdentifier.record_id).where(EventIdentifier.identifier == item)
    query = select(EpcisEvent).where(EpcisEvent.id.in_(naming)).order_by(EpcisEvent.event_time, EpcisEvent.id)
    if visible is not None:
        query = query.where(EpcisEvent.constellation.in_(visible))
    return list(session.scalars(query))
