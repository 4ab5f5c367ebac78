"""The pages' two script modules, from this origin: the JavaScript verifier that the journey
page's "check it on this phone" loads on demand, and the small module that offers that check
(verifiers/js/, bundled by esbuild into build/web/ by scripts/bootstrap: nothing generated is
committed). A versioned URL (?v=<digest of the file>) is cached for a year; any other for no time,
so a rebuilt bundle is never served stale."""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.errors import NotFound
from service.settings import PROJECT_ROOT

BUNDLE_DIR = PROJECT_ROOT / "build" / "web"
MODULES = ("verifier.js", "phone-check.js")
"""The only files served: each a bundle verifiers/js/build.mjs writes."""
MEDIA_TYPE = "text/javascript; charset=utf-8"
IMMUTABLE = "public, max-age=31536000, immutable"

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class _Bundle:
    stamp: tuple[int, int]
    digest: str
    plain: bytes
    gzipped: bytes


_bundles: dict[str, _Bundle] = {}
_lock = threading.Lock()


def _bundle(name: str, folder: Path = BUNDLE_DIR) -> _Bundle | None:
    """The file as built, read (and compressed) once per change of its size or time."""
    path = folder / name
    try:
        status = path.stat()
    except OSError:
        return None
    stamp = (status.st_mtime_ns, status.st_size)
    with _lock:
        found = _bundles.get(name)
        if found is not None and found.stamp == stamp:
            return found
    plain = path.read_bytes()
    found = _Bundle(stamp, hashlib.sha256(plain).hexdigest()[:16], plain, gzip.compress(plain, 9))
    with _lock:
        _bundles[name] = found
    return found


def url(name: str) -> str | None:
    """The versioned URL of a module, or None while it is not built (the page then offers no check)."""
    found = _bundle(name) if name in MODULES else None
    return f"/static/{name}?v={found.digest}" if found else None


@router.get("/static/{name}")
def static_module(request: Request, name: str, v: str | None = None) -> Response:
    if name not in MODULES:
        raise NotFound(f"no static file {name!r} (this site serves {', '.join(MODULES)})")
    found = _bundle(name)
    if found is None:
        raise NotFound(f"{name} is not built: run scripts/bootstrap (it bundles verifiers/js with esbuild)")
    etag = f'"{found.digest}"'
    headers = {
        "Cache-Control": IMMUTABLE if v == found.digest else "no-cache",
        "ETag": etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(found.gzipped, media_type=MEDIA_TYPE, headers={**headers, "Content-Encoding": "gzip"})
    return Response(found.plain, media_type=MEDIA_TYPE, headers=headers)
