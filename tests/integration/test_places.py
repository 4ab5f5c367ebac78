"""Places on a real Anvil and both databases: location master data is registered by the holder of
the GLN's company prefix or the operator, read by anyone, validated (4xx Problems); a journey's
`route` and `places` show only the places on steps its reader may see, in journey order."""

from __future__ import annotations

from typing import Any

import pytest

from . import journey
from .conftest import Api
from .test_journeys import JSON, ROAST_PATH, Shop

FARM_1, FARM_2, ROASTERY, SHOP = (
    p.rsplit("/", 1)[1] for p in (journey.FARM_1, journey.FARM_2, journey.ROASTERY, journey.SHOP)
)
PLACE = {
    "name": "Finca El Mirador",
    "street_address": "Vereda Bruselas",
    "city": "Pitalito",
    "region": "Huila",
    "country": "CO",
    "latitude": 1.85,
    "longitude": -76.05,
}


def test_the_prefix_holder_registers_a_place_and_anyone_reads_it(api: Api) -> None:
    farm, farm_h = api.onboard("Finca El Mirador")
    api.own_prefix(farm_h, FARM_1)
    put = api.client.put(f"/places/{FARM_1}", json=PLACE, headers=farm_h)
    assert put.status_code == 200, put.text
    read = api.client.get(f"/places/{FARM_1}")
    assert read.status_code == 200
    assert {k: read.json()[k] for k in PLACE} == PLACE
    assert read.json()["gln"] == FARM_1 and read.json()["registered_by"] == farm["id"]
    moved = api.client.put(f"/places/{FARM_1}", json={**PLACE, "latitude": 1.9, "longitude": -76.1}, headers=farm_h)
    assert moved.status_code == 200 and (moved.json()["latitude"], moved.json()["longitude"]) == (1.9, -76.1)


def test_another_member_may_not_register_a_place_and_the_operator_may(api: Api) -> None:
    _, farm_h = api.onboard("Finca El Mirador")
    _, other_h = api.onboard("Somebody Else")
    api.own_prefix(farm_h, FARM_1)
    assert api.client.put(f"/places/{FARM_1}", json=PLACE, headers=farm_h).status_code == 200
    refused = api.client.put(f"/places/{FARM_1}", json={**PLACE, "name": "Mine now"}, headers=other_h)
    assert refused.status_code == 403 and "company prefix" in refused.json()["detail"]
    assert api.client.get(f"/places/{FARM_1}").json()["name"] == PLACE["name"]
    unclaimed = api.client.put(f"/places/{FARM_2}", json=PLACE, headers=other_h)
    assert unclaimed.status_code == 403
    assert api.client.put(f"/places/{FARM_2}", json=PLACE).status_code == 401
    operator = api.client.put(f"/places/{FARM_2}", json={**PLACE, "name": "Port of Tema"}, headers=api.admin)
    assert operator.status_code == 200 and operator.json()["name"] == "Port of Tema"


@pytest.mark.parametrize(
    ("gln", "body"),
    [
        (FARM_1[:-1] + str((int(FARM_1[-1]) + 1) % 10), PLACE),  # a wrong check digit
        (FARM_1[:-1], PLACE),  # 12 digits
        ("950600000001x", PLACE),
        (FARM_1, {**PLACE, "latitude": 90.5}),
        (FARM_1, {**PLACE, "longitude": -180.01}),
        (FARM_1, {**PLACE, "latitude": None}),  # a latitude without a longitude
        (FARM_1, {**PLACE, "name": "   "}),
        (FARM_1, {**PLACE, "name": "x" * 201}),
        (FARM_1, {**PLACE, "city": "Pita\x00lito"}),
        (FARM_1, {**PLACE, "country": "Colombia"}),
        (FARM_1, {**PLACE, "owner": "me"}),
    ],
    ids=[
        "check-digit",
        "short",
        "letter",
        "latitude",
        "longitude",
        "half-coordinates",
        "blank-name",
        "long-name",
        "control-character",
        "country",
        "unknown-field",
    ],
)
def test_bad_glns_and_coordinates_are_refused(api: Api, gln: str, body: dict[str, Any]) -> None:
    _, farm_h = api.onboard("Finca El Mirador")
    api.own_prefix(farm_h, FARM_1)
    response = api.client.put(f"/places/{gln}", json=body, headers=farm_h)
    assert 400 <= response.status_code < 500 and response.status_code != 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert api.client.get(f"/places/{FARM_1}").status_code == 404


def test_an_unknown_or_malformed_place_is_a_problem(api: Api) -> None:
    assert api.client.get(f"/places/{FARM_1}").status_code == 404
    assert api.client.get("/places/1234567890123").status_code == 422  # wrong check digit


# --- the journey's route -------------------------------------------------------------------------

COORDINATES = {
    FARM_1: ("Farm one", "Sidama", "ET", 6.57, 38.72),
    FARM_2: ("Farm two", "Pitalito", "CO", 1.85, -76.05),
    ROASTERY: ("The Roastery", "Zürich", "CH", 47.37, 8.54),
    SHOP: ("Coffee Shop Sablon", "Brussels", "BE", 50.84, 4.36),
}


@pytest.fixture
def mapped(api: Api) -> Shop:
    """The coffee journey with its four places registered by the operator (the shop's without
    coordinates)."""
    shop = Shop(api)
    for gln, (name, city, country, lat, lon) in COORDINATES.items():
        body: dict[str, Any] = {"name": name, "city": city, "country": country}
        if gln != SHOP:
            body |= {"latitude": lat, "longitude": lon}
        response = shop.api.client.put(f"/places/{gln}", json=body, headers=shop.api.admin)
        assert response.status_code == 200, response.text
    return shop


def _located(body: dict[str, Any]) -> list[str]:
    return [stop["gln"] for stop in body["route"]]


def test_the_brand_sees_the_route_in_journey_order_following_the_goods(mapped: Shop) -> None:
    body = mapped.page(ROAST_PATH, {**JSON, **mapped.brand_h}).json()
    assert _located(body) == [FARM_1, FARM_2, ROASTERY]  # the shop has no coordinates: named, not mapped
    farm_1, _, roastery = body["route"]
    assert farm_1 == {
        "gln": FARM_1,
        "name": "Farm one",
        "city": "Sidama",
        "country": "ET",
        "lat": 6.57,
        "lon": 38.72,
        "steps": farm_1["steps"],
        "from": [],
    }
    assert roastery["from"] == [0, 1]  # both farm lots went to the roastery
    for stop in body["route"]:
        assert stop["steps"] and all(
            body["steps"][i]["where"]["id"].endswith("/414/" + stop["gln"]) for i in stop["steps"]
        )
    assert {s["where"]["id"]: s["where"]["name"] for s in body["steps"]}[journey.SHOP] == "Coffee Shop Sablon"
    assert body["places"][journey.SHOP] == {"name": "Coffee Shop Sablon", "city": "Brussels", "country": "BE"}


def test_the_public_sees_only_the_places_of_steps_shared_with_it(mapped: Shop) -> None:
    response = mapped.page(ROAST_PATH, JSON)
    body = response.json()
    assert _located(body) == [ROASTERY]  # the farms keep "where" from the public, the shop everything
    assert set(body["places"]) == {journey.ROASTERY}
    for hidden in ("Farm one", "Farm two", "Sidama", "Pitalito", FARM_1, FARM_2, "Coffee Shop Sablon"):
        assert hidden not in response.text


def test_a_moved_place_shows_on_the_next_request(mapped: Shop) -> None:
    before = mapped.page(ROAST_PATH, JSON).json()
    assert before["route"][0]["lat"] == 47.37
    moved = mapped.api.client.put(
        f"/places/{ROASTERY}",
        json={"name": "The Roastery, Basel", "country": "CH", "latitude": 47.56, "longitude": 7.59},
        headers=mapped.api.admin,
    )
    assert moved.status_code == 200
    after = mapped.page(ROAST_PATH, JSON).json()
    assert after["route"][0]["lat"] == 47.56 and after["route"][0]["name"] == "The Roastery, Basel"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Finca \u202eorodaM"),  # right-to-left override
        ("name", "Finca\u2066 Mirador\u2069"),  # an isolate
        ("city", "Pita\u200blito"),  # a zero-width space
        ("region", "Huila\u200f"),  # a right-to-left mark
        ("street_address", "Vereda\u0085Bruselas"),  # a C1 control
    ],
    ids=["override", "isolate", "zero-width", "mark", "c1"],
)
def test_a_place_name_holding_format_characters_is_refused_naming_the_field(api: Api, field: str, value: str) -> None:
    _, farm_h = api.onboard("Finca El Mirador")
    api.own_prefix(farm_h, FARM_1)
    response = api.client.put(f"/places/{FARM_1}", json={**PLACE, field: value}, headers=farm_h)
    assert response.status_code == 422 and field in response.text, response.text
    assert "format characters" in response.text
    assert api.client.get(f"/places/{FARM_1}").status_code == 404
