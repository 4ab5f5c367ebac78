"""The outer bounds of a request body, checked (pure ASGI) before any route or parser sees it:
its size (small for every route but the bulk ones), one Content-Type, its nesting depth, and for
a body read as JSON strict RFC 8259 JSON in UTF-8."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import problem_response
from service.errors import ConstellateError, MalformedInput, PayloadTooLarge
from service.json_bounds import MAX_JSON_DEPTH, check_json_depth
from service.settings import Settings

BULK_ROUTES = frozenset(
    {"/epcis/capture", "/epcis/capture/prepare", "/attestations/import", "/verify/record", "/verify/journey"}
)
"""The routes (POST) taking whole documents, up to CONSTELLATE_CAPTURE_MAX_BYTES; every other
body is held to CONSTELLATE_REQUEST_MAX_BYTES, so an unauthenticated body to any other route
costs little to read and scan."""

OFF_LOOP_BYTES = 1024 * 1024
"""Bodies larger than this are checked on a worker thread (the scan and the strict parse cost
about 25 ms per MB), so a bulk document never holds the event loop."""


def body_limit(scope: Scope, settings: Settings) -> tuple[int, str]:
    """The largest body the request's route takes, and the setting that says so."""
    if scope.get("method") == "POST" and scope.get("path") in BULK_ROUTES:
        return settings.capture_max_bytes, "CONSTELLATE_CAPTURE_MAX_BYTES"
    return settings.request_max_bytes, "CONSTELLATE_REQUEST_MAX_BYTES"


def _too_large(size: str, scope: Scope, settings: Settings) -> PayloadTooLarge:
    limit, setting = body_limit(scope, settings)
    return PayloadTooLarge(
        f"the request body is {size} bytes; the limit of {scope.get('method')} {scope.get('path')} is {limit} ({setting})"
    )


class BodyLimit:
    """A declared body beyond what its route takes is refused before it is read (pure ASGI: no
    per-request task or stream wrapping on the hot paths)."""

    def __init__(self, app: ASGIApp, settings: Callable[[], Settings]) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"").decode("latin-1")
            settings = self.settings()
            if declared.isdigit() and int(declared) > body_limit(scope, settings)[0]:
                await problem_response(_too_large(declared, scope, settings))(scope, receive, send)
                return
        await self.app(scope, receive, send)


PARSED_BODY = "constellate.parsed_body"
"""Where JsonDepthLimit leaves the JSON body it parsed, as a 1-tuple in the request's scope:
a route reading its body itself takes it from there instead of parsing it again."""

JSON_BOMS = (b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe")
"""Byte order marks of UTF-8 and UTF-16 (UTF-32's begin with NUL bytes, refused as such)."""


class JsonDepthLimit:
    """A body nesting deeper than MAX_JSON_DEPTH is refused (400) before any route parses it,
    whoever sends it and whatever its Content-Type claims (a route may parse a form-typed body as
    JSON; brackets in a real form are few and harmless to count): Python's JSON parser recurses in
    C once per level of nesting, and the storage serializer gives up at 254. A request with more
    than one Content-Type is refused (the middleware and the route could read different ones),
    and so is a body read as JSON that is not UTF-8 (RFC 8259 §8.1: Python's parser would decode
    UTF-16, which the byte scan cannot follow). The body is read here whole (what a route parsing
    JSON does anyway), bounded by the byte limit even when no length is declared, then handed on.
    Requests without a body (the resolver's GETs) pass untouched."""

    def __init__(self, app: ASGIApp, settings: Callable[[], Settings]) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_types = [value for name, value in scope["headers"] if name == b"content-type"]
        if len(content_types) > 1:
            await _refuse(
                MalformedInput(f"a request has one Content-Type; this one has {len(content_types)}"), scope, send
            )
            return
        if not _has_body(scope["headers"]):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        settings = self.settings()
        size, limit = 0, body_limit(scope, settings)[0]
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: the route reads the same
                await self.app(scope, _replay([*_as_messages(chunks, more_body=True), message], receive), send)
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                await _refuse(_too_large(f"more than {limit}", scope, settings), scope, send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = content_types[0] if content_types else b""
        try:
            if size > OFF_LOOP_BYTES:
                parsed = await anyio.to_thread.run_sync(check_body, body, content_type)
            else:
                parsed = check_body(body, content_type)
        except ConstellateError as exc:
            await _refuse(exc, scope, send)
            return
        if parsed is not None:
            scope[PARSED_BODY] = parsed
        await self.app(scope, _replay(_as_messages([body], more_body=False), receive), send)


def check_body(body: bytes, content_type: bytes) -> tuple[Any] | None:
    """Checks a body's encoding, nesting and strictness; the JSON value (a 1-tuple) where FastAPI
    would parse it."""
    if _read_as_json(content_type):
        check_utf8_json(body)
    check_json_depth(body, limit=MAX_JSON_DEPTH)
    check_no_nul(body)
    return (strict_json(body),) if _parsed_by_fastapi(content_type) else None


_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""A JSON escape of U+0000 (an even run of backslashes before it escapes only themselves)."""


def check_no_nul(body: bytes) -> None:
    """Refuses U+0000 in a JSON string: PostgreSQL can store it neither in text nor in jsonb (a
    500 there, a value on SQLite), and no EPCIS, PACT or master-data value needs it."""
    if b"\\u0000" in body and _NUL_ESCAPE.search(body):
        raise MalformedInput("JSON strings may not hold U+0000 (\\u0000): no stored value can")


def check_utf8_json(body: bytes) -> None:
    """Refuses a JSON text in another encoding than UTF-8: a byte order mark, or a NUL byte where
    UTF-16 and UTF-32 put one beside each ASCII character (RFC 8259 §8.1)."""
    if body.startswith(JSON_BOMS) or b"\x00" in body[:4]:
        raise MalformedInput("JSON bodies are UTF-8 (RFC 8259 §8.1), without a byte order mark")


def strict_json(body: bytes) -> Any:
    """`body` parsed as RFC 8259 JSON, refusing what Python's parser takes but RFC 8259 does not
    call JSON: NaN and Infinity, and a number beyond a double's range (1e999, read as infinity: a
    hash over it would never match what is stored). orjson refuses both, and any other malformed
    text, naming where."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedInput(
            f"the body is not valid JSON (RFC 8259: no NaN or Infinity, no number beyond a double's range): {exc}"
        ) from None


def _parsed_by_fastapi(content_type: bytes) -> bool:
    """Whether FastAPI parses a body of this type (with Python's lenient parser) for a route's
    model: none, application/json, application/*+json. Routes reading other types parse them
    with orjson themselves."""
    media = content_type.split(b";", 1)[0].strip().lower()
    return media in (b"", b"application/json") or (media.startswith(b"application/") and media.endswith(b"+json"))


def _read_as_json(content_type: bytes) -> bool:
    """Whether a route or FastAPI reads a body of this type as JSON: none, application/json,
    a +json type, newline-delimited JSON."""
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"" or media.endswith(b"json")


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    declared = dict(headers)
    length = declared.get(b"content-length")
    return not ((length is None or length.strip() in (b"", b"0")) and b"transfer-encoding" not in declared)


def _as_messages(chunks: list[bytes], *, more_body: bool) -> list[Message]:
    return [{"type": "http.request", "body": chunk, "more_body": more_body} for chunk in chunks]


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` giving `messages` first, then whatever the client sends next (a disconnect)."""
    pending = iter(messages)

    async def replayed() -> Message:
        return next(pending, None) or await receive()

    return replayed


async def _refuse(exc: ConstellateError, scope: Scope, send: Send) -> None:
    async def nothing_more() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    await problem_response(exc)(scope, nothing_more, send)
