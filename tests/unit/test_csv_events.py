"""CSV rows become the EPCIS 2.0 events a capturing application would have written: the same
CBV 2.0 hashes as the JSON journey, and every bad cell named by its row and column."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from service.epcis.analysis import epcis_document
from service.epcis.csv_events import COLUMNS, CsvEventError, check_events, read_events
from service.epcis.event_hash import event_hash_id
from service.epcis.validation import validate_document
from tests.integration import journey

ROASTERY_CSV = Path(__file__).resolve().parent.parent / "fixtures" / "csv" / "roastery.csv"
HEADER = "eventType,eventTime,action,bizStep,disposition,epcList,epcClass,quantity,uom,bizLocation\n"
EPC = "urn:epc:id:sgtin:0614141.107346.2017"
GOOD = f"ObjectEvent,2026-03-01T08:00:00Z,OBSERVE,shipping,in_transit,{EPC},,,,\n"


def _events(text: str) -> list[dict[str, object]]:
    items = list(read_events(io.StringIO(text)))
    check_events(items)
    return [item.event for item in items]


def test_the_roastery_csv_hashes_like_the_json_journey() -> None:
    with ROASTERY_CSV.open(newline="") as lines:
        items = list(read_events(lines))
    check_events(items)
    assert [item.row for item in items] == [2, 3, 4, 5, 6]
    assert [event_hash_id(i.event) for i in items] == [event_hash_id(e) for e in journey.roastery_events()]
    validate_document(epcis_document([i.event for i in items]))


def test_defaults_offsets_and_cbv_forms() -> None:
    text = (
        "eventTime,eventTimeZoneOffset,bizStep,disposition,epcList\n"
        f"2026-03-01T08:00:00+02:00,,urn:epcglobal:cbv:bizstep:receiving,https://ref.gs1.org/cbv/Disp-in_progress,{EPC}\n"
        f"2026-03-01T08:00:00,-06:00,receiving,in_progress,{EPC} | urn:epc:id:sgtin:0614141.107346.2018\n"
    )
    first, second = _events(text)
    assert first == {
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T08:00:00+02:00",
        "eventTimeZoneOffset": "+02:00",
        "epcList": [EPC],
        "action": "OBSERVE",
        "bizStep": "receiving",
        "disposition": "in_progress",
    }
    assert second["eventTime"] == "2026-03-01T08:00:00-06:00" and len(second["epcList"]) == 2  # type: ignore[arg-type]


def test_blank_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers() -> None:
    items = list(read_events(io.StringIO(HEADER + GOOD + ",,,,,,,,,\n\n" + GOOD)))
    assert [item.row for item in items] == [2, 5]


def test_parallel_quantities_and_one_unit_for_all() -> None:
    lots = "https://id.gs1.org/01/09506000134352/10/A|https://id.gs1.org/01/09506000134352/10/B"
    (event,) = _events(HEADER + f"ObjectEvent,2026-03-01T08:00:00Z,ADD,commissioning,active,,{lots},10|2.5,KGM,\n")
    assert event["quantityList"] == [
        {"epcClass": "https://id.gs1.org/01/09506000134352/10/A", "quantity": 10, "uom": "KGM"},
        {"epcClass": "https://id.gs1.org/01/09506000134352/10/B", "quantity": 2.5, "uom": "KGM"},
    ]


@pytest.mark.parametrize(
    ("row", "where"),
    [
        (f"Thing,2026-03-01T08:00:00Z,OBSERVE,shipping,,{EPC},,,,", "row 2, column eventType"),
        (f"ObjectEvent,,OBSERVE,shipping,,{EPC},,,,", "row 2, column eventTime"),
        (f"ObjectEvent,yesterday,OBSERVE,shipping,,{EPC},,,,", "row 2, column eventTime"),
        (f"ObjectEvent,2026-03-01,OBSERVE,shipping,,{EPC},,,,", "row 2, column eventTime"),
        (f"ObjectEvent,2026-03-01T08:00:00,OBSERVE,shipping,,{EPC},,,,", "row 2, column eventTime"),
        (f"ObjectEvent,2026-03-01T08:00:00Z,MOVE,shipping,,{EPC},,,,", "row 2, column action"),
        (f"ObjectEvent,2026-03-01T08:00:00Z,OBSERVE,ship ping,,{EPC},,,,", "row 2, column bizStep"),
        (f"ObjectEvent,2026-03-01T08:00:00Z,OBSERVE,shipping,in_trnsit,{EPC},,,,", "row 2, column disposition"),
        ("ObjectEvent,2026-03-01T08:00:00Z,OBSERVE,shipping,,,,,,", "row 2, column epcList"),
        ("ObjectEvent,2026-03-01T08:00:00Z,OBSERVE,shipping,,0614141107346,,,,", "row 2, column epcList"),
        (f"ObjectEvent,2026-03-01T08:00:00Z,ADD,,,{EPC},,12,,", "row 2, column quantity"),
        (f"ObjectEvent,2026-03-01T08:00:00Z,ADD,,,,{EPC},ten,KGM,", "row 2, column quantity"),
        (f"ObjectEvent,2026-03-01T08:00:00Z,ADD,,,,{EPC},-1,KGM,", "row 2, column quantity"),
        (f"ObjectEvent,2026-03-01T08:00:00Z,ADD,,,,{EPC},1|2,KGM,", "row 2, column quantity"),
        (f"ObjectEvent,2026-03-01T08:00:00Z,ADD,,,,{EPC},1,kilo,", "row 2, column uom"),
        (f"TransformationEvent,2026-03-01T08:00:00Z,,commissioning,,{EPC},,,,", "row 2, column epcList"),
        ("TransformationEvent,2026-03-01T08:00:00Z,,commissioning,,,,,,", "row 2, column inputEPCList"),
        (f"TransformationEvent,2026-03-01T08:00:00Z,ADD,commissioning,,,{EPC},1,KGM,", "row 2, column action"),
        (f"TransactionEvent,2026-03-01T08:00:00Z,ADD,,,{EPC},,,,", "row 2, column bizTransactions"),
        ("AggregationEvent,2026-03-01T08:00:00Z,ADD,packing,,,,,,", "row 2, column childEPCs"),
        (f"ObjectEvent,2026-03-01T08:00:00Z,OBSERVE,,,{EPC},,,,,extra", "row 2: 11 cells"),
    ],
)
def test_a_bad_cell_is_named_by_row_and_column(row: str, where: str) -> None:
    with pytest.raises(CsvEventError) as raised:
        _events(HEADER + row + "\n")
    assert str(raised.value).startswith(where)


def test_a_later_bad_row_is_named_after_good_ones() -> None:
    with pytest.raises(CsvEventError, match=r"^row 4, column disposition"):
        _events(HEADER + GOOD + GOOD + GOOD.replace("in_transit", "in_trnsit"))


@pytest.mark.parametrize(
    ("header", "where"),
    [
        ("eventTime,epcLsit\n", "row 1, column epcLsit: not a known column"),
        ("epcList\n", "row 1, column eventTime: missing"),
        ("eventTime,epcList,EPCList\n", "row 1, column epcList: named twice"),
        ("", "row 1: the file is empty"),
    ],
)
def test_a_bad_header_is_named(header: str, where: str) -> None:
    with pytest.raises(CsvEventError) as raised:
        list(read_events(io.StringIO(header)))
    assert str(raised.value).startswith(where)


def test_headers_match_without_regard_to_case_and_a_byte_order_mark() -> None:
    (event,) = _events(f"\ufeffEVENTTIME,epclist\n2026-03-01T08:00:00Z,{EPC}\n")
    assert event["epcList"] == [EPC]


def test_every_column_is_documented_in_the_cli_guide() -> None:
    guide = (Path(__file__).resolve().parent.parent.parent / "docs" / "cli.md").read_text()
    assert [column for column in COLUMNS if f"`{column}`" not in guide] == []


SEMANTIC_HEADER = "eventType,eventTime,action,bizStep,epcList,epcClass,quantity,uom,bizLocation,parentID,childEPCs\n"


@pytest.mark.parametrize(
    ("row", "where", "words"),
    [
        (
            f"AggregationEvent,2026-03-01T08:00:00Z,ADD,packing,,,,,,,{EPC}",
            "row 2, column parentID",
            "AggregationEvent ADD",
        ),
        (
            f"AggregationEvent,2026-03-01T08:00:00Z,DELETE,,,,,,,,{EPC}",
            "row 2, column parentID",
            "AggregationEvent DELETE",
        ),
        (f"AssociationEvent,2026-03-01T08:00:00Z,ADD,,,,,,,,{EPC}", "row 2, column parentID", "AssociationEvent"),
        (
            "ObjectEvent,2026-03-01T08:00:00Z,OBSERVE,shipping,https://id.gs1.org/01/09506000134353/21/1,,,,,,",
            "row 2, column epcList",
            "the GTIN 09506000134353 has a wrong check digit (expected 2)",
        ),
        (
            f"ObjectEvent,2026-03-01T08:00:00Z,OBSERVE,shipping,{EPC},,,,https://example.com/414/9506000134308,,",
            "row 2, column bizLocation",
            "the GLN 9506000134308 has a wrong check digit (expected 7)",
        ),
        (
            f"AggregationEvent,2026-03-01T08:00:00Z,ADD,packing,,,,,,https://id.gs1.org/00/106141412345678905,{EPC}",
            "row 2, column parentID",
            "the SSCC 106141412345678905 has a wrong check digit (expected 8)",
        ),
        (
            "ObjectEvent,2026-03-01T08:00:00Z,ADD,,,urn:epc:class:lgtin:0614141.107346.L1,2.5,,,,",
            "row 2, column quantity",
            "a whole number",
        ),
    ],
)
def test_the_rules_capture_applies_name_the_row_and_column(row: str, where: str, words: str) -> None:
    """The CSV importer runs the service's own validator: the EPCIS rules and GS1 check digits included."""
    with pytest.raises(CsvEventError) as raised:
        _events(SEMANTIC_HEADER + row + "\n")
    assert str(raised.value).startswith(where) and words in str(raised.value), str(raised.value)


def test_an_aggregation_observe_row_may_omit_its_parent() -> None:
    (event,) = _events(SEMANTIC_HEADER + f"AggregationEvent,2026-03-01T08:00:00Z,OBSERVE,,,,,,,,{EPC}\n")
    assert "parentID" not in event
