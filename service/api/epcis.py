"""The EPCIS 2.0 REST binding (JSON / JSON-LD): capture and capture jobs, events and the
SimpleEventQuery. Constellate's own headers say which constellation a capture belongs to and
carry a self-custody member's signature; the documents themselves stay standard."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service.api.body_bounds import PARSED_BODY
from service.api.deps import CurrentPrincipal, ReaderAccess, RuntimeDep, SessionDep
from service.api.schemas import OPTIONAL_KEY, TypedDataToSign, problems
from service.chain import typed_data
from service.chain.deployment import Chain
from service.chain.proof_reader import ChainProofReader, TrustPins
from service.chain.rpc import endpoint
from service.db.models import CaptureJob, EpcisEvent
from service.domain import disclosure, journey_proofs, members, proofs, provenance, verification
from service.domain.disclosure import EventView
from service.domain.members import Principal
from service.domain.policy import Access
from service.domain.view_format import RECORD_KEY
from service.epcis import capture as capturing
from service.epcis import policy as epcis_policy
from service.epcis import query as querying
from service.epcis.event_hash import hash_id
from service.epcis.identifiers import canonical_id
from service.errors import ChainUnavailable, Conflict, MalformedInput, NotFound, PayloadTooLarge
from service.runtime import Runtime

router = APIRouter(prefix="/epcis", tags=["epcis"])

EPCIS_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
ConstellationHeader = Annotated[
    str | None, Header(alias="Constellate-Constellation", description="Slug of the constellation the events belong to")
]
SignatureHeader = Annotated[
    str | None,
    Header(
        alias="Constellate-Signature",
        description="Self-custody: signature of the typed data from /epcis/capture/prepare",
    ),
]
SeedHeader = Annotated[
    str | None,
    Header(
        alias="Constellate-Capture-Seed",
        description="Self-custody: the seed /epcis/capture/prepare answered (the signed record roots are salted from it)",
    ),
]
ErrorBehaviourHeader = Annotated[str | None, Header(alias="GS1-Capture-Error-Behaviour")]


EPCIS_DOCUMENT: dict[str, Any] = {
    "required": True,
    "content": {
        media_type: {
            "schema": {
                "type": "object",
                "description": "An EPCISDocument (EPCIS 2.0 JSON / JSON-LD), validated against the standard's schema",
            }
        }
        for media_type in ("application/json", "application/ld+json")
    },
}
"""The body the capture routes read themselves (streamed, with a size limit), as OpenAPI states it."""


def _query_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


SIMPLE_EVENT_QUERY = [
    _query_parameter("eventType", {"type": "string"}, "Event types, separated by |"),
    *(
        _query_parameter(name, {"type": "string"}, "Values, separated by | (identifiers in URN or Digital Link form)")
        for name in sorted(set(querying.EQ_COLUMNS) - {"eventType"})
    ),
    *(
        _query_parameter(name, {"type": "string", "format": "date-time"}, "ISO 8601 date-time with offset")
        for name in querying.TIME_BOUNDS
    ),
    *(
        _query_parameter(name, {"type": "string"}, "Identifiers or EPC patterns (urn:epc:idpat:...), separated by |")
        for name in querying.MATCH_ROLES
    ),
    _query_parameter(
        "perPage",
        {"type": "integer", "minimum": 1, "maximum": querying.MAX_PER_PAGE},
        f"Events per page (default {querying.DEFAULT_PER_PAGE})",
    ),
    _query_parameter("nextPageToken", {"type": "string"}, "From the previous page's GS1-Next-Page-Token"),
    _query_parameter("orderBy", {"enum": sorted(querying.ORDER_COLUMNS)}, "Order by a time instead of the record"),
    _query_parameter("orderDirection", {"enum": ["ASC", "DESC"]}, "ASC, or DESC (the default with orderBy)"),
]
"""The SimpleEventQuery parameters the service supports (the route reads them itself: EPCIS
names its parameters by pattern), as OpenAPI states them."""


class CapturePrepared(TypedDataToSign):
    event_hashes: list[str]
    """The CBV 2.0 hash ID of each event, in document order."""
    seed: str
    """The capture's secret seed (0x and 32 bytes): send it back as Constellate-Capture-Seed with
    the signature. The record roots the signed capture root covers are salted from it."""
    capture_root: str
    """The Merkle root of the events' record leaves (docs/proof-format.md §4): what you sign."""
    record_leaves: list[str]
    """Each event's record leaf, in document order (its public reference once stored)."""


async def _document(request: Request, runtime: Runtime) -> Any:
    if (parsed := request.scope.get(PARSED_BODY)) is not None:
        return parsed[0]  # JSON: parsed once, strictly, by the outer middleware
    limit = runtime.settings.capture_max_bytes  # a declared length over it never gets here (body_bounds.py)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the document exceeds the limit of {limit} bytes")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedInput(f"the body is not JSON: {exc}") from None


def _slug(constellation: str | None) -> str:
    if not constellation:
        raise MalformedInput("say which constellation the events belong to: the Constellate-Constellation header")
    return constellation


def _job_document(job: CaptureJob) -> dict[str, Any]:
    def stamp(value: Any) -> str | None:
        return value.isoformat().replace("+00:00", "Z") if value is not None else None

    return {
        "captureID": job.id,
        "createdAt": stamp(job.created_at),
        "finishedAt": stamp(job.finished_at),
        "running": job.finished_at is None,
        "success": True,
        "captureErrorBehaviour": "rollback",
        "errors": [],
        "eventCount": job.event_count,
        "duplicates": job.duplicates,
        "signer": job.signer,
    }


@router.post(
    "/capture/prepare",
    response_model=CapturePrepared,
    summary="Typed data a self-custody member signs",
    responses=problems(400, 401, 403, 404, 413, 422, 503),
    openapi_extra={"requestBody": EPCIS_DOCUMENT},
)
async def prepare_capture(
    request: Request,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
    constellation: ConstellationHeader = None,
    seed: SeedHeader = None,
) -> CapturePrepared:
    principal.require("events")
    chosen = capturing.parse_seed(seed) if seed is not None else None  # or a fresh one
    document = await _document(request, runtime)

    def run() -> CapturePrepared:
        with runtime.sessions() as session:
            member = members.get_member(session=session, member_id=principal.member.id)
            prepared = capturing.prepare(
                session=session,
                chain=runtime.chain,
                signer=member,
                slug=_slug(constellation),
                document=document,
                max_events=runtime.settings.capture_max_events,
                seed=chosen,
            )
            return CapturePrepared(
                deadline=0,
                messages=[typed_data.to_json(prepared.typed)],
                event_hashes=[hash_id(h) for h in prepared.hashes],
                seed="0x" + prepared.seed.hex(),
                capture_root="0x" + prepared.tree.root.hex(),
                record_leaves=["0x" + leaf.hex() for leaf in prepared.leaves],
            )

    return await run_in_threadpool(run)


@router.post(
    "/capture",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Capture an EPCISDocument (accepted or rejected whole)",
    responses={
        202: {"description": "Captured; the Location header names the capture job"},
        **problems(400, 401, 403, 404, 409, 413, 422, 503),
    },
    openapi_extra={"requestBody": EPCIS_DOCUMENT},
)
async def capture_document(
    request: Request,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
    constellation: ConstellationHeader = None,
    signature: SignatureHeader = None,
    seed: SeedHeader = None,
    error_behaviour: ErrorBehaviourHeader = None,
) -> JSONResponse:
    principal.require("events")
    if error_behaviour not in (None, "rollback"):
        raise MalformedInput(
            f"GS1-Capture-Error-Behaviour {error_behaviour!r} is not offered: captures are all or nothing (rollback)"
        )
    document = await _document(request, runtime)
    parsed_seed = capturing.parse_seed(seed) if seed is not None else None
    job = await run_in_threadpool(_capture, runtime, principal, _slug(constellation), document, signature, parsed_seed)
    return JSONResponse(
        status_code=status.HTTP_202_ACCEPTED,
        content=job,
        headers={**EPCIS_HEADERS, "Location": f"/epcis/capture/{job['captureID']}"},
    )


def _capture(
    runtime: Runtime, principal: Principal, slug: str, document: Any, signature: str | None, seed: bytes | None
) -> dict[str, Any]:
    try:
        return _capture_once(runtime, principal, slug, document, signature, seed)
    except IntegrityError:
        raise Conflict(
            "a concurrent capture stored some of these events first; nothing of this one was stored — "
            "send it again (events already stored count as duplicates)"
        ) from None


def _capture_once(
    runtime: Runtime, principal: Principal, slug: str, document: Any, signature: str | None, seed: bytes | None
) -> dict[str, Any]:
    with runtime.sessions() as session, session.begin():
        member = members.get_member(session=session, member_id=principal.member.id)
        job = capturing.capture(
            session=session,
            chain=runtime.chain,
            vault=runtime.vault,
            member=member,
            slug=slug,
            document=document,
            signature=signature,
            max_events=runtime.settings.capture_max_events,
            seed=seed,
        )
        return _job_document(job)


@router.get("/capture", summary="The caller's capture jobs, newest first", responses=problems(401, 403, 503))
def list_capture_jobs(session: SessionDep, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    principal.require("events")
    jobs = session.scalars(
        select(CaptureJob)
        .where(CaptureJob.member_id == principal.member.id)
        .order_by(CaptureJob.created_at.desc())
        .limit(100)
    )
    return [_job_document(job) for job in jobs]


@router.get("/capture/{capture_id}", summary="A capture job", responses=problems(401, 403, 404, 503))
def read_capture_job(capture_id: str, session: SessionDep, principal: CurrentPrincipal) -> JSONResponse:
    principal.require("events")
    job = session.get(CaptureJob, capture_id)
    if job is None or (job.member_id != principal.member.id and "admin" not in principal.scopes):
        raise NotFound(f"no capture job {capture_id}")
    return JSONResponse(content=_job_document(job), headers=EPCIS_HEADERS)


class CaptureSignature(BaseModel):
    signature: str
    """The member's EIP-712 signature (0x and 65 bytes) of the message GET …/signature gave."""


def _own_job(session: Session, principal: Principal, capture_id: str) -> CaptureJob:
    job = session.get(CaptureJob, capture_id)
    if job is None or job.member_id != principal.member.id:
        raise NotFound(f"no capture job {capture_id} of yours")
    return job


@router.get(
    "/capture/{capture_id}/signature",
    response_model=TypedDataToSign,
    summary="The capture root to sign again, for a capture committed anew by the v2 proof format",
    responses=problems(401, 403, 404, 409, 503),
)
def capture_to_sign(
    capture_id: str, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> TypedDataToSign:
    principal.require("events")
    job = _own_job(session, principal, capture_id)
    typed = capturing.unsigned_capture_message(chain=runtime.chain, job=job)
    return TypedDataToSign(deadline=0, messages=[typed_data.to_json(typed)])


@router.put(
    "/capture/{capture_id}/signature",
    summary="Sign a migrated capture's root again (self-custody): its records' authorship verifies again",
    responses=problems(400, 401, 403, 404, 409, 422, 503),
)
def sign_capture_again(
    capture_id: str, body: CaptureSignature, runtime: RuntimeDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    principal.require("events")
    with runtime.sessions() as session, session.begin():
        job = _own_job(session, principal, capture_id)
        member = members.get_member(session=session, member_id=principal.member.id)
        capturing.sign_again(session=session, chain=runtime.chain, job=job, member=member, signature=body.signature)
        return {**_job_document(job), "signedBy": job.signed_by}


def _views(
    session: Session, runtime: Runtime, access: Access, rows: list[EpcisEvent], endpoint: str
) -> list[EventView]:
    return disclosure.render_events(session, access, rows, where=runtime.anchor_ref(), endpoint=endpoint)


@router.get(
    "/events",
    summary="SimpleEventQuery: an EPCISQueryDocument of what you may see",
    responses=problems(400, 401, 403, 503),
    openapi_extra={**OPTIONAL_KEY, "parameters": SIMPLE_EVENT_QUERY},
)
def query_events(request: Request, session: SessionDep, runtime: RuntimeDep, access: ReaderAccess) -> JSONResponse:
    page = querying.query(session=session, access=access, params=dict(request.query_params))
    views = _views(session, runtime, access, page.events, "epcis.query")
    headers = dict(EPCIS_HEADERS)
    if page.next_token is not None:
        following = request.url.include_query_params(nextPageToken=page.next_token)
        headers["Link"] = f'<{following}>; rel="next"'
        headers["GS1-Next-Page-Token"] = page.next_token
    return JSONResponse(content=querying.query_document(views), headers=headers)


def _find(session: Session, runtime: Runtime, access: Access, event_id: str, endpoint: str) -> EventView:
    """One event by its reference (0x + leaf), hash ID or eventID, as the reader may see it."""
    rows = querying.find_candidates(session=session, access=access, event_id=event_id)
    views = disclosure.render_events(session, access, rows, where=runtime.anchor_ref(), endpoint=endpoint, log=False)
    for view in views:
        if querying.lookup_matches(event_id, view):
            access.log(session, endpoint=endpoint, decisions=[view.decision])  # only the record returned
            return view
    raise NotFound(f"no event {event_id} that you may see")


@router.get(
    "/events/{event_id:path}",
    summary="One event, by reference, eventID or hash ID",
    responses=problems(400, 401, 403, 404, 503),
    openapi_extra=OPTIONAL_KEY,
)
def read_event(event_id: str, session: SessionDep, runtime: RuntimeDep, access: ReaderAccess) -> JSONResponse:
    view = _find(session, runtime, access, event_id, "epcis.event")
    return JSONResponse(content=view.document, headers=EPCIS_HEADERS)


verify_router = APIRouter(prefix="/verify", tags=["verification"])


def _verdict(
    session: Session,
    runtime: Runtime,
    view: EventView,
    chain: Chain | None,
    pinned: tuple[TrustPins | None, ChainProofReader | None] | None = None,
) -> dict[str, Any]:
    """A full reader gets every check, the service's own included (hash, signature, role); a
    redacted view is checked as its reader would check it, with only the chain (`pinned`: the
    pins and reader to share between views, else new ones)."""
    ref = view.document[RECORD_KEY]["ref"]
    if view.full:
        verdict = verification.verify_event(session=session, chain=chain, row=view.row)
        return {
            "ref": ref,
            "eventID": verdict.event_id,
            "hashID": verdict.hash_id,
            "status": verdict.status,
            "verified": verdict.verified,
            "disclosure": "full",
            "withheld": [],
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in verdict.checks],
            "anchor": verdict.anchor,
        }
    pins, reader = pinned or _pinned_reader(runtime, chain)
    return proofs.verify_event_view(view.document, reader, pins=pins).as_json()


def _pinned_reader(runtime: Runtime, chain: Chain | None) -> tuple[TrustPins | None, ChainProofReader | None]:
    """This service's own pins (its deployment manifest and anchoring account) and a reader of
    its chain pinned to them (None while the chain is unreachable)."""
    try:
        pins = TrustPins.from_json(runtime.trust())
    except ValueError:  # no deployment manifest, or no anchoring account: nothing to pin
        return None, None
    if chain is None:
        return pins, None
    return pins, ChainProofReader(endpoint(chain.w3), pins, timeout=runtime.settings.rpc_timeout_seconds)


@verify_router.get(
    "/events/{event_id:path}",
    summary="Verify one event as you may see it: every check named",
    responses=problems(400, 401, 403, 404, 503),
    openapi_extra=OPTIONAL_KEY,
)
def verify_event(event_id: str, session: SessionDep, runtime: RuntimeDep, access: ReaderAccess) -> dict[str, Any]:
    view = _find(session, runtime, access, event_id, "verify.event")
    return _verdict(session, runtime, view, runtime.reachable_chain())


@verify_router.get("/trust", summary="What a verifier pins: the chain, the four contracts and the anchoring account")
def verify_trust(runtime: RuntimeDep) -> dict[str, Any]:
    pins = runtime.trust()
    options = " ".join(
        f"{option} {pins[name] if pins[name] is not None else name.upper()}"
        for option, name in (
            ("--chain-id", "chainId"),
            ("--contract", "provenanceAnchor"),
            ("--registry", "constellationRegistry"),
            ("--attestation-registry", "attestationRegistry"),
            ("--anchorer", "anchorer"),
        )
    )
    return {
        **pins,
        "command": f"constellate verify record VIEW.json --rpc-url RPC_URL {options}",
        "commands": {
            "record": f"constellate verify record VIEW.json --rpc-url RPC_URL {options}",
            "journey": f"constellate verify journey JOURNEY_URL --rpc-url RPC_URL {options}",
            "credential": "constellate verify credential CREDENTIAL.json --rpc-url RPC_URL "
            f"--attestation-registry {pins['attestationRegistry'] or 'ATTESTATIONREGISTRY'}",
        },
    }


@verify_router.post(
    "/record",
    summary="Verify a record view (full or redacted) against the chain: no account needed",
    responses=problems(413, 503, described={400: "Not a record view (what is wrong named)"}),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "description": "A record view"}}},
        }
    },
)
async def verify_record(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    view = await _document(request, runtime)

    def run() -> dict[str, Any]:
        pins, reader = _pinned_reader(runtime, runtime.reachable_chain())
        try:
            return proofs.verify_event_view(view, reader, pins=pins).as_json()
        except proofs.MalformedView as exc:
            raise MalformedInput(str(exc)) from None

    return await run_in_threadpool(run)


@verify_router.post(
    "/journey",
    summary="Verify a journey (GET /01/… as JSON) against the chain and this service's pins: no account needed",
    responses=problems(413, 503, described={400: "Not a journey (what is wrong named)"}),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object", "description": "A journey as its page's JSON"}}
            },
        }
    },
)
async def verify_journey(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    document = await _document(request, runtime)

    def run() -> dict[str, Any]:
        pins, reader = _pinned_reader(runtime, runtime.reachable_chain())
        if pins is None:
            raise ChainUnavailable("this service has no deployment to pin: nothing to verify a journey against")
        return journey_proofs.verify_journey(document, reader, pins).as_json()  # MalformedJourney: 400

    return await run_in_threadpool(run)


trace_router = APIRouter(prefix="/trace", tags=["provenance"])
MaxDepth = Annotated[int, Query(ge=1, le=100, description="Most steps from the start")]
TimeBound = Annotated[str | None, Query(description="ISO 8601 date-time with offset")]


def _bound(name: str, raw: str | None) -> datetime | None:
    return querying.parse_time(name, raw) if raw is not None else None


@dataclass
class TraceParams:
    """Where a trace starts and how far it goes."""

    id: Annotated[str, Query(description="The item or lot (URN or GS1 Digital Link)")] = ""
    max_depth: MaxDepth = 25
    since: TimeBound = None
    until: TimeBound = None


TraceQuery = Annotated[TraceParams, Depends()]


def _trace(session: Session, access: Access, params: TraceParams, direction: str, endpoint: str) -> provenance.Trace:
    if not params.id:
        raise MalformedInput("id names the item or lot to trace (URN or GS1 Digital Link)")
    return provenance.trace(
        session=session,
        start=params.id,
        direction=direction,  # type: ignore[arg-type]
        access=access,
        endpoint=endpoint,
        max_depth=params.max_depth,
        since=_bound("since", params.since),
        until=_bound("until", params.until),
    )


def _trace_json(result: provenance.Trace) -> dict[str, Any]:
    return {
        "start": result.start,
        "direction": result.direction,
        "truncated": result.truncated,
        "nodes": [{"id": node, "depth": depth} for node, depth in result.nodes.items()],
        "edges": [
            {"from": e.source, "to": e.target, "relation": e.relation, "record": e.ref, "fields": list(e.fields)}
            for e in result.edges
        ],
        "leaves": result.leaves,
    }


@trace_router.get(
    "/upstream",
    summary="Back to every origin of an item or lot",
    responses=problems(400, 401, 403, 422, 503),
    openapi_extra=OPTIONAL_KEY,
)
def trace_upstream(session: SessionDep, access: ReaderAccess, params: TraceQuery) -> dict[str, Any]:
    result = _trace(session, access, params, "upstream", "trace.upstream")
    return {**_trace_json(result), "origins": [node for node in result.leaves if node != result.start]}


def _step(view: EventView) -> dict[str, Any]:
    """One event of a custody chain or sighting: what the reader may see of it, by name."""
    event = view.document
    block = event[RECORD_KEY]
    destinations = [d.get("destination") for d in event.get("destinationList") or ()]
    shipping = epcis_policy.biz_step_term(event.get("bizStep")) in ("shipping", "departing")
    return {
        "record": block["ref"],
        "eventType": event["type"],
        "eventTime": event.get("eventTime"),
        "bizStep": epcis_policy.biz_step_term(event.get("bizStep")),
        "disposition": epcis_policy.disposition_term(event.get("disposition")),
        "bizLocation": (event.get("bizLocation") or {}).get("id"),
        "readPoint": (event.get("readPoint") or {}).get("id"),
        "recordedBy": block["owner"]["name"],
        "custodian": destinations[0] if destinations and shipping else block["owner"]["name"],
        "source": event.get("sourceList"),
        "destination": event.get("destinationList"),
        "withheld": block["withheld"],
    }


@trace_router.get(
    "/downstream",
    summary="Recall: everything made from or packed with an input",
    responses=problems(400, 401, 403, 422, 503),
    openapi_extra=OPTIONAL_KEY,
)
def trace_downstream(
    session: SessionDep, runtime: RuntimeDep, access: ReaderAccess, params: TraceQuery
) -> dict[str, Any]:
    return recall_report(session, runtime, access, params, "trace.downstream")


def recall_report(
    session: Session, runtime: Runtime, access: Access, params: TraceParams, endpoint: str
) -> dict[str, Any]:
    """Everything made from or packed with an input that the reader may see, each with its last
    known custodian and location (the recall report of the API and of the brand's page)."""
    result = _trace(session, access, params, "downstream", endpoint)
    reached = [node for node in result.nodes if node != result.start]
    sightings = provenance.last_sightings(session=session, identifiers=reached, access=access)
    rows = list({row.id: row for row in sightings.values()}.values())
    views = {v.document[RECORD_KEY]["ref"]: v for v in _views(session, runtime, access, rows, endpoint)}

    def last_known(node: str) -> dict[str, Any] | None:
        seen = sightings.get(node)
        view = views.get(seen.leaf) if seen is not None else None
        return _step(view) if view is not None else None

    return {
        **_trace_json(result),
        "affected": [{"id": node, "depth": result.nodes[node], "lastKnown": last_known(node)} for node in reached],
    }


def _custody(session: Session, runtime: Runtime, access: Access, identifier: str, endpoint: str) -> list[EventView]:
    rows = provenance.custody_chain(session=session, identifier=identifier, access=access)
    views = _views(session, runtime, access, rows, endpoint)
    dated = sorted(
        (v for v in views if "eventTime" in v.document),
        key=lambda v: querying.parse_time("eventTime", v.document["eventTime"]),
    )
    undated = [v for v in views if "eventTime" not in v.document]  # in reference order: nothing to rank them by
    return dated + undated


@trace_router.get(
    "/custody",
    summary="Who held an item, where, in time order",
    responses=problems(400, 401, 403, 503),
    openapi_extra=OPTIONAL_KEY,
)
def trace_custody(session: SessionDep, runtime: RuntimeDep, access: ReaderAccess, id: str = "") -> dict[str, Any]:
    if not id:
        raise MalformedInput("id names the item to follow (URN or GS1 Digital Link)")
    return {
        "id": canonical_id(id),
        "steps": [_step(v) for v in _custody(session, runtime, access, id, "trace.custody")],
    }


@verify_router.get(
    "/trace",
    summary="Verify every event of a trace you may see",
    responses=problems(400, 401, 403, 404, 422, 503),
    openapi_extra=OPTIONAL_KEY,
)
def verify_trace(
    session: SessionDep,
    runtime: RuntimeDep,
    access: ReaderAccess,
    params: TraceQuery,
    direction: Annotated[str, Query(pattern="^(upstream|downstream)$")] = "upstream",
) -> dict[str, Any]:
    result = _trace(session, access, params, direction, "verify.trace")
    linking = (
        session.scalars(select(EpcisEvent).where(EpcisEvent.id.in_(result.record_ids))).all()
        if result.record_ids
        else []
    )
    views = {v.document[RECORD_KEY]["ref"]: v for v in _views(session, runtime, access, list(linking), "verify.trace")}
    for node in result.nodes:
        views.update(
            {v.document[RECORD_KEY]["ref"]: v for v in _custody(session, runtime, access, node, "verify.trace")}
        )
    if not views:
        raise NotFound(f"no events you may read trace {direction} from {result.start}")
    chain = runtime.reachable_chain()
    pinned = _pinned_reader(runtime, chain)
    redacted = [v.document for v in views.values() if not v.full]
    if pinned[1] is not None and redacted:  # every redacted view's root and signer read in one go
        with contextlib.suppress(ChainUnavailable):  # each verdict says what it could not read
            proofs.prefetch_views(pinned[1], redacted)
    verdicts = [_verdict(session, runtime, view, chain, pinned) for view in views.values()]
    statuses = [v["status"] for v in verdicts]
    return {
        "start": result.start,
        "direction": result.direction,
        "events": len(verdicts),
        "verified": statuses.count("verified"),
        "pending": statuses.count("pending"),
        "failed": statuses.count("failed"),
        "unavailable": statuses.count("unavailable"),
        "status": next((s for s in ("failed", "unavailable", "pending") if s in statuses), "verified"),
        "verdicts": [
            {
                "ref": v["ref"],
                "hashID": v.get("hashID"),
                "status": v["status"],
                "disclosure": v["disclosure"],
                "failed": [c["name"] for c in v["checks"] if c["ok"] is False],
            }
            for v in verdicts
        ],
    }
