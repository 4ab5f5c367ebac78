"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from service import __version__
from service.api import attestations, auth, constellations, epcis, grants, health, members, products
from service.api.errors import install_error_handlers, problem_response
from service.errors import PayloadTooLarge
from service.runtime import Runtime
from service.settings import Settings, get_settings
from service.web import pages


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app bound to `settings` (the environment's by default)."""
    settings = settings or get_settings()
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime.start_relayer()
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Constellate",
        version=__version__,
        summary="Blockchain-backed data sharing and traceability for constellations of value.",
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.engine = runtime.engine
    install_error_handlers(app, html=pages.error_page)

    @app.middleware("http")
    async def refuse_oversized_bodies(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """A declared body beyond the largest accepted document is refused before it is read."""
        declared = request.headers.get("content-length", "")
        limit = runtime.settings.capture_max_bytes
        if declared.isdigit() and int(declared) > limit:
            return problem_response(PayloadTooLarge(f"the request body is {declared} bytes; the limit is {limit}"))
        return await call_next(request)

    app.include_router(health.router)
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
    pages.install(app)
    return app
