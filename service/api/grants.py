"""Sharing grants: create (signed by the owner, anchored on the SharingLedger), list, read,
revoke (the owner only, on chain)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict

from service.api.deps import CurrentPrincipal, RuntimeDep, SessionDep
from service.api.schemas import TypedDataToSign, problems
from service.chain import typed_data
from service.db.models import SharingGrant
from service.domain import members, sharing
from service.domain.sharing import GrantCreate
from service.domain.signing import Deadline, deadline_in
from service.epcis.query import parse_time

router = APIRouter(prefix="/grants", tags=["sharing"])


class GrantPublic(BaseModel):
    id: str
    constellation: str
    categories: list[str]
    audience: dict[str, str | None]
    purpose: str
    effect: str
    """share · withhold (narrows the constellation's defaults for the owner's own data)"""
    default: bool
    """A constellation default, set by a coordinator for every member's data there."""
    valid_from: datetime
    valid_until: datetime | None
    audience_hash: str
    terms_hash: str
    tx_hash: str
    revoked_at: datetime | None
    revoke_tx_hash: str | None

    @classmethod
    def of(cls, row: SharingGrant) -> GrantPublic:
        return cls(
            id=row.id,
            constellation=row.constellation,
            categories=row.categories,
            audience={"kind": row.audience_kind, "value": row.audience_value},
            purpose=row.purpose,
            effect=row.effect,
            default=row.is_default,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            audience_hash=row.audience_hash,
            terms_hash=row.terms_hash,
            tx_hash=row.tx_hash,
            revoked_at=row.revoked_at,
            revoke_tx_hash=row.revoke_tx_hash,
        )


class GrantPrepared(TypedDataToSign):
    grant_id: str
    valid_from: datetime
    """Send grant_id, deadline and valid_from back with the signature: the signed terms fix them."""


class RevokeGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deadline: Deadline | None = None
    signature: str | None = None


@router.post(
    "/prepare",
    response_model=GrantPrepared,
    summary="Typed data a self-custody owner signs",
    responses=problems(400, 401, 403, 404, 413, 422, 503),
)
def prepare_grant(
    grant_in: GrantCreate, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> GrantPrepared:
    principal.require("grants")
    runtime.ensure_schemas()
    owner = members.get_member(session=session, member_id=principal.member.id)
    message, row = sharing.prepare_grant(
        session=session, chain=runtime.chain, owner=owner, grant_in=grant_in, ttl=runtime.settings.signature_ttl_seconds
    )
    session.rollback()
    return GrantPrepared(
        deadline=message["message"]["deadline"],
        messages=[typed_data.to_json(message)],
        grant_id=row.id,
        valid_from=row.valid_from,
    )


@router.post(
    "",
    response_model=GrantPublic,
    status_code=status.HTTP_201_CREATED,
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503, 504),
)
def create_grant(
    grant_in: GrantCreate, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> GrantPublic:
    principal.require("grants")
    runtime.ensure_schemas()
    with session.begin():
        owner = members.get_member(session=session, member_id=principal.member.id)
        row = sharing.create_grant(
            session=session,
            chain=runtime.chain,
            vault=runtime.vault,
            owner=owner,
            grant_in=grant_in,
            ttl=runtime.settings.signature_ttl_seconds,
        )
        return GrantPublic.of(row)


@router.get("", response_model=list[GrantPublic], summary="The caller's grants", responses=problems(401, 403, 503))
def list_grants(session: SessionDep, principal: CurrentPrincipal) -> list[GrantPublic]:
    principal.require("grants")
    owner = members.get_member(session=session, member_id=principal.member.id)
    return [GrantPublic.of(row) for row in sharing.grants_of(session=session, owner=owner)]


@router.get(
    "/defaults",
    response_model=list[GrantPublic],
    summary="A constellation's live defaults",
    responses=problems(401, 403, 404, 422, 503),
)
def list_defaults(session: SessionDep, principal: CurrentPrincipal, constellation: str) -> list[GrantPublic]:
    """What a constellation shows of every member's data by default (its members may look)."""
    principal.require("read")
    return [
        GrantPublic.of(row) for row in sharing.defaults_of(session=session, member=principal.member, slug=constellation)
    ]


class Preview(BaseModel):
    reader: str
    record: str
    kind: str
    visible: bool
    shown: list[str]
    withheld: list[str]
    basis: list[str]
    """The grants that disclose what is shown."""
    view: dict[str, Any] | None
    """The event exactly as that reader would get it (events only)."""


@router.get(
    "/preview",
    response_model=Preview,
    summary="What member M (or the public) would see of your record R",
    responses=problems(401, 403, 404, 422, 503),
)
def preview(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
    reader: Annotated[str, Query(description="A member id, or `public`")],
    record: Annotated[str, Query(description="An event's reference (0x + leaf) or an attestation uid")],
) -> Preview:
    principal.require("grants")
    owner = members.get_member(session=session, member_id=principal.member.id)
    found = sharing.preview(session=session, owner=owner, reader=reader, record=record, where=runtime.anchor_ref())
    return Preview(**found)


@router.get("/{grant_id}", response_model=GrantPublic, responses=problems(401, 403, 404, 503))
def read_grant(grant_id: str, session: SessionDep, principal: CurrentPrincipal) -> GrantPublic:
    principal.require("grants")
    owner = members.get_member(session=session, member_id=principal.member.id)
    return GrantPublic.of(sharing.get_grant(session=session, owner=owner, grant_id=grant_id))


@router.post("/{grant_id}/revoke/prepare", response_model=TypedDataToSign, responses=problems(401, 403, 404, 409, 503))
def prepare_revocation(
    grant_id: str, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> TypedDataToSign:
    principal.require("grants")
    owner = members.get_member(session=session, member_id=principal.member.id)
    row = sharing.get_grant(session=session, owner=owner, grant_id=grant_id)
    deadline = deadline_in(runtime.settings.signature_ttl_seconds)
    message = sharing.revoke_message(chain=runtime.chain, grant_id=row.id, deadline=deadline)
    return TypedDataToSign(deadline=deadline, messages=[typed_data.to_json(message)])


@router.post(
    "/{grant_id}/revoke",
    response_model=GrantPublic,
    summary="Revoke (the owner only), on chain",
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503, 504),
)
def revoke_grant(
    grant_id: str, revoke_in: RevokeGrant, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> GrantPublic:
    principal.require("grants")
    with session.begin():
        owner = members.get_member(session=session, member_id=principal.member.id)
        row = sharing.revoke_grant(
            session=session,
            chain=runtime.chain,
            vault=runtime.vault,
            owner=owner,
            grant_id=grant_id,
            deadline=revoke_in.deadline,
            signature=revoke_in.signature,
            ttl=runtime.settings.signature_ttl_seconds,
        )
        return GrantPublic.of(row)


log_router = APIRouter(prefix="/access-log", tags=["sharing"])


class AccessLogPublic(BaseModel):
    id: int
    at: datetime
    reader: dict[str, str | None]
    record: dict[str, str]
    shown: list[str]
    withheld: list[str]
    purpose: str
    basis: list[str]
    endpoint: str
    records: int | None = None
    """For an aggregate (record kind `aggregate`, a coordinator's view): how many of your records it drew on."""


@log_router.get(
    "",
    response_model=list[AccessLogPublic],
    summary="Who read your data, what they saw, and why",
    responses=problems(400, 401, 403, 422, 503),
)
def read_access_log(
    session: SessionDep,
    principal: CurrentPrincipal,
    record: Annotated[str | None, Query(description="One record (event reference or attestation uid)")] = None,
    reader: Annotated[str | None, Query(description="One reader: a member id, or `public`")] = None,
    since: Annotated[
        str | None,
        Query(description="From this time (ISO 8601, with a time zone)", json_schema_extra={"format": "date-time"}),
    ] = None,
    before: Annotated[int | None, Query(ge=1, description="Page: entries older than this id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AccessLogPublic]:
    """The log of reads of the caller's own data; nobody else's, and nobody else reads it."""
    principal.require("read")
    rows = sharing.access_log(
        session=session,
        owner=principal.member,
        record=record,
        reader=reader,
        since=parse_time("since", since) if since is not None else None,
        before=before,
        limit=limit,
    )
    return [
        AccessLogPublic(
            id=r.id,
            at=r.at,
            reader={"kind": r.reader_kind, "id": r.reader_id},
            record={"kind": r.record_kind, "ref": r.record_ref, "constellation": r.constellation},
            shown=r.shown,
            withheld=r.withheld,
            purpose=r.purpose,
            basis=r.basis,
            endpoint=r.endpoint,
            records=r.records,
        )
        for r in rows
    ]
