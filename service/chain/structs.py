"""The contracts' structs as plain Python values: what their readers answer and their writers
send. No web3 here, so the verifiers and the domain use them without loading the clients
(service/chain/contracts.py). Ids are bytes32 values passed as 32-byte `bytes`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode

from service.hashing import keccak256

ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class ConstellationRecord:
    creator: str
    created_at: int
    member_count: int
    coordinator_count: int


@dataclass(frozen=True)
class AnchorRecord:
    """`ProvenanceAnchor.getAnchor(root)`: `by` is the zero address for a root not on chain."""

    by: str
    anchored_at: int
    leaf_count: int

    @property
    def on_chain(self) -> bool:
        return self.by != ZERO_ADDRESS and self.anchored_at > 0


@dataclass(frozen=True)
class SchemaRecord:
    uid: bytes
    registrant: str
    revocable: bool
    required_roles: int
    definition: str


@dataclass(frozen=True)
class AttestationRequest:
    schema: bytes
    constellation: bytes
    subject: bytes
    data_hash: bytes
    expires_at: int = 0
    ref_uid: bytes = b"\x00" * 32
    revocable: bool = True

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.schema,
            self.constellation,
            self.subject,
            self.data_hash,
            self.expires_at,
            self.ref_uid,
            self.revocable,
        )

    def uid(self, issuer: str) -> bytes:
        """The uid the AttestationRegistry gives this request by `issuer` (keccak256(abi.encode(request, issuer)))."""
        encoded = abi_encode(
            ["(bytes32,bytes32,bytes32,bytes32,uint64,bytes32,bool)", "address"], [self.as_tuple(), issuer]
        )
        return keccak256(encoded)

    def typed_fields(self) -> dict[str, Any]:
        """The fields of the EIP-712 Attest message, less the deadline."""
        return {
            "schema": self.schema,
            "constellation": self.constellation,
            "subject": self.subject,
            "dataHash": self.data_hash,
            "expiresAt": self.expires_at,
            "refUID": self.ref_uid,
            "revocable": self.revocable,
        }


@dataclass(frozen=True)
class SignedAttestation:
    request: AttestationRequest
    issuer: str
    deadline: int
    signature: bytes

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.request.as_tuple(), self.issuer, self.deadline, self.signature)


@dataclass(frozen=True)
class AttestationRecord:
    uid: bytes
    schema: bytes
    constellation: bytes
    subject: bytes
    data_hash: bytes
    ref_uid: bytes
    issuer: str
    issued_at: int
    expires_at: int
    revoked_at: int
    revocable: bool


@dataclass(frozen=True)
class GrantRecord:
    grantor: str
    anchored_at: int
    expires_at: int
    revoked_at: int
    constellation: bytes
    audience_hash: bytes
    terms_hash: bytes


__all__ = [
    "ZERO_ADDRESS",
    "AnchorRecord",
    "AttestationRecord",
    "AttestationRequest",
    "ConstellationRecord",
    "GrantRecord",
    "SchemaRecord",
    "SignedAttestation",
]
