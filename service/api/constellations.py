"""Constellations: create (creator = coordinator), roles of members, listings."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.deps import CurrentPrincipal, RuntimeDep, SessionDep
from service.api.schemas import ConstellationPublic, MembershipPublic, TransactionPublic, TypedDataToSign, problems
from service.chain import typed_data
from service.db.models import Constellation, Member
from service.domain import constellations, members
from service.domain.constellations import ConstellationCreate, ConstellationPrepare, Membership, RolesChange
from service.domain.signing import deadline_in

router = APIRouter(prefix="/constellations", tags=["constellations"])


class RolesPrepare(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[str]


def _memberships(session: Session, rows: list[Membership]) -> list[MembershipPublic]:
    by_address = {
        m.address: m for m in session.scalars(select(Member).where(Member.address.in_([r.address for r in rows])))
    }
    slugs = {cid: slug for cid, slug in session.execute(select(Constellation.id, Constellation.slug))}
    return [MembershipPublic.of(r, slug=slugs.get(r.constellation), member=by_address.get(r.address)) for r in rows]


def _public(session: Session, row: Constellation) -> ConstellationPublic:
    return ConstellationPublic.of(row, _memberships(session, constellations.members_of(session=session, cid=row.id)))


@router.post(
    "/prepare",
    response_model=TypedDataToSign,
    summary="Typed data a self-custody coordinator signs",
    responses=problems(400, 401, 413, 422, 503),
)
def prepare_constellation(
    body: ConstellationPrepare, runtime: RuntimeDep, principal: CurrentPrincipal
) -> TypedDataToSign:
    deadline = deadline_in(runtime.settings.signature_ttl_seconds)
    messages = constellations.creation_messages(
        chain=runtime.chain,
        coordinator=principal.member.address,
        relayer=runtime.chain.sender.address,
        slug=body.slug,
        name=body.name,
        deadline=deadline,
    )
    return TypedDataToSign(deadline=deadline, messages=[typed_data.to_json(m) for m in messages])


@router.post(
    "",
    response_model=ConstellationPublic,
    status_code=status.HTTP_201_CREATED,
    responses=problems(400, 401, 403, 409, 413, 422, 503, 504),
)
def create_constellation(
    create_in: ConstellationCreate, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> ConstellationPublic:
    principal.require("constellations")
    with session.begin():
        row = constellations.create_constellation(
            session=session,
            chain=runtime.chain,
            vault=runtime.vault,
            member=principal.member,
            create_in=create_in,
            ttl=runtime.settings.signature_ttl_seconds,
        )
    runtime.sync_index()
    return _public(session, row)


@router.get(
    "",
    response_model=list[MembershipPublic],
    summary="The caller's constellations and roles",
    responses=problems(401, 503),
)
def list_my_constellations(session: SessionDep, principal: CurrentPrincipal) -> list[MembershipPublic]:
    return _memberships(session, constellations.constellations_of(session=session, address=principal.member.address))


@router.get("/{slug}", response_model=ConstellationPublic, responses=problems(401, 403, 404, 503))
def read_constellation(slug: str, session: SessionDep, principal: CurrentPrincipal) -> ConstellationPublic:
    principal.require("read")
    row = constellations.get_constellation(session=session, slug=slug)
    constellations.require_member(session=session, constellation=row, member=principal.member)
    return _public(session, row)


@router.post(
    "/{slug}/members/{member_id}/prepare",
    response_model=TypedDataToSign,
    responses=problems(400, 401, 403, 404, 413, 422, 503),
)
def prepare_roles(
    slug: str, member_id: str, body: RolesPrepare, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> TypedDataToSign:
    row = constellations.get_constellation(session=session, slug=slug)
    constellations.require_coordinator(session=session, constellation=row, member=principal.member)
    account = members.get_member(session=session, member_id=member_id)
    deadline = deadline_in(runtime.settings.signature_ttl_seconds)
    message = constellations.roles_message(
        chain=runtime.chain,
        coordinator=principal.member.address,
        cid=row.id,
        account=account.address,
        roles=constellations.role_mask(body.roles),
        deadline=deadline,
    )
    return TypedDataToSign(deadline=deadline, messages=[typed_data.to_json(message)])


@router.put(
    "/{slug}/members/{member_id}",
    response_model=TransactionPublic,
    summary="Add, change or remove (no roles)",
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503, 504),
)
def set_member_roles(
    slug: str,
    member_id: str,
    change: RolesChange,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
) -> TransactionPublic:
    principal.require("constellations")
    row = constellations.get_constellation(session=session, slug=slug)
    account = members.get_member(session=session, member_id=member_id)
    tx_hash = constellations.set_roles(
        session=session,
        chain=runtime.chain,
        vault=runtime.vault,
        coordinator=principal.member,
        constellation=row,
        account=account,
        change=change,
        ttl=runtime.settings.signature_ttl_seconds,
    )
    session.rollback()
    runtime.sync_index()
    return TransactionPublic(tx_hash=tx_hash)
