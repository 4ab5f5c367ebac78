"""Checks an EPCIS 2.0 payload before anything is stored: the ratified JSON Schema, which also
pins the CBV vocabularies (bare CBV terms, or URIs outside the CBV namespaces). The schema is
compiled once to Python (fastjsonschema) for speed; when a document fails, the reference
validator (jsonschema) names the offending field precisely."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import best_match

from service.errors import MalformedInput

SCHEMA_PATH = Path(__file__).parent / "data" / "epcis-json-schema.json"


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return schema


@lru_cache(maxsize=1)
def _fast() -> Any:
    return fastjsonschema.compile(_schema())


@lru_cache(maxsize=1)
def _reference() -> Draft7Validator:
    return Draft7Validator(_schema(), format_checker=FormatChecker())


def _explain(document: Any) -> str:
    error = best_match(_reference().iter_errors(document))
    if error is None:  # the fast validator and the reference disagree: report the fast one's view
        return "the document does not match the EPCIS 2.0 JSON Schema"
    path = "/".join(str(p) for p in error.absolute_path) or "(document)"
    context = [e.message for e in (error.context or [])][:3]
    reasons = f" ({'; '.join(context)})" if context else ""
    return f"{path}: {error.message}{reasons}"


def validate_document(document: Any) -> None:
    """Raises MalformedInput naming the first field that breaks the EPCIS 2.0 schema."""
    if not isinstance(document, dict):
        raise MalformedInput("an EPCIS payload is a JSON object (an EPCISDocument, an EPCISQueryDocument or an event)")
    try:
        _fast()(document)
    except fastjsonschema.JsonSchemaValueException:
        raise MalformedInput(f"not a valid EPCIS 2.0 document: {_explain(document)}") from None
