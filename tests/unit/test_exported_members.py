"""Each package's public face: every name in __all__ exists and nothing private leaks."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["service", "service.chain", "service.db", "service.api"]


@pytest.mark.parametrize("package", PACKAGES)
def test_all_names_exist_and_are_public(package: str) -> None:
    module = importlib.import_module(package)
    exported = module.__all__
    assert exported, f"{package} exports nothing"
    assert sorted(exported) == sorted(set(exported)), "duplicate names in __all__"
    for name in exported:
        assert hasattr(module, name), f"{package}.__all__ names missing {name}"
        assert not name.startswith("_") or name == "__version__", f"{package} exports private {name}"
