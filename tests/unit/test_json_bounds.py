"""The nesting scan that runs before any parser: brackets inside strings (escaped quotes too) do
not count, and it agrees with the parser on every document hypothesis makes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.json_bounds import MAX_JSON_DEPTH, JsonTooDeep, check_json_depth, json_depth


@pytest.mark.parametrize(
    ("document", "depth"),
    [
        (b"1", 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": "[[[["}]}', 3),
        (b'"[[[{{{"', 0),
        (rb'{"a": "\"[[[", "b": []}', 2),
        (rb'{"a": "\\", "b": [[1]]}', 3),
        (rb'["\\\"[["]', 1),
        (b"[" * 100_000 + b"]" * 100_000, 100_000),
    ],
    ids=["scalar", "empty", "brackets in a string", "a string", "escaped quote", "escaped backslash", "both", "deep"],
)
def test_the_depth_counts_brackets_outside_strings_only(document: bytes, depth: int) -> None:
    assert json_depth(document) == depth


def _parsed_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_parsed_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_parsed_depth(v) for v in value), default=0)
    return 0


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\a'), inner, max_size=3),
    max_leaves=30,
)


@given(JSON)
def test_the_scan_agrees_with_the_parser(value: Any) -> None:
    assert json_depth(json.dumps(value).encode()) == _parsed_depth(value)


def test_a_body_past_the_limit_is_refused_naming_it() -> None:
    check_json_depth(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    with pytest.raises(JsonTooDeep, match=f"nests {MAX_JSON_DEPTH + 1} levels deep; the limit is {MAX_JSON_DEPTH}"):
        check_json_depth("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
