"""The journey document (service/web/journeys.py) as a shopper reads it, in one language: the
recall first, what the product is and where it came from, claims by their status words and
dates, pledges apart from certifications, the carbon figure with its coverage, and every step
in plain words. Technical terms stay in the document and in the page's collapsed details.

The page renders this view once per data revision and language, so nothing here is per request."""

from __future__ import annotations

from typing import Any

import orjson

from service.domain.gs1 import item_of
from service.domain.view_format import RECORD_KEY
from service.epcis.identifiers import canonical_id
from service.web import vocabulary as vocab
from service.web.i18n import Words, parse_day

N_ = vocab.N_

KINDS = {
    "certification": "certification",
    "product-carbon-footprint": "footprint",
    "commitment": "pledge",
    "labour-audit": "audit",
    "origin": "origin",
}
"""A claim's kind by its schema, while a document does not say it (`kind`)."""

CHAINS = {
    1: N_("Ethereum"),
    10: N_("OP Mainnet"),
    137: N_("Polygon"),
    8453: N_("Base"),
    42161: N_("Arbitrum One"),
    11155111: N_("the Sepolia test network"),
    31337: N_("a local test chain"),
}

FOOTPRINT_STATES = {
    "valid": N_("Verified"),
    "verified": N_("Verified"),
    "partly verified": N_("Partly verified"),
    "unverified": N_("Not yet anchored"),
    "pending": N_("Not yet anchored"),
    "missing": N_("Not shared"),
    "expired": N_("Expired"),
    "revoked": N_("Revoked"),
    "not-yet-valid": N_("Not yet valid"),
    "disputed": N_("Disputed"),
    "failed": N_("Refused by the chain"),
    "rolled up": N_("Added up from its own inputs"),
}

PROGRESS = {
    "met": N_("Met"),
    "on track": N_("On track"),
    "behind": N_("Behind"),
    "missed": N_("Missed"),
    "unknown": N_("Progress not shared"),
}

BOUNDARIES = {
    "cradle-to-gate": N_("from raw materials until it leaves the producer"),
    "cradle-to-grave": N_("from raw materials to disposal"),
    "gate-to-gate": N_("one site only"),
    "cradle-to-farm-gate": N_("from cultivation to the farm gate"),
}

QUIET_DISPOSITIONS = frozenset({"active", "in_progress"})
"""States that tell a shopper nothing (an item is active once made, in progress while handled):
kept in the step's details only."""

DEFAULT_ADVICE = N_(
    "Do not eat or use this product. Return it to the shop where you bought it, or throw it away, "
    "and follow the brand's notice."
)
"""The domain's default advice (service/domain/journeys.py), as a message: said in every language."""


def shopper_view(doc: dict[str, Any], w: Words) -> dict[str, Any]:
    """Everything the journey page says in words, from the journey document."""
    names = _product_names(doc)
    claims = doc.get("claims") or []
    pledge_claims = [c for c in claims if _kind(c) == "pledge"]
    return {
        "recall": _recall(doc, w, names),
        "origin": _origin(doc, w),
        "certifications": _certifications(doc, w, names),
        "claim_counts": _claim_counts(claims, w),
        "footprint": _footprint(doc, w, names),
        "steps": [_step(s, doc, w, names) for s in doc.get("steps") or []],
        "observations": [_step(s, doc, w, names) for s in doc.get("observations") or []],
        "claims": [_claim(c, doc, w, names) for c in claims if _kind(c) != "pledge"],
        "pledges": _pledges(doc, pledge_claims, w),
        "verified": _verified(doc, w),
        "lot_label": _lot_label(doc.get("item") or {}, w),
        "item_names": {n["id"]: item_name(n["id"], doc, w, names) for n in doc.get("lineage") or []},
    }


# --- names -----------------------------------------------------------------------------------


def _product_names(doc: dict[str, Any]) -> dict[str, str]:
    """Product names by GTIN, from the master data the document carries."""
    names = {gtin: p.get("name") for gtin, p in (doc.get("products") or {}).items() if isinstance(p, dict)}
    product = doc.get("product")
    if product and product.get("name"):
        names[product["gtin"]] = product["name"]
    return {gtin: name for gtin, name in names.items() if name}


def _lot_label(item: dict[str, Any], w: Words) -> str:
    if item.get("serial"):
        return w("Lot %(lot)s, unit %(serial)s", lot=item.get("lot") or "—", serial=item["serial"])
    return w("Lot %(lot)s", lot=item["lot"]) if item.get("lot") else ""


def item_name(identifier: str | None, doc: dict[str, Any], w: Words, names: dict[str, str]) -> str:
    """An item as a product name and lot number; a container or place by what it is."""
    if not identifier:
        return ""
    key = item_of(identifier)
    if key is not None:
        name = names.get(key.gtin)
        parts = [name] if name else []
        if key.lot:
            parts.append(w("lot %(lot)s", lot=key.lot))
        if key.serial:
            parts.append(w("unit %(serial)s", serial=key.serial))
        if not parts:
            return w("a product")
        text = ", ".join(parts)
        return text[:1].upper() + text[1:]
    if "/00/" in identifier:
        return w("A shipping unit (pallet or container)")
    if "/414/" in identifier:
        return place_name(identifier, doc, w) or w("A site")
    return w("An item")


def place_name(place_id: str | None, doc: dict[str, Any], w: Words, who: str = "") -> str | None:
    """A place by its name, town and country (the places' master data), without the name of `who`
    recorded there when it starts with it (shown already); None when the journey names it only by
    its identifier, or only after the partner recording there."""
    if not place_id:
        return None
    place = (doc.get("places") or {}).get(place_id)
    if not isinstance(place, dict):
        return None
    where = ", ".join(p for p in (place.get("city"), w.country(place.get("country"))) if p)
    name = str(place.get("name") or "")
    if who and name.startswith(who + ", "):
        name = name[len(who) + 2 :]
    return (f"{name} · {where}" if name and where else name or where) or None


def _party_name(party: Any) -> str:
    if isinstance(party, dict):
        return str(party.get("name") or "")
    return str(party or "")


# --- the first screen ------------------------------------------------------------------------


def _recall(doc: dict[str, Any], w: Words, names: dict[str, str]) -> dict[str, Any] | None:
    recall = doc.get("recall")
    if recall:
        listed = [i for i in recall.get("items") or () if isinstance(i, dict)]
        items = [
            {
                "name": _recalled_item(i, doc, w, names),
                "by": _party_name(i.get("by") or recall.get("by")),
                "at": w.date(i.get("at") or recall.get("at")),
                "advice": i.get("advice"),
            }
            for i in listed
        ]
        items = [i for i in items if i["name"]]
        advice = recall.get("advice") if recall.get("adviceSource") != "default" else None
        recallers = {(i["by"], i["at"]) for i in items}
        return {
            "by": _party_name(recall.get("by")),
            "at": w.date(recall.get("at")),
            "at_iso": recall.get("at"),
            "advice": advice or w(DEFAULT_ADVICE),
            "link": recall.get("statusLink"),
            "items": [i["name"] for i in items],
            # several recalls (the brand's, a coordinator's, an input's brand's): each item says whose
            "recalls": [
                w("%(item)s: recalled by %(name)s on %(date)s", item=i["name"], name=i["by"], date=i["at"])
                if i["at"]
                else w("%(item)s: recalled by %(name)s", item=i["name"], name=i["by"])
                for i in items
            ]
            if len(recallers) > 1
            else [],
            "advices": list(dict.fromkeys(i["advice"] for i in items if i["advice"])) if len(recallers) > 1 else [],
        }
    status = doc.get("status")
    if status and status.get("state") == "recalled":
        return {
            "by": _party_name(status.get("by")),
            "at": w.date(status.get("eventTime")),
            "at_iso": status.get("eventTime"),
            "advice": w(DEFAULT_ADVICE),
            "link": None,
            "items": [],
        }
    return None


def _recalled_item(item: dict[str, Any], doc: dict[str, Any], w: Words, names: dict[str, str]) -> str:
    """A recalled item in this language where its product is named here, else as the journey labels it."""
    key = item_of(str(item.get("id") or ""))
    if (key is not None and key.gtin in names) or not item.get("label"):
        return item_name(item.get("id"), doc, w, names)
    return str(item["label"])


def _origin(doc: dict[str, Any], w: Words) -> dict[str, Any] | None:
    origin = doc.get("origin")
    if not origin:
        return None
    regions = [r for r in origin.get("regions") or () if r]
    countries = [w.country(c) for c in origin.get("countries") or () if c]
    producers = [_party_name(p) for p in origin.get("producers") or ()]
    producers = [p for p in producers if p]
    if not (regions or countries or producers):
        return None
    # The makers of the earliest goods shared are the producers only when a valid origin claim
    # says where the goods come from; else they are only as far back as the trail goes: a reader
    # who may not see a product's inputs cannot tell its maker from its producer (the public sees
    # a chocolate back to its cocoa mass, not to the farms).
    backed = any(_kind(c) == "origin" and c.get("status") == "valid" for c in doc.get("claims") or ())
    traced = not backed
    return {"regions": regions, "countries": countries, "producers": producers, "traced": traced}


def _issuer(claim: dict[str, Any]) -> str:
    return _party_name(claim.get("issuer"))


def _kind(claim: dict[str, Any]) -> str:
    return str(claim.get("kind") or KINDS.get(claim.get("schema") or "", "other"))


GENERIC_TITLES = frozenset(vocab.SCHEMAS.values())
"""The titles a document gives a claim that names no standard (its kind's name, in English)."""


def _title(claim: dict[str, Any], w: Words) -> str:
    if claim.get("title"):
        title = str(claim["title"])
        return w(title) if title in GENERIC_TITLES else title
    body = claim.get("body") or {}
    if isinstance(body.get("standard"), str) and body["standard"]:
        return body["standard"]
    word = vocab.schema_word(claim.get("schema"))
    return w(word) if word else w("Claim")


def _certifications(doc: dict[str, Any], w: Words, names: dict[str, str]) -> list[dict[str, Any]]:
    """The certifications valid now, for the first screen: name, issuer, validity, and what each
    certifies when that is not the product itself (an input's lot, a farm): a certificate of one
    bean lot of a blend never reads as the blend's."""
    listed = (doc.get("summary") or {}).get("certifications")
    if listed is None:  # a document without the summary: the valid certification claims
        listed = [
            {
                "title": _title(c, w),
                "issuer": c.get("issuer"),
                "validFrom": c.get("validFrom") or (c.get("body") or {}).get("validFrom"),
                "validUntil": c.get("validUntil") or (c.get("body") or {}).get("validUntil") or c.get("expiresAt"),
                "status": c.get("status"),
                "subject": c.get("subject"),
            }
            for c in doc.get("claims") or []
            if c.get("status") == "valid" and _kind(c) == "certification"
        ]
    shown: list[dict[str, Any]] = []
    own = {canonical_id(str(i)) for i in ((doc.get("item") or {}).get("digitalLink"),) if i}
    for cert in listed:
        since, until = w.date(cert.get("validFrom")), w.date(cert.get("validUntil"))
        if since and until:
            dates = w("valid %(start)s to %(end)s", start=since, end=until)
        elif until:
            dates = w("valid until %(date)s", date=until)
        else:
            dates = w("valid")
        entry: dict[str, Any] = {
            "title": _title(cert, w) if cert.get("title") else w("Certification"),
            "issuer": _party_name(cert.get("issuer")),
            "dates": dates,
        }
        subject = str((cert.get("subject") or {}).get("id") or "")
        held = [] if not subject or canonical_id(subject) in own else [cert]
        same = next((e for e in shown if {k: e[k] for k in entry} == entry), None)
        if same is None:
            shown.append({**entry, "held": held})
        else:  # the same certificate of several inputs is said once
            same["held"] += held
    for entry in shown:
        entry["about"] = _holders(entry.pop("held"), doc, w, names)
    return shown


def _holders(certs: list[dict[str, Any]], doc: dict[str, Any], w: Words, names: dict[str, str]) -> list[str]:
    """What certificates are about, by name, the lots of one product together: "Ghana cocoa beans,
    lots ASH-5, ASH-6"; a farm or a partner by its name."""
    lots: dict[str, list[str]] = {}  # per GTIN, in the order first named
    said: list[tuple[str, str]] = []
    for cert in certs:
        key = item_of(str((cert.get("subject") or {}).get("id") or ""))
        if key is not None and key.lot and not key.serial and key.gtin in names:
            if key.gtin not in lots:
                said.append(("lots", key.gtin))
            lots.setdefault(key.gtin, [])
            if key.lot not in lots[key.gtin]:
                lots[key.gtin].append(key.lot)
        else:
            said.append(("name", _about(cert, doc, w, names)))
    words = [
        f"{names[value]}, " + w.plural("lot %(lots)s", "lots %(lots)s", len(lots[value]), lots=", ".join(lots[value]))
        if kind == "lots"
        else value
        for kind, value in said
    ]
    return list(dict.fromkeys(words))


def _claim_counts(claims: list[dict[str, Any]], w: Words) -> str:
    """The claims that do not hold now, counted: "1 expired, 1 revoked"."""
    counts = {s: sum(1 for c in claims if c.get("status") == s and _kind(c) != "pledge") for s in STATUS_COUNTS}
    parts = [w.plural(*STATUS_COUNTS[s], counts[s]) for s in STATUS_COUNTS if counts[s]]
    return ", ".join(parts)


STATUS_COUNTS = {
    "expired": vocab.N_plural("%(num)s expired claim", "%(num)s expired claims"),
    "revoked": vocab.N_plural("%(num)s revoked claim", "%(num)s revoked claims"),
    "disputed": vocab.N_plural("%(num)s disputed claim", "%(num)s disputed claims"),
    "not-yet-valid": vocab.N_plural("%(num)s claim not yet valid", "%(num)s claims not yet valid"),
    "pending": vocab.N_plural("%(num)s claim not yet anchored", "%(num)s claims not yet anchored"),
}


# --- the carbon footprint --------------------------------------------------------------------


def _footprint(doc: dict[str, Any], w: Words, names: dict[str, str]) -> dict[str, Any]:
    """The headline in words, honest about what it covers; the inputs as a table."""
    f = doc.get("footprint") or {}
    value = f.get("kgCO2ePerDeclaredUnit")
    unit = vocab.declared_unit(f.get("declaredUnit")) or w("unit")
    headline = f.get("headline") or _headline_of(f)
    coverage = f.get("coverage") or {}
    processing = bool(f.get("processingIncluded", f.get("source") == "attested"))
    boundary = BOUNDARIES.get(str(f.get("boundary") or ""))
    biogenic = {"excluded": N_("biogenic emissions not counted"), "included": N_("biogenic emissions counted")}.get(
        str(f.get("biogenic") or "")
    )
    claims = {c.get("uid"): c for c in doc.get("claims") or []}
    scope = "; ".join(w(p) for p in (boundary, biogenic) if p)
    if headline == "not-enough-data" or value is None:
        headline, sentence, qualifier = "not-enough-data", w("Not enough shared data for a carbon footprint"), ""
    else:
        figure = w.number(value, 2)
        if headline == "complete":
            sentence = w("%(value)s kg CO₂e per %(unit)s", value=figure, unit=unit)
        else:
            sentence = w("At least %(value)s kg CO₂e per %(unit)s", value=figure, unit=unit)
        own = claims.get(f.get("claimUid")) if f.get("source") == "attested" else None
        declared = _issuer(own) if own else ""
        qualifier = (
            "; ".join(p for p in (w("declared by %(name)s", name=declared) if declared else "", scope) if p)
            if f.get("source") == "attested"  # the item's own footprint: who says it, what it covers
            else _coverage_words(coverage, processing, f, w)
        )
    per_unit = f.get("kgCO2ePerUnit")
    pack = None
    if per_unit is not None and headline != "not-enough-data":
        amount = w.number(per_unit, 2)
        pack = (
            w("%(value)s kg CO₂e per pack", value=amount)
            if headline == "complete"
            else w("at least %(value)s kg CO₂e per pack", value=amount)
        )
    inputs = []
    for part in f.get("inputs") or []:
        status = part.get("status") or "missing"
        claim = claims.get(part.get("claimUid"))
        amount = part.get("amount")
        inputs.append(
            {
                "name": item_name(part.get("identifier"), doc, w, names),
                "identifier": part.get("identifier"),
                "amount": (
                    f"{w.number(amount)} {vocab.declared_unit(part.get('unit')) or ''}".strip()
                    if amount is not None
                    else "—"
                ),
                "kg": (
                    "—"
                    if part.get("kgCO2e") is None
                    else w("at least %(value)s", value=w.number(part["kgCO2e"], 1))
                    if part.get("headline") == "at-least"  # an input's own roll-up: a lower bound too
                    else w.number(part["kgCO2e"], 1)
                ),
                "status": status,
                "status_word": _input_status(part, status, claim, w),
                "claim": claim.get("uid") if claim else None,
            }
        )
    return {
        "headline": headline,
        "sentence": sentence,
        "qualifier": qualifier,
        "pack": pack,
        "boundary": w(boundary) if boundary else None,
        "biogenic": w(biogenic) if biogenic else None,
        "scope": scope if scope and scope not in qualifier else None,  # said once
        "inputs": inputs,
        "value": value,
    }


NOT_COUNTED = {
    "amount-unknown": N_("Not counted: the amount used is not shared"),
    "unit-mismatch": N_("Not counted: its footprint is per another unit"),
    "figure-withheld": N_("Not counted: its figure is not shared"),
    "issuer-not-trusted": N_("Not counted: stated by someone who neither makes nor handles it"),
    "claim-not-valid": N_("Not counted: its claim does not hold now"),
    "inputs-unknown": N_("Not counted: its own inputs are not shared"),
    "no-claim": N_("Not shared"),
}
"""Why an input adds nothing to the roll-up (service/domain/footprints.py `_reason`), in words."""


def _input_status(part: dict[str, Any], status: str, claim: dict[str, Any] | None, w: Words) -> str:
    """An input's footprint as the roll-up takes it: a valid claim that does not count says why; a
    self-declared one says so, as its claim card does."""
    if status == "valid" and part.get("counted") is False:
        return w(NOT_COUNTED.get(str(part.get("reason") or ""), N_("Not counted")))
    if status == "valid":
        return w("Valid (self-declared)") if claim and claim.get("selfIssued") else w("Valid")
    return w(FOOTPRINT_STATES.get(status, N_("Not shared")))


def _headline_of(f: dict[str, Any]) -> str:
    """A document without `headline`: an own attested footprint is complete; a roll-up of the
    inputs' footprints is at least that (the processing is never in it); nothing is no data."""
    if f.get("kgCO2ePerDeclaredUnit") is None:
        return "not-enough-data"
    return "complete" if f.get("source") == "attested" and f.get("status") == "verified" else "at-least"


def _coverage_words(coverage: dict[str, Any], processing: bool, f: dict[str, Any], w: Words) -> str:
    parts = []
    share = coverage.get("massShare")
    covered, total = coverage.get("inputsCovered"), coverage.get("inputsTotal")
    if share is not None:
        parts.append(w("inputs making up %(share)s of the mass have a valid shared footprint", share=w.percent(share)))
    elif covered is not None and total:
        parts.append(
            w(
                "%(covered)s of %(total)s inputs with a valid shared footprint",
                covered=w.number(covered),
                total=w.number(total),
            )
        )
    elif f.get("source") == "rolled up":
        verified = sum(1 for i in f.get("inputs") or () if i.get("status") in ("verified", "valid"))
        parts.append(
            w(
                "%(covered)s of %(total)s inputs with a valid shared footprint",
                covered=w.number(verified),
                total=w.number(len(f.get("inputs") or ())),
            )
        )
    if not processing:
        parts.append(w("processing steps not included"))
    return "; ".join(parts)


# --- claims and pledges ----------------------------------------------------------------------


def status_words(claim: dict[str, Any], w: Words) -> str:
    """A claim's state with its date: "Valid until 31 Mar 2027", "Expired on 31 Jan 2025"."""
    status = claim.get("status")
    body = claim.get("body") or {}
    when = claim.get("statusDate")
    if when is None and status in ("valid", "expired"):
        when = claim.get("validUntil") or body.get("validUntil") or claim.get("expiresAt")
    if when is None and status == "not-yet-valid":
        when = claim.get("validFrom") or body.get("validFrom")
    day = w.date(when) if when else ""
    dated = {
        "valid": (N_("Valid until %(date)s"), N_("Valid")),
        "not-yet-valid": (N_("Not valid before %(date)s"), N_("Not yet valid")),
        "expired": (N_("Expired on %(date)s"), N_("Expired")),
        "revoked": (N_("Revoked on %(date)s"), N_("Revoked")),
        "disputed": (N_("Disputed since %(date)s"), N_("Disputed")),
        "pending": (N_("Not yet anchored on chain"), N_("Not yet anchored on chain")),
        "failed": (N_("Refused by the chain"), N_("Refused by the chain")),
    }.get(str(status), (N_("Status unknown"), N_("Status unknown")))
    if status == "disputed" and _party_name(claim.get("disputedBy")):
        by = _party_name(claim.get("disputedBy"))
        said = (
            w("Disputed by %(name)s since %(date)s", name=by, date=day) if day else w("Disputed by %(name)s", name=by)
        )
        reason = claim.get("disputeReason")
        return w("%(status)s: %(reason)s", status=said, reason=reason) if isinstance(reason, str) and reason else said
    return w(dated[0], date=day) if day and "%(date)s" in dated[0] else w(dated[1])


def _about(claim: dict[str, Any], doc: dict[str, Any], w: Words, names: dict[str, str]) -> str:
    subject = claim.get("subject") or {}
    identifier = subject.get("id") or ""
    issuer = claim.get("issuer") or {}
    if (subject.get("kind") == "member" or identifier.startswith("urn:constellate:member:")) and (
        isinstance(issuer, dict) and issuer.get("id") == identifier.rsplit(":", 1)[-1]
    ):
        return str(issuer.get("name") or w("its issuer"))
    return _subject_name(subject, doc, w, names)


def _subject_name(subject: dict[str, Any], doc: dict[str, Any], w: Words, names: dict[str, str]) -> str:
    """What a claim is about, by name: a partner, a place, or a product and its lot."""
    identifier = str(subject.get("id") or "")
    if subject.get("kind") == "member" or identifier.startswith("urn:constellate:member:"):
        member = identifier.rsplit(":", 1)[-1]
        for step in doc.get("steps") or ():
            if step["who"]["id"] == member:
                return str(step["who"]["name"])
        return w("A partner")
    if subject.get("kind") == "location" or "/414/" in identifier:
        return place_name(identifier, doc, w) or w("A site")
    return item_name(identifier, doc, w, names)


def _fact_value(key: str, value: Any, w: Words) -> str | None:
    if isinstance(value, dict):
        return None
    if isinstance(value, bool):
        return w("Yes") if value else w("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if not isinstance(v, dict | list))
    if key in vocab.DATE_FIELDS and isinstance(value, str) and parse_day(value) is not None:
        return w.date(value)
    if key in vocab.COUNTRY_FIELDS and isinstance(value, str):
        return w.country(value)
    if key == "declaredUnit" and isinstance(value, str):
        return vocab.declared_unit(value) or value
    if key == "result" and value in vocab.AUDIT_RESULTS:
        return w(vocab.AUDIT_RESULTS[value])
    if isinstance(value, int) and key.lower().endswith("year"):
        return str(value)
    if isinstance(value, float | int):
        return w.number(value)
    return str(value)


def _facts(body: dict[str, Any], w: Words, skip: set[str]) -> list[tuple[str, str]]:
    facts = []
    for key, value in body.items():
        if key in skip:
            continue
        shown = _fact_value(key, value, w)
        if shown is None or shown == "":
            continue
        word, known = vocab.field_word(key)
        facts.append((w(word) if known else word, shown))
    return facts


def _claim_says(claim: dict[str, Any], kind: str, w: Words) -> str | None:
    """What a claim states, in one line: a footprint's figure, an origin's place, an audit's result."""
    body = claim.get("body") or {}
    if kind == "footprint" and isinstance(body.get("pCfExcludingBiogenic"), int | float):
        unit = vocab.declared_unit(body.get("declaredUnit")) or w("unit")
        return w("%(value)s kg CO₂e per %(unit)s", value=w.number(body["pCfExcludingBiogenic"], 2), unit=unit)
    if kind == "origin":
        place = [str(body["region"])] if body.get("region") else []
        place += [w.country(body["country"])] if isinstance(body.get("country"), str) else []
        return ", ".join(place) or None
    if kind == "audit" and body.get("result"):
        result = vocab.AUDIT_RESULTS.get(str(body["result"]))
        return w("Result: %(result)s", result=w(result) if result else str(body["result"]))
    return None


def _claim(claim: dict[str, Any], doc: dict[str, Any], w: Words, names: dict[str, str]) -> dict[str, Any]:
    issuer = _issuer(claim)
    kind = _kind(claim)
    if claim.get("selfIssued"):
        by = w("Self-declared by %(name)s", name=issuer)
    elif kind == "certification":
        by = w("Certified by %(name)s", name=issuer)
    else:
        by = w("Stated by %(name)s", name=issuer)
    return {
        "uid": claim.get("uid"),
        "status": claim.get("status"),
        "kind": kind,
        "says": _claim_says(claim, kind, w),
        "title": _title(claim, w),
        "by": by,
        "about": _about(claim, doc, w, names),
        "status_words": status_words(claim, w),
        "facts": _facts(claim.get("body") or {}, w, {"standard"}),
        "withheld": len(claim.get("withheld") or ()),
        "proof": claim.get("proof"),
        "explorer": claim.get("explorer"),
        "txHash": claim.get("txHash"),
        "subject": (claim.get("subject") or {}).get("id"),
        "schema": claim.get("schema"),
    }


def _pledges(doc: dict[str, Any], claims: list[dict[str, Any]], w: Words) -> list[dict[str, Any]]:
    listed = doc.get("pledges")
    if listed is None:  # a document without `pledges`: the pledges among its claims
        listed = [
            {
                "uid": c.get("uid"),
                "title": (c.get("body") or {}).get("statement") or _title(c, w),
                "by": c.get("issuer"),
                "target": None,
                "dueDate": (c.get("body") or {}).get("deadline"),
                "progress": {"state": "unknown", "detail": None},
                "status": c.get("status"),
            }
            for c in claims
        ]
    shown = []
    for pledge in listed:
        progress = pledge.get("progress") or {}
        state = str(progress.get("state") or "unknown")
        shown.append(
            {
                "uid": pledge.get("uid"),
                "title": str(pledge.get("title") or w("Pledge")),
                "by": _party_name(pledge.get("by")),
                "target": _target_words(pledge.get("target"), w),
                "due": w.date(pledge.get("dueDate")),
                "state": state,
                "state_words": w(PROGRESS.get(state, PROGRESS["unknown"])),
                "detail": _progress_words(progress.get("detail"), w),
                "withdrawn": pledge.get("status") in ("revoked", "expired"),
                "status_words": status_words(pledge, w) if pledge.get("status") in ("revoked", "expired") else None,
            }
        )
    return shown


def _target_words(target: Any, w: Words) -> str | None:
    """A pledge's target: "100 % of lots certified Fairtrade"."""
    if not isinstance(target, dict):
        return str(target) if target else None
    percent, standard = target.get("percent"), target.get("standard")
    if isinstance(percent, int | float) and standard and target.get("metric") == "certified-share":
        return w("%(share)s of lots certified %(standard)s", share=w.percent(percent / 100), standard=standard)
    if isinstance(percent, int | float):
        return " ".join(p for p in (w.percent(percent / 100), str(standard or "")) if p)
    return str(standard) if standard else None


def _progress_words(detail: Any, w: Words) -> str | None:
    """How far a pledge has come: "6 of 6 lots certified"."""
    if not isinstance(detail, dict):
        return str(detail) if detail else None
    lots, certified = detail.get("lots"), detail.get("certifiedLots")
    if isinstance(lots, int) and isinstance(certified, int):
        return w("%(certified)s of %(lots)s lots certified", certified=w.number(certified), lots=w.number(lots))
    percent = detail.get("percent")
    return w.percent(percent / 100) if isinstance(percent, int | float) else None


# --- steps ------------------------------------------------------------------------------------


def _quantity(q: dict[str, Any], w: Words) -> str:
    if q.get("quantity") is None:
        return ""
    unit = vocab.unit_symbol(q.get("uom"))
    symbol = w("units") if unit is None else w(unit[0]) if unit[1] else unit[0]
    return f"{w.number(q['quantity'])} {symbol}"


def _event_json(event: dict[str, Any] | None) -> str | None:
    """The EPCIS event as recorded, for its technical details; its salts and field proofs stay in
    the journey's JSON (they would make a phone load several times the page)."""
    if event is None:
        return None
    shown = {k: v for k, v in event.items() if k != RECORD_KEY}
    return orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode()


def _step(step: dict[str, Any], doc: dict[str, Any], w: Words, names: dict[str, str]) -> dict[str, Any]:
    word = vocab.step_word(step.get("eventType"), step.get("action"), step.get("bizStep"))
    disposition = (
        None if step.get("disposition") in QUIET_DISPOSITIONS else vocab.disposition_word(step.get("disposition"))
    )
    where = step.get("where") or {}
    made_from: list[str] = []
    made: list[str] = []
    what: list[str] = []
    for q in step.get("quantities") or []:
        line = item_name(q.get("item"), doc, w, names)
        amount = _quantity(q, w)
        text = f"{line} · {amount}" if amount else line
        {"inputQuantityList": made_from, "outputQuantityList": made}.get(q.get("list") or "", what).append(text)
    for identifier in step.get("items") or []:
        what.append(item_name(identifier, doc, w, names))
    raw_event = step.get("event")
    return {
        "ref": step.get("ref"),
        "title": w(word) if word else w("Recorded"),
        "disposition": w(disposition) if disposition else None,
        "recalled": step.get("disposition") == "recalled",
        "who": step["who"]["name"],
        "where": place_name(where.get("id"), doc, w, step["who"]["name"]),
        "when": w.date(step.get("eventTime")),
        "when_iso": step.get("eventTime"),
        "made_from": made_from,
        "made": made,
        "what": list(dict.fromkeys(what)),
        "withheld": step.get("withheld") or [],
        "anchored": step.get("anchored"),
        "technical": {
            "eventType": step.get("eventType"),
            "action": step.get("action"),
            "bizStep": step.get("bizStep"),
            "disposition": step.get("disposition"),
            "where": where.get("id"),
            "items": [q.get("item") for q in step.get("quantities") or []] + list(step.get("items") or []),
            "units": sorted({q["uom"] for q in step.get("quantities") or [] if q.get("uom")}),
            "hashID": step.get("hashID"),
            "json": _event_json(raw_event),
        },
    }


# --- what "verified" means ---------------------------------------------------------------------


def _verified(doc: dict[str, Any], w: Words) -> dict[str, Any]:
    verify = doc.get("verify") or {}
    chain_id = verify.get("chainId")
    chain = CHAINS.get(chain_id) if isinstance(chain_id, int) else None
    chain_name = w(chain) if chain else w("chain %(id)s", id=chain_id)
    roots = verify.get("roots") or []
    steps = doc.get("steps") or []
    signers = sorted({s["who"]["name"] for s in steps if s.get("who", {}).get("name")})
    # whose key signed: one the service holds for its member (managed) or the member's own
    held: dict[str, set[str]] = {"managed": set(), "self": set()}
    for s in steps:
        who = s.get("who") or {}
        if who.get("name"):
            held["self" if who.get("custody") == "self" else "managed"].add(str(who["name"]))
    anchored = sum(1 for s in steps if s.get("anchored"))
    by_custody = {
        k: sum(1 for s in steps if ((s.get("who") or {}).get("custody") == "self") == (k == "self")) for k in held
    }
    signed = []
    if by_custody["managed"]:
        signed.append(
            w.plural(
                "%(num)s step was recorded under the key of the partner named on it (%(names)s), which this service holds for it: the service signed it for the partner.",
                "%(num)s steps were recorded under the keys of the partners named on them (%(names)s), which this service holds for them: the service signed them for the partners.",
                by_custody["managed"],
                names=", ".join(sorted(held["managed"])),
            )
        )
    if by_custody["self"]:
        signed.append(
            w.plural(
                "%(num)s step was signed with the own key of the partner named on it (%(names)s): not even this site could have written or changed it.",
                "%(num)s steps were signed with the own keys of the partners named on them (%(names)s): not even this site could have written or changed them.",
                by_custody["self"],
                names=", ".join(sorted(held["self"])),
            )
        )
    blocks = sorted(r["blockNumber"] for r in roots if isinstance(r.get("blockNumber"), int))
    return {
        "chain": chain_name,
        "signers": signers,
        "signed": signed,
        "custody": {k: by_custody[k] for k in held},
        "anchored": anchored,
        "total": len(steps),
        "batches": len(roots),
        "not_shown": (doc.get("summary") or {}).get("recordsNotShown") or 0,
        "blocks": (blocks[0], blocks[-1]) if blocks else None,
    }


__all__ = ["item_name", "place_name", "shopper_view", "status_words"]
