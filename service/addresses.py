"""Ethereum addresses in their EIP-55 checksum form, computed once per address: eth_utils'
`to_checksum_address` hashes with pycryptodome (about 70 µs a call), and a verifier writes the
same few signers and contracts over and over (a 200-step journey: about 1,300 times)."""

from __future__ import annotations

from functools import lru_cache

from eth_utils import to_checksum_address


@lru_cache(maxsize=4096)
def checksum_address(address: str | bytes) -> str:
    """`address` (0x and 40 hex digits in any case, or 20 bytes) with its EIP-55 checksum;
    ValueError if it is no address."""
    return str(to_checksum_address(address))


__all__ = ["checksum_address"]
