"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from service import __version__
from service.api import health
from service.api.errors import install_error_handlers
from service.db.session import make_engine, make_session_factory
from service.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app bound to `settings` (the environment's by default)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Constellate",
        version=__version__,
        summary="Blockchain-backed data sharing and traceability for constellations of value.",
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.sessions = make_session_factory(app.state.engine)
    install_error_handlers(app)
    app.include_router(health.router)
    return app
