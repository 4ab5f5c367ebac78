"""EPCIS 2.0 events from a CSV file, one event per row, for partners whose systems export
spreadsheets rather than EPCIS documents (`constellate capture FILE.csv`).

The columns are named after the EPCIS fields they fill (`COLUMNS`; which apply to which event
type: `APPLIES`; the guide with an example: docs/cli.md). Header names match without regard to
case; only `eventTime` is required; an empty cell is absent; lists are separated by spaces or
`|`; business steps and dispositions are written in CBV short form; identifiers are EPC URNs
or GS1 Digital Link URIs, which the service normalises. Rows are numbered as a spreadsheet
shows them (the header is row 1), and every problem names its row and column: `check_events`
runs the service's own validator (EPCIS 2.0 rules, CBV vocabularies, GS1 keys and check digits, the
JSON Schema), so a bad file is refused before anything of it is sent."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from service.epcis.analysis import epcis_document
from service.epcis.policy import biz_step_term, disposition_term
from service.epcis.validation import validate_document
from service.errors import InvalidField, MalformedInput

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent", "AssociationEvent")
ACTIONS = ("ADD", "OBSERVE", "DELETE")

_COMMON = (
    "eventType",
    "eventTime",
    "eventTimeZoneOffset",
    "eventID",
    "bizStep",
    "disposition",
    "readPoint",
    "bizLocation",
    "bizTransactions",
    "sourceOwningParty",
    "sourcePossessingParty",
    "sourceLocation",
    "destinationOwningParty",
    "destinationPossessingParty",
    "destinationLocation",
)
_QUANTITY = ("epcClass", "quantity", "uom")
_INPUTS = ("inputEPCList", "inputEPCClass", "inputQuantity", "inputUOM")
_OUTPUTS = ("outputEPCList", "outputEPCClass", "outputQuantity", "outputUOM")
APPLIES: dict[str, tuple[str, ...]] = {
    "ObjectEvent": ("action", "epcList", *_QUANTITY),
    "AggregationEvent": ("action", "parentID", "childEPCs", *_QUANTITY),
    "TransactionEvent": ("action", "parentID", "epcList", *_QUANTITY),
    "AssociationEvent": ("action", "parentID", "childEPCs", *_QUANTITY),
    "TransformationEvent": ("transformationID", *_INPUTS, *_OUTPUTS),
}
"""The columns each event type takes besides the common ones."""
COLUMNS: tuple[str, ...] = tuple(dict.fromkeys((*_COMMON, *(c for cs in APPLIES.values() for c in cs))))

_PARTIES = {
    "OwningParty": "owning_party",
    "PossessingParty": "possessing_party",
    "Location": "location",
}
_SEPARATOR = re.compile(r"[\s|]+")
_OFFSET = re.compile(r"^[+-](?:0\d|1[0-4]):[0-5]\d$")
_TYPED_TRANSACTION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.+)$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


class CsvEventError(MalformedInput):
    """A row that cannot be an EPCIS event: names the row (the header is row 1) and the column."""

    def __init__(self, row: int, column: str | None, message: str) -> None:
        where = f"row {row}" + (f", column {column}" if column else "")
        super().__init__(f"{where}: {message}")
        self.row, self.column = row, column


@dataclass(frozen=True)
class CsvEvent:
    row: int
    """The spreadsheet row it came from (the header is row 1)."""
    event: dict[str, Any]


def read_events(lines: Iterable[str], *, delimiter: str = ",") -> Iterator[CsvEvent]:
    """The events of a CSV file (an iterable of its lines), one per non-empty row, in order.
    Raises CsvEventError naming the first bad row and column."""
    reader = csv.reader(lines, delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        raise CsvEventError(1, None, "the file is empty: the first row names the columns")
    columns = _columns(header)
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns):
            raise CsvEventError(number, None, f"{len(cells)} cells, but the header names {len(columns)} columns")
        row = {column: cell.strip() for column, cell in zip(columns, cells, strict=False) if cell.strip()}
        yield CsvEvent(number, event_of(row, number))


def _columns(header: Sequence[str]) -> list[str]:
    known = {column.lower(): column for column in COLUMNS}
    columns: list[str] = []
    for raw in header:
        name = raw.strip().lstrip("\ufeff")
        column = known.get(name.lower())
        if column is None:
            raise CsvEventError(1, name or "(empty)", f"not a known column; the columns are: {', '.join(COLUMNS)}")
        if column in columns:
            raise CsvEventError(1, column, "named twice")
        columns.append(column)
    if "eventTime" not in columns:
        raise CsvEventError(1, "eventTime", "missing: every event needs its time")
    return columns


def event_of(row: Mapping[str, str], number: int) -> dict[str, Any]:
    """One row (column → non-empty cell) as an EPCIS 2.0 event in JSON-LD form."""
    kind = row.get("eventType", "ObjectEvent")
    if kind not in EVENT_TYPES:
        matching = next((t for t in EVENT_TYPES if t.lower() == kind.lower()), None)
        if matching is None:
            raise CsvEventError(number, "eventType", f"{kind!r} is not one of {', '.join(EVENT_TYPES)}")
        kind = matching
    misplaced = [c for c in row if c not in _COMMON and c not in APPLIES[kind]]
    if misplaced:
        article = "an" if kind[0] in "AEIOU" else "a"
        raise CsvEventError(number, misplaced[0], f"does not apply to {article} {kind}")
    when, offset = _time(row, number)
    event: dict[str, Any] = {"type": kind, "eventTime": when, "eventTimeZoneOffset": offset}
    if "eventID" in row:
        event["eventID"] = _uri(row["eventID"], number, "eventID")
    if kind == "TransformationEvent":
        _put_list(event, "inputEPCList", row, number, "inputEPCList")
        _put_quantities(event, "inputQuantityList", row, number, _INPUTS[1:])
        _put_list(event, "outputEPCList", row, number, "outputEPCList")
        _put_quantities(event, "outputQuantityList", row, number, _OUTPUTS[1:])
        if "transformationID" in row:
            event["transformationID"] = _uri(row["transformationID"], number, "transformationID")
        if not any(k in event for k in ("inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList")):
            raise CsvEventError(number, "inputEPCList", "a TransformationEvent needs inputs or outputs")
    else:
        action = row.get("action", "OBSERVE").upper()
        if action not in ACTIONS:
            raise CsvEventError(number, "action", f"{row['action']!r} is not one of {', '.join(ACTIONS)}")
        if "parentID" in row:
            event["parentID"] = _uri(row["parentID"], number, "parentID")
        contents = "childEPCs" if kind in ("AggregationEvent", "AssociationEvent") else "epcList"
        _put_list(event, contents, row, number, contents)
        quantities = "childQuantityList" if contents == "childEPCs" else "quantityList"
        _put_quantities(event, quantities, row, number, _QUANTITY)
        event["action"] = action
        if kind == "ObjectEvent" and "epcList" not in event and "quantityList" not in event:
            raise CsvEventError(number, "epcList", "an ObjectEvent needs its objects: epcList, or epcClass")
        if contents == "childEPCs" and action != "DELETE" and contents not in event and quantities not in event:
            raise CsvEventError(number, "childEPCs", f"an {kind} that does not DELETE needs its contents")
    for column, vocabulary in (("bizStep", biz_step_term), ("disposition", disposition_term)):
        if column in row:
            event[column] = _cbv(row[column], vocabulary, number, column)
    for column in ("readPoint", "bizLocation"):
        if column in row:
            event[column] = {"id": _uri(row[column], number, column)}
    transactions = [_transaction(v, number) for v in _split(row.get("bizTransactions"))]
    if transactions:
        event["bizTransactionList"] = transactions
    if kind == "TransactionEvent" and not transactions:
        raise CsvEventError(number, "bizTransactions", "a TransactionEvent needs its business transactions")
    for end in ("source", "destination"):
        entries = [
            {"type": cbv_type, end: _uri(value, number, end + suffix)}
            for suffix, cbv_type in _PARTIES.items()
            for value in _split(row.get(end + suffix))
        ]
        if entries:
            event[f"{end}List"] = entries
    return event


def _time(row: Mapping[str, str], number: int) -> tuple[str, str]:
    raw = row.get("eventTime")
    if raw is None:
        raise CsvEventError(number, "eventTime", "empty: every event needs its time")
    offset = row.get("eventTimeZoneOffset")
    if offset is not None and not _OFFSET.match(offset):
        raise CsvEventError(number, "eventTimeZoneOffset", f"{offset!r} is not an offset like +01:00 or -06:00")
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise CsvEventError(number, "eventTime", f"{raw!r} is not an RFC 3339 date-time") from None
    if "T" not in raw.upper():
        raise CsvEventError(number, "eventTime", f"{raw!r} is not a date and time like 2026-03-01T08:00:00Z")
    if parsed.tzinfo is None:
        if offset is None:
            raise CsvEventError(
                number, "eventTime", f"{raw!r} has no offset: add one (Z, +01:00) or eventTimeZoneOffset"
            )
        return raw + offset, offset
    if offset is None:
        seconds = int((parsed.utcoffset() or timedelta()).total_seconds())
        sign, seconds = ("-" if seconds < 0 else "+"), abs(seconds)
        offset = f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        raise CsvEventError(number, "eventTime", f"{raw!r} is outside the calendar's range") from None
    return raw, offset


def _split(cell: str | None) -> list[str]:
    return [part for part in _SEPARATOR.split(cell) if part] if cell else []


def _uri(value: str, number: int, column: str) -> str:
    if not _URI.match(value):
        raise CsvEventError(
            number, column, f"{value!r} is not an identifier: write an EPC URN or a GS1 Digital Link URI"
        )
    return value


def _put_list(event: dict[str, Any], field: str, row: Mapping[str, str], number: int, column: str) -> None:
    values = [_uri(value, number, column) for value in _split(row.get(column))]
    if values:
        event[field] = values


def _put_quantities(
    event: dict[str, Any], field: str, row: Mapping[str, str], number: int, columns: tuple[str, ...]
) -> None:
    class_column, quantity_column, uom_column = columns
    classes = [_uri(value, number, class_column) for value in _split(row.get(class_column))]
    quantities = _split(row.get(quantity_column))
    units = _split(row.get(uom_column))
    if not classes:
        for column in (quantity_column, uom_column):
            if column in row:
                raise CsvEventError(number, column, f"given without {class_column}")
        return
    if quantities and len(quantities) != len(classes):
        raise CsvEventError(number, quantity_column, f"{len(quantities)} quantities for {len(classes)} classes")
    if len(units) > 1 and len(units) != len(classes):
        raise CsvEventError(
            number, uom_column, f"{len(units)} units for {len(classes)} classes (give one, or one each)"
        )
    if units and not quantities:
        raise CsvEventError(number, uom_column, f"given without {quantity_column}")
    elements: list[dict[str, Any]] = []
    for index, epc_class in enumerate(classes):
        element: dict[str, Any] = {"epcClass": epc_class}
        if quantities:
            element["quantity"] = _number(quantities[index], number, quantity_column)
        if units:
            element["uom"] = units[index] if len(units) > 1 else units[0]
        elements.append(element)
    event[field] = elements


def _number(raw: str, number: int, column: str) -> int | float:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise CsvEventError(number, column, f"{raw!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise CsvEventError(number, column, f"{raw!r} is not a quantity (a finite number, not negative)")
    return float(value) if "." in raw or "e" in raw.lower() else int(value)


def _cbv(value: str, vocabulary: Any, number: int, column: str) -> str:
    """A business step or disposition in CBV short form: bare terms, CBV URNs and CBV/GS1 Web
    Vocabulary URIs all become the bare term; other URIs (custom vocabularies) stay."""
    prefix = "urn:epcglobal:cbv:bizstep:" if column == "bizStep" else "urn:epcglobal:cbv:disp:"
    if value.lower().startswith(prefix):
        return value[len(prefix) :]
    term: str = vocabulary(value)
    if term == value and ":" not in value and not re.fullmatch(r"[A-Za-z_]+", value):
        raise CsvEventError(number, column, f"{value!r} is neither a CBV term (e.g. shipping) nor a URI")
    return term


def _transaction(value: str, number: int) -> dict[str, str]:
    typed = _TYPED_TRANSACTION.match(value)
    if typed:
        return {"type": typed.group(1), "bizTransaction": _uri(typed.group(2), number, "bizTransactions")}
    return {"bizTransaction": _uri(value, number, "bizTransactions")}


_QUANTITY_COLUMNS = {
    "quantityList": _QUANTITY,
    "childQuantityList": _QUANTITY,
    "inputQuantityList": _INPUTS[1:],
    "outputQuantityList": _OUTPUTS[1:],
}
_FIELD_COLUMNS = {"type": "eventType", "bizTransactionList": "bizTransactions"}


def check_events(events: Sequence[CsvEvent]) -> None:
    """Checks events as the service does (service.epcis.validation.validate_document: the EPCIS 2.0
    rules, vocabularies, GS1 keys and JSON Schema) and raises CsvEventError naming the row and column
    of the first that breaks them."""
    try:
        validate_document(epcis_document([e.event for e in events]))
        return
    except MalformedInput:
        pass
    for item in events:
        try:
            validate_document(epcis_document([item.event]))
        except InvalidField as exc:
            path = list(exc.path[3:])  # epcisBody, eventList, 0, then the event's field
            raise CsvEventError(item.row, _column_of(path, item.event), exc.problem) from None


def _column_of(path: list[Any], event: Mapping[str, Any]) -> str | None:
    """The CSV column behind a field of an event this module made (path: field, index, part)."""
    if not path:
        return None
    field = str(path[0])
    if field in _QUANTITY_COLUMNS:
        part = path[2] if len(path) > 2 else "epcClass"
        return _QUANTITY_COLUMNS[field][{"epcClass": 0, "quantity": 1, "uom": 2}.get(str(part), 0)]
    if field in ("sourceList", "destinationList") and len(path) > 1:
        end = field.removesuffix("List")
        kind = event[field][int(path[1])]["type"]
        return end + next(suffix for suffix, cbv_type in _PARTIES.items() if cbv_type == kind)
    column = _FIELD_COLUMNS.get(field, field)
    return column if column in COLUMNS else None
