"""Bounds on JSON nesting, checked before any parser or serializer recurses: a request body
nesting deeper than MAX_JSON_DEPTH is refused (400) by the API's outer middleware, and a JSON
column deeper than MAX_STORED_JSON_DEPTH is neither written nor read. The scan is linear and
runs in C-level byte operations (no recursion, no per-byte Python loop)."""

from __future__ import annotations

import re
from itertools import accumulate, count
from operator import sub

from service.errors import MalformedInput

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a request body may hold (an EPCIS document with
extension fields needs about 10; a member's JSON Schema about 20)."""

MAX_STORED_JSON_DEPTH = 128
"""Deepest nesting a JSON column may hold: a stored value wraps a body in a few levels, and
orjson refuses to serialize past 254."""

RECURSION_LIMIT = 1000
"""Python's own default. py_ecc raises the limit to 100,000 when imported, which lets a
C-level parser recurse until it overflows a thread's stack (a crash, not an exception);
service/__init__.py sets it back to this once py_ecc is loaded."""

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(set(range(256)) - set(b'"[]{}'))
_OPEN, _CLOSE = 2, 0
_BRACKETS = bytes.maketrans(b"[{]}", bytes([_OPEN, _OPEN, _CLOSE, _CLOSE]))


class JsonTooDeep(MalformedInput):
    """JSON nesting deeper than the service accepts (400)."""


def json_depth(document: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not
    count). Malformed text yields a number too; the parser that follows refuses it."""
    if b"\\" in document:
        document = _ESCAPE.sub(b"", document)  # an escaped quote neither opens nor closes a string
    structure = document.translate(None, _NOT_STRUCTURE)  # quotes and brackets only
    outside_strings = b"".join(structure.split(b'"')[::2])
    brackets = outside_strings.translate(_BRACKETS)
    # each opening bracket maps to 2 and each closing one to 0: after k brackets, the running
    # sum minus k is the depth there
    return max(0, max(map(sub, accumulate(brackets), count(1)), default=0))


def check_json_depth(document: bytes | str, *, limit: int = MAX_JSON_DEPTH, what: str = "the JSON body") -> None:
    """Raises JsonTooDeep (naming the limit) when `document` nests deeper than `limit`."""
    data = document.encode() if isinstance(document, str) else document
    if data.count(b"[") + data.count(b"{") <= limit:
        return  # too few brackets to nest that deep: the common case costs two counts
    depth = json_depth(data)
    if depth > limit:
        raise JsonTooDeep(f"{what} nests {depth} levels deep; the limit is {limit} levels of arrays and objects")
