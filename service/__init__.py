"""Constellate: blockchain-backed data sharing and traceability for constellations of value."""

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
from service.settings import Settings, get_settings

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
