"""The coordinator's health views of a constellation as JSON (and the map as SVG): the map of
partners, goods flows and sharing, the chain's metrics, each partner's scorecard and the
members' commitments. Only a member coordinating the constellation now (or the operator) reads
them, and each shows it only what the policy engine lets it see (service/domain/health.py); each
read is logged for the owners of the records it drew on."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from service.api.deps import ReaderAccess, SessionDep
from service.api.schemas import problems
from service.domain import health

router = APIRouter(prefix="/constellations", tags=["coordination"])

COORDINATORS_ONLY = problems(400, 401, 403, 404, 503)
"""401 without an API key, 403 unless the caller coordinates the constellation, 404 for an unknown one."""


@router.get("/{slug}/map", summary="Partners, goods flows and sharing (coordinators)", responses=COORDINATORS_ONLY)
def read_map(slug: str, session: SessionDep, access: ReaderAccess) -> dict[str, Any]:
    return dict(health.read_view(session=session, access=access, slug=slug, view="map"))


@router.get(
    "/{slug}/map.svg",
    summary="The map as an accessible SVG image (coordinators)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, **COORDINATORS_ONLY},
)
def read_map_svg(slug: str, session: SessionDep, access: ReaderAccess) -> Response:
    mapped = health.read_view(session=session, access=access, slug=slug, view="map")
    return Response(content=health.map_svg(mapped), media_type="image/svg+xml")


@router.get("/{slug}/metrics", summary="The chain's health, week by week (coordinators)", responses=COORDINATORS_ONLY)
def read_metrics(
    slug: str,
    session: SessionDep,
    access: ReaderAccess,
    weeks: Annotated[int, Query(ge=1, le=104, description="How many ISO weeks of events, up to this one")] = 12,
) -> dict[str, Any]:
    return dict(health.read_view(session=session, access=access, slug=slug, view="metrics", weeks=weeks))


@router.get(
    "/{slug}/scorecards", summary="Each partner's scorecard, weakest first (coordinators)", responses=COORDINATORS_ONLY
)
def read_scorecards(slug: str, session: SessionDep, access: ReaderAccess) -> list[dict[str, Any]]:
    return list(health.read_view(session=session, access=access, slug=slug, view="scorecards"))


@router.get(
    "/{slug}/commitments", summary="Members' pledges and their progress (coordinators)", responses=COORDINATORS_ONLY
)
def read_commitments(slug: str, session: SessionDep, access: ReaderAccess) -> list[dict[str, Any]]:
    return list(health.read_view(session=session, access=access, slug=slug, view="commitments"))
