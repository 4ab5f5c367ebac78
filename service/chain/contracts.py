"""Typed Python faces of the four contracts. Writes go through the TransactionSender; reads
raise the same decoded reverts. Ids are bytes32 values passed as 32-byte `bytes`."""

from __future__ import annotations

from typing import Any, ClassVar

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from service.chain.reverts import ErrorDecoder, revert_data
from service.chain.rpc import TRANSIENT_ERRORS, endpoint
from service.chain.sender import PendingTransaction, Receipt, TransactionSender
from service.chain.structs import (
    AnchorRecord,
    AttestationRecord,
    AttestationRequest,
    ConstellationRecord,
    GrantRecord,
    SchemaRecord,
    SignedAttestation,
)
from service.errors import ChainUnavailable, ContractReverted
from service.observability import record_transaction

Bytes32 = bytes


class ContractClient:
    """Shared plumbing: encode, send through the sender, call with decoded reverts."""

    name: ClassVar[str]

    def __init__(self, w3: Web3, address: str, abi: list[dict[str, Any]], sender: TransactionSender) -> None:
        self.w3 = w3
        self.address = Web3.to_checksum_address(address)
        self.contract: Contract = w3.eth.contract(address=self.address, abi=abi)
        self.sender = sender
        self.decoder: ErrorDecoder = sender.decoder

    def encode(self, fn: str, *args: Any) -> str:
        return str(self.contract.encode_abi(fn, args=list(args)))

    def submit(self, fn: str, *args: Any, gas: int | None = None) -> PendingTransaction:
        return self.sender.submit({"to": self.address, "data": self.encode(fn, *args)}, gas=gas)

    def transact(self, fn: str, *args: Any, gas: int | None = None) -> Receipt:
        receipt = self.sender.send({"to": self.address, "data": self.encode(fn, *args)}, gas=gas)
        record_transaction(
            contract=self.name, function=fn, gas_used=receipt.gas_used, effective_gas_price=receipt.effective_gas_price
        )
        return receipt

    def read(self, fn: str, *args: Any) -> Any:
        try:
            return self.contract.functions[fn](*args).call()
        except ContractLogicError as exc:
            data = revert_data(exc)
            raise (self.decoder.decode(data) if data else ContractReverted(str(exc))) from exc
        except TRANSIENT_ERRORS as exc:
            raise ChainUnavailable(f"{self.name}.{fn} failed on {endpoint(self.w3)}: {exc}") from exc


class ConstellationRegistry(ContractClient):
    name = "ConstellationRegistry"

    def create_constellation(self, constellation: Bytes32, name: str) -> Receipt:
        return self.transact("createConstellation", constellation, name)

    def create_constellation_by_sig(
        self, constellation: Bytes32, name: str, *, coordinator: str, deadline: int, signature: bytes
    ) -> Receipt:
        return self.transact("createConstellationBySig", constellation, name, coordinator, deadline, signature)

    def add_member(self, constellation: Bytes32, account: str, roles: int) -> Receipt:
        return self.transact("addMember", constellation, account, roles)

    def remove_member(self, constellation: Bytes32, account: str) -> Receipt:
        return self.transact("removeMember", constellation, account)

    def grant_roles(self, constellation: Bytes32, account: str, roles: int) -> Receipt:
        return self.transact("grantRoles", constellation, account, roles)

    def revoke_roles(self, constellation: Bytes32, account: str, roles: int) -> Receipt:
        return self.transact("revokeRoles", constellation, account, roles)

    def set_roles_by_sig(
        self, constellation: Bytes32, account: str, roles: int, *, coordinator: str, deadline: int, signature: bytes
    ) -> Receipt:
        return self.transact("setRolesBySig", constellation, account, roles, coordinator, deadline, signature)

    def exists(self, constellation: Bytes32) -> bool:
        return bool(self.read("exists", constellation))

    def get_constellation(self, constellation: Bytes32) -> ConstellationRecord:
        creator, created_at, members, coordinators = self.read("getConstellation", constellation)
        return ConstellationRecord(creator, created_at, members, coordinators)

    def roles_of(self, constellation: Bytes32, account: str) -> int:
        return int(self.read("rolesOf", constellation, account))

    def is_member(self, constellation: Bytes32, account: str) -> bool:
        return bool(self.read("isMember", constellation, account))

    def has_any_role(self, constellation: Bytes32, account: str, any_of: int) -> bool:
        return bool(self.read("hasAnyRole", constellation, account, any_of))

    def nonces(self, account: str) -> int:
        return int(self.read("nonces", account))


class ProvenanceAnchor(ContractClient):
    name = "ProvenanceAnchor"

    def anchor(self, constellation: Bytes32, root: Bytes32, leaf_count: int, metadata: Bytes32) -> Receipt:
        return self.transact("anchor", constellation, root, leaf_count, metadata)

    def anchor_by_sig(
        self,
        constellation: Bytes32,
        root: Bytes32,
        leaf_count: int,
        metadata: Bytes32,
        *,
        signer: str,
        deadline: int,
        signature: bytes,
    ) -> Receipt:
        return self.transact("anchorBySig", constellation, root, leaf_count, metadata, signer, deadline, signature)

    def get_anchor(self, root: Bytes32) -> AnchorRecord:
        by, anchored_at, leaf_count = self.read("getAnchor", root)
        return AnchorRecord(by, anchored_at, leaf_count)

    def verify(self, root: Bytes32, leaf: Bytes32, proof: list[Bytes32]) -> bool:
        return bool(self.read("verify", root, leaf, proof))

    def nonces(self, account: str) -> int:
        return int(self.read("nonces", account))


class AttestationRegistry(ContractClient):
    name = "AttestationRegistry"

    def register_schema(self, definition: str, *, revocable: bool, required_roles: int) -> Receipt:
        return self.transact("registerSchema", definition, revocable, required_roles)

    def schema_uid(self, definition: str, *, revocable: bool, required_roles: int) -> bytes:
        encoded = self.w3.codec.encode(["string", "bool", "uint256"], [definition, revocable, required_roles])
        return bytes(Web3.keccak(encoded))

    def attest(self, request: AttestationRequest) -> Receipt:
        return self.transact("attest", request.as_tuple())

    def attest_by_sig(self, signed: SignedAttestation) -> Receipt:
        return self.transact("attestBySig", signed.as_tuple())

    def multi_attest_by_sig(self, signed: list[SignedAttestation]) -> Receipt:
        return self.transact("multiAttestBySig", [s.as_tuple() for s in signed])

    def revoke(self, uid: Bytes32) -> Receipt:
        return self.transact("revoke", uid)

    def revoke_by_sig(self, uid: Bytes32, *, issuer: str, deadline: int, signature: bytes) -> Receipt:
        return self.transact("revokeBySig", uid, issuer, deadline, signature)

    def attestation_uid(self, request: AttestationRequest, issuer: str) -> bytes:
        return bytes(self.read("attestationUid", request.as_tuple(), issuer))

    def get_schema(self, uid: Bytes32) -> SchemaRecord:
        suid, registrant, revocable, required_roles, definition = self.read("getSchema", uid)
        return SchemaRecord(bytes(suid), registrant, revocable, required_roles, definition)

    def get_attestation(self, uid: Bytes32) -> AttestationRecord:
        fields = self.read("getAttestation", uid)
        return AttestationRecord(*(bytes(f) if isinstance(f, (bytes, bytearray)) else f for f in fields))

    def is_valid(self, uid: Bytes32) -> bool:
        return bool(self.read("isValid", uid))


class SharingLedger(ContractClient):
    name = "SharingLedger"

    def anchor_grant(
        self, grant_id: Bytes32, constellation: Bytes32, audience_hash: Bytes32, terms_hash: Bytes32, expires_at: int
    ) -> Receipt:
        return self.transact("anchorGrant", grant_id, constellation, audience_hash, terms_hash, expires_at)

    def anchor_grant_by_sig(
        self,
        grant_id: Bytes32,
        constellation: Bytes32,
        audience_hash: Bytes32,
        terms_hash: Bytes32,
        expires_at: int,
        *,
        grantor: str,
        deadline: int,
        signature: bytes,
    ) -> Receipt:
        return self.transact(
            "anchorGrantBySig",
            grant_id,
            constellation,
            audience_hash,
            terms_hash,
            expires_at,
            grantor,
            deadline,
            signature,
        )

    def revoke_grant(self, grant_id: Bytes32) -> Receipt:
        return self.transact("revokeGrant", grant_id)

    def revoke_grant_by_sig(self, grant_id: Bytes32, *, grantor: str, deadline: int, signature: bytes) -> Receipt:
        return self.transact("revokeGrantBySig", grant_id, grantor, deadline, signature)

    def get_grant(self, grant_id: Bytes32) -> GrantRecord:
        grantor, anchored, expires, revoked, constellation, audience, terms = self.read("getGrant", grant_id)
        return GrantRecord(grantor, anchored, expires, revoked, bytes(constellation), bytes(audience), bytes(terms))

    def is_active(self, grant_id: Bytes32) -> bool:
        return bool(self.read("isActive", grant_id))
