"""The typed contract clients against the real contracts: every write path, signed paths
included, and the views the service relies on."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from web3 import Web3

from service.chain import typed_data
from service.chain.deployment import Chain
from service.chain.reverts import revert_class
from service.chain.structs import AttestationRequest, SignedAttestation
from service.domain.merkle import MerkleTree
from service.roles import Role

from .conftest import MEMBER_KEYS

C = Web3.keccak(text="cocoa")
ZERO = b"\x00" * 32
SUPPLIER_KEY, CERTIFIER_KEY, BRAND_KEY, OUTSIDER_KEY = MEMBER_KEYS
SUPPLIER, CERTIFIER, BRAND, OUTSIDER = (Account.from_key(k).address for k in MEMBER_KEYS)


def _sign(chain: Chain, key: str, primary: str, contract: str, **message: object) -> bytes:
    typed = typed_data.typed_message(primary, message, chain_id=chain.chain_id, contract=chain.address_of(contract))
    return typed_data.sign(key, typed)


def _deadline() -> int:
    return int(time.time()) + 3600


@pytest.fixture
def cocoa(chain: Chain) -> Chain:
    """A constellation coordinated by the relayer, with a supplier, a certifier and a brand."""
    chain.registry.create_constellation(C, "Cocoa")
    chain.registry.add_member(C, SUPPLIER, Role.SUPPLIER)
    chain.registry.add_member(C, CERTIFIER, Role.CERTIFIER)
    chain.registry.add_member(C, BRAND, Role.BRAND)
    return chain


def test_registry_roles_per_constellation(cocoa: Chain) -> None:
    other = Web3.keccak(text="coffee")
    cocoa.registry.create_constellation(other, "Coffee")
    cocoa.registry.add_member(other, SUPPLIER, Role.BRAND | Role.RETAILER)
    assert cocoa.registry.roles_of(C, SUPPLIER) == Role.SUPPLIER
    assert cocoa.registry.roles_of(other, SUPPLIER) == Role.BRAND | Role.RETAILER
    assert cocoa.registry.get_constellation(C).member_count == 4
    cocoa.registry.grant_roles(C, SUPPLIER, Role.LOGISTICS)
    assert cocoa.registry.has_any_role(C, SUPPLIER, Role.LOGISTICS)
    cocoa.registry.revoke_roles(C, SUPPLIER, Role.SUPPLIER)
    assert cocoa.registry.roles_of(C, SUPPLIER) == Role.LOGISTICS
    cocoa.registry.remove_member(C, SUPPLIER)
    assert not cocoa.registry.is_member(C, SUPPLIER)
    assert cocoa.registry.get_constellation(C).member_count == 3


def test_registry_by_signature_of_a_coordinator_who_pays_no_gas(chain: Chain) -> None:
    coordinator_key = BRAND_KEY
    signature = _sign(
        chain,
        coordinator_key,
        "CreateConstellation",
        "ConstellationRegistry",
        constellation=C,
        name="Cocoa",
        nonce=0,
        deadline=_deadline(),
    )
    chain.registry.create_constellation_by_sig(C, "Cocoa", coordinator=BRAND, deadline=_deadline(), signature=signature)
    assert chain.registry.roles_of(C, BRAND) == Role.COORDINATOR
    deadline = _deadline()
    signature = _sign(
        chain,
        coordinator_key,
        "SetRoles",
        "ConstellationRegistry",
        constellation=C,
        account=SUPPLIER,
        roles=Role.SUPPLIER,
        nonce=1,
        deadline=deadline,
    )
    chain.registry.set_roles_by_sig(
        C, SUPPLIER, Role.SUPPLIER, coordinator=BRAND, deadline=deadline, signature=signature
    )
    assert chain.registry.roles_of(C, SUPPLIER) == Role.SUPPLIER
    with pytest.raises(revert_class("ConstellationRegistryInvalidSignature")):
        chain.registry.set_roles_by_sig(
            C, SUPPLIER, Role.SUPPLIER, coordinator=BRAND, deadline=deadline, signature=signature
        )


def test_anchor_and_verify_a_python_built_merkle_tree(cocoa: Chain) -> None:
    cocoa.registry.grant_roles(C, cocoa.sender.address, Role.ANCHORER)
    leaves = [Web3.keccak(text=f"event {i}") for i in range(37)]
    tree = MerkleTree(leaves)
    receipt = cocoa.anchor.anchor(C, tree.root, len(leaves), ZERO)
    record = cocoa.anchor.get_anchor(tree.root)
    assert (record.by, record.leaf_count) == (cocoa.sender.address, 37)
    assert all(cocoa.anchor.verify(tree.root, leaf, tree.proof(i)) for i, leaf in enumerate(leaves))
    assert not cocoa.anchor.verify(tree.root, Web3.keccak(text="forged"), tree.proof(0))
    assert receipt.gas_used < 60_000
    with pytest.raises(revert_class("ProvenanceAnchorRootExists")):
        cocoa.anchor.anchor(C, tree.root, len(leaves), ZERO)


def test_anchor_by_signature_records_the_member_not_the_relayer(cocoa: Chain) -> None:
    root, deadline = Web3.keccak(text="batch"), _deadline()
    signature = _sign(
        cocoa,
        SUPPLIER_KEY,
        "Anchor",
        "ProvenanceAnchor",
        constellation=C,
        root=root,
        leafCount=3,
        metadata=ZERO,
        nonce=cocoa.anchor.nonces(SUPPLIER),
        deadline=deadline,
    )
    cocoa.anchor.anchor_by_sig(C, root, 3, ZERO, signer=SUPPLIER, deadline=deadline, signature=signature)
    assert cocoa.anchor.get_anchor(root).by == SUPPLIER
    with pytest.raises(revert_class("ProvenanceAnchorInvalidSignature")):
        cocoa.anchor.anchor_by_sig(C, root, 3, ZERO, signer=SUPPLIER, deadline=deadline, signature=signature)


def _signed_attestation(chain: Chain, key: str, request: AttestationRequest) -> SignedAttestation:
    deadline = _deadline()
    signature = _sign(chain, key, "Attest", "AttestationRegistry", **request.typed_fields(), deadline=deadline)
    return SignedAttestation(request, Account.from_key(key).address, deadline, signature)


def test_attest_by_signature_in_a_batch_then_revoke_by_signature(cocoa: Chain) -> None:
    definition = "certification(string standard,string certificateId)"
    cocoa.attestations.register_schema(definition, revocable=True, required_roles=Role.CERTIFIER)
    schema = cocoa.attestations.schema_uid(definition, revocable=True, required_roles=Role.CERTIFIER)
    assert cocoa.attestations.get_schema(schema).definition == definition
    requests = [
        AttestationRequest(
            schema, C, Web3.keccak(text=f"lot {i}"), Web3.keccak(text=f"body {i}"), expires_at=int(time.time()) + 86_400
        )
        for i in range(3)
    ]
    signed = [_signed_attestation(cocoa, CERTIFIER_KEY, r) for r in requests]
    cocoa.attestations.multi_attest_by_sig(signed)
    uids = [cocoa.attestations.attestation_uid(r, CERTIFIER) for r in requests]
    assert all(cocoa.attestations.is_valid(uid) for uid in uids)
    assert cocoa.attestations.get_attestation(uids[0]).issuer == CERTIFIER
    with pytest.raises(revert_class("AttestationRegistryAttestationExists")):
        cocoa.attestations.attest_by_sig(signed[0])

    deadline = _deadline()
    signature = _sign(cocoa, CERTIFIER_KEY, "Revoke", "AttestationRegistry", uid=uids[1], deadline=deadline)
    cocoa.attestations.revoke_by_sig(uids[1], issuer=CERTIFIER, deadline=deadline, signature=signature)
    assert not cocoa.attestations.is_valid(uids[1])
    assert cocoa.attestations.get_attestation(uids[1]).revoked_at > 0


def test_certification_schema_requires_the_certifier_role(cocoa: Chain) -> None:
    definition = "certification(string standard)"
    cocoa.attestations.register_schema(definition, revocable=True, required_roles=Role.CERTIFIER)
    schema = cocoa.attestations.schema_uid(definition, revocable=True, required_roles=Role.CERTIFIER)
    request = AttestationRequest(schema, C, Web3.keccak(text="lot"), Web3.keccak(text="body"))
    with pytest.raises(revert_class("AttestationRegistryUnauthorizedIssuer")):
        cocoa.attestations.attest_by_sig(_signed_attestation(cocoa, SUPPLIER_KEY, request))


def test_attestation_expires_with_chain_time(cocoa: Chain) -> None:
    definition = "origin(string country)"
    cocoa.attestations.register_schema(definition, revocable=False, required_roles=0)
    schema = cocoa.attestations.schema_uid(definition, revocable=False, required_roles=0)
    now = cocoa.w3.eth.get_block("latest")["timestamp"]
    request = AttestationRequest(
        schema, C, Web3.keccak(text="lot"), Web3.keccak(text="GH"), expires_at=now + 100, revocable=False
    )
    cocoa.attestations.attest_by_sig(_signed_attestation(cocoa, SUPPLIER_KEY, request))
    uid = cocoa.attestations.attestation_uid(request, SUPPLIER)
    assert cocoa.attestations.is_valid(uid)
    cocoa.w3.provider.make_request("evm_increaseTime", [200])  # type: ignore[arg-type]
    cocoa.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert not cocoa.attestations.is_valid(uid)


def test_sharing_grant_anchored_by_signature_and_revoked_by_its_grantor_only(cocoa: Chain) -> None:
    grant = Web3.keccak(text="grant-1")
    audience, terms = Web3.keccak(text="public"), Web3.keccak(text="terms")
    deadline = _deadline()
    signature = _sign(
        cocoa,
        SUPPLIER_KEY,
        "AnchorGrant",
        "SharingLedger",
        grantId=grant,
        constellation=C,
        audienceHash=audience,
        termsHash=terms,
        expiresAt=0,
        deadline=deadline,
    )
    cocoa.sharing.anchor_grant_by_sig(
        grant, C, audience, terms, 0, grantor=SUPPLIER, deadline=deadline, signature=signature
    )
    record = cocoa.sharing.get_grant(grant)
    assert (record.grantor, record.audience_hash, record.terms_hash) == (SUPPLIER, audience, terms)
    assert cocoa.sharing.is_active(grant)
    with pytest.raises(revert_class("SharingLedgerNotGrantor")):
        cocoa.sharing.revoke_grant(grant)
    signature = _sign(cocoa, SUPPLIER_KEY, "RevokeGrant", "SharingLedger", grantId=grant, deadline=deadline)
    cocoa.sharing.revoke_grant_by_sig(grant, grantor=SUPPLIER, deadline=deadline, signature=signature)
    assert not cocoa.sharing.is_active(grant)


def test_grant_by_a_non_member_is_refused(cocoa: Chain) -> None:
    deadline = _deadline()
    grant = Web3.keccak(text="grant-2")
    signature = _sign(
        cocoa,
        OUTSIDER_KEY,
        "AnchorGrant",
        "SharingLedger",
        grantId=grant,
        constellation=C,
        audienceHash=ZERO,
        termsHash=ZERO,
        expiresAt=0,
        deadline=deadline,
    )
    with pytest.raises(revert_class("SharingLedgerNotMember")):
        cocoa.sharing.anchor_grant_by_sig(
            grant, C, ZERO, ZERO, 0, grantor=OUTSIDER, deadline=deadline, signature=signature
        )
