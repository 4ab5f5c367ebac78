"""The CBV 2.0 EPCIS Event Hash ID against the reference test vectors, and its invariances."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.epcis.event_hash import HashContext, event_hash_id, hash_ids, iter_events, prehash

VECTORS = Path(__file__).parents[1] / "fixtures" / "epcis" / "event-hash"
DOCUMENTS = sorted(VECTORS.glob("*.jsonld"))
PREHASHED = [path for path in DOCUMENTS if path.with_suffix(".prehashes").exists()]

# Three lines of the upstream .prehashes files are defective: none of them hashes to the hash ID that the
# .hashes file (which the reference implementation's own tests check) records for the same event. Our
# line for that event must hash to the recorded ID instead, and the recorded line must be what is said here.
DEFECTIVE_PREHASH_LINES = {
    ("epcisDocWithAllGS1Keys", 0): "garbled: our line with 72 stray characters inserted",
    ("epcisDocWithCustomSchemaInContext", 1): "stale: a pre-hash of the first event, from an older rule set",
    ("epcisDocWithDefaultSchemaInContext", 1): "truncated: a prefix of our line",
}


def _document(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _ni(text: str) -> str:
    return f"ni:///sha-256;{hashlib.sha256(text.encode()).hexdigest()}?ver=CBV2.0"


def _prehashes(document: dict[str, Any]) -> list[str]:
    context = HashContext.from_document(document)
    return [prehash(event, context) for event in iter_events(document)]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.stem)
def test_every_hash_id_of_the_reference_vectors(path: Path) -> None:
    assert hash_ids(_document(path)) == _lines(path.with_suffix(".hashes"))


@pytest.mark.parametrize("path", PREHASHED, ids=lambda path: path.stem)
def test_every_prehash_of_the_reference_vectors(path: Path) -> None:
    ours = _prehashes(_document(path))
    recorded = _lines(path.with_suffix(".prehashes"))
    hash_ids_recorded = _lines(path.with_suffix(".hashes"))
    expected = list(recorded)
    for index, line in enumerate(recorded):
        if (path.stem, index) in DEFECTIVE_PREHASH_LINES:
            assert _ni(line) != hash_ids_recorded[index]
            assert _ni(ours[index]) == hash_ids_recorded[index]
            expected[index] = ours[index]
    assert ours == expected
    assert [_ni(line) for line in ours] == hash_ids_recorded


def test_the_defective_prehash_lines_are_what_the_table_says() -> None:
    def line(stem: str, index: int) -> tuple[str, str]:
        document = VECTORS / f"{stem}.jsonld"
        return _prehashes(_document(document))[index], _lines(document.with_suffix(".prehashes"))[index]

    ours, garbled = line("epcisDocWithAllGS1Keys", 0)
    remaining = iter(garbled)
    assert all(char in remaining for char in ours) and len(garbled) - len(ours) == 72
    ours, truncated = line("epcisDocWithDefaultSchemaInContext", 1)
    assert ours.startswith(truncated) and ours != truncated
    ours, stale = line("epcisDocWithCustomSchemaInContext", 1)
    assert "BizStep-shipping" in stale and "BizStep-receiving" in ours


# --- focused properties ------------------------------------------------------------------------------------

EVENT_WITH_URNS: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2020-03-04T11:00:30.000+01:00",
    "eventTimeZoneOffset": "+01:00",
    "epcList": ["urn:epc:id:sgtin:4012345.011111.9876", "urn:epc:id:sscc:4012345.0000000333"],
    "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.Lot987", "quantity": 2.5, "uom": "KGM"}],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.987"},
    "bizLocation": {"id": "urn:epc:id:sgln:4012345.00011.0"},
    "bizTransactionList": [
        {"type": "po", "bizTransaction": "urn:epc:id:gdti:4012345.11111.123"},
        {"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:ASN1099"},
    ],
    "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}],
    "example:note": {"example:lines": ["b", "a"], "example:count": 2},
}
CONTEXT = HashContext().with_context({"example": "https://ns.example.com/epcis/"})


def test_urn_and_digital_link_forms_of_an_event_hash_alike() -> None:
    digital_link = copy.deepcopy(EVENT_WITH_URNS)
    digital_link["epcList"] = [
        "https://brand.example.com/01/04012345111118/21/9876?17=250101",
        "https://id.gs1.org/sscc/040123450000003338",
    ]
    digital_link["quantityList"][0]["epcClass"] = "http://example.org/gtin/4012345123456/lot/Lot987"
    digital_link["readPoint"]["id"] = "https://example.net/414/4012345000115/254/987"
    digital_link["bizLocation"]["id"] = "https://id.gs1.org/gln/4012345000115"
    digital_link["bizTransactionList"][0]["bizTransaction"] = "https://example.com/253/4012345111118123"
    digital_link["sourceList"][0]["source"] = "https://example.com/417/4012345000009"
    assert event_hash_id(digital_link, CONTEXT) == event_hash_id(EVENT_WITH_URNS, CONTEXT)


def test_cbv_urns_and_curies_hash_like_bare_terms() -> None:
    spelled_out = copy.deepcopy(EVENT_WITH_URNS)
    spelled_out["bizStep"] = "urn:epcglobal:cbv:bizstep:shipping"
    spelled_out["disposition"] = "cbv:Disp-in_transit"
    spelled_out["bizTransactionList"][0]["type"] = "https://ref.gs1.org/cbv/BTT-po"
    assert event_hash_id(spelled_out, CONTEXT) == event_hash_id(EVENT_WITH_URNS, CONTEXT)


@given(st.randoms(use_true_random=False))
def test_key_order_and_list_order_do_not_change_the_hash(random: Any) -> None:
    def shuffled(value: Any) -> Any:
        if isinstance(value, dict):
            items = [(key, shuffled(item)) for key, item in value.items()]
            random.shuffle(items)
            return dict(items)
        if isinstance(value, list):
            items = [shuffled(item) for item in value]
            random.shuffle(items)
            return items
        return value

    assert prehash(shuffled(EVENT_WITH_URNS), CONTEXT) == prehash(EVENT_WITH_URNS, CONTEXT)


def test_a_changed_value_changes_the_hash() -> None:
    changed = copy.deepcopy(EVENT_WITH_URNS)
    changed["quantityList"][0]["quantity"] = 2.6
    assert event_hash_id(changed, CONTEXT) != event_hash_id(EVENT_WITH_URNS, CONTEXT)


@pytest.mark.parametrize(
    ("event_time", "utc"),
    [
        ("2020-03-04T11:00:30.000+01:00", "2020-03-04T10:00:30.000Z"),
        ("2020-03-04T10:00:30Z", "2020-03-04T10:00:30.000Z"),
        ("2020-03-04T04:00:30.0-06:00", "2020-03-04T10:00:30.000Z"),
        ("2020-03-04T10:00:30.000000+00:00", "2020-03-04T10:00:30.000Z"),
        ("2020-03-04T15:30:30.1+05:30", "2020-03-04T10:00:30.100Z"),
        ("2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"),
        ("2023-02-02T11:04:03.1414999Z", "2023-02-02T11:04:03.141Z"),
        ("2023-02-02T11:04:03.1425Z", "2023-02-02T11:04:03.143Z"),
        ("2023-12-31T23:59:59.9995Z", "2024-01-01T00:00:00.000Z"),
        ("2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00.000Z"),
    ],
)
def test_timestamps_are_utc_with_milliseconds(event_time: str, utc: str) -> None:
    event = {"type": "ObjectEvent", "eventTime": event_time, "action": "OBSERVE"}
    assert prehash(event) == f"eventType=ObjectEventeventTime={utc}action=OBSERVE"


def test_a_time_with_an_offset_hashes_like_the_same_instant_in_utc() -> None:
    in_utc = copy.deepcopy(EVENT_WITH_URNS)
    in_utc["eventTime"] = "2020-03-04T10:00:30Z"
    assert event_hash_id(in_utc, CONTEXT) == event_hash_id(EVENT_WITH_URNS, CONTEXT)


@pytest.mark.parametrize(
    ("quantity", "text"),
    [(452.0, "452"), ("452.000", "452"), ("+0452.50", "452.5"), (0.1, "0.1"), (1e-05, "0.00001"), ("1.5E3", "1500")],
)
def test_numbers_lose_trailing_zeros_and_exponents(quantity: Any, text: str) -> None:
    event = {
        "type": "ObjectEvent",
        "quantityList": [{"epcClass": "urn:epc:idpat:sgtin:4012345.011111.*", "quantity": quantity}],
    }
    assert prehash(event).endswith(f"epcClass=https://id.gs1.org/01/04012345111118quantity={text}")


def test_extensions_expand_namespaces_and_sort_after_the_standard_fields() -> None:
    event = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "@context": {"ex": "https://ns.example.com/", "ey": "https://ns.example.org/"},
        "readPoint": {"ey:door": " 3 ", "id": "urn:epc:id:sgln:4012345.00011.0"},
        "ey:b": True,
        "ex:a": {"ex:y": "ex:term", "ex:x": ["2", "1"]},
        "ilmd": {"cbvmda:lotNumber": "L1"},
        "rdfs:comment": "not hashed",
    }
    assert prehash(event) == (
        "eventType=ObjectEventaction=OBSERVE"
        "readPointid=https://id.gs1.org/414/4012345000115{https://ns.example.org/}door=3"
        "ilmd{urn:epcglobal:cbv:mda:}lotNumber=L1"
        "{https://ns.example.com/}a{https://ns.example.com/}x=1{https://ns.example.com/}x=2"
        "{https://ns.example.com/}y=https://ns.example.com/term"
        "{https://ns.example.org/}b=true"
    )


def test_hash_ids_takes_a_bare_event_or_a_query_document() -> None:
    document = {
        "@context": [{"example": "https://ns.example.com/epcis/"}],
        "epcisBody": {"eventList": [EVENT_WITH_URNS]},
    }
    query = {
        "@context": document["@context"],
        "epcisBody": {"queryResults": {"resultsBody": {"eventList": [EVENT_WITH_URNS]}}},
    }
    bare = {**EVENT_WITH_URNS, "@context": {"example": "https://ns.example.com/epcis/"}}
    assert hash_ids(document) == hash_ids(query) == hash_ids(bare) == [event_hash_id(EVENT_WITH_URNS, CONTEXT)]


def test_fields_outside_the_hash() -> None:
    recorded = {
        **EVENT_WITH_URNS,
        "eventID": "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8",
        "recordTime": "2024-01-01T00:00:00Z",
        "errorDeclaration": {"declarationTime": "2024-01-02T00:00:00Z", "reason": "incorrect_data"},
        "rdfs:comment": "seen at the gate",
    }
    assert event_hash_id(recorded, CONTEXT) == event_hash_id(EVENT_WITH_URNS, CONTEXT)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "must be a JSON object"),
        ({"type": "EPCISDocument"}, "no epcisBody"),
        ({"epcisBody": {}}, r"epcisBody\.eventList: missing"),
        ({"epcisBody": {"eventList": "x"}}, r"epcisBody\.eventList: must be a JSON array of events, not a string"),
        (
            {"epcisBody": {"eventList": ["urn:epc:id:sgtin:4012345.011111.1"]}},
            r"eventList\[0\]: .*must be a JSON object",
        ),
        ({"epcisBody": {"queryResults": {}}}, "'resultsBody' must be a JSON object"),
        ({"epcisBody": {"eventList": [{"action": "ADD"}]}}, "needs a 'type'"),
        ({"epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "2020-03-04 11:00"}]}}, "ISO 8601"),
        ({"epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "2020-02-30T11:00:00Z"}]}}, "not a valid"),
        ({"epcisBody": {"eventList": [{"type": "ObjectEvent", "readPoint": "urn:x"}]}}, "'readPoint' must be"),
        ({"epcisBody": {"eventList": [{"type": "ObjectEvent", "action": {"a": 1}}]}}, "expected a text"),
        ({"epcisBody": {"eventList": [{"type": "ObjectEvent", "ex:f": float("nan")}]}}, "not a finite number"),
        ({"x:ignoreFields": "x:y", "epcisBody": {"eventList": []}}, "list of field names"),
    ],
)
def test_malformed_input_raises_value_error(document: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        hash_ids(document)
