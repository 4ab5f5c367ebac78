"""A product's journey as one reader may see it: the lineage of an item back to its origins
(through transformations and the containers it travelled in), every step recorded about it, the
ESG claims about its items, its makers and its places, and a carbon footprint rolled up from
the PACT footprints of its inputs.

Everything is read through the policy engine: a journey shows the public what owners made
public and a brand what was shared with it, and nothing reveals a record the reader may not
see. One journey read is logged once per owner whose records it showed (what was shown and
withheld, on which grants), not once per record: the page is one read.

Who speaks for the item is decided (service/domain/speakers.py): its steps are its brand's and
its brand's constellations'; anyone else's events about it are observations, kept apart and
never the item's status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.db.models import EpcisEvent, EventIdentifier, Product
from service.domain import attestations, disclosure, journey_claims, provenance
from service.domain.claim_status import DISPUTE_SCHEMA, ClaimStatus, claim_statuses
from service.domain.company_prefixes import brand_of
from service.domain.completeness import Completeness, completeness_of
from service.domain.disclosure import AnchorRef, EventView
from service.domain.event_items import named_items
from service.domain.footprints import (
    FOOTPRINT_SCHEMA,
    Amount,
    Attested,
    Footprint,
    FootprintRollup,
    attested_footprint,
    per_unit,
    preferred,
)
from service.domain.gs1 import ItemKey, LocationKey, class_of, gln_of, item_of, lot_of
from service.domain.policy import Access, Decision
from service.domain.speakers import Speakers, speakers_of
from service.domain.view_format import RECORD_KEY
from service.epcis import policy as epcis_policy
from service.epcis.identifiers import canonical_id
from service.epcis.query import parse_time

RECALLED = "recalled"
DEFAULT_ADVICE = (
    "Do not eat or use this product. Return it to the shop where you bought it, or throw it away, "
    "and follow the brand's notice."
)
"""What a shopper should do about a recalled product when the recall does not say."""
RECALL_ADVICE = "recallAdvice"
"""The local name of an EPCIS extension field a recall event may carry its advice in (any namespace)."""


def location_subject(location: str) -> str | None:
    """The attestation subject of a place (its GLN), from a location identifier."""
    gln = gln_of(location)
    return LocationKey(gln).digital_link() if gln is not None else None


member_subject = journey_claims.member_subject


# --- the journey ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """What the item is now, as one who may say so stated it (the step that said it)."""

    state: str  # recalled
    view: EventView


@dataclass(frozen=True)
class Recall:
    """A recall of the item or of what it is made of or travelled in: the latest step that
    recalled something, everything still recalled, and the advice the recall gives (None: it
    gives none); `by_item`: the step that recalls each item (two recalls by two members name
    each its own)."""

    view: EventView
    items: list[str]
    advice: str | None
    by_item: dict[str, EventView] = field(default_factory=dict)

    def advice_of(self, item: str) -> str | None:
        """The advice of the recall of `item` (None: its recall gives none)."""
        view = self.by_item.get(item)
        return advice_of(view.document) if view is not None else None


@dataclass
class Journey:
    key: ItemKey
    identifier: str
    """The canonical Digital Link of the item."""
    product: Product | None
    brand_id: str | None
    """The member branding the GTIN (its approved company prefix); None: nobody does."""
    lineage: dict[str, int]
    """Every item the journey reaches upstream, with its depth (the item is 0)."""
    edges: list[provenance.Edge]
    containers: dict[str, str]
    """Container → the item it carried."""
    origins: list[str]
    steps: list[EventView]
    observations: list[EventView]
    """Others' events about the item: shown apart, labelled with their author, never its status."""
    status: Status | None
    recall: Recall | None
    claims: list[attestations.Readable]
    """Every claim shown, pledges among them (disputes show as their claim's status, not here)."""
    disputes: dict[str, attestations.Readable]
    """Per disputed claim: its earliest live dispute that the reader may see (who disputes it, and
    why where the disputer shares that)."""
    claim_facts: dict[str, journey_claims.ClaimFacts]
    pledges: list[journey_claims.Pledge]
    origin: dict[str, Any] | None
    footprint: Footprint
    products: dict[str, Product]
    """Master data of the lineage's GTINs, from their brands."""
    lots: list[str]
    """For a product class: the lots and units of it the reader may see."""
    truncated: bool
    built_at: datetime
    completeness: Completeness
    """The latest anchored record chains of the journey's items (docs/proof-format.md §7)."""

    @property
    def withheld(self) -> dict[str, dict[str, Any]]:
        """Per owner: how many fields of how many of its records the reader was not shown."""
        counts: dict[str, dict[str, Any]] = {}
        for view in self.steps + self.observations:
            block = view.document[RECORD_KEY]
            entry = counts.setdefault(block["owner"]["id"], {"name": block["owner"]["name"], "fields": 0, "records": 0})
            entry["fields"] += len(block["withheld"])
            entry["records"] += 1 if block["withheld"] else 0
        for claim in self.claims:
            entry = counts.setdefault(claim.row.issuer_id, {"name": "", "fields": 0, "records": 0})
            entry["fields"] += len(claim.withheld)
            entry["records"] += 1 if claim.withheld else 0
        return counts

    def log_decisions(self, ref: str) -> list[Decision]:
        """The read, once per owner and constellation: every field shown and withheld."""
        grouped: dict[tuple[str, str], tuple[set[str], set[str], set[str]]] = {}
        decisions = [v.decision for v in self.steps + self.observations] + [c.decision for c in self.claims]
        decisions += [d.decision for d in self.disputes.values()]
        for d in decisions:
            shown, withheld, categories = grouped.setdefault((d.owner_id, d.constellation), (set(), set(), set()))
            shown.update(d.shown)
            withheld.update(d.withheld)
            categories.update(d.shown_categories)
        return [
            Decision(owner, cid, "journey", ref, sorted(s), sorted(w), sorted(c))
            for (owner, cid), (s, w, c) in grouped.items()
        ]

    def next_change(self) -> datetime | None:
        """The next moment the journey changes by itself: a claim begins, expires or its dispute
        lapses; a pledge falls behind or misses its deadline."""
        moments = [f.status.changes_at for f in self.claim_facts.values()] + [p.changes_at for p in self.pledges]
        return min((m for m in moments if m is not None and m > self.built_at), default=None)

    def label(self, identifier: str) -> str:
        """An item as master data names it: its product's name and its lot or serial."""
        key = item_of(identifier)
        product = self.products.get(key.gtin) if key else None
        if key is None or product is None:
            return identifier
        return " · ".join(part for part in (product.name, key.lot, key.serial) if part)


def _time_of(view: EventView) -> tuple[int, datetime | str]:
    when = view.document.get("eventTime")
    return (0, parse_time("eventTime", when)) if when else (1, view.document[RECORD_KEY]["ref"])


def _recall_change(document: dict[str, Any]) -> bool | None:
    """True: the event says its items are recalled (its disposition, or a persistent disposition
    set); False: it lifts a recall (a persistent disposition unset); None: neither."""
    persistent = document.get("persistentDisposition") or {}
    if not isinstance(persistent, dict):
        persistent = {}
    unset = {epcis_policy.disposition_term(d) for d in persistent.get("unset") or () if isinstance(d, str)}
    if RECALLED in unset:
        return False
    said = {epcis_policy.disposition_term(d) for d in persistent.get("set") or () if isinstance(d, str)}
    disposition = document.get("disposition")
    if isinstance(disposition, str):
        said.add(epcis_policy.disposition_term(disposition))
    return True if RECALLED in said else None


def status_of(steps: list[EventView], about: set[str], speakers: Speakers) -> Status | None:
    """The item's status from its steps in time order: recalled from the latest step naming the
    item (its lot or class) by which one who may recall it says so, until one lifts it."""
    status: Status | None = None
    for view in steps:
        if not named_items(view.document) & about or not speakers.may_recall(view.row.owner_id, view.row.constellation):
            continue
        change = _recall_change(view.document)
        if change is True:
            status = Status(RECALLED, view)
        elif change is False:
            status = None
    return status


def advice_of(document: dict[str, Any]) -> str | None:
    """The advice a recall event carries in an extension field named `recallAdvice` (any namespace)."""
    for name, value in document.items():
        local = name.rsplit("/", 1)[-1].rsplit("#", 1)[-1].rsplit(":", 1)[-1]
        if local == RECALL_ADVICE and isinstance(value, str) and value.strip():
            return value.strip()[:1000]
    return None


def recall_of(steps: list[EventView], items: list[str], speakers: dict[str, Speakers], own: Speakers) -> Recall | None:
    """What of the item, its inputs and its containers is recalled now, from the steps in time
    order: an item is recalled by the latest step naming it (its lot or class) in which one who
    may recall it (its GTIN's brand or a coordinator of the brand's constellations; a container:
    the item's) says so, until one lifts it."""
    about = {item: {item, class_of(item), *([lot_of(item)] if lot_of(item) else [])} for item in items}
    held: dict[str, EventView] = {}
    for view in steps:
        change = _recall_change(view.document)
        if change is None:
            continue
        named = named_items(view.document)
        for item in items:
            key = item_of(item)
            may = speakers.get(key.gtin, own) if key else own
            if named & about[item] and may.may_recall(view.row.owner_id, view.row.constellation):
                if change:
                    held[item] = view
                else:
                    held.pop(item, None)
    if not held:
        return None
    latest = max(held.values(), key=_time_of)
    advice = next(
        (a for a in (advice_of(v.document) for v in sorted(held.values(), key=_time_of, reverse=True)) if a), None
    )
    recalled = [item for item in items if item in held]
    return Recall(latest, recalled, advice, {item: held[item] for item in recalled})


def _disputes_of(
    session: Session,
    claims: list[attestations.Readable],
    statuses: dict[str, ClaimStatus],
    disputes: list[attestations.Readable],
    now: datetime,
) -> dict[str, attestations.Readable]:
    """Per disputed claim, the earliest of its live disputes the reader may see (read under the
    same policy as every claim: one the reader may not see names nobody here)."""
    disputed = {c.row.uid: c.row for c in claims if statuses[c.row.uid].state == "disputed"}
    candidates = [
        d
        for d in disputes
        if d.row.ref_uid in disputed
        and (d.row.constellation, d.row.subject)
        == (disputed[d.row.ref_uid].constellation, disputed[d.row.ref_uid].subject)
    ]
    if not candidates:
        return {}
    own = claim_statuses(session=session, claims=[(d.row, d.schema_name) for d in candidates], now=now)
    found: dict[str, attestations.Readable] = {}
    for dispute in sorted(candidates, key=lambda d: (d.row.created_at, d.row.uid)):
        if own[dispute.row.uid].state == "valid":  # anchored, neither withdrawn nor lapsed
            found.setdefault(dispute.row.ref_uid, dispute)
    return found


def _vouchers(
    session: Session, subjects: set[str], brands: dict[str, str | None], speakers: Speakers
) -> dict[str, set[str]]:
    """Who may state the footprint of each of `subjects`: the member branding its GTIN, or one
    that recorded an event of the item's journey naming it (or, for a class, one of its lots).
    Whether a footprint counts is a question of who its issuer is, never of what else the
    reader may see, so the events are looked up whole here (the reader learns only that the
    footprint counts). Anyone else's footprint of someone else's product does not count (it
    still shows as a claim, and the roll-up says why not)."""
    trusted: dict[str, set[str]] = {"gtin:" + gtin: {brand} for gtin, brand in brands.items() if brand is not None}
    if not subjects:
        return trusted
    classes = sorted(s for s in subjects if item_of(s) is not None and class_of(s) == s)
    named = or_(
        EventIdentifier.identifier.in_(sorted(subjects)),
        *(EventIdentifier.identifier.startswith(c + "/", autoescape=True) for c in classes),
    )
    found = session.execute(
        select(EventIdentifier.identifier, EpcisEvent.owner_id)
        .join(EpcisEvent, EpcisEvent.id == EventIdentifier.record_id)
        .where(named, speakers.sql(EpcisEvent.owner_id, EpcisEvent.constellation))
        .distinct()
    ).all()
    for identifier, owner_id in found:
        for subject in (identifier, class_of(identifier)):
            trusted.setdefault(subject, set()).add(owner_id)
    return trusted


def _trusted(subject: str, trusted: dict[str, set[str]]) -> set[str]:
    key = item_of(subject)
    return trusted.get(subject, set()) | (trusted.get("gtin:" + key.gtin, set()) if key else set())


def _footprints(
    claims: list[attestations.Readable], facts: dict[str, journey_claims.ClaimFacts], trusted: dict[str, set[str]]
) -> dict[str, Attested]:
    """Per item (canonical), the footprint claim the roll-up weighs: one that counts (valid, a
    voucher's, its figure shown), else one that may yet, else the newest (to say why it does not)."""
    attested: dict[str, Attested] = {}
    for claim in claims:  # oldest first: a later one of the same standing replaces it
        row = claim.row
        if claim.schema_name != FOOTPRINT_SCHEMA:
            continue
        subject = canonical_id(row.subject)
        candidate = attested_footprint(
            uid=row.uid,
            status=facts[row.uid].status.state,
            body=row.body,
            shown=claim.shown,
            trusted=row.issuer_id in _trusted(subject, trusted),
        )
        attested[subject] = preferred(attested.get(subject), candidate)
    return attested


def _branded(session: Session, gtin: str, speakers: Speakers) -> Product | None:
    product = session.get(Product, gtin)
    return product if product is not None and product.owner_id == speakers.brand_id else None


def build(
    *,
    session: Session,
    access: Access,
    key: ItemKey,
    where: AnchorRef | None,
    max_depth: int = 25,
    max_nodes: int = 5_000,
) -> Journey:
    """The journey of `key` as `access`'s reader may see it (not logged: the caller logs
    `log_decisions`, once per page)."""
    now = access.now
    identifier = canonical_id(key.digital_link())
    starts = [identifier] + ([canonical_id(key.lot_key.digital_link())] if key.serial and key.lot else [])
    speakers = speakers_of(session=session, gtin=key.gtin)
    lineage: dict[str, int] = {}
    edges: list[provenance.Edge] = []
    truncated = False
    for start in starts:
        walked = provenance.trace(
            session=session,
            start=start,
            direction="upstream",
            access=access,
            endpoint="journey",
            max_depth=max_depth,
            max_nodes=max_nodes,
            log=False,
            speakers=speakers,
        )
        for node, depth in walked.nodes.items():
            lineage.setdefault(node, depth)
        edges += walked.edges
        truncated |= walked.truncated
    containers = provenance.containers_of(session=session, identifiers=list(lineage), access=access, speakers=speakers)
    rows = provenance.events_naming(session=session, identifiers=[*lineage, *containers], access=access)
    views = disclosure.render_events(session, access, rows, where=where, endpoint="journey", log=False)
    views.sort(key=_time_of)
    about = {*starts, class_of(identifier)}
    steps = [v for v in views if speakers.speaks(v.row.owner_id, v.row.constellation)]
    observations = [
        v for v in views if not speakers.speaks(v.row.owner_id, v.row.constellation) and named_items(v.document) & about
    ]
    sources = {e.source for e in edges}
    origins = [n for n in lineage if n not in sources and n not in starts] if edges else []

    items = set(lineage) | {class_of(n) for n in lineage}
    # claims name items as ItemKey writes them; events as EPCIS canonicalises them: ask for both
    subjects = items | {k.digital_link() for k in (item_of(n) for n in items) if k is not None}
    subjects |= {member_subject(v.row.owner_id) for v in steps}
    for view in steps:
        for name in ("bizLocation", "readPoint"):
            place = (view.document.get(name) or {}).get("id")
            located = location_subject(place) if isinstance(place, str) else None
            if located:
                subjects.add(located)
    found = attestations.search(session=session, access=access, subjects=sorted(subjects), limit=500, log=False)
    disputes = [c for c in found if c.schema_name == DISPUTE_SCHEMA]
    found = [c for c in found if c.schema_name != DISPUTE_SCHEMA]  # a dispute shows as its claim's status
    statuses = claim_statuses(session=session, claims=[(c.row, c.schema_name) for c in found], now=now)
    claims = [c for c in found if statuses[c.row.uid].state != "failed"]  # refused by the chain: never a claim
    facts = journey_claims.claim_facts(session=session, claims=claims, statuses=statuses)

    made_by: dict[str, EventView] = {}
    views_by_record = {v.row.id: v for v in steps}
    made = sorted((e for e in edges if e.relation == "made_from"), key=lambda e: e.ref)  # one rule, every replica
    missing_views = {e.record_id for e in made} - set(views_by_record)
    if missing_views:  # a transformation seen only through its linking fields
        extra = list(session.scalars(select(EpcisEvent).where(EpcisEvent.id.in_(missing_views))))
        views_by_record |= {
            v.row.id: v
            for v in disclosure.render_events(session, access, extra, where=where, endpoint="journey", log=False)
        }
    for edge in made:
        if edge.record_id in views_by_record:
            made_by.setdefault(edge.source, views_by_record[edge.record_id])
    gtins = {k.gtin for k in (item_of(n) for n in [*lineage, *made_by, *containers]) if k is not None} | {key.gtin}
    brands = {gtin: brand_of(session=session, gtin=gtin) for gtin in sorted(gtins)}
    products = {  # master data counts only from the GTIN's brand (a row registered before 0009 may not be)
        p.gtin: p
        for p in session.scalars(select(Product).where(Product.gtin.in_(gtins)))
        if p.owner_id == brands.get(p.gtin)
    }
    footprint_subjects = {canonical_id(c.row.subject) for c in claims if c.schema_name == FOOTPRINT_SCHEMA}
    attested = _footprints(claims, facts, _vouchers(session, footprint_subjects, brands, speakers))
    net = {
        ItemKey(p.gtin).digital_link(): Amount(p.net_content, p.net_content_unit)
        for p in products.values()
        if p.net_content and p.net_content_unit
    }
    footprint = FootprintRollup(attested, made_by, net).of(identifier)
    input_speakers = {
        gtin: speakers_of(session=session, gtin=gtin) for gtin in sorted(gtins - {key.gtin}) if brands[gtin] is not None
    }
    recalled_items = sorted(lineage, key=lambda n: (lineage[n], n)) + sorted(containers)
    return Journey(
        key=key,
        identifier=identifier,
        product=products.get(key.gtin) or _branded(session, key.gtin, speakers),
        brand_id=speakers.brand_id,
        lineage=lineage,
        edges=edges,
        containers=containers,
        origins=origins,
        steps=steps,
        observations=observations,
        status=status_of(steps, about, speakers),
        recall=recall_of(steps, recalled_items, {key.gtin: speakers, **input_speakers}, speakers),
        claims=claims,
        disputes=_disputes_of(session, claims, statuses, disputes, now),
        claim_facts=facts,
        pledges=journey_claims.pledges_of(session=session, access=access, claims=claims, now=now),
        origin=journey_claims.origin_of(
            session=session, claims=claims, statuses=statuses, origins=origins or [identifier]
        ),
        footprint=footprint,
        products=products,
        lots=(
            provenance.items_named(session=session, prefix=ItemKey(key.gtin).digital_link() + "/", access=access)
            if key.lot is None and key.serial is None
            else []
        ),
        truncated=truncated,
        built_at=now,
        completeness=completeness_of(
            session=session,
            items=set(lineage) | set(containers),
            constellations=set(speakers.constellations) | {v.row.constellation for v in steps},
            shown={v.row.leaf for v in steps},
            where=where,
        ),
    )


__all__ = [
    "FOOTPRINT_SCHEMA",
    "Footprint",
    "FootprintRollup",
    "Journey",
    "Recall",
    "Status",
    "build",
    "per_unit",
    "recall_of",
    "status_of",
]
