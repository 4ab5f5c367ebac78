"""Response schemas, named for their direction (…Public out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from service.chain.contracts import Role
from service.db.models import ApiKey, Constellation, Member
from service.domain.constellations import Membership


class MemberPublic(BaseModel):
    id: str
    name: str
    gln: str | None
    lei: str | None
    website: str | None
    address: str
    custody: str
    created_at: datetime

    @classmethod
    def of(cls, member: Member) -> MemberPublic:
        return cls.model_validate(member, from_attributes=True)


class ApiKeyPublic(BaseModel):
    id: str
    scopes: list[str]
    label: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyPublic:
        return cls.model_validate(key, from_attributes=True)


class ApiKeyCreated(ApiKeyPublic):
    token: str
    """The whole API key. It is shown this once and stored only as a hash."""


class MemberCreated(BaseModel):
    member: MemberPublic
    api_key: ApiKeyCreated


class ExportedKey(BaseModel):
    address: str
    private_key: str


class RotatedKey(BaseModel):
    old_address: str
    new_address: str
    moved: list[str]
    """Constellations whose roles moved to the new address (the member coordinates them)."""
    pending: list[str]
    """Constellations whose coordinator must re-grant the roles to the new address."""


class MembershipPublic(BaseModel):
    constellation: str
    slug: str | None
    member: MemberPublic | None
    address: str
    roles: list[str]
    since: datetime

    @classmethod
    def of(cls, membership: Membership, *, slug: str | None, member: Member | None) -> MembershipPublic:
        return cls(
            constellation=membership.constellation,
            slug=slug,
            member=MemberPublic.of(member) if member else None,
            address=membership.address,
            roles=Role.names(membership.roles),
            since=membership.since,
        )


class ConstellationPublic(BaseModel):
    id: str
    slug: str
    name: str
    created_by: str
    tx_hash: str | None
    members: list[MembershipPublic]

    @classmethod
    def of(cls, row: Constellation, members: list[MembershipPublic]) -> ConstellationPublic:
        return cls(
            id=row.id, slug=row.slug, name=row.name, created_by=row.created_by, tx_hash=row.tx_hash, members=members
        )


class TypedDataToSign(BaseModel):
    deadline: int
    messages: list[dict[str, Any]]
    """EIP-712 messages (eth_signTypedData_v4 JSON), to sign in this order."""


class TransactionPublic(BaseModel):
    tx_hash: str
