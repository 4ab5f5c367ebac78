"""The EPCIS 2.0 REST binding (JSON / JSON-LD): capture and capture jobs, events and the
SimpleEventQuery. Constellate's own headers say which constellation a capture belongs to and
carry a self-custody member's signature; the documents themselves stay standard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service.api.deps import CurrentPrincipal, RuntimeDep, SessionDep
from service.api.schemas import TypedDataToSign
from service.chain import typed_data
from service.db.models import CaptureJob, EpcisEvent, Member
from service.domain import members, provenance, verification
from service.domain.members import Principal
from service.epcis import capture as capturing
from service.epcis import query as querying
from service.epcis.event_hash import hash_id
from service.epcis.identifiers import canonical_id
from service.errors import Conflict, MalformedInput, NotFound, PayloadTooLarge
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
ErrorBehaviourHeader = Annotated[str | None, Header(alias="GS1-Capture-Error-Behaviour")]


class CapturePrepared(TypedDataToSign):
    event_hashes: list[str]
    """The CBV 2.0 hash ID of each event, in document order."""


async def _document(request: Request, runtime: Runtime) -> Any:
    limit = runtime.settings.capture_max_bytes  # a declared length over it never gets here (app.py)
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


@router.post("/capture/prepare", response_model=CapturePrepared, summary="Typed data a self-custody member signs")
async def prepare_capture(
    request: Request, runtime: RuntimeDep, principal: CurrentPrincipal, constellation: ConstellationHeader = None
) -> CapturePrepared:
    principal.require("events")
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
            )
            return CapturePrepared(
                deadline=0,
                messages=[typed_data.to_json(prepared.typed)],
                event_hashes=[hash_id(h) for h in prepared.hashes],
            )

    return await run_in_threadpool(run)


@router.post(
    "/capture",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Capture an EPCISDocument (accepted or rejected whole)",
    responses={202: {"description": "Captured; the Location header names the capture job"}},
)
async def capture_document(
    request: Request,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
    constellation: ConstellationHeader = None,
    signature: SignatureHeader = None,
    error_behaviour: ErrorBehaviourHeader = None,
) -> JSONResponse:
    principal.require("events")
    if error_behaviour not in (None, "rollback"):
        raise MalformedInput(
            f"GS1-Capture-Error-Behaviour {error_behaviour!r} is not offered: captures are all or nothing (rollback)"
        )
    document = await _document(request, runtime)
    job = await run_in_threadpool(_capture, runtime, principal, _slug(constellation), document, signature)
    return JSONResponse(
        status_code=status.HTTP_202_ACCEPTED,
        content=job,
        headers={**EPCIS_HEADERS, "Location": f"/epcis/capture/{job['captureID']}"},
    )


def _capture(runtime: Runtime, principal: Principal, slug: str, document: Any, signature: str | None) -> dict[str, Any]:
    try:
        return _capture_once(runtime, principal, slug, document, signature)
    except IntegrityError:
        raise Conflict(
            "a concurrent capture stored some of these events first; nothing of this one was stored — "
            "send it again (events already stored count as duplicates)"
        ) from None


def _capture_once(
    runtime: Runtime, principal: Principal, slug: str, document: Any, signature: str | None
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
        )
        return _job_document(job)


@router.get("/capture", summary="The caller's capture jobs, newest first")
def list_capture_jobs(session: SessionDep, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    principal.require("events")
    jobs = session.scalars(
        select(CaptureJob)
        .where(CaptureJob.member_id == principal.member.id)
        .order_by(CaptureJob.created_at.desc())
        .limit(100)
    )
    return [_job_document(job) for job in jobs]


@router.get("/capture/{capture_id}", summary="A capture job")
def read_capture_job(capture_id: str, session: SessionDep, principal: CurrentPrincipal) -> JSONResponse:
    principal.require("events")
    job = session.get(CaptureJob, capture_id)
    if job is None or (job.member_id != principal.member.id and "admin" not in principal.scopes):
        raise NotFound(f"no capture job {capture_id}")
    return JSONResponse(content=_job_document(job), headers=EPCIS_HEADERS)


def _reader(principal: Principal) -> Any:
    return None if "admin" in principal.scopes else principal.member


@router.get("/events", summary="SimpleEventQuery: an EPCISQueryDocument")
def query_events(request: Request, session: SessionDep, principal: CurrentPrincipal) -> JSONResponse:
    principal.require("read")
    page = querying.query(session=session, reader=_reader(principal), params=dict(request.query_params))
    headers = dict(EPCIS_HEADERS)
    if page.next_token is not None:
        following = request.url.include_query_params(nextPageToken=page.next_token)
        headers["Link"] = f'<{following}>; rel="next"'
        headers["GS1-Next-Page-Token"] = page.next_token
    return JSONResponse(content=querying.query_document(page.events), headers=headers)


@router.get("/events/{event_id:path}", summary="One event, by eventID or hash ID")
def read_event(event_id: str, session: SessionDep, principal: CurrentPrincipal) -> JSONResponse:
    principal.require("read")
    row = querying.find_event(session=session, reader=_reader(principal), event_id=event_id)
    return JSONResponse(content=querying.event_json(row), headers=EPCIS_HEADERS)


verify_router = APIRouter(prefix="/verify", tags=["verification"])


@verify_router.get("/events/{event_id:path}", summary="Verify one event: every check named")
def verify_event(
    event_id: str, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    principal.require("read")
    row = querying.find_event(session=session, reader=_reader(principal), event_id=event_id)
    verdict = verification.verify_event(session=session, chain=runtime.reachable_chain(), row=row)
    return {
        "eventID": verdict.event_id,
        "hashID": verdict.hash_id,
        "status": verdict.status,
        "verified": verdict.verified,
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in verdict.checks],
        "anchor": verdict.anchor,
    }


trace_router = APIRouter(prefix="/trace", tags=["provenance"])
MaxDepth = Annotated[int, Query(ge=1, le=100, description="Most steps from the start")]
TimeBound = Annotated[str | None, Query(description="ISO 8601 date-time with offset")]


def _visible(session: Session, principal: Principal) -> list[str] | None:
    if "admin" in principal.scopes:
        return None
    return querying.readable_constellations(session=session, member=principal.member)


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


def _trace(session: Session, principal: Principal, params: TraceParams, direction: str) -> provenance.Trace:
    principal.require("read")
    if not params.id:
        raise MalformedInput("id names the item or lot to trace (URN or GS1 Digital Link)")
    return provenance.trace(
        session=session,
        start=params.id,
        direction=direction,  # type: ignore[arg-type]
        visible=_visible(session, principal),
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
            {"from": e.source, "to": e.target, "relation": e.relation, "eventHashID": hash_id(e.event_hash)}
            for e in result.edges
        ],
        "leaves": result.leaves,
    }


@trace_router.get("/upstream", summary="Back to every origin of an item or lot")
def trace_upstream(session: SessionDep, principal: CurrentPrincipal, params: TraceQuery) -> dict[str, Any]:
    result = _trace(session, principal, params, "upstream")
    return {**_trace_json(result), "origins": [node for node in result.leaves if node != result.start]}


@trace_router.get("/downstream", summary="Recall: everything made from or packed with an input")
def trace_downstream(session: SessionDep, principal: CurrentPrincipal, params: TraceQuery) -> dict[str, Any]:
    result = _trace(session, principal, params, "downstream")
    reached = [node for node in result.nodes if node != result.start]
    sightings = provenance.last_sightings(session=session, identifiers=reached, visible=_visible(session, principal))

    def last_known(node: str) -> dict[str, Any] | None:
        seen = sightings.get(node)
        if seen is None:
            return None
        return {
            "eventHashID": hash_id(seen.event_hash),
            "eventTime": seen.event_time.isoformat(),
            "bizStep": seen.biz_step,
            "disposition": seen.disposition,
            "bizLocation": seen.biz_location,
            "readPoint": seen.read_point,
            "custodian": seen.custodian,
        }

    return {
        **_trace_json(result),
        "affected": [{"id": node, "depth": result.nodes[node], "lastKnown": last_known(node)} for node in reached],
    }


@trace_router.get("/custody", summary="Who held an item, where, in time order")
def trace_custody(session: SessionDep, principal: CurrentPrincipal, id: str = "") -> dict[str, Any]:
    principal.require("read")
    if not id:
        raise MalformedInput("id names the item to follow (URN or GS1 Digital Link)")
    events = provenance.custody_chain(session=session, identifier=id, visible=_visible(session, principal))
    owners = {m.id: m.name for m in session.scalars(select(Member).where(Member.id.in_({e.owner_id for e in events})))}
    return {
        "id": canonical_id(id),
        "steps": [
            {
                "eventHashID": hash_id(e.event_hash),
                "eventType": e.event_type,
                "eventTime": e.event_time.isoformat(),
                "bizStep": e.biz_step,
                "disposition": e.disposition,
                "bizLocation": e.biz_location,
                "readPoint": e.read_point,
                "recordedBy": owners.get(e.owner_id),
                "source": e.payload.get("sourceList"),
                "destination": e.payload.get("destinationList"),
            }
            for e in events
        ],
    }


@verify_router.get("/trace", summary="Verify every event of a trace")
def verify_trace(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
    params: TraceQuery,
    direction: Annotated[str, Query(pattern="^(upstream|downstream)$")] = "upstream",
) -> dict[str, Any]:
    result = _trace(session, principal, params, direction)
    visible = _visible(session, principal)
    records = dict.fromkeys(result.record_ids)  # the events linking the nodes, then each node's own events
    for node in result.nodes:
        records.update(
            dict.fromkeys(e.id for e in provenance.custody_chain(session=session, identifier=node, visible=visible))
        )
    if not records:
        raise NotFound(f"no events you may read trace {direction} from {result.start}")
    chain = runtime.reachable_chain()
    verdicts = []
    for record in records:
        row = session.get(EpcisEvent, record)
        assert row is not None
        verdict = verification.verify_event(session=session, chain=chain, row=row)
        verdicts.append(
            {
                "hashID": verdict.hash_id,
                "status": verdict.status,
                "failed": [c.name for c in verdict.checks if not c.ok],
            }
        )
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
        "verdicts": verdicts,
    }
