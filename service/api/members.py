"""Members: onboarding (operator), API keys, managed keys (export once, rotate)."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import CurrentPrincipal, IdentitiesDep, RuntimeDep, SessionDep
from service.api.schemas import (
    ApiKeyCreated,
    ApiKeyPublic,
    ExportedKey,
    MemberCreated,
    MemberPublic,
    RotatedKey,
    problems,
)
from service.domain import members
from service.domain.key_rotation import rotate_and_move_roles
from service.domain.members import MemberCreate, Scope

router = APIRouter(prefix="/members", tags=["members"])


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scopes: list[Scope] | None = Field(
        default=None,
        description="A subset of the calling key's scopes (403 otherwise). Default: the member scopes it holds",
    )
    label: str = Field(default="", max_length=100)


@router.post(
    "",
    response_model=MemberCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Onboard a member",
    responses=problems(400, 401, 403, 409, 413, 422, 503),
)
def create_member(
    member_in: MemberCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
    identities: IdentitiesDep,
) -> MemberCreated:
    principal.require("admin")
    with session.begin():
        member = members.create_member(session=session, vault=runtime.vault, member_in=member_in, identities=identities)
        api_key, token = members.issue_api_key(session=session, member=member, label="onboarding")
        return MemberCreated(
            member=MemberPublic.of(member), api_key=ApiKeyCreated(**ApiKeyPublic.of(api_key).model_dump(), token=token)
        )


@router.get("/me", response_model=MemberPublic, responses=problems(401, 503))
def read_me(principal: CurrentPrincipal) -> MemberPublic:
    return MemberPublic.of(principal.member)


@router.get("/{member_id}", response_model=MemberPublic, responses=problems(401, 403, 404, 503))
def read_member(member_id: str, session: SessionDep, principal: CurrentPrincipal) -> MemberPublic:
    principal.require("read")
    return MemberPublic.of(members.get_member(session=session, member_id=member_id))


@router.post(
    "/me/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=problems(400, 401, 403, 413, 422, 503),
)
def create_api_key(key_in: ApiKeyCreate, session: SessionDep, principal: CurrentPrincipal) -> ApiKeyCreated:
    principal.require("members")
    with session.begin():
        member = members.get_member(session=session, member_id=principal.member.id)
        api_key, token = members.issue_api_key(
            session=session, member=member, scopes=key_in.scopes, label=key_in.label, minted_by=principal.scopes
        )
        return ApiKeyCreated(**ApiKeyPublic.of(api_key).model_dump(), token=token)


@router.get("/me/api-keys", response_model=list[ApiKeyPublic], responses=problems(401, 503))
def list_api_keys(session: SessionDep, principal: CurrentPrincipal) -> list[ApiKeyPublic]:
    return [ApiKeyPublic.of(k) for k in members.api_keys_of(session=session, member_id=principal.member.id)]


@router.delete("/me/api-keys/{key_id}", response_model=ApiKeyPublic, responses=problems(401, 403, 404, 503))
def revoke_api_key(key_id: str, session: SessionDep, principal: CurrentPrincipal) -> ApiKeyPublic:
    principal.require("members")
    with session.begin():
        member = members.get_member(session=session, member_id=principal.member.id)
        return ApiKeyPublic.of(members.revoke_api_key(session=session, member=member, key_id=key_id))


@router.post(
    "/me/key/export",
    response_model=ExportedKey,
    summary="Export the managed private key (once)",
    responses=problems(401, 403, 409, 422, 503),
)
def export_key(session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal) -> ExportedKey:
    principal.require_every_member_scope("exporting the managed key")
    with session.begin():
        member = members.get_member(session=session, member_id=principal.member.id)
        private_key = members.export_managed_key(session=session, vault=runtime.vault, member=member)
        return ExportedKey(address=member.address, private_key=private_key)


@router.post(
    "/me/key/rotate",
    response_model=RotatedKey,
    summary="Replace the managed key; roles follow",
    responses=problems(401, 403, 409, 422, 503, 504),
)
def rotate_key(session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal) -> RotatedKey:
    principal.require("members")
    result = rotate_and_move_roles(runtime=runtime, session=session, member_id=principal.member.id)
    return RotatedKey(**result)
