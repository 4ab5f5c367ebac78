"""Typed dependencies of the routes, as named aliases."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.domain import policy
from service.domain.members import ALL_SCOPES, Principal, authenticate, operator
from service.domain.policy import Access
from service.errors import MalformedInput, NotAuthenticated
from service.observability import note_member
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


def optional_principal(
    runtime: RuntimeDep,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Principal | None:
    """The member behind the request's API key; None without one (401 with an invalid one)."""
    token = bearer.credentials if bearer else header
    return principal_of(runtime, session, token) if token else None


def principal_of(runtime: Runtime, session: Session, token: str) -> Principal:
    """The member behind an API key token (the bootstrap admin key acts as the operator); 401
    for an unknown, malformed or revoked one."""
    admin = runtime.settings.admin_api_key
    if admin is not None and hmac.compare_digest(token.encode(), admin.get_secret_value().encode()):
        with session.begin():
            member = operator(session=session, address=runtime.chain.sender.address)
        session.expunge(member)
        note_member(member.id)
        return Principal(member, frozenset(ALL_SCOPES))
    principal = authenticate(session=session, token=token)
    session.expunge(principal.member)
    session.rollback()
    note_member(principal.member.id)
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def current_principal(principal: OptionalPrincipal) -> Principal:
    """The member behind the request's API key (401 without a valid one)."""
    if principal is None:
        raise NotAuthenticated("this endpoint needs an API key (Authorization: Bearer ... or X-API-Key)")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]

PURPOSE = re.compile(r"^[\w .,:;()/'-]{1,200}$")


def reader_access(
    session: SessionDep,
    principal: OptionalPrincipal,
    purpose: Annotated[
        str | None,
        Header(alias="Constellate-Purpose", description="What the read is for (kept in the owners' access log)"),
    ] = None,
) -> Access:
    """What the caller may see now — a member, the operator, or the public (no API key) — for
    the policy engine to decide every read of this request."""
    return access_of(session, principal, purpose)


def access_of(session: Session, principal: Principal | None, purpose: str | None) -> Access:
    if purpose is not None and not PURPOSE.match(purpose):
        raise MalformedInput("Constellate-Purpose is at most 200 letters, digits, spaces and simple punctuation")
    if principal is not None:
        principal.require("read")
    reader = policy.reader_of(
        session=session,
        member=principal.member if principal else None,
        operator=principal is not None and "admin" in principal.scopes,
        purpose=purpose or "",
    )
    access = policy.access_for(session=session, reader=reader)
    session.rollback()  # end the read transaction the lookups began; the route begins its own
    return access


ReaderAccess = Annotated[Access, Depends(reader_access)]
