"""docs/configuration.md names every setting, and nothing that is not one."""

from __future__ import annotations

import re

from service.settings import PROJECT_ROOT, Settings

CONFIGURATION = PROJECT_ROOT / "docs" / "configuration.md"
PREFIX = Settings.model_config.get("env_prefix", "")


def _documented() -> set[str]:
    """The variables named in the first column of the settings table."""
    names: set[str] = set()
    for line in CONFIGURATION.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            first_column = line.split("|")[1]
            names.update(re.findall(r"`([A-Z0-9_]+)`", first_column))
    return names


def test_every_setting_is_documented_with_its_variable() -> None:
    expected = {f"{PREFIX}{name}".upper() for name in Settings.model_fields}
    missing = sorted(expected - _documented())
    assert not missing, f"docs/configuration.md does not list {missing}: add a row (variable, default, meaning)"


def test_every_documented_variable_is_a_setting() -> None:
    expected = {f"{PREFIX}{name}".upper() for name in Settings.model_fields}
    unknown = sorted(_documented() - expected)
    assert not unknown, f"docs/configuration.md lists {unknown}, which service/settings.py does not read"
