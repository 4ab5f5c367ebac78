"""The one place that maps domain errors to HTTP answers: {"error": name, "detail": message}."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import compile_path

from service.api.schemas import PROBLEM_MEDIA_TYPE, Problem
from service.db.session import DatabaseUnavailable, is_unreachable
from service.errors import (
    ChainUnavailable,
    Conflict,
    ConstellateError,
    ContractReverted,
    InvalidField,
    MalformedInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PolicyDenied,
    TransactionTimeout,
    ValidationFailed,
)
from service.observability import current_request_id, record_policy_denial

log = logging.getLogger(__name__)

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
    """The RFC 7807 answer to a domain error: {type, title, status, error, detail[, args][, field]}."""
    name = exc.error_name if isinstance(exc, ContractReverted) else type(exc).__name__
    problem = Problem(
        type=next((t for cls, t in PROBLEM_TYPES if isinstance(exc, cls)), "about:blank"),
        title=name,
        status=status_of(exc),
        error=name,
        detail=str(exc),
        args=(exc.error_args or None) if isinstance(exc, ContractReverted) else None,
        field=(exc.field or None) if isinstance(exc, InvalidField) else None,
    )
    return _answer(problem)


def _answer(problem: Problem) -> JSONResponse:
    return JSONResponse(
        status_code=problem.status, content=problem.model_dump(exclude_none=True), media_type=PROBLEM_MEDIA_TYPE
    )


def invalid_request(exc: RequestValidationError) -> ValidationFailed:
    """FastAPI's refusal of a request its declared parameters or body do not fit, as the
    service's own 422: every problem named by where it is (`body/name: ...`, `query/limit: ...`)."""
    named = "; ".join(f"{'/'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors())
    return ValidationFailed(named or "the request does not fit the operation's parameters")


HtmlErrors = Callable[[Request, int, str, str], Response]
CLIENT_CLOSED_REQUEST = 499
"""The status logged for a request its client abandoned (nginx's convention); it reaches no one."""
DATABASE_UNAVAILABLE = "the database is unavailable (unreachable or restarting); try again shortly"


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

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> Response:
        """A database that cannot be reached (down, restarting) is a 503 naming it; any other
        database error is a bug, answered as one (500)."""
        if not is_unreachable(exc):
            raise exc
        log.warning("database unavailable: %s", exc.orig)
        return await constellate_error(request, DatabaseUnavailable(DATABASE_UNAVAILABLE))

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, exc: ClientDisconnect) -> Response:
        """The client hung up before it had sent its body: nothing was read, so nothing was
        done. Not a failure of the service: logged as 499 (the client closed the request)."""
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    @app.exception_handler(RequestValidationError)
    async def request_validation_error(request: Request, exc: RequestValidationError) -> Response:
        return await constellate_error(request, invalid_request(exc))

    @app.exception_handler(HTTPException)
    async def framework_refusal(request: Request, exc: HTTPException) -> Response:
        """The framework's own refusals, answered as the service's: a body that is not JSON
        (400), no such path (404), a method the path does not take (405, its `Allow` naming
        every method of the resource, where Starlette names those of one route only)."""
        if isinstance(exc.__cause__, ClientDisconnect):  # FastAPI reading a JSON body the client abandoned
            return await client_gone(request, exc.__cause__)
        if exc.status_code == 400:
            return await constellate_error(request, MalformedInput(f"the body is not valid JSON: {exc.detail}"))
        if exc.status_code == 404:
            return await constellate_error(request, NotFound(f"no such path {request.url.path}"))
        name = HTTPStatus(exc.status_code).phrase.replace(" ", "").replace("-", "")
        answer = _answer(
            Problem(type="about:blank", title=name, status=exc.status_code, error=name, detail=str(exc.detail))
        )
        answer.headers.update(exc.headers or {})
        if exc.status_code == 405:
            answer.headers["Allow"] = ", ".join(allowed_methods(app, request.url.path))
        return answer

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        """Any other failure: a 500 that tells nothing of its cause, only the request id the
        server logged it under (the server logs the traceback)."""
        detail = f"an unexpected error; the operator finds it in the logs under request id {current_request_id()}"
        if html is not None and "text/html" in request.headers.get("accept", ""):
            return html(request, 500, "Internal error", detail)
        return _answer(
            Problem(type="about:blank", title="InternalError", status=500, error="InternalError", detail=detail)
        )


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods of the resource a path names: those of every route of the path template it
    matches first (several routes serve one template, a method each)."""
    matching = [r for r in iter_route_contexts(app.routes) if r.path and compile_path(r.path)[0].match(path)]
    first = [r.original_route for r in matching if r.path == matching[0].path]
    return sorted({method for route in first for method in getattr(route, "methods", None) or ()})


def _title(name: str) -> str:
    """MalformedInput -> Malformed input."""
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return words[:1].upper() + words[1:]
