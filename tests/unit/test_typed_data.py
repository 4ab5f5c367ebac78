"""EIP-712 messages: built for one contract on one chain, hashed here as eth_account hashes them
(every type, random values), recovered with eth_keys; the contracts' tests hold the same
digests to Solidity's (tests/integration/test_contract_clients.py)."""

from __future__ import annotations

import random

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from service.chain import typed_data

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def _revoke(uid: bytes = b"\x01" * 32) -> dict[str, object]:
    return typed_data.typed_message("Revoke", {"uid": uid, "deadline": 10}, chain_id=31337, contract=CONTRACT)


def test_sign_then_recover_gives_the_signer() -> None:
    signature = typed_data.sign(KEY, _revoke())
    assert len(signature) == 65
    assert typed_data.recover(_revoke(), signature) == Account.from_key(KEY).address


def test_a_changed_field_recovers_someone_else() -> None:
    signature = typed_data.sign(KEY, _revoke())
    assert typed_data.recover(_revoke(b"\x02" * 32), signature) != Account.from_key(KEY).address


def test_domain_binds_the_verifying_contract_and_its_name() -> None:
    message = typed_data.typed_message(
        "Attest",
        dict.fromkeys(["schema", "constellation", "subject", "dataHash", "refUID"], b"\x00" * 32)
        | {"expiresAt": 0, "revocable": True, "deadline": 1},
        chain_id=1,
        contract=CONTRACT,
    )
    assert message["domain"] == {
        "name": "AttestationRegistry",
        "version": "1",
        "chainId": 1,
        "verifyingContract": CONTRACT,
    }


@pytest.mark.parametrize(
    ("primary", "fields", "problem"),
    [
        ("Nope", {}, "unknown EIP-712 type"),
        ("Revoke", {"uid": b"\x00" * 32}, "needs exactly the fields"),
        ("Revoke", {"uid": b"\x00" * 32, "deadline": 1, "extra": 2}, "needs exactly the fields"),
    ],
)
def test_malformed_messages_are_rejected(primary: str, fields: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        typed_data.typed_message(primary, fields, chain_id=1, contract=CONTRACT)


def _random_value(kind: str, rng: random.Random) -> object:
    if kind == "string":
        return "".join(rng.choice('abcXYZ019 -_äß中😀\n"\\') for _ in range(rng.randrange(0, 40)))
    if kind == "address":
        return to_checksum_address(rng.randbytes(20))
    if kind == "bool":
        return rng.random() < 0.5
    if kind.startswith("bytes"):
        raw = rng.randbytes(int(kind.removeprefix("bytes")))
        return raw if rng.random() < 0.5 else "0x" + raw.hex()  # eth_account reads either
    bits = int(kind.removeprefix("uint"))
    return rng.choice([0, 1, 2**bits - 1, rng.randrange(2**bits)])


@pytest.mark.parametrize("primary", sorted(typed_data.TYPES))
def test_the_digest_is_eth_accounts_for_every_type(primary: str) -> None:
    rng = random.Random(f"eip712-{primary}")
    for _ in range(40):
        message = {f["name"]: _random_value(f["type"], rng) for f in typed_data.TYPES[primary]}
        chain_id = rng.choice([1, 31337, rng.randrange(1, 2**64)])
        contract = to_checksum_address(rng.randbytes(20))
        typed = typed_data.typed_message(primary, message, chain_id=chain_id, contract=contract)
        signable = encode_typed_data(full_message=typed)
        assert typed_data.digest(typed) == keccak(b"\x19" + signable.version + signable.header + signable.body)


@pytest.mark.parametrize("primary", sorted(typed_data.TYPES))
def test_what_eth_account_signs_recovers_its_signer(primary: str) -> None:
    rng = random.Random(f"recover-{primary}")
    message = {f["name"]: _random_value(f["type"], rng) for f in typed_data.TYPES[primary]}
    typed = typed_data.typed_message(primary, message, chain_id=31337, contract=CONTRACT)
    signature = typed_data.sign(KEY, typed)
    assert typed_data.recover(typed, signature) == Account.from_key(KEY).address
    as_zero_one = signature[:64] + bytes([signature[64] - 27])  # v as 0 or 1, as eth_account reads it too
    assert typed_data.recover(typed, as_zero_one) == Account.from_key(KEY).address


@pytest.mark.parametrize(
    ("signature", "problem"),
    [
        (b"\x01" * 64, "65 bytes"),
        (b"\x01" * 66, "65 bytes"),
        (b"\x01" * 64 + b"\x05", "v 5 is invalid"),
        (b"\x00" * 64 + b"\x1b", "recovers no key"),
        (b"\xff" * 64 + b"\x1b", "recovers no key"),  # r and s beyond the curve's order
    ],
)
def test_a_signature_that_recovers_no_key_is_a_value_error(signature: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        typed_data.recover(_revoke(), signature)


def test_a_message_this_module_does_not_build_has_no_digest() -> None:
    typed = _revoke()
    other = {**typed, "types": {**typed["types"], "Revoke": [{"name": "uid", "type": "bytes32"}]}}  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="not a typed message of this service"):
        typed_data.digest(other)
    with pytest.raises(ValueError, match="cannot be encoded"):
        typed_data.digest({**typed, "message": {"uid": b"\x01" * 32, "deadline": -1}})  # type: ignore[dict-item]
