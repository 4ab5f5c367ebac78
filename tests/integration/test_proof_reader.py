"""The verifiers' chain reader against a real Anvil: reads go out in JSON-RPC batches (round
trips counted at a real proxy in front of the node), each value once; roles are read at a
block; a root's log is found after a reorg moved it; a failed read is ChainUnavailable."""

from __future__ import annotations

import os

import pytest
from eth_account import Account
from web3 import Web3

from service.chain.deployment import Chain
from service.chain.proof_reader import WRITERS, ChainProofReader, TrustPins
from service.chain.rpc import endpoint
from service.chain.structs import AttestationRequest
from service.errors import ChainUnavailable
from service.roles import Role

from .conftest import MEMBER_KEYS
from .flaky_proxy import FlakyProxy

C = Web3.keccak(text="reader-tests")
OTHER = Web3.keccak(text="reader-tests-other")
MEMBER = Account.from_key(MEMBER_KEYS[0]).address


def _pins(chain: Chain) -> TrustPins:
    return TrustPins.of(
        chain_id=chain.chain_id,
        provenance_anchor=chain.address_of("ProvenanceAnchor"),
        constellation_registry=chain.address_of("ConstellationRegistry"),
        attestation_registry=chain.address_of("AttestationRegistry"),
        sharing_ledger=chain.address_of("SharingLedger"),
        anchorer=chain.sender.address,
    )


@pytest.fixture
def anchoring(chain: Chain) -> Chain:
    """A constellation where the relayer anchors and a member writes."""
    chain.registry.create_constellation(C, "Reader tests")
    chain.registry.grant_roles(C, chain.sender.address, Role.ANCHORER)
    chain.registry.add_member(C, MEMBER, Role.SUPPLIER)
    return chain


def _anchor(chain: Chain, leaf_count: int = 3, constellation: bytes = C) -> tuple[bytes, int]:
    """A fresh random root anchored by the relayer: (root, its block)."""
    root = os.urandom(32)
    receipt = chain.anchor.anchor(constellation, root, leaf_count, bytes(32))
    return root, receipt.block_number


def _rpc(chain: Chain, method: str, *params: object) -> object:
    answer = chain.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in answer, answer
    return answer["result"]


def test_a_journeys_reads_take_two_round_trips_and_each_root_is_read_once(anchoring: Chain) -> None:
    roots = [_anchor(anchoring, leaf_count=n + 1) for n in range(6)]
    anchoring.attestations.register_schema("reader(string x)", revocable=True, required_roles=0)
    schema = anchoring.attestations.schema_uid("reader(string x)", revocable=True, required_roles=0)
    request = AttestationRequest(schema, C, Web3.keccak(text="lot"), Web3.keccak(text="body"))
    anchoring.attestations.attest(request)
    uid = request.uid(anchoring.sender.address)
    with FlakyProxy(anchoring.w3.provider.endpoint_uri, drop_first=0) as proxy:  # type: ignore[attr-defined]
        reader = ChainProofReader(proxy.url, _pins(anchoring))
        steps = [(root, block) for root, block in roots for _ in range(30)]  # 180 steps over 6 roots
        reader.prefetch(
            roots=steps,
            roles=[(root, "0x" + C.hex(), MEMBER) for root, _ in steps],
            uids=[uid, uid, bytes(32)],
        )
        assert proxy.forwarded == 2 == reader.round_trips  # state, logs, claims; then the roles
        for n, (root, block) in enumerate(roots):
            assert reader.anchor(root).leaf_count == n + 1 and reader.anchor(root).by == anchoring.sender.address
            log = reader.anchoring(root, block)
            assert log is not None and (log.block_number, log.constellation) == (block, "0x" + C.hex())
            assert reader.writer_at("0x" + C.hex(), MEMBER, block)
        assert reader.chain_id == anchoring.chain_id
        record = reader.get_attestation(uid)
        assert (record.uid, record.issuer, record.revoked_at) == (uid, anchoring.sender.address, 0)
        assert reader.get_attestation(bytes(32)).issued_at == 0  # no such attestation: all zero
        assert proxy.forwarded == 2  # everything above came from the reader's cache


def test_a_role_is_read_at_the_block_asked(anchoring: Chain) -> None:
    _, granted = _anchor(anchoring)
    anchoring.registry.grant_roles(C, MEMBER, Role.COORDINATOR)  # a coordinator alone writes nothing
    anchoring.registry.revoke_roles(C, MEMBER, Role.SUPPLIER)
    revoked = anchoring.w3.eth.block_number
    reader = ChainProofReader(endpoint(anchoring.w3), _pins(anchoring))
    cid = "0x" + C.hex()
    assert reader.writer_at(cid, MEMBER, granted)
    assert not reader.writer_at(cid, MEMBER, revoked)
    assert not reader.writer_at(cid, MEMBER, anchoring.w3.eth.block_number)
    assert WRITERS == 0xBF


def test_a_root_moved_by_a_reorg_is_found_in_its_new_block(anchoring: Chain) -> None:
    before = _rpc(anchoring, "evm_snapshot")
    root, first = _anchor(anchoring, leaf_count=5)
    _rpc(anchoring, "evm_revert", before)  # the block that anchored it is gone
    _rpc(anchoring, "anvil_mine", "0x3")
    anchoring.sender.resync_nonce()
    again = anchoring.anchor.anchor(C, root, 5, bytes(32)).block_number  # the relayer sends it again
    assert again != first
    reader = ChainProofReader(endpoint(anchoring.w3), _pins(anchoring))
    reader.prefetch(roots=[(root, first)], roles=[(root, "0x" + C.hex(), MEMBER)])
    assert reader.round_trips == 3  # the named block held nothing: anywhere, then the role there
    log = reader.anchoring(root, first)
    assert log is not None and log.block_number == again and log.leaf_count == 5
    assert reader.writer_at("0x" + C.hex(), MEMBER, again)


def test_a_root_never_anchored_has_no_state_and_no_log(anchoring: Chain) -> None:
    reader = ChainProofReader(endpoint(anchoring.w3), _pins(anchoring))
    root = os.urandom(32)
    assert not reader.anchor(root).on_chain
    assert reader.anchoring(root, anchoring.w3.eth.block_number) is None


def test_a_log_names_the_constellation_it_was_anchored_for(anchoring: Chain) -> None:
    anchoring.registry.create_constellation(OTHER, "Other")
    anchoring.registry.grant_roles(OTHER, anchoring.sender.address, Role.ANCHORER)
    root, block = _anchor(anchoring, constellation=OTHER)
    log = ChainProofReader(endpoint(anchoring.w3), _pins(anchoring)).anchoring(root, block)
    assert log is not None and log.constellation == "0x" + OTHER.hex()


def test_failed_reads_are_chain_unavailable(anchoring: Chain) -> None:
    pins = _pins(anchoring)
    upstream = anchoring.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    with FlakyProxy(upstream, drop_first=1) as proxy, pytest.raises(ChainUnavailable, match="failed"):
        _ = ChainProofReader(proxy.url, pins).chain_id
    elsewhere = TrustPins.of(provenance_anchor="0x" + "12" * 20, anchorer=pins.anchorer)
    with pytest.raises(ChainUnavailable, match="no contract"):
        ChainProofReader(endpoint(anchoring.w3), elsewhere).anchor(os.urandom(32))
    unpinned = TrustPins.of(provenance_anchor=pins.provenance_anchor, anchorer=pins.anchorer)
    with pytest.raises(ChainUnavailable, match="not pinned"):
        ChainProofReader(endpoint(anchoring.w3), unpinned).writer_at("0x" + C.hex(), MEMBER, 1)
    with pytest.raises(ChainUnavailable, match="AttestationRegistry"):
        _ = ChainProofReader(endpoint(anchoring.w3), unpinned).address
