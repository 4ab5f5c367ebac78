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
from service.domain.identities import Identities
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


def get_identities(runtime: RuntimeDep) -> Identities:
    """The keys that are not members' own (the relayer's, the operator's admin account) and
    whether Anvil's published keys count, from settings: no chain call."""
    settings = runtime.settings
    return Identities(
        relayer=runtime.anchorer_address(), operator=settings.operator_address, dev_mode=settings.dev_mode
    )


IdentitiesDep = Annotated[Identities, Depends(get_identities)]


def request_token(request: Request) -> str | None:
    """The API key a request carries (`Authorization: Bearer`, else `X-API-Key`); None without
    either header. A header that is there but holds no key (another scheme, nothing after
    Bearer, an empty X-API-Key) is a 401, never a silent read as the public."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("the Authorization header must be 'Bearer <API key>'")
        return token.strip()
    header = request.headers.get("x-api-key")
    if header is not None and not header.strip():
        raise NotAuthenticated("the X-API-Key header is empty")
    return header.strip() if header is not None else None


def optional_principal(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    bearer_scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_scheme: Annotated[str | None, Depends(_header)],
) -> Principal | None:
    """The member behind the request's API key; None without one (401 with an invalid one).
    The two schemes declare both ways in the OpenAPI schema; `request_token` reads them."""
    token = request_token(request)
    return principal_of(runtime, session, token) if token is not None else None


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
