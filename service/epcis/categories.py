"""The data categories of an EPCIS event: the unit of commitment (each category is one salted
leaf of the event's record root) and of sharing (a grant names categories). One table; an
event field not named here is an extension."""

from __future__ import annotations

from typing import Any

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
NOT_COMMITTED = frozenset({"@context"})


def category_of(field: str) -> str:
    return CATEGORY_OF.get(field, "extensions")


def split(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The event's fields grouped by category (only the categories it has)."""
    grouped: dict[str, dict[str, Any]] = {}
    for name, value in event.items():
        if name not in NOT_COMMITTED:
            grouped.setdefault(category_of(name), {})[name] = value
    return grouped
