"""ESG attestations and their schema catalogue: issue (signed by the issuer, relayed by the
service), read with status and on-chain proof, search, revoke, bulk import."""

from __future__ import annotations

import contextlib
import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.responses import Response as RawResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.deps import CurrentPrincipal, ReaderAccess, RuntimeDep, SessionDep
from service.api.schemas import OPTIONAL_KEY, AttestationPublic, AttestationSchemaPublic, TypedDataToSign, problems
from service.chain import typed_data
from service.db.models import Attestation, AttestationSchema, Member
from service.domain import attestations, credentials, members, pact, policy
from service.domain.attestations import AttestationCreate
from service.domain.claim_status import claim_status
from service.domain.members import Principal
from service.domain.schema_catalogue import SchemaCreate, create_schema, get_schema
from service.domain.signing import Deadline, deadline_in
from service.domain.subjects import ItemSubject, LocationSubject, MemberSubject
from service.errors import ChainUnavailable, NotFound, PolicyDenied, TransactionTimeout, ValidationFailed
from service.runtime import Runtime

schemas_router = APIRouter(prefix="/attestation-schemas", tags=["attestations"])
router = APIRouter(prefix="/attestations", tags=["attestations"])
evidence_router = APIRouter(prefix="/evidence", tags=["attestations"])

MAX_IMPORT = 1000
RELAY_WAIT_SECONDS = 10.0
"""How long a request waits for a relay round already running before it answers pending."""


class AttestationPrepared(TypedDataToSign):
    uid: str
    salts: dict[str, str]
    """Send these back with the signature: they fix the commitment the signature covers."""


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deadline: Deadline | None = None
    signature: str | None = Field(default=None, description="Self-custody only: signature of the Revoke typed data")


class ImportResult(BaseModel):
    imported: int
    attestations: list[AttestationPublic]


def _is_operator(principal: Principal) -> bool:
    return "admin" in principal.scopes


def _public(
    session: Session,
    runtime: Runtime,
    member_id: str | None,
    readable: attestations.Readable,
    *,
    on_chain: bool = False,
) -> AttestationPublic:
    return AttestationPublic.of(
        session=session,
        readable=readable,
        status=claim_status(session=session, row=readable.row, schema_name=readable.schema_name),
        chain=runtime.chain,
        with_salts=readable.row.issuer_id == member_id,
        on_chain=on_chain,
    )


def _own(session: Session, row: Attestation) -> attestations.Readable:
    """The issuer's own attestation, in full (it just made or revoked it)."""
    return attestations.Readable(row, attestations.schema_name_of(session, row), None)


def _relay_now(runtime: Runtime) -> None:
    """Tries to put queued work on chain at once; during an outage it stays queued (pending)."""
    with contextlib.suppress(ChainUnavailable, TransactionTimeout):
        runtime.relay(wait=RELAY_WAIT_SECONDS)


# --- schema catalogue ---------------------------------------------------------------------


@schemas_router.get("", response_model=list[AttestationSchemaPublic], responses=problems(401, 403, 503))
def list_schemas(
    session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> list[AttestationSchemaPublic]:
    principal.require("read")
    runtime.ensure_schemas()

    return [
        AttestationSchemaPublic.of(r)
        for r in session.scalars(select(AttestationSchema).order_by(AttestationSchema.name))
    ]


@schemas_router.get("/{name}", response_model=AttestationSchemaPublic, responses=problems(401, 403, 404, 503))
def read_schema(
    name: str, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> AttestationSchemaPublic:
    principal.require("read")
    runtime.ensure_schemas()
    return AttestationSchemaPublic.of(get_schema(session=session, name=name))


@schemas_router.post(
    "",
    response_model=AttestationSchemaPublic,
    status_code=status.HTTP_201_CREATED,
    responses=problems(400, 401, 403, 409, 413, 422, 503, 504),
)
def register_schema(
    schema_in: SchemaCreate, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> AttestationSchemaPublic:
    """A custom schema: a JSON Schema for bodies, registered on the AttestationRegistry."""
    principal.require("attestations")
    runtime.ensure_schemas()
    with session.begin():
        row = create_schema(session=session, chain=runtime.chain, member_id=principal.member.id, schema_in=schema_in)
    return AttestationSchemaPublic.of(row)


# --- attestations -------------------------------------------------------------------------


def _create(session: Session, runtime: Runtime, issuer: Member, att_in: AttestationCreate) -> Attestation:
    return attestations.create(
        session=session,
        chain=runtime.chain,
        vault=runtime.vault,
        issuer=issuer,
        att_in=att_in,
        ttl=runtime.settings.signature_ttl_seconds,
    )


def _issuer(session: Session, principal: Principal) -> Member:
    principal.require("attestations")
    return members.get_member(session=session, member_id=principal.member.id)


@router.post(
    "/prepare",
    response_model=AttestationPrepared,
    summary="Typed data a self-custody issuer signs",
    responses=problems(400, 401, 403, 404, 413, 422, 503),
)
def prepare_attestation(
    att_in: AttestationCreate, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> AttestationPrepared:
    runtime.ensure_schemas()
    issuer = _issuer(session, principal)
    prepared = attestations.prepare(
        session=session, chain=runtime.chain, issuer=issuer, att_in=att_in, ttl=runtime.settings.signature_ttl_seconds
    )
    session.rollback()
    return AttestationPrepared(
        deadline=prepared.deadline,
        messages=[typed_data.to_json(prepared.typed)],
        uid=prepared.uid(issuer.address),
        salts={path: "0x" + salt.hex() for path, salt in prepared.commitment.salts.items()},
    )


@router.post(
    "",
    response_model=AttestationPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        202: {"model": AttestationPublic, "description": "Stored; the chain is unreachable, it is sent later"},
        **problems(400, 401, 403, 404, 409, 413, 422, 503),
    },
)
def create_attestation(
    att_in: AttestationCreate, response: Response, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> AttestationPublic:
    """Validates and stores the attestation, then relays it. 201 when on chain, 202 while pending."""
    runtime.ensure_schemas()
    with session.begin():
        uid = _create(session, runtime, _issuer(session, principal), att_in).uid
    _relay_now(runtime)
    session.expire_all()
    row = attestations.get(session=session, uid=uid)
    public = _public(session, runtime, principal.member.id, _own(session, row))
    if public.status == "pending":
        response.status_code = status.HTTP_202_ACCEPTED
    return public


def _parse_import(raw: bytes, content_type: str) -> list[Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"the import is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    if "ndjson" in content_type or "jsonl" in content_type:
        items = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    items.append(orjson.loads(line))  # strict: no NaN, Infinity or 1e999
                except orjson.JSONDecodeError as exc:
                    raise ValidationFailed(f"line {number} is not JSON: {exc.msg}") from exc
        return items
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(
            f"the import is not JSON: {exc.msg} (send a JSON array or application/x-ndjson)"
        ) from exc
    if isinstance(document, dict) and isinstance(document.get("attestations"), list):
        return list(document["attestations"])
    if isinstance(document, list):
        return document
    raise ValidationFailed('the import must be a JSON array of attestations or {"attestations": [...]}')


_MANY = TypeAdapter(AttestationCreate)


@router.post(
    "/import",
    response_model=ImportResult,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 413, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media_type: {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/AttestationCreate"}}}
                for media_type in ("application/json", "application/x-ndjson")
            },
        }
    },
)
async def import_attestations(request: Request, runtime: RuntimeDep, principal: CurrentPrincipal) -> ImportResult:
    """Bulk import from a file (a JSON array, {"attestations": [...]}, or JSON Lines). All or
    nothing: one bad entry rejects the file, naming its position. Relayed in batches."""
    raw = await request.body()
    items = _parse_import(raw, request.headers.get("content-type", ""))
    if not items:
        raise ValidationFailed("the import holds no attestations")
    if len(items) > MAX_IMPORT:
        raise ValidationFailed(f"an import holds at most {MAX_IMPORT} attestations, this one {len(items)}")
    parsed = []
    for index, item in enumerate(items):
        try:
            parsed.append(_MANY.validate_python(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "/".join(str(p) for p in first["loc"])
            raise ValidationFailed(f"attestation #{index}: {where}: {first['msg']}") from exc
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_import, runtime, principal, parsed)


def _import(runtime: Runtime, principal: Principal, parsed: list[AttestationCreate]) -> ImportResult:
    runtime.ensure_schemas()
    with runtime.sessions() as session:
        uids: list[str] = []
        with session.begin():
            issuer = _issuer(session, principal)
            for index, att_in in enumerate(parsed):
                try:
                    row = _create(session, runtime, issuer, att_in)
                except (ValidationFailed, NotFound, PolicyDenied) as exc:
                    raise type(exc)(f"attestation #{index}: {exc}") from exc
                uids.append(row.uid)
        _relay_now(runtime)
        session.expire_all()
        rows = [attestations.get(session=session, uid=uid) for uid in uids]
        return ImportResult(
            imported=len(rows),
            attestations=[_public(session, runtime, principal.member.id, _own(session, r)) for r in rows],
        )


@router.get(
    "",
    response_model=list[AttestationPublic],
    summary="Search by subject, issuer or schema",
    responses=problems(400, 401, 403, 404, 422, 503),
    openapi_extra=OPTIONAL_KEY,
)
def list_attestations(
    session: SessionDep,
    runtime: RuntimeDep,
    access: ReaderAccess,
    gtin: Annotated[str | None, Query(description="Item subject: GTIN (with lot and/or serial)")] = None,
    lot: str | None = None,
    serial: str | None = None,
    gln: Annotated[str | None, Query(description="Location subject: GLN")] = None,
    subject_member: Annotated[str | None, Query(description="Member subject: member id")] = None,
    issuer: Annotated[str | None, Query(description="Issuer member id")] = None,
    schema: Annotated[str | None, Query(description="Schema name")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AttestationPublic]:
    subject = None
    try:
        if gtin is not None:
            subject = ItemSubject(gtin=gtin, lot=lot, serial=serial).canonical()
        elif gln is not None:
            subject = LocationSubject(gln=gln).canonical()
        elif subject_member is not None:
            subject = MemberSubject(member_id=subject_member).canonical()
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    if (lot or serial) and gtin is None:
        raise ValidationFailed("lot and serial need a gtin")
    schema_uid = get_schema(session=session, name=schema).uid if schema else None
    found = attestations.search(
        session=session,
        access=access,
        subject=subject,
        issuer_id=issuer,
        schema_uid=schema_uid,
        limit=limit,
        offset=offset,
    )
    return [_public(session, runtime, access.reader.member_id, r) for r in found]


def _issued_by_caller(session: Session, principal: Principal, uid: str) -> Attestation:
    reader = policy.reader_of(session=session, member=principal.member, operator="admin" in principal.scopes)
    return attestations.issued_by(session=session, access=policy.access_for(session=session, reader=reader), uid=uid)


@router.get(
    "/{uid}",
    response_model=AttestationPublic,
    summary="One attestation, its status and on-chain proof",
    responses=problems(400, 401, 403, 404, 503),
    openapi_extra=OPTIONAL_KEY,
)
def read_attestation(uid: str, session: SessionDep, runtime: RuntimeDep, access: ReaderAccess) -> AttestationPublic:
    found = attestations.read(session=session, access=access, uid=uid, endpoint="attestations.read")
    return _public(session, runtime, access.reader.member_id, found, on_chain=True)


class CredentialResponse(JSONResponse):
    media_type = credentials.MEDIA_TYPE


@router.get(
    "/{uid}/credential",
    response_class=CredentialResponse,
    summary="The attestation as a W3C Verifiable Credential 2.0 with the issuer's EIP-712 proof",
    responses={
        200: {
            "description": "A VC 2.0 credential: fields you may not see are left out and named in "
            "`attestation.withheld`; `attestation.disclosures` proves each shown field under the signed data hash",
            "content": {credentials.MEDIA_TYPE: {"schema": {"type": "object"}}},
        },
        **problems(400, 401, 403, 404, 503, described={409: "The chain refused the attestation: it is no credential"}),
    },
    openapi_extra=OPTIONAL_KEY,
)
def read_credential(uid: str, session: SessionDep, runtime: RuntimeDep, access: ReaderAccess) -> CredentialResponse:
    chain_id, registry = runtime.attestation_registry()
    credential = credentials.issue_credential(
        session=session,
        access=access,
        uid=uid,
        chain_id=chain_id,
        registry=registry,
        base_url=runtime.settings.public_base_url,
    )
    return CredentialResponse(credential)


@router.get(
    "/{uid}/footprint",
    response_class=JSONResponse,
    summary="A product-carbon-footprint attestation as a PACT ProductFootprint (Tech Specs 2.3)",
    responses={
        200: {
            "description": "A PACT ProductFootprint; `Deprecated` once the attestation is revoked or expired",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **problems(
            400,
            401,
            404,
            503,
            described={
                403: "A field the footprint needs is withheld from you (named)",
                409: "Not a product-carbon-footprint attestation, not about a product, refused by the chain, "
                "a PACT-required value not stated, or no product master data (named)",
            },
        ),
    },
    openapi_extra=OPTIONAL_KEY,
)
def read_footprint(uid: str, session: SessionDep, access: ReaderAccess) -> JSONResponse:
    return JSONResponse(pact.export_footprint(session=session, access=access, uid=uid))


@router.post("/{uid}/revoke/prepare", response_model=TypedDataToSign, responses=problems(401, 403, 404, 503))
def prepare_revocation(
    uid: str, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> TypedDataToSign:
    principal.require("attestations")
    row = _issued_by_caller(session, principal, uid)
    deadline = deadline_in(runtime.settings.signature_ttl_seconds)
    message = attestations.revoke_message(chain=runtime.chain, uid=row.uid, deadline=deadline)
    return TypedDataToSign(deadline=deadline, messages=[typed_data.to_json(message)])


@router.post(
    "/{uid}/revoke",
    response_model=AttestationPublic,
    summary="Revoke (issuer only), on chain",
    responses={
        202: {"model": AttestationPublic, "description": "Requested; the chain is unreachable, it is sent later"},
        **problems(400, 401, 403, 404, 409, 413, 422, 503),
    },
)
def revoke_attestation(
    uid: str,
    revoke_in: RevokeRequest,
    response: Response,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
) -> AttestationPublic:
    principal.require("attestations")
    with session.begin():
        _issued_by_caller(session, principal, uid)
        member = members.get_member(session=session, member_id=principal.member.id)
        row = attestations.request_revocation(
            session=session,
            chain=runtime.chain,
            vault=runtime.vault,
            member=member,
            uid=uid,
            deadline=revoke_in.deadline,
            signature=revoke_in.signature,
            ttl=runtime.settings.signature_ttl_seconds,
        )
        uid = row.uid
    _relay_now(runtime)
    session.expire_all()
    public = _public(session, runtime, principal.member.id, _own(session, attestations.get(session=session, uid=uid)))
    if public.status != "revoked":
        response.status_code = status.HTTP_202_ACCEPTED
    return public


@evidence_router.get(
    "/{sha256}",
    summary="An evidence document, by the SHA-256 of its content",
    response_class=RawResponse,
    responses={
        200: {"description": "The document, in its own media type", "content": {"*/*": {"schema": {}}}},
        **problems(400, 401, 403, 404, 503),
    },
    openapi_extra=OPTIONAL_KEY,
)
def read_evidence(sha256: str, session: SessionDep, access: ReaderAccess) -> RawResponse:
    document = attestations.evidence_for(session=session, access=access, sha256=sha256)
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", document.filename)
    return RawResponse(
        content=document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "ETag": f'"{document.sha256}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",  # the uploader's bytes never run
        },
    )
