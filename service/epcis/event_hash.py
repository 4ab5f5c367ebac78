"""The CBV 2.0 "EPCIS Event Hash ID" (CBV 2.0 section 8.9): one hash per event, whatever its serialisation.

The hash ID is ``ni:///sha-256;<hex digest>?ver=CBV2.0`` (RFC 6920) of the event's *pre-hash string*.
Building that string is the whole algorithm; this module follows the reference implementation
(github.com/RalphTro/epcis-event-hash-generator) and reproduces its test vectors:

1. The string starts with ``eventType=<type>``. ``eventID``, ``recordTime``, ``errorDeclaration``,
   comments (``rdfs:comment``) and the fields an EPCIS document lists in ``<prefix>:ignoreFields``
   take no part.
2. The standard fields follow in the canonical property order (:data:`_EVENT`), as ``name=value``
   with no separator. A structure (``readPoint``, a ``quantityElement``, a ``sensorReport`` ...)
   contributes its name and then its own fields in their canonical order; a list contributes its name
   once, then its elements, each rendered the same way and sorted as strings (code point order).
3. Extension fields are written ``{namespace}localName=value`` (a nested object: the name followed by
   its sorted members) and sorted. Inside a standard structure they follow its standard fields; at
   event level they come last, sorted together with ``ilmd``.
4. Values are canonicalised: whitespace trimmed; bare CBV terms (``shipping``, ``Temperature``)
   expanded to their Web URI; CURIEs expanded with the namespaces of the JSON-LD ``@context``; CBV URNs
   (``urn:epcglobal:cbv:bizstep:...``) rewritten as CBV Web URIs; numbers written without trailing
   zeros or exponent, booleans as ``true``/``false``; timestamps converted to UTC with milliseconds
   (rounded half up), e.g. ``2020-03-04T10:00:30.000Z``; GS1 identifiers mapped to their canonical
   Digital Link URI (:func:`service.epcis.identifiers.canonical_id`).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from service.epcis.identifiers import canonical_id
from service.errors import InvalidField

HASH_ALGORITHM = "sha-256"
CBV_VERSION = "CBV2.0"
EVENT_TYPES = frozenset(
    {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}
)
# Prefixes of the EPCIS 2.0 JSON-LD context (https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld).
STANDARD_NAMESPACES: Mapping[str, str] = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}
# Never hashed at any level: JSON-LD contexts and comments (``rdfs:comment`` once expanded).
_NEVER_HASHED = frozenset({"@context", "comment", "{http://www.w3.org/2000/01/rdf-schema#}comment"})
# Event fields outside the hash: the type leads the pre-hash string, the others describe its recording.
_EVENT_ONLY_FIELDS = frozenset({"type", "eventID", "recordTime", "errorDeclaration"})

JSON = Any  # a value decoded from JSON


@dataclass(frozen=True, slots=True)
class HashContext:
    """The JSON-LD namespaces in scope of an event, and the extension fields to leave out of its hash."""

    namespaces: Mapping[str, str] = field(default_factory=lambda: dict(STANDARD_NAMESPACES))
    ignored: frozenset[str] = _NEVER_HASHED

    @classmethod
    def from_document(cls, document: Mapping[str, JSON]) -> HashContext:
        """The context of an EPCISDocument, an EPCISQueryDocument or a bare event.

        ``<prefix>:ignoreFields`` lists (on the document or its ``queryResults``) name fields that
        repositories add to events (a capture ID, a stored hash); they are left out of every hash.
        """
        context = cls().with_context(document.get("@context"))
        body = document.get("epcisBody")
        if not isinstance(body, Mapping):
            return context
        results = body.get("queryResults")
        holders = [document, results] if isinstance(results, Mapping) else [document]
        names = [
            name
            for holder in holders
            for key, value in holder.items()
            if key.endswith(":ignoreFields")
            for name in _string_list(key, value)
        ]
        return HashContext(context.namespaces, context.ignored | {context.expand_key(name) for name in names})

    def with_context(self, context: JSON) -> HashContext:
        """This context extended with the prefixes an ``@context`` value defines (remote contexts are ignored)."""
        entries = context if isinstance(context, list) else [context]
        prefixes = {
            prefix: namespace
            for entry in entries
            if isinstance(entry, Mapping)
            for prefix, namespace in entry.items()
            if isinstance(namespace, str) and not prefix.startswith("@")
        }
        return HashContext({**self.namespaces, **prefixes}, self.ignored) if prefixes else self

    def expand_key(self, key: str) -> str:
        """``prefix:local`` as ``{namespace}local`` when the prefix is known; any other key unchanged."""
        prefix, colon, local = key.partition(":")
        namespace = self.namespaces.get(prefix) if colon else None
        return key if namespace is None else f"{{{namespace}}}{local}"

    def expand_curie(self, value: str) -> str:
        """A compact IRI (``gs1:Angle``) as a full IRI; any other string unchanged."""
        prefix, colon, rest = value.partition(":")
        namespace = self.namespaces.get(prefix) if colon and not rest.startswith("//") else None
        return value if namespace is None else namespace + rest


DEFAULT_CONTEXT = HashContext()


def iter_events(document: dict[str, JSON]) -> list[dict[str, JSON]]:
    """The events of an EPCISDocument, an EPCISQueryDocument or a bare event, in document order.
    Raises InvalidField (a ValueError) naming the part of the document that holds no events."""
    if not isinstance(document, Mapping):
        raise InvalidField(f"an EPCIS document must be a JSON object, not {_json_type(document)}")
    body = document.get("epcisBody")
    if body is None:
        if document.get("type") in EVENT_TYPES:
            return [document]
        raise InvalidField("not an EPCISDocument, an EPCISQueryDocument or an EPCIS event: no epcisBody, no event type")
    path: tuple[str, ...] = ("epcisBody",)
    if not isinstance(body, Mapping):
        raise InvalidField(f"must be a JSON object, not {_json_type(body)}", path=path)
    if "queryResults" in body:
        for name in ("queryResults", "resultsBody"):
            body, path = body.get(name), (*path, name)
            if not isinstance(body, Mapping):
                raise InvalidField(f"'{name}' must be a JSON object, not {_json_type(body)}", path=path)
    events = body.get("eventList")
    if events is None and "event" in body:
        events, path = [body["event"]], (*path, "event")
    else:
        path = (*path, "eventList")
    if events is None:
        raise InvalidField("missing: an EPCIS document lists its events in eventList", path=path)
    if not isinstance(events, list):
        raise InvalidField(f"must be a JSON array of events, not {_json_type(events)}", path=path)
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            where: tuple[str | int, ...] = path if path[-1] == "event" else (*path, index)
            raise InvalidField(f"an event must be a JSON object, not {_json_type(event)}", path=where)
    return events


def _json_type(value: object) -> str:
    """The JSON name of a value's type, for messages."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def hash_ids(document: dict[str, JSON]) -> list[str]:
    """The hash ID of every event of a document (or of a bare event), in document order."""
    events = iter_events(document)
    context = HashContext.from_document(document)
    return [event_hash_id(event, context) for event in events]


def event_digest(event: Mapping[str, JSON], context: HashContext = DEFAULT_CONTEXT) -> str:
    """The SHA-256 hex of the event's pre-hash string."""
    return hashlib.sha256(prehash(event, context).encode()).hexdigest()


def event_hash_id(event: Mapping[str, JSON], context: HashContext = DEFAULT_CONTEXT) -> str:
    """``ni:///sha-256;<hex>?ver=CBV2.0`` of the event's pre-hash string."""
    return hash_id(event_digest(event, context))


def hash_id(hex_digest: str) -> str:
    """The hash ID of a SHA-256 hex digest."""
    return f"ni:///{HASH_ALGORITHM};{hex_digest}?ver={CBV_VERSION}"


def hash_hex(hash_id: str) -> str:
    """The SHA-256 hex of a hash ID."""
    return hash_id.removeprefix(f"ni:///{HASH_ALGORITHM};").split("?", 1)[0]


def prehash(event: Mapping[str, JSON], context: HashContext = DEFAULT_CONTEXT) -> str:
    """The canonical pre-hash string of one event.

    `context` carries the document's namespaces and ignored fields; the event's own ``@context``,
    if any, is applied on top of it.
    """
    if not isinstance(event, Mapping):
        raise ValueError(f"an EPCIS event must be a JSON object, not {type(event).__name__}")
    event_type = event.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise ValueError("an EPCIS event needs a 'type' (ObjectEvent, AggregationEvent ...)")
    if "@context" in event:
        context = context.with_context(event["@context"])
    return f"eventType={event_type}{_fields(event, _EVENT, context, _EVENT_ONLY_FIELDS)}"


# --- structure: the canonical property order --------------------------------------------------------------

ValueRenderer = Callable[[JSON, HashContext], str]
FieldRenderer = Callable[[str, JSON, HashContext], list[str]]
Order = dict[str, FieldRenderer]  # field name -> renderer, in canonical order


def _fields(obj: Mapping[str, JSON], order: Order, context: HashContext, skip: frozenset[str] = frozenset()) -> str:
    """The standard fields of `obj` in canonical order, then its extension fields, sorted."""
    pieces = []
    standard = 0
    for name, render in order.items():
        if name in obj:
            standard += 1
            rendered = render(name, obj[name], context)
            rendered.sort()
            pieces += rendered
    if standard < len(obj):
        extensions = [(key, value) for key, value in obj.items() if key not in order and key not in skip]
        pieces.append(_extensions(extensions, context))
    return "".join(pieces)


def _leaf(render_value: ValueRenderer) -> FieldRenderer:
    """A field holding a value (or a list of values): one ``name=value`` piece per non-empty value."""

    def render(name: str, value: JSON, context: HashContext) -> list[str]:
        if isinstance(value, list):
            return [f"{name}={text}" for text in (render_value(item, context) for item in value) if text]
        text = render_value(value, context)
        return [f"{name}={text}"] if text else []

    return render


def _record(order: Order) -> FieldRenderer:
    """A structure (or a list of them): its name followed by its fields, one piece per non-empty structure."""

    def render(name: str, value: JSON, context: HashContext) -> list[str]:
        bodies = [_fields(_as_object(name, item), order, context) for item in _as_list(value)]
        return [name + body for body in bodies if body]

    return render


def _list(element_name: str, element: FieldRenderer) -> FieldRenderer:
    """A list field: its name once, then its elements, sorted."""

    def render(name: str, value: JSON, context: HashContext) -> list[str]:
        elements = sorted(element(element_name, value, context))
        return [name + "".join(elements)] if elements else []

    return render


def _extensions(fields: Iterable[tuple[str, JSON]], context: HashContext) -> str:
    """Extension fields as sorted ``{namespace}local=value`` pieces (comments and ignored fields left out)."""
    pieces = []
    for key, value in fields:
        name = context.expand_key(key)
        if name not in context.ignored:
            pieces.extend(_extension(name, value, context))
    return "".join(sorted(pieces))


def _extension(name: str, value: JSON, context: HashContext) -> list[str]:
    """One extension field: a list repeats the name per element, an object nests its sorted members."""
    if isinstance(value, list):
        return [piece for item in value for piece in _extension(name, item, context)]
    if isinstance(value, Mapping):
        return [name + _extensions(value.items(), context)]
    if value is None:
        return []
    text = _plain(value, context)
    return [f"{name}={text}" if text else name]


# --- values ------------------------------------------------------------------------------------------------

_CBV_URN = "urn:epcglobal:cbv:"
_CBV_URNS = (
    ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
)
_BARE_TERM = re.compile(r"[A-Za-z_]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TIMESTAMP = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]+))?(?:[Zz]|([+-])([0-9]{2}):?([0-9]{2}))"
)


def _plain(value: JSON, context: HashContext) -> str:
    """The canonical text of a scalar value ("" for null or an empty string)."""
    if isinstance(value, str):
        return _canonical_text(value, context)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if value is None:
        return ""
    raise ValueError(f"expected a text, number or boolean value, got a JSON {type(value).__name__}: {value!r:.80}")


def _canonical_text(text: str, context: HashContext) -> str:
    """A text value: a numeral is normalised; a CURIE, CBV URN or GS1 identifier becomes its canonical URI."""
    text = text.strip()
    if ":" not in text:
        number = _canonical_number(text)
        return text if number is None else number
    text = context.expand_curie(text)
    if text.startswith(_CBV_URN):
        for urn, web_uri in _CBV_URNS:
            if text.startswith(urn):
                return web_uri + text[len(urn) :]
    return canonical_id(text)


def _canonical_number(text: str) -> str | None:
    """A numeral in plain notation without ``+``, leading or trailing zeros; None if `text` is no numeral.

    A numeral with an exponent goes through a float (like the reference implementation), one without
    is rewritten exactly, however many digits it has.
    """
    if not _NUMBER.fullmatch(text):
        return None
    if "e" in text or "E" in text:
        number = float(text)
        return _float_text(number) if math.isfinite(number) else None
    return _decimal_text(text)


def _decimal_text(numeral: str) -> str:
    """A numeral without exponent (``+012.340``) as ``12.34``; negative zero as ``0``."""
    sign = "-" if numeral.startswith("-") else ""
    whole, _, fraction = numeral.lstrip("+-").partition(".")
    whole, fraction = whole.lstrip("0") or "0", fraction.rstrip("0")
    if whole == "0" and not fraction:
        return "0"
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


def _float_text(number: float) -> str:
    """A JSON number as the shortest decimal that reads back as the same float, in plain notation."""
    if not math.isfinite(number):
        raise ValueError(f"{number} is not a finite number")
    return _decimal_text(format(Decimal(repr(number)), "f"))


def _vocabulary(base: str) -> ValueRenderer:
    """A CBV/GS1 vocabulary value: a bare term (``in_transit``) becomes ``base`` + term."""

    def render(value: JSON, context: HashContext) -> str:
        if isinstance(value, str) and _BARE_TERM.fullmatch(term := value.strip()):
            return base + term
        return _plain(value, context)

    return render


def _timestamp(value: JSON, context: HashContext) -> str:
    """An ISO 8601 date-time with UTC offset, in UTC with milliseconds (``2020-03-04T10:00:30.000Z``).

    Digits beyond the millisecond round half up: ``.1415`` gives ``.142``, ``.1414`` gives ``.141``.
    """
    match = _TIMESTAMP.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r:.80} is not an ISO 8601 date-time with a UTC offset")
    seconds, fraction, sign, offset_hours, offset_minutes = match.groups()
    milliseconds = int(fraction[:3].ljust(3, "0")) if fraction else 0
    if fraction and len(fraction) > 3 and fraction[3] >= "5":
        milliseconds += 1
    offset = (int(offset_hours) * 60 + int(offset_minutes)) * 60 if sign else 0
    shift = milliseconds // 1000 - (-offset if sign == "-" else offset)  # seconds to add to reach UTC
    try:
        utc = datetime.fromisoformat(seconds)
        if shift:
            utc += timedelta(0, shift)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"{value!r} is not a valid date-time: {error}") from None
    return f"{utc.isoformat()}.{milliseconds % 1000:03d}Z"


def _as_list(value: JSON) -> list[JSON]:
    return value if isinstance(value, list) else [value]


def _as_object(name: str, value: JSON) -> Mapping[str, JSON]:
    if not isinstance(value, Mapping):
        raise ValueError(f"'{name}' must be a JSON object, got {value!r:.80}")
    return value


def _string_list(name: str, value: JSON) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"'{name}' must be a list of field names")
    return value


_PLAIN = _leaf(_plain)
_TIME = _leaf(_timestamp)
_CBV = "https://ref.gs1.org/cbv/"
_GS1 = "https://gs1.org/voc/"
_DISPOSITION = _leaf(_vocabulary(f"{_CBV}Disp-"))
_EPCS = _list("epc", _PLAIN)
_QUANTITIES = _list("quantityElement", _record({"epcClass": _PLAIN, "quantity": _PLAIN, "uom": _PLAIN}))
_LOCATION = _record({"id": _PLAIN})


def _typed_list(name: str, types: str) -> FieldRenderer:
    """``bizTransactionList``, ``destinationList``, ``sourceList``: elements are ``type=...`` then the ID."""
    return _list("", _record({"type": _leaf(_vocabulary(f"{_CBV}{types}-")), name: _PLAIN}))


_SENSOR_METADATA: Order = {
    "time": _TIME,
    "startTime": _TIME,
    "endTime": _TIME,
    "deviceID": _PLAIN,
    "deviceMetadata": _PLAIN,
    "rawData": _PLAIN,
    "dataProcessingMethod": _PLAIN,
    "bizRules": _PLAIN,
}
_SENSOR_REPORT: Order = {
    "type": _leaf(_vocabulary(_GS1)),
    "exception": _leaf(_vocabulary(_GS1)),
    "deviceID": _PLAIN,
    "deviceMetadata": _PLAIN,
    "rawData": _PLAIN,
    "dataProcessingMethod": _PLAIN,
    "time": _TIME,
    "microorganism": _PLAIN,
    "chemicalSubstance": _PLAIN,
    "value": _PLAIN,
    "component": _leaf(_vocabulary(f"{_CBV}Comp-")),
    "stringValue": _PLAIN,
    "booleanValue": _PLAIN,
    "hexBinaryValue": _PLAIN,
    "uriValue": _PLAIN,
    "minValue": _PLAIN,
    "maxValue": _PLAIN,
    "meanValue": _PLAIN,
    "sDev": _PLAIN,
    "percRank": _PLAIN,
    "percValue": _PLAIN,
    "uom": _PLAIN,
    "coordinateReferenceSystem": _PLAIN,
}
_SENSOR_ELEMENT: Order = {"sensorMetadata": _record(_SENSOR_METADATA), "sensorReport": _record(_SENSOR_REPORT)}
# The canonical property order of CBV 2.0 section 8.9. As in the reference implementation and its test
# vectors, destinationList comes before sourceList.
_EVENT: Order = {
    "eventTime": _TIME,
    "eventTimeZoneOffset": _PLAIN,
    "certificationInfo": _PLAIN,
    "parentID": _PLAIN,
    "epcList": _EPCS,
    "inputEPCList": _EPCS,
    "childEPCs": _EPCS,
    "quantityList": _QUANTITIES,
    "childQuantityList": _QUANTITIES,
    "inputQuantityList": _QUANTITIES,
    "outputEPCList": _EPCS,
    "outputQuantityList": _QUANTITIES,
    "action": _PLAIN,
    "transformationID": _PLAIN,
    "bizStep": _leaf(_vocabulary(f"{_CBV}BizStep-")),
    "disposition": _DISPOSITION,
    "persistentDisposition": _record({"set": _DISPOSITION, "unset": _DISPOSITION}),
    "readPoint": _LOCATION,
    "bizLocation": _LOCATION,
    "bizTransactionList": _typed_list("bizTransaction", "BTT"),
    "destinationList": _typed_list("destination", "SDT"),
    "sourceList": _typed_list("source", "SDT"),
    "sensorElementList": _list("sensorElement", _record(_SENSOR_ELEMENT)),
}
