"""The role bits of a constellation, mirroring contracts/libraries/Roles.sol: a neutral module
every layer may import (the chain's clients, the domain's policies, the API's schemas, EPCIS
capture rules, the verifiers) without loading any of them."""

from __future__ import annotations

from typing import ClassVar


class Role:
    """Role bits, mirroring contracts/libraries/Roles.sol."""

    SUPPLIER = 1 << 0
    MANUFACTURER = 1 << 1
    LOGISTICS = 1 << 2
    BRAND = 1 << 3
    RETAILER = 1 << 4
    CERTIFIER = 1 << 5
    COORDINATOR = 1 << 6
    ANCHORER = 1 << 7
    ALL = (1 << 8) - 1
    NAMES: ClassVar[dict[str, int]] = {
        "supplier": SUPPLIER,
        "manufacturer": MANUFACTURER,
        "logistics": LOGISTICS,
        "brand": BRAND,
        "retailer": RETAILER,
        "certifier": CERTIFIER,
        "coordinator": COORDINATOR,
        "anchorer": ANCHORER,
    }

    @classmethod
    def mask(cls, names: list[str] | tuple[str, ...]) -> int:
        """The bit mask of role names; unknown names raise ValueError naming them."""
        unknown = [n for n in names if n not in cls.NAMES]
        if unknown:
            raise ValueError(f"unknown roles {unknown}; known roles are {sorted(cls.NAMES)}")
        mask = 0
        for name in names:
            mask |= cls.NAMES[name]
        return mask

    @classmethod
    def names(cls, mask: int) -> list[str]:
        return [name for name, bit in cls.NAMES.items() if mask & bit]


__all__ = ["Role"]
