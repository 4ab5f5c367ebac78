from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from service.chain.reverts import ErrorDecoder, revert_class
from service.errors import ContractReverted

ABI = [
    {
        "type": "error",
        "name": "ProvenanceAnchorRootExists",
        "inputs": [{"name": "root", "type": "bytes32"}, {"name": "anchoredAt", "type": "uint256"}],
    },
    {
        "type": "error",
        "name": "ProvenanceAnchorUnauthorized",
        "inputs": [{"name": "constellation", "type": "bytes32"}, {"name": "account", "type": "address"}],
    },
]


def _data(signature: str, types: list[str], values: list[object]) -> str:
    return "0x" + (keccak(text=signature)[:4] + encode(types, values)).hex()


def test_custom_error_becomes_exception_named_after_it() -> None:
    data = _data("ProvenanceAnchorRootExists(bytes32,uint256)", ["bytes32", "uint256"], [b"\x11" * 32, 42])
    exc = ErrorDecoder([ABI]).decode(data)
    assert type(exc).__name__ == "ProvenanceAnchorRootExists"
    assert isinstance(exc, revert_class("ProvenanceAnchorRootExists"))
    assert isinstance(exc, ContractReverted)
    assert exc.error_args == {"root": "0x" + "11" * 32, "anchoredAt": 42}
    assert "anchoredAt=42" in str(exc)


def test_address_arguments_are_checksummed() -> None:
    account = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    data = _data("ProvenanceAnchorUnauthorized(bytes32,address)", ["bytes32", "address"], [b"\x01" * 32, account])
    exc = ErrorDecoder([ABI]).decode(data)
    assert exc.error_args["account"] == account


def test_error_string_and_panic_are_decoded() -> None:
    reason = ErrorDecoder([]).decode(_data("Error(string)", ["string"], ["nope"]))
    panic = ErrorDecoder([]).decode(_data("Panic(uint256)", ["uint256"], [0x11]))
    assert (reason.error_name, reason.error_args) == ("Error", {"reason": "nope"})
    assert (panic.error_name, panic.error_args) == ("Panic", {"code": 0x11})


def test_unknown_selector_keeps_raw_data() -> None:
    exc = ErrorDecoder([ABI]).decode("0xdeadbeef")
    assert type(exc) is ContractReverted
    assert exc.data == "0xdeadbeef"


def test_revert_class_is_cached_per_name() -> None:
    assert revert_class("X") is revert_class("X")
    assert revert_class("X") is not revert_class("Y")
