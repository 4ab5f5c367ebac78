from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3

from service.chain.anvil import DEV_PRIVATE_KEY
from service.chain.deployment import Chain
from service.chain.reverts import revert_class
from service.chain.rpc import connect
from service.chain.sender import TransactionSender
from service.errors import ChainUnavailable, ContractReverted, TransactionTimeout
from service.roles import Role

from .conftest import MEMBER_KEYS
from .flaky_proxy import FlakyProxy

C = Web3.keccak(text="coffee")


def test_revert_is_raised_named_after_the_custom_error_with_its_arguments(chain: Chain) -> None:
    with pytest.raises(revert_class("ProvenanceAnchorUnauthorized")) as caught:
        chain.anchor.anchor(C, b"\x01" * 32, 10, b"\x00" * 32)
    assert caught.value.error_args == {"constellation": "0x" + C.hex(), "account": chain.sender.address}
    assert isinstance(caught.value, ContractReverted)


def test_many_pipelined_transactions_get_consecutive_nonces(chain: Chain) -> None:
    chain.registry.create_constellation(C, "coffee")
    start = chain.w3.eth.get_transaction_count(chain.sender.address)
    members = [Account.create().address for _ in range(15)]
    pending = [chain.registry.submit("addMember", C, member, Role.SUPPLIER) for member in members]
    receipts = [chain.sender.wait(p) for p in pending]
    assert [p.nonce for p in pending] == list(range(start, start + 15))
    assert all(r.gas_used > 0 for r in receipts)
    assert all(chain.registry.is_member(C, m) for m in members)


def test_transactions_are_eip1559_with_a_fee_cap_above_the_base_fee(chain: Chain) -> None:
    receipt = chain.registry.create_constellation(C, "coffee")
    tx = chain.w3.eth.get_transaction(receipt.tx_hash)
    block = chain.w3.eth.get_block(receipt.block_number)
    assert tx["type"] == 2
    assert tx["maxFeePerGas"] >= block["baseFeePerGas"]


def test_nonce_used_elsewhere_is_recovered(chain: Chain) -> None:
    """Another process sent from the same account: the local nonce is stale and is resynced."""
    chain.registry.create_constellation(C, "coffee")
    other = TransactionSender(chain.w3, DEV_PRIVATE_KEY, decoder=chain.sender.decoder)
    other.send({"to": Account.create().address, "value": 1})
    other.send({"to": Account.create().address, "value": 1})
    receipt = chain.registry.add_member(C, Account.create().address, Role.SUPPLIER)
    assert receipt.block_number > 0


def test_transient_rpc_failures_are_retried(chain: Chain, anvil) -> None:  # type: ignore[no-untyped-def]
    with FlakyProxy(anvil.rpc_url, drop_first=3) as proxy:
        w3 = connect(proxy.url, timeout=5)
        sender = TransactionSender(w3, MEMBER_KEYS[0], decoder=chain.sender.decoder, backoff=0.01)
        receipt = sender.send({"to": Account.create().address, "value": 1})
    assert receipt.block_number > 0
    assert proxy.dropped == 3


def test_persistent_rpc_failure_becomes_chain_unavailable(chain: Chain) -> None:
    sender = TransactionSender(
        connect("http://127.0.0.1:9", timeout=1),
        MEMBER_KEYS[0],
        decoder=chain.sender.decoder,
        max_retries=2,
        backoff=0.01,
    )
    with pytest.raises(ChainUnavailable, match=r"127\.0\.0\.1:9"):
        sender.send({"to": Account.create().address, "value": 1})


def test_unmined_transaction_times_out(chain: Chain) -> None:
    chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    pending = chain.sender.submit({"to": Account.create().address, "value": 1}, gas=21000)
    with pytest.raises(TransactionTimeout, match=pending.tx_hash):
        chain.sender.wait(pending, timeout=0.5)
    chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert chain.sender.wait(pending, timeout=5).block_number > 0


def test_a_transaction_that_reverts_on_chain_is_decoded(chain: Chain) -> None:
    """Gas given explicitly skips estimation, so the revert happens in a mined block."""
    chain.registry.create_constellation(C, "coffee")
    pending = chain.registry.submit("createConstellation", C, "again", gas=200_000)
    with pytest.raises(revert_class("ConstellationRegistryConstellationExists")):
        chain.sender.wait(pending)
