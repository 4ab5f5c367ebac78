"""The demo `up` seeds (fictional companies, real standards): two constellations of value.

*specialty-coffee*, run by Alpine Roasters: two origins (Sidama, Ethiopia; Huila, Colombia)
ship green coffee through Harbour Line Logistics to the roastery, which blends and roasts it
for GreenLeaf Market. *cocoa-chocolate*, run by Lumen Chocolate — Alpine's competitor on
the café shelf: Ashanti cocoa is ground by Tema Cocoa Processing, shipped by the same Harbour
Line (Alpine's collaborator in one constellation, its competitor's partner in the other) and
made into bars for GreenLeaf. TerraCert certifies in both.

Everything goes through the API as members would send it (managed keys sign): EPCIS 2.0
captures, roles set on chain, sharing grants, certifications (one revoked),
PACT footprints, pledges, and a recall: a contaminated cocoa lot traced to the bars it went
into. Seeding is idempotent: what was done is kept in a state file beside the chain's state
(member keys, step names), and a rerun skips it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from service.client import ApiError, Client
from service.domain.gs1 import check_digit
from service.domain.policy import EVENT_CATEGORIES
from service.epcis.analysis import epcis_document

log = logging.getLogger(__name__)

COFFEE, COCOA = "specialty-coffee", "cocoa-chocolate"
DL = "https://id.gs1.org"


def _key(body: str) -> str:
    """A GS1 key: its body and the mod-10 check digit."""
    return body + str(check_digit(body))


@dataclass(frozen=True)
class Partner:
    handle: str
    name: str
    gln: str
    website: str
    roles: dict[str, list[str]]
    """Roles per constellation (the coordinator's own roles included)."""

    @property
    def place(self) -> str:
        return f"{DL}/414/{self.gln}"

    @property
    def party(self) -> str:
        return f"{DL}/417/{self.gln}"


PARTNERS = (
    Partner("alpine", "Alpine Roasters AG", _key("761234500000"), "https://alpine-roasters.example", {COFFEE: ["brand", "manufacturer"]}),
    Partner("sidama", "Sidama Highlands Cooperative", _key("623456700000"), "https://sidama-highlands.example", {COFFEE: ["supplier"]}),
    Partner("huila", "Finca La Esperanza", _key("770987600000"), "https://finca-esperanza.example", {COFFEE: ["supplier"]}),
    Partner("harbour", "Harbour Line Logistics", _key("871234500000"), "https://harbour-line.example", {COFFEE: ["logistics"], COCOA: ["logistics"]}),
    Partner("greenleaf", "GreenLeaf Market", _key("540123400000"), "https://greenleaf.example", {COFFEE: ["retailer"], COCOA: ["retailer"]}),
    Partner("terracert", "TerraCert", _key("871999900000"), "https://terracert.example", {COFFEE: ["certifier"], COCOA: ["certifier"]}),
    Partner("lumen", "Lumen Chocolate GmbH", _key("401234500000"), "https://lumen-chocolate.example", {COCOA: ["brand", "manufacturer"]}),
    Partner("ashanti", "Ashanti Cocoa Farmers Union", _key("603456700000"), "https://ashanti-cocoa.example", {COCOA: ["supplier"]}),
    Partner("tema", "Tema Cocoa Processing Ltd", _key("603999900000"), "https://tema-cocoa.example", {COCOA: ["manufacturer"]}),
)  # fmt: skip
BY_HANDLE = {p.handle: p for p in PARTNERS}
COORDINATORS = {COFFEE: "alpine", COCOA: "lumen"}
CONSTELLATION_NAMES = {
    COFFEE: "Specialty coffee: Sidama & Huila to the cup",
    COCOA: "Cocoa to chocolate: Ashanti to the bar",
}


def _site(partner: str, number: int) -> str:
    """A further location (GLN) of a partner: its own company prefix, another location number."""
    body = BY_HANDLE[partner].gln[:-1]
    return f"{DL}/414/{_key(body[:-3] + f'{number:03d}')}"


# Products (GTIN-14) and their master data, registered by the member that brands them.
GREEN_COFFEE_SIDAMA = _key("0623456700011")
GREEN_COFFEE_HUILA = _key("0770987600011")
ESPRESSO = _key("0761234500017")
COCOA_BEANS = _key("0603456700013")
COCOA_MASS = _key("0603999900015")
DARK_BAR = _key("0401234500019")
PRODUCTS = (
    ("sidama", GREEN_COFFEE_SIDAMA, {"name": "Sidama Grade 1 washed green coffee", "brand": "Sidama Highlands"}),
    ("huila", GREEN_COFFEE_HUILA, {"name": "Huila Excelso green coffee", "brand": "Finca La Esperanza"}),
    ("alpine", ESPRESSO, {"name": "Alpine Espresso Blend, whole bean 250 g", "brand": "Alpine Roasters", "net_content": 0.25, "net_content_unit": "kilogram"}),
    ("ashanti", COCOA_BEANS, {"name": "Ghana fermented cocoa beans", "brand": "Ashanti Cocoa"}),
    ("tema", COCOA_MASS, {"name": "Cocoa mass (liquor), natural", "brand": "Tema Cocoa"}),
    ("lumen", DARK_BAR, {"name": "Lumen 70 % Dark Chocolate 100 g", "brand": "Lumen Chocolate", "net_content": 0.1, "net_content_unit": "kilogram"}),
)  # fmt: skip


def _place(handle: str, site: int | None = None) -> str:
    """The GLN of a partner's main location, or of one of its further sites."""
    return (_site(handle, site) if site is not None else BY_HANDLE[handle].place).rsplit("/", 1)[1]


# Places (GLN) and their master data, registered by the member whose company prefix they carry.
PLACES = (
    ("sidama", _place("sidama"), {"name": "Sidama Highlands Cooperative, Bensa washing station", "city": "Bensa", "region": "Sidama", "country": "ET", "latitude": 6.57, "longitude": 38.72}),
    ("huila", _place("huila"), {"name": "Finca La Esperanza", "street_address": "Vereda Charguayaco", "city": "Pitalito", "region": "Huila", "country": "CO", "latitude": 1.85, "longitude": -76.05}),
    ("harbour", _place("harbour", 21), {"name": "Harbour Line terminal, Port of Djibouti", "city": "Djibouti", "country": "DJ", "latitude": 11.6, "longitude": 43.13}),
    ("harbour", _place("harbour", 22), {"name": "Harbour Line terminal, Port of Buenaventura", "city": "Buenaventura", "region": "Valle del Cauca", "country": "CO", "latitude": 3.89, "longitude": -77.07}),
    ("harbour", _place("harbour", 23), {"name": "Harbour Line terminal, Port of Tema", "city": "Tema", "region": "Greater Accra", "country": "GH", "latitude": 5.63, "longitude": 0.01}),
    ("harbour", _place("harbour", 31), {"name": "Harbour Line terminal, Port of Antwerp-Bruges", "city": "Antwerp", "country": "BE", "latitude": 51.27, "longitude": 4.34}),
    ("harbour", _place("harbour", 32), {"name": "Harbour Line terminal, Port of Hamburg", "city": "Hamburg", "country": "DE", "latitude": 53.54, "longitude": 9.97}),
    ("alpine", _place("alpine"), {"name": "Alpine Roasters roastery", "street_address": "Hardturmstrasse 11", "city": "Zürich", "country": "CH", "latitude": 47.39, "longitude": 8.52}),
    ("greenleaf", _place("greenleaf"), {"name": "GreenLeaf Market distribution centre", "city": "Mechelen", "region": "Flanders", "country": "BE", "latitude": 51.03, "longitude": 4.48}),
    ("greenleaf", _place("greenleaf", 11), {"name": "GreenLeaf Market Sablon", "street_address": "Place du Grand Sablon 12", "city": "Brussels", "country": "BE", "latitude": 50.84, "longitude": 4.36}),
    ("ashanti", _place("ashanti"), {"name": "Ashanti Cocoa Farmers Union, Bekwai depot", "city": "Bekwai", "region": "Ashanti", "country": "GH", "latitude": 6.45, "longitude": -1.58}),
    ("tema", _place("tema"), {"name": "Tema Cocoa Processing factory", "city": "Tema", "region": "Greater Accra", "country": "GH", "latitude": 5.67, "longitude": -0.01}),
    ("lumen", _place("lumen"), {"name": "Lumen Chocolate factory", "city": "Cologne", "region": "North Rhine-Westphalia", "country": "DE", "latitude": 50.94, "longitude": 6.96}),
)  # fmt: skip

ORIGIN_LOTS = 6
"""Green-coffee lots per origin; cocoa has 8 bean lots and 4 mass and bar lots."""
RECALLED_BEANS = "ASH-2026-05"
"""The cocoa lot found contaminated (salmonella) at Tema: the recall traces it to bars."""
RECALLED_BARS = "LD70-2603"
"""The bars made from it (mass lot TCM-703)."""
REVOKED = "ASH-2026-03"
"""The cocoa lot whose Fairtrade certificate TerraCert revokes."""
PCF = "product-carbon-footprint"
LAPSED_ON = "2025-01-31"
"""The last valid day of a certificate recorded after it lapsed (its journey shows it expired)."""


def lot_uri(gtin: str, lot: str) -> str:
    return f"{DL}/01/{gtin}/10/{lot}"


def _sscc(partner: str, serial: int) -> str:
    prefix = BY_HANDLE[partner].gln[:7]
    return f"{DL}/00/{_key('0' + prefix + f'{serial:09d}')}"


# --- the events -----------------------------------------------------------------------------

Contents = dict[str, Any]


def _quantity(gtin: str, lot: str, kilograms: float) -> Contents:
    return {"epcClass": lot_uri(gtin, lot), "quantity": kilograms, "uom": "KGM"}


@dataclass
class Story:
    """EPCIS 2.0 events grouped by (member, constellation), in the order they happened. Each
    method records one event: who, in which constellation, when, then what and where."""

    slug: str = COFFEE
    captures: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    def _add(self, member: str, kind: str, when: datetime, **fields: Any) -> None:
        event = {"type": kind, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventTimeZoneOffset": "+00:00"}
        self.captures.setdefault((member, self.slug), []).append({**event, **fields})

    def commission(self, member: str, when: datetime, contents: Contents, place: str) -> None:
        self._add(member, "ObjectEvent", when, action="ADD", bizStep="commissioning", disposition="active",
                  quantityList=[contents], bizLocation={"id": place}, readPoint={"id": place})  # fmt: skip

    def observe(self, member: str, when: datetime, step: str, disposition: str, what: Contents | str, place: str,
                **fields: Any) -> None:  # fmt: skip
        """An OBSERVE of a lot's quantity or of a container (an SSCC); shipments and departures
        are read at `place`, everything else happens there."""
        named = {"epcList": [what]} if isinstance(what, str) else {"quantityList": [what]}
        where = (
            {"readPoint": {"id": place}}
            if step in ("shipping", "departing", "arriving")
            else {"bizLocation": {"id": place}}
        )
        self._add(member, "ObjectEvent", when, action="OBSERVE", bizStep=step, disposition=disposition,
                  **named, **where, **fields)  # fmt: skip

    def aggregate(self, member: str, when: datetime, action: str, step: str, parent: str, contents: Contents,
                  place: str) -> None:  # fmt: skip
        self._add(member, "AggregationEvent", when, action=action, bizStep=step, disposition="in_progress",
                  parentID=parent, childQuantityList=[contents], bizLocation={"id": place})  # fmt: skip

    def transform(self, member: str, when: datetime, inputs: list[Contents], output: Contents, number: str,
                  place: str) -> None:  # fmt: skip
        self._add(member, "TransformationEvent", when, bizStep="commissioning", disposition="active",
                  inputQuantityList=inputs, outputQuantityList=[output], bizLocation={"id": place},
                  transformationID=f"urn:uuid:6a1f2c00-0000-4000-8000-{number:0>12}")  # fmt: skip

    def count(self) -> int:
        return sum(len(events) for events in self.captures.values())


def _shipment(source: str, destination: str) -> dict[str, Any]:
    return {
        "sourceList": [{"type": "owning_party", "source": BY_HANDLE[source].party}],
        "destinationList": [{"type": "owning_party", "destination": BY_HANDLE[destination].party}],
    }


def _sea_leg(story: Story, contents: Contents, container: str, start: datetime, origin: str, port: str) -> None:
    """Harbour Line loads a container at the port of origin, sails, and unloads it at `port`."""
    story.aggregate("harbour", start, "ADD", "loading", container, contents, origin)
    story.observe("harbour", start + timedelta(days=1), "departing", "in_transit", container, origin)
    story.observe("harbour", start + timedelta(days=24), "arriving", "in_transit", container, port)
    story.aggregate("harbour", start + timedelta(days=25), "DELETE", "unloading", container, contents, port)


def _to_shelf(story: Story, brand: str, contents: Contents, pallet: str, start: datetime) -> None:
    """The brand palletises a lot and ships it to GreenLeaf, which stocks and sells some of it."""
    factory, shop, store = BY_HANDLE[brand].place, BY_HANDLE["greenleaf"].place, _site("greenleaf", 11)
    sold = {**contents, "quantity": round(contents["quantity"] * 0.4, 1)}
    story.aggregate(brand, start, "ADD", "packing", pallet, contents, factory)
    story.observe(
        brand, start + timedelta(days=1), "shipping", "in_transit", pallet, factory, **_shipment(brand, "greenleaf")
    )
    story.observe("greenleaf", start + timedelta(days=3), "receiving", "in_progress", pallet, shop)
    story.aggregate("greenleaf", start + timedelta(days=3, hours=2), "DELETE", "unpacking", pallet, contents, shop)
    story.observe("greenleaf", start + timedelta(days=5), "stocking", "sellable_accessible", contents, store)
    story.observe("greenleaf", start + timedelta(days=19), "retail_selling", "retail_sold", sold, store)


def _harvest(story: Story, farm: str, buyer: str, contents: Contents, harvest: datetime, inspected: int) -> None:
    """A farm harvests a lot, inspects it after `inspected` days and ships it to the buyer."""
    place = BY_HANDLE[farm].place
    story.commission(farm, harvest, contents, place)
    story.observe(farm, harvest + timedelta(days=inspected), "inspecting", "conformant", contents, place)
    story.observe(farm, harvest + timedelta(days=inspected + 8), "shipping", "in_transit", contents, place,
                  **_shipment(farm, buyer))  # fmt: skip


def coffee_story(story: Story) -> None:
    story.slug = COFFEE
    roastery = BY_HANDLE["alpine"].place
    for number in range(1, ORIGIN_LOTS + 1):
        for origin, gtin, port, code in (
            ("sidama", GREEN_COFFEE_SIDAMA, _site("harbour", 21), "SID"),
            ("huila", GREEN_COFFEE_HUILA, _site("harbour", 22), "HUI"),
        ):
            harvest = datetime(2026, 1, 5) + timedelta(days=9 * number + (3 if code == "HUI" else 0))
            contents = _quantity(gtin, f"{code}-2026-{number:02d}", 1200)
            _harvest(story, origin, "alpine", contents, harvest, inspected=12)
            container = _sscc("harbour", 1000 + number * 2 + (code == "HUI"))
            _sea_leg(story, contents, container, harvest + timedelta(days=23), port, _site("harbour", 31))
            story.observe("alpine", harvest + timedelta(days=52), "receiving", "in_progress", contents, roastery)
    for number in range(1, ORIGIN_LOTS + 1):
        roasted = datetime(2026, 4, 20) + timedelta(days=11 * number)
        inputs = [_quantity(GREEN_COFFEE_SIDAMA, f"SID-2026-{number:02d}", 1200),
                  _quantity(GREEN_COFFEE_HUILA, f"HUI-2026-{number:02d}", 1200)]  # fmt: skip
        output = _quantity(ESPRESSO, f"AR-{2600 + number}", 2000)
        story.transform("alpine", roasted, inputs, output, f"c0ffee{number}", roastery)
        _to_shelf(story, "alpine", output, _sscc("alpine", 500 + number), roasted + timedelta(days=2))


def cocoa_story(story: Story) -> None:
    story.slug = COCOA
    factory, lumen = BY_HANDLE["tema"].place, BY_HANDLE["lumen"].place
    for number in range(1, 9):
        harvest = datetime(2026, 2, 2) + timedelta(days=6 * number)
        beans = _quantity(COCOA_BEANS, f"ASH-2026-{number:02d}", 2000)
        _harvest(story, "ashanti", "tema", beans, harvest, inspected=2)
        story.observe("tema", harvest + timedelta(days=12), "receiving", "in_progress", beans, factory)
    for number in range(1, 5):
        ground = datetime(2026, 3, 20) + timedelta(days=14 * number)
        inputs = [_quantity(COCOA_BEANS, f"ASH-2026-{2 * number - 1 + i:02d}", 2000) for i in (0, 1)]
        mass = _quantity(COCOA_MASS, f"TCM-{700 + number}", 3200)
        story.transform("tema", ground, inputs, mass, f"c0c0a{number}", factory)
        story.observe("tema", ground + timedelta(days=3), "shipping", "in_transit", mass, factory,
                      **_shipment("tema", "lumen"))  # fmt: skip
        _sea_leg(story, mass, _sscc("harbour", 2000 + number), ground + timedelta(days=5), _site("harbour", 23),
                 _site("harbour", 32))  # fmt: skip
        story.observe("lumen", ground + timedelta(days=32), "receiving", "in_progress", mass, lumen)
        bars = _quantity(DARK_BAR, f"LD70-{2600 + number}", 4500)
        story.transform("lumen", ground + timedelta(days=40), [mass], bars, f"ba70{number}", lumen)
        _to_shelf(story, "lumen", bars, _sscc("lumen", 300 + number), ground + timedelta(days=44))
    # The recall: Tema's retained sample of one bean lot tests positive; the bars made from it are held.
    sample = _quantity(COCOA_BEANS, RECALLED_BEANS, 2)
    story.observe("tema", datetime(2026, 9, 28, 9), "sampling", "non_conformant", sample, factory)
    story.observe(
        "lumen", datetime(2026, 9, 29, 7), "holding", "recalled", _quantity(DARK_BAR, RECALLED_BARS, 2700), lumen
    )
    story.observe("greenleaf", datetime(2026, 9, 29, 15), "holding", "recalled", _quantity(DARK_BAR, RECALLED_BARS, 1000),
                  _site("greenleaf", 11))  # fmt: skip


def story() -> Story:
    told = Story()
    coffee_story(told)
    cocoa_story(told)
    return told


# --- sharing ----------------------------------------------------------------------------------

PUBLIC = {"kind": "public"}
EVERYONE_HERE = {"kind": "constellation"}


@dataclass(frozen=True)
class GrantPlan:
    name: str
    owner: str
    slug: str
    categories: list[str]
    audience: dict[str, Any] | Callable[[dict[str, str]], dict[str, Any]]
    purpose: str
    extra: dict[str, Any] = field(default_factory=dict)
    revoke: bool = False


def _member(handle: str) -> Callable[[dict[str, str]], dict[str, Any]]:
    return lambda ids: {"kind": "member", "member_id": ids[handle]}


GRANTS = (
    # Open books inside the coffee constellation; narrower defaults in cocoa.
    GrantPlan("coffee-default", "alpine", COFFEE, [*EVENT_CATEGORIES, "attestations", "evidence"], EVERYONE_HERE, "open books among coffee partners", {"default": True}),
    GrantPlan("cocoa-default", "lumen", COCOA, ["what", "when", "where", "why", "quantities", "attestations"], EVERYONE_HERE, "traceability among cocoa partners", {"default": True}),
    # What each member tells the public: the origins and brands tell their story, the carrier does not.
    GrantPlan("sidama-public", "sidama", COFFEE, ["what", "when", "where", "quantities", "attestations"], PUBLIC, "origin story for consumers"),
    GrantPlan("huila-public", "huila", COFFEE, ["what", "when", "attestations"], PUBLIC, "origin story for consumers"),
    GrantPlan("alpine-public", "alpine", COFFEE, ["what", "when", "where", "why", "quantities"], PUBLIC, "product journey for consumers"),
    GrantPlan("greenleaf-coffee-public", "greenleaf", COFFEE, ["what", "when"], PUBLIC, "on the shelf"),
    GrantPlan("terracert-coffee-public", "terracert", COFFEE, ["attestations"], PUBLIC, "public certificates"),
    GrantPlan("ashanti-public", "ashanti", COCOA, ["what", "when", "where", "attestations"], PUBLIC, "origin story for consumers"),
    GrantPlan("lumen-public", "lumen", COCOA, ["what", "when", "where", "why", "quantities"], PUBLIC, "product journey for consumers"),
    GrantPlan("greenleaf-cocoa-public", "greenleaf", COCOA, ["what", "when"], PUBLIC, "on the shelf"),
    GrantPlan("terracert-cocoa-public", "terracert", COCOA, ["attestations"], PUBLIC, "public certificates"),
    # Harbour Line keeps its routing from the competitor's constellation, except for its customer.
    GrantPlan("harbour-cocoa-withhold", "harbour", COCOA, ["where"], EVERYONE_HERE, "routes are confidential", {"effect": "withhold"}),
    GrantPlan("harbour-to-lumen", "harbour", COCOA, ["where", "why"], _member("lumen"), "shipment tracking for the customer"),
    # Tema shares its yields with Lumen for a season; a trial of commercial terms with GreenLeaf ended.
    GrantPlan("tema-to-lumen", "tema", COCOA, ["quantities", "ilmd"], _member("lumen"), "mass balance for the 2026 season", {"valid_until": "2027-06-30T00:00:00Z"}),
    GrantPlan("tema-to-greenleaf", "tema", COCOA, ["commercial"], _member("greenleaf"), "pricing trial (ended)", revoke=True),
)  # fmt: skip


# --- attestations ---------------------------------------------------------------------------


def _pcf(value: float, country: str, boundary: str, *, primary: float, dluc: float = 0.0) -> dict[str, Any]:
    """A PACT footprint per kilogram (kg CO2e): every figure PACT requires, stated."""
    return {
        "declaredUnit": "kilogram",
        "unitaryProductAmount": 1,
        "pCfExcludingBiogenic": round(value, 2),
        "fossilGhgEmissions": round(value - dluc, 2),
        "fossilCarbonContent": 0,
        "biogenicCarbonContent": 0.45,
        "dLucGhgEmissions": dluc,
        "referencePeriodStart": "2025-01-01T00:00:00Z",
        "referencePeriodEnd": "2025-12-31T00:00:00Z",
        "geographyCountry": country,
        "boundaryProcessesDescription": boundary,
        "crossSectoralStandardsUsed": ["GHG Protocol Product standard", "ISO Standard 14067"],
        "primaryDataShare": primary,
    }


@dataclass(frozen=True)
class ClaimPlan:
    name: str
    issuer: str
    slug: str
    schema: str
    subject: dict[str, Any] | Callable[[dict[str, str]], dict[str, Any]]
    body: dict[str, Any]
    expires_at: str | None = None
    revoke: bool = False


def _lot(gtin: str, lot: str) -> dict[str, Any]:
    return {"kind": "item", "gtin": gtin, "lot": lot}


def _self(handle: str) -> Callable[[dict[str, str]], dict[str, Any]]:
    return lambda ids: {"kind": "member", "member_id": ids[handle]}


def _certificate(standard: str, certificate_id: str, scope: str, valid_until: str) -> dict[str, Any]:
    return {"standard": standard, "certificateId": certificate_id, "issuingBody": "TerraCert", "scope": scope,
            "validUntil": valid_until}  # fmt: skip


def _origin(country: str, region: str, latitude: float, longitude: float) -> dict[str, Any]:
    return {"country": country, "region": region, "latitude": latitude, "longitude": longitude, "harvestYear": 2026}


def _pledge(gtin: str, deadline: str, statement: str) -> dict[str, Any]:
    return {"metric": "certified-share", "standard": "Fairtrade", "gtins": [gtin], "targetPercent": 100,
            "deadline": deadline, "statement": statement}  # fmt: skip


FARM_GATE = "cradle to farm gate: cultivation, {}"


def claims() -> Iterator[ClaimPlan]:
    """Certifications by TerraCert (one revoked), PACT footprints and origins by the origins,
    a labour audit, and two pledges the coordinators' views track."""
    for number in range(1, ORIGIN_LOTS + 1):
        sid, hui = f"SID-2026-{number:02d}", f"HUI-2026-{number:02d}"
        sidama, huila = _lot(GREEN_COFFEE_SIDAMA, sid), _lot(GREEN_COFFEE_HUILA, hui)
        fairtrade = _certificate("Fairtrade", f"FLO-ID 3315-{number:02d}", "green coffee, washed", "2027-09-30")
        yield ClaimPlan(f"fairtrade-{sid}", "terracert", COFFEE, "certification", sidama, fairtrade)
        wet_milled = FARM_GATE.format("wet milling, drying")
        yield ClaimPlan(
            f"pcf-{sid}", "sidama", COFFEE, PCF, sidama, _pcf(2.9 + number / 20, "ET", wet_milled, primary=72)
        )
        yield ClaimPlan(
            f"pcf-{hui}", "huila", COFFEE, PCF, huila, _pcf(4.0 + number / 20, "CO", wet_milled, primary=65)
        )
        yield ClaimPlan(
            f"origin-{sid}", "sidama", COFFEE, "origin", sidama, _origin("ET", "Sidama, Bensa", 6.57, 38.72)
        )
        yield ClaimPlan(
            f"origin-{hui}", "huila", COFFEE, "origin", huila, _origin("CO", "Huila, Pitalito", 1.85, -76.05)
        )
    lapsed = _certificate("Organic (EU)", "CO-BIO-154-0192", "green coffee", LAPSED_ON)  # the body says it lapsed
    yield ClaimPlan(
        "organic-HUI-2026-02", "terracert", COFFEE, "certification", _lot(GREEN_COFFEE_HUILA, "HUI-2026-02"), lapsed
    )
    farm = {"kind": "location", "gln": BY_HANDLE["huila"].gln}
    rainforest = _certificate("Rainforest Alliance", "RA-CERT-778812", "farm", "2027-03-31")
    yield ClaimPlan("ra-huila", "terracert", COFFEE, "certification", farm, rainforest, "2027-03-31T23:59:59Z")
    pledge = _pledge(GREEN_COFFEE_SIDAMA, "2027-06-30", "Every Sidama lot Fairtrade certified by mid-2027")
    yield ClaimPlan("pledge-sidama", "sidama", COFFEE, "commitment", _self("sidama"), pledge)
    for number in range(1, 9):
        lot = f"ASH-2026-{number:02d}"
        beans = _lot(COCOA_BEANS, lot)
        fairtrade = _certificate("Fairtrade", f"FLO-ID 2281-{number:02d}", "cocoa beans, fermented", "2027-09-30")
        yield ClaimPlan(
            f"fairtrade-{lot}", "terracert", COCOA, "certification", beans, fairtrade, revoke=lot == REVOKED
        )
        sun_dried = FARM_GATE.format("fermentation, sun drying")
        footprint = _pcf(5.6 + number / 10, "GH", sun_dried, primary=58, dluc=1.9)
        yield ClaimPlan(f"pcf-{lot}", "ashanti", COCOA, PCF, beans, footprint)
    audit = {"standard": "SA8000", "auditor": "TerraCert", "auditDate": "2026-08-14", "result": "conditional",
             "findings": 2, "nextAuditDue": "2027-02-14"}  # fmt: skip
    yield ClaimPlan("audit-ashanti", "terracert", COCOA, "labour-audit", _self("ashanti"), audit)
    pledge = _pledge(COCOA_BEANS, "2027-03-31", "All cocoa lots Fairtrade certified")
    yield ClaimPlan("pledge-ashanti", "ashanti", COCOA, "commitment", _self("ashanti"), pledge)


# --- seeding --------------------------------------------------------------------------------


@dataclass
class DemoState:
    """What was seeded, kept so a rerun does nothing twice: member ids and keys, done steps and
    the ids they made (a revocation is a step of its own, after the step that made its grant
    or attestation)."""

    path: Path
    members: dict[str, dict[str, str]] = field(default_factory=dict)
    done: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> DemoState:
        if not path.is_file():
            return cls(path)
        try:
            stored = json.loads(path.read_text())
            return cls(path, members=dict(stored["members"]), done=dict(stored["done"]))
        except (ValueError, KeyError, TypeError):
            log.warning("demo: %s is unreadable; seeding afresh", path)
            return cls(path)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch(mode=0o600, exist_ok=True)
        self.path.write_text(json.dumps({"members": self.members, "done": self.done}, indent=1))

    def step(self, name: str, action: Callable[[], str | None]) -> str | None:
        """Runs `action` unless a run before did: the id it made, either way."""
        if name not in self.done:
            self.done[name] = action()
            self.save()
        return self.done[name]


@dataclass(frozen=True)
class Demo:
    """What `up` prints after seeding."""

    events: int
    members: dict[str, dict[str, str]]
    journeys: dict[str, str]
    """A label per Digital Link path of a journey page."""
    recall: str
    coordinators: dict[str, str]
    """The coordinator page of each constellation, and who coordinates it."""


JOURNEYS = {
    f"/01/{ESPRESSO}/10/AR-2603": "Alpine Espresso Blend, roast AR-2603",
    f"/01/{DARK_BAR}/10/LD70-2602": "Lumen 70 % dark, lot LD70-2602",
    f"/01/{DARK_BAR}/10/LD70-2603": "Lumen 70 % dark, lot LD70-2603",
    f"/01/{GREEN_COFFEE_HUILA}/10/HUI-2026-02": "Huila green coffee, lot HUI-2026-02",
    f"/01/{COCOA_BEANS}/10/ASH-2026-03": "Ghana cocoa beans, lot ASH-2026-03",
}
"""The demo's journey pages, each with its label; `up` adds what the public page shows (`teaser`)."""


def teaser(label: str, journey: dict[str, Any]) -> str:
    """A journey's label with what its page shows first, read from its journey document (the
    JSON the page renders): a recall, the valid certifications, certificates revoked, expired or
    disputed, and the carbon figure as the page qualifies it."""
    facts = []
    recall = journey.get("recall")
    if recall:
        facts.append(f"recalled by {recall['by']['name']}")
    own = journey["item"]["digitalLink"]
    held = journey["summary"]["certifications"]
    certified = sorted({c["title"] for c in held if c["subject"]["id"] == own})
    upstream = sorted({c["title"] for c in held if c["subject"]["id"] != own} - set(certified))
    if certified:
        facts.append("certified " + ", ".join(certified))
    if upstream:  # an input's or a farm's certificate is not the product's
        facts.append(", ".join(upstream) + " certified upstream")
    for state in ("revoked", "expired", "disputed"):
        lapsed = sorted(
            {c["title"] for c in journey["claims"] if c["kind"] == "certification" and c["status"] == state}
        )
        if lapsed:
            facts.append(f"{', '.join(lapsed)} certificate {state}")
    footprint = journey["footprint"]
    figure = footprint.get("kgCO2ePerDeclaredUnit")
    if figure is not None and footprint["headline"] in ("complete", "at-least"):
        qualifier = "at least " if footprint["headline"] == "at-least" else ""
        facts.append(f"{qualifier}{figure:.2f} kg CO2e per {footprint['declaredUnit']}")
    return f"{label} ({'; '.join(facts)})" if facts else label


def teasers(http: httpx.Client, journeys: dict[str, str]) -> dict[str, str]:
    """Each journey's label and teaser, from the journey the public sees (`http` signs nobody in)."""
    found = {}
    for path, label in journeys.items():
        response = http.get(path, headers={"Accept": "application/json"})
        response.raise_for_status()
        found[path] = teaser(label, response.json())
    return found


def seed(admin: Client, state_path: Path) -> Demo:
    """Seeds the demo through the API as the operator (`admin`) and the members it onboards."""
    state = DemoState.load(state_path)
    clients = _members(admin, state)
    ids = {handle: member["id"] for handle, member in state.members.items()}

    def as_(handle: str) -> Client:
        return clients[handle]

    for slug, coordinator in COORDINATORS.items():
        state.step(f"constellation:{slug}", lambda s=slug, c=coordinator: _constellation(as_(c), s))
        for partner in PARTNERS:
            if slug in partner.roles:
                roles = partner.roles[slug] + (["coordinator"] if partner.handle == coordinator else [])
                state.step(
                    f"roles:{slug}:{partner.handle}",
                    lambda s=slug, c=coordinator, p=partner, r=roles: _none(as_(c).set_roles(s, ids[p.handle], r)),
                )
    for owner in dict.fromkeys(owner for owner, _, _ in (*PRODUCTS, *PLACES)):
        prefix_claim = state.step(f"prefix:{owner}", lambda o=owner: _claim_prefix(as_(o), o))
        approver = _prefix_approver(owner)
        state.step(
            f"approve-prefix:{owner}",
            lambda c=prefix_claim, a=approver: _none(
                (admin if a is None else as_(a)).post(f"/company-prefixes/{c}/approve", {})
            ),
        )
    for owner, gtin, fields in PRODUCTS:
        state.step(f"product:{gtin}", lambda o=owner, g=gtin, f=fields: _none(as_(o).put_product(g, **f)))
    for owner, gln, fields in PLACES:
        state.step(f"place:{gln}", lambda o=owner, g=gln, f=fields: _none(as_(o).put(f"/places/{g}", f)))
    for plan in GRANTS:
        made = state.step(f"grant:{plan.name}", lambda p=plan: _grant(as_(p.owner), p, ids))
        if plan.revoke and made is not None:
            state.step(f"revoke-grant:{plan.name}", lambda p=plan, g=made: _none(as_(p.owner).revoke_grant(g)))
    told = story()
    for (member, slug), events in told.captures.items():
        state.step(
            f"capture:{slug}:{member}",
            lambda m=member, s=slug, e=events: _none(
                as_(m).capture(s, epcis_document(e, creation_date="2026-11-01T00:00:00Z"))
            ),
        )
    for claim in claims():
        made = state.step(f"claim:{claim.name}", lambda c=claim: _claim(as_(c.issuer), c, ids))
        if claim.revoke and made is not None:
            state.step(f"revoke:{claim.name}", lambda c=claim, u=made: _none(as_(c.issuer).revoke_attestation(u)))
    return Demo(
        events=told.count(),
        members=state.members,
        journeys=JOURNEYS,
        recall=f"/recall/01/{COCOA_BEANS}/10/{RECALLED_BEANS}",
        coordinators={f"/coordinator/{slug}": BY_HANDLE[handle].name for slug, handle in COORDINATORS.items()},
    )


def _members(admin: Client, state: DemoState) -> dict[str, Client]:
    """A client per partner. Stored keys the service no longer knows mean a fresh database:
    then everything is seeded afresh."""
    if state.members:
        try:
            admin.as_member(next(iter(state.members.values()))["api_key"]).me()
        except ApiError as exc:
            if exc.status != 401:
                raise
            log.info("demo: the database no longer knows the seeded members; seeding afresh")
            state.members.clear()
            state.done.clear()
    for partner in PARTNERS:
        if partner.handle not in state.members:
            member, token = admin.onboard(partner.name, gln=partner.gln, website=partner.website)
            state.members[partner.handle] = {"id": member["id"], "name": partner.name, "api_key": token}
            state.save()
    return {handle: admin.as_member(member["api_key"]) for handle, member in state.members.items()}


def _constellation(coordinator: Client, slug: str) -> None:
    if coordinator.constellation(slug) is None:
        coordinator.create_constellation(slug, CONSTELLATION_NAMES[slug])


def _grant(owner: Client, plan: GrantPlan, ids: dict[str, str]) -> str:
    audience = plan.audience(ids) if callable(plan.audience) else plan.audience
    return str(owner.grant(plan.slug, plan.categories, audience, plan.purpose, **plan.extra)["id"])


def _claim(issuer: Client, plan: ClaimPlan, ids: dict[str, str]) -> str:
    subject = plan.subject(ids) if callable(plan.subject) else plan.subject
    return str(issuer.attest(plan.slug, plan.schema, subject, plan.body, expires_at=plan.expires_at)["uid"])


def company_prefix(handle: str) -> str:
    """A partner's GS1 company prefix: the first seven digits of its GLN (its GTINs carry it
    after their indicator digit)."""
    return BY_HANDLE[handle].gln[:7]


def _claim_prefix(member: Client, handle: str) -> str:
    return str(member.post("/company-prefixes", {"prefix": company_prefix(handle)})["id"])


def _prefix_approver(handle: str) -> str | None:
    """Who approves a partner's prefix: the coordinator of its constellation, or the operator
    (None) for a coordinator's own (nobody approves its own claim)."""
    slug = next(iter(BY_HANDLE[handle].roles))
    coordinator = COORDINATORS[slug]
    return None if coordinator == handle else coordinator


def _none(_: object) -> None:
    """A step that makes nothing to remember."""
