"""The value-chain coordinator's health views of a constellation: who its partners are and how
goods and data flow between them (a map), how the chain is doing week by week (metrics), how
each partner is doing (scorecards: a weak partner drags the whole chain) and how members keep
the commitments they pledged.

A coordinator sees here only what it may see anywhere else: every count, share and edge comes
from records the policy engine shows it (`Access.sees` in SQL for events, `view_of` for
attestations). An event counts only if the reader sees its time (`when`) and the category of
every field a measure reads (`why` for a business step, the identifier's own field for an
item, ...), so a partner that withholds its events from the defaults drops out of the numbers
instead of leaking through them. Every view is a read of the members' records, logged for their
owners (docs/design.md, "Coordinator views"): one `aggregate` entry per owner per view, naming
the view and how many of that owner's records it drew on (the coordinator's own records are not
logged to itself); the pledges the commitments view shows are also logged like any attestation
read. Sharing edges are the grants
themselves (who shares which categories with whom, never the data), as the coordinator that
sets the defaults needs them."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from service.db.models import (
    AnchorBatch,
    Attestation,
    AttestationSchema,
    ChainRevocation,
    Constellation,
    EpcisEvent,
    EventIdentifier,
    Member,
    SharingGrant,
)
from service.domain.attestations import Readable, body_path, view_of
from service.domain.claim_status import claim_statuses
from service.domain.constellations import get_constellation, members_of
from service.domain.gs1 import ITEM_PREFIX, item_of, item_subjects
from service.domain.policy import EVIDENCE, Access, Decision, GrantTerms, is_live, write_log
from service.domain.provenance import ITEM_ROLES
from service.epcis.analysis import ROLE_FIELDS
from service.epcis.categories import category_of
from service.epcis.identifiers import canonical_id
from service.errors import NotAuthenticated, NotFound, PolicyDenied, ValidationFailed
from service.roles import Role

COVERAGE_ROLES = ("epc", "quantity", "output", "output_quantity")
"""Where an event names the goods it is about (not the containers, parties or inputs)."""
SHIPPING = "shipping"
COMPLETE_TYPES = ("ObjectEvent", "TransformationEvent")
"""The events whose business step, disposition, read point and location a partner should record."""
CERTIFICATION, FOOTPRINT, COMMITMENT = "certification", "product-carbon-footprint", "commitment"
DAY_SECONDS = 86_400
REVOCATION_PENALTY = 10
EVERYONE, PUBLIC = "everyone", "public"
MAX_WEEKS = 520
VIEWS = ("map", "metrics", "scorecards", "commitments", "coordinator")
"""The views logged as reads: the four JSON views and the coordinator's page (all four at once)."""
EVENT_CATEGORIES_READ = {
    "map": ("what", "when", "why", "quantities"),
    "commitments": ("what", "when", "quantities"),
}
"""The event categories a view reads (the others read every measured one)."""
MEASURED = ("what", "when", "where", "why", "quantities")


# --- pure helpers ---------------------------------------------------------------------------


def lot_gtin(identifier: str) -> str | None:
    """The GTIN of a lot (…/01/{gtin}/10/{lot}); None for a class, a unit or anything else."""
    key = item_of(identifier)
    return key.gtin if key is not None and key.lot is not None and key.serial is None else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile (q in 0..1): a value that occurred, no interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _r(value: float | None) -> float | None:
    """A share as the views show it (scores are computed from the unrounded value)."""
    return round(value, 4) if value is not None else None


def iso_weeks(now: datetime, weeks: int) -> list[tuple[str, datetime]]:
    """The last `weeks` ISO weeks up to the one holding `now`, oldest first: (label, Monday 00:00 UTC)."""
    today = now.astimezone(UTC).date()
    monday = datetime.combine(today - timedelta(days=today.weekday()), time.min, UTC)
    starts = [monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    return [(_week_label(start.date()), start) for start in starts]


def _week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def deadline_end(deadline: date) -> datetime:
    """A deadline day ends at the following midnight (UTC): a pledge for 30 June has all of it."""
    if deadline >= date.max:  # the schema lets 9999-12-31 through: its end is the end of time
        return datetime.max.replace(tzinfo=UTC)
    return datetime.combine(deadline + timedelta(days=1), time.min, UTC)


def elapsed_share(*, created: datetime, deadline: date, now: datetime) -> float:
    """How much of a pledge's time has gone by, 0 to 1 (1: a deadline before the pledge)."""
    end = deadline_end(deadline)
    if end <= created:
        return 1.0
    return min(1.0, max(0.0, (now - created) / (end - created)))


def pledge_status(*, progress: float, target: float, created: datetime, deadline: date, now: datetime) -> str:
    """met (progress reached the target) · missed (the deadline passed first) · on track
    (progress at least the target times the share of the pledge's time gone by) · behind."""
    if progress >= target:
        return "met"
    if now >= deadline_end(deadline):
        return "missed"
    return "on track" if progress >= target * elapsed_share(created=created, deadline=deadline, now=now) else "behind"


def member_score(
    *, timeliness: float | None, completeness: float | None, coverage: float | None, revocations: int
) -> int | None:
    """0-100: the mean of the partner's measurable shares — events captured within 24 h,
    data completeness, certification coverage of its items — times 100 and rounded, minus
    REVOCATION_PENALTY points per revoked attestation it issued, floored at 0. None when
    none is measurable (no events the reader sees): a partner is not scored on nothing."""
    parts = [p for p in (timeliness, completeness, coverage) if p is not None]
    if not parts:
        return None
    return max(0, round(100 * sum(parts) / len(parts)) - REVOCATION_PENALTY * revocations)


def _stamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def _seconds(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


# --- who is a partner -----------------------------------------------------------------------


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    address: str
    roles: int

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "address": self.address, "roles": Role.names(self.roles)}


def partners_of(session: Session, cid: str) -> list[Partner]:
    """The constellation's members now, by name. The relayer's anchorer-only account is the
    service's, not a partner of the chain."""
    memberships = [m for m in members_of(session=session, cid=cid) if m.roles != Role.ANCHORER]
    by_address = {
        m.address: m
        for m in session.scalars(select(Member).where(Member.address.in_([m.address for m in memberships])))
    }
    found = [
        Partner(by_address[m.address].id, by_address[m.address].name, m.address, m.roles)
        for m in memberships
        if m.address in by_address
    ]
    return sorted(found, key=lambda p: (p.name.casefold(), p.id))


# --- the views ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    owner_id: str
    event_time: datetime
    record_time: datetime
    anchored_at: datetime | None
    record: str


class Health:
    """The health views of one constellation for one reader at one moment. Each fact is read
    once and shared by the views that use it (a page shows them all)."""

    def __init__(self, session: Session, access: Access, cid: str, now: datetime | None = None) -> None:
        self.session = session
        self.access = access
        self.cid = cid
        self.now = now or access.now

    # --- the reader's view of the records, in SQL -------------------------------------------

    def _seen(self, event: Any, *categories: str) -> ColumnElement[bool]:
        """SQL: the reader sees the event's time and these categories of it."""
        return self.access.sees_all(("when", *categories), event.owner_id, event.constellation)

    def _named(self, identifier: Any, event: Any, roles: Iterable[str]) -> ColumnElement[bool]:
        """SQL: the identifier is named in one of `roles`, in a field of the event the reader sees."""
        by_category: dict[str, list[str]] = defaultdict(list)
        for role in roles:
            by_category[category_of(ROLE_FIELDS[role])].append(role)
        return or_(
            *(
                and_(identifier.role.in_(named), self.access.sees(category, event.owner_id, event.constellation))
                for category, named in sorted(by_category.items())
            )
        )

    # --- facts ------------------------------------------------------------------------------

    @cached_property
    def constellation(self) -> Constellation:
        row = self.session.get(Constellation, self.cid)
        if row is None:
            raise NotFound(f"no constellation {self.cid}")
        return row

    @cached_property
    def partners(self) -> list[Partner]:
        return partners_of(self.session, self.cid)

    @cached_property
    def events(self) -> list[_Event]:
        """Every event of the constellation whose time the reader sees, with when its batch
        was anchored (None: not yet)."""
        query = (
            select(
                EpcisEvent.owner_id,
                EpcisEvent.event_time,
                EpcisEvent.record_time,
                AnchorBatch.anchored_at,
                EpcisEvent.id,
            )
            .outerjoin(AnchorBatch, and_(AnchorBatch.id == EpcisEvent.batch_id, AnchorBatch.status == "anchored"))
            .where(EpcisEvent.constellation == self.cid, self._seen(EpcisEvent))
        )
        return [_Event(*row) for row in self.session.execute(query)]

    @cached_property
    def items(self) -> dict[str, set[str]]:
        """Per owner, the GS1 items (GTIN-based: classes, lots, units) its visible events are about."""
        return {owner: {identifier for identifier, _ in named} for owner, named in self._item_events.items()}

    @cached_property
    def _item_events(self) -> dict[str, set[tuple[str, str]]]:
        """Per owner, (item, event record) for the items its visible events are about."""
        query = (
            select(EpcisEvent.owner_id, EventIdentifier.identifier, EpcisEvent.id)
            .join(EpcisEvent, EpcisEvent.id == EventIdentifier.record_id)
            .where(
                EpcisEvent.constellation == self.cid,
                EventIdentifier.role.in_(COVERAGE_ROLES),
                EventIdentifier.identifier.startswith(ITEM_PREFIX, autoescape=True),
                self._seen(EpcisEvent),
                self._named(EventIdentifier, EpcisEvent, COVERAGE_ROLES),
            )
            .distinct()
        )
        found: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for owner_id, identifier, record in self.session.execute(query):
            found[owner_id].add((identifier, record))
        return found

    @cached_property
    def completeness_counts(self) -> dict[str, tuple[int, int, int, int, int, int]]:
        """Per owner, over its visible Object and Transformation events: how many show the reader
        their `why` and of those how many have a business step and a disposition; how many
        show `where` and of those how many have a read point and a business location."""
        why = self.access.sees("why", EpcisEvent.owner_id, EpcisEvent.constellation)
        where = self.access.sees("where", EpcisEvent.owner_id, EpcisEvent.constellation)

        def counted(condition: ColumnElement[bool]) -> Any:
            return func.count(case((condition, 1)))

        query = (
            select(
                EpcisEvent.owner_id,
                counted(why),
                counted(and_(why, EpcisEvent.biz_step.is_not(None))),
                counted(and_(why, EpcisEvent.disposition.is_not(None))),
                counted(where),
                counted(and_(where, EpcisEvent.read_point.is_not(None))),
                counted(and_(where, EpcisEvent.biz_location.is_not(None))),
            )
            .where(
                EpcisEvent.constellation == self.cid,
                EpcisEvent.event_type.in_(COMPLETE_TYPES),
                self._seen(EpcisEvent),
            )
            .group_by(EpcisEvent.owner_id)
        )
        return {row[0]: (row[1], row[2], row[3], row[4], row[5], row[6]) for row in self.session.execute(query)}

    @cached_property
    def readables(self) -> list[tuple[Readable, bool]]:
        """The constellation's attestations the reader sees something of, each with whether its
        schema is a built-in one (a custom schema may share a built-in's name, never its meaning)."""
        query = (
            select(Attestation, AttestationSchema.name, AttestationSchema.builtin)
            .join(AttestationSchema, AttestationSchema.uid == Attestation.schema_uid)
            .where(
                Attestation.constellation == self.cid,
                or_(
                    self.access.may_see_some("attestation", Attestation.issuer_id, Attestation.constellation),
                    self.access.sees(EVIDENCE, Attestation.issuer_id, Attestation.constellation),
                ),
            )
            .order_by(Attestation.created_at, Attestation.uid)
        )
        found = []
        for row, name, builtin in self.session.execute(query):
            item = view_of(self.access, row, name)
            if item is not None:
                found.append((item, bool(builtin)))
        return found

    def of_schema(self, name: str) -> list[Readable]:
        return [item for item, builtin in self.readables if builtin and item.schema_name == name]

    @cached_property
    def statuses(self) -> dict[str, str]:
        """The status (valid, revoked, ...) of the attestations the views weigh."""
        weighed = [(item.row, name) for name in (CERTIFICATION, FOOTPRINT, COMMITMENT) for item in self.of_schema(name)]
        found = claim_statuses(session=self.session, claims=weighed, now=self.now)
        return {uid: status.state for uid, status in found.items()}

    @cached_property
    def revoked(self) -> set[str]:
        """The constellation's attestations revoked on chain (the relay's record or the mirror)."""
        mirrored = set(
            self.session.scalars(select(ChainRevocation.uid).where(ChainRevocation.constellation == self.cid))
        )
        return mirrored | {item.row.uid for item, _ in self.readables if item.row.revoked_tx is not None}

    @cached_property
    def certifications(self) -> dict[str, list[str | None]]:
        """Per subject (canonical), the standards of its valid certifications the reader sees
        (None: the standard is withheld from the reader)."""
        found: dict[str, list[str | None]] = defaultdict(list)
        for item in self.of_schema(CERTIFICATION):
            if self.statuses[item.row.uid] != "valid":
                continue
            standard = item.row.body.get("standard") if _shows(item, "standard") else None
            found[canonical_id(item.row.subject)].append(standard if isinstance(standard, str) else None)
        return found

    def certified(self, identifier: str, standard: str | None = None) -> bool:
        """Whether the item, its lot or its class holds a valid certification (of `standard`)."""
        return any(
            standard is None or standard in self.certifications.get(subject, ())
            for subject in item_subjects(identifier)
            if subject in self.certifications
        )

    # --- the map ----------------------------------------------------------------------------

    def _flow_query(self, pick: Callable[[Any, Any, Any], tuple[Any, ...]]) -> Any:
        """Shipments `ship` and the later events `later` of another member naming one of their
        items, as the reader sees both (`out` and `into`: the identifier rows that join them)."""
        ship, later = aliased(EpcisEvent), aliased(EpcisEvent)
        out, into = aliased(EventIdentifier), aliased(EventIdentifier)
        return (
            select(*pick(ship, later, out))
            .select_from(ship)
            .join(out, out.record_id == ship.id)
            .join(into, and_(into.identifier == out.identifier, into.role.in_(ITEM_ROLES)))
            .join(later, later.id == into.record_id)
            .where(
                ship.constellation == self.cid,
                ship.biz_step == SHIPPING,
                out.role.in_(ITEM_ROLES),
                later.constellation == self.cid,
                later.owner_id != ship.owner_id,
                later.event_time > ship.event_time,
                self._seen(ship, "why"),
                self._seen(later),
                self._named(out, ship, ITEM_ROLES),
                self._named(into, later, ITEM_ROLES),
            )
        )

    def flows(self) -> list[tuple[str, str, int]]:
        """(shipper, later holder, items): A shipped items that B later recorded an event about,
        counted once per item; both events as the reader sees them (the shipment's time, step
        and the field naming the item; the later event's time and field naming it)."""
        query = self._flow_query(
            lambda ship, later, out: (ship.owner_id, later.owner_id, func.count(out.identifier.distinct()))
        )
        query = query.group_by(query.selected_columns[0], query.selected_columns[1])
        return sorted((a, b, int(n)) for a, b, n in self.session.execute(query))

    def flow_records(self) -> dict[str, set[str]]:
        """Per owner, the events `flows` drew on (shipments and the later events naming their items)."""
        query = self._flow_query(lambda ship, later, out: (ship.owner_id, ship.id, later.owner_id, later.id)).distinct()
        found: dict[str, set[str]] = defaultdict(set)
        for shipper, shipment, holder, record in self.session.execute(query):
            found[shipper].add(shipment)
            found[holder].add(record)
        return found

    def map(self) -> dict[str, Any]:
        """Nodes: the partners, and the audiences beyond them that grants reach (every member,
        the public, members outside the constellation). Edges: `flow` (goods shipped from A
        that B later handled, weight = items), `sharing` (A's live grants reaching B, weight =
        categories) and `default` (the coordinator's live defaults)."""
        partners = {p.id: p for p in self.partners}
        nodes: dict[str, dict[str, Any]] = {p.id: {**p.as_json(), "kind": "member"} for p in self.partners}
        edges = [
            {"kind": "flow", "source": a, "target": b, "weight": n, "items": n}
            for a, b, n in self.flows()
            if a in partners and b in partners
        ]
        shared: dict[tuple[str, str, str], dict[str, Any]] = {}
        for grant in self._live_grants():
            owner = partners.get(grant.owner_id)
            if owner is None or (grant.is_default and not owner.roles & Role.COORDINATOR):
                continue  # a former member's grants show nothing here; defaults lapse with the role
            kind = "default" if grant.is_default else "sharing"
            for target in self._audience_nodes(grant, nodes):
                if target == owner.id:
                    continue
                edge = shared.setdefault(
                    (kind, owner.id, target),
                    {
                        "kind": kind,
                        "source": owner.id,
                        "target": target,
                        "categories": set(),
                        "audiences": set(),
                        "grants": 0,
                    },
                )
                edge["categories"].update(grant.categories)
                edge["audiences"].add(
                    f"role:{grant.audience_value}" if grant.audience_kind == "role" else grant.audience_kind
                )
                edge["grants"] += 1
        for key in sorted(shared):
            edge = shared[key]
            edges.append(
                {
                    **edge,
                    "weight": len(edge["categories"]),
                    "categories": sorted(edge["categories"]),
                    "audiences": sorted(edge["audiences"]),
                }
            )
        members = [n for n in nodes.values() if n["kind"] == "member"]
        others = sorted((n for n in nodes.values() if n["kind"] != "member"), key=_other_order)
        return {"constellation": self._about(), "nodes": members + others, "edges": edges}

    def _live_grants(self) -> list[SharingGrant]:
        rows = self.session.scalars(
            select(SharingGrant)
            .where(SharingGrant.constellation == self.cid, SharingGrant.effect == "share")
            .order_by(SharingGrant.created_at, SharingGrant.id)
        )
        return [row for row in rows if is_live(GrantTerms.of(row), self.now)]

    def _audience_nodes(self, grant: SharingGrant, nodes: dict[str, dict[str, Any]]) -> list[str]:
        """The nodes a grant's audience stands for, adding the pseudo-nodes it needs."""
        if grant.audience_kind in ("constellation", "public"):
            node = EVERYONE if grant.audience_kind == "constellation" else PUBLIC
            label = "Every member" if node == EVERYONE else "The public"
            nodes.setdefault(node, {"id": node, "name": label, "kind": "audience", "roles": []})
            return [node]
        if grant.audience_kind == "role":
            bit = Role.NAMES.get(grant.audience_value or "", 0)
            return [p.id for p in self.partners if p.roles & bit]
        if grant.audience_value in nodes:
            return [grant.audience_value]
        outsider = self.session.get(Member, grant.audience_value) if grant.audience_value else None
        if outsider is None:
            return []
        nodes[outsider.id] = {
            "id": outsider.id,
            "name": outsider.name,
            "address": outsider.address,
            "kind": "outsider",
            "roles": [],
        }
        return [outsider.id]

    def _about(self) -> dict[str, Any]:
        row = self.constellation
        return {"id": row.id, "slug": row.slug, "name": row.name}

    # --- metrics ----------------------------------------------------------------------------

    def completeness(self, owner_id: str | None = None) -> dict[str, Any]:
        """The share of the four context fields present, averaged over the fields measurable
        (each over the events showing the reader that field's category); of one owner or all."""
        rows = [c for o, c in self.completeness_counts.items() if owner_id is None or o == owner_id]
        why, step, disposition, where, point, location = (sum(row[i] for row in rows) for i in range(6))
        ratios = {
            "biz_step": ratio(step, why),
            "disposition": ratio(disposition, why),
            "read_point": ratio(point, where),
            "biz_location": ratio(location, where),
        }
        measured = [r for r in ratios.values() if r is not None]
        return {"share": sum(measured) / len(measured) if measured else None, **ratios}

    def coverage(self, items: set[str]) -> dict[str, Any]:
        certified = sum(1 for item in items if self.certified(item))
        return {"items": len(items), "certified": certified, "share": ratio(certified, len(items))}

    def metrics(self, weeks: int = 12) -> dict[str, Any]:
        """The chain at a glance: members, events per ISO week, certification coverage, data
        completeness, anchoring lag, carbon per declared unit and the chain's score (its
        weakest partner's)."""
        if not 1 <= weeks <= MAX_WEEKS:
            raise ValidationFailed(f"weeks must be 1 to {MAX_WEEKS}")
        windows = iso_weeks(self.now, weeks)
        per_week = Counter(
            _week_label(e.event_time.date()) for e in self.events if windows[0][1] <= e.event_time <= self.now
        )
        lags = [(e.anchored_at - e.record_time).total_seconds() for e in self.events if e.anchored_at is not None]
        cards = self.scorecards()
        scored = [c["score"] for c in cards if c["score"] is not None]
        return {
            "constellation": self._about(),
            "as_of": _stamp(self.now),
            "members": len(self.partners),
            "events": {
                "total": len(self.events),
                "per_week": [
                    {"week": label, "starts": start.date().isoformat(), "events": per_week[label]}
                    for label, start in windows
                ],
            },
            "certification_coverage": _rounded(self.coverage(set().union(*self.items.values()))),
            "data_completeness": _rounded(self.completeness()),
            "anchoring": {
                "anchored": len(lags),
                "unanchored": len(self.events) - len(lags),
                "median_lag_seconds": _seconds(statistics.median(lags)) if lags else None,
                "p95_lag_seconds": _seconds(percentile(lags, 0.95)),
            },
            "carbon": self.carbon(),
            "chain_score": min(scored) if scored else None,
            "weakest": [c["member"]["id"] for c in cards if c["weakest"]],
        }

    def carbon(self) -> list[dict[str, Any]]:
        """The mean PACT footprint (kgCO2e, biogenic excluded) per declared unit, over the valid
        footprints of the constellation whose unit and value the reader sees."""
        values: dict[str, list[float]] = defaultdict(list)
        for item in self.of_schema(FOOTPRINT):
            body = item.row.body
            if self.statuses[item.row.uid] != "valid" or not (
                _shows(item, "declaredUnit") and _shows(item, "pCfExcludingBiogenic")
            ):
                continue
            unit, value = body.get("declaredUnit"), body.get("pCfExcludingBiogenic")
            if isinstance(unit, str) and isinstance(value, int | float):
                values[unit].append(float(value))
        return [
            {
                "declared_unit": unit,
                "mean_kgco2e": round(statistics.fmean(found), 6),
                "footprints": len(found),
            }
            for unit, found in sorted(values.items())
        ]

    # --- scorecards -------------------------------------------------------------------------

    @cached_property
    def _cards(self) -> list[dict[str, Any]]:
        by_owner: dict[str, list[_Event]] = defaultdict(list)
        for event in self.events:
            by_owner[event.owner_id].append(event)
        issued: Counter[str] = Counter(item.row.issuer_id for item, _ in self.readables)
        revoked: Counter[str] = Counter(
            item.row.issuer_id for item, _ in self.readables if item.row.uid in self.revoked
        )
        cards = [self._card(p, by_owner.get(p.id, []), issued[p.id], revoked[p.id]) for p in self.partners]
        scored = [c["score"] for c in cards if c["score"] is not None]
        lowest = min(scored) if scored else None
        for card in cards:
            card["weakest"] = lowest is not None and card["score"] == lowest
        return sorted(cards, key=lambda c: (c["score"] is None, c["score"] or 0, c["member"]["name"].casefold()))

    def _card(self, partner: Partner, events: list[_Event], issued: int, revocations: int) -> dict[str, Any]:
        lags = [(e.record_time - e.event_time).total_seconds() for e in events]
        timely = ratio(sum(1 for lag in lags if lag <= DAY_SECONDS), len(lags))
        completeness = self.completeness(partner.id)
        coverage = self.coverage(self.items.get(partner.id, set()))
        return {
            "member": partner.as_json(),
            "events": len(events),
            "timeliness": {
                "median_capture_lag_seconds": _seconds(statistics.median(lags)) if lags else None,
                "within_24h_share": _r(timely),
            },
            "completeness": _r(completeness["share"]),
            "certification_coverage": _rounded(coverage),
            "attestations_issued": issued,
            "revocations": revocations,
            "score": member_score(
                timeliness=timely,
                completeness=completeness["share"],
                coverage=coverage["share"],
                revocations=revocations,
            ),
        }

    def scorecards(self) -> list[dict[str, Any]]:
        """Per partner, weakest first (partners without a score last): events recorded,
        timeliness (median capture lag, share captured within 24 h), completeness, the
        certification coverage of its items, attestations issued, revocations among them, and a
        score (`member_score`); `weakest` marks the lowest score, the chain's."""
        return [dict(card) for card in self._cards]

    # --- commitments ------------------------------------------------------------------------

    def commitments(self, *, log: bool = True) -> list[dict[str, Any]]:
        """Every pledge the reader sees (a `commitment` its member issued about itself), with its
        attestation status, its progress — the share of the member's lots of the pledged GTINs,
        named in its visible events, holding a valid certification (of the pledged standard) —
        and how it stands: met, on track, behind or missed. Fields withheld from the reader are
        named, and a pledge whose terms are withheld has no progress. The pledges shown are
        logged as reads."""
        names = {p.id: p.name for p in self.partners}
        shown: list[Readable] = []
        found = []
        for item in self.of_schema(COMMITMENT):
            row = item.row
            if row.subject_kind != "member" or row.subject != f"urn:constellate:member:{row.issuer_id}":
                continue  # a member pledges for itself only
            shown.append(item)
            name = names.get(row.issuer_id) or self.session.scalar(
                select(Member.name).where(Member.id == row.issuer_id)
            )
            found.append(
                {
                    "uid": row.uid,
                    "member": {"id": row.issuer_id, "name": name},
                    "attestation_status": self.statuses[row.uid],
                    "created_at": _stamp(row.created_at),
                    **{snake: row.body.get(camel) for snake, camel in _PLEDGE_FIELDS.items() if _shows(item, camel)},
                    "withheld": item.withheld,
                    **self._progress(item),
                }
            )
        if log and shown:
            self.access.log(self.session, endpoint="coordination.commitments", decisions=[i.decision for i in shown])
        return found

    def _progress(self, item: Readable) -> dict[str, Any]:
        row, body = item.row, item.row.body
        unknown = {
            "progress_percent": None,
            "lots": None,
            "certified_lots": None,
            "expected_percent": None,
            "status": None,
        }
        if not all(_shows(item, key) for key in ("metric", "gtins", "targetPercent", "deadline")):
            return unknown
        if "standard" in body and not _shows(item, "standard"):
            return unknown
        listed, pledged, target_value = body.get("gtins"), body.get("standard"), body.get("targetPercent")
        if not isinstance(listed, list) or not isinstance(target_value, int | float):
            return unknown  # a body its schema let through always has both
        gtins = {str(gtin) for gtin in listed}
        standard = pledged if isinstance(pledged, str) else None
        lots = {i for i in self.items.get(row.issuer_id, set()) if lot_gtin(i) in gtins}
        certified = sum(1 for lot in lots if self.certified(lot, standard))
        progress = 100 * certified / len(lots) if lots else 0.0
        target = float(target_value)
        deadline = date.fromisoformat(str(body["deadline"]))
        elapsed = elapsed_share(created=row.created_at, deadline=deadline, now=self.now)
        return {
            "progress_percent": round(progress, 2),
            "lots": len(lots),
            "certified_lots": certified,
            "expected_percent": round(target * elapsed, 2),
            "status": pledge_status(
                progress=progress, target=target, created=row.created_at, deadline=deadline, now=self.now
            ),
        }

    # --- the access log ---------------------------------------------------------------------

    def drawn(self, view: str) -> dict[str, tuple[set[str], dict[str, int]]]:
        """Per owner, the records `view` drew on: event record ids, and attestations per schema."""
        events: dict[str, set[str]] = defaultdict(set)
        schemas: dict[str, Counter[str]] = defaultdict(Counter)
        if view == "map":
            events.update(self.flow_records())
        elif view == "commitments":
            pledged = {item.row.issuer_id for item in self.of_schema(COMMITMENT)}
            for owner in pledged:
                events[owner] = {record for _, record in self._item_events.get(owner, set())}
            for name in (CERTIFICATION, COMMITMENT):
                for item in self.of_schema(name):
                    schemas[item.row.issuer_id][name] += 1
        else:
            for event in self.events:
                events[event.owner_id].add(event.record)
            for item, _ in self.readables:
                schemas[item.row.issuer_id][item.schema_name] += 1
        owners = {o for o, found in events.items() if found} | set(schemas)
        return {owner: (events.get(owner, set()), dict(schemas.get(owner, {}))) for owner in owners}

    def log_view(self, view: str) -> None:
        """Logs `view` for every owner whose records it drew on, other than the reader: one
        `aggregate` entry naming the view, the categories it read of that owner's data and how
        many of its records (events and attestations) it drew on."""
        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}")
        slug = self.constellation.slug
        rows = []
        for owner, (records, schemas) in sorted(self.drawn(view).items()):
            if owner == self.access.reader.member_id:
                continue  # the coordinator reading its own records
            read = [
                *(EVENT_CATEGORIES_READ.get(view, MEASURED) if records else ()),
                *(f"attestation:{s}" for s in schemas),
            ]
            visible = self.access.visible(owner, self.cid, read)
            shown = sorted(read if visible is None else visible)
            decision = Decision(owner, self.cid, "aggregate", f"{view}:{slug}"[:80], shown, [], shown)
            (row,) = self.access.entries(endpoint=f"coordination.{view}", decisions=[decision])
            rows.append({**row, "records": len(records) + sum(schemas.values())})
        write_log(self.session, rows)


_PLEDGE_FIELDS = {  # as the views name them: the body's fields
    "metric": "metric",
    "standard": "standard",
    "gtins": "gtins",
    "target_percent": "targetPercent",
    "deadline": "deadline",
    "statement": "statement",
}


def _rounded(measure: dict[str, Any]) -> dict[str, Any]:
    return {key: _r(value) if isinstance(value, float) else value for key, value in measure.items()}


def _shows(item: Readable, key: str) -> bool:
    return item.shown is None or body_path(key) in item.shown


def _other_order(node: dict[str, Any]) -> tuple[int, str, str]:
    rank = {EVERYONE: 0, PUBLIC: 1}.get(node["id"], 2)
    return (rank, str(node["name"]).casefold(), node["id"])


# --- the functions routes and pages call ----------------------------------------------------


def constellation_map(*, session: Session, access: Access, cid: str, now: datetime | None = None) -> dict[str, Any]:
    return Health(session, access, cid, now).map()


def metrics(
    *, session: Session, access: Access, cid: str, weeks: int = 12, now: datetime | None = None
) -> dict[str, Any]:
    return Health(session, access, cid, now).metrics(weeks)


def scorecards(*, session: Session, access: Access, cid: str, now: datetime | None = None) -> list[dict[str, Any]]:
    return Health(session, access, cid, now).scorecards()


def commitments(*, session: Session, access: Access, cid: str, now: datetime | None = None) -> list[dict[str, Any]]:
    return Health(session, access, cid, now).commitments()


def coordinated(*, session: Session, access: Access, slug: str, now: datetime | None = None) -> Health:
    """The health views of a constellation, for a member that coordinates it now (or the
    operator): 401 without credentials, 404 for an unknown slug, 403 for anyone else."""
    if access.reader.member_id is None:
        raise NotAuthenticated("the coordinator's views need an API key (Authorization: Bearer ... or X-API-Key)")
    constellation = get_constellation(session=session, slug=slug)
    held = access.reader.roles.get(constellation.id, 0)
    if not (access.reader.operator or held & Role.COORDINATOR):
        roles = ", ".join(Role.names(held)) or "no role"
        raise PolicyDenied(f"only a coordinator of {slug!r} sees its health views; you hold {roles} there")
    return Health(session, access, constellation.id, now)


def coordinator_view(
    *, session: Session, access: Access, slug: str, now: datetime | None = None, weeks: int = 12
) -> dict[str, Any]:
    """Everything the coordinator's page shows, after the same check as the JSON routes."""
    health = coordinated(session=session, access=access, slug=slug, now=now)
    mapped = health.map()
    view = {
        "constellation": mapped["constellation"],
        "map": mapped,
        "svg": map_svg(mapped),
        "metrics": health.metrics(weeks),
        "scorecards": health.scorecards(),
        "commitments": health.commitments(),
    }
    health.log_view("coordinator")
    return view


def read_view(
    *, session: Session, access: Access, slug: str, view: str, weeks: int = 12, now: datetime | None = None
) -> Any:
    """One of the JSON views (map, metrics, scorecards, commitments), logged for the owners of
    the records it drew on, after the same check as the page."""
    health = coordinated(session=session, access=access, slug=slug, now=now)
    found: Any = {
        "map": health.map,
        "metrics": lambda: health.metrics(weeks),
        "scorecards": health.scorecards,
        "commitments": health.commitments,
    }[view]()
    health.log_view(view)
    return found


# --- the map as SVG -------------------------------------------------------------------------

WIDTH, HEIGHT, CENTRE_X, CENTRE_Y, RING = 900, 760, 450.0, 370.0, 250.0
STAR_OUTER, STAR_INNER, CIRCLE = 20.0, 8.5, 12.0
COLOURS = {"flow": "#1f5fa8", "sharing": "#6b7280", "default": "#b26a00"}
VERBS = {"flow": "shipped to", "sharing": "shares with", "default": "shares by default with"}


def star_points(x: float, y: float, outer: float = STAR_OUTER, inner: float = STAR_INNER) -> str:
    """A five-point star centred on (x, y), first point up: the `points` of its polygon."""
    corners = []
    for k in range(10):
        radius = outer if k % 2 == 0 else inner
        angle = -math.pi / 2 + k * math.pi / 5
        corners.append(f"{_n(x + radius * math.cos(angle))},{_n(y + radius * math.sin(angle))}")
    return " ".join(corners)


def _n(value: float) -> str:
    """A coordinate, rounded so the same map always draws the same bytes."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    """Text as XML character data: escaped, without the characters XML cannot hold."""
    return escape(_NOT_XML.sub("", value))


def _attr(value: str) -> str:
    return escape(_NOT_XML.sub("", value), {'"': "&quot;"})


def _layout(nodes: list[dict[str, Any]]) -> dict[str, tuple[float, float, float]]:
    """(x, y, angle) of each node: partners on a ring, the other audiences on an inner ring."""
    members = [n for n in nodes if n["kind"] == "member"]
    others = [n for n in nodes if n["kind"] != "member"]
    found: dict[str, tuple[float, float, float]] = {}
    for ring, group in ((RING, members), (RING * 0.32, others)):
        radius = 0.0 if len(group) == 1 and ring != RING else ring
        for i, node in enumerate(group):
            angle = -math.pi / 2 + 2 * math.pi * i / max(1, len(group))
            found[node["id"]] = (CENTRE_X + radius * math.cos(angle), CENTRE_Y + radius * math.sin(angle), angle)
    return found


def _edge_path(start: tuple[float, float], end: tuple[float, float], bend: float, margins: tuple[float, float]) -> str:
    """A quadratic curve from start to end, bent to the left of its direction (so A→B and
    B→A, and flows and grants between the same pair, do not overlap), stopping short of the
    target's star so the arrowhead shows."""
    (x1, y1), (x2, y2) = start, end
    dx, dy = x2 - x1, y2 - y1
    cx, cy = (x1 + x2) / 2 - dy * bend, (y1 + y2) / 2 + dx * bend
    sx, sy = _towards((x1, y1), (cx, cy), margins[0] + 2)
    ex, ey = _towards((x2, y2), (cx, cy), margins[1] + 4)
    return f"M{_n(sx)},{_n(sy)} Q{_n(cx)},{_n(cy)} {_n(ex)},{_n(ey)}"


def _towards(point: tuple[float, float], to: tuple[float, float], distance: float) -> tuple[float, float]:
    """The point `distance` away from `point` in the direction of `to`."""
    dx, dy = to[0] - point[0], to[1] - point[1]
    length = math.hypot(dx, dy) or 1.0
    return point[0] + dx / length * distance, point[1] + dy / length * distance


def _edge_title(edge: dict[str, Any], names: dict[str, str]) -> str:
    source, target = names.get(edge["source"], edge["source"]), names.get(edge["target"], edge["target"])
    if edge["kind"] == "flow":
        return f"{source} shipped to {target}: {edge['weight']} item{'s' if edge['weight'] != 1 else ''}"
    categories = ", ".join(edge.get("categories", []))
    return f"{source} {VERBS[edge['kind']]} {target}: {categories}"


def map_svg(mapped: dict[str, Any]) -> str:
    """The map as a self-contained SVG (no fonts, scripts or links to fetch): partners as stars
    on a ring, labelled with their names and roles; flows as solid arrows and sharing as dashed
    ones, as thick as their weight; a <title> on every element for screen readers. The same map
    always gives the same bytes."""
    nodes: list[dict[str, Any]] = mapped["nodes"]
    edges: list[dict[str, Any]] = mapped["edges"]
    names = {n["id"]: str(n["name"]) for n in nodes}
    at = _layout(nodes)
    radius = {n["id"]: STAR_OUTER if n["kind"] == "member" else CIRCLE for n in nodes}
    heaviest = {kind: max((e["weight"] for e in edges if e["kind"] == kind), default=1) or 1 for kind in COLOURS}
    about = mapped.get("constellation", {})
    members = sum(1 for n in nodes if n["kind"] == "member")
    flows = sum(1 for e in edges if e["kind"] == "flow")
    label = (
        f"Map of the constellation {about.get('name', '')}: {members} member{'s' if members != 1 else ''}, "
        f"{flows} flow{'s' if flows != 1 else ''} of goods, {len(edges) - flows} sharing link"
        f"{'s' if len(edges) - flows != 1 else ''}"
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{_attr(label)}" font-family="sans-serif" font-size="13">',
        f"<title>{_text(label)}</title>",
        "<defs>",
        *(
            f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" '
            f'markerWidth="14" markerHeight="14" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
            for kind, colour in COLOURS.items()
        ),
        "</defs>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        '<g class="edges" fill="none"><title>Flows of goods and sharing of data</title>',
    ]
    for edge in edges:
        if edge["source"] not in at or edge["target"] not in at:
            continue
        kind = edge["kind"]
        x1, y1, _ = at[edge["source"]]
        x2, y2, _ = at[edge["target"]]
        width = 1.5 + 4.5 * edge["weight"] / heaviest[kind]
        dash = "" if kind == "flow" else ' stroke-dasharray="7 5"'
        bend = 0.12 if kind == "flow" else 0.24
        out.append(
            f'<g class="edge {kind}"><title>{_text(_edge_title(edge, names))}</title>'
            f'<path d="{_edge_path((x1, y1), (x2, y2), bend, (radius[edge["source"]], radius[edge["target"]]))}" stroke="{COLOURS[kind]}" stroke-width="{_n(width)}"'
            f'{dash} marker-end="url(#arrow-{kind})"/></g>'
        )
    out.append("</g>")
    out.append('<g class="nodes"><title>Members</title>')
    for node in nodes:
        x, y, angle = at[node["id"]]
        roles = ", ".join(node.get("roles") or [])
        title = f"{node['name']} ({roles})" if roles else str(node["name"])
        if node["kind"] == "member":
            shape = f'<polygon points="{star_points(x, y)}" fill="#f2c14e" stroke="#7a5a00" stroke-width="1.5"/>'
            text = _label(x, y, angle, str(node["name"]), roles)
        else:
            shape = f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(CIRCLE)}" fill="#e5e7eb" stroke="#4b5563" stroke-width="1.5"/>'
            text = (
                f'<text x="{_n(x)}" y="{_n(y + 28)}" text-anchor="middle" fill="#374151">'
                f"{_text(str(node['name']))}</text>"
            )
        out.append(f'<g class="node {node["kind"]}"><title>{_text(title)}</title>{shape}{text}</g>')
    out.append("</g>")
    out.extend(_legend())
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _label(x: float, y: float, angle: float, name: str, roles: str) -> str:
    """A partner's name and roles, outside the ring, anchored away from the centre."""
    cos, sin = math.cos(angle), math.sin(angle)
    anchor = "start" if cos > 0.3 else "end" if cos < -0.3 else "middle"
    lx, ly = x + (STAR_OUTER + 10) * cos, y + (STAR_OUTER + 10) * sin + 4
    if sin > 0.3:
        ly += 10
    elif sin < -0.3:
        ly -= 14
    lines = f'<tspan x="{_n(lx)}" y="{_n(ly)}" font-weight="bold">{_text(name)}</tspan>'
    if roles:
        lines += f'<tspan x="{_n(lx)}" y="{_n(ly + 15)}" fill="#4b5563" font-size="11">{_text(roles)}</tspan>'
    return f'<text text-anchor="{anchor}" fill="#111827">{lines}</text>'


def _legend() -> list[str]:
    top = HEIGHT - 74
    rows = [
        ("flow", "goods shipped (width: items)"),
        ("sharing", "data shared (width: categories)"),
        ("default", "constellation defaults"),
    ]
    out = ['<g class="legend"><title>Legend</title>']
    for i, (kind, text) in enumerate(rows):
        y = top + 22 * i
        dash = "" if kind == "flow" else ' stroke-dasharray="7 5"'
        out.append(
            f'<line x1="20" y1="{y}" x2="60" y2="{y}" stroke="{COLOURS[kind]}" stroke-width="3"{dash}/>'
            f'<text x="70" y="{y + 4}" fill="#374151" font-size="12">{_text(text)}</text>'
        )
    out.append("</g>")
    return out
