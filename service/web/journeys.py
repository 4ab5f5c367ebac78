"""A journey as a document: the JSON the API answers and the page renders (one source, so the
two always agree), and the per-process cache that serves it again while nothing changed.

The cache is correct by construction: an entry is served only while the data revision it was
built at is the database's current one (every committed write that a page could show bumps it,
service/db/session.py) and before the next moment it would change by itself (a claim expiring,
a grant starting or ending). So a new event, a revocation or a grant shows on the next request,
on every replica."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.models import AttestationSchema, Member, SharingGrant
from service.domain import attestations, credentials, disclosure, journey_claims, journeys
from service.domain.claim_status import STATES, dates_seen
from service.domain.gs1 import ItemKey, item_of
from service.domain.journey_proofs import journey_problems, step_summary, summary_mismatches
from service.domain.journeys import Journey
from service.domain.places import route_of
from service.domain.view_format import RECORD_KEY

TRUST_PINS = (
    "chainId",
    "provenanceAnchor",
    "constellationRegistry",
    "attestationRegistry",
    "sharingLedger",
    "anchorer",
    "rpcUrl",
)
"""What a journey's `verify` block names (docs/proof-format.md §1): a verifier compares them with
its own pins and fails `pins` when they differ."""
RECALL_STATUS = "gs1:recallStatus"
"""The GS1 link type of an item's recall status (its resolver URL with ?linkType=gs1:recallStatus)."""
PUBLIC_LOG_SECONDS = 60.0
"""Identical public reads of a journey are logged at most this often per process: a page that
many customers scan is one disclosure to the public, not thousands."""


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _places(session: Session, named: dict[str, set[str]]) -> dict[str, str]:
    """Location identifiers named after the member whose GLN they carry — only where that member
    recorded the step itself (its name is on the step already): a place never reveals who else
    runs it."""
    glns = {}
    for place in named:
        subject = journeys.location_subject(place)
        if subject:
            glns[place] = subject.rsplit("/", 1)[-1]
    if not glns:
        return {}
    rows = session.execute(select(Member.gln, Member.id, Member.name).where(Member.gln.in_(set(glns.values())))).all()
    members = {gln: (member_id, name) for gln, member_id, name in rows}
    return {place: members[gln][1] for place, gln in glns.items() if gln in members and members[gln][0] in named[place]}


def _identifier(identifier: str) -> dict[str, Any]:
    key = item_of(identifier)
    entry: dict[str, Any] = {"id": identifier}
    if key is not None:
        entry |= {"gtin": key.gtin, "lot": key.lot, "serial": key.serial, "path": key.digital_link("")}
    return entry


def _step(view: disclosure.EventView, places: dict[str, str], custody: dict[str, str]) -> dict[str, Any]:
    summary = step_summary(view.document)
    location = summary["where"]["id"]
    summary["where"] = {"id": location, "name": places.get(location) if location else None}
    held = custody.get(summary["who"]["id"])  # managed (or the operator's): the service signs for it
    summary["who"]["custody"] = None if held is None else "self" if held == "self" else "managed"
    return {**summary, "event": view.document}


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _text(claim: attestations.Readable, key: str) -> str | None:
    value = claim.row.body.get(key) if journey_claims.shows(claim, key) else None
    return value if isinstance(value, str) and value.strip() else None


def _claim(
    claim: attestations.Readable,
    facts: journey_claims.ClaimFacts,
    names: dict[str, str],
    tx_url: str | None,
    dispute: attestations.Readable | None,
    credential: dict[str, Any] | None,
) -> dict[str, Any]:
    row = claim.row
    shown = claim.shown
    status = facts.status
    seen = dates_seen(
        status, claim.schema_name, row.body, lambda key: journey_claims.shows(claim, key), row.expires_at or 0
    )
    return {
        "uid": row.uid,
        "schema": claim.schema_name,
        "schemaUid": row.schema_uid,
        "kind": facts.kind,
        "title": facts.title,
        "status": status.state,
        "statusDate": _day(seen.status_date),
        "validFrom": _day(seen.valid_from),
        "validUntil": _day(seen.valid_until),
        "issuer": {"id": row.issuer_id, "name": names.get(row.issuer_id, ""), "address": row.issuer_address},
        "selfIssued": facts.self_issued,
        "disputedBy": (
            {"id": dispute.row.issuer_id, "name": names.get(dispute.row.issuer_id, "")} if dispute else None
        ),
        "disputeReason": _text(dispute, "reason") if dispute else None,
        "subject": {"kind": row.subject_kind, "id": row.subject},
        "body": {k: v for k, v in row.body.items() if shown is None or attestations.body_path(k) in shown},
        "withheld": claim.withheld,
        "expiresAt": _stamp(datetime.fromtimestamp(row.expires_at, UTC)) if row.expires_at else None,
        "txHash": row.anchored_tx,
        "revokedTx": row.revoked_tx,
        "proof": f"/attestations/{row.uid}/credential",
        "credential": credential,
        "explorer": tx_url.format(tx=row.anchored_tx) if tx_url and row.anchored_tx else None,
    }


def _credentials(
    session: Session,
    claims: list[attestations.Readable],
    names: dict[str, str],
    *,
    trust: dict[str, Any],
    base: str,
) -> dict[str, dict[str, Any]]:
    """Per claim, the credential GET /attestations/{uid}/credential answers this reader (the same
    fields shown, evidence included where shown): what a verifier checks the claim by. None
    while the service names no registry (no deployment)."""
    chain_id, registry = trust.get("chainId"), trust.get("attestationRegistry")
    if not claims or not isinstance(chain_id, int) or not isinstance(registry, str):
        return {}
    uids = {c.row.schema_uid for c in claims}
    schemas = {s.uid: s for s in session.scalars(select(AttestationSchema).where(AttestationSchema.uid.in_(uids)))}
    return {
        c.row.uid: credentials.credential_of(
            row=c.row,
            shown=c.shown,
            schema=schemas[c.row.schema_uid],
            issuer_name=names.get(c.row.issuer_id, ""),
            chain_id=chain_id,
            registry=registry,
            base_url=base,
        )
        for c in claims
    }


def _footprint_proof(journey: Journey, footprint: dict[str, Any]) -> dict[str, Any]:
    """What a verifier recomputes a rolled-up headline from (docs/proof-format.md §8): the step
    that made the item (or its lot) and the net contents the amounts use (master data)."""
    if journey.footprint.source != "rolled up":
        return {"madeBy": None, "netContent": {}}
    net = {
        ItemKey(p.gtin).digital_link(): {"value": p.net_content, "unit": p.net_content_unit}
        for p in journey.products.values()
        if p.net_content and p.net_content_unit
    }
    return {"madeBy": footprint.get("madeBy"), "netContent": dict(sorted(net.items()))}


def _pledge(pledge: journey_claims.Pledge, facts: journey_claims.ClaimFacts, names: dict[str, str]) -> dict[str, Any]:
    claim = pledge.claim
    deadline = claim.row.body.get("deadline") if journey_claims.shows(claim, "deadline") else None
    return {
        "uid": claim.row.uid,
        "title": facts.title,
        "by": {"id": claim.row.issuer_id, "name": names.get(claim.row.issuer_id, "")},
        "target": journey_claims.target_of(claim),
        "dueDate": deadline if isinstance(deadline, str) else None,
        "progress": pledge.progress,
        "status": facts.status.state,
        "statusDate": _day(facts.status.since),
        "proof": f"/attestations/{claim.row.uid}",
    }


def _recall(journey: Journey, base: str) -> dict[str, Any] | None:
    recall = journey.recall
    if recall is None:
        return None
    owner = recall.view.document[RECORD_KEY]["owner"]
    items = []
    for identifier in recall.items:
        key = item_of(identifier)
        by = recall.by_item.get(identifier, recall.view)
        recaller = by.document[RECORD_KEY]["owner"]
        items.append(
            {
                "id": identifier,
                "label": journey.label(identifier),
                "path": key.digital_link("") if key else None,
                "by": {"id": recaller["id"], "name": recaller["name"]},
                "at": by.document.get("eventTime"),
                "advice": recall.advice_of(identifier),
            }
        )
    return {
        "state": journeys.RECALLED,
        "by": {"id": owner["id"], "name": owner["name"]},
        "at": recall.view.document.get("eventTime"),
        "items": items,
        "advice": recall.advice or journeys.DEFAULT_ADVICE,
        "adviceSource": "event" if recall.advice else "default",
        "statusLink": f"{base.rstrip('/')}{journey.key.digital_link('')}?{urlencode({'linkType': RECALL_STATUS})}",
    }


def document(
    session: Session,
    journey: Journey,
    *,
    base: str,
    trust: dict[str, Any],
    reader: dict[str, Any],
    revision: int,
    tx_url: str | None,
) -> dict[str, Any]:
    """The journey as JSON: what the page shows, and each event view with its proofs, so a
    reader can check it with `constellate verify journey` and only the chain."""
    places_named: dict[str, set[str]] = {}
    for view in journey.steps + journey.observations:
        for name in ("bizLocation", "readPoint"):
            place = (view.document.get(name) or {}).get("id")
            if isinstance(place, str):
                places_named.setdefault(place, set()).add(view.row.owner_id)
    route = route_of(
        session=session,
        steps=[v.document for v in journey.steps],
        observations=[v.document for v in journey.observations],
    )  # places as their owners published them, of the steps this reader sees
    places = _places(session, places_named) | {loc: str(shown["name"]) for loc, shown in route.places.items()}
    issuer_ids = {c.row.issuer_id for c in journey.claims} | ({journey.brand_id} if journey.brand_id else set())
    issuer_ids |= {d.row.issuer_id for d in journey.disputes.values()}
    signers = {v.row.owner_id for v in journey.steps + journey.observations}
    custody = (  # one lookup per document: whose key signed each step
        dict(session.execute(select(Member.id, Member.custody).where(Member.id.in_(signers))).all()) if signers else {}
    )
    names = (
        dict(session.execute(select(Member.id, Member.name).where(Member.id.in_(issuer_ids))).all())
        if issuer_ids
        else {}
    )
    facts = journey.claim_facts
    shown_claims = [c for c in journey.claims if facts[c.row.uid].kind != "pledge"]
    proofs = _credentials(session, shown_claims, names, trust=trust, base=base)
    claims = [
        _claim(c, facts[c.row.uid], names, tx_url, journey.disputes.get(c.row.uid), proofs.get(c.row.uid))
        for c in shown_claims
    ]
    pledges = [_pledge(p, facts[p.claim.row.uid], names) for p in journey.pledges]
    by_subject: dict[str, list[str]] = {}
    for claim in claims:
        by_subject.setdefault(claim["subject"]["id"], []).append(claim["uid"])
    withheld = journey.withheld
    for owner_id, entry in withheld.items():
        entry["name"] = entry["name"] or names.get(owner_id, "")
    product = journey.product
    footprint = journey.footprint.as_json()
    unit = journeys.per_unit(
        journey.footprint, product.net_content if product else None, product.net_content_unit if product else None
    )
    footprint["kgCO2ePerUnit"] = round(unit, 6) if unit is not None else None
    footprint |= _footprint_proof(journey, footprint)
    roots: dict[str, dict[str, Any]] = {}
    for view in journey.steps:
        anchor = view.document[RECORD_KEY].get("anchor")
        if anchor:
            entry = roots.setdefault(
                anchor["root"], {**{k: anchor[k] for k in ("root", "txHash", "blockNumber")}, "events": 0}
            )
            entry["events"] += 1
            entry["explorer"] = tx_url.format(tx=anchor["txHash"]) if tx_url and anchor.get("txHash") else None
    key = journey.key
    path = key.digital_link("")
    statuses = [c["status"] for c in claims]
    completeness = journey.completeness
    status = journey.status
    return {
        "item": {
            "gtin": key.gtin,
            "lot": key.lot,
            "serial": key.serial,
            "kind": key.kind,
            "digitalLink": journey.identifier,
            "path": path,
            "url": base.rstrip("/") + path,
        },
        "product": (
            {
                "gtin": product.gtin,
                "name": product.name,
                "brand": product.brand,
                "description": product.description,
                "netContent": product.net_content,
                "netContentUnit": product.net_content_unit,
                "image": product.image,
            }
            if product is not None
            else None
        ),
        "products": {  # the master data (public) naming the goods of its lineage and steps
            gtin: {"name": p.name, "brand": p.brand} for gtin, p in sorted(journey.products.items())
        },
        "reader": reader,
        "brand": {"id": journey.brand_id, "name": names.get(journey.brand_id, "")} if journey.brand_id else None,
        "status": (
            {
                "state": status.state,
                "ref": status.view.document[RECORD_KEY]["ref"],
                "by": {k: status.view.document[RECORD_KEY]["owner"][k] for k in ("id", "name")},
                "eventTime": status.view.document.get("eventTime"),
            }
            if status is not None
            else None
        ),
        "summary": {
            "steps": len(journey.steps),
            "observations": len(journey.observations),
            "origins": len(journey.origins),
            "claims": {s: statuses.count(s) for s in STATES},
            "certifications": [
                {k: c[k] for k in ("title", "issuer", "validFrom", "validUntil", "status", "subject")}
                for c in claims
                if c["kind"] == "certification" and c["status"] == "valid"
            ],
            "pledges": len(pledges),
            "withheldFields": sum(e["fields"] for e in withheld.values()),
            "recordsNotShown": completeness.records_not_shown,
            "anchored": sum(1 for v in journey.steps if v.document[RECORD_KEY].get("anchor")),
        },
        "steps": [_step(v, places, custody) for v in journey.steps],
        "observations": [_step(v, places, custody) for v in journey.observations],
        "lineage": [
            {**_identifier(node), "depth": depth, "claims": by_subject.get(node, [])}
            for node, depth in journey.lineage.items()
        ],
        "edges": [{"from": e.source, "to": e.target, "relation": e.relation, "ref": e.ref} for e in journey.edges],
        "containers": [{"id": c, "holds": item} for c, item in journey.containers.items()],
        "origins": [{**_identifier(o), "claims": by_subject.get(o, [])} for o in journey.origins],
        "lots": [_identifier(lot) for lot in journey.lots],
        "claims": claims,
        "pledges": pledges,
        "recall": _recall(journey, base),
        "origin": journey.origin,
        "footprint": footprint,
        "route": route.as_json(),
        "places": route.places,
        "withheld": [
            {"owner": owner, **entry} for owner, entry in sorted(withheld.items(), key=lambda kv: kv[1]["name"])
        ],
        "completeness": completeness.entries,
        "verify": {
            **{name: trust.get(name) for name in TRUST_PINS},
            "roots": list(roots.values()),
            "command": (
                f"constellate verify journey {base.rstrip('/')}{path} --rpc-url {trust.get('rpcUrl') or 'RPC_URL'}"
                f" --trust {base.rstrip('/')}/verify/trust"
            ),
        },
        "truncated": journey.truncated,
        "revision": revision,
        "generatedAt": _stamp(journey.built_at),
    }


def linkset(key: ItemKey, *, base: str, title: str | None) -> dict[str, Any]:
    """The GS1 resolver linkset (RFC 9264) of an item: where its journey, its traceability data
    and its claims live."""
    root = base.rstrip("/")
    path = key.digital_link("")
    page = root + path
    anchor = key.digital_link()
    item_links = {
        "https://gs1.org/voc/defaultLink": [{"href": page, "title": title or "Product journey", "type": "text/html"}],
        "https://gs1.org/voc/pip": [{"href": page, "title": "Product information and journey", "type": "text/html"}],
        "https://gs1.org/voc/traceability": [
            {"href": page, "title": "Verified journey (JSON)", "type": "application/json"},
        ],
        "https://gs1.org/voc/epcis": [
            {
                "href": f"{root}/epcis/events?{urlencode({'MATCH_anyEPC': anchor})}",
                "title": "EPCIS events",
                "type": "application/ld+json",
            }
        ],
        "https://gs1.org/voc/certificationInfo": [
            {
                "href": f"{root}/attestations?{urlencode({'subject': anchor})}",
                "title": "Certifications and claims",
                "type": "application/json",
            }
        ],
        "https://gs1.org/voc/sustainabilityInfo": [
            {"href": page + "#footprint", "title": "Carbon footprint", "type": "text/html"}
        ],
        "https://gs1.org/voc/recallStatus": [
            {
                "href": f"{page}?{urlencode({'linkType': RECALL_STATUS})}",
                "title": "Recall status",
                "type": "application/json",
            }
        ],
    }
    return {"linkset": [{"anchor": anchor, **item_links}]}


# --- the cache --------------------------------------------------------------------------------


@dataclass
class Entry:
    revision: int
    expires: float | None
    """Monotonic-free wall time (epoch seconds) after which the entry is stale, or None."""
    body: dict[str, Any]
    log_rows: list[dict[str, Any]]
    """The access-log rows of this read, without their time and purpose."""
    rendered: dict[str, bytes] = field(default_factory=dict)
    logged_at: float = 0.0


BUILD_WAIT_SECONDS = 10.0
"""How long a request waits for another's build of the same journey before building its own
(a build takes well under a second on an idle machine, a few under load)."""


@dataclass
class _Build:
    """A journey being built: the threads that want it at the same revision wait for it."""

    done: threading.Event = field(default_factory=threading.Event)
    entry: Entry | None = None


class JourneyCache:
    """Rendered journeys per reader and item, valid for one data revision (LRU, thread-safe).
    A journey missing at a revision is built once per process: requests for it at that same
    revision wait for that build instead of starting their own (under traffic that writes, every
    write would otherwise set all readers of a journey building it at once)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str], Entry] = OrderedDict()
        self._builds: dict[tuple[tuple[str, str], int], _Build] = {}
        self._lock = threading.Lock()

    def get_or_build(self, key: tuple[str, str], revision: int, build: Callable[[], Entry]) -> Entry:
        """The entry of `key` at `revision`: cached, or built by the thread already building it
        at this revision, or built by `build` in this thread. A waiter whose build failed builds
        its own at once (each request answers its own error: a 404, a 503); one whose build
        hangs past BUILD_WAIT_SECONDS takes the lead from it, so later readers wait for this one."""
        flight = (key, revision)
        entry = self.get(key, revision)
        if entry is not None:
            return entry
        with self._lock:
            running = self._builds.get(flight)
            if running is None:
                mine = self._builds[flight] = _Build()
        if running is not None:
            if running.done.wait(BUILD_WAIT_SECONDS):
                return running.entry if running.entry is not None else self._built(key, build())
            with self._lock:
                mine = self._builds[flight] = _Build()  # the hung build no longer leads
        try:
            mine.entry = self._built(key, build())
            return mine.entry
        finally:
            with self._lock:
                if self._builds.get(flight) is mine:
                    del self._builds[flight]
            mine.done.set()

    def _built(self, key: tuple[str, str], entry: Entry) -> Entry:
        self.put(key, entry)
        return entry

    def get(self, key: tuple[str, str], revision: int) -> Entry | None:
        """The entry of `key` at `revision`, if cached; an older or expired one is dropped (a
        newer one, built for a reader that came later, is kept for the next reader)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.revision > revision:
                return None
            if entry.revision < revision or (entry.expires is not None and time.time() >= entry.expires):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, str], entry: Entry) -> None:
        """Keeps `entry`, unless a newer revision of the same journey is already kept."""
        if self.capacity <= 0:
            return
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None and kept.revision > entry.revision:
                return
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    @staticmethod
    def rendered(entry: Entry, name: str, render: Callable[[], bytes]) -> bytes:
        """The entry in one format, rendered once (a race renders twice; both are the same)."""
        found = entry.rendered.get(name)
        if found is None:
            found = entry.rendered[name] = render()
        return found


def next_grant_change(session: Session, now: datetime) -> datetime | None:
    """The next moment a grant starts, ends or its revocation takes effect: reads change then."""
    moments = session.execute(
        select(
            func.min(SharingGrant.valid_from).filter(SharingGrant.valid_from > now),
            func.min(SharingGrant.valid_until).filter(SharingGrant.valid_until > now),
            func.min(SharingGrant.revoked_at).filter(SharingGrant.revoked_at > now),
        )
    ).one()
    return min((m for m in moments if m is not None), default=None)


__all__ = [  # journey_problems and summary_mismatches are the domain's: named here for old callers
    "RECALL_STATUS",
    "TRUST_PINS",
    "Entry",
    "JourneyCache",
    "document",
    "journey_problems",
    "linkset",
    "next_grant_change",
    "step_summary",
    "summary_mismatches",
]
