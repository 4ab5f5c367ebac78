"""Members' attestation schemas are untrusted input: their patterns run on a linear-time engine
(a catastrophic pattern answers at once instead of holding the process), a pattern that needs a
backtracking engine is refused at registration, and no `$ref` is fetched from the network."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api

CATASTROPHIC = "^(a+)+$"
"""Exponential on a backtracking engine: 2^n steps for n letters a followed by one that is not."""
EVIL_VALUE = "a" * 5000 + "!"


@pytest.fixture
def member(api: Api) -> dict[str, str]:
    """A brand coordinating "cocoa": it registers schemas and attests about itself."""
    brand, headers = api.onboard("Chocolatier")
    assert (
        api.client.post("/constellations", json={"slug": "cocoa", "name": "Cocoa"}, headers=headers).status_code == 201
    )
    return {**headers, "X-Member-Id": str(brand["id"])}


def _register(api: Api, member: dict[str, str], name: str, json_schema: dict[str, Any]) -> Any:
    return api.client.post(
        "/attestation-schemas", json={"name": name, "title": name, "json_schema": json_schema}, headers=member
    )


def _attest(api: Api, member: dict[str, str], schema: str, body: dict[str, Any]) -> Any:
    return api.client.post(
        "/attestations",
        json={
            "schema": schema,
            "constellation": "cocoa",
            "subject": {"kind": "member", "member_id": member["X-Member-Id"]},
            "body": body,
        },
        headers=member,
    )


@pytest.mark.parametrize(
    ("json_schema", "evil", "problem", "fine"),
    [
        (
            {"type": "object", "properties": {"code": {"type": "string", "pattern": CATASTROPHIC}}},
            {"code": EVIL_VALUE},
            "code: ",
            {"code": "aaaa"},
        ),
        (
            {"type": "object", "patternProperties": {CATASTROPHIC: {"type": "integer"}}, "additionalProperties": False},
            {EVIL_VALUE: 1},
            "Additional properties are not allowed",
            {"aaaa": 1},
        ),
        (
            {"type": "object", "propertyNames": {"pattern": CATASTROPHIC}},
            {EVIL_VALUE: 1},
            "does not match",
            {"aaaa": 1},
        ),
    ],
    ids=["pattern", "patternProperties", "propertyNames"],
)
def test_a_catastrophic_pattern_answers_at_once(
    api: Api,
    member: dict[str, str],
    json_schema: dict[str, Any],
    evil: dict[str, Any],
    problem: str,
    fine: dict[str, Any],
) -> None:
    """On a backtracking engine each of these takes 2^5000 steps, holding the GIL (and with it
    every request, /health included); on the linear-time engine it is a 422 like any other."""
    assert _register(api, member, "evil-codes", json_schema).status_code == 201
    refused = _attest(api, member, "evil-codes", evil)
    assert refused.status_code == 422 and problem in refused.json()["detail"], refused.text
    accepted = _attest(api, member, "evil-codes", fine)
    assert accepted.status_code in (201, 202), accepted.text
    assert api.client.get("/health").status_code == 200


def test_a_regex_format_value_is_checked_without_being_run(api: Api, member: dict[str, str]) -> None:
    schema = {"type": "object", "properties": {"rule": {"type": "string", "format": "regex"}}}
    assert _register(api, member, "rules", schema).status_code == 201
    assert _attest(api, member, "rules", {"rule": CATASTROPHIC}).status_code in (201, 202)
    broken = _attest(api, member, "rules", {"rule": "(unclosed"})
    assert broken.status_code == 422 and 'is not a "regex"' in broken.json()["detail"]


@pytest.mark.parametrize(
    ("json_schema", "problem"),
    [
        ({"type": "object", "properties": {"x": {"pattern": "(?<=a)b"}}}, "at properties/x/pattern"),
        ({"type": "object", "properties": {"x": {"pattern": r"(a)\1"}}}, "no back-references"),
        ({"type": "object", "patternProperties": {"(?=x)": {}}}, "linear-time engine"),
        ({"type": "object", "$ref": "http://127.0.0.1:9/schema.json"}, "Retrieval is disabled"),
    ],
    ids=["look-behind", "back-reference", "look-ahead key", "remote $ref"],
)
def test_a_schema_the_linear_engine_cannot_run_is_refused_at_registration(
    api: Api, member: dict[str, str], json_schema: dict[str, Any], problem: str
) -> None:
    refused = _register(api, member, "refused", json_schema)
    assert refused.status_code == 422 and problem in refused.json()["detail"], refused.text
    assert api.client.get("/attestation-schemas/refused", headers=member).status_code == 404


def test_a_schema_past_the_validator_s_own_bound_is_a_validation_failure() -> None:
    """jsonschema-rs stops at 254 levels with a bare ValueError ("Recursion limit reached"); the
    body bound keeps such a schema out of requests, and compiling one is a 422, never a 500."""
    from service.domain.schema_catalogue import compile_json_schema
    from service.errors import ValidationFailed

    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    with pytest.raises(ValidationFailed, match="Recursion limit reached"):
        compile_json_schema({"type": "object", "examples": [deep]})


def _fan_out(levels: int) -> dict[str, Any]:
    """Each definition refers to the next twice: validating one value costs 2^levels."""
    definitions: dict[str, Any] = {
        f"a{i}": {"allOf": [{"$ref": f"#/$defs/a{i + 1}"}, {"$ref": f"#/$defs/a{i + 1}"}]} for i in range(levels)
    }
    definitions[f"a{levels}"] = {"type": "object"}
    return {"type": "object", "$defs": definitions, "properties": {"x": {"$ref": "#/$defs/a0"}}}


@pytest.mark.parametrize(
    "json_schema",
    [
        _fan_out(40),
        {"type": "object", "properties": {"x": {"allOf": [{"$ref": "#"}, {"$ref": "#"}]}}},
    ],
    ids=["2^40 through definitions", "2^depth through the value's own nesting"],
)
def test_a_schema_whose_refs_fan_out_is_refused_at_registration(
    api: Api, member: dict[str, str], json_schema: dict[str, Any]
) -> None:
    """Forty lines of definitions each referring to the next twice registered (201), and checking
    {"x": {}} against them then held a worker and a core for hours (n=26: 4 s). A reference back
    to the schema itself fans out the same way with each level of the value."""
    refused = _register(api, member, "fan-out", json_schema)
    assert refused.status_code == 422, refused.text
    assert "too costly to validate" in refused.json()["detail"] and "the limit is 10000" in refused.json()["detail"]
    assert api.client.get("/attestation-schemas/fan-out", headers=member).status_code == 404


def test_a_schema_with_shared_and_recursive_refs_is_accepted(api: Api, member: dict[str, str]) -> None:
    """Definitions used in several places and a schema nesting into itself (a tree) cost what
    they check: registered, and values are checked against them."""
    quantity = {"type": "object", "properties": {"value": {"type": "number"}, "unit": {"enum": ["kg", "t"]}}}
    tree = {
        "type": "object",
        "$defs": {"quantity": quantity, "part": {"$ref": "#"}},
        "properties": {
            "name": {"type": "string"},
            "mass": {"$ref": "#/$defs/quantity"},
            "recycled": {"$ref": "#/$defs/quantity"},
            "parts": {"type": "array", "items": {"$ref": "#/$defs/part"}},
        },
        "required": ["name"],
    }
    assert _register(api, member, "bill-of-materials", tree).status_code == 201
    fine = {
        "name": "bike",
        "parts": [{"name": "frame", "mass": {"value": 2, "unit": "kg"}, "parts": [{"name": "tube"}]}],
    }
    assert _attest(api, member, "bill-of-materials", fine).status_code in (201, 202)
    broken = {"name": "bike", "parts": [{"name": "frame", "parts": [{"mass": {"value": 1, "unit": "lb"}}]}]}
    refused = _attest(api, member, "bill-of-materials", broken)
    assert refused.status_code == 422, refused.text
