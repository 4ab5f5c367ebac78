"""HTTP API: thin FastAPI routers over the domain."""

from service.api.app import create_app

__all__ = ["create_app"]
