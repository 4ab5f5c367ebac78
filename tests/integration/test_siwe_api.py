"""Sign-In with Ethereum (EIP-4361): a self-custody member trades a signed one-time message for
an API key; wrong domain, wrong chain, a replayed or foreign nonce, an expired message or a
signature by another key are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from service.chain.deployment import Chain
from service.domain.siwe import parse
from service.errors import ValidationFailed

from .conftest import Api

KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"
ADDRESS = Account.from_key(KEY).address


def _sign(message: str, key: str = KEY) -> str:
    return "0x" + bytes(Account.sign_message(encode_defunct(text=message), key).signature).hex()


def _nonce(api: Api) -> dict[str, str]:
    response = api.client.post("/auth/siwe/nonce", json={"address": ADDRESS})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


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
        (lambda m, c: _variant(m, "testserver wants", "evil.example wants"), "not this service"),
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
