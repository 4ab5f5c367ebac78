"""Sign-In with Ethereum (EIP-4361): a nonce, then a signed message for an API key. The domain
and URI the message must name come from settings (the public base URL), never from the request."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import IdentitiesDep, RuntimeDep, SessionDep
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


@router.post(
    "/nonce",
    response_model=NonceOffer,
    summary="A one-time nonce for a SIWE message",
    responses=problems(400, 409, 413, 422, 503),
)
def nonce(body: NonceRequest, session: SessionDep, runtime: RuntimeDep) -> NonceOffer:
    audience = siwe.Audience(runtime.settings.public_base_url)
    with session.begin():
        row = siwe.issue_nonce(session=session, address=body.address)
        message = audience.message(row=row, chain_id=runtime.chain.chain_id)
        return NonceOffer(nonce=row.nonce, expires_at=row.expires_at, message=message)


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Sign in: an API key",
    responses=problems(400, 401, 413, 422, 503),
)
def sign_in(body: SignIn, session: SessionDep, runtime: RuntimeDep, identities: IdentitiesDep) -> ApiKeyCreated:
    with session.begin():
        api_key, token = siwe.sign_in(
            session=session,
            message=body.message,
            signature=body.signature,
            audience=siwe.Audience(runtime.settings.public_base_url),
            chain_id=runtime.chain.chain_id,
            identities=identities,
            scopes=body.scopes,
        )
        return ApiKeyCreated(**ApiKeyPublic.of(api_key).model_dump(), token=token)
