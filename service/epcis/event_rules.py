"""The EPCIS 2.0 rules an event keeps that the JSON Schema cannot express, or expresses only through an
``anyOf`` whose failure names some other field (a bad ``action`` used to read as an ``ilmd`` problem).

EPCIS 2.0, section 7.4 (the event types) and 7.3 (their parts):

* ``action`` (ADD, OBSERVE or DELETE) is required in Object, Aggregation, Transaction and Association
  events, and absent from a TransformationEvent;
* an AggregationEvent ADD or DELETE names its ``parentID`` (only OBSERVE may omit it); an
  AssociationEvent always does;
* a TransformationEvent has at least one input or output;
* ``ilmd`` describes objects as they are made: only an ObjectEvent ADD or a TransformationEvent carries it;
* a quantity element with a ``uom`` carries a numeric ``quantity``; without a ``uom`` the quantity is a
  count of instances, a whole number;
* every time carries its time zone offset (``Z`` or ``±hh:mm``), as ``eventTime`` does;
* a sensor report's ``minValue`` is at most its ``maxValue``, ``percRank`` a percentage; sensor
  metadata's ``startTime`` is not after its ``endTime``.

Each problem is the path of its field inside the event and what is wrong. The rules read any JSON:
whatever is not shaped as EPCIS expects (a list where an object belongs) is left to the schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, TypeGuard

Path = tuple[str | int, ...]
Problem = tuple[Path, str]

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
ACTIONS = ("ADD", "OBSERVE", "DELETE")
_WITH_ACTION = frozenset(EVENT_TYPES) - {"TransformationEvent"}
_TRANSFORMATION_PARTS = ("inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?")


def event_problems(event: Mapping[str, Any]) -> Iterator[Problem]:
    """Every rule of EPCIS 2.0 above that `event` breaks, in the order of the fields named."""
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        return  # the schema names the event type it expects
    yield from _action_problems(kind, event)
    yield from _parent_problems(kind, event)
    if kind == "TransformationEvent" and not any(_non_empty(event.get(part)) for part in _TRANSFORMATION_PARTS):
        yield (), f"a TransformationEvent has at least one input or output ({', '.join(_TRANSFORMATION_PARTS)})"
    makes_objects = kind == "TransformationEvent" or (kind == "ObjectEvent" and event.get("action") == "ADD")
    if "ilmd" in event and not makes_objects:
        yield (
            ("ilmd",),
            f"only an ObjectEvent ADD or a TransformationEvent (they make objects) carries ilmd, not {_a(kind)}"
            + (f" {event['action']}" if isinstance(event.get("action"), str) else ""),
        )
    for name in _QUANTITY_LISTS:
        yield from _quantity_problems(name, event.get(name))
    yield from _time_problems(event)
    yield from _sensor_problems(event.get("sensorElementList"))


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "AEIOU" else f"a {kind}"


def _action_problems(kind: str, event: Mapping[str, Any]) -> Iterator[Problem]:
    if kind not in _WITH_ACTION:
        if "action" in event:
            yield ("action",), "a TransformationEvent has no action (its inputs are consumed, its outputs made)"
        return
    if "action" not in event:
        yield ("action",), f"required in {_a(kind)}: ADD, OBSERVE or DELETE"
    elif event["action"] not in ACTIONS:
        yield ("action",), f"{event['action']!r} is no EPCIS action: ADD, OBSERVE or DELETE, in capitals"


def _parent_problems(kind: str, event: Mapping[str, Any]) -> Iterator[Problem]:
    if "parentID" in event:
        return
    action = event.get("action")
    if kind == "AggregationEvent" and action in ("ADD", "DELETE"):
        verb = "added to" if action == "ADD" else "removed from"
        yield (
            ("parentID",),
            f"required in an AggregationEvent {action}: the container the children are {verb} (only OBSERVE may omit it)",
        )
    elif kind == "AssociationEvent":
        yield ("parentID",), "required in an AssociationEvent: the object the children are associated with"


def _non_empty(value: Any) -> bool:
    return isinstance(value, list) and len(value) > 0


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _quantity_problems(name: str, elements: Any) -> Iterator[Problem]:
    for index, element in enumerate(elements if isinstance(elements, list) else ()):
        if not isinstance(element, dict):
            continue
        quantity = element.get("quantity")
        if "uom" in element and quantity is None:
            yield (
                (name, index, "quantity"),
                f"required with a uom ({element['uom']!r}): how much of the class, in that unit",
            )
        elif quantity is not None and not _is_number(quantity):
            yield (name, index, "quantity"), f"{quantity!r} is not a number"
        elif quantity is not None and "uom" not in element and quantity != int(quantity):
            yield (name, index, "quantity"), f"{quantity!r}: without a uom a quantity counts instances, a whole number"


def _offset_problem(value: Any) -> str | None:
    """Why a date-time lacks its time zone offset; None if it has one or is no date-time at all (the
    schema's format check names that)."""
    if not isinstance(value, str):
        return None
    match = _DATE_TIME.fullmatch(value)
    if match is None or match["offset"] is not None:
        return None
    return f"{value!r} has no time zone offset: an EPCIS time ends in Z or ±hh:mm"


def _time_problems(event: Mapping[str, Any]) -> Iterator[Problem]:
    for name in ("eventTime", "recordTime"):
        if (problem := _offset_problem(event.get(name))) is not None:
            yield (name,), problem
    declaration = event.get("errorDeclaration")
    if isinstance(declaration, dict) and (problem := _offset_problem(declaration.get("declarationTime"))):
        yield ("errorDeclaration", "declarationTime"), problem


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or _DATE_TIME.fullmatch(value) is None or _offset_problem(value):
        return None
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None


def _sensor_problems(elements: Any) -> Iterator[Problem]:
    for index, element in enumerate(elements if isinstance(elements, list) else ()):
        if not isinstance(element, dict):
            continue
        where: Path = ("sensorElementList", index)
        metadata = element.get("sensorMetadata")
        if isinstance(metadata, dict):
            for name in ("time", "startTime", "endTime"):
                if (problem := _offset_problem(metadata.get(name))) is not None:
                    yield (*where, "sensorMetadata", name), problem
            start, end = _instant(metadata.get("startTime")), _instant(metadata.get("endTime"))
            if start is not None and end is not None and start > end:
                yield (
                    (*where, "sensorMetadata", "startTime"),
                    f"{metadata['startTime']!r} is after endTime {metadata['endTime']!r}",
                )
        reports = element.get("sensorReport")
        for number, report in enumerate(reports if isinstance(reports, list) else ()):
            if isinstance(report, dict):
                yield from (
                    ((*where, "sensorReport", number, *path), problem) for path, problem in _report_problems(report)
                )


def _report_problems(report: Mapping[str, Any]) -> Iterator[Problem]:
    if (problem := _offset_problem(report.get("time"))) is not None:
        yield ("time",), problem
    low, high = report.get("minValue"), report.get("maxValue")
    if _is_number(low) and _is_number(high) and low > high:
        yield ("minValue",), f"{low} is above maxValue {high}"
    rank = report.get("percRank")
    if _is_number(rank) and not 0 <= rank <= 100:
        yield ("percRank",), f"{rank} is no percentile rank (0 to 100)"
