"""A small coffee journey as EPCIS 2.0 documents, for provenance and anchoring tests: two farms
commission green-coffee lots and ship them; a roaster receives them, roasts both into one
lot, packs it on a pallet; a shop receives the pallet."""

from __future__ import annotations

from typing import Any

from service.domain.gs1 import check_digit

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def gtin(body: str) -> str:
    return body + str(check_digit(body))


GREEN = gtin("0950600013435")
ROASTED = gtin("0950600013436")
SSCC = "https://id.gs1.org/00/" + gtin("09506000000000001")
FARM_1 = "https://id.gs1.org/414/" + gtin("950600000001")
FARM_2 = "https://id.gs1.org/414/" + gtin("950600000002")
ROASTERY = "https://id.gs1.org/414/" + gtin("950600000003")
SHOP = "https://id.gs1.org/414/" + gtin("950600000004")


def party(location: str) -> str:
    """The party (PGLN, AI 417) that runs a location (GLN, AI 414) of the same number."""
    return location.replace("/414/", "/417/")


def lot(item: str, number: str) -> str:
    return f"https://id.gs1.org/01/{item}/10/{number}"


LOT_1, LOT_2, ROAST_LOT = lot(GREEN, "FARM1-2026"), lot(GREEN, "FARM2-2026"), lot(ROASTED, "R-0042")


def _event(kind: str, when: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "eventTime": when, "eventTimeZoneOffset": "+00:00", **fields}


def document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-01T00:00:00Z",
        "epcisBody": {"eventList": events},
    }


def origin_events() -> list[dict[str, Any]]:
    """What the farms capture (supplier role)."""
    events = []
    for number, (farm_lot, farm) in enumerate(((LOT_1, FARM_1), (LOT_2, FARM_2)), start=1):
        events.append(
            _event(
                "ObjectEvent",
                f"2026-03-0{number}T08:00:00Z",
                action="ADD",
                bizStep="commissioning",
                disposition="active",
                quantityList=[{"epcClass": farm_lot, "quantity": 600, "uom": "KGM"}],
                bizLocation={"id": farm},
            )
        )
        events.append(
            _event(
                "ObjectEvent",
                f"2026-04-0{number}T08:00:00Z",
                action="OBSERVE",
                bizStep="shipping",
                disposition="in_transit",
                quantityList=[{"epcClass": farm_lot, "quantity": 600, "uom": "KGM"}],
                readPoint={"id": farm},
                sourceList=[{"type": "owning_party", "source": party(farm)}],
                destinationList=[{"type": "owning_party", "destination": party(ROASTERY)}],
            )
        )
    return events


def roastery_events() -> list[dict[str, Any]]:
    """What the roaster captures (manufacturer and logistics roles)."""
    received = [
        _event(
            "ObjectEvent",
            f"2026-05-0{number}T08:00:00Z",
            action="OBSERVE",
            bizStep="receiving",
            disposition="in_progress",
            quantityList=[{"epcClass": farm_lot, "quantity": 600, "uom": "KGM"}],
            bizLocation={"id": ROASTERY},
        )
        for number, farm_lot in enumerate((LOT_1, LOT_2), start=1)
    ]
    roast = _event(
        "TransformationEvent",
        "2026-05-10T08:00:00Z",
        bizStep="commissioning",
        disposition="active",
        inputQuantityList=[
            {"epcClass": LOT_1, "quantity": 600, "uom": "KGM"},
            {"epcClass": LOT_2, "quantity": 600, "uom": "KGM"},
        ],
        outputQuantityList=[{"epcClass": ROAST_LOT, "quantity": 1000, "uom": "KGM"}],
        bizLocation={"id": ROASTERY},
        transformationID="urn:uuid:3f2a1f66-7c2b-4a59-9b41-roast0042",
    )
    pack = _event(
        "AggregationEvent",
        "2026-05-11T08:00:00Z",
        action="ADD",
        bizStep="packing",
        disposition="in_progress",
        parentID=SSCC,
        childQuantityList=[{"epcClass": ROAST_LOT, "quantity": 1000, "uom": "KGM"}],
        bizLocation={"id": ROASTERY},
    )
    ship = _event(
        "ObjectEvent",
        "2026-05-12T08:00:00Z",
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        epcList=[SSCC],
        readPoint={"id": ROASTERY},
        sourceList=[{"type": "owning_party", "source": party(ROASTERY)}],
        destinationList=[{"type": "owning_party", "destination": party(SHOP)}],
    )
    return [*received, roast, pack, ship]


def shop_events() -> list[dict[str, Any]]:
    """What the shop captures (retailer role)."""
    return [
        _event(
            "ObjectEvent",
            "2026-05-14T08:00:00Z",
            action="OBSERVE",
            bizStep="receiving",
            disposition="sellable_not_accessible",
            epcList=[SSCC],
            bizLocation={"id": SHOP},
        )
    ]
