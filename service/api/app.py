"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client.exposition import choose_encoder
from starlette.types import ASGIApp

from service import __version__
from service.api import (
    attestations,
    auth,
    constellations,
    coordination,
    docs,
    epcis,
    grants,
    health,
    members,
    places,
    products,
)
from service.api.body_bounds import BodyLimit, JsonDepthLimit
from service.api.errors import install_error_handlers
from service.api.schemas import Problem, problems
from service.observability import RequestTelemetry, configure_logging, metrics_registry
from service.runtime import Runtime
from service.settings import Settings, get_settings
from service.web import pages

FASTAPI_422 = "#/components/schemas/HTTPValidationError"


class ConstellateApp(FastAPI):
    """FastAPI with RequestTelemetry outside everything, the error middleware included: every
    answer — a resolver page, a 413, a 500 — carries its request id and is timed and logged."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestTelemetry(super().build_middleware_stack(), access_log=self.state.settings.access_log)

    def openapi(self) -> dict[str, Any]:
        """FastAPI's schema, with every error answer a Problem: the 422 FastAPI declares for a
        route with parameters is the service's own (errors.py answers it), and the Problem body
        the routes refer to is defined (FastAPI collects only models it renders as JSON)."""
        if self.openapi_schema is not None:
            return self.openapi_schema
        schema = super().openapi()  # kept as self.openapi_schema: changed in place once
        invalid = problems(422)[422]
        body_refusals = problems(400, 413)  # JsonDepthLimit and BodyLimit, before any route
        for item in schema["paths"].values():
            for operation in item.values():
                if "requestBody" in operation:
                    for status, answer in body_refusals.items():
                        operation.setdefault("responses", {}).setdefault(str(status), answer)
                declared = operation.get("responses", {}).get("422", {}).get("content", {})
                if declared.get("application/json", {}).get("schema") == {"$ref": FASTAPI_422}:
                    operation["responses"]["422"] = invalid
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        components["Problem"] = Problem.model_json_schema()
        return schema


def metrics(request: Request) -> Response:
    """Prometheus metrics: aggregate numbers only (no identifiers, no member or constellation)."""
    encode, media_type = choose_encoder(request.headers.get("accept", ""))  # OpenMetrics if asked for
    return Response(encode(request.app.state.metrics), media_type=media_type)


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app bound to `settings` (the environment's by default). Logging is the caller's to
    configure (`create_served_app` does, for `constellate serve`)."""
    settings = settings or get_settings()
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime.start_relayer()
        try:
            yield
        finally:
            runtime.close()

    app = ConstellateApp(
        lifespan=lifespan,
        docs_url=None,  # served by service/api/docs.py from a pinned package: no CDN
        redoc_url=None,
        title="Constellate",
        version=__version__,
        summary="Blockchain-backed data sharing and traceability for constellations of value.",
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.engine = runtime.engine
    install_error_handlers(app, html=pages.error_page)

    app.add_middleware(JsonDepthLimit, settings=lambda: runtime.settings)
    app.add_middleware(BodyLimit, settings=lambda: runtime.settings)  # outside: before reading

    pages.install(app)  # first: the resolver is the hot path, matched before every other route
    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(members.router)
    app.include_router(auth.router)
    app.include_router(constellations.router)
    app.include_router(attestations.schemas_router)
    app.include_router(attestations.router)
    app.include_router(attestations.evidence_router)
    app.include_router(epcis.router)
    app.include_router(epcis.verify_router)
    app.include_router(epcis.trace_router)
    app.include_router(grants.router)
    app.include_router(grants.log_router)
    app.include_router(products.router)
    app.include_router(places.router)
    app.include_router(coordination.router)
    app.include_router(pages.router)
    if settings.metrics_enabled:
        app.state.metrics = metrics_registry(runtime.engine)
        app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    return app


def create_served_app() -> FastAPI:
    """The app each `constellate serve --workers N` process starts: logging configured from the
    environment's settings first."""
    settings = get_settings()
    configure_logging(settings)
    return create_app(settings)
