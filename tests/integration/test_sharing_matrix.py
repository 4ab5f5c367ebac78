"""Who sees what, end to end, on a real Anvil and both databases: three constellations, eight
members (two competing roasters share X while only one of them is in Y), the public and the
operator; every read endpoint x every reader x every category gives exactly the fields the
expectation table below names — written out by hand, not computed by the engine — and no
salt of a withheld field, no event hash of a partly withheld event, ever leaves the service.
Then: revocation and expiry on the next request, verification of redacted views (and of
tampered ones), the preview, the access log, and bad grants refused with nothing stored."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from service.chain.deployment import Chain
from service.db.models import Attestation, EpcisEvent, SharingGrant
from service.domain.commitments import RecordCommitment, event_leaf
from service.domain.gs1 import check_digit
from service.roles import Role
from service.runtime import Runtime

from . import journey
from .conftest import ADMIN_KEY, Api

ALL = ["what", "when", "where", "why", "quantities", "commercial", "sensor", "ilmd", "extensions"]
FIELDS = {  # the fields of the two events, by category
    "what": ["action", "epcList"],
    "when": ["eventTime", "eventTimeZoneOffset", "recordTime"],
    "where": ["readPoint", "bizLocation"],
    "why": ["bizStep", "disposition"],
    "quantities": ["quantityList"],
    "commercial": ["bizTransactionList", "sourceList", "destinationList"],
    "sensor": ["sensorElementList"],
    "ilmd": ["ilmd"],
    "extensions": ["example:recipe"],
}
ITEM_X = "https://id.gs1.org/01/" + journey.GREEN + "/21/X-1"
ITEM_Y = "https://id.gs1.org/01/" + journey.GREEN + "/21/Y-1"
LOT_X, LOT_Y = journey.lot(journey.GREEN, "LX"), journey.lot(journey.GREEN, "LY")
OUTPUT_X = journey.lot(journey.ROASTED, "RX")
CONTEXT = [*journey.CONTEXT, {"example": "https://ns.example.com/epcis/"}]

READERS = [
    "farm",
    "roaster_a",
    "roaster_b",
    "brand",
    "shop",
    "certifier",
    "chocolatier",
    "outsider",
    "public",
    "operator",
]
# Expected categories of each event per reader; None: all of it. Derivation, for reading:
# X defaults (by the coordinator, brand): when, why to the constellation. The farm withholds
# why from manufacturers, shares what + where with roaster_a, quantities with the brand role.
# In Y the farm shares everything but extensions with roaster_b, and what + when with the public.
EXPECTED_X: dict[str, set[str] | None] = {
    "farm": None,
    "operator": None,
    "roaster_a": {"when", "what", "where"},
    "roaster_b": {"when"},
    "brand": {"when", "why", "quantities"},
    "shop": {"when", "why"},
    "certifier": set(),
    "chocolatier": set(),
    "outsider": set(),
    "public": set(),
}
EXPECTED_Y: dict[str, set[str] | None] = {
    "farm": None,
    "operator": None,
    "roaster_b": set(ALL) - {"extensions"},
    **{r: {"what", "when"} for r in ("roaster_a", "brand", "shop", "certifier", "chocolatier", "outsider", "public")},
}
# The certification (by the certifier, in Y) about lot Y: its standard to Y's manufacturers,
# the whole of it and its evidence to roaster_b, nothing to anyone else.
EXPECTED_CERT: dict[str, set[str] | None] = {
    "certifier": None,
    "operator": None,
    "roaster_b": {
        "body/standard",
        "body/certificateId",
        "body/issuingBody",
        "body/scope",
        "body/validUntil",
        "evidence",
    },
    **{r: set() for r in ("farm", "roaster_a", "brand", "shop", "chocolatier", "outsider", "public")},
}
CERT_BODY = {
    "standard": "Fairtrade",
    "certificateId": "FLO-1234",
    "issuingBody": "FLOCERT",
    "scope": "green coffee",
    "validUntil": "2027-12-31",
}


def _gln(body: str) -> str:
    return "https://id.gs1.org/414/" + body + str(check_digit(body))


def _event(item: str, lot: str, *, place: str) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": "2026-10-01T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "epcList": [item],
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": place},
        "bizLocation": {"id": place},
        "quantityList": [{"epcClass": lot, "quantity": 60, "uom": "KGM"}],
        "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0950600000001:PO-77"}],
        "sourceList": [{"type": "owning_party", "source": journey.party(journey.FARM_1)}],
        "destinationList": [{"type": "owning_party", "destination": journey.party(journey.ROASTERY)}],
        "sensorElementList": [
            {
                "sensorMetadata": {"time": "2026-10-01T08:00:00Z"},
                "sensorReport": [{"type": "Temperature", "value": 21.5, "uom": "CEL"}],
            }
        ],
        "ilmd": {"example:harvest": "2026-09"},
        "example:recipe": "washed, 36 h fermentation",
    }


def _roast(lot: str, output: str) -> dict[str, Any]:
    return {
        "type": "TransformationEvent",
        "eventTime": "2026-10-03T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "inputQuantityList": [{"epcClass": lot, "quantity": 60, "uom": "KGM"}],
        "outputEPCList": [output],
        "bizStep": "commissioning",
    }


class World:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.members: dict[str, dict[str, Any]] = {}
        self.headers: dict[str, dict[str, str]] = {"public": {}, "operator": api.admin}
        for name in ("farm", "roaster_a", "roaster_b", "brand", "shop", "certifier", "chocolatier", "outsider"):
            member, headers = api.onboard(name.replace("_", " ").title())
            self.members[name], self.headers[name] = member, headers
        self._constellation(
            "brand",
            "coffee",
            brand=["coordinator", "brand"],
            farm=["supplier"],
            roaster_a=["manufacturer"],
            roaster_b=["manufacturer"],
            shop=["retailer"],
        )
        self._constellation(
            "chocolatier", "cocoa", farm=["supplier"], roaster_b=["manufacturer"], certifier=["certifier"]
        )
        self._constellation("outsider", "tea")
        api.grant(self.headers["brand"], "coffee", ["when", "why"], default=True, purpose="journey timeline")
        api.grant(
            self.headers["farm"],
            "coffee",
            ["why"],
            effect="withhold",
            audience={"kind": "role", "role": "manufacturer"},
        )
        self.to_roaster_a = api.grant(
            self.headers["farm"],
            "coffee",
            ["what", "where"],
            audience={"kind": "member", "member_id": self.id("roaster_a")},
        )
        api.grant(self.headers["farm"], "coffee", ["quantities"], audience={"kind": "role", "role": "brand"})
        api.grant(
            self.headers["farm"],
            "cocoa",
            [c for c in ALL if c != "extensions"],
            audience={"kind": "member", "member_id": self.id("roaster_b")},
        )
        api.grant(self.headers["farm"], "cocoa", ["what", "when"], audience={"kind": "public"})
        api.grant(
            self.headers["certifier"],
            "cocoa",
            ["attestation:certification/standard"],
            audience={"kind": "role", "role": "manufacturer"},
        )
        api.grant(
            self.headers["certifier"],
            "cocoa",
            ["attestation:certification", "evidence"],
            audience={"kind": "member", "member_id": self.id("roaster_b")},
        )
        self.capture("farm", "coffee", [_event(ITEM_X, LOT_X, place=journey.FARM_1), _roast(LOT_X, OUTPUT_X)])
        self.capture("farm", "cocoa", [_event(ITEM_Y, LOT_Y, place=_gln("950600000009"))])
        made = api.client.post(
            "/attestations",
            json={
                "schema": "certification",
                "constellation": "cocoa",
                "subject": {"kind": "item", "gtin": journey.GREEN, "lot": "LY"},
                "body": CERT_BODY,
                "evidence": [
                    {"filename": "cert.pdf", "media_type": "application/pdf", "content_base64": "JVBERi0xLjQK"}
                ],
            },
            headers=self.headers["certifier"],
        )
        assert made.status_code == 201, made.text
        self.cert = made.json()
        self.runtime.relay(flush=True)
        with self.runtime.sessions() as session:
            rows = {row.payload["type"] + row.constellation: row for row in session.scalars(select(EpcisEvent))}
            self.x = next(r for r in rows.values() if r.payload.get("epcList") == [ITEM_X])
            self.roast = next(r for r in rows.values() if r.payload["type"] == "TransformationEvent")
            self.y = next(r for r in rows.values() if r.payload.get("epcList") == [ITEM_Y])
            self.cert_row = session.get(Attestation, self.cert["uid"])
            session.expunge_all()

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.api.client.app.state.runtime  # type: ignore[attr-defined]
        return runtime

    def id(self, name: str) -> str:
        return str(self.members[name]["id"])

    def _constellation(self, coordinator: str, slug: str, **roles: list[str]) -> None:
        created = self.api.client.post(
            "/constellations", json={"slug": slug, "name": slug.upper()}, headers=self.headers[coordinator]
        )
        assert created.status_code == 201, created.text
        for name, held in roles.items():
            put = self.api.client.put(
                f"/constellations/{slug}/members/{self.id(name)}",
                json={"roles": held},
                headers=self.headers[coordinator],
            )
            assert put.status_code == 200, put.text

    def capture(self, who: str, slug: str, events: list[dict[str, Any]]) -> None:
        document = {**journey.document(events), "@context": CONTEXT}
        response = self.api.client.post(
            "/epcis/capture",
            content=json.dumps(document).encode(),
            headers={**self.headers[who], "Constellate-Constellation": slug, "Content-Type": "application/json"},
        )
        assert response.status_code == 202, response.text

    def get(self, who: str, path: str, /, **params: Any) -> Any:
        return self.api.client.get(path, params=params, headers=self.headers[who])

    def query(self, reader: str, **params: Any) -> list[dict[str, Any]]:
        response = self.get(reader, "/epcis/events", **params)
        assert response.status_code == 200, response.text
        self.assert_no_leak(response.text, reader)
        return list(response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])

    def assert_no_leak(self, text: str, reader: str) -> None:
        """No salt of a field withheld from `reader`, and no digest of a partly withheld event."""
        for row, expected in ((self.x, EXPECTED_X[reader]), (self.y, EXPECTED_Y[reader])):
            if expected is None:
                continue
            withheld = [f for c in ALL if c not in expected for f in FIELDS[c] if f in row.salts]
            for path in [*withheld, "#eventHash"]:
                assert row.salts[path] not in text, f"{reader} got the salt of {path}"
            assert row.event_hash not in text and row.id not in text, f"{reader} got a digest of a redacted event"
        cert = EXPECTED_CERT[reader]
        if cert is not None:
            for path, salt in self.cert_row.salts.items():
                if path not in cert:
                    assert salt not in text, f"{reader} got the salt of the certification's {path}"


@pytest.fixture
def world(api: Api) -> World:
    return World(api)


def _shown(event: dict[str, Any]) -> set[str]:
    return {k for k in event if k not in ("constellate:record", "@context", "type")}


def _expected_fields(expected: set[str] | None, row: EpcisEvent) -> set[str]:
    categories = set(ALL) if expected is None else expected
    present = {f for c in categories for f in FIELDS[c] if f in row.payload or f == "recordTime"}
    if expected is None:
        present.add("eventID")  # a full view names the event by its hash ID
    return present


def test_every_read_endpoint_shows_each_reader_exactly_its_categories(world: World) -> None:
    for reader in READERS:
        for row, table in ((world.x, EXPECTED_X), (world.y, EXPECTED_Y)):
            expected = table[reader]
            fields = _expected_fields(expected, row)
            # the query, unfiltered
            listed = {e["constellate:record"]["ref"]: e for e in world.query(reader)}
            if expected is not None and not expected:
                assert row.leaf not in listed, f"{reader} sees an event it may not"
                by_ref = world.get(reader, f"/epcis/events/{row.leaf}")
                assert by_ref.status_code == 404, f"{reader} reads an event it may not"
                assert world.get(reader, f"/verify/events/{row.leaf}").status_code == 404
                continue
            event = listed[row.leaf]
            assert _shown(event) == fields, (reader, row.payload.get("epcList"))
            context = expected is None or bool({"extensions", "ilmd"} & expected)
            assert ("@context" in event) is context
            withheld = sorted({f for f in row.payload if f != "type"} - fields - ({"@context"} if context else set()))
            assert event["constellate:record"]["withheld"] == ([] if expected is None else withheld)
            assert set(event["constellate:record"]["disclosures"]) == (
                (fields - {"recordTime", "eventID"})
                | {"type", "#fields"}
                | ({"@context"} if context else set())
                | ({"#eventHash"} if expected is None else set())
            )
            # the event by reference: the same view
            by_ref = world.get(reader, f"/epcis/events/{row.leaf}")
            assert by_ref.status_code == 200 and _shown(by_ref.json()) == fields
            world.assert_no_leak(by_ref.text, reader)
            # by hash ID only for who sees all of it: the hash is no oracle for the others
            hash_id = f"ni:///sha-256;{row.event_hash}?ver=CBV2.0"
            by_hash = world.get(reader, f"/epcis/events/{quote(hash_id, safe='')}")
            assert by_hash.status_code == (200 if expected is None else 404), reader
            # verification as this reader may see it
            verdict = world.get(reader, f"/verify/events/{row.leaf}")
            assert verdict.status_code == 200
            assert verdict.json()["status"] == "verified", [c for c in verdict.json()["checks"] if not c["ok"]]
            assert verdict.json()["disclosure"] == ("full" if expected is None else "partial")
            world.assert_no_leak(verdict.text, reader)


def _matches(world: World, reader: str, **params: str) -> set[str]:
    return {e["constellate:record"]["ref"] for e in world.query(reader, **params)}


QUERY_BY_CATEGORY = {
    "what": {"MATCH_epc": "ITEM"},
    "when": {"GE_eventTime": "2026-09-30T00:00:00Z"},
    "where": {"EQ_bizLocation": "PLACE"},
    "why": {"EQ_bizStep": "commissioning"},
    "quantities": {"MATCH_epcClass": "LOT"},
}


@pytest.mark.parametrize("category", sorted(QUERY_BY_CATEGORY))
def test_a_query_matches_only_on_fields_the_reader_may_see(world: World, category: str) -> None:
    for reader in READERS:
        for row, item, lot, table in ((world.x, ITEM_X, LOT_X, EXPECTED_X), (world.y, ITEM_Y, LOT_Y, EXPECTED_Y)):
            place = row.payload["bizLocation"]["id"]
            params = {
                k: v.replace("ITEM", item).replace("LOT", lot).replace("PLACE", place)
                for k, v in QUERY_BY_CATEGORY[category].items()
            }
            expected = table[reader]
            visible = expected is None or category in expected
            assert (row.leaf in _matches(world, reader, **params)) is visible, (reader, category, row.constellation)
    # ordering by time ranks only records whose time is shown
    assert world.x.leaf not in _matches(world, "certifier", orderBy="eventTime")
    assert world.x.leaf in _matches(world, "shop", orderBy="eventTime")


def test_traces_cross_only_events_whose_linking_fields_the_reader_sees(world: World) -> None:
    """The roast links lot X (inputQuantityList: quantities) to roasted lot X (outputEPCList:
    what). The brand sees quantities, roaster_a sees what: neither may cross it."""
    for reader, crosses in (
        ("farm", True),
        ("operator", True),
        ("brand", False),
        ("roaster_a", False),
        ("public", False),
    ):
        down = world.get(reader, "/trace/downstream", id=LOT_X).json()
        assert (OUTPUT_X in {n["id"] for n in down["nodes"]}) is crosses, reader
        up = world.get(reader, "/trace/upstream", id=OUTPUT_X).json()
        assert (LOT_X in up["origins"]) is crosses, reader
        world.assert_no_leak(json.dumps(down) + json.dumps(up), reader)
    verified = world.get("farm", "/verify/trace", id=OUTPUT_X, direction="upstream").json()
    assert verified["status"] == "verified" and verified["events"] == 2  # the roast and the commissioning
    partial = world.get("roaster_a", "/verify/trace", id=ITEM_X).json()
    assert partial["status"] == "verified" and {v["disclosure"] for v in partial["verdicts"]} == {"partial"}
    assert all(v["hashID"] is None for v in partial["verdicts"])
    assert world.get("brand", "/verify/trace", id=ITEM_X).status_code == 404  # nothing it may see names the item
    for reader in READERS:
        custody = world.get(reader, "/trace/custody", id=ITEM_X)
        assert custody.status_code == 200
        steps = custody.json()["steps"]
        expected = EXPECTED_X[reader]
        assert bool(steps) is (expected is None or "what" in expected), reader
        for step in steps:
            assert (step["eventTime"] is not None) is (expected is None or "when" in expected)
            assert (step["bizLocation"] is not None) is (expected is None or "where" in expected)
            assert (step["bizStep"] is not None) is (expected is None or "why" in expected)
        world.assert_no_leak(custody.text, reader)


def test_attestations_and_evidence_follow_the_issuers_grants(world: World) -> None:
    uid = world.cert["uid"]
    evidence_sha = world.cert["evidence"][0]["sha256"]
    for reader in READERS:
        expected = EXPECTED_CERT[reader]
        one = world.get(reader, f"/attestations/{uid}")
        listed = world.get(reader, "/attestations")
        assert listed.status_code == 200
        world.assert_no_leak(one.text + listed.text, reader)
        if expected is not None and not expected:
            assert one.status_code == 404, reader
            assert uid not in {a["uid"] for a in listed.json()}
            assert world.get(reader, f"/evidence/{evidence_sha}").status_code == 404
            continue
        assert one.status_code == 200, reader
        body = one.json()
        shown = {f"body/{k}" for k in body["body"]} | ({"evidence"} if body["evidence"] else set())
        committed = {f"body/{k}" for k in CERT_BODY} | {"evidence"}
        assert shown == (committed if expected is None else expected)
        assert sorted(body["withheld"]) == sorted(committed - shown)
        assert set(body["disclosures"]) == shown
        assert (body["salts"] is not None) is (reader == "certifier")
        evidence = world.get(reader, f"/evidence/{evidence_sha}")
        assert evidence.status_code == (200 if "evidence" in shown else 404)


def test_a_withheld_schema_field_for_a_role_and_the_whole_schema_for_a_member(world: World, api: Api) -> None:
    """A second manufacturer in Y sees only the standard; roaster_b (also a manufacturer) all."""
    extra, extra_h = api.onboard("Second Roaster")
    put = api.client.put(
        f"/constellations/cocoa/members/{extra['id']}",
        json={"roles": ["manufacturer"]},
        headers=world.headers["chocolatier"],
    )
    assert put.status_code == 200
    read = api.client.get(f"/attestations/{world.cert['uid']}", headers=extra_h).json()
    assert read["body"] == {"standard": "Fairtrade"} and read["evidence"] == []
    assert "body/certificateId" in read["withheld"] and "evidence" in read["withheld"]


def test_revocation_and_expiry_take_effect_on_the_next_request(world: World, api: Api) -> None:
    assert "epcList" in _shown(world.get("roaster_a", f"/epcis/events/{world.x.leaf}").json())
    revoked = api.client.post(f"/grants/{world.to_roaster_a['id']}/revoke", json={}, headers=world.headers["farm"])
    assert revoked.status_code == 200, revoked.text
    assert _shown(world.get("roaster_a", f"/epcis/events/{world.x.leaf}").json()) == {
        "eventTime",
        "eventTimeZoneOffset",
        "recordTime",
    }
    until = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    api.grant(
        world.headers["farm"],
        "coffee",
        ["sensor"],
        audience={"kind": "member", "member_id": world.id("shop")},
        valid_until=until,
    )
    assert "sensorElementList" in _shown(world.get("shop", f"/epcis/events/{world.x.leaf}").json())
    time.sleep(max(0.0, (datetime.fromisoformat(until) - datetime.now(UTC)).total_seconds()) + 0.2)
    assert "sensorElementList" not in _shown(world.get("shop", f"/epcis/events/{world.x.leaf}").json())


def _post_verify(api: Api, view: dict[str, Any]) -> dict[str, Any]:
    response = api.client.post("/verify/record", json=view)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_redacted_view_verifies_anywhere_and_tampering_fails_naming_the_check(
    world: World, api: Api, tmp_path: Path
) -> None:
    view = world.get("roaster_a", f"/epcis/events/{world.x.leaf}").json()
    assert _post_verify(api, view)["status"] == "verified"  # no credentials needed
    one_byte = deepcopy(view)
    one_byte["epcList"] = [ITEM_X[:-1] + "2"]
    assert _failed(_post_verify(api, one_byte)) == ["disclosed_fields"]
    invented = deepcopy(view)
    invented["bizStep"] = "commissioning"  # a withheld field cannot be slipped in unproven
    assert _failed(_post_verify(api, invented)) == ["disclosed_fields", "field_list"]
    other_salt = deepcopy(view)
    other_salt["constellate:record"]["disclosures"]["eventTime"]["salt"] = "0x" + "00" * 16
    assert _failed(_post_verify(api, other_salt)) == ["disclosed_fields"]
    other_owner = deepcopy(view)
    other_owner["constellate:record"]["owner"]["address"] = "0x" + "22" * 20
    assert _failed(_post_verify(api, other_owner)) == ["leaf", "authorship", "signer_role", "merkle_proof", "anchored"]
    fewer = deepcopy(view)  # passing a redacted view off as complete
    fewer["constellate:record"]["withheld"] = []
    assert _failed(_post_verify(api, fewer)) == ["field_list"]
    dropped = deepcopy(view)  # or hiding a shown field as if it were withheld
    del dropped["bizLocation"]
    assert _failed(_post_verify(api, dropped)) == ["disclosed_fields", "field_list"]
    shifted = deepcopy(view)  # a byte moved from the constellation id into the address
    block = shifted["constellate:record"]
    block["owner"]["address"] += block["constellation"]["id"][2:4]
    block["constellation"]["id"] = "0x" + block["constellation"]["id"][4:]
    assert api.client.post("/verify/record", json=shifted).status_code == 400  # 21 and 31 bytes: not a view
    unproven = _post_verify(api, view)["unproven"]  # what the service adds for readers, not proven
    assert unproven[0] == "recordTime" and {"owner.name", "constellation.slug"} <= set(unproven)
    spaced = deepcopy(view)
    spaced["constellate:record"]["owner"]["address"] += "\n"
    assert api.client.post("/verify/record", json=spaced).status_code == 400
    record = view["constellate:record"]
    for malformed in (
        {"type": "ObjectEvent"},
        [view],
        {**view, "constellate:record": {**record, "disclosures": []}},
        {**view, "constellate:record": {**record, "anchor": {"root": 1, "proof": [2]}}},
        {**view, "constellate:record": {**record, "withheld": "all"}},
    ):
        assert api.client.post("/verify/record", json=malformed).status_code == 400, malformed

    # The CLI does the same with only the chain and the pins: the contracts and the anchorer.
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(view))
    bad.write_text(json.dumps(one_byte))
    trust = api.client.get("/verify/trust").json()
    assert trust["attestationRegistry"] == world.runtime.chain.attestations.address
    pins = [
        "--rpc-url",
        world.runtime.settings.rpc_url,
        "--contract",
        trust["provenanceAnchor"],
        "--registry",
        trust["constellationRegistry"],
    ]
    ran = _cli("verify", "record", str(good), *pins, "--anchorer", trust["anchorer"])
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "verified (partial disclosure)" in ran.stdout and "ok   anchored" in ran.stdout
    ran = _cli("verify", "record", str(bad), *pins, "--anchorer", trust["anchorer"])
    assert ran.returncode == 1 and "FAIL disclosed_fields" in ran.stdout
    ran = _cli("verify", "record", str(good), *pins, "--anchorer", "0x" + "33" * 20)
    assert ran.returncode == 1 and "FAIL anchored" in ran.stdout and "neither the trusted anchorer" in ran.stdout


def test_a_root_anchored_by_anyone_else_does_not_verify(world: World, api: Api, chain: Chain) -> None:
    """A stranger makes its own constellation, anchors a root over a forged leaf naming the
    farm and the coffee constellation, and presents a view of it: refused."""
    w3 = chain.w3
    stranger = w3.eth.accounts[7]
    own = bytes.fromhex("77" * 32)
    chain.registry.contract.functions.createConstellation(own, "Forgers").transact({"from": stranger})
    chain.registry.contract.functions.grantRoles(own, stranger, Role.SUPPLIER).transact({"from": stranger})
    fields = {"type": "ObjectEvent", "bizStep": "destroying", "#fields": ["bizStep", "type"]}
    commitment = RecordCommitment.commit(fields)
    leaf = event_leaf(commitment.root, world.x.signer, world.x.constellation)
    chain.anchor.contract.functions.anchor(own, leaf, 1, bytes(32)).transact({"from": stranger})
    disclosures = {
        item.path: {
            **({"value": item.value} if item.path == "#fields" else {}),
            "salt": "0x" + item.salt.hex(),
            "proof": ["0x" + p.hex() for p in item.proof],
        }
        for item in commitment.disclose(["type", "bizStep", "#fields"])
    }
    forged = {
        "type": "ObjectEvent",
        "bizStep": "destroying",
        "constellate:record": {
            "ref": "0x" + leaf.hex(),
            "constellation": {"id": world.x.constellation},
            "owner": {"address": world.x.signer},
            "withheld": [],
            "recordRoot": "0x" + commitment.root.hex(),
            "disclosures": disclosures,
            "anchor": {"root": "0x" + leaf.hex(), "proof": [], "blockNumber": w3.eth.block_number},
        },
    }
    verdict = _post_verify(api, forged)
    assert _failed(verdict) == ["authorship", "anchored"], verdict  # no member signed it; nor did we anchor it
    anchored = next(c for c in verdict["checks"] if c["name"] == "anchored")
    assert "neither the trusted anchorer" in anchored["detail"] and "another constellation" in anchored["detail"]


def test_no_oracle_in_capture_or_page_tokens(world: World, api: Api) -> None:
    """roaster_b sees only the time of the farm's event X. Capturing a guess of the whole event
    says nothing (it becomes roaster_b's own record); a page token naming a record whose time
    the reader may not see is refused."""
    guess = _event(ITEM_X, LOT_X, place=journey.FARM_1)
    for disposition in ("active", "destroyed"):
        document = {**journey.document([{**guess, "disposition": disposition}]), "@context": CONTEXT}
        response = api.client.post(
            "/epcis/capture",
            content=json.dumps(document).encode(),
            headers={
                **world.headers["roaster_b"],
                "Constellate-Constellation": "coffee",
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 202 and response.json()["duplicates"] == 0, response.text
    token = base64.urlsafe_b64encode(json.dumps([world.x.leaf]).encode()).decode().rstrip("=")
    assert world.get("certifier", "/epcis/events", orderBy="eventTime", nextPageToken=token).status_code == 400
    assert world.get("farm", "/epcis/events", orderBy="eventTime", nextPageToken=token).status_code == 200


def _failed(verdict: dict[str, Any]) -> list[str]:
    return [c["name"] for c in verdict["checks"] if c["ok"] is False]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_owner_previews_a_readers_view_and_reads_its_access_log(world: World, api: Api) -> None:
    preview = world.get("farm", "/grants/preview", reader=world.id("roaster_a"), record=world.x.leaf)
    assert preview.status_code == 200, preview.text
    actual = world.get("roaster_a", f"/epcis/events/{world.x.leaf}").json()
    assert set(preview.json()["shown"]) - {"type"} == _shown(actual)
    assert preview.json()["withheld"] == actual["constellate:record"]["withheld"]
    assert world.to_roaster_a["id"] in preview.json()["basis"]
    public = world.get("farm", "/grants/preview", reader="public", record=world.x.leaf).json()
    assert public["visible"] is False
    cert = world.get("certifier", "/grants/preview", reader=world.id("roaster_b"), record=world.cert["uid"]).json()
    assert cert["visible"] and "evidence" in cert["shown"]
    # only the owner previews its records
    assert world.get("roaster_a", "/grants/preview", reader=world.id("brand"), record=world.x.leaf).status_code == 404
    assert world.get("farm", "/grants/preview", reader="nobody", record=world.x.leaf).status_code == 422

    read = api.client.get(
        f"/epcis/events/{world.x.leaf}", headers={**world.headers["brand"], "Constellate-Purpose": "recall check"}
    )
    assert read.status_code == 200
    log = world.get("farm", "/access-log", record=world.x.leaf, reader=world.id("brand")).json()
    entry = log[0]
    assert entry["reader"] == {"kind": "member", "id": world.id("brand")} and entry["purpose"] == "recall check"
    assert "bizStep" in entry["shown"] and "bizLocation" in entry["withheld"] and entry["endpoint"] == "epcis.event"
    assert entry["basis"]  # the default and the role grant that disclosed it
    world.get("public", f"/epcis/events/{world.y.leaf}")
    assert (
        world.get("farm", "/access-log", reader="public", record=world.y.leaf).json()[0]["reader"]["kind"] == "public"
    )
    # nobody else reads the farm's log: the brand's log holds only reads of its own data (none)
    assert world.get("brand", "/access-log").json() == []
    assert world.get("public", "/access-log").status_code == 401
    bad_purpose = api.client.get(
        f"/epcis/events/{world.x.leaf}", headers={**world.headers["brand"], "Constellate-Purpose": "<script>"}
    )
    assert bad_purpose.status_code == 400


def test_bad_grants_are_refused_naming_the_problem_and_nothing_is_stored(world: World, api: Api) -> None:
    farm = world.headers["farm"]
    with world.runtime.sessions() as session:
        before = len(session.scalars(select(SharingGrant)).all())
    base = {"constellation": "coffee", "categories": ["what"], "audience": {"kind": "constellation"}, "purpose": "p"}
    cases = [
        ({"audience": {"kind": "member", "member_id": "no-such-member"}}, 422, "does not exist"),
        ({"audience": {"kind": "role", "role": "astronaut"}}, 422, "unknown role"),
        ({"constellation": "tea"}, 403, "not a member"),
        ({"constellation": "nowhere"}, 422, "nowhere"),
        ({"valid_from": "2027-01-02T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z"}, 422, "after valid_from"),
        ({"valid_until": "2020-01-01T00:00:00Z"}, 422, "in the past"),
        ({"owner": world.id("roaster_a")}, 403, "theirs to share"),
        ({"default": True}, 403, "only a coordinator"),
        ({"categories": ["secrets"]}, 422, "unknown categories"),
        ({"categories": ["attestation:no-such-schema"]}, 422, "no attestation schema"),
        ({"categories": ["attestation:certification/colour"]}, 422, "has no field 'colour'"),
        ({"default": True, "effect": "withhold"}, 422, "a constellation default shares"),
    ]
    for change, code, words in cases:
        response = api.client.post("/grants", json={**base, **change}, headers=farm)
        assert response.status_code == code, (change, response.text)
        assert words in response.text, (change, response.text)
    assert api.client.post("/grants", json=base).status_code == 401
    with world.runtime.sessions() as session:
        assert len(session.scalars(select(SharingGrant)).all()) == before


def test_the_public_reads_without_credentials_and_a_bad_key_is_refused(world: World, api: Api) -> None:
    assert {e["constellate:record"]["ref"] for e in world.query("public")} == {world.y.leaf}
    bad = api.client.get("/epcis/events", headers={"Authorization": "Bearer cst_nope"})
    assert bad.status_code == 401
    assert api.client.get("/epcis/events", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).status_code == 200


def test_defaults_lapse_when_their_coordinator_loses_the_role(world: World, api: Api) -> None:
    assert _shown(world.get("shop", f"/epcis/events/{world.x.leaf}").json()) >= {"eventTime", "bizStep"}
    successor, successor_h = api.onboard("Successor")
    for member, roles in ((successor, ["coordinator"]), (world.members["brand"], ["brand"])):
        put = api.client.put(
            f"/constellations/coffee/members/{member['id']}", json={"roles": roles}, headers=world.headers["brand"]
        )
        assert put.status_code == 200, put.text
    assert world.get("shop", f"/epcis/events/{world.x.leaf}").status_code == 404
    api.grant(successor_h, "coffee", ["when"], default=True)
    assert _shown(world.get("shop", f"/epcis/events/{world.x.leaf}").json()) == {
        "eventTime",
        "eventTimeZoneOffset",
        "recordTime",
    }


def test_records_that_show_nothing_never_name_a_page_token(world: World, api: Api) -> None:
    """Shared only `sensor`, the certifier sees event X (it has sensor data) and nothing of the
    roast (it has none): no page, no token, no lookup names the roast."""
    api.grant(
        world.headers["farm"], "coffee", ["sensor"], audience={"kind": "member", "member_id": world.id("certifier")}
    )
    seen, tokens, params = [], [], {"perPage": "1"}
    while True:
        response = world.get("certifier", "/epcis/events", **params)
        assert response.status_code == 200
        seen += [
            e["constellate:record"]["ref"]
            for e in response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        ]
        token = response.headers.get("GS1-Next-Page-Token")
        if token is None:
            break
        tokens.append(json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))[0])
        params = {"perPage": "1", "nextPageToken": token}
    assert world.x.leaf in seen and world.roast.leaf not in seen
    assert world.roast.leaf not in tokens
    assert world.get("certifier", f"/epcis/events/{world.roast.leaf}").status_code == 404


def test_views_of_events_with_their_own_event_id_and_record_time_verify_and_cannot_be_relabelled(
    world: World, api: Api
) -> None:
    event = {
        **_event(ITEM_X[:-1] + "9", LOT_X, place=journey.FARM_1),
        "eventID": "urn:uuid:5a7c3e52-0f1b-4b7e-9d7e-3f8c1e2a4b6d",
    }
    event["recordTime"] = "2020-01-01T00:00:00Z"  # the repository sets it; the capturer's is dropped
    world.capture("farm", "coffee", [event])
    world.runtime.relay(flush=True)
    view = world.get("farm", "/epcis/events/urn:uuid:5a7c3e52-0f1b-4b7e-9d7e-3f8c1e2a4b6d").json()
    assert view["recordTime"] != "2020-01-01T00:00:00Z"
    assert _post_verify(api, view)["status"] == "verified"
    relabelled = deepcopy(view)  # claim the hash ID as eventID, hiding the committed one
    del relabelled["constellate:record"]["disclosures"]["eventID"]
    relabelled["eventID"] = (
        "ni:///sha-256;" + relabelled["constellate:record"]["disclosures"]["#eventHash"]["value"] + "?ver=CBV2.0"
    )
    relabelled["constellate:record"]["withheld"] = ["eventID"]
    assert _post_verify(api, relabelled)["status"] == "failed"
