"""The API's own description as pages: Swagger UI at /docs and ReDoc at /redoc, their scripts and
styles served by the service itself from a pinned package (fastapi-offline ships Swagger UI's and
ReDoc's bundles), so both work on a closed network: no CDN, no web font, no favicon fetched."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

from service.errors import NotFound

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSET_NAMES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"})
"""The files the two pages load: nothing else of the package's folder is served."""
ASSET_PATH = "/docs/assets"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
CACHE = {"Cache-Control": "public, max-age=86400"}
CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
"""The pages load nothing from elsewhere, even what the bundles name (ReDoc's footer logo is on a
CDN): a browser refuses it before asking the network. Their one inline script is the bundles'
set-up; the only data they show is this service's own OpenAPI document."""
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}

router = APIRouter(include_in_schema=False)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _hardened(response: HTMLResponse) -> HTMLResponse:
    response.headers.update(HEADERS)
    return response


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    return _hardened(
        get_swagger_ui_html(
            openapi_url=f"{root}{request.app.openapi_url}",
            title=f"{request.app.title} API",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
            swagger_js_url=f"{root}{ASSET_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSET_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSET_PATH}/favicon.png",
            swagger_ui_parameters=request.app.swagger_ui_parameters,
        )
    )


@router.get(OAUTH2_REDIRECT)
def swagger_ui_redirect() -> HTMLResponse:
    return _hardened(get_swagger_ui_oauth2_redirect_html())


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    return _hardened(
        get_redoc_html(
            openapi_url=f"{root}{request.app.openapi_url}",
            title=f"{request.app.title} API",
            redoc_js_url=f"{root}{ASSET_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSET_PATH}/favicon.png",
            with_google_fonts=False,
        )
    )


@router.get(ASSET_PATH + "/{name}")
def asset(name: Annotated[str, PathParam(max_length=40)]) -> FileResponse:
    if name not in ASSET_NAMES:
        raise NotFound(f"no documentation asset {name!r}")
    return FileResponse(ASSETS / name, headers=CACHE)
