"""The pages: the GS1 Digital Link resolver (journey pages, JSON, linkset), QR codes and labels,
partner sign-in, the brand's recall report and the coordinator's view. Server-rendered with
Jinja2, no external font or CDN: they work on a closed network; no script but a journey page's
optional "check it on this phone" (service/web/static.py), which the page works without.

Pages read as the API does, through the policy engine: the public by default; a member signed
in with an API key (the `Authorization` or `X-API-Key` header, or the HttpOnly cookie the sign-in
form sets — accepted only on GET pages, never on the API, so a cross-site form cannot use it).
The forms that change what the cookie holds (sign-in, sign-out) pass `csrf`'s checks."""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import re
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import orjson
import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service.api import epcis as epcis_api
from service.api.deps import PURPOSE, access_of, principal_of, request_token
from service.api.schemas import problems
from service.db.models import Product
from service.db.session import DatabaseUnavailable, current_revision
from service.domain import health, journeys
from service.domain.gs1 import ItemKey, item_of, parse_item_path
from service.domain.members import Principal
from service.domain.policy import write_log
from service.errors import ConstellateError, MalformedInput, NotAuthenticated, NotFound, ValidationFailed
from service.runtime import Runtime
from service.web import csrf, i18n, journey_view, static
from service.web import journeys as documents
from service.web.journey_map import journey_map
from service.web.vocabulary import N_

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["journeys"])
COOKIE = "constellate_key"
TEMPLATE_DIR = Path(__file__).parent / "templates"
HTML = "text/html; charset=utf-8"


def _style_sources(folder: Path) -> str:
    """CSP sources for the templates' inline <style> blocks, by hash: the pages' only inline code
    (plain CSS, rendered as written — a template expression inside one would change its hash)."""
    blocks = {css for f in folder.glob("*.html") for css in re.findall(r"<style>(.*?)</style>", f.read_text(), re.S)}
    if any(mark in css for css in blocks for mark in ("{{", "{%", "{#")):
        raise RuntimeError("a template's <style> holds a template expression: its CSP hash would not match")
    digests = sorted(base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() for css in blocks)
    return " ".join(f"'sha256-{digest}'" for digest in digests)


CSP = (
    f"default-src 'none'; style-src {_style_sources(TEMPLATE_DIR)}; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
"""No script at all, no inline style but the templates' own: even markup that escaped escaping
could not run, restyle the page or send it anywhere; no framing (the sign-in form)."""
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
JOURNEY_CSP = f"{CSP}; script-src 'self'; connect-src 'self' https: http:"
"""A journey page also runs this site's own script files (no inline script, no eval): the
"check it on this phone" module (service/web/static.py), which reads the chain at the JSON-RPC
endpoint the reader chooses (any https endpoint; http only where the page itself is http)."""


def item_label(identifier: str | None) -> str:
    """A GS1 identifier as people read it: "GTIN 09506000134352 · lot R-0042", "SSCC …", "GLN …"."""
    if not identifier:
        return ""
    key = item_of(identifier)
    if key is not None:
        return " · ".join(
            part
            for part in (
                f"GTIN {key.gtin}",
                f"lot {key.lot}" if key.lot else "",
                f"serial {key.serial}" if key.serial else "",
            )
            if part
        )
    for ai, name in (("/00/", "SSCC"), ("/414/", "GLN"), ("/417/", "party GLN")):
        prefix = "https://id.gs1.org" + ai
        if identifier.startswith(prefix):
            return f"{name} {identifier[len(prefix) :].replace('/254/', ' · ')}"
    return identifier


def _environment(language: str) -> Environment:
    """The templates in one language: its messages (Jinja's i18n extension, newstyle gettext,
    so translations are escaped like any value), its dates and numbers."""
    words = i18n.Words(language)
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(("html", "svg")),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    environment.globals.update(lang=language, languages=i18n.LANGUAGES, words=words, static_url=static.url)
    environment.filters.update(item=item_label, day=words.date, number=words.number)
    return environment


TEMPLATES = {language: _environment(language) for language in i18n.LANGUAGES}
"""One environment per language, built (and its catalog compiled) when the service starts."""


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    response = HTMLResponse(page(request, template, **context), status_code=status_code, headers=PAGE_HEADERS)
    csrf.remember(request, response, secure=_secure(request))
    i18n.remember(request, response, secure=_secure(request))
    return response


def page(request: Request, template: str, language: str | None = None, **context: Any) -> str:
    context.setdefault("viewer", getattr(request.state, "viewer", None))
    context.setdefault("request_path", request.url.path)
    context.setdefault("csrf_token", lambda: csrf.token(request))  # issued only where a form is shown
    context.setdefault("keep_query", {k: v for k, v in request.query_params.items() if k != i18n.PARAM})
    return TEMPLATES[language or i18n.language_of(request)].get_template(template).render(**context)


def _secure(request: Request) -> bool:
    """Cookies only over HTTPS when the public reaches the service over HTTPS."""
    return _runtime(request).settings.public_base_url.startswith("https://")


def wants_html(request: Request) -> bool:
    """A browser's request: text/html preferred to JSON (an absent Accept header means a page)."""
    accept = request.headers.get("accept", "")
    if not accept:
        return True
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


def error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return render(request, "error.html", status, status=status, title=title, detail=detail)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _token(request: Request, *, cookie: bool) -> str | None:
    token = request_token(request)
    return token if token is not None or not cookie else request.cookies.get(COOKIE) or None


def viewer_of(request: Request, session: Session, *, cookie: bool = True) -> Principal | None:
    """The member reading the page, if signed in; a stale cookie reads as the public."""
    token = _token(request, cookie=cookie)
    if not token:
        return None
    try:
        principal = principal_of(_runtime(request), session, token)
    except NotAuthenticated:
        if request_token(request) is None:
            return None  # the cookie's key was revoked (or made up): the page reads as the public
        raise
    request.state.viewer = {"kind": "member", "name": principal.member.name, "id": principal.member.id}
    return principal


def _item(request: Request, prefix: str = "") -> ItemKey:
    raw = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    path = raw[len(prefix) :] if prefix and raw.startswith(prefix) else raw
    try:
        return parse_item_path(path.split("?", 1)[0])
    except ValidationFailed as exc:
        raise MalformedInput(f"not a valid GS1 Digital Link: {exc}") from None


# --- the resolver ------------------------------------------------------------------------------


def _reader_json(principal: Principal | None) -> dict[str, Any]:
    if principal is None:
        return {"kind": "public", "name": None}
    kind = "operator" if "admin" in principal.scopes else "member"
    return {"kind": kind, "name": principal.member.name, "id": principal.member.id}


def revision_now(runtime: Runtime) -> int:
    try:
        return current_revision(runtime.engine)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"database is unreachable: {exc.__class__.__name__}") from None


def journey_entry(request: Request, key: ItemKey) -> documents.Entry:
    """The journey of `key` for the request's reader: from the cache while the data revision is
    current, else built; the read is logged either way (public reads coalesced)."""
    runtime = _runtime(request)
    purpose = request.headers.get("constellate-purpose")
    if purpose is not None and not PURPOSE.match(purpose):
        raise MalformedInput("Constellate-Purpose is at most 200 letters, digits, spaces and simple punctuation")
    principal = None
    if _token(request, cookie=True):
        with runtime.sessions() as session:
            principal = viewer_of(request, session)
    if principal is not None:
        principal.require("read")  # on every request: a cached page was built for another key too
    reader = _reader_json(principal)
    path = key.digital_link("")
    cache: documents.JourneyCache = request.app.state.journeys
    cache_key = (f"{reader['kind']}:{reader.get('id') or ''}", path)
    revision = revision_now(runtime)  # before anything is read: a later write shows next time

    def build() -> documents.Entry:
        with runtime.sessions() as session:
            return _build_entry(runtime, session, key, principal, reader, purpose, revision)

    entry = cache.get_or_build(cache_key, revision, build)
    now = time.time()
    if reader["kind"] != "public" or now - entry.logged_at >= documents.PUBLIC_LOG_SECONDS:
        entry.logged_at = now
        at = datetime.now(UTC)
        with runtime.sessions() as session:
            write_log(session, [{**row, "at": at, "purpose": purpose or ""} for row in entry.log_rows])
    return entry


def _build_entry(
    runtime: Runtime,
    session: Session,
    key: ItemKey,
    principal: Principal | None,
    reader: dict[str, Any],
    purpose: str | None,
    revision: int,
) -> documents.Entry:
    path = key.digital_link("")
    access = access_of(session, principal, purpose)
    journey = journeys.build(session=session, access=access, key=key, where=runtime.anchor_ref())
    known = journey.steps or journey.claims or (key.kind == "gtin" and (journey.lots or journey.product))
    if not known:  # a made-up lot of a real product gets no branded page
        raise NotFound(f"nothing about {path} is known to this service, or shared with you")
    body = documents.document(
        session,
        journey,
        base=runtime.settings.public_base_url,
        trust={**runtime.trust(), "rpcUrl": runtime.settings.public_rpc_url or runtime.settings.rpc_url},
        reader=reader,
        revision=revision,
        tx_url=runtime.settings.explorer_tx_url,
    )
    changes = [m for m in (journey.next_change(), documents.next_grant_change(session, access.now)) if m]
    session.rollback()
    rows = access.entries(endpoint="journey", decisions=journey.log_decisions(path[:80]))
    return documents.Entry(revision, min(changes).timestamp() if changes else None, body, rows)


def _wants_linkset(request: Request) -> bool:
    return "application/linkset+json" in request.headers.get("accept", "") or request.query_params.get("linkType") in (
        "all",
        "linkset",
    )


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.query_params.get("format") == "json" or (
        ("application/json" in accept or "application/ld+json" in accept) and not wants_html(request)
    )


async def resolve(request: Request) -> Response:
    """The resolver. A public page already rendered at the current data revision is answered on
    the event loop (one indexed read); anything else — building, signing in, logging — runs in
    the thread pool."""
    key = _item(request)
    if _wants_linkset(request):
        return await run_in_threadpool(_linkset, request, key)
    if request.query_params.get("linkType") == documents.RECALL_STATUS:
        return await run_in_threadpool(_recall_status, request, key)
    hit = _cached_public(request, key)
    if hit is not None:
        return hit
    return await run_in_threadpool(_journey_response, request, key)


def _linkset(request: Request, key: ItemKey) -> Response:
    runtime = _runtime(request)
    with runtime.sessions() as session:
        product = session.get(Product, key.gtin)
        title = product.name if product else None
    body = documents.linkset(key, base=runtime.settings.public_base_url, title=title)
    return Response(orjson.dumps(body), media_type="application/linkset+json", headers={"Vary": "Accept"})


RECALL_BASIS = "recalls shared with this reader"
"""What `recalled` answers: recalls follow the sharing grants, so `false` means none is shared
with this reader, not that none exists."""


def _recall_status(request: Request, key: ItemKey) -> Response:
    """The GS1 `gs1:recallStatus` link: whether the item, its inputs or its containers are recalled
    (the journey's own `recall`, as this reader sees it, and saying so)."""
    body = journey_entry(request, key).body
    status = {
        "item": body["item"],
        "recalled": body["recall"] is not None,
        "basis": RECALL_BASIS,
        "recall": body["recall"],
    }
    return Response(orjson.dumps(status), media_type="application/json", headers=_headers(body))


def _format(request: Request) -> tuple[str, str, bool]:
    """(the rendering, its media type, gzip) the request asks for."""
    kind, media = ("json", "application/json") if _wants_json(request) else ("html", HTML)
    return kind, media, "gzip" in request.headers.get("accept-encoding", "")


VARY = {
    "Vary": "Accept, Accept-Encoding, Accept-Language, Authorization, Cookie",
    "Cache-Control": "no-cache",
    **PAGE_HEADERS,
    "Content-Security-Policy": JOURNEY_CSP,
}
PRIVATE = {**VARY, "Cache-Control": "private, no-cache"}
"""A journey built for a member (signed in, or by key): no shared cache keeps it."""


def _headers(body: dict[str, Any]) -> dict[str, str]:
    return VARY if body["reader"]["kind"] == "public" else PRIVATE


def _rendering(kind: str, language: str) -> str:
    """The name an entry keeps a rendering under: the JSON once, the page once per language."""
    return kind if kind == "json" else f"{kind}.{language}"


def _cached_public(request: Request, key: ItemKey) -> Response | None:
    if _token(request, cookie=True) or request.headers.get("constellate-purpose"):
        return None
    runtime = _runtime(request)
    entry = request.app.state.journeys.get(("public:", key.digital_link("")), revision_now(runtime))
    if entry is None or time.time() - entry.logged_at >= documents.PUBLIC_LOG_SECONDS:
        return None
    kind, media, gzipped = _format(request)
    body = entry.rendered.get(_rendering(kind, i18n.language_of(request)) + (".gz" if gzipped else ""))
    if body is None:
        return None
    response = Response(body, media_type=media, headers={**VARY, "Content-Encoding": "gzip"} if gzipped else VARY)
    i18n.remember(request, response, secure=_secure(request))
    return response


CSRF_SLOT = "csrf-slot-" + secrets.token_urlsafe(24)
"""Stands for the sign-out form's token in a signed-in journey page rendered once per entry and
language; each response puts its own browser's token in its place (random per process: no data
can hold it)."""


def _journey_page(request: Request, entry: documents.Entry, language: str, **context: Any) -> bytes:
    """The journey page in `language`: the document in words, rendered from the entry alone."""
    words: i18n.Words = TEMPLATES[language].globals["words"]  # type: ignore[assignment]
    view = journey_view.shopper_view(entry.body, words)
    drawn = journey_map(entry.body.get("route") or [], words=words)
    return page(
        request, "journey.html", language, j=entry.body, view=view, map=drawn, keep_query={}, **context
    ).encode()


def _journey_response(request: Request, key: ItemKey) -> Response:
    entry = journey_entry(request, key)
    kind, media, gzipped = _format(request)
    language = i18n.language_of(request)
    name = _rendering(kind, language)
    cache = documents.JourneyCache
    shared = kind == "json" or getattr(request.state, "viewer", None) is None
    if kind == "json":
        plain = cache.rendered(entry, name, lambda: orjson.dumps(entry.body))
    elif shared:
        plain = cache.rendered(entry, name, lambda: _journey_page(request, entry, language))
    else:  # a signed-in page holds its browser's sign-out token: rendered once, the token put in per request
        signed_in = cache.rendered(
            entry, name + ".signed-in", lambda: _journey_page(request, entry, language, csrf_token=lambda: CSRF_SLOT)
        )
        plain = signed_in.replace(CSRF_SLOT.encode(), csrf.token(request).encode())
    if gzipped:
        body = (
            cache.rendered(entry, name + ".gz", lambda: gzip.compress(plain, 6)) if shared else gzip.compress(plain, 6)
        )
        response = Response(body, media_type=media, headers={**_headers(entry.body), "Content-Encoding": "gzip"})
    else:
        response = Response(plain, media_type=media, headers=_headers(entry.body))
    csrf.remember(request, response, secure=_secure(request))
    i18n.remember(request, response, secure=_secure(request))
    return response


api_router.add_api_route(
    "/01/{link:path}",
    resolve,
    methods=["GET"],
    summary="GS1 Digital Link /01/{gtin}[/10/{lot}][/21/{serial}]: the journey (page; JSON; linkset)",
    description="Parsed from the raw path, so a lot or serial may hold an encoded '/' (%2F).",
    response_class=Response,
    responses={
        200: {
            "description": "The journey: a page, or JSON (Accept: application/json), or the GS1 linkset "
            "(Accept: application/linkset+json)",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
                "application/linkset+json": {"schema": {"type": "object"}},
            },
        },
        **problems(400, 401, 403, 404, 503),
    },
    openapi_extra={
        "parameters": [
            {
                "name": "link",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "The rest of the Digital Link after /01/: {gtin}[/10/{lot}][/21/{serial}]",
            }
        ]
    },
)


# --- QR codes and labels -----------------------------------------------------------------------


def _qr(key: ItemKey, runtime: Runtime) -> segno.QRCode:
    return segno.make(key.digital_link(runtime.settings.public_base_url), error="m", micro=False)


QR_MEDIA = {".svg": "image/svg+xml", ".png": "image/png"}


@router.get("/qr/{rest:path}")
def qr_code(request: Request, rest: str, scale: int = 8) -> Response:
    """The item's Digital Link URL (on the public base) as a QR code: `.svg` or `.png`."""
    runtime = _runtime(request)
    raw = request.scope.get("raw_path", b"").decode("latin-1")
    suffix = next((s for s in QR_MEDIA if raw.endswith(s)), None)
    if suffix is None:
        raise MalformedInput("a QR code is /qr/01/{gtin}[/10/{lot}][/21/{serial}].svg or .png")
    path = raw[len("/qr") : -len(suffix)]
    if not 1 <= scale <= 40:
        raise MalformedInput("scale is 1 to 40 pixels per module")
    try:
        key = parse_item_path(path)
    except ValidationFailed as exc:
        raise MalformedInput(f"not a valid GS1 Digital Link: {exc}") from None
    buffer = io.BytesIO()
    code = _qr(key, runtime)
    if suffix == ".svg":
        code.save(
            buffer,
            kind="svg",
            scale=scale,
            border=4,
            xmldecl=False,
            title=key.digital_link(runtime.settings.public_base_url),
        )
    else:
        code.save(buffer, kind="png", scale=scale, border=4)
    return Response(buffer.getvalue(), media_type=QR_MEDIA[suffix], headers={"Cache-Control": "public, max-age=86400"})


@router.get("/label/{rest:path}")
def label(request: Request, rest: str) -> Response:
    """A printable label: the QR code, the human-readable GTIN, lot and serial, the product name."""
    runtime = _runtime(request)
    key = _item(request, "/label")
    with runtime.sessions() as session:
        viewer_of(request, session)
        product = session.get(Product, key.gtin)
    code = _qr(key, runtime)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=4, border=4, xmldecl=False, svgns=True, title="QR code")
    return render(
        request,
        "label.html",
        key=key,
        url=key.digital_link(runtime.settings.public_base_url),
        product=product,
        svg=buffer.getvalue().decode(),
        path=key.digital_link(""),
    )


# --- sign-in -----------------------------------------------------------------------------------


def _next(raw: str | None) -> str:
    """Only a path of this site (never //host or a scheme): no open redirect."""
    return raw if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw else "/"


def _sign_in_first(request: Request) -> RedirectResponse:
    """To the sign-in form, back here after it: the path as sent, quoted whole, so it comes back
    as it was (an encoded `/` or `&` in a lot) and cannot add a parameter of its own."""
    path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    return RedirectResponse(f"/login?next={quote(path, safe='/')}", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", next=_next(next), error=None)


async def _form(request: Request) -> dict[str, list[str]]:
    """A posted form, after `csrf` found it came from a page of this site with its token."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    csrf.check(request, form, public_base_url=_runtime(request).settings.public_base_url)
    return form


@router.post("/login")
async def login(request: Request) -> Response:
    form = await _form(request)
    token = (form.get("api_key") or [""])[0].strip()
    target = _next((form.get("next") or ["/"])[0])
    runtime = _runtime(request)

    def check() -> None:
        with runtime.sessions() as session:
            principal_of(runtime, session, token)

    try:
        await run_in_threadpool(check)
    except ConstellateError:
        return render(request, "login.html", 401, next=target, error=N_("That API key is not valid."))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        max_age=8 * 3600,
    )
    csrf.renew(response, secure=_secure(request))
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await _form(request)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    csrf.forget(response)
    return response


@router.get("/")
def home(request: Request) -> HTMLResponse:
    with _runtime(request).sessions() as session:
        viewer_of(request, session)
    return render(request, "home.html")


# --- the brand's recall report -----------------------------------------------------------------

RECALL_COLUMNS = (
    "id",
    "depth",
    "lastEventTime",
    "bizStep",
    "disposition",
    "custodian",
    "location",
    "recordedBy",
    "record",
)


def _recall_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for item in report["affected"]:
        last = item.get("lastKnown") or {}
        rows.append(
            {
                "id": item["id"],
                "depth": item["depth"],
                "lastEventTime": last.get("eventTime"),
                "bizStep": last.get("bizStep"),
                "disposition": last.get("disposition"),
                "custodian": last.get("custodian"),
                "location": last.get("bizLocation") or last.get("readPoint"),
                "recordedBy": last.get("recordedBy"),
                "record": last.get("record"),
            }
        )
    return rows


@router.get("/recall/{rest:path}")
def recall(request: Request, rest: str) -> Response:
    """Every downstream item of a lot, its last custodian and location: a page, or CSV
    (`.csv`, or Accept: text/csv). For signed-in members."""
    runtime = _runtime(request)
    raw = request.scope.get("raw_path", b"").decode("latin-1")
    as_csv = raw.endswith(".csv") or "text/csv" in request.headers.get("accept", "")
    path = raw[len("/recall") :].removesuffix(".csv")
    try:
        key = parse_item_path(path)
    except ValidationFailed as exc:
        raise MalformedInput(f"not a valid GS1 Digital Link: {exc}") from None
    with runtime.sessions() as session:
        principal = viewer_of(request, session)
        if principal is None:
            if wants_html(request) and not as_csv:
                return _sign_in_first(request)
            raise NotAuthenticated("a recall report is for members: sign in or send an API key")
        access = access_of(session, principal, request.headers.get("constellate-purpose") or "recall")
        params = epcis_api.TraceParams(id=key.digital_link())
        report = epcis_api.recall_report(session, runtime, access, params, "recall")
    rows = _recall_rows(report)
    if as_csv:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=RECALL_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_safe(v) for k, v in row.items()})
        name = re.sub(r"[^A-Za-z0-9._-]", "_", f"recall-{key.gtin}-{key.lot or 'all'}.csv")
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return render(request, "recall.html", key=key, report=report, rows=rows, path=key.digital_link(""))


def _csv_safe(value: Any) -> Any:
    """Cells a spreadsheet would run as a formula are quoted with a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# --- the coordinator's view --------------------------------------------------------------------


@router.get("/coordinator/{slug}")
def coordinator(request: Request, slug: str, weeks: int = 12) -> Response:
    """The constellation map, metrics over time, partner scorecards and commitments (for a
    member that coordinates the constellation now)."""
    if not 1 <= weeks <= 104:
        raise MalformedInput("weeks is 1 to 104")
    runtime = _runtime(request)
    with runtime.sessions() as session:
        principal = viewer_of(request, session)
        if principal is None and wants_html(request):
            return _sign_in_first(request)
        access = access_of(session, principal, request.headers.get("constellate-purpose"))
        view = health.coordinator_view(session=session, access=access, slug=slug, weeks=weeks)
    return render(request, "coordinator.html", view=view)


def install(app: Any) -> None:
    """The journey cache and the resolver (the other pages are `router`)."""
    app.state.journeys = documents.JourneyCache(app.state.settings.journey_cache_entries)
    app.include_router(api_router)
    app.include_router(static.router)
