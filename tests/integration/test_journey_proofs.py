"""A journey checked with only the chain and the verifier's pins (docs/proof-format.md §7-§9a),
on a real Anvil and both databases: the coffee journey verifies as the public and as its brand
read it, claims by their credentials, the footprint recomputed from verified figures, and the
journey costs a few JSON-RPC round trips however many steps it has."""

from __future__ import annotations

import json
import random
import time
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from service import demo
from service.chain.proof_reader import ChainProofReader, TrustPins
from service.chain.rpc import endpoint
from service.client import Client
from service.domain.journey_proofs import JourneyVerdict, MalformedJourney, verify_journey

from . import journey
from .conftest import ADMIN_KEY
from .test_journeys import JSON, ROAST_PATH, Shop


@pytest.fixture
def shop(api: Any) -> Shop:
    return Shop(api)


def _pins(shop: Shop) -> dict[str, Any]:
    response = shop.api.client.get("/verify/trust")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _verify(shop: Shop, w3: Web3, document: dict[str, Any]) -> JourneyVerdict:
    pins = _pins(shop)
    return verify_journey(document, ChainProofReader(endpoint(w3), TrustPins.from_json(pins)), pins)


def _failing(verdict: JourneyVerdict) -> list[tuple[str, Any, Any]]:
    return [(c.name, c.step, c.claim) for c in verdict.checks if c.ok is not True]


def test_the_public_journey_verifies_every_step_claim_and_the_footprint(shop: Shop, w3: Web3) -> None:
    body = shop.page(ROAST_PATH, JSON).json()
    verdict = _verify(shop, w3, body)
    assert verdict.status == "verified", _failing(verdict)
    names = {c.name for c in verdict.checks}
    assert {"pins", "structure", "order", "completeness", "footprint", "claim.signature", "claim.status"} <= names
    assert sum(1 for c in verdict.checks if c.name == "summary") == len(body["steps"])
    assert {c.claim for c in verdict.checks if c.claim} == {c["uid"] for c in body["claims"]}
    assert verdict.as_json()["recordsNotShown"] == body["summary"]["recordsNotShown"]


def test_the_brands_journey_shows_every_record_and_verifies(shop: Shop, w3: Web3) -> None:
    body = shop.page(ROAST_PATH, {**JSON, **shop.brand_h}).json()
    verdict = _verify(shop, w3, body)
    assert verdict.status == "verified", _failing(verdict)
    assert verdict.records_not_shown == body["summary"]["recordsNotShown"] == 0


def test_each_claim_carries_the_credential_its_reader_gets_and_the_page_names_every_pin(shop: Shop) -> None:
    body = shop.page(ROAST_PATH, JSON).json()
    for claim in body["claims"]:
        assert claim["proof"] == f"/attestations/{claim['uid']}/credential"
        served = shop.api.client.get(claim["proof"])
        assert served.status_code == 200, served.text
        assert claim["credential"] == served.json()
        assert claim["schemaUid"] == served.json()["credentialSchema"]["uid"]
    pins = _pins(shop)
    for name in ("chainId", "provenanceAnchor", "constellationRegistry", "attestationRegistry", "anchorer"):
        assert body["verify"][name] == pins[name] is not None, name
    assert body["verify"]["sharingLedger"] == pins["sharingLedger"]
    assert body["verify"]["command"] == (
        f"constellate verify journey http://127.0.0.1:8000{ROAST_PATH} --rpc-url {body['verify']['rpcUrl']}"
        " --trust http://127.0.0.1:8000/verify/trust"
    )
    assert body["completeness"] and body["footprint"]["madeBy"] in {s["ref"] for s in body["steps"]}


def test_a_journey_of_claims_alone_verifies_its_claims(shop: Shop, w3: Web3) -> None:
    gtin = journey.gtin("0950600099990")
    shop.api.own_prefix(shop.roaster_h, gtin)
    registered = shop.api.client.put("/products", json={"gtin": gtin, "name": "Decaf"}, headers=shop.roaster_h)
    assert registered.status_code == 200, registered.text
    made = shop.api.client.post(
        "/attestations",
        json={
            "constellation": "coffee",
            "schema": "certification",
            "subject": {"kind": "item", "gtin": gtin},
            "body": {
                "standard": "Fairtrade",
                "certificateId": "FT-9",
                "issuingBody": "FLOCERT",
                "validUntil": "2027-12-31",
            },
        },
        headers=shop.certifier_h,
    )
    assert made.status_code == 201, made.text
    shop.runtime.relay(flush=True)
    body = shop.page(f"/01/{gtin}", JSON).json()
    assert body["steps"] == [] and [c["uid"] for c in body["claims"]] == [made.json()["uid"]]
    verdict = _verify(shop, w3, body)
    assert verdict.status == "verified", _failing(verdict)
    assert {c.name for c in verdict.checks if c.claim} >= {"claim.signature", "claim.status", "claim.summary"}


def test_a_claim_partly_shown_verifies_what_is_shown(shop: Shop, w3: Web3) -> None:
    auditor, auditor_h = shop.api.onboard("Control Union")
    added = shop.api.client.put(
        f"/constellations/coffee/members/{auditor['id']}", json={"roles": ["certifier"]}, headers=shop.brand_h
    )
    assert added.status_code == 200, added.text
    shop.api.grant(auditor_h, "coffee", ["attestation:certification/standard"], audience={"kind": "public"})
    uid = shop.attest(
        auditor_h,
        "certification",
        journey.LOT_2,
        {
            "standard": "Organic (EU)",
            "certificateId": "CU-2",
            "issuingBody": "Control Union",
            "validUntil": "2027-06-30",
        },
    )
    shop.runtime.relay(flush=True)
    body = shop.page(ROAST_PATH, JSON).json()
    claim = next(c for c in body["claims"] if c["uid"] == uid)
    assert claim["body"] == {"standard": "Organic (EU)"} and "body/validUntil" in claim["withheld"]
    assert claim["credential"]["attestation"]["withheld"] == claim["withheld"]
    verdict = _verify(shop, w3, body)
    assert verdict.status == "verified", _failing(verdict)


UTZ = {"standard": "UTZ", "certificateId": "U-1", "issuingBody": "UTZ", "validUntil": "2027-12-31"}


def test_a_claim_not_on_chain_is_pending_if_shown_so_and_fails_if_shown_valid(shop: Shop, w3: Web3) -> None:
    before = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    uid = shop.attest(shop.certifier_h, "certification", journey.LOT_2, UTZ)
    body = shop.page(ROAST_PATH, JSON).json()
    w3.provider.make_request("evm_revert", [before])  # type: ignore[arg-type]  # the chain never saw it
    claim = next(c for c in body["claims"] if c["uid"] == uid)
    assert claim["status"] == "valid"
    verdict = _verify(shop, w3, body)
    assert verdict.status == "failed" and ("claim.status", None, uid) in _failing(verdict)
    claim["status"] = "pending"
    body["summary"]["claims"] = {**body["summary"]["claims"], "valid": body["summary"]["claims"]["valid"] - 1}
    body["summary"]["claims"]["pending"] += 1
    body["summary"]["certifications"] = [c for c in body["summary"]["certifications"] if c["title"] != "UTZ"]
    verdict = _verify(shop, w3, body)
    assert verdict.status == "pending", _failing(verdict)
    assert {(c.name, c.ok) for c in verdict.checks if c.claim == uid} >= {
        ("claim.on_chain", None),
        ("claim.status", None),
    }


def test_pins_the_page_does_not_name_fail_and_pins_missing_one_are_refused(shop: Shop, w3: Web3) -> None:
    body = shop.page(ROAST_PATH, JSON).json()
    pins = _pins(shop)
    other = {**pins, "constellationRegistry": "0x" + "22" * 20}
    verdict = verify_journey(body, ChainProofReader(endpoint(w3), TrustPins.from_json(other)), other)
    assert ("pins", None, None) in _failing(verdict) and verdict.status == "failed"
    with pytest.raises(MalformedJourney, match="attestationRegistry"):
        verify_journey(body, None, {k: v for k, v in pins.items() if k != "attestationRegistry"})
    with pytest.raises(MalformedJourney, match="a journey is a JSON object"):
        verify_journey([body], None, pins)


def test_without_a_chain_nothing_fails_and_the_journey_is_unavailable(shop: Shop) -> None:
    body = shop.page(ROAST_PATH, JSON).json()
    verdict = verify_journey(deepcopy(body), None, _pins(shop))
    assert verdict.status == "unavailable" and not verdict.failing, _failing(verdict)


def test_a_journey_of_200_steps_costs_a_few_round_trips(shop: Shop, w3: Web3) -> None:
    inspections = [
        {
            "type": "ObjectEvent",
            "eventTime": f"2026-04-{1 + n // 24:02d}T{n % 24:02d}:30:00Z",
            "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE",
            "bizStep": "inspecting",
            "quantityList": [{"epcClass": journey.LOT_1, "quantity": 600, "uom": "KGM"}],
            "readPoint": {"id": journey.FARM_1},
        }
        for n in range(191)
    ]
    captured = shop.api.client.post(
        "/epcis/capture",
        content=json.dumps(journey.document(inspections)).encode(),
        headers={**shop.farm_h, "Constellate-Constellation": "coffee", "Content-Type": "application/json"},
    )
    assert captured.status_code == 202, captured.text
    shop.runtime.relay(flush=True)
    body = shop.page(ROAST_PATH, JSON).json()
    assert len(body["steps"]) == 200
    pins = _pins(shop)
    reader = ChainProofReader(endpoint(w3), TrustPins.from_json(pins))
    started = time.perf_counter()
    verdict = verify_journey(body, reader, pins)
    took = time.perf_counter() - started
    assert verdict.status == "verified", _failing(verdict)
    assert reader.round_trips <= 4, reader.round_trips  # every root, role and claim read in batches
    print(f"200 steps verified in {took:.3f} s, {reader.round_trips} round trips")


def _unrecomputable(footprint: dict[str, Any]) -> bool:
    """Whether a counted input's figure is neither its own claim's nor carried with its own
    footprint (the document must carry what a verifier recomputes the headline from)."""
    inputs = [i for i in footprint.get("inputs") or () if i["counted"]]
    return any(i["claimUid"] is None and "footprint" not in i for i in inputs) or any(
        _unrecomputable(i["footprint"]) for i in inputs if "footprint" in i
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_demos_journeys_verify_as_the_public_and_as_their_brands(api: Any, w3: Web3, tmp_path: Path) -> None:
    """Five journeys of every shape the demo has: blends rolled up from inputs, a recalled lot,
    disputed, lapsed and partly shared claims, a journey of claims alone."""
    seeded = demo.seed(Client(api_key=ADMIN_KEY, http=api.client), tmp_path / "state.json")
    api.client.app.state.runtime.relay(flush=True)
    pins = api.client.get("/verify/trust").json()
    keys = {member["id"]: member["api_key"] for member in seeded.members.values()}
    wrong = {}
    for path in seeded.journeys:
        public = api.client.get(path, headers=JSON).json()
        brand = {"Authorization": f"Bearer {keys[public['brand']['id']]}"}
        for reader, headers in (("public", {}), ("brand", brand)):
            body = api.client.get(path, headers={**JSON, **headers}).json()
            verdict = verify_journey(body, ChainProofReader(endpoint(w3), TrustPins.from_json(pins)), pins)
            assert not _unrecomputable(body["footprint"]), (path, reader)
            if (verdict.status, _failing(verdict)) != ("verified", []):
                wrong[(path, reader)] = (verdict.status, _failing(verdict))
    assert not wrong, wrong


JUNK: list[Any] = [None, 0, -1, 1.5, "", "x", "0x", [], {}, True, [None], {"a": None}, 1e308, "0x" + "1" * 64]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        found += [p for key, inner in value.items() for p in _paths(inner, (*path, key))]
    elif isinstance(value, list):
        found += [p for index, inner in enumerate(value[:3]) for p in _paths(inner, (*path, index))]
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_anything_anywhere_in_a_journey_gets_a_verdict_never_a_crash(shop: Shop) -> None:
    """What /verify and the CLI answer for a document someone made up: a verdict naming what
    fails, or MalformedJourney (a 400) for one that is no journey at all."""
    body = shop.page(ROAST_PATH, JSON).json()
    pins = _pins(shop)
    places = _paths(body)
    chance = random.Random(19)
    for _ in range(800):
        document = deepcopy(body)
        for _ in range(chance.randint(1, 3)):
            *outer, last = chance.choice(places)
            try:
                target = document
                for key in outer:
                    target = target[key]
                target[last] = chance.choice(JUNK)
            except (KeyError, IndexError, TypeError):
                continue  # an earlier change removed the place
        try:
            verdict = verify_journey(document, None, pins)
        except MalformedJourney:
            continue
        assert verdict.status in ("failed", "unavailable", "pending"), verdict.status
        json.dumps(verdict.as_json())
