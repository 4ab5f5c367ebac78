"""The data categories of an EPCIS event: the unit of sharing (a grant names categories; each
field of an event is one salted leaf of its record root). One table; an event field not named
here is an extension."""

from __future__ import annotations

CATEGORIES: dict[str, tuple[str, ...]] = {
    "what": (
        "type",
        "eventID",
        "action",
        "epcList",
        "parentID",
        "childEPCs",
        "inputEPCList",
        "outputEPCList",
        "transformationID",
        "certificationInfo",
    ),
    "when": ("eventTime", "eventTimeZoneOffset", "recordTime"),
    "where": ("readPoint", "bizLocation"),
    "why": ("bizStep", "disposition", "persistentDisposition", "errorDeclaration"),
    "quantities": ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"),
    "commercial": ("bizTransactionList", "sourceList", "destinationList"),
    "sensor": ("sensorElementList",),
    "ilmd": ("ilmd",),
    "extensions": (),
}
CATEGORY_OF: dict[str, str] = {name: category for category, names in CATEGORIES.items() for name in names}


def category_of(field: str) -> str:
    """The category of an event field; the @context goes with the extensions it names."""
    return CATEGORY_OF.get(field, "extensions")
