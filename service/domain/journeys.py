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
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import EpcisEvent, Product
from service.domain import attestations, disclosure, provenance
from service.domain.company_prefixes import brand_of
from service.domain.disclosure import AnchorRef, EventView
from service.domain.gs1 import CANONICAL_HOST, ItemKey, LocationKey, class_of, item_of, lot_of
from service.domain.policy import Access, Decision
from service.domain.speakers import Speakers, speakers_of
from service.epcis import policy as epcis_policy
from service.epcis.identifiers import canonical_id
from service.epcis.query import parse_time

FOOTPRINT_SCHEMA = "product-carbon-footprint"
RECALLED = "recalled"
UNITS: dict[str, tuple[str, float]] = {
    # UN/CEFACT Rec. 20 codes (EPCIS quantity `uom`) as PACT declared units
    "KGM": ("kilogram", 1.0),
    "GRM": ("kilogram", 0.001),
    "TNE": ("kilogram", 1000.0),
    "LTR": ("liter", 1.0),
    "MLT": ("liter", 0.001),
    "MTQ": ("cubic meter", 1.0),
    "KWH": ("kilowatt hour", 1.0),
    "3B": ("megajoule", 1.0),
    "MTK": ("square meter", 1.0),
}


def location_subject(location: str) -> str | None:
    """The attestation subject of a place (its GLN), from a location identifier."""
    canonical = canonical_id(location)
    prefix = CANONICAL_HOST + "/414/"
    if not canonical.startswith(prefix):
        return None
    return LocationKey(canonical[len(prefix) :].split("/")[0]).digital_link()


def member_subject(member_id: str) -> str:
    return f"urn:constellate:member:{member_id}"


# --- the carbon footprint roll-up ------------------------------------------------------------


@dataclass(frozen=True)
class Amount:
    value: float
    unit: str  # a PACT declared unit, or "each"


@dataclass
class Footprint:
    """kgCO2e per declared unit of one item, and how well it is backed."""

    identifier: str
    status: str  # verified · partly verified · unverified · missing
    intensity: float | None = None
    unit: str | None = None
    source: str = "missing"  # attested · rolled up · missing
    attestations: list[str] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    """For a roll-up: each input, its amount, its footprint and its share of the emissions."""
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "status": self.status,
            "kgCO2ePerDeclaredUnit": round(self.intensity, 6) if self.intensity is not None else None,
            "declaredUnit": self.unit,
            "source": self.source,
            "attestations": self.attestations,
            "inputs": self.inputs,
            "note": self.note,
        }


def _amounts(
    document: dict[str, Any], epc_field: str, quantity_field: str, net: dict[str, Amount]
) -> dict[str, Amount | None]:
    """Each identifier of a side of a transformation with its amount in declared units, entries
    of the same identifier summed (None: the amount cannot be known — no unit and no net content,
    or units that do not add up)."""
    found: dict[str, Amount | None] = {}

    def add(identifier: str, amount: Amount | None) -> None:
        if identifier not in found:
            found[identifier] = amount
            return
        before = found[identifier]
        same = before is not None and amount is not None and before.unit == amount.unit
        found[identifier] = Amount(before.value + amount.value, amount.unit) if same else None  # type: ignore[union-attr]

    for entry in document.get(quantity_field) or ():
        identifier = canonical_id(entry.get("epcClass", ""))
        quantity = entry.get("quantity")
        unit = UNITS.get(entry.get("uom") or "")
        if isinstance(quantity, int | float) and unit is not None:
            add(identifier, Amount(float(quantity) * unit[1], unit[0]))
        elif isinstance(quantity, int | float):
            per = net.get(class_of(identifier))
            add(identifier, Amount(float(quantity) * per.value, per.unit) if per else None)
        else:
            add(identifier, None)
    for epc in document.get(epc_field) or ():
        identifier = canonical_id(epc)
        per = net.get(class_of(identifier))
        add(identifier, Amount(per.value, per.unit) if per else None)
    return found


TRANSFORMATION_FIELDS = ("inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList")


@dataclass
class _Attested:
    intensity: float
    unit: str
    uid: str
    valid: bool


class FootprintRollup:
    """Footprints of the items of a lineage: an item's own PACT footprint (or its class's) if
    one is attested; else its inputs' footprints allocated by quantity through the
    transformation that made it (mass or volume allocation over the outputs). Valid, anchored
    attestations are verified; pending ones unverified; revoked and expired ones do not count."""

    def __init__(
        self,
        attested: dict[str, _Attested],
        made_by: dict[str, EventView],
        net: dict[str, Amount],
    ) -> None:
        self.attested = attested
        self.made_by = made_by
        self.net = net
        self.memo: dict[str, Footprint] = {}

    def of(self, identifier: str, visiting: frozenset[str] = frozenset()) -> Footprint:
        if identifier in self.memo:
            return self.memo[identifier]
        result = self._compute(identifier, visiting | {identifier})
        self.memo[identifier] = result
        return result

    def _compute(self, identifier: str, visiting: frozenset[str]) -> Footprint:
        own = self.attested.get(identifier) or self.attested.get(class_of(identifier))
        lot = lot_of(identifier)
        if own is None and identifier not in self.made_by and lot is not None and lot not in visiting:
            of_lot = self.of(lot, visiting)  # a unit of a lot carries the lot's footprint per unit
            return Footprint(
                identifier,
                of_lot.status,
                of_lot.intensity,
                of_lot.unit,
                of_lot.source,
                of_lot.attestations,
                of_lot.inputs,
                of_lot.note,
            )
        if own is not None:
            return Footprint(
                identifier,
                "verified" if own.valid else "unverified",
                own.intensity,
                own.unit,
                "attested",
                [own.uid],
                note="" if own.valid else "the footprint is attested but not yet anchored on chain",
            )
        view = self.made_by.get(identifier)
        if view is None:
            return Footprint(identifier, "missing", note="no footprint attested, and no transformation that made it")
        document = view.document
        outputs = _amounts(document, "outputEPCList", "outputQuantityList", self.net)
        inputs = _amounts(document, "inputEPCList", "inputQuantityList", self.net)
        mine = outputs.get(identifier)
        if mine is None or mine.value <= 0:
            return Footprint(identifier, "missing", note="the quantity made is not known, so nothing can be allocated")
        total_out = sum(a.value for a in outputs.values() if a is not None and a.unit == mine.unit)
        withheld = set(document.get(disclosure.RECORD_KEY, {}).get("withheld") or ())
        certain = (
            all(a is not None and a.unit == mine.unit and a.value > 0 for a in outputs.values())
            and all(a is not None and a.value > 0 for a in inputs.values())
            and not withheld & set(TRANSFORMATION_FIELDS)
        )
        emitted = 0.0
        backed: list[str] = []
        parts: list[dict[str, Any]] = []
        uids: list[str] = []
        for source, amount in inputs.items():
            upstream = self.of(source, visiting) if source not in visiting else Footprint(source, "missing")
            counted = (
                amount is not None
                and upstream.intensity is not None
                and upstream.unit == amount.unit
                and upstream.status in ("verified", "partly verified", "unverified")
            )
            kg = amount.value * upstream.intensity if counted and amount and upstream.intensity is not None else None
            if kg is not None:
                emitted += kg
                uids += upstream.attestations
                backed.append(upstream.status)
            parts.append(
                {
                    "identifier": source,
                    "amount": amount.value if amount else None,
                    "unit": amount.unit if amount else None,
                    "status": upstream.status if counted else "missing",
                    "kgCO2e": round(kg, 6) if kg is not None else None,
                }
            )
        if not backed or total_out <= 0:
            return Footprint(
                identifier, "missing", source="rolled up", inputs=parts, note="no input has a usable footprint"
            )
        complete = certain and len(backed) == len(inputs) and all(s == "verified" for s in backed)
        share = mine.value / total_out
        return Footprint(
            identifier,
            "verified" if complete else "partly verified",
            emitted * share / mine.value,
            mine.unit,
            "rolled up",
            list(dict.fromkeys(uids)),
            parts,
            note=(
                "inputs' footprints allocated by quantity; the processor's own emissions are not attested"
                if complete
                else "partly backed: some inputs have no verified footprint, or some quantities are unknown or withheld"
            ),
        )


# --- the journey ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """What the item is now, as one who may say so stated it (the step that said it)."""

    state: str  # recalled
    view: EventView


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
    claims: list[attestations.Readable]
    claim_status: dict[str, str]
    footprint: Footprint
    lots: list[str]
    """For a product class: the lots and units of it the reader may see."""
    truncated: bool
    built_at: datetime

    @property
    def withheld(self) -> dict[str, dict[str, Any]]:
        """Per owner: how many fields of how many of its records the reader was not shown."""
        counts: dict[str, dict[str, Any]] = {}
        for view in self.steps + self.observations:
            block = view.document[disclosure.RECORD_KEY]
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
        """The next moment the journey changes by itself: a shown claim expires."""
        moments = [
            datetime.fromtimestamp(c.row.expires_at, UTC)
            for c in self.claims
            if c.row.expires_at and datetime.fromtimestamp(c.row.expires_at, UTC) > self.built_at
        ]
        return min(moments, default=None)


def _time_of(view: EventView) -> tuple[int, datetime | str]:
    when = view.document.get("eventTime")
    return (0, parse_time("eventTime", when)) if when else (1, view.document[disclosure.RECORD_KEY]["ref"])


def named_items(event: dict[str, Any]) -> set[str]:
    """Every item an event (or an event view) names in the fields it has, canonical."""
    named: list[Any] = [event.get("parentID")]
    for name in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        named += event.get(name) or []
    for name in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
        named += [q.get("epcClass") for q in event.get(name) or () if isinstance(q, dict)]
    return {canonical_id(n) for n in named if isinstance(n, str)}


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


def _vouchers(steps: list[EventView], products: dict[str, Product]) -> dict[str, set[str]]:
    """Who may state an item's footprint: a member that recorded a step naming it (or, for a
    class, one of its lots), or the member that brands its GTIN. Anyone else's footprint of
    someone else's product is not taken into the roll-up (it still shows as a claim)."""
    trusted: dict[str, set[str]] = {}
    for view in steps:
        for identifier in named_items(view.document):
            for subject in (identifier, class_of(identifier)):
                trusted.setdefault(subject, set()).add(view.row.owner_id)
    for product in products.values():
        trusted.setdefault(ItemKey(product.gtin).digital_link(), set()).add(product.owner_id)
    return trusted


def _footprints(
    claims: list[attestations.Readable], status: dict[str, str], trusted: dict[str, set[str]]
) -> dict[str, _Attested]:
    """Per item (canonical), the newest footprint a voucher attested that the reader sees in
    full (valid before pending; revoked, expired and failed ones do not count)."""
    attested: dict[str, _Attested] = {}
    for claim in claims:  # oldest first: a later one of the same standing replaces it
        row, shown = claim.row, claim.shown
        if claim.schema_name != FOOTPRINT_SCHEMA or status[row.uid] not in ("valid", "pending"):
            continue
        if shown is not None and not {"body/pCfExcludingBiogenic", "body/declaredUnit"} <= shown:
            continue
        subject = canonical_id(row.subject)
        if row.issuer_id not in trusted.get(subject, ()):
            continue
        candidate = _Attested(
            float(row.body["pCfExcludingBiogenic"]), str(row.body["declaredUnit"]), row.uid, status[row.uid] == "valid"
        )
        current = attested.get(subject)
        if current is None or candidate.valid or not current.valid:
            attested[subject] = candidate
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
    claims = attestations.search(session=session, access=access, subjects=sorted(subjects), limit=500, log=False)
    status = {c.row.uid: attestations.status_of(session=session, row=c.row, now=now) for c in claims}
    claims = [c for c in claims if status[c.row.uid] != "failed"]  # refused by the chain: never a claim

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
    gtins = {k.gtin for k in (item_of(n) for n in [*lineage, *made_by]) if k is not None}
    products = {  # master data counts only from the GTIN's brand (a row registered before 0009 may not be)
        p.gtin: p
        for p in (session.scalars(select(Product).where(Product.gtin.in_(gtins))) if gtins else ())
        if p.owner_id == brand_of(session=session, gtin=p.gtin)
    }
    attested = _footprints(claims, status, _vouchers(steps, products))
    net = {
        ItemKey(p.gtin).digital_link(): Amount(p.net_content, p.net_content_unit)
        for p in products.values()
        if p.net_content and p.net_content_unit
    }
    footprint = FootprintRollup(attested, made_by, net).of(identifier)
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
        claims=claims,
        claim_status=status,
        footprint=footprint,
        lots=(
            provenance.items_named(session=session, prefix=ItemKey(key.gtin).digital_link() + "/", access=access)
            if key.lot is None and key.serial is None
            else []
        ),
        truncated=truncated,
        built_at=now,
    )


def per_unit(footprint: Footprint, product: Product | None) -> float | None:
    """kgCO2e of one unit of the product (its net content times the intensity)."""
    if footprint.intensity is None or product is None or not product.net_content:
        return None
    if product.net_content_unit != footprint.unit:
        return None
    return footprint.intensity * product.net_content


__all__ = [
    "FOOTPRINT_SCHEMA",
    "Footprint",
    "FootprintRollup",
    "Journey",
    "Status",
    "build",
    "named_items",
    "per_unit",
    "status_of",
]
