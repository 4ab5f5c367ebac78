"""Constellations and their members' roles. The chain (ConstellationRegistry) is authoritative:
writes are relayed as coordinator-signed transactions, reads come from the indexed mirror."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eth_utils import keccak
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.chain import typed_data
from service.chain.deployment import Chain
from service.db.models import ChainConstellation, ChainRoleChange, Constellation, Member
from service.domain.keys import KeyVault
from service.domain.signing import Deadline, authorise, deadline_in
from service.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from service.roles import Role

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
RoleName = str


def constellation_id(slug: str) -> str:
    """The bytes32 id of a slug, as 0x-hex: keccak256("constellate:" + slug)."""
    return "0x" + keccak(text=f"constellate:{slug}").hex()


def _id_bytes(cid: str) -> bytes:
    return bytes.fromhex(cid.removeprefix("0x"))


def role_mask(names: list[RoleName]) -> int:
    try:
        return Role.mask(names)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc


class ConstellationPrepare(BaseModel):
    """What a new constellation is called: the slug (on chain as its hash) and a name."""

    model_config = ConfigDict(extra="forbid")
    slug: str = Field(
        description="Lower-case letters, digits and dashes; its hash is the on-chain id",
        json_schema_extra={"pattern": _SLUG.pattern},
    )
    name: str = Field(min_length=1, max_length=200)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("slug must be 2-63 lower-case letters, digits or dashes, starting with a letter or digit")
        return value


class ConstellationCreate(ConstellationPrepare):
    deadline: Deadline | None = Field(default=None, description="Deadline the signatures were made with")
    signatures: list[str] | None = Field(
        default=None, description="Self-custody only: signatures of the typed data from /constellations/prepare"
    )


class RolesChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[RoleName] = Field(description="The member's roles after the change; empty removes it")
    deadline: Deadline | None = None
    signature: str | None = Field(default=None, description="Self-custody coordinators: SetRoles signature")


@dataclass(frozen=True)
class Membership:
    constellation: str
    address: str
    roles: int
    since: datetime


def creation_messages(
    *, chain: Chain, coordinator: str, relayer: str, slug: str, name: str, deadline: int
) -> list[dict[str, Any]]:
    """What a coordinator signs to create a constellation and let the relayer anchor in it."""
    cid = _id_bytes(constellation_id(slug))
    nonce = chain.registry.nonces(coordinator)
    registry = chain.address_of("ConstellationRegistry")
    return [
        typed_data.typed_message(
            "CreateConstellation",
            {"constellation": cid, "name": name, "nonce": nonce, "deadline": deadline},
            chain_id=chain.chain_id,
            contract=registry,
        ),
        typed_data.typed_message(
            "SetRoles",
            {
                "constellation": cid,
                "account": relayer,
                "roles": Role.ANCHORER,
                "nonce": nonce + 1,
                "deadline": deadline,
            },
            chain_id=chain.chain_id,
            contract=registry,
        ),
    ]


def create_constellation(
    *,
    session: Session,
    chain: Chain,
    vault: KeyVault | None,
    member: Member,
    create_in: ConstellationCreate,
    ttl: int,
) -> Constellation:
    """Creates the constellation on chain with `member` as coordinator and the relayer as anchorer."""
    cid = constellation_id(create_in.slug)
    if session.scalar(select(Constellation).where(Constellation.slug == create_in.slug)) or chain.registry.exists(
        _id_bytes(cid)
    ):
        raise Conflict(f"constellation {create_in.slug!r} already exists")
    deadline = create_in.deadline or deadline_in(ttl)
    messages = creation_messages(
        chain=chain,
        coordinator=member.address,
        relayer=chain.sender.address,
        slug=create_in.slug,
        name=create_in.name,
        deadline=deadline,
    )
    given = create_in.signatures or [None, None]
    if len(given) != 2:
        raise ValidationFailed("signatures must hold two signatures: CreateConstellation, then SetRoles (anchorer)")
    signatures = [
        authorise(session=session, vault=vault, member=member, typed=m, signature=s)
        for m, s in zip(messages, given, strict=True)
    ]
    receipt = chain.registry.create_constellation_by_sig(
        _id_bytes(cid), create_in.name, coordinator=member.address, deadline=deadline, signature=signatures[0]
    )
    chain.registry.set_roles_by_sig(
        _id_bytes(cid),
        chain.sender.address,
        Role.ANCHORER,
        coordinator=member.address,
        deadline=deadline,
        signature=signatures[1],
    )
    row = Constellation(id=cid, slug=create_in.slug, name=create_in.name, created_by=member.id, tx_hash=receipt.tx_hash)
    session.add(row)
    return row


def get_constellation(*, session: Session, slug: str) -> Constellation:
    row = session.scalar(select(Constellation).where(Constellation.slug == slug))
    if row is None:
        raise NotFound(f"no constellation {slug!r}")
    return row


def roles_message(
    *, chain: Chain, coordinator: str, cid: str, account: str, roles: int, deadline: int
) -> dict[str, Any]:
    return typed_data.typed_message(
        "SetRoles",
        {
            "constellation": _id_bytes(cid),
            "account": account,
            "roles": roles,
            "nonce": chain.registry.nonces(coordinator),
            "deadline": deadline,
        },
        chain_id=chain.chain_id,
        contract=chain.address_of("ConstellationRegistry"),
    )


def require_coordinator(*, session: Session, constellation: Constellation, member: Member) -> None:
    """403 unless `member` coordinates the constellation now (as the mirrored chain says)."""
    if not current_roles(session=session, cid=constellation.id, address=member.address) & Role.COORDINATOR:
        raise PolicyDenied(f"{member.name} is not a coordinator of {constellation.slug!r}")


def require_member(*, session: Session, constellation: Constellation, member: Member) -> None:
    """404 unless `member` holds a role in the constellation now (or is the operator): who is in
    a constellation, under which names, is its members' to know."""
    held = current_roles(session=session, cid=constellation.id, address=member.address)
    if not held and member.custody != "operator":
        raise NotFound(f"no constellation {constellation.slug!r} of yours")


def set_roles(
    *,
    session: Session,
    chain: Chain,
    vault: KeyVault | None,
    coordinator: Member,
    constellation: Constellation,
    account: Member,
    change: RolesChange,
    ttl: int,
) -> str:
    """Sets `account`'s roles (empty: removes it), signed by a coordinator. Returns the tx hash."""
    mask = role_mask(change.roles)
    require_coordinator(session=session, constellation=constellation, member=coordinator)
    if mask == 0 and not current_roles(session=session, cid=constellation.id, address=account.address):
        raise NotFound(f"{account.name} is not a member of {constellation.slug!r}")
    deadline = change.deadline or deadline_in(ttl)
    message = roles_message(
        chain=chain,
        coordinator=coordinator.address,
        cid=constellation.id,
        account=account.address,
        roles=mask,
        deadline=deadline,
    )
    signature = authorise(session=session, vault=vault, member=coordinator, typed=message, signature=change.signature)
    receipt = chain.registry.set_roles_by_sig(
        _id_bytes(constellation.id),
        account.address,
        mask,
        coordinator=coordinator.address,
        deadline=deadline,
        signature=signature,
    )
    return receipt.tx_hash


def _latest_changes(session: Session, *conditions: Any) -> list[ChainRoleChange]:
    """The newest role change per (constellation, account) among those matching `conditions`."""
    ranked = (
        select(
            ChainRoleChange.id,
            func.row_number()
            .over(
                partition_by=(ChainRoleChange.constellation, ChainRoleChange.account),
                order_by=(ChainRoleChange.block_number.desc(), ChainRoleChange.log_index.desc()),
            )
            .label("rank"),
        )
        .where(*conditions)
        .subquery()
    )
    ids = select(ranked.c.id).where(ranked.c.rank == 1)
    return list(session.scalars(select(ChainRoleChange).where(ChainRoleChange.id.in_(ids))))


def current_roles(*, session: Session, cid: str, address: str) -> int:
    changes = _latest_changes(session, ChainRoleChange.constellation == cid, ChainRoleChange.account == address)
    return changes[0].roles if changes else 0


def roles_at(*, session: Session, cid: str, address: str, at: datetime) -> int:
    """The roles `address` held in `cid` at time `at` (as the mirrored chain says)."""
    change = session.scalar(
        select(ChainRoleChange)
        .where(
            ChainRoleChange.constellation == cid, ChainRoleChange.account == address, ChainRoleChange.block_time <= at
        )
        .order_by(ChainRoleChange.block_number.desc(), ChainRoleChange.log_index.desc())
        .limit(1)
    )
    return change.roles if change else 0


def members_of(*, session: Session, cid: str) -> list[Membership]:
    changes = _latest_changes(session, ChainRoleChange.constellation == cid)
    return sorted(
        (Membership(c.constellation, c.account, c.roles, c.block_time) for c in changes if c.roles),
        key=lambda m: m.since,
    )


def constellations_of(*, session: Session, address: str) -> list[Membership]:
    changes = _latest_changes(session, ChainRoleChange.account == address)
    return [Membership(c.constellation, c.account, c.roles, c.block_time) for c in changes if c.roles]


def chain_name(*, session: Session, cid: str) -> str | None:
    return session.scalar(select(ChainConstellation.name).where(ChainConstellation.constellation == cid))
