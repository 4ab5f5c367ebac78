"""Checks an EPCIS 2.0 payload before anything is stored: :func:`validate_document` is the one check,
shared by capture, the CSV importer and ``constellate capture --check``. It applies the ratified JSON
Schema, which also pins the CBV vocabularies (bare CBV terms, or URIs outside the CBV namespaces).
Documents are checked by jsonschema-rs (compiled Rust, formats enforced: about 5 ms per 1,000 events);
when one fails, the reference validator (jsonschema) names the offending field precisely.

Holes of the schema are closed first: the rules of EPCIS 2.0 it cannot express
(:mod:`service.epcis.event_rules`: action, parentID, inputs and outputs, ILMD, quantities, time
offsets, sensor ranges); a vocabulary value in a GS1 namespace (``https://ref.gs1.org/cbv/BizStep-shiping``,
``cbv:Disp-in_progres``, ``gs1:Temperatur``) must be a term of that vocabulary, as a bare term must; an
EPC URN, a Digital Link URI on GS1's resolver, or a Digital Link URI on any host with a wrong check
digit, is no GS1 key (:func:`service.epcis.identifiers.identifier_problem`; the schema asks only for a
URI); ``<prefix>:ignoreFields`` must list field names (the event hash reads it). That pass costs about
0.1 ms per event; the identifiers it canonicalises are cached for the hash.

Every refusal is an InvalidField whose path names the field (``epcisBody.eventList[3].action``)."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import best_match

from service.epcis.event_hash import HashContext
from service.epcis.event_rules import Path as FieldPath
from service.epcis.event_rules import Problem, event_problems
from service.epcis.identifiers import identifier_problem
from service.errors import InvalidField, MalformedInput

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


def _explain(document: Any) -> Problem:
    """The most relevant schema violation, descending into anyOf/oneOf to the concrete field; a missing
    property is named by its own path."""
    error = best_match(_reference().iter_errors(document))
    if error is None:  # the reference validator disagrees (it checks no "uri" format): the fast one's deepest error
        fast = max(_fast().iter_errors(document), key=lambda e: len(e.instance_path), default=None)
        if fast is None:
            return (), "the document does not match the EPCIS 2.0 JSON Schema"
        return tuple(fast.instance_path), fast.message[:300]
    while error.context:
        deeper = best_match(error.context)
        if deeper is None:
            break
        error = deeper
    path: FieldPath = tuple(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = next((name for name in error.validator_value if name not in error.instance), None)
        if missing is not None:
            return (*path, missing), "required here, and missing"
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return path, message


CONTEXT = "not a valid EPCIS 2.0 document: "
"""How every refusal of a document begins, before the field's path."""


def validate_document(document: Any) -> None:
    """Raises InvalidField naming the first field that breaks EPCIS 2.0 (its rules, the CBV
    vocabularies, the GS1 keys, then the schema); MalformedInput if `document` is no JSON object."""
    if not isinstance(document, dict):
        raise MalformedInput("an EPCIS payload is a JSON object (an EPCISDocument, an EPCISQueryDocument or an event)")
    problem = next(_problems_beyond_the_schema(document), None)
    if problem is None and not _fast().is_valid(document):
        problem = _explain(document)
    if problem is not None:
        path, message = problem
        raise InvalidField(message, path=path, context=CONTEXT)


# --- what the schema lets through ------------------------------------------------------------------------

_GS1_NAMESPACE = re.compile(r"https?://(?:ref\.gs1\.org/cbv|(?:www\.|id\.)?gs1\.org/voc)/(.*)")
"""CBV 2.0 Web URIs and the GS1 Web Vocabulary (the spellings service.epcis.policy reads too)."""


@lru_cache(maxsize=1)
def _vocabularies() -> dict[str, tuple[str, str, frozenset[str]]]:
    """Each vocabulary of the schema: its name in messages, its URI prefix and its terms (the schema's enum)."""
    definitions = _schema()["definitions"]

    def terms(name: str) -> frozenset[str]:
        return frozenset(next(a["enum"] for a in definitions[name]["anyOf"] if "enum" in a))

    return {
        "bizStep": ("business step", "BizStep-", terms("bizStep")),
        "disposition": ("disposition", "Disp-", terms("disposition")),
        "bizTransaction-type": ("business transaction type", "BTT-", terms("bizTransaction-type")),
        "source-dest-type": ("source/destination type", "SDT-", terms("source-dest-type")),
        "error-reason": ("error reason", "ER-", terms("error-reason")),
        "component": ("sensor component", "Comp-", terms("component")),
        "measurementType": ("measurement type", "", terms("measurementType")),
        "sensorAlertType": ("sensor alert type", "", terms("sensorAlertType")),
    }


def _term_problem(value: str, vocabulary: str, expand: Callable[[str], str]) -> str | None:
    """Why `value` is no term of `vocabulary` although it claims to be one: a bare word, a CBV URN, or a
    GS1 URI naming a term of a CBV vocabulary (``cbv:BizStep-...``) or of the GS1 Web Vocabulary."""
    name, prefix, terms = _vocabularies()[vocabulary]
    if value in terms:
        return None
    if value.startswith("urn:epcglobal:cbv:"):
        term = value.rpartition(":")[2]
        return f"{value!r}: EPCIS 2.0 JSON writes a CBV {name} bare ({term!r}) or as a Web URI, not as an EPCIS 1.x URN"
    if ":" not in value:
        return f"{value!r} is no CBV 2.0 {name}{_guess(value, terms)}: a bare word must be a CBV term, any other value a URI"
    match = _GS1_NAMESPACE.fullmatch(expand(value))
    if match is None:
        return None  # a URI of the capturer's own vocabulary (the schema checks it is one)
    local = match[1]
    if prefix:
        claimed = next((p for p in _cbv_prefixes() if local.startswith(p)), None)
        if claimed is None:
            return None  # another name in GS1's namespace (OpenEPCIS's valid cases use cbv:my_own_party)
        if claimed == prefix and local[len(prefix) :] in terms:
            return None
        local = local[len(claimed) :]
    elif local in terms:
        return None
    spelling = f"https://ref.gs1.org/cbv/{prefix}<term>" if prefix else "https://gs1.org/voc/<term>"
    return f"{value!r} is no CBV 2.0 {name}{_guess(local, terms)}: GS1's URIs for them are {spelling}"


def _cbv_prefixes() -> list[str]:
    return [prefix for _, prefix, _ in _vocabularies().values() if prefix]


def _guess(word: str, terms: frozenset[str]) -> str:
    close = difflib.get_close_matches(word, sorted(terms), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


IDENTIFIER = ""
"""In the table below, a field holding a GS1 identifier (any other value names a vocabulary)."""
Spec = dict[str, "str | Spec"]
# Where events hold vocabulary terms and identifiers (a list holds them in each of its elements).
_EVENT: Spec = {
    "bizStep": "bizStep",
    "disposition": "disposition",
    "persistentDisposition": {"set": "disposition", "unset": "disposition"},
    "errorDeclaration": {"reason": "error-reason"},
    "parentID": IDENTIFIER,
    "epcList": IDENTIFIER,
    "childEPCs": IDENTIFIER,
    "inputEPCList": IDENTIFIER,
    "outputEPCList": IDENTIFIER,
    "quantityList": {"epcClass": IDENTIFIER},
    "childQuantityList": {"epcClass": IDENTIFIER},
    "inputQuantityList": {"epcClass": IDENTIFIER},
    "outputQuantityList": {"epcClass": IDENTIFIER},
    "readPoint": {"id": IDENTIFIER},
    "bizLocation": {"id": IDENTIFIER},
    "bizTransactionList": {"type": "bizTransaction-type", "bizTransaction": IDENTIFIER},
    "sourceList": {"type": "source-dest-type", "source": IDENTIFIER},
    "destinationList": {"type": "source-dest-type", "destination": IDENTIFIER},
    "sensorElementList": {
        "sensorMetadata": {"deviceID": IDENTIFIER},
        "sensorReport": {
            "type": "measurementType",
            "exception": "sensorAlertType",
            "component": "component",
            "deviceID": IDENTIFIER,
        },
    },
}


def _problems_beyond_the_schema(document: dict[str, Any]) -> Iterator[Problem]:
    """Each broken EPCIS rule, misspelt vocabulary term and malformed GS1 identifier, with its path. It
    reads any JSON (the schema is checked after it): whatever is not shaped as EPCIS expects is left to
    the schema."""
    body = document.get("epcisBody")
    results = body.get("queryResults") if isinstance(body, dict) else None
    for base, holder in (((), document), (("epcisBody", "queryResults"), results)):
        for key, value in holder.items() if isinstance(holder, dict) else ():
            if key.endswith(":ignoreFields") and not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                yield (*base, key), "must be a list of the names of the fields the event hash leaves out"
    document_context = HashContext().with_context(document.get("@context"))
    for located, event in _located_events(document):
        for where, problem in event_problems(event):
            yield (*located, *where), problem
        context = document_context.with_context(event["@context"]) if "@context" in event else document_context
        found = _first_problem(event, _EVENT, context.expand_curie)
        if found is not None:
            steps, problem = found
            yield (*located, *reversed(steps)), problem


def _located_events(document: dict[str, Any]) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """The events of a document (or the bare event), each with its path (``epcisBody``, ``eventList``, 3)."""
    body = document.get("epcisBody")
    if body is None:
        yield (), document
        return
    results = body.get("queryResults") if isinstance(body, dict) else None
    holder, base = (body, ("epcisBody",)) if results is None else (results, ("epcisBody", "queryResults"))
    if results is not None:
        holder, base = (holder.get("resultsBody") if isinstance(holder, dict) else None), (*base, "resultsBody")
    events = holder.get("eventList") if isinstance(holder, dict) else None
    for index, event in enumerate(events if isinstance(events, list) else ()):
        if isinstance(event, dict):
            yield (*base, "eventList", index), event


def _first_problem(value: Any, spec: str | Spec, expand: Callable[[str], str]) -> tuple[list[str | int], str] | None:
    """The first misspelt term or malformed identifier in `value` as `spec` describes it: its path (innermost
    step first) and what is wrong; None if there is none."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_problem(item, spec, expand)
            if found is not None:
                found[0].append(index)
                return found
        return None
    if isinstance(spec, dict):
        for key, item in value.items() if isinstance(value, dict) else ():
            inner = spec.get(key)
            if inner is not None and (found := _first_problem(item, inner, expand)) is not None:
                found[0].append(key)
                return found
        return None
    if not isinstance(value, str):
        return None
    problem = identifier_problem(value) if spec == IDENTIFIER else _term_problem(value, spec, expand)
    return None if problem is None else ([], problem)
