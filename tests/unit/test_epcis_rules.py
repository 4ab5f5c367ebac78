"""The EPCIS 2.0 / CBV 2.0 rules the JSON Schema misses, and the GS1 check digits, over the reference data
(/work/shared/reference/epcis, copied to tests/fixtures/epcis): every reference example still validates,
each broken variant of one is refused naming the field's path, every Digital Link of the examples
breaks with its check digit at the path the reference lists, and the Digital Link validity cases of
gs1/digital-link.js get the answer that library gives."""

from __future__ import annotations

import copy
import csv
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service.domain.gs1 import normalise_gtin, parse_item_path, validate_gln, validate_sscc
from service.epcis.event_hash import iter_events
from service.epcis.gs1_keys import KEYS, check_digit, key_problem
from service.epcis.identifiers import canonical_id, identifier_problem
from service.epcis.validation import validate_document
from service.errors import InvalidField, ValidationFailed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "epcis"
REFERENCE = Path("/work/shared/reference/epcis")
EXAMPLES = sorted((FIXTURES / "examples").glob("*.jsonld"))
HASH_DOCUMENTS = sorted((FIXTURES / "event-hash").glob("*.jsonld"))
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(field: str) -> list[str | int]:
    return [int(index) if index else name for name, index in _STEP.findall(field)]


def _load(name: str) -> Any:
    return json.loads((FIXTURES / "examples" / name).read_text())


def _set(document: Any, field: str, value: Any) -> None:
    *parents, last = _steps(field)
    for step in parents:
        document = document[step]
    document[last] = value


def _drop(document: Any, field: str) -> None:
    *parents, last = _steps(field)
    for step in parents:
        document = document[step]
    del document[last]


def _refusal(document: Any) -> InvalidField:
    with pytest.raises(InvalidField) as refused:
        validate_document(document)
    return refused.value


@pytest.mark.parametrize("path", EXAMPLES + HASH_DOCUMENTS, ids=lambda p: p.name)
def test_every_reference_document_still_validates(path: Path) -> None:
    validate_document(json.loads(path.read_text()))


EVENT = "epcisBody.eventList[0]"
DROP = object()
# (reference example, changes {field: new value or DROP}, the field the refusal names, words of its message)
BROKEN: list[tuple[str, dict[str, Any], str, str]] = [
    ("Example_9.6.3-AggregationEvent.jsonld", {f"{EVENT}.action": "ADD", f"{EVENT}.parentID": DROP},
     f"{EVENT}.parentID", "required in an AggregationEvent ADD"),
    ("Example_9.6.3-AggregationEvent.jsonld", {f"{EVENT}.action": "DELETE", f"{EVENT}.parentID": DROP},
     f"{EVENT}.parentID", "required in an AggregationEvent DELETE"),
    ("SensorDataExample8.jsonld", {f"{EVENT}.parentID": DROP}, f"{EVENT}.parentID", "only OBSERVE may omit it"),
    ("AssociationEvent-a.jsonld", {f"{EVENT}.parentID": DROP}, f"{EVENT}.parentID", "AssociationEvent"),
    ("Example_9.6.4-TransformationEvent.jsonld", {f"{EVENT}.action": "ADD"}, f"{EVENT}.action", "no action"),
    ("Example_9.6.4-TransformationEvent.jsonld",
     {f"{EVENT}.inputEPCList": DROP, f"{EVENT}.inputQuantityList": DROP, f"{EVENT}.outputEPCList": []},
     EVENT, "at least one input or output"),
    # The case: a bad action used to be reported as an ilmd problem.
    ("object_event_all_possible_fields.jsonld", {f"{EVENT}.action": "FOO"}, f"{EVENT}.action", "'FOO' is no EPCIS action"),
    ("object_event_all_possible_fields.jsonld", {f"{EVENT}.action": "add"}, f"{EVENT}.action", "in capitals"),
    ("object_event_all_possible_fields.jsonld", {f"{EVENT}.action": DROP}, f"{EVENT}.action", "required in an ObjectEvent"),
    ("object_event_all_possible_fields.jsonld", {f"{EVENT}.action": "OBSERVE"}, f"{EVENT}.ilmd", "ObjectEvent OBSERVE"),
    ("Example_9.6.3-AggregationEvent.jsonld", {f"{EVENT}.action": 3}, f"{EVENT}.action", "no EPCIS action"),
    ("transaction_event_all_possible_fields.jsonld", {f"{EVENT}.action": DROP}, f"{EVENT}.action", "TransactionEvent"),
    ("Example_9.6.2-ObjectEvent.jsonld", {f"{EVENT}.quantityList[0].quantity": DROP},
     f"{EVENT}.quantityList[0].quantity", "required with a uom ('KGM')"),
    ("Example_9.6.2-ObjectEvent.jsonld", {f"{EVENT}.quantityList[0].quantity": "200"},
     f"{EVENT}.quantityList[0].quantity", "'200' is not a number"),
    ("Example_9.6.2-ObjectEvent.jsonld", {f"{EVENT}.quantityList[0].uom": DROP, f"{EVENT}.quantityList[0].quantity": 2.5},
     f"{EVENT}.quantityList[0].quantity", "a whole number"),
    ("Example_9.6.1-ObjectEvent.jsonld", {f"{EVENT}.eventTime": "2005-04-03T20:33:31.116"},
     f"{EVENT}.eventTime", "no time zone offset"),
    ("Example_9.6.1-ObjectEvent.jsonld", {"epcisBody.eventList[1].recordTime": "2005-04-04T20:33:31"},
     "epcisBody.eventList[1].recordTime", "no time zone offset"),
    ("Example_9.6.1-ObjectEvent-with-error-declaration.jsonld",
     {f"{EVENT}.errorDeclaration.declarationTime": "2020-01-15T00:00:00"},
     f"{EVENT}.errorDeclaration.declarationTime", "no time zone offset"),
    ("Example_9.6.1-ObjectEvent.jsonld", {f"{EVENT}.eventTimeZoneOffset": DROP}, f"{EVENT}.eventTimeZoneOffset", "missing"),
    ("SensorDataExample1.jsonld", {f"{EVENT}.sensorElementList[0].sensorMetadata.time": "2019-04-02T14:05:00"},
     f"{EVENT}.sensorElementList[0].sensorMetadata.time", "no time zone offset"),
    ("SensorDataExample8.jsonld",
     {f"{EVENT}.sensorElementList[1].sensorReport[0].minValue": 9, f"{EVENT}.sensorElementList[1].sensorReport[0].maxValue": 3},
     f"{EVENT}.sensorElementList[1].sensorReport[0].minValue", "above maxValue"),
    ("object_event_all_possible_fields.jsonld", {f"{EVENT}.sensorElementList[0].sensorReport[0].percRank": 150},
     f"{EVENT}.sensorElementList[0].sensorReport[0].percRank", "percentile rank"),
    ("object_event_all_possible_fields.jsonld",
     {f"{EVENT}.sensorElementList[0].sensorMetadata.startTime": "2019-04-02T13:55:00Z",
      f"{EVENT}.sensorElementList[0].sensorMetadata.endTime": "2019-04-02T12:55:00Z"},
     f"{EVENT}.sensorElementList[0].sensorMetadata.startTime", "after endTime"),
    ("Example_9.6.1-ObjectEvent.jsonld", {f"{EVENT}.bizStep": "shiping"}, f"{EVENT}.bizStep", "did you mean 'shipping'"),
    ("Example_9.6.1-ObjectEvent.jsonld", {f"{EVENT}.disposition": "cbv:Disp-in_transt"}, f"{EVENT}.disposition", "no CBV 2.0 disposition"),
    ("Example_9.6.1-ObjectEvent.jsonld", {"epcisBody.eventList": "events"}, "epcisBody.eventList", "not of type 'array'"),
    ("EPCISQueryDocument.jsonld", {"epcisBody.queryResults.resultsBody.eventList[0].action": "ADDED"},
     "epcisBody.queryResults.resultsBody.eventList[0].action", "no EPCIS action"),
    # GS1 keys: Digital Link check digits on any host, an EPC URN's shape.
    ("Example_9.6.1-ObjectEvent.jsonld", {f"{EVENT}.epcList[0]": "https://brand.example.com/01/70614141123452/21/2017"},
     f"{EVENT}.epcList[0]", "the GTIN 70614141123452 has a wrong check digit (expected 1)"),
    ("Example_9.6.3-AggregationEvent.jsonld", {f"{EVENT}.parentID": "https://id.gs1.org/00/106141412345678905"},
     f"{EVENT}.parentID", "the SSCC 106141412345678905 has a wrong check digit (expected 8)"),
    ("Example_9.6.1-ObjectEvent.jsonld", {f"{EVENT}.readPoint.id": "https://id.gs1.org/414/0614141073460"},
     f"{EVENT}.readPoint.id", "the GLN 0614141073460 has a wrong check digit (expected 7)"),
    ("AssociationEvent-a.jsonld", {f"{EVENT}.parentID": "https://id.gs1.org/8003/14012345555550987"},
     f"{EVENT}.parentID", "filler digit 0"),
    ("Example_9.6.1-ObjectEvent.jsonld", {f"{EVENT}.epcList[0]": "urn:epc:id:sgtin:0614141.107346"},
     f"{EVENT}.epcList[0]", "SGTIN form is"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("example", "changes", "field", "words"), BROKEN, ids=[f"{f}:{next(iter(c))}" for _, c, f, _ in BROKEN]
)
def test_each_broken_variant_is_refused_naming_its_field(
    example: str, changes: dict[str, Any], field: str, words: str
) -> None:
    document = _load(example)
    for where, value in changes.items():
        _drop(document, where) if value is DROP else _set(document, where, value)
    refused = _refusal(document)
    assert refused.field == field, str(refused)
    assert words in refused.problem, str(refused)
    assert str(refused) == f"not a valid EPCIS 2.0 document: {field}: {refused.problem}"


def test_an_aggregation_observe_may_omit_its_parent() -> None:
    document = _load("Example_9.6.3-AggregationEvent.jsonld")
    _drop(document, f"{EVENT}.parentID")
    validate_document(document)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"eventList": "events"}, "epcisBody.eventList", "must be a JSON array of events, not a string"),
        ({}, "epcisBody.eventList", "missing"),
        ({"eventList": [{"type": "ObjectEvent"}, 7]}, "epcisBody.eventList[1]", "must be a JSON object, not a number"),
        ({"queryResults": []}, "epcisBody.queryResults", "must be a JSON object, not an array"),
    ],
)
def test_the_event_list_is_named_when_it_holds_no_events(body: dict[str, Any], field: str, words: str) -> None:
    """Capture reads the events before validating them: a non-list eventList was "no eventList"."""
    with pytest.raises(InvalidField) as refused:
        iter_events({"type": "EPCISDocument", "epcisBody": body})
    assert refused.value.field == field and words in refused.value.problem


def _digital_link_rows() -> list[tuple[str, str, str]]:
    """(URI, example file, JSON path) of each Digital Link in the GS1 examples that names an event's object,
    place or class (the others sit in sensor metadata, where any URI goes) and whose key has a check digit."""
    with (REFERENCE / "digital-link" / "dl-uris-in-reference-examples.tsv").open() as table:
        rows = [r for r in csv.reader((line for line in table if not line.startswith("#")), delimiter="\t")][1:]
    identifier_fields = re.compile(
        r"\.(epcList|childEPCs|parentID|readPoint\.id|bizLocation\.id)(\[\d+\])?$|\.epcClass$"
    )
    kept = []
    for uri, example, field in rows:
        ai = canonical_id(uri).split("/")[3]
        if identifier_fields.search(field) and KEYS[ai].checked_digits is not None:
            kept.append((uri, example, field))
    return kept


DIGITAL_LINKS = _digital_link_rows()


def test_the_reference_digital_links_in_identifier_fields_are_found() -> None:
    assert len(DIGITAL_LINKS) >= 10 and {f for _, f, _ in DIGITAL_LINKS} >= {
        "Example_9.6.1-ObjectEventWithDigitalLink.jsonld",
        "Example_9.6.3-AggregationEventWithDigitalLink.jsonld",
        "Example_9.6.4-TransformationEventWithDigitalLink.jsonld",
        "SensorDataExample13.jsonld",
        "SensorDataExample14.jsonld",
    }


def _with_wrong_check_digit(uri: str) -> tuple[str, str]:
    """`uri` with the check digit of its key changed, and the key's name."""
    ai = canonical_id(uri).split("/")[3]
    start = uri.index(f"/{ai}/") + len(ai) + 2
    key = KEYS[ai]
    width = len(uri[start:].split("/")[0]) if ai == "01" else key.checked_digits
    assert width is not None
    position = start + width - 1
    return uri[:position] + str((int(uri[position]) + 1) % 10) + uri[position + 1 :], key.name


@pytest.mark.parametrize(("uri", "example", "field"), DIGITAL_LINKS, ids=lambda v: str(v))
def test_a_reference_digital_link_with_a_wrong_check_digit_is_refused_at_its_path(
    uri: str, example: str, field: str
) -> None:
    document = _load(example)
    _set(document, field, _with_wrong_check_digit(uri)[0])
    refused = _refusal(document)
    assert refused.field == field and "wrong check digit" in refused.problem, str(refused)


def _validity_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((REFERENCE / "digital-link" / "dl-validity-cases.json").read_text())[
        "validity_cases"
    ]
    return cases


VALIDITY = _validity_cases()
NOT_CHECKED = {
    "https://example.com/01/12345678/10/4512?4321=2": "attributes of the query string are not GS1 keys: not read",
    "badurl": "no URI: nothing to resolve",
}


@pytest.mark.parametrize("case", VALIDITY, ids=[c["uri"] for c in VALIDITY])
def test_digital_link_validity_as_digital_link_js_decides_it(case: dict[str, Any]) -> None:
    """On GS1's resolver host every case gets the library's answer; on its own host an invalid URI is
    either refused or no GS1 identifier at all (stored as the web address it is, never as a key)."""
    uri = case["uri"]
    if uri in NOT_CHECKED:
        return
    on_resolver = re.sub(r"^https?://[^/]+", "https://id.gs1.org", uri)
    if case["expected_valid"]:
        assert identifier_problem(uri) is None and identifier_problem(on_resolver) is None
        assert canonical_id(uri) != uri or uri.startswith("https://id.gs1.org/")
    else:
        assert identifier_problem(on_resolver) is not None
        assert identifier_problem(uri) is not None or canonical_id(uri) == uri


def test_the_two_unchecked_validity_cases_are_still_in_the_reference() -> None:
    assert set(NOT_CHECKED) <= {c["uri"] for c in VALIDITY if not c["expected_valid"]}


# One key of each kind the Digital Link parser reads, valid, as GS1's examples and digital-link.js write them.
VALID_KEYS = {
    "00": "106141412345678908", "01": "09506000134352", "253": "4012345000054987", "255": "401234599999044",
    "401": "0614141xyz47", "402": "40123452223334442", "414": "9506000134307", "417": "4000001000005",
    "8003": "040123450007718765", "8004": "4000001111", "8006": "040123451111180102", "8010": "4012345ABC",
    "8017": "401234500000000074", "8018": "401234500000067657",
}  # fmt: skip


@pytest.mark.parametrize("ai", sorted(KEYS))
def test_every_key_with_a_check_digit_is_checked_and_the_others_are_not(ai: str) -> None:
    value = VALID_KEYS[ai]
    assert key_problem(ai, value) is None
    assert identifier_problem(f"https://example.com/{ai}/{value}") is None
    checked = KEYS[ai].checked_digits
    if checked is None:  # GIAI, GINC, CPID: no check digit in the GS1 General Specifications
        return
    position = checked - 1
    wrong = value[:position] + str((int(value[position]) + 5) % 10) + value[position + 1 :]
    expected = check_digit(value[:position])
    assert (
        key_problem(ai, wrong) == f"the {KEYS[ai].name} {wrong[:checked]} has a wrong check digit (expected {expected})"
    )
    assert f"wrong check digit (expected {expected})" in (identifier_problem(f"https://example.com/{ai}/{wrong}") or "")


def test_the_resolver_refuses_a_link_with_the_words_capture_uses() -> None:
    """One check for both: the path the resolver parses is refused as capture refuses the same link."""
    link = "https://id.gs1.org/01/09506000134353/10/R-0042"
    with pytest.raises(ValidationFailed) as resolved:
        parse_item_path("/01/09506000134353/10/R-0042")
    document = _load("Example_9.6.1-ObjectEvent.jsonld")
    _set(document, f"{EVENT}.epcList[0]", link)
    assert str(resolved.value) == identifier_problem(link) == _refusal(document).problem


@pytest.mark.parametrize(
    ("check", "value", "words"),
    [
        (normalise_gtin, "09506000134353", "the GTIN 09506000134353 has a wrong check digit (expected 2)"),
        (normalise_gtin, "95060001343", "must be 8 or 12 or 13 or 14 digits"),
        (validate_gln, "4012345000008", "the GLN 4012345000008 has a wrong check digit (expected 9)"),
        (validate_sscc, "106141412345678905", "the SSCC 106141412345678905 has a wrong check digit (expected 8)"),
    ],
)
def test_master_data_keys_use_the_same_check(check: Any, value: str, words: str) -> None:
    with pytest.raises(ValidationFailed, match=re.escape(words)):
        check(value)


def test_the_epcis_validator_imports_nothing_of_the_domain_or_the_chain() -> None:
    """epcis/ is pure format: the identifier rules live there and the domain reuses them, not the reverse."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, service.epcis.validation; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not [m for m in loaded if m.startswith(("service.domain", "service.chain", "service.db", "service.api"))]


def test_cbv_vocabularies_of_the_reference_are_the_accepted_terms() -> None:
    """Every bizStep and disposition of CBV 2.0 (reference cbv-vocabularies.json) is accepted, bare or as
    its Web URI; none of the reference lists is empty."""
    vocabularies = json.loads((REFERENCE / "cbv" / "cbv-vocabularies.json").read_text())["vocabularies"]
    document = _load("Example_9.6.1-ObjectEvent.jsonld")
    for field in ("bizStep", "disposition"):
        terms = vocabularies[field]["terms"]
        assert len(terms) == vocabularies[field]["count"] > 30
        for term in terms:
            for value in (term["term"], term["uri"]):
                variant = copy.deepcopy(document)
                _set(variant, f"{EVENT}.{field}", value)
                validate_document(variant)
            variant = copy.deepcopy(document)
            _set(variant, f"{EVENT}.{field}", term["urn"])  # an EPCIS 1.x URN: JSON writes the term bare
            assert "not as an EPCIS 1.x URN" in _refusal(variant).problem
