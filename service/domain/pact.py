"""Product carbon footprint attestations as PACT ProductFootprints (WBCSD PACT Technical
Specifications 2.3): the `pcf` is what the issuer signed (its body follows PACT names; PACT
decimals as strings), the company is the issuer, the product its GS1 master data.

Nothing is exported that the reader may not see, and no emission figure is ever made up: a
PACT-required value the issuer did not state is a 409 naming it, one it stated but the reader
may not see (or a field that sets the footprint's scope) a 403 naming it. The methodology
declarations PACT requires and the catalogue's schema has no field for are set to PACT's
defaults and named in `comment`. The id is a UUIDv5 of the attestation uid, so re-exports are
one ProductFootprint; a revoked or expired attestation is its next version, `Deprecated`."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import Attestation, ChainRevocation, Member, Product
from service.domain import attestations
from service.domain.claim_status import claim_status
from service.domain.claim_validity import validity_of
from service.domain.credential_proofs import credential_id
from service.domain.footprints import FOOTPRINT_SCHEMA
from service.domain.gs1 import item_of
from service.domain.policy import Access
from service.errors import Conflict, PolicyDenied

SPEC_VERSION = "2.3.0"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:constellate:pact:ProductFootprint")
"""The UUIDv5 namespace of exported footprint ids (fixed forever: ids must stay stable)."""
NO_REFERENCE = "0x" + "00" * 32

STATED = (
    "declaredUnit",
    "unitaryProductAmount",
    "pCfExcludingBiogenic",
    "fossilGhgEmissions",
    "fossilCarbonContent",
    "biogenicCarbonContent",
    "crossSectoralStandardsUsed",
    "boundaryProcessesDescription",
    "referencePeriodStart",
    "referencePeriodEnd",
)
"""PACT-required `pcf` values the issuer states in the body: never made up."""
SCOPE = ("geographyCountry", "geographyRegionOrSubregion")
"""Fields that set the footprint's scope: leaving one out would turn it Global."""
DATA_QUALITY = ("primaryDataShare", "dqi")
"""PACT needs at least one of them (both for reference periods from 2025 on)."""
DECIMALS = frozenset(
    {
        "unitaryProductAmount",
        "pCfExcludingBiogenic",
        "pCfIncludingBiogenic",
        "fossilGhgEmissions",
        "fossilCarbonContent",
        "biogenicCarbonContent",
        "dLucGhgEmissions",
    }
)
DEFAULTS: dict[str, Any] = {
    "characterizationFactors": "AR6",
    "ipccCharacterizationFactorsSources": ["AR6"],
    "exemptedEmissionsPercent": 0,
    "exemptedEmissionsDescription": "",
    "packagingEmissionsIncluded": False,
}
"""PACT-required declarations the catalogue's schema has no field for: the PACT Methodology's
defaults (the latest IPCC factors, nothing exempted, packaging not included), named in `comment`."""
PRODUCT_CATEGORY_UNKNOWN = "unknown"
"""productCategoryCpc (required in 2.x, deprecated in 2.3): product master data holds no CPC code."""
STANDARDS = {
    "ghg protocol product standard": ("GHG Protocol Product standard", "GHGP-Product"),
    "ghgp-product": ("GHG Protocol Product standard", "GHGP-Product"),
    "iso standard 14067": ("ISO Standard 14067", "ISO14067"),
    "iso 14067": ("ISO Standard 14067", "ISO14067"),
    "iso14067": ("ISO Standard 14067", "ISO14067"),
    "iso standard 14044": ("ISO Standard 14044", "ISO14040-44"),
    "iso 14044": ("ISO Standard 14044", "ISO14040-44"),
    "iso14040-44": ("ISO Standard 14044", "ISO14040-44"),
}
"""Spellings of the cross-sectoral standards PACT 2.x enumerates: (2.x name, 2.3 name)."""
REGIONS = frozenset(
    {
        "Africa",
        "Americas",
        "Asia",
        "Europe",
        "Oceania",
        "Australia and New Zealand",
        "Central Asia",
        "Eastern Asia",
        "Eastern Europe",
        "Latin America and the Caribbean",
        "Melanesia",
        "Micronesia",
        "Northern Africa",
        "Northern America",
        "Northern Europe",
        "Polynesia",
        "South-eastern Asia",
        "Southern Asia",
        "Southern Europe",
        "Sub-Saharan Africa",
        "Western Asia",
        "Western Europe",
    }
)
"""PACT's RegionOrSubregion values (UN M49 names)."""


def footprint_id(uid: str) -> str:
    """The ProductFootprint id of attestation `uid`: the same on every export."""
    return str(uuid.uuid5(NAMESPACE, uid.lower()))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _decimal(value: Any) -> str:
    """A JSON number as a PACT decimal string (no exponent)."""
    text = format(Decimal(str(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _standards(values: list[str]) -> tuple[list[str], list[str]]:
    found = []
    for value in values:
        known = STANDARDS.get(" ".join(value.lower().split()))
        if known is None:
            raise Conflict(
                f"crossSectoralStandardsUsed {value!r} is not a standard PACT 2.x names "
                "(GHG Protocol Product standard, ISO Standard 14067, ISO Standard 14044)"
            )
        found.append(known)
    return list(dict.fromkeys(a for a, _ in found)), list(dict.fromkeys(b for _, b in found))


def _pcf(body: dict[str, Any]) -> dict[str, Any]:
    pcf: dict[str, Any] = {}
    for name, value in body.items():
        if name in SCOPE:
            continue
        if name == "crossSectoralStandardsUsed":
            pcf[name], pcf["crossSectoralStandards"] = _standards(list(value))
        else:
            pcf[name] = _decimal(value) if name in DECIMALS else value
    # one geography, the most specific stated (PACT: the others then stay undefined)
    if "geographyCountry" in body:
        pcf["geographyCountry"] = body["geographyCountry"]
    elif "geographyRegionOrSubregion" in body:
        region = body["geographyRegionOrSubregion"]
        if region not in REGIONS:
            raise Conflict(f"geographyRegionOrSubregion {region!r} is not a PACT region or subregion")
        pcf["geographyRegionOrSubregion"] = region
    return pcf | DEFAULTS


def _validity(body: dict[str, Any], expires_at: int) -> dict[str, str]:
    """The validity period, when the attestation's expiry sets one (service/domain/claim_validity.py:
    from the end of the reference period, at most three years on); else PACT's default applies."""
    if not expires_at:
        return {}
    validity = validity_of(FOOTPRINT_SCHEMA, body, expires_at)
    if validity.starts_at is None or validity.ends_at is None or not validity.starts_at < validity.ends_at:
        return {}
    return {"validityPeriodStart": _iso(validity.starts_at), "validityPeriodEnd": _iso(validity.ends_at)}


def company_ids(member: Member) -> list[str]:
    """The issuer as URNs: its id here, and its GLN and LEI (PACT's `urn:pact:` form)."""
    ids = [f"urn:uuid:{member.id}"]
    if member.gln:
        ids.append(f"urn:pact:gs1.org:gln:{member.gln}")
    if member.lei:
        ids.append(f"urn:pact:gleif.org:lei:{member.lei}")
    return ids


def product_footprint(
    *,
    row: Attestation,
    shown: frozenset[str] | None,
    status: str,
    issuer: Member,
    product: Product | None,
    deprecated_at: datetime | None = None,
    preceding: list[str] | None = None,
) -> dict[str, Any]:
    """The ProductFootprint of one `product-carbon-footprint` attestation as a reader sees it
    (`shown` None: all of it). Conflict (409) when it cannot be a valid one, PolicyDenied (403)
    when the reader may not see a field it needs."""
    key = item_of(row.subject)
    if row.subject_kind != "item" or key is None:
        raise Conflict(f"attestation {row.uid} is about a {row.subject_kind}, not a product: PACT needs productIds")
    if status == "failed":
        raise Conflict(f"attestation {row.uid} was refused by the chain: it is no footprint")
    body = {k: v for k, v in row.body.items() if shown is None or attestations.body_path(k) in shown}
    hidden = sorted(set(row.body) - set(body))
    needed = [name for name in (*STATED, *SCOPE) if name in hidden]
    if not any(name in body for name in DATA_QUALITY):
        needed += [name for name in DATA_QUALITY if name in hidden]
    if needed:
        raise PolicyDenied(
            f"a PACT footprint needs {', '.join(needed)} of attestation {row.uid}, which its issuer does not share with you"
        )
    missing = [name for name in STATED if name not in row.body]
    if missing:
        raise Conflict(
            f"attestation {row.uid} does not state {', '.join(missing)}, which a PACT ProductFootprint requires"
        )
    if product is None:
        raise Conflict(f"GTIN {key.gtin} has no product master data (its brand registers it: PUT /products)")
    product_ids = [f"urn:gtin:{key.gtin}"]
    if key.lot is not None or key.serial is not None:
        product_ids.append("urn:pact:id.gs1.org:product-id:" + key.digital_link("").lstrip("/"))
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    footprint: dict[str, Any] = {
        "id": footprint_id(row.uid),
        "specVersion": SPEC_VERSION,
        "version": 1,
        "created": _iso(created),
        "status": "Active",
    }
    if preceding:
        footprint["precedingPfIds"] = [footprint_id(uid) for uid in preceding]
    if status in ("revoked", "expired"):
        footprint["version"] = 2  # deprecating is a minor change: a new version, `updated` set
        footprint["status"] = "Deprecated"
        moment = max(deprecated_at or datetime.now(UTC), created + timedelta(seconds=1))
        footprint["updated"] = _iso(moment)
        footprint["statusComment"] = f"The attestation was {status} ({_iso(moment)})."
    default_names = ", ".join(f"{name}={json.dumps(value)}" for name, value in DEFAULTS.items())
    footprint |= _validity(row.body, row.expires_at) | {
        "companyName": issuer.name,
        "companyIds": company_ids(issuer),
        "productDescription": product.description or "",
        "productIds": product_ids,
        "productCategoryCpc": PRODUCT_CATEGORY_UNKNOWN,
        "productNameCompany": product.name,
        "comment": (
            f"Exported by Constellate from attestation {row.uid} ({credential_id(row.uid)}; data hash "
            f"{row.data_hash}), signed by {issuer.name} ({row.issuer_address}); GET /attestations/{row.uid}/credential "
            f"proves it on chain. Not stated by the issuer, set to PACT defaults by the exporter: {default_names}, "
            f"productCategoryCpc={json.dumps(PRODUCT_CATEGORY_UNKNOWN)}."
            + (f" Fields withheld from this reader: {', '.join(hidden)}." if hidden else "")
        ),
        "pcf": _pcf(body),
    }
    return footprint


def export_footprint(
    *, session: Session, access: Access, uid: str, endpoint: str = "attestations.footprint"
) -> dict[str, Any]:
    """The ProductFootprint of attestation `uid` as the reader may see it (404 if it may see
    none of it; 409 for another schema or an incomplete footprint; 403 for a withheld field it
    needs), logged as a read of that attestation once it is answered."""
    found = attestations.visible(session=session, access=access, uid=uid)
    row = found.row
    if found.schema_name != FOOTPRINT_SCHEMA:
        raise Conflict(
            f"attestation {row.uid} is a {found.schema_name!r} attestation; "
            f"only {FOOTPRINT_SCHEMA!r} attestations are PACT footprints"
        )
    standing = claim_status(session=session, row=row, schema_name=found.schema_name)
    status = standing.state
    deprecated_at = None
    if status == "revoked":
        on_chain = session.scalar(select(ChainRevocation.revoked_at).where(ChainRevocation.uid == row.uid).limit(1))
        deprecated_at = datetime.fromtimestamp(on_chain, UTC) if on_chain else row.revoke_requested_at
    elif status == "expired":
        deprecated_at = standing.validity.ends_at
    preceding = []
    referenced = session.get(Attestation, row.ref_uid) if row.ref_uid != NO_REFERENCE else None
    if (  # the footprint it replaces, named only to a reader who may see something of that one
        referenced is not None
        and attestations.schema_name_of(session, referenced) == FOOTPRINT_SCHEMA
        and attestations.view_of(access, referenced, FOOTPRINT_SCHEMA) is not None
    ):
        preceding.append(referenced.uid)
    issuer = session.get(Member, row.issuer_id)
    assert issuer is not None
    key = item_of(row.subject)
    footprint = product_footprint(
        row=row,
        shown=found.shown,
        status=status,
        issuer=issuer,
        product=session.get(Product, key.gtin) if key is not None else None,
        deprecated_at=deprecated_at,
        preceding=preceding,
    )
    attestations.log_read(session=session, access=access, found=found, endpoint=endpoint)
    return footprint


__all__ = ["SPEC_VERSION", "export_footprint", "footprint_id", "product_footprint"]
