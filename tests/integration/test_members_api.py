"""Onboarding members with both key kinds, API keys, managed-key export — through the API."""

from __future__ import annotations

import pytest
from eth_account import Account

from .conftest import Api

SELF_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"


def test_operator_onboards_a_managed_member_whose_key_works(api: Api) -> None:
    member, headers = api.onboard("Finca La Esperanza", gln="4012345000009", website="https://esperanza.example")
    assert member["custody"] == "managed"
    assert member["address"].startswith("0x") and len(member["address"]) == 42
    me = api.client.get("/members/me", headers=headers)
    assert me.status_code == 200 and me.json()["id"] == member["id"]


def test_operator_onboards_a_self_custody_member_and_never_sees_its_key(api: Api) -> None:
    address = Account.from_key(SELF_KEY).address
    member, headers = api.onboard("Roastery Nord", address=address.lower(), lei="5493001KJTIIGC8Y1R12")
    assert member["custody"] == "self" and member["address"] == address
    export = api.client.post("/members/me/key/export", headers=headers)
    assert export.status_code == 422 and "self-custody" in export.json()["detail"]


def test_managed_key_exports_once(api: Api) -> None:
    member, headers = api.onboard("Cooperative Sur")
    first = api.client.post("/members/me/key/export", headers=headers)
    assert first.status_code == 200
    assert Account.from_key(first.json()["private_key"]).address == member["address"]
    second = api.client.post("/members/me/key/export", headers=headers)
    assert second.status_code == 409 and "already exported" in second.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"gln": "4012345000008"}, "wrong check digit"),
        ({"gln": "40123"}, "13 digits"),
        ({"lei": "5493001KJTIIGC8Y1R13"}, "wrong check digits"),
        ({"address": "0x1234"}, "not an Ethereum address"),
        ({"website": "not a url"}, "URL"),
        ({"name": "   "}, "blank"),
        ({"colour": "blue"}, "Extra inputs"),
    ],
)
def test_bad_member_input_is_refused_naming_the_problem(api: Api, fields: dict[str, str], problem: str) -> None:
    response = api.client.post("/members", json={"name": "X", **fields}, headers=api.admin)
    assert response.status_code == 422
    assert problem in response.text


def test_duplicate_gln_or_address_conflicts_and_stores_nothing(api: Api) -> None:
    api.onboard("First", gln="4012345000009")
    again = api.client.post("/members", json={"name": "Second", "gln": "4012345000009"}, headers=api.admin)
    assert again.status_code == 409 and "4012345000009" in again.json()["detail"]


def test_requests_without_or_with_bad_credentials_are_refused(api: Api) -> None:
    assert api.client.get("/members/me").status_code == 401
    assert api.client.get("/members/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert api.client.get("/members/me", headers={"X-API-Key": "cst_0011223344556677_wrong"}).status_code == 401


def test_only_the_operator_onboards(api: Api) -> None:
    _, headers = api.onboard("Brand A")
    response = api.client.post("/members", json={"name": "Sneaky"}, headers=headers)
    assert response.status_code == 403 and "admin" in response.json()["detail"]


def test_api_keys_are_shown_once_scoped_and_revocable(api: Api) -> None:
    _, headers = api.onboard("Retailer")
    created = api.client.post("/members/me/api-keys", json={"scopes": ["read"], "label": "dashboard"}, headers=headers)
    assert created.status_code == 201
    token, key_id = created.json()["token"], created.json()["id"]
    listed = api.client.get("/members/me/api-keys", headers=headers).json()
    assert {k["id"] for k in listed} >= {key_id} and all("token" not in k for k in listed)
    read_only = {"Authorization": f"Bearer {token}"}
    denied = api.client.post("/members/me/api-keys", json={}, headers=read_only)
    assert denied.status_code == 403 and "members" in denied.json()["detail"]
    assert api.client.delete(f"/members/me/api-keys/{key_id}", headers=headers).status_code == 200
    assert api.client.get("/members/me", headers=read_only).status_code == 401


def test_admin_scope_cannot_be_given_to_a_member(api: Api) -> None:
    _, headers = api.onboard("Ambitious")
    response = api.client.post("/members/me/api-keys", json={"scopes": ["admin"]}, headers=headers)
    assert response.status_code == 403


def test_a_key_mints_only_keys_within_its_own_scopes(api: Api) -> None:
    """A key holding only `members` minted a key with every scope before: an escalation."""
    _, headers = api.onboard("Retailer")
    created = api.client.post("/members/me/api-keys", json={"scopes": ["members"]}, headers=headers)
    assert created.status_code == 201, created.text
    narrow = {"Authorization": f"Bearer {created.json()['token']}"}
    every = ["attestations", "constellations", "events", "grants", "members", "read"]
    escalated = api.client.post("/members/me/api-keys", json={"scopes": every}, headers=narrow)
    assert escalated.status_code == 403, escalated.text
    assert "lacks the scopes ['attestations', 'constellations', 'events', 'grants', 'read']" in escalated.text
    one_more = api.client.post("/members/me/api-keys", json={"scopes": ["members", "read"]}, headers=narrow)
    assert one_more.status_code == 403 and "['read']" in one_more.json()["detail"]
    assert api.client.post("/members/me/api-keys", json={"scopes": ["admin"]}, headers=narrow).status_code == 403
    by_default = api.client.post("/members/me/api-keys", json={}, headers=narrow)
    assert by_default.status_code == 201 and by_default.json()["scopes"] == ["members"]
    same = api.client.post("/members/me/api-keys", json={"scopes": ["members"]}, headers=narrow)
    assert same.status_code == 201 and same.json()["scopes"] == ["members"]
    listed = api.client.get("/members/me/api-keys", headers=headers).json()
    assert all(set(k["scopes"]) <= {"members"} for k in listed if k["label"] != "onboarding")


def test_a_narrow_key_cannot_export_the_managed_key_to_sign_in_with_every_scope(api: Api) -> None:
    """The exported private key signs in (SIWE) with every scope: exporting it with a narrower
    key would step around the minting rule."""
    _, headers = api.onboard("Harbour")
    created = api.client.post("/members/me/api-keys", json={"scopes": ["members"]}, headers=headers)
    narrow = {"Authorization": f"Bearer {created.json()['token']}"}
    refused = api.client.post("/members/me/key/export", headers=narrow)
    assert refused.status_code == 403, refused.text
    assert "every member scope" in refused.json()["detail"] and "'events'" in refused.json()["detail"]
    assert api.client.post("/members/me/key/export", headers=headers).status_code == 200  # the key is still there
