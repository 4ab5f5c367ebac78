"""The Python role bits mirror contracts/libraries/Roles.sol exactly."""

from __future__ import annotations

import re

import pytest

from service.roles import Role
from service.settings import PROJECT_ROOT


def test_python_roles_match_solidity() -> None:
    source = (PROJECT_ROOT / "contracts" / "libraries" / "Roles.sol").read_text()
    bits = {m[1].lower(): 1 << int(m[2]) for m in re.finditer(r"constant (\w+) = 1 << (\d+);", source)}
    assert bits == Role.NAMES


def test_mask_and_names_round_trip() -> None:
    mask = Role.mask(["supplier", "brand"])
    assert mask == Role.SUPPLIER | Role.BRAND
    assert Role.names(mask) == ["supplier", "brand"]


def test_unknown_role_is_named() -> None:
    with pytest.raises(ValueError, match="wizard"):
        Role.mask(["supplier", "wizard"])
