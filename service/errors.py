"""The one exception tree of Constellate; `api/` maps it to HTTP status codes in one place.

ConstellateError
├── ValidationFailed (ValueError)        -> 422
│   ├── MalformedInput                   -> 400, not parseable / not valid by a standard's schema
│   │   └── InvalidField                 -> 400, naming the field's path (epcisBody.eventList[3].action)
│   └── PayloadTooLarge                  -> 413
├── NotFound (LookupError)               -> 404
├── Conflict                             -> 409
├── PolicyDenied (PermissionError)       -> 403
│   └── NotAuthenticated                 -> 401, no or unknown credentials
├── ConfigurationError                   -> 500, refuses to start
│   └── ManifestMismatch                 -> the manifest does not describe the chain
└── ChainError
    ├── ChainUnavailable (ConnectionError) -> 503
    │   └── TransactionRejected            -> the node refused the transaction (retry later)
    ├── TransactionTimeout (TimeoutError)  -> 504
    └── ContractReverted                 -> 409, subclassed per Solidity custom error
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ConstellateError(Exception):
    """Root of every error the service raises on purpose."""


class ValidationFailed(ConstellateError, ValueError):
    """Input that breaks a rule; the message names the problem."""


class MalformedInput(ValidationFailed):
    """A payload that cannot be parsed or breaks the standard it claims (EPCIS: ValidationException)."""


class InvalidField(MalformedInput):
    """One field of a payload breaks its standard: `path` locates it (keys and list indexes), `field`
    spells it as JSON readers do (``epcisBody.eventList[3].action``; empty for the payload itself) and
    `problem` says what is wrong. The message is `context`, the field, then the problem."""

    def __init__(self, problem: str, *, path: Sequence[str | int] = (), context: str = "") -> None:
        self.path = tuple(path)
        self.problem = problem
        self.field = json_path(self.path)
        super().__init__(f"{context}{self.field}: {problem}" if self.field else f"{context}{problem}")


def json_path(path: Sequence[str | int]) -> str:
    """``("epcisBody", "eventList", 3, "action")`` as ``epcisBody.eventList[3].action``."""
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path).removeprefix(".")


class PayloadTooLarge(ValidationFailed):
    """A payload beyond the configured size or event-count limit."""


class NotFound(ConstellateError, LookupError):
    """The named thing does not exist (or the reader may not know it exists)."""


class Conflict(ConstellateError):
    """The request contradicts the current state (a duplicate, a stale version)."""


class PolicyDenied(ConstellateError, PermissionError):
    """The reader or writer is not allowed to do this."""


class NotAuthenticated(PolicyDenied):
    """No credentials, or credentials that name nobody (unknown or revoked key)."""


class ConfigurationError(ConstellateError):
    """The service is set up wrongly and must not start."""


class ManifestMismatch(ConfigurationError):
    """The deployment manifest does not describe the chain it is pointed at."""


class ChainError(ConstellateError):
    """Something went wrong talking to the chain."""


class ChainUnavailable(ChainError, ConnectionError):
    """The JSON-RPC endpoint cannot be reached or keeps failing."""


class TransactionRejected(ChainUnavailable):
    """The node refused to take the transaction (underpriced, pool full, no funds): retry later."""


class TransactionTimeout(ChainError, TimeoutError):
    """A sent transaction was not mined in time; it may still be mined later."""


class ContractReverted(ChainError):
    """A call or transaction reverted. Subclasses are named after the Solidity custom error."""

    error_name: str = "Revert"

    def __init__(self, message: str, *, args: dict[str, Any] | None = None, data: str | None = None) -> None:
        super().__init__(message)
        self.error_args: dict[str, Any] = args or {}
        self.data = data
