"""GTINs are bound to their brand through its GS1 company prefix, on a real Anvil and both
databases: registering a GTIN first proves nothing; a prefix counts once a coordinator of the
claimant's constellation or the operator approves it; the operator settles conflicts."""

from __future__ import annotations

from typing import Any

import pytest

from . import journey
from .conftest import Api

BRAND_PREFIX = "9506000"
"""The company prefix both coffee GTINs of tests/integration/journey.py fall under."""


class Coffee:
    """A coordinator (the roaster's brand), the roastery it coordinates, and a squatter from
    elsewhere who coordinates a constellation of its own."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.brand, self.brand_h = api.onboard("Roaster Brand")
        self.roastery, self.roastery_h = api.onboard("Roastery")
        self.squatter, self.squatter_h = api.onboard("Squatter Ltd")
        self.accomplice, self.accomplice_h = api.onboard("Accomplice")
        for headers, slug, member, roles in (
            (self.brand_h, "coffee", self.roastery, ["manufacturer", "brand"]),
            (self.squatter_h, "elsewhere", self.accomplice, ["retailer"]),
        ):
            created = api.client.post("/constellations", json={"slug": slug, "name": slug}, headers=headers)
            assert created.status_code == 201, created.text
            put = api.client.put(
                f"/constellations/{slug}/members/{member['id']}", json={"roles": roles}, headers=headers
            )
            assert put.status_code == 200, put.text

    def claim(self, headers: dict[str, str], prefix: str = BRAND_PREFIX) -> dict[str, Any]:
        response = self.api.client.post("/company-prefixes", json={"prefix": prefix}, headers=headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def approve(self, claim: dict[str, Any], headers: dict[str, str]) -> Any:
        return self.api.client.post(f"/company-prefixes/{claim['id']}/approve", headers=headers)

    def register(self, headers: dict[str, str], name: str = "Espresso") -> Any:
        return self.api.client.put("/products", json={"gtin": journey.ROASTED, "name": name}, headers=headers)


@pytest.fixture
def coffee(api: Api) -> Coffee:
    return Coffee(api)


def test_registering_a_gtin_first_does_not_make_it_yours(coffee: Coffee) -> None:
    refused = coffee.register(coffee.squatter_h, "Counterfeit")
    assert refused.status_code == 403 and "company prefix" in refused.json()["detail"]
    claim = coffee.claim(coffee.squatter_h)
    assert claim["status"] == "pending"
    assert coffee.register(coffee.squatter_h, "Counterfeit").status_code == 403  # a pending claim is not enough
    assert coffee.api.client.get(f"/products/{journey.ROASTED}").status_code == 404


def test_a_coordinator_approves_its_members_prefix_and_the_brand_registers(coffee: Coffee) -> None:
    claim = coffee.claim(coffee.roastery_h)
    assert coffee.approve(claim, coffee.squatter_h).status_code == 403  # not the roastery's coordinator
    approved = coffee.approve(claim, coffee.brand_h)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["approved_by"] == coffee.brand["id"]
    registered = coffee.register(coffee.roastery_h)
    assert registered.status_code == 200 and registered.json()["owner_id"] == coffee.roastery["id"]
    listed = coffee.api.client.get("/company-prefixes", params={"status": "approved"}).json()
    assert [(c["prefix"], c["member_id"]) for c in listed] == [(BRAND_PREFIX, coffee.roastery["id"])]


def test_nobody_approves_its_own_claim_and_a_squatters_accomplice_is_refused_once_a_brand_holds_it(
    coffee: Coffee,
) -> None:
    own = coffee.claim(coffee.squatter_h)
    denied = coffee.approve(own, coffee.squatter_h)  # it coordinates `elsewhere`, but it is the claimant
    assert denied.status_code == 403 and "not the claimant" in denied.json()["detail"]
    real = coffee.claim(coffee.roastery_h)
    assert coffee.approve(real, coffee.brand_h).status_code == 200
    accomplice = coffee.claim(coffee.accomplice_h, BRAND_PREFIX + "013")  # a narrower prefix inside it
    overlap = coffee.approve(accomplice, coffee.squatter_h)
    assert overlap.status_code == 409 and BRAND_PREFIX in overlap.json()["detail"]
    assert coffee.register(coffee.accomplice_h, "Counterfeit").status_code == 403


def test_the_operator_settles_a_conflict_and_the_gtins_change_hands(coffee: Coffee) -> None:
    squatted = coffee.claim(coffee.accomplice_h)
    assert coffee.approve(squatted, coffee.squatter_h).status_code == 200  # collusion got there first
    assert coffee.register(coffee.accomplice_h, "Counterfeit").status_code == 200
    real = coffee.claim(coffee.roastery_h)
    assert coffee.approve(real, coffee.brand_h).status_code == 409
    path = f"/company-prefixes/{BRAND_PREFIX}/holder"
    body = {"member_id": coffee.roastery["id"]}
    assert coffee.api.client.put(path, json=body, headers=coffee.brand_h).status_code == 403  # the operator only
    settled = coffee.api.client.put(path, json=body, headers=coffee.api.admin)
    assert settled.status_code == 200 and settled.json()["status"] == "approved", settled.text
    product = coffee.api.client.get(f"/products/{journey.ROASTED}").json()
    assert product["owner_id"] == coffee.roastery["id"]
    assert coffee.register(coffee.accomplice_h, "Counterfeit again").status_code == 403
    assert coffee.register(coffee.roastery_h).json()["name"] == "Espresso"
    statuses = {c["member_id"]: c["status"] for c in coffee.api.client.get("/company-prefixes").json()}
    assert statuses == {coffee.accomplice["id"]: "revoked", coffee.roastery["id"]: "approved"}


@pytest.mark.parametrize("prefix", ["123", "1234567890123", "95O6000", ""])
def test_a_malformed_prefix_is_refused_naming_the_rule(coffee: Coffee, prefix: str) -> None:
    response = coffee.api.client.post("/company-prefixes", json={"prefix": prefix}, headers=coffee.roastery_h)
    assert response.status_code in (400, 422) and "4 to 12 digits" in response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Espresso \u202eotteR"),  # right-to-left override
        ("brand", "Roaster\u2067 Brand"),  # an isolate
        ("description", "Dark\u200d roast"),  # a zero-width joiner
        ("description", "Dark\x07 roast"),  # a C0 control
        ("name", "Espresso\x9b"),  # a C1 control
        ("brand", "   "),
    ],
    ids=["override", "isolate", "joiner", "c0", "c1", "blank"],
)
def test_product_master_data_holding_control_or_format_characters_is_refused_naming_the_field(
    api: Api, field: str, value: str
) -> None:
    _, brand_h = api.onboard("Roaster Brand")
    api.own_prefix(brand_h, journey.ROASTED)
    product = {"gtin": journey.ROASTED, "name": "Espresso", field: value}
    response = api.client.put("/products", json=product, headers=brand_h)
    assert response.status_code == 422 and field in response.text, response.text
    assert api.client.get(f"/products/{journey.ROASTED}").status_code == 404
    fine = {"gtin": journey.ROASTED, "name": " Espresso ", "brand": "Café Ñandú", "description": "Röstung: dunkel"}
    saved = api.client.put("/products", json=fine, headers=brand_h)
    assert saved.status_code == 200 and saved.json()["name"] == "Espresso", saved.text
