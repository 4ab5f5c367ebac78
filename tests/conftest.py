"""Fixtures shared by every test level."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.chain.compiler import Artifact, compile_contracts
from service.settings import PROJECT_ROOT, Settings


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def artifacts(build_dir: Path) -> dict[str, Artifact]:
    """The contracts compiled once per session by py-solc-x (the service's own build path)."""
    return compile_contracts(Settings(build_dir=build_dir / "contracts"), root=PROJECT_ROOT)
