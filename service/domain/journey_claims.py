"""What a journey says about its claims, in terms a shopper reads: each claim's kind (a
certification, a footprint, a pledge...), a name for it, whether its issuer speaks about itself
(self-issued), the pledges apart with their progress, and the origin the claims and master
data share. Words for the page are the page's; this module gives it the facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import Member
from service.domain import health
from service.domain.attestations import Readable, body_path
from service.domain.claim_status import ClaimStatus
from service.domain.company_prefixes import brand_of
from service.domain.footprints import FOOTPRINT_SCHEMA
from service.domain.gs1 import item_of
from service.domain.policy import Access

KINDS = {
    "certification": "certification",
    FOOTPRINT_SCHEMA: "footprint",
    "commitment": "pledge",
    "labour-audit": "audit",
    "origin": "origin",
}
TITLES = {"footprint": "Carbon footprint", "origin": "Origin", "audit": "Labour audit", "pledge": "Pledge"}


def shows(claim: Readable, key: str) -> bool:
    return claim.shown is None or body_path(key) in claim.shown


def _text(claim: Readable, key: str) -> str | None:
    value = claim.row.body.get(key) if shows(claim, key) else None
    return value if isinstance(value, str) and value else None


def kind_of(schema_name: str) -> str:
    return KINDS.get(schema_name, "other")


def title_of(claim: Readable) -> str:
    """A person's name for the claim: the standard it certifies or audits, else its kind's."""
    kind = kind_of(claim.schema_name)
    if kind in ("certification", "audit"):
        return _text(claim, "standard") or ("Certification" if kind == "certification" else TITLES[kind])
    if kind == "pledge":
        return _text(claim, "statement") or TITLES[kind]
    return TITLES.get(kind) or claim.schema_name.replace("-", " ").capitalize()


@dataclass(frozen=True)
class ClaimFacts:
    kind: str
    title: str
    self_issued: bool
    status: ClaimStatus


def member_subject(member_id: str) -> str:
    return f"urn:constellate:member:{member_id}"


def claim_facts(*, session: Session, claims: list[Readable], statuses: dict[str, ClaimStatus]) -> dict[str, ClaimFacts]:
    """Per claim uid: its kind, title, whether it is self-issued (its issuer is its subject, the
    brand of its item's GTIN, or the holder of its place's GLN) and its status."""
    gtins = {k.gtin for k in (item_of(c.row.subject) for c in claims if c.row.subject_kind == "item") if k}
    brands = {gtin: brand_of(session=session, gtin=gtin) for gtin in gtins}
    issuers = {c.row.issuer_id for c in claims if c.row.subject_kind == "location"}
    glns = dict(session.execute(select(Member.id, Member.gln).where(Member.id.in_(issuers))).all()) if issuers else {}
    facts = {}
    for claim in claims:
        row = claim.row
        if row.subject_kind == "member":
            own = row.subject == member_subject(row.issuer_id)
        elif row.subject_kind == "item":
            key = item_of(row.subject)
            own = key is not None and brands.get(key.gtin) == row.issuer_id
        else:
            gln = glns.get(row.issuer_id)
            own = bool(gln) and row.subject.rstrip("/").endswith(f"/414/{gln}")
        facts[row.uid] = ClaimFacts(kind_of(claim.schema_name), title_of(claim), own, statuses[row.uid])
    return facts


# --- pledges ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pledge:
    claim: Readable
    progress: dict[str, Any]
    """{state: met · on track · behind · missed · unknown, detail: {percent, lots, certifiedLots,
    expectedPercent}} as the coordinator's health view measures it, for this reader."""
    changes_at: datetime | None
    """When its progress state changes by itself (falls behind, or misses its deadline)."""


def pledges_of(*, session: Session, access: Access, claims: list[Readable], now: datetime) -> list[Pledge]:
    """The pledges among `claims`, each with its progress (service/domain/health.py measures it)."""
    found = []
    views: dict[str, dict[str, dict[str, Any]]] = {}
    for claim in claims:
        row = claim.row
        if kind_of(claim.schema_name) != "pledge":
            continue
        if row.constellation not in views:
            measured = health.Health(session, access, row.constellation, now).commitments(log=False)
            views[row.constellation] = {entry["uid"]: entry for entry in measured}
        entry = views[row.constellation].get(row.uid) or {}
        state = entry.get("status") or "unknown"
        found.append(
            Pledge(
                claim,
                {
                    "state": state,
                    "detail": {
                        "percent": entry.get("progress_percent"),
                        "lots": entry.get("lots"),
                        "certifiedLots": entry.get("certified_lots"),
                        "expectedPercent": entry.get("expected_percent"),
                    },
                },
                _pledge_change(claim, entry, now),
            )
        )
    return found


def _pledge_change(claim: Readable, entry: dict[str, Any], now: datetime) -> datetime | None:
    """On track falls behind once the time gone by outgrows the progress; the deadline's end misses it."""
    state, progress = entry.get("status"), entry.get("progress_percent")
    target, deadline = claim.row.body.get("targetPercent"), claim.row.body.get("deadline")
    if state not in ("on track", "behind") or not isinstance(deadline, str):
        return None
    end = health.deadline_end(date.fromisoformat(deadline))
    moments = [end]
    if state == "on track" and isinstance(target, int | float) and target > 0 and isinstance(progress, int | float):
        created = claim.row.created_at if claim.row.created_at.tzinfo else claim.row.created_at.replace(tzinfo=UTC)
        behind = created + (end - created) * min(1.0, progress / target)
        moments.append(behind)
    return min((m for m in moments if m > now), default=None)


def target_of(claim: Readable) -> dict[str, Any]:
    body = claim.row.body
    return {
        "percent": body.get("targetPercent") if shows(claim, "targetPercent") else None,
        "standard": _text(claim, "standard"),
        "metric": _text(claim, "metric"),
    }


# --- origin -------------------------------------------------------------------------------------


def origin_of(
    *, session: Session, claims: list[Readable], statuses: dict[str, ClaimStatus], origins: list[str]
) -> dict[str, Any] | None:
    """Where the product comes from, as shared: the regions and countries of the origin claims
    (valid ones) the reader sees, and the producers — the members branding the origin items'
    GTINs (master data is public). None when nothing says."""
    regions: list[str] = []
    countries: list[str] = []
    for claim in claims:
        if kind_of(claim.schema_name) != "origin" or statuses[claim.row.uid].state != "valid":
            continue
        for key, found in (("region", regions), ("country", countries)):
            value = _text(claim, key)
            if value and value not in found:
                found.append(value)
    producer_ids = list(
        dict.fromkeys(
            brand
            for brand in (brand_of(session=session, gtin=k.gtin) for k in (item_of(o) for o in origins) if k)
            if brand is not None
        )
    )
    names = (
        dict(session.execute(select(Member.id, Member.name).where(Member.id.in_(producer_ids))).all())
        if producer_ids
        else {}
    )
    producers = [{"id": member_id, "name": names.get(member_id, "")} for member_id in producer_ids]
    if not regions and not countries and not producers:
        return None
    return {"regions": regions, "countries": countries, "producers": producers}


__all__ = [
    "ClaimFacts",
    "Pledge",
    "claim_facts",
    "kind_of",
    "origin_of",
    "pledges_of",
    "target_of",
    "title_of",
]
