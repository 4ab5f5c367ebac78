"""The words a shopper reads for the terms records are written in: GS1 CBV 2.0 business steps and
dispositions, EPCIS event types and actions, UN/ECE Rec. 20 unit codes, PACT footprint fields and
the fields of certificates, audits, origins and pledges.

Every word here is an English message id, marked with `N_` so Babel extracts it into the
catalogs (service/web/translations/); `service.web.i18n.Words` translates it for the page. A
term with no word here is never shown raw on the page: the page falls back to the event's kind,
and the raw term stays in its collapsed technical details."""

from __future__ import annotations

import re


def N_(message: str) -> str:
    """Marks a message for extraction; translated where it is shown."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Marks a message with a plural for extraction (`%(num)s` is the count)."""
    return singular, plural


BIZ_STEPS: dict[str, str] = {
    "accepting": N_("Accepted"),
    "arriving": N_("Arrived"),
    "assembling": N_("Assembled"),
    "collecting": N_("Collected"),
    "commissioning": N_("Produced"),
    "consigning": N_("Handed over"),
    "creating_class_instance": N_("Produced"),
    "cycle_counting": N_("Counted"),
    "decommissioning": N_("Taken out of use"),
    "departing": N_("Departed"),
    "destroying": N_("Destroyed"),
    "disassembling": N_("Taken apart"),
    "dispensing": N_("Dispensed"),
    "encoding": N_("Tagged"),
    "entering_exiting": N_("Entered or left a site"),
    "holding": N_("Put on hold"),
    "inspecting": N_("Inspected"),
    "installing": N_("Installed"),
    "killing": N_("Tag switched off"),
    "loading": N_("Loaded"),
    "other": N_("Recorded"),
    "packing": N_("Packed"),
    "picking": N_("Picked"),
    "receiving": N_("Received"),
    "removing": N_("Removed"),
    "repackaging": N_("Repacked"),
    "repairing": N_("Repaired"),
    "replacing": N_("Replaced"),
    "reserving": N_("Reserved"),
    "retail_selling": N_("Sold in store"),
    "shipping": N_("Shipped"),
    "staging_outbound": N_("Ready for dispatch"),
    "stock_taking": N_("Stock taken"),
    "stocking": N_("In store"),
    "storing": N_("Stored"),
    "transporting": N_("Transported"),
    "unloading": N_("Unloaded"),
    "unpacking": N_("Unpacked"),
    "void_shipping": N_("Shipment cancelled"),
    "sensor_reporting": N_("Sensor reading"),
    "sampling": N_("Sampled"),
}
"""Every CBV 2.0 business step, as what happened to the item."""

DISPOSITIONS: dict[str, str] = {
    "active": N_("Active"),
    "container_closed": N_("Container closed"),
    "damaged": N_("Damaged"),
    "destroyed": N_("Destroyed"),
    "dispensed": N_("Dispensed"),
    "disposed": N_("Disposed of"),
    "encoded": N_("Tagged"),
    "expired": N_("Past its expiry date"),
    "in_progress": N_("In progress"),
    "in_transit": N_("In transit"),
    "inactive": N_("Inactive"),
    "no_pedigree_match": N_("Papers do not match"),
    "non_sellable_other": N_("Not for sale"),
    "partially_dispensed": N_("Partly dispensed"),
    "recalled": N_("Recalled"),
    "reserved": N_("Reserved"),
    "retail_sold": N_("Sold"),
    "returned": N_("Returned"),
    "sellable_accessible": N_("On sale"),
    "sellable_not_accessible": N_("In stock, not on sale yet"),
    "stolen": N_("Stolen"),
    "unknown": N_("Condition unknown"),
    "available": N_("Available"),
    "completeness_verified": N_("Checked complete"),
    "completeness_inferred": N_("Assumed complete"),
    "conformant": N_("Passed inspection"),
    "container_open": N_("Container open"),
    "mismatch_instance": N_("Wrong item"),
    "mismatch_class": N_("Wrong product"),
    "mismatch_quantity": N_("Wrong quantity"),
    "needs_replacement": N_("Needs replacing"),
    "non_conformant": N_("Failed inspection"),
    "unavailable": N_("Unavailable"),
}
"""Every CBV 2.0 disposition, as the state the item was left in."""

EVENT_KINDS: dict[tuple[str, str | None], str] = {
    ("ObjectEvent", "ADD"): N_("Registered"),
    ("ObjectEvent", "OBSERVE"): N_("Recorded"),
    ("ObjectEvent", "DELETE"): N_("Retired"),
    ("AggregationEvent", "ADD"): N_("Packed into a container"),
    ("AggregationEvent", "OBSERVE"): N_("Checked in its container"),
    ("AggregationEvent", "DELETE"): N_("Taken out of a container"),
    ("TransformationEvent", None): N_("Processed"),
    ("TransactionEvent", "ADD"): N_("Linked to an order"),
    ("TransactionEvent", "OBSERVE"): N_("Order checked"),
    ("TransactionEvent", "DELETE"): N_("Order closed"),
    ("AssociationEvent", "ADD"): N_("Attached"),
    ("AssociationEvent", "OBSERVE"): N_("Attachment checked"),
    ("AssociationEvent", "DELETE"): N_("Detached"),
}
"""What a step did when its business step is not shared: its EPCIS event type and action."""

STEP_OVERRIDES: dict[tuple[str, str], str] = {
    ("TransformationEvent", "commissioning"): N_("Processed"),
    ("AggregationEvent", "packing"): N_("Packed"),
}
"""Where the event type says more than the business step alone."""

UNITS: dict[str, str] = {
    "KGM": "kg",
    "GRM": "g",
    "MGM": "mg",
    "TNE": "t",
    "LBR": "lb",
    "ONZ": "oz",
    "LTR": "l",
    "MLT": "ml",
    "CLT": "cl",
    "HLT": "hl",
    "MTQ": "m³",
    "MTK": "m²",
    "MTR": "m",
    "CMT": "cm",
    "MMT": "mm",
    "KMT": "km",
    "KWH": "kWh",
    "3B": "MJ",
    "GLL": "gal",
}
"""UN/ECE Rec. 20 codes (EPCIS quantities) by their common symbols."""

COUNTED_UNITS: dict[str, str] = {
    "H87": N_("pieces"),
    "C62": N_("units"),
    "EA": N_("units"),
    "XBX": N_("boxes"),
    "XPK": N_("packs"),
    "XBG": N_("bags"),
    "XPX": N_("pallets"),
}
"""Codes of things counted: words, translated."""

DECLARED_UNITS: dict[str, str] = {
    "kilogram": "kg",
    "liter": "l",
    "cubic meter": "m³",
    "square meter": "m²",
    "kilowatt hour": "kWh",
    "megajoule": "MJ",
    "ton kilometer": "t·km",
}
"""PACT declared units by their symbols."""

FIELDS: dict[str, str] = {
    # PACT product footprint (v2)
    "pCfExcludingBiogenic": N_("Carbon footprint, biogenic emissions left out"),
    "pCfIncludingBiogenic": N_("Carbon footprint, biogenic emissions counted"),
    "fossilGhgEmissions": N_("Emissions from fossil sources"),
    "fossilCarbonContent": N_("Fossil carbon in the product"),
    "biogenicCarbonContent": N_("Plant carbon in the product"),
    "dLucGhgEmissions": N_("Emissions from land-use change"),
    "iLucGhgEmissions": N_("Emissions from indirect land-use change"),
    "landManagementGhgEmissions": N_("Emissions from land management"),
    "otherBiogenicGhgEmissions": N_("Other biogenic emissions"),
    "biogenicCarbonWithdrawal": N_("Plant carbon taken up"),
    "aircraftGhgEmissions": N_("Emissions from air freight"),
    "packagingEmissionsIncluded": N_("Packaging counted"),
    "packagingGhgEmissions": N_("Emissions from packaging"),
    "declaredUnit": N_("Per"),
    "unitaryProductAmount": N_("Amount of product"),
    "productMassPerDeclaredUnit": N_("Product mass per unit"),
    "referencePeriodStart": N_("Measured from"),
    "referencePeriodEnd": N_("Measured until"),
    "geographyCountry": N_("Country"),
    "geographyCountrySubdivision": N_("Region"),
    "geographyRegionOrSubregion": N_("Region"),
    "boundaryProcessesDescription": N_("What it covers"),
    "crossSectoralStandardsUsed": N_("Standards followed"),
    "productOrSectorSpecificRules": N_("Product rules followed"),
    "characterizationFactors": N_("Impact factors"),
    "allocationRulesDescription": N_("How emissions are shared between products"),
    "exemptedEmissionsPercent": N_("Share of emissions left out (%)"),
    "exemptedEmissionsDescription": N_("Emissions left out"),
    "primaryDataShare": N_("Share of measured data (%)"),
    "secondaryEmissionFactorSources": N_("Sources of estimated data"),
    "uncertaintyAssessmentDescription": N_("Uncertainty"),
    "biogenicAccountingMethodology": N_("Method for biogenic emissions"),
    # certificates, audits, origins, pledges
    "standard": N_("Standard"),
    "certificateId": N_("Certificate number"),
    "issuingBody": N_("Certification body"),
    "scope": N_("Covers"),
    "validFrom": N_("Valid from"),
    "validUntil": N_("Valid until"),
    "country": N_("Country"),
    "region": N_("Region"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "harvestYear": N_("Harvest year"),
    "auditor": N_("Auditor"),
    "auditDate": N_("Audited on"),
    "result": N_("Result"),
    "findings": N_("Findings"),
    "nextAuditDue": N_("Next audit due"),
    "metric": N_("Measure"),
    "gtins": N_("Products"),
    "targetPercent": N_("Target (%)"),
    "deadline": N_("Deadline"),
    "statement": N_("Statement"),
}
"""Fields of claim bodies as words (PACT names and the certificate schemas' own)."""

DATE_FIELDS = frozenset(
    {"validFrom", "validUntil", "auditDate", "nextAuditDue", "deadline", "referencePeriodStart", "referencePeriodEnd"}
)
COUNTRY_FIELDS = frozenset({"country", "geographyCountry"})

AUDIT_RESULTS: dict[str, str] = {
    "pass": N_("passed"),
    "conditional": N_("passed with conditions to meet"),
    "fail": N_("failed"),
}
"""A labour audit's result (the built-in schema's enum) in words."""

SCHEMAS: dict[str, str] = {
    "certification": N_("Certification"),
    "product-carbon-footprint": N_("Carbon footprint"),
    "origin": N_("Origin"),
    "labour-audit": N_("Labour audit"),
    "commitment": N_("Pledge"),
}
"""Attestation schemas as a claim's title when its body names no standard."""


MAP_MESSAGES = (
    N_("Journey map"),
    N_("%(count)s places in journey order, from %(first)s to %(last)s."),
    N_("Where it went"),
)
"""The journey map's own messages (service/web/journey_map.py says them through `words`), marked
here so the catalogs carry them."""


def step_word(event_type: str | None, action: str | None, biz_step: str | None) -> str | None:
    """What a step did, as a message id: from its business step (or the event type where that
    says more), else from its event type and action; None when neither is known."""
    if biz_step:
        override = STEP_OVERRIDES.get((event_type or "", biz_step))
        if override:
            return override
        if biz_step in BIZ_STEPS:
            return BIZ_STEPS[biz_step]
    if event_type == "TransformationEvent":
        return EVENT_KINDS[(event_type, None)]
    return EVENT_KINDS.get((event_type or "", action))


def disposition_word(disposition: str | None) -> str | None:
    return DISPOSITIONS.get(disposition) if disposition else None


def unit_symbol(code: str | None) -> tuple[str, bool] | None:
    """A quantity's unit: (symbol, False) for a measure, (message id, True) for a count word;
    None for a code with no common symbol."""
    if not code:
        return None
    if code in UNITS:
        return UNITS[code], False
    if code in COUNTED_UNITS:
        return COUNTED_UNITS[code], True
    return None


def declared_unit(unit: str | None) -> str | None:
    return DECLARED_UNITS.get(unit) if unit else None


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def field_word(key: str) -> tuple[str, bool]:
    """A body field: (message id, True) when it has a word, else (its name spelled out, False)."""
    if key in FIELDS:
        return FIELDS[key], True
    spelled = _CAMEL.sub(" ", key).replace("_", " ").replace("-", " ").strip().lower()
    return spelled[:1].upper() + spelled[1:], False


def schema_word(schema: str | None) -> str | None:
    return SCHEMAS.get(schema) if schema else None


__all__ = [
    "AUDIT_RESULTS",
    "BIZ_STEPS",
    "COUNTED_UNITS",
    "DECLARED_UNITS",
    "DISPOSITIONS",
    "EVENT_KINDS",
    "FIELDS",
    "MAP_MESSAGES",
    "N_",
    "SCHEMAS",
    "UNITS",
    "N_plural",
    "declared_unit",
    "disposition_word",
    "field_word",
    "schema_word",
    "step_word",
    "unit_symbol",
]
