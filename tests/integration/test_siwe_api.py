"""Sign-In with Ethereum (EIP-4361): a self-custody member trades a signed one-time message for
an API key; wrong domain, wrong chain, a replayed or foreign nonce, an expired message or a
signature by another key are refused. The domain is the configured public one, whatever Host a
request names; the relayer's key signs nobody in, the operator's admin account does; Anvil's
published keys sign in only in development mode."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient

from service.api import create_app
from service.chain.anvil import DEV_PRIVATE_KEY
from service.chain.deployment import Chain
from service.domain.siwe import parse
from service.errors import ValidationFailed

from .conftest import Api

KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"
ADDRESS = Account.from_key(KEY).address


def _sign(message: str, key: str = KEY) -> str:
    return "0x" + bytes(Account.sign_message(encode_defunct(text=message), key).signature).hex()


def _nonce(api: Api, address: str = ADDRESS, client: TestClient | None = None, **headers: str) -> dict[str, str]:
    response = (client or api.client).post("/auth/siwe/nonce", json={"address": address}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def _sign_in(client: TestClient, key: str, **body: Any) -> Any:
    offer = client.post("/auth/siwe/nonce", json={"address": Account.from_key(key).address})
    assert offer.status_code == 200, offer.text
    message = offer.json()["message"]
    return client.post("/auth/siwe", json={"message": message, "signature": _sign(message, key), **body})


@contextmanager
def _service(api: Api, **changes: object) -> Iterator[TestClient]:
    """The same service (database, chain) under other settings."""
    with TestClient(create_app(api.client.app.state.settings.model_copy(update=changes))) as client:
        yield client


def test_a_member_signs_in_and_gets_a_working_api_key(api: Api, chain: Chain) -> None:
    api.onboard("Self Custody Roaster", address=ADDRESS)
    offer = _nonce(api)
    assert f"Nonce: {offer['nonce']}" in offer["message"] and f"Chain ID: {chain.chain_id}" in offer["message"]
    signed_in = api.client.post(
        "/auth/siwe", json={"message": offer["message"], "signature": _sign(offer["message"]), "scopes": ["read"]}
    )
    assert signed_in.status_code == 201, signed_in.text
    token = signed_in.json()["token"]
    assert signed_in.json()["scopes"] == ["read"]
    me = api.client.get("/members/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["address"] == ADDRESS
    replay = api.client.post("/auth/siwe", json={"message": offer["message"], "signature": _sign(offer["message"])})
    assert replay.status_code == 401 and "used already" in replay.json()["detail"]


def _variant(message: str, old: str, new: str) -> str:
    assert old in message
    return message.replace(old, new)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda m, c: _variant(m, "127.0.0.1:8000 wants", "evil.example wants"), "not this service"),
        (lambda m, c: _variant(m, "URI: http://127.0.0.1:8000/", "URI: http://evil.example/"), "not on this service"),
        (lambda m, c: _variant(m, f"Chain ID: {c}", "Chain ID: 1"), "chain 1"),
        (lambda m, c: m + "\nExpiration Time: 2020-01-01T00:00:00Z", "expired"),
        (lambda m, c: _variant(m, "Nonce: ", "Nonce: 00"), "unknown SIWE nonce"),
    ],
)
def test_bad_sign_ins_are_refused(api: Api, chain: Chain, change: object, problem: str) -> None:
    api.onboard("Self Custody Roaster", address=ADDRESS)
    message = change(_nonce(api)["message"], chain.chain_id)  # type: ignore[operator]
    response = api.client.post("/auth/siwe", json={"message": message, "signature": _sign(message)})
    assert response.status_code == 401 and problem in response.json()["detail"], response.text


def test_a_signature_by_another_key_or_an_unknown_address_is_refused(api: Api) -> None:
    message = _nonce(api)["message"]
    nobody = api.client.post("/auth/siwe", json={"message": message, "signature": _sign(message)})
    assert nobody.status_code == 401 and "no member holds" in nobody.json()["detail"]
    api.onboard("Self Custody Roaster", address=ADDRESS)
    message = _nonce(api)["message"]
    forged = api.client.post("/auth/siwe", json={"message": message, "signature": _sign(message, "0x" + "44" * 32)})
    assert forged.status_code == 401 and "not signed by the address" in forged.json()["detail"]
    malformed = api.client.post("/auth/siwe", json={"message": "hello", "signature": _sign("hello")})
    assert malformed.status_code == 422 and "EIP-4361" in malformed.json()["detail"]


def test_the_parser_follows_eip_4361() -> None:
    issued = datetime(2026, 11, 23, tzinfo=UTC)
    message = (
        f"service.example wants you to sign in with your Ethereum account:\n{ADDRESS}\n\n"
        "I accept the Terms.\n\nURI: https://service.example/login\nVersion: 1\nChain ID: 31337\n"
        f"Nonce: 32891756abcdef12\nIssued At: {issued.isoformat()}\nExpiration Time: {(issued + timedelta(hours=1)).isoformat()}"
    )
    parsed = parse(message)
    assert (parsed.domain, parsed.address, parsed.statement, parsed.chain_id) == (
        "service.example",
        ADDRESS,
        "I accept the Terms.",
        31337,
    )
    with pytest.raises(ValidationFailed, match="checksummed"):
        parse(message.replace(ADDRESS, ADDRESS.lower()))
    with pytest.raises(ValidationFailed, match="Version must be 1"):
        parse(message.replace("Version: 1", "Version: 2"))


def test_nonces_are_rationed_per_address(api: Api) -> None:
    for _ in range(5):
        _nonce(api)
    too_many = api.client.post("/auth/siwe/nonce", json={"address": ADDRESS})
    assert too_many.status_code == 409 and "unused nonces" in too_many.json()["detail"]
    assert api.client.post("/auth/siwe/nonce", json={"address": "0x1234"}).status_code == 422


def test_the_domain_is_the_configured_one_whatever_host_the_request_names(api: Api) -> None:
    """A phishing site that relays the nonce request with its own Host gets a message for this
    service's configured domain, and a message for its own domain is refused naming it."""
    api.onboard("Self Custody Roaster", address=ADDRESS)
    phished = _nonce(api, host="evil.example")
    assert phished["message"].startswith("127.0.0.1:8000 wants you to sign in")
    assert "URI: http://127.0.0.1:8000/auth/siwe\n" in phished["message"] and "evil.example" not in phished["message"]
    lure = phished["message"].replace("127.0.0.1:8000", "evil.example")
    refused = api.client.post(
        "/auth/siwe", json={"message": lure, "signature": _sign(lure)}, headers={"Host": "evil.example"}
    )
    assert refused.status_code == 401 and "'evil.example', not this service ('127.0.0.1:8000')" in refused.text
    right = api.client.post("/auth/siwe", json={"message": phished["message"], "signature": _sign(phished["message"])})
    assert right.status_code == 201, right.text


def test_the_domain_follows_the_public_base_url(api: Api) -> None:
    api.onboard("Self Custody Roaster", address=ADDRESS)
    with _service(api, public_base_url="https://trace.example/app") as client:
        message = _nonce(api, client=client)["message"]
        assert message.startswith("trace.example wants you") and "URI: https://trace.example/app/auth/siwe\n" in message
        signed_in = client.post("/auth/siwe", json={"message": message, "signature": _sign(message)})
        assert signed_in.status_code == 201, signed_in.text


def test_the_relayer_key_signs_nobody_in(api: Api) -> None:
    """The relayer's hot key (under `up`, Anvil's public key 0) bought an admin key before."""
    api.client.get("/members/me", headers=api.admin)  # the operator's row exists, with the relayer's address
    for scopes in (["admin"], None):
        refused = _sign_in(api.client, DEV_PRIVATE_KEY, scopes=scopes)
        assert refused.status_code == 401 and "relayer's transaction key" in refused.json()["detail"], refused.text
    relayer = Account.from_key(DEV_PRIVATE_KEY).address
    as_member = api.client.post("/members", json={"name": "Relayer Inc", "address": relayer}, headers=api.admin)
    assert as_member.status_code == 403 and "relayer's transaction key" in as_member.json()["detail"]


def test_the_operator_signs_in_with_its_own_admin_account(api: Api) -> None:
    admin_key = "0x" + "5a" * 32  # not a published key, not the relayer's
    with _service(api, operator_address=Account.from_key(admin_key).address) as client:
        signed_in = _sign_in(client, admin_key, scopes=["admin", "read"])
        assert signed_in.status_code == 201, signed_in.text
        operator = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        assert client.get("/members/me", headers=operator).json()["custody"] == "operator"
        onboarded = client.post("/members", json={"name": "Farm"}, headers=operator)
        assert onboarded.status_code == 201, onboarded.text
        assert _sign_in(client, DEV_PRIVATE_KEY).status_code == 401  # still not the relayer


def test_published_development_keys_sign_in_only_in_dev_mode(api: Api) -> None:
    """Anvil's default accounts are everyone's: a member onboarded with one on a dev chain is
    refused once the service runs without the development flag (its default)."""
    api.onboard("Self Custody Roaster", address=ADDRESS)
    assert _sign_in(api.client, KEY).status_code == 201  # the tests run in dev mode, on Anvil
    with _service(api, dev_mode=False) as client:
        refused = _sign_in(client, KEY)
        assert refused.status_code == 401, refused.text
        assert "well-known development accounts" in refused.json()["detail"] and ADDRESS in refused.json()["detail"]
        onboarded = client.post(
            "/members", json={"name": "Dev Key Farm", "address": ADDRESS.lower()}, headers=api.admin
        )
        assert onboarded.status_code == 403 and "CONSTELLATE_DEV_MODE" in onboarded.json()["detail"]
        admin_key = "0x" + "5b" * 32
        other = Account.from_key(admin_key).address
        assert client.post("/members", json={"name": "Own Key", "address": other}, headers=api.admin).status_code == 201
        assert _sign_in(client, admin_key).status_code == 201
