from __future__ import annotations

import pytest
from eth_account import Account

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
