"""The EPCIS 2.0 REST binding on a real Anvil and both databases: every reference example and
valid OpenEPCIS case is captured and queryable, every invalid case is rejected naming the
problem with nothing stored, signatures and roles are enforced, queries match identifiers in
URN and Digital Link form alike."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from service.domain.gs1 import check_digit
from service.epcis.capture import signing_tree
from service.epcis.event_hash import hash_ids

from .conftest import Api

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "epcis"
EXAMPLES = sorted((FIXTURES / "examples").glob("*.jsonld"))
VALID = sorted((FIXTURES / "openepcis" / "valid").glob("*.json"))
INVALID = sorted((FIXTURES / "openepcis" / "invalid").glob("*.json"))
WRONG_CHECK_DIGIT = {
    "Combination_of_different_event.json": "epcisBody.eventList[0].epcList[0]",
    "queryDocument.json": "epcisBody.queryResults.resultsBody.eventList[0].epcList[0]",
}
"""OpenEPCIS's valid cases are valid by the schema: these two name the GRAI 03001345000771, whose check
digit is 6 (GS1 General Specifications 7.9), so the service refuses them as it refuses any wrong key."""
VALID = [path for path in VALID if path.name not in WRONG_CHECK_DIGIT]
SELF_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"


def _events_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    if document.get("type") == "EPCISDocument":
        return list(document["epcisBody"]["eventList"])
    if document.get("type") == "EPCISQueryDocument":
        return list(document["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
    return [document]


class Coffee:
    """A constellation whose producer may capture every kind of event; a retailer; an outsider."""

    def __init__(self, api: Api) -> None:
        self.api = api
        _, self.brand_h = api.onboard("Roaster Brand")
        self.producer, self.producer_h = api.onboard("Producer")
        self.shop, self.shop_h = api.onboard("Coffee Shop")
        self.coop, self.coop_h = api.onboard("Self Custody Coop", address=Account.from_key(SELF_KEY).address)
        _, self.outsider_h = api.onboard("Outsider")
        assert (
            api.client.post(
                "/constellations", json={"slug": "coffee", "name": "Coffee"}, headers=self.brand_h
            ).status_code
            == 201
        )
        for member, roles in (
            (self.producer, ["supplier", "manufacturer", "logistics", "retailer"]),
            (self.shop, ["retailer"]),
            (self.coop, ["supplier"]),
        ):
            put = api.client.put(
                f"/constellations/coffee/members/{member['id']}", json={"roles": roles}, headers=self.brand_h
            )
            assert put.status_code == 200, put.text
        api.share_everything_by_default(self.brand_h, "coffee")

    def capture(self, document: Any, headers: dict[str, str] | None = None, **extra: str) -> Any:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        return self.api.client.post(
            "/epcis/capture",
            content=body,
            headers={
                **(headers or self.producer_h),
                "Constellate-Constellation": "coffee",
                "Content-Type": "application/json",
                **extra,
            },
        )

    def events(self, headers: dict[str, str] | None = None, **params: str) -> list[dict[str, Any]]:
        response = self.api.client.get("/epcis/events", params=params, headers=headers or self.brand_h)
        assert response.status_code == 200, response.text
        document = response.json()
        assert document["type"] == "EPCISQueryDocument"
        return list(document["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


@pytest.fixture
def coffee(api: Api) -> Coffee:
    return Coffee(api)


@pytest.mark.parametrize("path", EXAMPLES + VALID, ids=lambda p: p.name)
def test_every_reference_and_valid_document_is_captured_and_queryable(coffee: Coffee, path: Path) -> None:
    document = json.loads(path.read_bytes())
    response = coffee.capture(document)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/epcis/capture/{response.json()['captureID']}"
    job = coffee.api.client.get(response.headers["location"], headers=coffee.producer_h).json()
    assert job["running"] is False and job["success"] is True and job["errors"] == []
    events = _events_of(document)
    assert job["eventCount"] == len(events)
    stored = coffee.events(perPage="1000")
    assert len(stored) == len(events) - job["duplicates"]
    for event in stored:
        one = coffee.api.client.get(f"/epcis/events/{quote(event['eventID'], safe='')}", headers=coffee.brand_h)
        assert one.status_code == 200 and one.json()["type"] == event["type"]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_every_invalid_document_is_rejected_naming_the_problem_and_nothing_is_stored(
    coffee: Coffee, path: Path
) -> None:
    response = coffee.capture(path.read_bytes())
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["type"] == "epcisException:ValidationException" and problem["detail"].startswith(
        "not a valid EPCIS 2.0 document: "
    )
    assert coffee.events(perPage="1000") == []
    assert coffee.api.client.get("/epcis/capture", headers=coffee.producer_h).json() == []


def test_malformed_json_is_400_and_an_oversized_document_is_413(coffee: Coffee, api: Api) -> None:
    assert coffee.capture(b"{not json").status_code == 400
    assert coffee.capture(b"[1, 2]").status_code == 400
    no_constellation = api.client.post(
        "/epcis/capture", content=(FIXTURES / "examples" / EXAMPLES[0].name).read_bytes(), headers=coffee.producer_h
    )
    assert no_constellation.status_code == 400 and "Constellate-Constellation" in no_constellation.json()["detail"]
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    runtime.settings = runtime.settings.model_copy(update={"capture_max_bytes": 2048, "request_max_bytes": 1024})
    big = {"padding": "x" * 4096}
    too_large = coffee.capture(big)
    assert too_large.status_code == 413 and "2048" in too_large.json()["detail"]
    attestation = api.client.post("/attestations", content=b"{" + b" " * 1536 + b"}", headers=coffee.producer_h)
    assert attestation.status_code == 413  # every other route: a declared body over its limit is not read
    assert "1024 (CONSTELLATE_REQUEST_MAX_BYTES)" in attestation.json()["detail"]


def test_a_duplicate_capture_is_idempotent(coffee: Coffee) -> None:
    document = json.loads((FIXTURES / "examples" / "Example_9.6.1-ObjectEvent.jsonld").read_bytes())
    first = coffee.capture(document).json()
    second = coffee.capture(document).json()
    assert (first["duplicates"], second["duplicates"]) == (0, 2)
    assert len(coffee.events()) == 2


def _sgtin_dl(company: str, item_ref: str, serial: str) -> str:
    body = item_ref[0] + company + item_ref[1:]
    return f"https://id.gs1.org/01/{body}{check_digit(body)}/21/{serial}"


def test_urn_and_digital_link_forms_find_the_same_events(coffee: Coffee) -> None:
    coffee.capture(json.loads((FIXTURES / "examples" / "Example_9.6.1-ObjectEvent.jsonld").read_bytes()))
    coffee.capture(json.loads((FIXTURES / "examples" / "Example_9.6.1-ObjectEventWithDigitalLink.jsonld").read_bytes()))
    by_urn = coffee.events(MATCH_epc="urn:epc:id:sgtin:0614141.107346.2018")
    by_dl = coffee.events(MATCH_epc=_sgtin_dl("0614141", "107346", "2018"))
    assert len(by_urn) == 2 and [e["eventID"] for e in by_urn] == [e["eventID"] for e in by_dl]
    dl_captured = coffee.events(MATCH_epc="https://example.com/01/70614141123451/21/2017")
    assert len(dl_captured) == 1 and dl_captured[0]["epcList"][0].startswith("https://id.gs1.org/")


def test_the_standard_query_parameters(coffee: Coffee) -> None:
    for name in (
        "Example_9.6.1-ObjectEvent.jsonld",
        "Example_9.6.2-ObjectEvent.jsonld",
        "Example_9.6.3-AggregationEvent.jsonld",
        "Example_9.6.4-TransformationEvent.jsonld",
    ):
        assert coffee.capture(json.loads((FIXTURES / "examples" / name).read_bytes())).status_code == 202
    assert len(coffee.events()) == 5
    assert {e["type"] for e in coffee.events(eventType="AggregationEvent|TransformationEvent")} == {
        "AggregationEvent",
        "TransformationEvent",
    }
    assert len(coffee.events(EQ_bizStep="shipping")) == 1
    assert len(coffee.events(EQ_bizStep="https://ref.gs1.org/cbv/BizStep-receiving")) == 3
    assert len(coffee.events(EQ_action="OBSERVE")) == 4
    assert len(coffee.events(GE_eventTime="2013-01-01T00:00:00Z")) == 3
    assert len(coffee.events(LT_eventTime="2006-01-01T00:00:00+00:00")) == 2
    assert len(coffee.events(MATCH_parentID="urn:epc:id:sscc:0614141.1234567890")) == 1
    assert len(coffee.events(MATCH_inputEPC="urn:epc:id:sgtin:4012345.011122.25")) == 1
    assert len(coffee.events(MATCH_outputEPC="urn:epc:id:sgtin:4012345.077889.26")) == 1
    assert len(coffee.events(MATCH_epcClass="urn:epc:class:lgtin:4012345.012345.998877")) == 2
    assert len(coffee.events(MATCH_anyEPC="urn:epc:id:sgtin:0614141.107346.2017")) == 2
    assert len(coffee.events(EQ_readPoint="urn:epc:id:sgln:0614141.00777.0")) == 2
    assert len(coffee.events(EQ_bizLocation="urn:epc:id:sgln:0012345.11111.0")) == 1
    assert coffee.events(EQ_transformationID="urn:uuid:nothing") == []
    assert len(coffee.events(MATCH_epc="urn:epc:idpat:sgtin:0614141.107346.*")) == 3  # 2017 and 2018 of one GTIN
    assert len(coffee.events(MATCH_anyEPC="urn:epc:idpat:sgtin:4012345.*.*")) == 1
    assert len(coffee.events(MATCH_parentID="urn:epc:idpat:sscc:0614141.*")) == 1
    assert len(coffee.events(MATCH_epcClass="urn:epc:idpat:sgtin:4012345.012345.*")) == 2  # the LGTIN's class
    bad_pattern = coffee.api.client.get(
        "/epcis/events", params={"MATCH_epc": "urn:epc:idpat:sgtin:x.*.*"}, headers=coffee.brand_h
    )
    assert bad_pattern.status_code == 400 and "not supported" in bad_pattern.json()["detail"]

    seen: list[str] = []
    params: dict[str, str] = {"perPage": "2"}
    while True:
        response = coffee.api.client.get("/epcis/events", params=params, headers=coffee.brand_h)
        page = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        seen += [e["eventID"] for e in page]
        if "GS1-Next-Page-Token" not in response.headers:
            break
        assert 'rel="next"' in response.headers["link"]
        params = {"perPage": "2", "nextPageToken": response.headers["GS1-Next-Page-Token"]}
    assert len(seen) == 5 and len(set(seen)) == 5

    deep_token = base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode()  # recursed past the limit: a 500
    for bad in (
        {"EQ_colour": "red"},
        {"GE_eventTime": "yesterday"},
        {"perPage": "0"},
        {"nextPageToken": "garbage"},
        {"nextPageToken": deep_token},
    ):
        response = coffee.api.client.get("/epcis/events", params=bad, headers=coffee.brand_h)
        assert response.status_code == 400, (bad, response.text)
    assert coffee.events(headers=coffee.outsider_h) == []
    missing = coffee.api.client.get("/epcis/events/urn:uuid:nope", headers=coffee.brand_h)
    assert missing.status_code == 404


def test_the_signers_roles_must_permit_every_event(coffee: Coffee) -> None:
    commissioning = json.loads((FIXTURES / "examples" / "Example_9.6.4-TransformationEvent.jsonld").read_bytes())
    by_shop = coffee.capture(commissioning, headers=coffee.shop_h)
    assert by_shop.status_code == 403
    assert "event #0" in by_shop.json()["detail"] and "retailer" in by_shop.json()["detail"]
    by_outsider = coffee.capture(commissioning, headers=coffee.outsider_h)
    assert by_outsider.status_code == 403 and "not a member" in by_outsider.json()["detail"]
    assert coffee.events() == []


def test_a_self_custody_member_signs_its_capture_root(coffee: Coffee, api: Api) -> None:
    """The member signs the root of its records' leaves (docs/proof-format.md §4), which it can
    compute itself from its seed; a capture signed without the seed, or by another key, is refused."""
    document = json.loads((FIXTURES / "examples" / "Example_9.6.1-ObjectEvent.jsonld").read_bytes())
    unsigned = coffee.capture(document, headers=coffee.coop_h)
    assert unsigned.status_code == 422 and "holds its own key" in unsigned.json()["detail"]
    prepared = api.client.post(
        "/epcis/capture/prepare",
        content=json.dumps(document).encode(),
        headers={**coffee.coop_h, "Constellate-Constellation": "coffee"},
    ).json()
    assert prepared["event_hashes"] == hash_ids(document)
    typed = prepared["messages"][0]
    member = Account.from_key(SELF_KEY).address
    mine = signing_tree(
        document,
        seed=bytes.fromhex(prepared["seed"][2:]),
        signer=member,
        constellation=typed["message"]["constellation"],
    )  # what the member computes without the service
    assert typed["message"]["captureRoot"] == prepared["capture_root"] == "0x" + mine.root.hex()
    assert typed["message"]["recordCount"] == len(mine) == len(prepared["record_leaves"])

    def sign(key: str) -> str:
        return "0x" + bytes(Account.sign_message(encode_typed_data(full_message=typed), key).signature).hex()

    seed = {"Constellate-Capture-Seed": prepared["seed"]}
    forged = coffee.capture(
        document, headers=coffee.coop_h, **{"Constellate-Signature": sign("0x" + "33" * 32)}, **seed
    )
    assert forged.status_code == 422 and "not by Self Custody Coop" in forged.json()["detail"]
    seedless = coffee.capture(document, headers=coffee.coop_h, **{"Constellate-Signature": sign(SELF_KEY)})
    assert seedless.status_code == 400 and "Constellate-Capture-Seed" in seedless.json()["detail"]
    other_seed = coffee.capture(
        document,
        headers=coffee.coop_h,
        **{"Constellate-Signature": sign(SELF_KEY), "Constellate-Capture-Seed": "0x" + "77" * 32},
    )
    assert other_seed.status_code == 422  # other salts, other roots: the signature does not cover them
    bad_seed = coffee.capture(
        document, headers=coffee.coop_h, **{"Constellate-Signature": sign(SELF_KEY), "Constellate-Capture-Seed": "0x12"}
    )
    assert bad_seed.status_code == 400 and "seed" in bad_seed.json()["detail"]
    signed = coffee.capture(document, headers=coffee.coop_h, **{"Constellate-Signature": sign(SELF_KEY)}, **seed)
    assert signed.status_code == 202, signed.text
    assert signed.json()["signer"] == Account.from_key(SELF_KEY).address


def test_only_rollback_capture_is_offered(coffee: Coffee) -> None:
    document = json.loads((FIXTURES / "examples" / "Example_9.6.2-ObjectEvent.jsonld").read_bytes())
    response = coffee.capture(document, **{"GS1-Capture-Error-Behaviour": "proceed"})
    assert response.status_code == 400 and "rollback" in response.json()["detail"]


def test_capture_jobs_are_private_to_their_capturer(coffee: Coffee) -> None:
    job = coffee.capture(json.loads((FIXTURES / "examples" / "Example_9.6.2-ObjectEvent.jsonld").read_bytes())).json()
    assert coffee.api.client.get(f"/epcis/capture/{job['captureID']}", headers=coffee.shop_h).status_code == 404


def _large_document(size: int) -> dict[str, Any]:
    events = [
        {
            "type": "ObjectEvent",
            "eventTime": f"2026-06-01T10:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE",
            "bizStep": "shipping",
            "epcList": [f"urn:epc:id:sgtin:0614141.107346.L{n}"],
        }
        for n in range(size)
    ]
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-06-01T00:00:00Z",
        "epcisBody": {"eventList": events},
    }


def test_a_large_document_is_analysed_in_parallel_and_rejected_whole_if_one_event_is_bad(coffee: Coffee) -> None:
    document = _large_document(600)
    document["epcisBody"]["eventList"][450]["action"] = "SHOUT"
    refused = coffee.capture(document)
    assert refused.status_code == 400 and refused.json()["field"] == "epcisBody.eventList[450].action", refused.text
    assert coffee.events() == []
    document["epcisBody"]["eventList"][450]["action"] = "OBSERVE"
    accepted = coffee.capture(document)
    assert accepted.status_code == 202 and accepted.json()["eventCount"] == 600
    assert len(coffee.events(perPage="1000")) == 600
    assert hash_ids(document)[450].split(";")[1][:64] in {
        e["eventID"].split(";")[1][:64] for e in coffee.events(MATCH_epc="urn:epc:id:sgtin:0614141.107346.L450")
    }


def test_the_same_event_in_two_constellations_is_two_records_each_seen_only_where_captured(
    coffee: Coffee, api: Api
) -> None:
    _, rival_h = api.onboard("Rival Brand")
    rival_shipper, rival_shipper_h = api.onboard("Rival Shipper")
    api.client.post("/constellations", json={"slug": "tea", "name": "Tea"}, headers=rival_h)
    api.client.put(f"/constellations/tea/members/{rival_shipper['id']}", json={"roles": ["logistics"]}, headers=rival_h)
    api.share_everything_by_default(rival_h, "tea")
    document = json.loads((FIXTURES / "examples" / "Example_9.6.1-ObjectEvent.jsonld").read_bytes())
    tea = api.client.post(
        "/epcis/capture",
        content=json.dumps(document).encode(),
        headers={**rival_shipper_h, "Constellate-Constellation": "tea", "Content-Type": "application/json"},
    )
    assert tea.status_code == 202 and tea.json()["duplicates"] == 0
    mine = coffee.capture(document)
    assert mine.status_code == 202 and mine.json()["duplicates"] == 0  # says nothing about the tea constellation
    assert len(coffee.events()) == 2 and len(coffee.events(headers=rival_h)) == 2
    event_id = document["epcisBody"]["eventList"][0]["eventID"]
    assert coffee.api.client.get(f"/epcis/events/{quote(event_id, safe='')}", headers=coffee.brand_h).status_code == 200


def test_cbv_terms_in_any_spelling_meet_the_role_policy(coffee: Coffee) -> None:
    document = _large_document(1)
    event = document["epcisBody"]["eventList"][0]
    event.update(action="ADD")
    for spelling in (
        "gs1:BizStep-commissioning",
        "http://ref.gs1.org/cbv/BizStep-commissioning",
        "https://id.gs1.org/voc/BizStep-commissioning",
    ):
        event["bizStep"] = spelling
        refused = coffee.capture(document, headers=coffee.shop_h)
        assert refused.status_code == 403 and "'commissioning' needs" in refused.json()["detail"], (
            spelling,
            refused.text,
        )


def test_times_the_schema_allows_but_no_calendar_holds_are_400_not_500(coffee: Coffee) -> None:
    document = _large_document(1)
    document["epcisBody"]["eventList"][0]["eventTime"] = "2026-06-01t10:00:00z"
    assert coffee.capture(document).status_code == 202
    for params in ({"GE_eventTime": "0001-01-01T00:00:00+01:00"}, {"LT_recordTime": "9999-12-31T23:59:59-01:00"}):
        response = coffee.api.client.get("/epcis/events", params=params, headers=coffee.brand_h)
        assert response.status_code == 400, (params, response.text)
    long_id = _large_document(1)
    long_id["epcisBody"]["eventList"][0]["epcList"] = ["https://example.com/items/" + "9" * 400]
    refused = coffee.capture(long_id)
    assert refused.status_code == 400 and "epc longer than this service stores" in refused.json()["detail"]


def test_a_misspelt_cbv_term_or_a_malformed_epc_is_400_naming_the_field(coffee: Coffee) -> None:
    for field, value, named in (
        (
            "bizStep",
            "shiping",
            "eventList[0].bizStep: 'shiping' is no CBV 2.0 business step (did you mean 'shipping'?)",
        ),
        (
            "disposition",
            "cbv:Disp-in_progres",
            "eventList[0].disposition: 'cbv:Disp-in_progres' is no CBV 2.0 disposition",
        ),
        ("epcList", ["urn:epc:id:sgtin:0614141.107346"], "eventList[0].epcList[0]: 'urn:epc:id:sgtin:0614141.107346'"),
        ("eventTimeZoneOffset", "+14:30", "eventList[0].eventTimeZoneOffset"),
    ):
        document = _large_document(1)
        document["epcisBody"]["eventList"][0][field] = value
        refused = coffee.capture(document)
        assert refused.status_code == 400 and named in refused.json()["detail"], refused.text
    assert coffee.events() == []


def test_queried_events_re_hash_to_their_hash_ids(coffee: Coffee) -> None:
    """The query document declares what the repository adds to each event outside the CBV 2.0 hash, and
    fields another repository declared outside it (ignoreFields) are not stored: a reader re-hashes what it
    gets to the event's hash ID."""
    document = _large_document(2)
    document["@context"].append({"ex": "https://ns.example.com/epcis/"})
    document["ex:ignoreFields"] = ["ex:captureID"]
    for number, event in enumerate(document["epcisBody"]["eventList"]):
        event.update({"ex:captureID": f"their-capture-{number}", "ex:grade": {"ex:cup": 86 + number}})
    assert coffee.capture(document).status_code == 202
    response = coffee.api.client.get("/epcis/events", headers=coffee.brand_h)
    queried = response.json()
    events = queried["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert all("ex:captureID" not in e and "ex:grade" in e for e in events)
    assert sorted(hash_ids(queried)) == sorted(e["eventID"] for e in events) == sorted(hash_ids(document))


@pytest.mark.parametrize("name", sorted(WRONG_CHECK_DIGIT))
def test_openepcis_cases_with_a_wrong_grai_check_digit_are_refused_at_that_identifier(
    coffee: Coffee, name: str
) -> None:
    refused = coffee.capture((FIXTURES / "openepcis" / "valid" / name).read_bytes())
    assert refused.status_code == 400 and refused.json()["field"] == WRONG_CHECK_DIGIT[name], refused.text
    assert "the GRAI 03001345000771 has a wrong check digit (expected 6)" in refused.json()["detail"]
    assert coffee.events(perPage="1000") == []


def _one_event(**fields: Any) -> dict[str, Any]:
    document = _large_document(1)
    document["epcisBody"]["eventList"][0].update(fields)
    return document


SEMANTIC_REFUSALS = [
    # The two: an AggregationEvent ADD without parentID, a Digital Link with a wrong GTIN check digit.
    (
        {
            "type": "AggregationEvent",
            "action": "ADD",
            "childEPCs": ["urn:epc:id:sgtin:0614141.107346.1"],
            "epcList": None,
        },
        "epcisBody.eventList[0].parentID",
        "required in an AggregationEvent ADD",
    ),
    (
        {"epcList": ["https://id.gs1.org/01/09506000134353/21/1"]},
        "epcisBody.eventList[0].epcList[0]",
        "the GTIN 09506000134353 has a wrong check digit (expected 2)",
    ),
    ({"action": "SHOUT"}, "epcisBody.eventList[0].action", "'SHOUT' is no EPCIS action"),
    (
        {"quantityList": [{"epcClass": "urn:epc:class:lgtin:0614141.107346.L1", "uom": "KGM"}]},
        "epcisBody.eventList[0].quantityList[0].quantity",
        "required with a uom",
    ),
    ({"eventTime": "2026-06-01T10:00:00"}, "epcisBody.eventList[0].eventTime", "no time zone offset"),
]


@pytest.mark.parametrize(("fields", "field", "words"), SEMANTIC_REFUSALS, ids=[f for _, f, _ in SEMANTIC_REFUSALS])
def test_a_semantic_epcis_error_is_400_naming_the_field(
    coffee: Coffee, fields: dict[str, Any], field: str, words: str
) -> None:
    document = _one_event(**fields)
    event = document["epcisBody"]["eventList"][0]
    for name in [k for k, v in event.items() if v is None]:
        del event[name]
    refused = coffee.capture(document)
    assert refused.status_code == 400, refused.text
    problem = refused.json()
    assert problem["type"] == "epcisException:ValidationException" and problem["field"] == field
    assert problem["detail"].startswith(f"not a valid EPCIS 2.0 document: {field}: ") and words in problem["detail"]
    assert coffee.events() == []


@pytest.mark.parametrize(
    ("body", "words"),
    [(b'{"type": "EPCISDocument", "epcisBody": {"eventList": "x"}}', "must be a JSON array of events, not a string")],
)
def test_an_event_list_that_is_no_list_is_named_as_such(coffee: Coffee, body: bytes, words: str) -> None:
    refused = coffee.capture(body)
    assert refused.status_code == 400 and refused.json()["field"] == "epcisBody.eventList", refused.text
    assert words in refused.json()["detail"]


def test_the_resolver_refuses_the_link_capture_refuses_in_the_same_words(coffee: Coffee) -> None:
    """One check of a Digital Link: the resolver's 400 and capture's 400 for the same wrong check digit."""
    words = "the GTIN 09506000134353 has a wrong check digit (expected 2)"
    for host in ("https://id.gs1.org", "https://brand.example.com/products"):
        refused = coffee.capture(_one_event(epcList=[f"{host}/01/09506000134353/21/1"]))
        assert refused.status_code == 400 and words in refused.json()["detail"], refused.text
    for path in ("/01/09506000134353/21/1", "/qr/01/09506000134353/21/1.svg"):
        resolved = coffee.api.client.get(path, headers={"Accept": "application/json"})
        assert resolved.status_code == 400 and words in resolved.json()["detail"], resolved.text
    assert coffee.events() == []


@pytest.mark.parametrize("size", [1, 600])
def test_a_number_no_other_language_reads_exactly_is_400_in_any_capture(coffee: Coffee, size: int) -> None:
    """Values are committed in RFC 8785 canonical JSON, which a JavaScript or Go verifier
    reproduces only for integers within ±(2^53 - 1): a larger one is refused whole, in the
    calling process and in the analysis pool alike; 12.0 and 12 commit alike."""
    document = _large_document(size)
    event = document["epcisBody"]["eventList"][size - 1]
    event["quantityList"] = [{"epcClass": "urn:epc:class:lgtin:0614141.107346.LOT", "quantity": 2**53 + 1}]
    refused = coffee.capture(document)
    assert refused.status_code == 400 and "2^53" in refused.json()["detail"], refused.text
    assert coffee.events() == []
    event["quantityList"][0]["quantity"] = 12.0
    assert coffee.capture(document).status_code == 202
