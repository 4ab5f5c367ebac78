"""The one place that maps domain errors to HTTP answers: {"error": name, "detail": message}."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from service.db.session import DatabaseUnavailable
from service.errors import (
    ChainUnavailable,
    Conflict,
    ConstellateError,
    ContractReverted,
    MalformedInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PolicyDenied,
    TransactionTimeout,
    ValidationFailed,
)
from service.observability import current_request_id, record_policy_denial

STATUS: tuple[tuple[type[ConstellateError], int], ...] = (
    (MalformedInput, 400),
    (PayloadTooLarge, 413),
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


# RFC 7807 problem types; the EPCIS 2.0 REST binding names its exceptions this way.
PROBLEM_TYPES: tuple[tuple[type[ConstellateError], str], ...] = (
    (MalformedInput, "epcisException:ValidationException"),
    (PayloadTooLarge, "epcisException:CaptureLimitExceededException"),
    (NotFound, "epcisException:NoSuchResourceException"),
    (NotAuthenticated, "epcisException:SecurityException"),
    (PolicyDenied, "epcisException:SecurityException"),
)


def status_of(exc: ConstellateError) -> int:
    return next((status for cls, status in STATUS if isinstance(exc, cls)), 500)


def problem_response(exc: ConstellateError) -> JSONResponse:
    """The RFC 7807 answer to a domain error: {type, title, status, error, detail[, args]}."""
    name = exc.error_name if isinstance(exc, ContractReverted) else type(exc).__name__
    status = status_of(exc)
    body: dict[str, object] = {
        "type": next((t for cls, t in PROBLEM_TYPES if isinstance(exc, cls)), "about:blank"),
        "title": name,
        "status": status,
        "error": name,
        "detail": str(exc),
    }
    if isinstance(exc, ContractReverted) and exc.error_args:
        body["args"] = exc.error_args
    return JSONResponse(status_code=status, content=body, media_type="application/problem+json")


HtmlErrors = Callable[[Request, int, str, str], Response]


def install_error_handlers(app: FastAPI, html: HtmlErrors | None = None) -> None:
    """Domain errors as problem JSON; as a page for a browser (Accept: text/html), if `html`."""

    @app.exception_handler(ConstellateError)
    async def constellate_error(request: Request, exc: ConstellateError) -> Response:
        status = status_of(exc)
        if status == 403:
            record_policy_denial()
        if html is not None and "text/html" in request.headers.get("accept", ""):
            name = exc.error_name if isinstance(exc, ContractReverted) else type(exc).__name__
            return html(request, status, _title(name), str(exc))
        return problem_response(exc)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        """Any other failure: a 500 that tells nothing of its cause, only the request id the
        server logged it under (the server logs the traceback)."""
        detail = f"an unexpected error; the operator finds it in the logs under request id {current_request_id()}"
        if html is not None and "text/html" in request.headers.get("accept", ""):
            return html(request, 500, "Internal error", detail)
        body = {
            "type": "about:blank",
            "title": "InternalError",
            "status": 500,
            "error": "InternalError",
            "detail": detail,
        }
        return JSONResponse(status_code=500, content=body, media_type="application/problem+json")


def _title(name: str) -> str:
    """MalformedInput -> Malformed input."""
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return words[:1].upper() + words[1:]
