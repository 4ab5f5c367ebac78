"""Liveness and readiness: /ready names each dependency that is not ready."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from service.domain.readiness import ReadinessCheck, check_readiness

router = APIRouter(tags=["operations"])


class HealthPublic(BaseModel):
    status: Literal["ok"]


class ReadinessPublic(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: list[ReadinessCheck]


@router.get("/health", response_model=HealthPublic, summary="The process is alive")
def health() -> HealthPublic:
    return HealthPublic(status="ok")


@router.get(
    "/ready",
    response_model=ReadinessPublic,
    responses={503: {"model": ReadinessPublic, "description": "A dependency is not ready"}},
    summary="Database migrated and reachable, chain reachable, deployment manifest matches the chain",
)
def ready(request: Request, response: Response) -> ReadinessPublic:
    checks = check_readiness(request.app.state.settings, request.app.state.engine)
    ok = all(check.ok for check in checks)
    if not ok:
        response.status_code = 503
    return ReadinessPublic(status="ok" if ok else "unavailable", checks=checks)
