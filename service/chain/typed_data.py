"""EIP-712 typed data of the contracts' *BySig functions and the capture root: the one place
these messages are built, hashed, signed and recovered, so the service, the CLI, the verifiers
and the tests agree with Solidity.

The digest is computed here (EIP-712's encodeType and hashStruct over the static types of
TYPES: eth_abi and keccak) and recovered with eth_keys, so a verifier needs neither eth_account
nor its keyfile and BLS imports; signing stays on eth_account, loaded only by `sign`. A test
holds `digest` to eth_account's `encode_typed_data` for every type, and the contracts' tests to
Solidity's."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from eth_abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_keys import keys
from eth_keys.exceptions import BadSignature, ValidationError

from service.addresses import checksum_address
from service.hashing import keccak256

if TYPE_CHECKING:
    from service.chain.structs import AttestationRequest

DOMAIN_VERSION = "1"
DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]

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
        "types": {"EIP712Domain": DOMAIN_FIELDS, primary_type: TYPES[primary_type]},
        "primaryType": primary_type,
        "domain": {
            "name": DOMAIN_OF[primary_type],
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": contract,
        },
        "message": message,
    }


def attest_message(request: AttestationRequest, deadline: int, *, chain_id: int, registry: str) -> dict[str, Any]:
    """The EIP-712 `Attest` message an issuer signs for the AttestationRegistry at `registry`."""
    return typed_message(
        "Attest", {**request.typed_fields(), "deadline": deadline}, chain_id=chain_id, contract=registry
    )


def _type_string(name: str, fields: list[dict[str, str]]) -> bytes:
    """encodeType: `Name(type1 name1,type2 name2,…)` (these types reference no other struct)."""
    members = ",".join(f"{field['type']} {field['name']}" for field in fields)
    return f"{name}({members})".encode()


def _value(kind: str, value: Any) -> bytes:
    """encodeData of one member: a string as the keccak256 of its UTF-8 bytes, an atomic value
    as its 32-byte ABI word (bytesN also from 0x-hex, as eth_account reads it)."""
    if kind == "string":
        if not isinstance(value, str):
            raise TypeError(f"a string member holds {type(value).__name__}")
        return keccak256(value.encode())
    if kind.startswith("bytes") and isinstance(value, str):
        value = bytes.fromhex(value.removeprefix("0x"))
    return abi_encode([kind], [value])


_TYPE_HASHES = {
    name: keccak256(_type_string(name, fields)) for name, fields in {"EIP712Domain": DOMAIN_FIELDS, **TYPES}.items()
}


def _hash_struct(name: str, fields: list[dict[str, str]], data: Mapping[str, Any]) -> bytes:
    """hashStruct = keccak256(typeHash ‖ encodeData), for a struct of static members."""
    if set(data) != {f["name"] for f in fields}:
        raise ValueError(f"{name} needs exactly the fields {sorted(f['name'] for f in fields)}, got {sorted(data)}")
    encoded = b"".join(_value(f["type"], data[f["name"]]) for f in fields)
    return keccak256(_TYPE_HASHES[name] + encoded)


@lru_cache(maxsize=64)
def _domain_separator(domain: tuple[tuple[str, Any], ...]) -> bytes:
    """hashStruct of an EIP712Domain, once per domain (a journey's captures share one)."""
    return _hash_struct("EIP712Domain", DOMAIN_FIELDS, dict(domain))


def digest(typed: Mapping[str, Any]) -> bytes:
    """The 32 bytes a signer signs: keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(message))
    of a message `typed_message` builds (one primary type of TYPES, under the EIP712Domain of
    name, version, chainId and verifyingContract); ValueError for any other."""
    primary = typed.get("primaryType")
    if primary not in TYPES or typed.get("types") != {"EIP712Domain": DOMAIN_FIELDS, primary: TYPES[primary]}:
        raise ValueError(f"not a typed message of this service: primary type {primary!r} and its types")
    try:
        domain = _domain_separator(tuple(sorted(typed["domain"].items())))
        message = _hash_struct(primary, TYPES[primary], typed["message"])
    except (EncodingError, OverflowError, TypeError) as exc:
        raise ValueError(f"the {primary} message cannot be encoded: {exc}") from None
    return keccak256(b"\x19\x01" + domain + message)


def sign(private_key: str | bytes, typed: dict[str, Any]) -> bytes:
    """A 65-byte signature (r, s, v) over the typed message, v 27 or 28, made by eth_account
    (imported here: verifiers, which only recover, never load it)."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    signed = Account.sign_message(encode_typed_data(full_message=typed), private_key)
    return bytes(signed.signature)


def _standard_v(v: int) -> int:
    """The recovery id of a signature's last byte, as eth_account reads it: 0 or 1, 27 or 28, or
    an EIP-155 value from 35."""
    if v in (0, 1):
        return v
    if v in (27, 28):
        return v - 27
    if v >= 35:
        return (v - 35) % 2
    raise ValueError(f"v {v} is invalid, must be one of: 0, 1, 27, 28, 35+")


def recover(typed: Mapping[str, Any], signature: bytes) -> str:
    """The address (EIP-55) whose key signed the typed message; ValueError for a message this
    module does not build or a signature that recovers no key (not 65 bytes, r or s out of
    range, a v no signer writes)."""
    if len(signature) != 65:
        raise ValueError(f"a signature is 65 bytes (r, s, v), not {len(signature)}")
    hashed = digest(typed)
    try:
        standard = keys.Signature(signature_bytes=signature[:64] + bytes([_standard_v(signature[64])]))
        public_key = standard.recover_public_key_from_msg_hash(hashed)
    except (BadSignature, ValidationError) as exc:
        raise ValueError(f"the signature recovers no key: {exc}") from None
    return checksum_address(public_key.to_canonical_address())


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
