"""Cross-site request forgery: a state change the pages' cookies carry (signing in, signing out)
is taken only from a form of this site. Two checks, both required:

- its Origin (or, without one, its Referer) is this service's: the configured public origin, or
  the origin the request was addressed to — a browser, not the page that posts, writes Host, so a
  page of another site (another host or port) never matches;
- it returns the token its form was served with (double submit: the token sits in an HttpOnly
  cookie and in the form; another site can read neither, so it cannot forge the pair).

The token is one per browser, issued by the first form that needs it, and replaced at sign-in."""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response

from service.errors import PolicyDenied

COOKIE = "constellate_csrf"
FIELD = "csrf"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def token(request: Request) -> str:
    """The browser's form token; issued now if it has none (`remember` then sets its cookie)."""
    existing = request.cookies.get(COOKIE, "")
    if _TOKEN.match(existing):
        return existing
    issued: str | None = getattr(request.state, "csrf_issued", None)
    if issued is None:
        issued = request.state.csrf_issued = secrets.token_urlsafe(32)
    return issued


def _set(response: Response, value: str, secure: bool) -> None:
    response.set_cookie(COOKIE, value, httponly=True, samesite="lax", secure=secure, path="/")


def remember(request: Request, response: Response, *, secure: bool) -> None:
    """Sets the cookie of a token `token` issued while this response was made."""
    issued: str | None = getattr(request.state, "csrf_issued", None)
    if issued is not None:
        _set(response, issued, secure)


def renew(response: Response, *, secure: bool) -> None:
    """A fresh token at sign-in: one a page saw before the session began is no longer good."""
    _set(response, secrets.token_urlsafe(32), secure)


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


def check(request: Request, form: dict[str, list[str]], *, public_base_url: str) -> None:
    """PolicyDenied unless the form was posted by a page of this site with its own token."""
    public = _origin(public_base_url)
    own = _origin(f"{request.url.scheme}://{request.headers.get('host', '')}")
    origin = request.headers.get("origin")
    sent = _origin(origin) if origin is not None else _origin(request.headers.get("referer", ""))
    if sent is None:
        where = f"Origin {origin!r}" if origin is not None else "no Origin or Referer"
        raise PolicyDenied(f"this form post names {where}: post the form from {public_base_url}")
    if sent not in (public, own):
        raise PolicyDenied(f"a page of {sent} cannot post this form: use the one at {public_base_url}")
    given = (form.get(FIELD) or [""])[0]
    expected = request.cookies.get(COOKIE, "")
    if not _TOKEN.match(expected) or not hmac.compare_digest(given.encode(), expected.encode()):
        raise PolicyDenied("this form's token is missing or out of date: reload the page and send it again")
