"""Constellations through the API: the chain is authoritative, the mirror answers reads."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_typed_data

from service.chain.deployment import Chain
from service.domain.constellations import constellation_id
from service.roles import Role

from .conftest import Api

SELF_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"


def _sign(typed: dict[str, object], key: str) -> str:
    return "0x" + bytes(Account.sign_message(encode_typed_data(full_message=typed), key).signature).hex()


def _roles(api: Api, headers: dict[str, str], slug: str) -> dict[str, list[str]]:
    body = api.client.get(f"/constellations/{slug}", headers=headers).json()
    return {m["member"]["name"]: m["roles"] for m in body["members"] if m["member"]}


def test_a_managed_member_creates_a_constellation_and_coordinates_it(api: Api, chain: Chain) -> None:
    brand, headers = api.onboard("Chocolatier")
    created = api.client.post("/constellations", json={"slug": "cocoa", "name": "Cocoa"}, headers=headers)
    assert created.status_code == 201, created.text
    cid = bytes.fromhex(constellation_id("cocoa")[2:])
    assert chain.registry.roles_of(cid, brand["address"]) == Role.COORDINATOR
    assert chain.registry.roles_of(cid, chain.sender.address) == Role.ANCHORER
    assert _roles(api, headers, "cocoa") == {"Chocolatier": ["coordinator"], "Operator": ["anchorer"]}
    again = api.client.post("/constellations", json={"slug": "cocoa", "name": "Cocoa"}, headers=headers)
    assert again.status_code == 409


def test_a_member_holds_different_roles_in_two_constellations(api: Api, chain: Chain) -> None:
    _coffee_brand, coffee_headers = api.onboard("Coffee Brand")
    _cocoa_brand, cocoa_headers = api.onboard("Cocoa Brand")
    shipper, shipper_headers = api.onboard("Shipper")
    api.client.post("/constellations", json={"slug": "coffee", "name": "Coffee"}, headers=coffee_headers)
    api.client.post("/constellations", json={"slug": "cocoa", "name": "Cocoa"}, headers=cocoa_headers)
    for slug, headers, roles in (
        ("coffee", coffee_headers, ["logistics"]),
        ("cocoa", cocoa_headers, ["supplier", "logistics"]),
    ):
        response = api.client.put(
            f"/constellations/{slug}/members/{shipper['id']}", json={"roles": roles}, headers=headers
        )
        assert response.status_code == 200, response.text
    mine = api.client.get("/constellations", headers=shipper_headers).json()
    assert {m["slug"]: m["roles"] for m in mine} == {"coffee": ["logistics"], "cocoa": ["supplier", "logistics"]}
    assert (
        chain.registry.roles_of(bytes.fromhex(constellation_id("cocoa")[2:]), shipper["address"])
        == Role.SUPPLIER | Role.LOGISTICS
    )


def test_roles_change_and_removal_are_mirrored(api: Api) -> None:
    _, headers = api.onboard("Coordinator")
    farm, _ = api.onboard("Farm")
    api.client.post("/constellations", json={"slug": "coffee", "name": "Coffee"}, headers=headers)
    path = f"/constellations/coffee/members/{farm['id']}"
    api.client.put(path, json={"roles": ["supplier"]}, headers=headers)
    api.client.put(path, json={"roles": ["supplier", "manufacturer"]}, headers=headers)
    assert _roles(api, headers, "coffee")["Farm"] == ["supplier", "manufacturer"]
    assert api.client.put(path, json={"roles": []}, headers=headers).status_code == 200
    assert "Farm" not in _roles(api, headers, "coffee")
    again = api.client.put(path, json={"roles": []}, headers=headers)
    assert again.status_code == 404


def test_only_a_coordinator_changes_roles(api: Api) -> None:
    _, headers = api.onboard("Coordinator")
    farm, farm_headers = api.onboard("Farm")
    api.client.post("/constellations", json={"slug": "coffee", "name": "Coffee"}, headers=headers)
    api.client.put(f"/constellations/coffee/members/{farm['id']}", json={"roles": ["supplier"]}, headers=headers)
    response = api.client.put(
        f"/constellations/coffee/members/{farm['id']}", json={"roles": ["brand"]}, headers=farm_headers
    )
    assert response.status_code == 403 and "not a coordinator" in response.json()["detail"]


def test_unknown_role_or_slug_is_refused(api: Api) -> None:
    _, headers = api.onboard("Coordinator")
    farm, _ = api.onboard("Farm")
    api.client.post("/constellations", json={"slug": "coffee", "name": "Coffee"}, headers=headers)
    bad_role = api.client.put(
        f"/constellations/coffee/members/{farm['id']}", json={"roles": ["wizard"]}, headers=headers
    )
    assert bad_role.status_code == 422 and "wizard" in bad_role.json()["detail"]
    bad_slug = api.client.post("/constellations", json={"slug": "Bad Slug!", "name": "x"}, headers=headers)
    assert bad_slug.status_code == 422 and "slug" in bad_slug.text
    unknown = api.client.get("/constellations/nowhere", headers=headers)
    assert unknown.status_code == 404


def test_a_self_custody_coordinator_signs_and_the_service_relays(api: Api, chain: Chain) -> None:
    address = Account.from_key(SELF_KEY).address
    _, headers = api.onboard("Self Custody Brand", address=address)
    unsigned = api.client.post("/constellations", json={"slug": "tea", "name": "Tea"}, headers=headers)
    assert unsigned.status_code == 422 and "holds its own key" in unsigned.json()["detail"]
    prepared = api.client.post("/constellations/prepare", json={"slug": "tea", "name": "Tea"}, headers=headers).json()
    wrong = [_sign(m, "0x" + "11" * 32) for m in prepared["messages"]]
    forged = api.client.post(
        "/constellations",
        json={"slug": "tea", "name": "Tea", "deadline": prepared["deadline"], "signatures": wrong},
        headers=headers,
    )
    assert forged.status_code == 422 and "not by Self Custody Brand" in forged.json()["detail"]
    signatures = [_sign(m, SELF_KEY) for m in prepared["messages"]]
    created = api.client.post(
        "/constellations",
        json={"slug": "tea", "name": "Tea", "deadline": prepared["deadline"], "signatures": signatures},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert chain.registry.roles_of(bytes.fromhex(constellation_id("tea")[2:]), address) == Role.COORDINATOR


def test_rotating_a_managed_coordinator_key_moves_its_roles(api: Api, chain: Chain) -> None:
    _, headers = api.onboard("Coordinator")
    api.client.post("/constellations", json={"slug": "coffee", "name": "Coffee"}, headers=headers)
    rotated = api.client.post("/members/me/key/rotate", headers=headers)
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["moved"] == ["coffee"] and body["pending"] == []
    cid = bytes.fromhex(constellation_id("coffee")[2:])
    assert chain.registry.roles_of(cid, body["new_address"]) == Role.COORDINATOR
    assert chain.registry.roles_of(cid, body["old_address"]) == 0
    assert api.client.get("/members/me", headers=headers).json()["address"] == body["new_address"]
