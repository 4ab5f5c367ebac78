"""Sends transactions: local nonces, EIP-1559 fees, retries on transient RPC errors,
receipts awaited with a timeout, and reverts raised as exceptions named after the error."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3Exception, Web3RPCError

from service.chain.reverts import ErrorDecoder, revert_data
from service.chain.rpc import TRANSIENT_ERRORS, endpoint
from service.errors import ChainUnavailable, ContractReverted, TransactionRejected, TransactionTimeout

GWEI = 10**9


@dataclass(frozen=True)
class Receipt:
    """A mined, successful transaction."""

    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    effective_gas_price: int
    logs: list[Any] = field(repr=False)


@dataclass(frozen=True)
class PendingTransaction:
    """A signed transaction handed to the node, not yet known to be mined."""

    tx_hash: str
    nonce: int
    raw: bytes = field(repr=False)
    request: dict[str, Any] = field(repr=False)


class TransactionSender:
    """One account's transactions. Thread-safe; nonces are allocated locally in order."""

    def __init__(
        self,
        w3: Web3,
        private_key: str,
        *,
        decoder: ErrorDecoder,
        timeout: float = 60.0,
        max_retries: int = 4,
        gas_multiplier: float = 1.2,
        backoff: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.w3 = w3
        self.account: LocalAccount = Account.from_key(private_key)
        self.decoder = decoder
        self.timeout = timeout
        self.max_retries = max_retries
        self.gas_multiplier = gas_multiplier
        self.backoff = backoff
        self._sleep = sleep
        self._lock = threading.Lock()
        self._nonce: int | None = None
        self._chain_id: int | None = None

    @property
    def address(self) -> str:
        return str(self.account.address)

    def resync_nonce(self) -> None:
        """Forget the local nonce; the next send reads it from the chain (after a revert of state, say)."""
        with self._lock:
            self._nonce = None

    def _rpc(self, what: str, call: Callable[[], Any]) -> Any:
        """Runs one RPC call, retrying transient failures with exponential backoff."""
        for attempt in range(self.max_retries + 1):
            try:
                return call()
            except TRANSIENT_ERRORS as exc:
                if attempt == self.max_retries:
                    raise ChainUnavailable(f"{what} failed on {endpoint(self.w3)}: {exc}") from exc
                self._sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def call(self, tx: dict[str, Any], *, block: int | str = "latest") -> bytes:
        """eth_call with reverts decoded."""
        request = {"from": self.address, **tx}
        try:
            return bytes(self._rpc("eth_call", lambda: self.w3.eth.call(request, block)))  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise self._decode(exc) from exc

    def _decode(self, exc: BaseException) -> ContractReverted:
        data = revert_data(exc)
        if data is None:
            return ContractReverted(f"reverted: {exc}")
        return self.decoder.decode(data)

    def _fees(self) -> dict[str, int]:
        block = self._rpc("eth_getBlockByNumber", lambda: self.w3.eth.get_block("latest"))
        base_fee = int(block.get("baseFeePerGas", 0))
        try:
            priority = int(self._rpc("eth_maxPriorityFeePerGas", lambda: self.w3.eth.max_priority_fee))
        except (Web3RPCError, ValueError):
            priority = GWEI
        return {"maxFeePerGas": 2 * base_fee + priority, "maxPriorityFeePerGas": priority}

    def submit(self, tx: dict[str, Any], *, gas: int | None = None) -> PendingTransaction:
        """Estimates gas (raising the decoded revert if it would fail), signs and sends."""
        request: dict[str, Any] = {"from": self.address, "value": 0, **tx}
        if gas is None:
            try:
                estimate = self._rpc("eth_estimateGas", lambda: self.w3.eth.estimate_gas(request))  # type: ignore[arg-type]
            except ContractLogicError as exc:
                raise self._decode(exc) from exc
            gas = int(estimate * self.gas_multiplier)
        if self._chain_id is None:
            self._chain_id = int(self._rpc("eth_chainId", lambda: self.w3.eth.chain_id))
        fees = self._fees()
        with self._lock:
            for _ in range(3):
                if self._nonce is None:
                    self._nonce = int(
                        self._rpc(
                            "eth_getTransactionCount",
                            lambda: self.w3.eth.get_transaction_count(self.address, "pending"),
                        )
                    )
                full = {**request, **fees, "gas": gas, "nonce": self._nonce, "chainId": self._chain_id, "type": 2}
                signed = self.account.sign_transaction(full)
                raw = bytes(signed.raw_transaction)
                try:
                    self._rpc("eth_sendRawTransaction", lambda raw=raw: self.w3.eth.send_raw_transaction(raw))
                except Web3RPCError as exc:
                    message = str(exc).lower()
                    if "already known" in message:
                        pass
                    elif "nonce too low" in message or ("nonce" in message and "low" in message):
                        self._nonce = None
                        continue
                    else:
                        self._nonce = None
                        raise TransactionRejected(f"transaction rejected by the node: {exc}") from exc
                except ChainUnavailable:
                    self._nonce = None
                    raise
                self._nonce += 1
                return PendingTransaction("0x" + bytes(signed.hash).hex(), full["nonce"], raw, full)
        raise ChainUnavailable(f"could not find a usable nonce for {self.address} on {endpoint(self.w3)}")

    def wait(self, pending: PendingTransaction, *, timeout: float | None = None) -> Receipt:
        """Waits for the receipt; raises the decoded revert if the transaction failed."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        delay = 0.02
        while True:
            try:
                receipt = self.w3.eth.get_transaction_receipt(HexBytes(pending.tx_hash))
                break
            except TransactionNotFound:
                pass
            except TRANSIENT_ERRORS:
                pass
            except Web3Exception as exc:
                if "not found" not in str(exc).lower():
                    raise
            if time.monotonic() >= deadline:
                raise TransactionTimeout(f"transaction {pending.tx_hash} was not mined within the timeout")
            self._sleep(delay)
            delay = min(delay * 2, 1.0)
        if receipt["status"] != 1:
            replay = {k: pending.request[k] for k in ("from", "to", "data", "value") if k in pending.request}
            try:
                self.call(replay, block=receipt["blockNumber"])
            except ContractReverted as exc:
                raise exc
            raise ContractReverted(f"transaction {pending.tx_hash} reverted without data")
        return Receipt(
            tx_hash=pending.tx_hash,
            block_number=int(receipt["blockNumber"]),
            block_hash="0x" + bytes(receipt["blockHash"]).hex(),
            gas_used=int(receipt["gasUsed"]),
            effective_gas_price=int(receipt.get("effectiveGasPrice", 0)),
            logs=list(receipt["logs"]),
        )

    def send(self, tx: dict[str, Any], *, gas: int | None = None, timeout: float | None = None) -> Receipt:
        """submit() then wait()."""
        return self.wait(self.submit(tx, gas=gas), timeout=timeout)
