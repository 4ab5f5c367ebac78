"""Hostile request bodies the fuzzers mix into the ones they generate from the schema: nesting at
and past the bound, thousands of keys, strings built to make a backtracking regex explode, and a
member schema carrying a catastrophic pattern. Whatever the operation, the answer is a 2xx or a
4xx naming the problem, promptly; never a 5xx. Used by test_api_fuzz.py (a hook on its schema)
and by scripts/bench/fuzz_hooks.py (the large run's hooks module)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from service.json_bounds import MAX_JSON_DEPTH

MANY_KEYS = 5_000
CATASTROPHIC = "^(a+)+$"
"""2^n steps on a backtracking engine for n letters a followed by one that is not."""
EVIL_STRING = "a" * 3_000 + "!"
EVIL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"code": {"type": "string", "pattern": CATASTROPHIC}},
    "patternProperties": {CATASTROPHIC: {"type": "string"}},
    "propertyNames": {"pattern": CATASTROPHIC},
}


def nested(depth: int, leaf: Any = 1) -> Any:
    """`depth` arrays, one inside the other."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _evil_strings(value: Any) -> Any:
    if isinstance(value, str):
        return EVIL_STRING
    if isinstance(value, dict):
        return {key: _evil_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_evil_strings(item) for item in value]
    return value


def hostile_variants(body: Any) -> list[Any]:
    """The hostile forms of one generated body."""
    if isinstance(body, list):
        return [nested(MAX_JSON_DEPTH + 1), nested(300), [*body, nested(MAX_JSON_DEPTH - 1)], _evil_strings(body)]
    if not isinstance(body, dict):
        return []
    variants = [
        {**body, "deep": nested(MAX_JSON_DEPTH - 1)},  # at the bound when the body is flat: taken or a 4xx
        {**body, "deep": nested(MAX_JSON_DEPTH)},  # one past it: 400
        {**body, "deep": nested(300)},  # past the storage serializer's own limit: 400, not 500
        {**body, **{f"key{n}": n for n in range(MANY_KEYS)}},
        _evil_strings(body),
    ]
    if "json_schema" in body:
        variants.append({**body, "json_schema": EVIL_SCHEMA})
    if isinstance(body.get("body"), dict):
        variants.append({**body, "body": {**body["body"], "code": EVIL_STRING, EVIL_STRING: "x"}})
    return variants


def hostile_body(body: Any) -> st.SearchStrategy[Any]:
    """The generated body as it is, or one of its hostile forms."""
    variants = hostile_variants(body)
    return st.one_of(st.just(body), st.sampled_from(variants)) if variants else st.just(body)
