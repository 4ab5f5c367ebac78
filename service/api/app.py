"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from service import __version__
from service.api import constellations, health, members
from service.api.errors import install_error_handlers
from service.runtime import Runtime
from service.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app bound to `settings` (the environment's by default)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Constellate",
        version=__version__,
        summary="Blockchain-backed data sharing and traceability for constellations of value.",
    )
    runtime = Runtime(settings)
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.engine = runtime.engine
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(members.router)
    app.include_router(constellations.router)
    return app
