"""Turns revert data into Python exceptions named after the Solidity custom error."""

from __future__ import annotations

from typing import Any

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from service.errors import ContractReverted

_ERROR_STRING = "08c379a0"  # Error(string)
_PANIC = "4e487b71"  # Panic(uint256)
_classes: dict[str, type[ContractReverted]] = {}


def revert_class(error_name: str) -> type[ContractReverted]:
    """The exception class for a Solidity error name, e.g. revert_class("ProvenanceAnchorRootExists")."""
    cls = _classes.get(error_name)
    if cls is None:
        cls = type(error_name, (ContractReverted,), {"error_name": error_name, "__module__": __name__})
        _classes[error_name] = cls
    return cls


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_abi_type(p) for p in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class ErrorDecoder:
    """Knows every custom error of the given ABIs by its 4-byte selector."""

    def __init__(self, abis: list[list[dict[str, Any]]]) -> None:
        self._errors: dict[str, tuple[str, list[str], list[str]]] = {}
        for abi in abis:
            for entry in abi:
                if entry.get("type") != "error":
                    continue
                types = [_abi_type(p) for p in entry["inputs"]]
                selector = keccak(text=f"{entry['name']}({','.join(types)})")[:4].hex()
                self._errors[selector] = (entry["name"], [p["name"] for p in entry["inputs"]], types)

    def decode(self, data: str | bytes | None) -> ContractReverted:
        """The exception for revert `data` (hex or bytes); an unknown selector keeps its raw data."""
        raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else (data or b"")
        selector, body = raw[:4].hex(), raw[4:]
        hexdata = "0x" + raw.hex()
        if selector == _ERROR_STRING:
            (reason,) = decode(["string"], body)
            return revert_class("Error")(f"reverted: {reason}", args={"reason": reason}, data=hexdata)
        if selector == _PANIC:
            (code,) = decode(["uint256"], body)
            return revert_class("Panic")(f"panicked with code {code:#x}", args={"code": code}, data=hexdata)
        known = self._errors.get(selector)
        if known is None:
            return ContractReverted(f"reverted with unknown data {hexdata or '(empty)'}", data=hexdata)
        name, names, types = known
        values = decode(types, body)
        args = {n: _plain(v) for n, v in zip(names, values, strict=True)}
        shown = ", ".join(f"{n}={v}" for n, v in args.items())
        return revert_class(name)(f"{name}({shown})", args=args, data=hexdata)


def revert_data(exc: BaseException) -> str | None:
    """The revert data carried by a web3 exception, if any."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return data
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, dict) and isinstance(arg.get("data"), str):
            return str(arg["data"])
    return None
