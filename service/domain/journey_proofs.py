"""Verification of a journey document with only the chain and the verifier's own pins: the
pins the page names, its structure, every step (service/domain/proofs.py checks each record
view), the order of the steps, the completeness of each item's records up to an anchored point,
every claim (its credential), and the footprint headline recomputed from verified figures.

docs/proof-format.md §7-§9a is the specification this module implements; the JavaScript
verifier (verifiers/js/) follows the same text, and a shared tampering matrix
(tests/integration/test_proof_matrix.py) holds both to the same verdicts."""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from service.chain.proof_reader import TrustPins
from service.domain import credential_proofs, proofs
from service.domain.claim_validity import Validity, validity_of
from service.domain.event_items import EPC_LISTS, QUANTITY_LISTS, named_items
from service.domain.gs1 import class_of, lot_of
from service.domain.merkle import verify_proof
from service.domain.proofs import ProofReader
from service.domain.units import UNITS
from service.domain.view_format import RECORD_KEY, is_hash_id
from service.epcis import policy as epcis_policy
from service.epcis.identifiers import canonical_id
from service.errors import ChainUnavailable, MalformedInput

PIN_NAMES = ("chainId", "provenanceAnchor", "constellationRegistry", "attestationRegistry", "anchorer")
"""What a journey's `verify` block must name exactly as the verifier pins it (§1)."""
TOLERANCE = 1e-6
"""Footprint figures agree when |a - b| ≤ TOLERANCE · max(1, |a|, |b|) (the page rounds to 6 places)."""
STEP_CHECKS = ("disclosed_fields", "field_list", "leaf", "authorship", "signer_role", "merkle_proof", "anchored")
CLAIM_CHECKS = {"signature": "claim.signature", "uid": "claim.uid", "disclosed_fields": "claim.disclosed_fields"}
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class MalformedJourney(MalformedInput):
    """The document is not a journey this service issues, or the pins are not a verifier's pins."""


# --- what a step says ---------------------------------------------------------------------------


def _label(term: str | None) -> str | None:
    return term.replace("_", " ").capitalize() if term else None


def step_summary(event: dict[str, Any]) -> dict[str, Any]:
    """What a step says, from its event view alone (so a verifier recomputes it)."""
    block = event[RECORD_KEY]
    location = (event.get("bizLocation") or {}).get("id") or (event.get("readPoint") or {}).get("id")
    items = [
        *(event.get("epcList") or ()),
        *([event["parentID"]] if event.get("parentID") else []),
        *(event.get("childEPCs") or ()),
        *(event.get("inputEPCList") or ()),
        *(event.get("outputEPCList") or ()),
    ]
    quantities = [
        {"item": q.get("epcClass"), "quantity": q.get("quantity"), "uom": q.get("uom"), "list": name}
        for name in QUANTITY_LISTS
        for q in event.get(name) or ()
    ]
    anchor = block.get("anchor")
    biz_step = epcis_policy.biz_step_term(event.get("bizStep"))
    return {
        "ref": block["ref"],
        "eventType": event["type"],
        "eventTime": event.get("eventTime"),
        "action": event.get("action"),
        "bizStep": biz_step,
        "bizStepLabel": _label(biz_step),
        "disposition": epcis_policy.disposition_term(event.get("disposition")),
        "who": {"id": block["owner"]["id"], "name": block["owner"]["name"]},
        "where": {"id": location},
        "items": items,
        "quantities": quantities,
        "withheld": block["withheld"],
        "hashID": event.get("eventID") if is_hash_id(event.get("eventID")) else None,
        "anchored": anchor is not None,
        "anchor": anchor,
    }


def summary_mismatches(step: dict[str, Any]) -> list[str]:
    """The summary fields of a journey step that do not say what its event view says (a place's
    display name and the signer's key custody are the service's labels, not committed fields)."""
    expected = step_summary(step["event"])
    found = []
    for name, value in expected.items():
        actual = step.get(name)
        if name == "where":
            actual = {"id": (actual or {}).get("id")}
        if name == "who":
            actual = {k: (actual or {}).get(k) for k in ("id", "name")}
        if actual != value:
            found.append(name)
    return found


def named(event: Mapping[str, Any]) -> set[str]:
    """The items an event view names in its shown fields, canonical (event_items.named_items, on the
    fields of the types it reads: a document under check may hold anything)."""
    lists = (*EPC_LISTS, *QUANTITY_LISTS)
    sane: dict[str, Any] = {name: event[name] for name in lists if isinstance(event.get(name), list)}
    if isinstance(event.get("parentID"), str):
        sane["parentID"] = event["parentID"]
    return named_items(sane)


def related_items(journey: Mapping[str, Any]) -> set[str]:
    """The item, its lineage and its containers, canonical: what a step must name (the walk that
    found them is the service's, §9)."""
    item = canonical_id(str(_obj(journey.get("item")).get("digitalLink", "")))
    related = {item} | {
        canonical_id(str(n.get("id", ""))) for n in _list(journey.get("lineage")) if isinstance(n, dict)
    }
    related |= {canonical_id(str(c.get("id", ""))) for c in _list(journey.get("containers")) if isinstance(c, dict)}
    return related


def _count(value: Any) -> int | None:
    """A count as JSON states it: an integer, never a boolean (Python's True == 1; JSON's is not)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _record_ref(step: Any) -> str:
    """The record a step shows, as its view's leaf names it (hex compared in lower case, as its
    bytes are): two steps of one record are one record twice, however their refs are spelt."""
    event = step.get("event") if isinstance(step, dict) else None
    block = event.get(RECORD_KEY) if isinstance(event, dict) else None
    ref = block.get("ref") if isinstance(block, dict) else None
    if isinstance(ref, str):
        return ref.lower()
    return json.dumps(step.get("ref") if isinstance(step, dict) else None, sort_keys=True)


def journey_problems(journey: dict[str, Any]) -> list[str]:
    """What makes a journey document not a journey of its item, whatever its steps prove: nothing
    to verify (no step and no claim), a step twice, a step naming nothing of the item, its
    lineage or its containers."""
    steps = journey.get("steps")
    claims = journey.get("claims")
    if steps is None:
        steps = []
    if not isinstance(steps, list):
        return ["steps is not a list"]
    if not steps and not (isinstance(claims, list) and claims):
        return ["the journey has neither steps nor claims to verify"]
    related = related_items(journey)
    problems = []
    refs = [_record_ref(step) for step in steps]
    if len(set(refs)) != len(refs):
        problems.append("a step appears twice")
    for number, step in enumerate(steps, start=1):
        event = step.get("event") if isinstance(step, dict) else None
        if not isinstance(event, dict) or not named(event) & related:
            problems.append(f"step {number} names neither the item, its lineage nor a container it travelled in")
    return problems


def _obj(value: Any) -> Mapping[str, Any]:
    """`value` if it is a JSON object, else an empty one (a check then names what is missing)."""
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _event_ref(step: Any) -> Any:
    """The record reference a step's event view carries (proven by its leaf), else its summary's."""
    if not isinstance(step, Mapping):
        return None
    event = step.get("event")
    block = event.get(RECORD_KEY) if isinstance(event, Mapping) else None
    return block.get("ref") if isinstance(block, Mapping) else step.get("ref")


# --- the verdict --------------------------------------------------------------------------------


JourneyCheck = proofs.ViewCheck
"""One check of a journey (`step`: its 1-based step, `claim`: its claim uid, where it is about one)."""


@dataclass
class JourneyVerdict:
    """Every check of one journey (§9a): `failed` if any is false, `verified` if all are true,
    else `unavailable` (the chain could not be read) or `pending` (something not anchored yet)."""

    checks: list[JourneyCheck] = field(default_factory=list)
    records_not_shown: int = 0
    chain_unavailable: bool = False

    def add(
        self, name: str, ok: bool | None, detail: str, *, step: int | None = None, claim: str | None = None
    ) -> None:
        self.checks.append(JourneyCheck(name, ok, detail, step, claim))

    @property
    def status(self) -> str:
        return proofs.verdict_status([c.ok for c in self.checks], self.chain_unavailable)

    @property
    def failing(self) -> list[JourneyCheck]:
        return [c for c in self.checks if c.ok is False]

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "checks": [c.as_json() for c in self.checks],
            "recordsNotShown": self.records_not_shown,
        }


def _ok(oks: Iterable[bool | None]) -> bool | None:
    """False if any is false, else None if any could not be checked, else True."""
    found = list(oks)
    return False if False in found else None if None in found else True


# --- pins ---------------------------------------------------------------------------------------


def pins_of(pins: TrustPins | Mapping[str, Any]) -> TrustPins:
    """The verifier's pins (a TrustPins, or the JSON GET /verify/trust answers): a journey needs
    every one of PIN_NAMES; MalformedJourney names one that is missing or malformed."""
    try:
        pinned = pins if isinstance(pins, TrustPins) else TrustPins.from_json(pins)
    except ValueError as exc:
        raise MalformedJourney(f"the pins: {exc}") from None
    missing = [name for name, value in pinned.as_json().items() if name in PIN_NAMES and value is None]
    if missing:
        raise MalformedJourney(
            f"the pins name no {', '.join(missing)}: a journey is checked against all of {PIN_NAMES}"
        )
    return pinned


def _check_pins(document: Mapping[str, Any], pins: TrustPins, verdict: JourneyVerdict) -> None:
    named = _obj(document.get("verify"))
    differ = []
    for name, pinned in pins.as_json().items():
        if name not in PIN_NAMES:
            continue
        value = named.get(name)
        same = value == pinned if name == "chainId" else isinstance(value, str) and value.lower() == pinned.lower()
        if not same:
            differ.append(f"{name} (the page names {value!r}, you pin {pinned!r})")
    verdict.add(
        "pins",
        not differ,
        "the page names the chain, contracts and anchorer you pin"
        if not differ
        else "the page names other trust pins than yours: " + "; ".join(differ),
    )


# --- structure and order ------------------------------------------------------------------------


def _certifications(claims: list[Any]) -> list[dict[str, Any]]:
    return [
        {k: c.get(k) for k in ("title", "issuer", "validFrom", "validUntil", "status", "subject")}
        for c in claims
        if isinstance(c, Mapping) and c.get("kind") == "certification" and c.get("status") == "valid"
    ]


def _check_structure(document: Mapping[str, Any], verdict: JourneyVerdict) -> None:
    """journey_problems, and the summary counting what the document lists: its steps, its
    anchored steps, its claims by status and its valid certifications (the page's headline)."""
    problems = journey_problems(dict(document))
    steps = _list(document.get("steps"))
    claims = _list(document.get("claims"))
    summary = _obj(document.get("summary"))
    anchored = sum(
        1
        for s in steps
        if isinstance(s, Mapping)
        and isinstance(s.get("event"), Mapping)
        and isinstance(s["event"].get(RECORD_KEY), Mapping)
        and s["event"][RECORD_KEY].get("anchor")
    )
    if _count(summary.get("steps")) != len(steps):
        problems.append(f"the summary counts {summary.get('steps')!r} steps; the journey lists {len(steps)}")
    if _count(summary.get("anchored")) != anchored:
        problems.append(f"the summary counts {summary.get('anchored')!r} anchored steps; {anchored} are")
    counted = _obj(summary.get("claims"))
    statuses = [str(c.get("status")) for c in claims if isinstance(c, Mapping)]
    wrong = sorted(str(s) for s in set(counted) | set(statuses) if _count(counted.get(str(s), 0)) != statuses.count(s))
    if wrong:
        problems.append(f"the summary's claim counts differ from the claims listed for {wrong}")
    if summary.get("certifications") != _certifications(claims):
        problems.append("the summary's certifications are not the valid certifications the claims list")
    verdict.add(
        "structure",
        not problems,
        f"{len(steps)} steps and {len(claims)} claims, each step naming the item, its lineage or a container; "
        "the summary counts what the journey lists"
        if not problems
        else "; ".join(problems),
    )


def _moment(value: Any) -> datetime | None:
    """An EPCIS date-time (with its offset) as an instant; None if it is none."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None


def _check_order(steps: list[Any], verdict: JourneyVerdict) -> None:
    """Steps by ascending eventTime, where their views show it (§7)."""
    previous: tuple[int, datetime] | None = None
    problems = []
    for number, step in enumerate(steps, start=1):
        event = step.get("event") if isinstance(step, Mapping) else None
        if not isinstance(event, Mapping) or "eventTime" not in event:
            continue
        when = _moment(event["eventTime"])
        if when is None:
            problems.append(f"step {number}'s eventTime {event['eventTime']!r} is not a date-time with an offset")
            continue
        if previous is not None and when < previous[1]:
            problems.append(f"step {number} happened before step {previous[0]}")
        previous = (number, when)
    verdict.add(
        "order",
        not problems,
        "the steps are listed by ascending eventTime" if not problems else "; ".join(problems),
    )


# --- claims -------------------------------------------------------------------------------------

VALIDITY_CONSULTED = {
    "product-carbon-footprint": ("validityPeriodStart", "validityPeriodEnd", "referencePeriodEnd"),
    "labour-audit": ("auditDate", "nextAuditDue"),
}
"""The body fields that bound a claim's validity besides validFrom and validUntil, by schema."""


@dataclass
class ClaimFacts:
    """What a verified claim proves, for the footprint check."""

    uid: str
    ok: bool | None
    shown_status: Any
    subject: str
    body: dict[str, Any]


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _stamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _schema_name(credential: Mapping[str, Any]) -> str | None:
    """The schema name the credential's definition states (`constellate/<name> json-schema …`)."""
    schema = credential.get("credentialSchema")
    definition = schema.get("definition") if isinstance(schema, Mapping) else None
    found = re.match(r"^constellate/([a-z][a-z0-9-]*) ", definition) if isinstance(definition, str) else None
    return found[1] if found else None


def _body_proven(schema_name: str, withheld: Sequence[str]) -> bool:
    """Whether every body field bounding the claim's validity is shown (or absent) to this reader."""
    consulted = ("validFrom", "validUntil", *VALIDITY_CONSULTED.get(schema_name, ()))
    return not any(f"body/{name}" in withheld for name in consulted)


def _claim_state(record: Any, validity: Validity, now: datetime) -> str:
    """The claim's state as the chain and its shown body prove it (§8)."""
    if not record.issued_at:
        return "pending"
    if record.revoked_at:
        return "revoked"
    if validity.unreadable or (validity.ends_at is not None and validity.ends_at <= now):
        return "expired"
    if validity.starts_at is not None and validity.starts_at > now:
        return "not-yet-valid"
    return "valid"


def _status_agrees(shown: Any, proven: str, body_proven: bool) -> bool | None:
    if proven == "pending":
        return None if shown == "pending" else False
    if shown == proven:
        return True
    if shown == "disputed" and proven in ("valid", "not-yet-valid"):
        return True  # a dispute is another attestation: not looked for here (§8)
    return not body_proven and proven == "valid" and shown in ("expired", "not-yet-valid")


def _schema_on_chain(
    credential: Mapping[str, Any], registry: credential_proofs.AttestationReader | None, unavailable: bool
) -> str | None:
    """The claim's schema name as the registry defines the schema uid its issuer signed (§8):
    which body fields bound its validity follows from it, so neither the claim nor the
    credential may name it. "" for a uid the registry has no constellate schema under; None
    when the chain cannot be read."""
    uid = _obj(credential.get("credentialSchema")).get("uid")
    if registry is None or unavailable or not isinstance(uid, str) or not _HEX32.match(uid):
        return None
    try:
        definition = registry.schema_definition(bytes.fromhex(uid[2:]))
    except ChainUnavailable:
        return None
    found = re.match(r"^constellate/([a-z][a-z0-9-]*) ", definition) if definition else None
    return found[1] if found else ""


def _verify_claim(
    claim: Any, registry: credential_proofs.AttestationReader | None, now: datetime, verdict: JourneyVerdict
) -> ClaimFacts | None:
    uid = str(claim.get("uid")) if isinstance(claim, Mapping) else "?"
    credential = claim.get("credential") if isinstance(claim, Mapping) else None
    if not isinstance(credential, Mapping):
        verdict.add("claim.signature", False, "the claim carries no credential: nothing proves it", claim=uid)
        return None
    try:
        checked = credential_proofs.verify_credential(credential, registry, now=now)
    except credential_proofs.MalformedCredential as exc:
        verdict.add("claim.signature", False, f"the claim's credential cannot be read: {exc}", claim=uid)
        return None
    found = {c.name: c for c in checked.checks}
    for name, label in CLAIM_CHECKS.items():
        verdict.add(label, found[name].ok, found[name].detail, claim=uid)
    on_chain = found["on_chain"]
    verdict.add("claim.on_chain", on_chain.ok, on_chain.detail, claim=uid)
    if checked.chain_unavailable:
        verdict.chain_unavailable = True
    subject = credential.get("credentialSubject")
    subject = _obj(subject)
    body = dict(_obj(subject.get("body")))
    block = _obj(credential.get("attestation"))
    withheld = [str(w) for w in block.get("withheld") or ()]
    schema_name = _schema_on_chain(credential, registry, checked.chain_unavailable)
    if schema_name is None:  # the chain cannot say: the claim's word, and its status is unchecked
        schema_name = str(claim.get("schema") or "")
    proven_body = _body_proven(schema_name, withheld)
    until = _moment(credential.get("validUntil"))
    validity = validity_of(schema_name, body if proven_body else {}, int(until.timestamp()) if until else 0)
    record = None
    if registry is not None and not checked.chain_unavailable:
        try:
            record = registry.get_attestation(bytes.fromhex(checked.ref.removeprefix("0x")))
        except ChainUnavailable as exc:
            verdict.chain_unavailable = True
            verdict.add("claim.status", None, f"the registry cannot be read: {exc}", claim=uid)
    elif registry is None or checked.chain_unavailable:
        verdict.add("claim.status", None, "no chain to read the registry from", claim=uid)
    shown = claim.get("status")
    if record is not None:
        state = _claim_state(record, validity, now)
        agrees = _status_agrees(shown, state, proven_body)
        detail = f"shown {shown!r}; the chain and the claim's body prove {state!r}"
        if state == "revoked":
            detail += f" (revoked at {_stamp(record.revoked_at)})"
        if not proven_body:
            detail += "; its validity fields are withheld from you, so only its on-chain expiry is checked"
        verdict.add("claim.status", agrees, detail, claim=uid)
    verdict.add("claim.summary", *_summary_agrees(claim, credential, schema_name, validity, proven_body), claim=uid)
    return ClaimFacts(
        uid,
        _ok(c.ok for c in verdict.checks if c.claim == uid),
        shown,
        canonical_id(str(subject.get("id", ""))),
        body,
    )


def _summary_agrees(
    claim: Mapping[str, Any], credential: Mapping[str, Any], schema_name: str, validity: Validity, proven_body: bool
) -> tuple[bool, str]:
    """The claim as the page states it against its credential (§8): uid, issuer, schema, subject,
    body, withheld fields, expiry and (where its body proves it) its validity period."""
    subject = _obj(credential.get("credentialSubject"))
    status = _obj(credential.get("credentialStatus"))
    schema = _obj(credential.get("credentialSchema"))
    block = _obj(credential.get("attestation"))
    issuer = credential.get("issuer")
    did = str(issuer.get("id") if isinstance(issuer, Mapping) else issuer)
    stated_issuer = (claim.get("issuer") or {}).get("address") if isinstance(claim.get("issuer"), Mapping) else None
    expected: dict[str, tuple[Any, Any]] = {
        "uid": (str(claim.get("uid", "")).lower(), str(status.get("uid", "")).lower()),
        "issuer.address": (str(stated_issuer).lower(), did.rsplit(":", 1)[-1].lower()),
        "schemaUid": (str(claim.get("schemaUid", "")).lower(), str(schema.get("uid", "")).lower()),
        "schema": (schema_name, _schema_name(credential)),
        "schema as named": (claim.get("schema"), schema_name),
        "subject.id": ((claim.get("subject") or {}).get("id") if isinstance(claim.get("subject"), Mapping) else None,
                       subject.get("id")),
        "body": (claim.get("body"), subject.get("body", {})),
        "withheld": (sorted(map(str, _list(claim.get("withheld")))), sorted(map(str, _list(block.get("withheld"))))),
        "expiresAt": (_moment(claim.get("expiresAt")), _moment(credential.get("validUntil"))),
    }  # fmt: skip
    if proven_body:
        expected["validFrom"] = (claim.get("validFrom"), _day(validity.valid_from))
        expected["validUntil"] = (claim.get("validUntil"), _day(validity.valid_until))
    differ = [name for name, (stated, proven) in expected.items() if stated != proven]
    return (
        not differ,
        "the claim states what its credential proves"
        if not differ
        else f"the claim differs from its credential in {differ}",
    )


# --- completeness -------------------------------------------------------------------------------

_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")


def _hex32(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not _HEX32.match(value):
        raise ValueError(f"{name} is not 0x and 32 bytes of hex")
    return bytes.fromhex(value[2:])


@dataclass(frozen=True)
class _Entry:
    constellation: str
    item: str
    count: int
    head: bytes
    records: list[str]
    not_shown: Any
    root: bytes
    proof: list[bytes]
    leaf_count: Any
    block: int | None


def _entry(raw: Any, number: int) -> _Entry:
    if not isinstance(raw, Mapping):
        raise ValueError(f"completeness entry {number} is not an object")
    anchor = raw.get("anchor")
    if not isinstance(anchor, Mapping) or not isinstance(anchor.get("proof"), list):
        raise ValueError(f"completeness entry {number} has no anchor with a proof")
    records = raw.get("records")
    count = raw.get("count")
    if not isinstance(records, list) or not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValueError(f"completeness entry {number} has no records list and count")
    item = raw.get("item")
    if not isinstance(item, str) or not item:
        raise ValueError(f"completeness entry {number} names no item")
    block = anchor.get("blockNumber")
    return _Entry(
        constellation="0x" + _hex32(raw.get("constellation"), f"entry {number}'s constellation").hex(),
        item=item,
        count=count,
        head=_hex32(raw.get("head"), f"entry {number}'s head"),
        records=["0x" + _hex32(r, f"a record of entry {number}").hex() for r in records],
        not_shown=raw.get("notShown"),
        root=_hex32(anchor.get("root"), f"entry {number}'s anchor root"),
        proof=[_hex32(p, f"entry {number}'s anchor proof") for p in anchor["proof"]],
        leaf_count=anchor.get("leafCount"),
        block=block if isinstance(block, int) and not isinstance(block, bool) and block >= 0 else None,
    )


def _step_facts(steps: list[Any]) -> list[tuple[int, str, str, bool, set[str]]]:
    """Per step: its number, record ref, constellation, whether it is anchored, the items it names."""
    found = []
    for number, step in enumerate(steps, start=1):
        event = _obj(_obj(step).get("event"))
        block = event.get(RECORD_KEY)
        if not isinstance(block, Mapping):
            continue
        constellation = block.get("constellation")
        cid = constellation.get("id") if isinstance(constellation, Mapping) else None
        found.append(
            (
                number,
                str(block.get("ref", "")).lower(),
                str(cid).lower(),
                bool(block.get("anchor")),
                named(event),
            )
        )
    return found


def _check_completeness(
    document: Mapping[str, Any], reader: ProofReader | None, pins: TrustPins, verdict: JourneyVerdict
) -> None:
    """§7: each entry's records recompute its anchored item state; every anchored step is in its
    constellation's chain of each related item it names; the records not shown are counted."""
    from service.domain.commitments import chain_head, item_hash, item_state_leaf

    steps = _list(document.get("steps"))
    raw = document.get("completeness")
    facts = _step_facts(steps)
    anchored = [f for f in facts if f[3]]
    if raw is None and not anchored:
        verdict.add("completeness", True if not facts else None, "no anchored step: no record chain to show yet")
        return
    if not isinstance(raw, list):
        verdict.add("completeness", False, "the journey carries no completeness proof (§7) for its anchored steps")
        return
    try:
        entries = [_entry(e, n) for n, e in enumerate(raw, start=1)]
    except ValueError as exc:
        verdict.add("completeness", False, f"a completeness entry cannot be read: {exc}")
        return
    shown = {f[1] for f in facts}
    problems: list[str] = []
    chain_oks: list[bool | None] = []
    related = related_items(document)
    chains: dict[tuple[str, str], set[str]] = {}
    for number, entry in enumerate(entries, start=1):
        chains.setdefault((entry.constellation, canonical_id(entry.item)), set()).update(entry.records)
        if len(entry.records) != entry.count or chain_head(_hex32(r, "record") for r in entry.records) != entry.head:
            problems.append(f"entry {number} ({entry.item}): its records do not chain to its head and count")
            continue
        missing = len(set(entry.records) - shown)
        if _count(entry.not_shown) != missing:
            problems.append(
                f"entry {number} ({entry.item}) says {entry.not_shown!r} records not shown; {missing} are not"
            )
        leaf = item_state_leaf(entry.constellation, item_hash(entry.item), entry.count, entry.head)
        if not verify_proof(entry.root, leaf, entry.proof):
            problems.append(f"entry {number} ({entry.item}): its item state does not prove into its anchor root")
            continue
        ok, detail = _root_on_chain(reader, pins, entry)
        chain_oks.append(ok)
        if ok is False:
            problems.append(f"entry {number} ({entry.item}): {detail}")
    for number, ref, cid, is_anchored, items in facts:
        if not is_anchored:
            continue
        if not any(ref in records for (c, _), records in chains.items() if c == cid):
            problems.append(f"step {number} is in no record chain of its constellation")
            continue
        for item in sorted(items & related):
            if ref not in chains.get((cid, item), set()):
                problems.append(f"step {number} names {item}, whose record chain is not shown with it")
    hidden = set().union(*chains.values()) - shown if chains else set()
    verdict.records_not_shown = len(hidden)
    summary = _obj(document.get("summary"))
    if _count(summary.get("recordsNotShown")) != len(hidden):
        problems.append(
            f"the summary says {summary.get('recordsNotShown')!r} records are not shown; {len(hidden)} are not"
        )
    ok = False if problems else _ok(chain_oks)
    verdict.add(
        "completeness",
        ok,
        "; ".join(problems)
        if problems
        else f"{len(entries)} item record chains prove every anchored step in them; "
        f"{len(hidden)} of their records are not shown to you",
    )


def _root_on_chain(reader: ProofReader | None, pins: TrustPins, entry: _Entry) -> tuple[bool | None, str]:
    """§6 for an item-state leaf: its root on the pinned ProvenanceAnchor, anchored by the pinned
    anchorer with the entry's leaf count, its RootAnchored log naming the entry's constellation."""
    if reader is None:
        return None, "no chain to read the root from"
    try:
        state = reader.anchor(entry.root)
        if not state.on_chain:
            return None, f"root 0x{entry.root.hex()} is not on chain yet"
        log = reader.anchoring(entry.root, entry.block)
    except ChainUnavailable as exc:
        return None, str(exc)
    if log is None:
        return None, f"root 0x{entry.root.hex()} is on chain but the endpoint returns no RootAnchored log of it"
    problems = []
    if state.by.lower() != pins.anchorer.lower():
        problems.append(f"its root was anchored by {state.by}, not the pinned anchorer")
    if state.leaf_count != entry.leaf_count:
        problems.append(f"its root has {state.leaf_count} leaves, not {entry.leaf_count!r}")
    if log.constellation != entry.constellation:
        problems.append(f"its root was anchored for constellation {log.constellation}, not {entry.constellation}")
    return (False, "; ".join(problems)) if problems else (True, f"anchored in block {log.block_number}")


# --- footprint ----------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A finite JSON number (never a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _close(a: Any, b: Any) -> bool:
    x, y = _number(a), _number(b)
    return x is not None and y is not None and abs(x - y) <= TOLERANCE * max(1.0, abs(x), abs(y))


def _net_contents(raw: Any) -> dict[str, tuple[float, str]]:
    found = {}
    for klass, entry in (raw or {}).items() if isinstance(raw, Mapping) else ():
        value = _number(_obj(entry).get("value"))
        if value is not None and isinstance(_obj(entry).get("unit"), str):
            found[str(klass)] = (value, str(entry["unit"]))
    return found


def amounts(
    event: Mapping[str, Any], epc_field: str, quantity_field: str, net: Mapping[str, tuple[float, str]]
) -> dict[str, tuple[float, str] | None]:
    """Each item of one side of a transformation with its amount in declared units (§8): a
    quantity in a unit of UNITS converted, one without a unit times its class's net content, an
    EPC its class's net content; entries of one item summed; None where it cannot be known."""
    found: dict[str, tuple[float, str] | None] = {}

    def add(identifier: str, amount: tuple[float, str] | None) -> None:
        if identifier not in found:
            found[identifier] = amount
            return
        before = found[identifier]
        same = before is not None and amount is not None and before[1] == amount[1]
        found[identifier] = (before[0] + amount[0], amount[1]) if same and before and amount else None

    for entry in event.get(quantity_field) or ():
        if not isinstance(entry, Mapping):
            continue
        identifier = canonical_id(str(entry.get("epcClass", "")))
        quantity = _number(entry.get("quantity"))
        unit = UNITS.get(entry.get("uom") or "")
        if quantity is None:
            add(identifier, None)
        elif unit is not None:
            add(identifier, (quantity * unit[1], unit[0]))
        else:
            per = net.get(class_of(identifier))
            add(identifier, (quantity * per[0], per[1]) if per else None)
    for epc in event.get(epc_field) or ():
        identifier = canonical_id(str(epc))
        per = net.get(class_of(identifier))
        add(identifier, per)
    return found


def _speaks_for(subject: str, item: str) -> bool:
    """A footprint of the item itself, its lot or its class counts for it."""
    return subject in {item, class_of(item), *([lot_of(item)] if lot_of(item) else [])}


def _figure(claim: ClaimFacts | None, item: str, unit: str | None) -> tuple[float | None, str]:
    """The verified pCfExcludingBiogenic of a valid footprint claim about `item` in `unit`."""
    if claim is None:
        return None, "names no claim of this journey"
    figure = _number(claim.body.get("pCfExcludingBiogenic"))
    if claim.ok is False:
        return None, f"rests on claim {claim.uid}, which fails verification"
    if claim.shown_status != "valid":
        return None, f"counts claim {claim.uid}, shown {claim.shown_status!r}, not valid"
    if not _speaks_for(claim.subject, item):
        return None, f"counts claim {claim.uid}, which is about {claim.subject}, not {item}"
    if figure is None or (unit is not None and claim.body.get("declaredUnit") != unit):
        return None, f"counts claim {claim.uid}, which shows no pCfExcludingBiogenic per {unit}"
    return figure, ""


@dataclass
class _Recomputed:
    """A footprint's intensity as verified figures give it, and what disagrees with the document."""

    intensity: float | None = None
    problems: list[str] = field(default_factory=list)
    pending: bool = False
    """It rests on a claim not on chain yet."""


def _recompute(
    footprint: Mapping[str, Any],
    item: str,
    steps: Mapping[str, Mapping[str, Any]],
    claims: Mapping[str, ClaimFacts],
    net: Mapping[str, tuple[float, str]],
    depth: int = 0,
) -> _Recomputed:
    """§8: an attested footprint's figure from its verified claim; a rolled-up one's from the step
    that made the item, its inputs' verified figures (or their own footprints, recursively)."""
    found = _Recomputed()
    if canonical_id(str(footprint.get("identifier", ""))) != item:
        found.problems.append(f"the footprint of {item} names another item")
    source, unit = footprint.get("source"), footprint.get("declaredUnit")
    if source == "attested":
        uid = str(footprint.get("claimUid", "")).lower()
        claim = claims.get(uid)
        if claim is not None and claim.shown_status == "pending" and claim.ok is not False:
            found.pending = True
            return found
        found.intensity, why = _figure(claim, item, unit if isinstance(unit, str) else None)
        if found.intensity is None:
            found.problems.append(f"the footprint of {item} {why}")
    elif source == "rolled up":
        _roll_up(footprint, item, steps, claims, net, depth, found)
    else:
        found.problems.append(f"the footprint of {item} is of source {source!r}: nothing to recompute it from")
    return found


def _roll_up(
    footprint: Mapping[str, Any],
    item: str,
    steps: Mapping[str, Mapping[str, Any]],
    claims: Mapping[str, ClaimFacts],
    net: Mapping[str, tuple[float, str]],
    depth: int,
    found: _Recomputed,
) -> None:
    if depth > 25:
        found.problems.append("the roll-up nests deeper than 25 levels")
        return
    made_by = steps.get(str(footprint.get("madeBy", "")).lower())
    if made_by is None:
        found.problems.append(f"the step that made {item} ({footprint.get('madeBy')!r}) is not a step of the journey")
        return
    outputs = amounts(made_by, "outputEPCList", "outputQuantityList", net)
    inputs = amounts(made_by, "inputEPCList", "inputQuantityList", net)
    made = item if item in outputs else lot_of(item)  # a unit carries its lot's footprint
    mine = outputs.get(made) if made is not None else None
    if mine is None:
        found.problems.append(f"the step that made {item} does not say how much of it it made")
        return
    total_out = sum(a[0] for a in outputs.values() if a is not None and a[1] == mine[1])
    listed = _list(footprint.get("inputs"))
    if {str(i.get("identifier")) for i in listed if isinstance(i, Mapping)} != set(inputs):
        found.problems.append(f"the inputs listed for {item} are not the inputs of the step that made it")
    emitted = 0.0
    for entry in listed:
        if not isinstance(entry, Mapping):
            continue
        source = str(entry.get("identifier"))
        if not entry.get("counted"):
            if entry.get("kgCO2e") is not None:
                found.problems.append(f"input {source} is not counted, yet adds {entry.get('kgCO2e')} kg")
            continue
        amount = inputs.get(source)
        if amount is None or not _close(amount[0], entry.get("amount")) or amount[1] != entry.get("unit"):
            found.problems.append(f"the amount of input {source} is not what the step that made {item} says")
            continue
        nested = entry.get("footprint")
        if isinstance(nested, Mapping):
            upstream = _recompute(nested, source, steps, claims, net, depth + 1)
            found.problems += upstream.problems
            found.pending |= upstream.pending
            intensity = upstream.intensity
            if intensity is not None and not _close(round(intensity, 6), nested.get("kgCO2ePerDeclaredUnit")):
                found.problems.append(f"the footprint of input {source} is not what its verified figures give")
            if nested.get("declaredUnit") != amount[1]:
                found.problems.append(f"the footprint of input {source} is not per {amount[1]}")
        else:
            uid = str(entry.get("claimUid", "")).lower()
            claim = claims.get(uid)
            if claim is not None and claim.shown_status == "pending" and claim.ok is not False:
                found.pending = True
                continue
            intensity, why = _figure(claim, source, amount[1])
            if intensity is None:
                found.problems.append(f"input {source} {why}")
        if intensity is None:
            continue
        kg = amount[0] * intensity
        if not _close(kg, entry.get("kgCO2e")):
            found.problems.append(
                f"input {source} adds {entry.get('kgCO2e')} kg; its verified figures give {round(kg, 6)}"
            )
        emitted += kg
    if total_out <= 0:
        found.problems.append(f"the step that made {item} names no amount made")
        return
    found.intensity = emitted / total_out


def _check_footprint(document: Mapping[str, Any], claims: Mapping[str, ClaimFacts], verdict: JourneyVerdict) -> None:
    """§8: the headline recomputed from verified figures."""
    footprint = document.get("footprint")
    headline = footprint.get("kgCO2ePerDeclaredUnit") if isinstance(footprint, Mapping) else None
    if not isinstance(footprint, Mapping) or headline is None:
        verdict.add("footprint", True, "the journey states no carbon headline")
        return
    item = canonical_id(str(_obj(document.get("item")).get("digitalLink", "")))
    steps = {
        _event_ref(s).lower(): s["event"]
        for s in _list(document.get("steps"))
        if isinstance(s, Mapping) and isinstance(s.get("event"), Mapping) and isinstance(_event_ref(s), str)
    }
    found = _recompute(footprint, item, steps, claims, _net_contents(footprint.get("netContent")))
    problems = found.problems
    unit = footprint.get("declaredUnit")
    if found.intensity is not None and not _close(round(found.intensity, 6), headline):
        problems.append(f"the headline {headline} is not the {round(found.intensity, 6)} verified figures give")
    product = _obj(document.get("product"))
    per_unit = footprint.get("kgCO2ePerUnit")
    if per_unit is not None:
        net, net_unit = product.get("netContent"), product.get("netContentUnit")
        figure, net_figure = _number(headline), _number(net)
        if net_unit != unit or figure is None or net_figure is None or not _close(per_unit, figure * net_figure):
            problems.append("the figure per unit is not the headline times the product's net content")
    if problems:
        verdict.add("footprint", False, "; ".join(problems))
    elif found.pending:
        verdict.add("footprint", None, "the headline rests on a claim not on chain yet")
    else:
        verdict.add(
            "footprint",
            True,
            f"the headline {headline} kg CO2e per {unit} follows from verified figures ({footprint.get('source')})",
        )


# --- the journey --------------------------------------------------------------------------------


def _verify_steps(steps: list[Any], reader: ProofReader | None, pins: TrustPins, verdict: JourneyVerdict) -> None:
    for number, step in enumerate(steps, start=1):
        event = step.get("event") if isinstance(step, Mapping) else None
        try:
            checked = proofs.verify_event_view(event, reader, pins=pins)
        except (proofs.MalformedView, ValueError, KeyError, TypeError) as exc:
            verdict.add("disclosed_fields", False, f"the step's view cannot be read: {exc}", step=number)
            continue
        for check in checked.checks:
            verdict.add(check.name, check.ok, check.detail, step=number)
        verdict.chain_unavailable |= checked.chain_unavailable
        try:
            mismatches = summary_mismatches(dict(step))
        except (KeyError, TypeError, AttributeError) as exc:
            mismatches = [f"(unreadable: {exc})"]
        verdict.add(
            "summary",
            not mismatches,
            "the step's summary says what its proven view says"
            if not mismatches
            else "the step's summary differs from its proven view in " + ", ".join(mismatches),
            step=number,
        )


def _prefetch(document: Mapping[str, Any], reader: ProofReader) -> None:
    """Reads every root, role and attestation the journey names in a few batched round trips:
    each check then reads from memory (a 200-step journey costs two or three)."""
    views = [_obj(s).get("event") for s in _list(document.get("steps"))]
    reads = [r for r in (proofs.view_reads(v) for v in views) if r is not None]
    roots = [root for root, _ in reads]
    for number, raw in enumerate(_list(document.get("completeness")), start=1):
        try:
            entry = _entry(raw, number)
        except ValueError:
            continue  # the completeness check says what is wrong with it
        roots.append((entry.root, entry.block))
    uids, schemas = [], []
    for claim in _list(document.get("claims")):
        credential = _obj(_obj(claim).get("credential"))
        uid = _obj(credential.get("credentialStatus")).get("uid")
        if isinstance(uid, str) and _HEX32.match(uid):
            uids.append(bytes.fromhex(uid[2:]))
        schema = _obj(credential.get("credentialSchema")).get("uid")
        if isinstance(schema, str) and _HEX32.match(schema):
            schemas.append(bytes.fromhex(schema[2:]))
    with contextlib.suppress(ChainUnavailable):  # each read then says so in its own check
        reader.prefetch(roots=roots, roles=[role for _, role in reads], uids=uids, schemas=schemas)


def verify_journey(
    document: Any, reader: ProofReader | None, pins: TrustPins | Mapping[str, Any], now: datetime | None = None
) -> JourneyVerdict:
    """Checks a journey document (GET /01/… as JSON) with only the chain and your pins (§7-§9a):
    `pins`, `structure`, every step as a record view plus its `summary`, `order`,
    `completeness`, every claim (`claim.*`) and the `footprint` headline. `reader` None: all
    but the chain. Raises MalformedJourney for a document that is not a journey at all, or pins
    that are not pins."""
    now = now or datetime.now(UTC)
    pinned = pins_of(pins)
    if not isinstance(document, Mapping) or not isinstance(document.get("item"), Mapping):
        raise MalformedJourney("a journey is a JSON object with an item (GET /01/… asking for JSON)")
    steps = _list(document.get("steps"))
    claims = _list(document.get("claims"))
    verdict = JourneyVerdict()
    if reader is not None:
        _prefetch(document, reader)
    _check_pins(document, pinned, verdict)
    _check_structure(document, verdict)
    _verify_steps(steps, reader, pinned, verdict)
    _check_order(steps, verdict)
    _check_completeness(document, reader, pinned, verdict)
    verified: dict[str, ClaimFacts] = {}
    for claim in claims:
        facts = _verify_claim(claim, reader, now, verdict)
        if facts is not None:
            verified[facts.uid.lower()] = facts
    _check_footprint(document, verified, verdict)
    if reader is None:
        verdict.chain_unavailable = True
    return verdict


__all__ = [
    "PIN_NAMES",
    "JourneyCheck",
    "JourneyVerdict",
    "MalformedJourney",
    "journey_problems",
    "pins_of",
    "related_items",
    "step_summary",
    "summary_mismatches",
    "verify_journey",
]
