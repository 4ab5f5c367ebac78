"""EIP-712 typed data of the contracts' *BySig functions: the one place these messages are
built, signed and recovered, so the service, the CLI and the tests agree with Solidity."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys.exceptions import BadSignature

DOMAIN_VERSION = "1"

TYPES: dict[str, list[dict[str, str]]] = {
    "CreateConstellation": [
        {"name": "constellation", "type": "bytes32"},
        {"name": "name", "type": "string"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "SetRoles": [
        {"name": "constellation", "type": "bytes32"},
        {"name": "account", "type": "address"},
        {"name": "roles", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "Anchor": [
        {"name": "constellation", "type": "bytes32"},
        {"name": "root", "type": "bytes32"},
        {"name": "leafCount", "type": "uint32"},
        {"name": "metadata", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "Attest": [
        {"name": "schema", "type": "bytes32"},
        {"name": "constellation", "type": "bytes32"},
        {"name": "subject", "type": "bytes32"},
        {"name": "dataHash", "type": "bytes32"},
        {"name": "expiresAt", "type": "uint64"},
        {"name": "refUID", "type": "bytes32"},
        {"name": "revocable", "type": "bool"},
        {"name": "deadline", "type": "uint256"},
    ],
    "Revoke": [
        {"name": "uid", "type": "bytes32"},
        {"name": "deadline", "type": "uint256"},
    ],
    "AnchorGrant": [
        {"name": "grantId", "type": "bytes32"},
        {"name": "constellation", "type": "bytes32"},
        {"name": "audienceHash", "type": "bytes32"},
        {"name": "termsHash", "type": "bytes32"},
        {"name": "expiresAt", "type": "uint64"},
        {"name": "deadline", "type": "uint256"},
    ],
    "RevokeGrant": [
        {"name": "grantId", "type": "bytes32"},
        {"name": "deadline", "type": "uint256"},
    ],
    # Checked off chain (by the service and any verifier, docs/proof-format.md §4): a member's
    # signature over the Merkle root of the record leaves of the events it captures, in document
    # order — what every reader of a view, redacted or not, can recompute from the view.
    "Capture": [
        {"name": "constellation", "type": "bytes32"},
        {"name": "captureRoot", "type": "bytes32"},
        {"name": "recordCount", "type": "uint32"},
    ],
}

# Which contract (EIP-712 domain name) verifies each primary type.
DOMAIN_OF = {
    "CreateConstellation": "ConstellationRegistry",
    "SetRoles": "ConstellationRegistry",
    "Anchor": "ProvenanceAnchor",
    "Attest": "AttestationRegistry",
    "Revoke": "AttestationRegistry",
    "AnchorGrant": "SharingLedger",
    "RevokeGrant": "SharingLedger",
    "Capture": "ProvenanceAnchor",
}


def typed_message(primary_type: str, message: dict[str, Any], *, chain_id: int, contract: str) -> dict[str, Any]:
    """The full EIP-712 message for `primary_type`, bound to one contract on one chain."""
    if primary_type not in TYPES:
        raise ValueError(f"unknown EIP-712 type {primary_type!r}")
    expected = {field["name"] for field in TYPES[primary_type]}
    if set(message) != expected:
        raise ValueError(f"{primary_type} needs exactly the fields {sorted(expected)}, got {sorted(message)}")
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            primary_type: TYPES[primary_type],
        },
        "primaryType": primary_type,
        "domain": {
            "name": DOMAIN_OF[primary_type],
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": contract,
        },
        "message": message,
    }


def sign(private_key: str | bytes, typed: dict[str, Any]) -> bytes:
    """A 65-byte signature (r, s, v) over the typed message."""
    signed = Account.sign_message(encode_typed_data(full_message=typed), private_key)
    return bytes(signed.signature)


def recover(typed: dict[str, Any], signature: bytes) -> str:
    """The address that signed the typed message; ValueError for a signature that recovers no
    key (eth_keys raises its own BadSignature, no ValueError, for a zero or out-of-range one)."""
    try:
        return str(Account.recover_message(encode_typed_data(full_message=typed), signature=signature))
    except BadSignature as exc:
        raise ValueError(f"the signature recovers no key: {exc}") from None


def to_json(typed: dict[str, Any]) -> dict[str, Any]:
    """The typed message with bytes as 0x-hex, ready for eth_signTypedData_v4."""

    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return "0x" + value.hex()
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    message = {k: plain(v) for k, v in typed["message"].items()}
    return {**typed, "message": message}
