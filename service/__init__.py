"""Constellate: blockchain-backed data sharing and traceability for constellations of value."""

import sys

import py_ecc  # noqa: F401  (loaded first, so the limit it raises at import is set back once, below)

from service.errors import (
    ChainError,
    ChainUnavailable,
    ConfigurationError,
    Conflict,
    ConstellateError,
    ContractReverted,
    ManifestMismatch,
    NotAuthenticated,
    NotFound,
    PolicyDenied,
    TransactionTimeout,
    ValidationFailed,
)
from service.json_bounds import RECURSION_LIMIT
from service.settings import Settings, get_settings

sys.setrecursionlimit(RECURSION_LIMIT)  # see service/json_bounds.py

__version__ = "0.1.0"

__all__ = [
    "ChainError",
    "ChainUnavailable",
    "ConfigurationError",
    "Conflict",
    "ConstellateError",
    "ContractReverted",
    "ManifestMismatch",
    "NotAuthenticated",
    "NotFound",
    "PolicyDenied",
    "Settings",
    "TransactionTimeout",
    "ValidationFailed",
    "__version__",
    "get_settings",
]
