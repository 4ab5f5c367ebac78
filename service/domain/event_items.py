"""Which items an EPCIS event names: the one reading of an event's item fields that the journey
(its steps, recalls and observations), places and the journey verifier share."""

from __future__ import annotations

from typing import Any

from service.epcis.identifiers import canonical_id

EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def named_items(event: dict[str, Any]) -> set[str]:
    """Every item an event (or an event view) names in the fields it has, canonical."""
    named: list[Any] = [event.get("parentID")]
    for name in EPC_LISTS:
        named += event.get(name) or []
    for name in QUANTITY_LISTS:
        named += [q.get("epcClass") for q in event.get(name) or () if isinstance(q, dict)]
    return {canonical_id(n) for n in named if isinstance(n, str)}


__all__ = ["EPC_LISTS", "QUANTITY_LISTS", "named_items"]
