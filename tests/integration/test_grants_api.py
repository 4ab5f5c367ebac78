"""Sharing grants through the API on a real Anvil and both databases: created by the owner's
signature and anchored on the SharingLedger, revoked by the owner only (on chain too), bad
grants refused naming the problem with nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from sqlalchemy import delete, select, update

from service.chain.deployment import Chain
from service.db.models import ChainGrantRevocation, IndexerCheckpoint, SharingGrant
from service.domain.sharing import audience_hash

from .conftest import Api

SELF_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"


class Coffee:
    def __init__(self, api: Api) -> None:
        self.api = api
        _, self.brand_h = api.onboard("Brand")
        self.farm, self.farm_h = api.onboard("Farm")
        self.roaster, self.roaster_h = api.onboard("Roaster")
        self.coop, self.coop_h = api.onboard("Coop", address=Account.from_key(SELF_KEY).address)
        _, self.outsider_h = api.onboard("Outsider")
        api.client.post("/constellations", json={"slug": "coffee", "name": "Coffee"}, headers=self.brand_h)
        for member, roles in ((self.farm, ["supplier"]), (self.roaster, ["manufacturer"]), (self.coop, ["supplier"])):
            api.client.put(
                f"/constellations/coffee/members/{member['id']}", json={"roles": roles}, headers=self.brand_h
            )

    def grant(self, headers: dict[str, str], **fields: Any) -> Any:
        body = {
            "constellation": "coffee",
            "categories": ["what", "when"],
            "audience": {"kind": "constellation"},
            "purpose": "traceability",
        } | fields
        return self.api.client.post("/grants", json=body, headers=headers)


@pytest.fixture
def coffee(api: Api) -> Coffee:
    return Coffee(api)


def test_a_grant_is_anchored_and_revoked_on_chain(coffee: Coffee, chain: Chain) -> None:
    made = coffee.grant(
        coffee.farm_h,
        audience={"kind": "member", "member_id": coffee.roaster["id"]},
        categories=["where", "what", "attestation:origin"],
        valid_until="2030-01-01T00:00:00Z",
    )
    assert made.status_code == 201, made.text
    grant = made.json()
    assert grant["categories"] == ["attestation:origin", "what", "where"]
    record = chain.sharing.get_grant(bytes.fromhex(grant["id"][2:]))
    assert record.grantor == coffee.farm["address"] and "0x" + record.audience_hash.hex() == grant["audience_hash"]
    assert record.audience_hash == audience_hash("member", coffee.roaster["id"])
    assert chain.sharing.is_active(bytes.fromhex(grant["id"][2:]))
    assert [g["id"] for g in coffee.api.client.get("/grants", headers=coffee.farm_h).json()] == [grant["id"]]
    assert coffee.api.client.get(f"/grants/{grant['id']}", headers=coffee.roaster_h).status_code == 404
    assert coffee.api.client.post(f"/grants/{grant['id']}/revoke", json={}, headers=coffee.roaster_h).status_code == 404
    revoked = coffee.api.client.post(f"/grants/{grant['id']}/revoke", json={}, headers=coffee.farm_h)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] and revoked.json()["revoke_tx_hash"]
    assert not chain.sharing.is_active(bytes.fromhex(grant["id"][2:]))
    again = coffee.api.client.post(f"/grants/{grant['id']}/revoke", json={}, headers=coffee.farm_h)
    assert again.status_code == 409

    # A database restored from a backup taken before the revocation: the indexer re-reads the
    # chain from the backup's checkpoint and the grant is revoked again, not live.
    runtime = coffee.api.client.app.state.runtime  # type: ignore[attr-defined]
    runtime.sync_index()
    with runtime.sessions() as session, session.begin():
        revocation = session.scalars(select(ChainGrantRevocation)).one()
        session.execute(update(SharingGrant).values(revoked_at=None, revoke_tx_hash=None))
        session.execute(delete(ChainGrantRevocation))
        checkpoint = session.get(IndexerCheckpoint, runtime.indexer.name)
        checkpoint.block_number = revocation.block_number - 1
        checkpoint.block_hash = runtime.chain.w3.eth.get_block(revocation.block_number - 1)["hash"].to_0x_hex()
    runtime.sync_index()
    restored = coffee.api.client.get(f"/grants/{grant['id']}", headers=coffee.farm_h).json()
    assert restored["revoked_at"] and restored["revoke_tx_hash"] == revoked.json()["revoke_tx_hash"]


def test_a_self_custody_owner_signs_its_grant(coffee: Coffee, chain: Chain) -> None:
    request = {
        "constellation": "coffee",
        "categories": ["why"],
        "audience": {"kind": "role", "role": "brand"},
        "purpose": "quality",
    }
    prepared = coffee.api.client.post("/grants/prepare", json=request, headers=coffee.coop_h).json()
    typed = prepared["messages"][0]
    signature = "0x" + bytes(Account.sign_message(encode_typed_data(full_message=typed), SELF_KEY).signature).hex()
    signed = request | {
        "grant_id": prepared["grant_id"],
        "deadline": prepared["deadline"],
        "valid_from": prepared["valid_from"],
        "signature": signature,
    }
    made = coffee.api.client.post("/grants", json=signed, headers=coffee.coop_h)
    assert made.status_code == 201, made.text
    assert (
        chain.sharing.get_grant(bytes.fromhex(prepared["grant_id"][2:])).grantor == Account.from_key(SELF_KEY).address
    )
    unsigned = coffee.grant(coffee.coop_h)
    assert unsigned.status_code == 422 and "holds its own key" in unsigned.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "status", "problem"),
    [
        ({"audience": {"kind": "member", "member_id": "nobody"}}, 422, "audience member nobody does not exist"),
        ({"audience": {"kind": "role", "role": "wizard"}}, 422, "unknown role 'wizard'"),
        ({"audience": {"kind": "everyone"}}, 422, "audience"),
        ({"categories": ["secrets"]}, 422, "unknown categories ['secrets']"),
        ({"categories": []}, 422, "categories"),
        ({"valid_from": "2030-01-01T00:00:00Z", "valid_until": "2029-01-01T00:00:00Z"}, 422, "must come after"),
        ({"valid_until": "2020-01-01T00:00:00Z"}, 422, "in the past"),
        ({"constellation": "tea"}, 422, "no constellation"),
        ({"purpose": ""}, 422, "purpose"),
    ],
)
def test_bad_grants_are_refused_naming_the_problem_and_nothing_is_stored(
    coffee: Coffee, fields: dict[str, Any], status: int, problem: str
) -> None:
    response = coffee.grant(coffee.farm_h, **fields)
    assert response.status_code == status and problem in response.text, response.text
    assert coffee.api.client.get("/grants", headers=coffee.farm_h).json() == []


def test_a_member_outside_the_constellation_has_nothing_there_to_grant(coffee: Coffee) -> None:
    response = coffee.grant(coffee.outsider_h)
    assert response.status_code == 403 and "not a member of constellation 'coffee'" in response.json()["detail"]
    assert coffee.api.client.get("/grants", headers=coffee.outsider_h).json() == []
