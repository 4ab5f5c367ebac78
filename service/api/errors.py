"""The one place that maps domain errors to HTTP answers: {"error": name, "detail": message}."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from service.db.session import DatabaseUnavailable
from service.errors import (
    ChainUnavailable,
    Conflict,
    ConstellateError,
    ContractReverted,
    NotAuthenticated,
    NotFound,
    PolicyDenied,
    TransactionTimeout,
    ValidationFailed,
)

STATUS: tuple[tuple[type[ConstellateError], int], ...] = (
    (ValidationFailed, 422),
    (NotAuthenticated, 401),
    (NotFound, 404),
    (PolicyDenied, 403),
    (Conflict, 409),
    (ContractReverted, 409),
    (ChainUnavailable, 503),
    (DatabaseUnavailable, 503),
    (TransactionTimeout, 504),
)


def status_of(exc: ConstellateError) -> int:
    return next((status for cls, status in STATUS if isinstance(exc, cls)), 500)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ConstellateError)
    async def constellate_error(_request: Request, exc: ConstellateError) -> JSONResponse:
        name = exc.error_name if isinstance(exc, ContractReverted) else type(exc).__name__
        body: dict[str, object] = {"error": name, "detail": str(exc)}
        if isinstance(exc, ContractReverted) and exc.error_args:
            body["args"] = exc.error_args
        return JSONResponse(status_code=status_of(exc), content=body)
