"""Sign-In with Ethereum (EIP-4361): a nonce, then a signed message for an API key."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import RuntimeDep, SessionDep
from service.api.schemas import ApiKeyCreated, ApiKeyPublic, problems
from service.domain import siwe
from service.domain.members import Scope

router = APIRouter(prefix="/auth/siwe", tags=["members"])


class NonceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str


class NonceOffer(BaseModel):
    nonce: str
    expires_at: datetime
    message: str
    """A ready EIP-4361 message for this nonce: sign it as is (personal_sign), or compose your own."""


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(max_length=siwe.MAX_MESSAGE)
    signature: str
    scopes: list[Scope] | None = None


def _domain(request: Request) -> str:
    return request.headers.get("host", request.url.netloc)


@router.post(
    "/nonce",
    response_model=NonceOffer,
    summary="A one-time nonce for a SIWE message",
    responses=problems(400, 409, 413, 422, 503),
)
def nonce(body: NonceRequest, request: Request, session: SessionDep, runtime: RuntimeDep) -> NonceOffer:
    with session.begin():
        row = siwe.issue_nonce(session=session, address=body.address)
        domain = _domain(request)
        message = (
            f"{domain} wants you to sign in with your Ethereum account:\n{row.address}\n\n"
            "Sign in to Constellate.\n\n"
            f"URI: {request.url.scheme}://{domain}/auth/siwe\nVersion: 1\nChain ID: {runtime.chain.chain_id}\n"
            f"Nonce: {row.nonce}\nIssued At: {row.issued_at.isoformat().replace('+00:00', 'Z')}"
        )
        return NonceOffer(nonce=row.nonce, expires_at=row.expires_at, message=message)


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Sign in: an API key",
    responses=problems(400, 401, 413, 422, 503),
)
def sign_in(body: SignIn, request: Request, session: SessionDep, runtime: RuntimeDep) -> ApiKeyCreated:
    with session.begin():
        api_key, token = siwe.sign_in(
            session=session,
            message=body.message,
            signature=body.signature,
            domain=_domain(request),
            chain_id=runtime.chain.chain_id,
            scopes=body.scopes,
        )
        return ApiKeyCreated(**ApiKeyPublic.of(api_key).model_dump(), token=token)
