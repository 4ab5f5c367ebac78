"""Typed dependencies of the routes, as named aliases."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.domain.members import ALL_SCOPES, Principal, authenticate, operator
from service.errors import NotAuthenticated
from service.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer cst_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key, as a header")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One session per request; writes happen inside `with session.begin():` blocks."""
    with runtime.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_principal(
    runtime: RuntimeDep,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Principal:
    """The member behind the request's API key (401 without a valid one)."""
    token = bearer.credentials if bearer else header
    if not token:
        raise NotAuthenticated("this endpoint needs an API key (Authorization: Bearer ... or X-API-Key)")
    admin = runtime.settings.admin_api_key
    if admin is not None and hmac.compare_digest(token.encode(), admin.get_secret_value().encode()):
        with session.begin():
            member = operator(session=session, address=runtime.chain.sender.address)
        session.expunge(member)
        return Principal(member, frozenset(ALL_SCOPES))
    principal = authenticate(session=session, token=token)
    session.expunge(principal.member)
    session.rollback()
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
