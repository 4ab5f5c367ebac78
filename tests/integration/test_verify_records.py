"""Record views checked with only the chain (docs/proof-format.md §3 to §6), on a real Anvil and
both databases: a view verifies through POST /verify/record and `constellate verify record`
with the pins of /verify/trust; each tampering fails with its check named — a field, a salt, a
proof element, the signer, the capture signature, a record re-attributed and anchored with the
anchorer's key, one anchored without its member's signature, one whose signer lost its role
before anchoring; and a view saved before a reorg still verifies once its root is on chain
again, in another block."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from service.chain import typed_data
from service.chain.proof_reader import ChainProofReader, TrustPins
from service.chain.rpc import endpoint
from service.domain.commitments import event_leaf
from service.domain.merkle import MerkleTree
from service.domain.proofs import CHECKS, verify_event_view
from service.runtime import Runtime

from . import journey
from .conftest import MEMBER_KEYS, Api
from .test_provenance_api import Journey

RECORD = "constellate:record"
COOP_KEY = MEMBER_KEYS[1]
COOP = Account.from_key(COOP_KEY).address


class World(Journey):
    """The coffee journey (farm, roastery, shop: managed keys) with a self-custody coop that
    supplies too, every event anchored; the farm shows the public what and when."""

    def __init__(self, api: Api) -> None:
        super().__init__(api)
        self.coop, self.coop_h = api.onboard("Self Custody Coop", address=COOP)
        put = api.client.put(
            f"/constellations/coffee/members/{self.coop['id']}", json={"roles": ["supplier"]}, headers=self.brand_h
        )
        assert put.status_code == 200, put.text
        api.grant(self.farm_h, "coffee", ["what", "when"], audience={"kind": "public"})
        self.runtime.relay(flush=True)

    def views(self, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
        response = self.api.client.get("/epcis/events", params={"perPage": "100"}, headers=headers or self.brand_h)
        assert response.status_code == 200, response.text
        return list(response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])

    def farm_view(self) -> dict[str, Any]:
        return next(v for v in self.views() if v[RECORD]["owner"]["id"] == self.farm["id"])

    def verify(self, view: dict[str, Any]) -> dict[str, Any]:
        response = self.api.client.post("/verify/record", json=view)
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def world(api: Api) -> World:
    return World(api)


def _failed(verdict: dict[str, Any]) -> list[str]:
    return [c["name"] for c in verdict["checks"] if c["ok"] is False]


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def _flip(value: str) -> str:
    """The same hex with its last digit changed."""
    return value[:-1] + ("0" if value[-1] != "0" else "1")


def _forge(runtime: Runtime, view: dict[str, Any], *, signer: str, capture_key: str | None) -> dict[str, Any]:
    """What the holder of the anchorer key can make of a real record: its fields attributed to
    `signer`, anchored by the anchorer in a root of its own, with a capture root signed by
    `capture_key` (None: no signature at all)."""
    forged = deepcopy(view)
    block = forged[RECORD]
    chain = runtime.chain
    leaf = event_leaf(bytes.fromhex(block["recordRoot"][2:]), signer, block["constellation"]["id"])
    batch = MerkleTree([leaf, os.urandom(32)])
    chain.anchor.anchor(bytes.fromhex(block["constellation"]["id"][2:]), batch.root, 2, bytes(32))
    capture = MerkleTree([leaf])
    signature = None
    if capture_key is not None:
        message = {
            "constellation": bytes.fromhex(block["constellation"]["id"][2:]),
            "captureRoot": capture.root,
            "recordCount": 1,
        }
        typed = typed_data.typed_message(
            "Capture", message, chain_id=chain.chain_id, contract=chain.address_of("ProvenanceAnchor")
        )
        signature = _hex(typed_data.sign(capture_key, typed))
    block["ref"] = _hex(leaf)
    block["owner"] = {"address": signer}
    block["anchor"] = {
        "root": _hex(batch.root),
        "leafIndex": 0,
        "leafCount": 2,
        "proof": [_hex(p) for p in batch.proof(0)],
        "blockNumber": chain.w3.eth.block_number,
        "chainId": chain.chain_id,
        "contract": chain.address_of("ProvenanceAnchor"),
    }
    block["capture"] = {
        "root": _hex(capture.root),
        "count": 1,
        "index": 0,
        "proof": [],
        "signature": signature,
        "signedBy": "self",
    }
    return forged


def test_a_view_verifies_with_every_check_named(world: World) -> None:
    view = world.farm_view()
    assert view[RECORD]["capture"]["signedBy"] == "service"  # the farm's key is kept by the service
    verdict = world.verify(view)
    assert verdict["status"] == "verified", verdict
    assert [c["name"] for c in verdict["checks"]] == list(CHECKS)
    assert all(c["ok"] is True for c in verdict["checks"])
    assert {"capture.signedBy", "capture.index", "anchor.leafIndex"} <= set(verdict["unproven"])
    public = world.api.client.get(f"/epcis/events/{view[RECORD]['ref']}").json()  # what the public may see
    assert public[RECORD]["withheld"] and world.verify(public)["status"] == "verified"


def test_a_self_custody_members_view_verifies(world: World, api: Api) -> None:
    document = journey.document(
        [
            {
                "type": "ObjectEvent",
                "eventTime": "2026-06-02T08:00:00Z",
                "eventTimeZoneOffset": "+00:00",
                "action": "OBSERVE",
                "bizStep": "inspecting",
                "epcList": [journey.lot(journey.GREEN, "COOP-1")],
            }
        ]
    )
    body = json.dumps(document).encode()
    headers = {**world.coop_h, "Constellate-Constellation": "coffee"}
    prepared = api.client.post("/epcis/capture/prepare", content=body, headers=headers).json()
    signature = _hex(typed_data.sign(COOP_KEY, prepared["messages"][0]))
    captured = api.client.post(
        "/epcis/capture",
        content=body,
        headers={**headers, "Constellate-Signature": signature, "Constellate-Capture-Seed": prepared["seed"]},
    )
    assert captured.status_code == 202, captured.text
    world.runtime.relay(flush=True)
    view = next(v for v in world.views() if v[RECORD]["owner"]["address"] == COOP)
    assert view[RECORD]["capture"]["signedBy"] == "self"
    assert world.verify(view)["status"] == "verified"


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        pytest.param(lambda v: v.update(bizStep="destroying"), ["disclosed_fields"], id="field value"),
        pytest.param(
            lambda v: v[RECORD]["disclosures"]["eventTime"].update(salt="0x" + "00" * 16),
            ["disclosed_fields"],
            id="salt",
        ),
        pytest.param(
            lambda v: v[RECORD]["anchor"]["proof"].__setitem__(0, _flip(v[RECORD]["anchor"]["proof"][0])),
            ["merkle_proof", "anchored"],
            id="anchor proof element",
        ),
        pytest.param(
            lambda v: v[RECORD]["capture"]["proof"].__setitem__(0, _flip(v[RECORD]["capture"]["proof"][0])),
            ["authorship"],
            id="capture proof element",
        ),
        pytest.param(
            lambda v: v[RECORD]["owner"].update(address=COOP),
            ["leaf", "authorship", "merkle_proof", "anchored"],
            id="signer address",
        ),
        pytest.param(
            lambda v: v[RECORD]["capture"].update(signature=_flip(v[RECORD]["capture"]["signature"][:-2]) + "1b"),
            ["authorship"],
            id="capture signature",
        ),
        pytest.param(lambda v: v[RECORD]["capture"].update(count=99), ["authorship"], id="capture count"),
        pytest.param(lambda v: v[RECORD].pop("capture"), ["authorship"], id="no capture block"),
        pytest.param(lambda v: v[RECORD]["anchor"].update(leafCount=1), ["anchored"], id="leaf count"),
    ],
)
def test_tampering_fails_naming_the_check(world: World, tamper: Any, named: list[str]) -> None:
    view = world.farm_view()
    assert len(view[RECORD]["capture"]["proof"]) > 0, "the farm captured several events at once"
    tamper(view)
    verdict = world.verify(view)
    assert verdict["status"] == "failed" and _failed(verdict) == named, verdict["checks"]


def test_a_record_re_attributed_and_anchored_with_the_anchorer_key_fails_authorship(world: World) -> None:
    """The operator holds the anchorer key, not the coop's: it can anchor the farm's record as
    the coop's (a supplier here, so its role checks out), but not sign it as the coop."""
    view = world.farm_view()
    unsigned = world.verify(_forge(world.runtime, view, signer=COOP, capture_key=None))
    assert _failed(unsigned) == ["authorship"] and "no signature" in unsigned["checks"][3]["detail"]
    anchorer_key = world.runtime.settings.relayer_private_key.get_secret_value()  # type: ignore[union-attr]
    signed = world.verify(_forge(world.runtime, view, signer=COOP, capture_key=anchorer_key))
    assert _failed(signed) == ["authorship"], signed["checks"]
    assert f"not the record's signer {COOP}" in signed["checks"][3]["detail"]
    kept = _forge(world.runtime, view, signer=COOP, capture_key=None)
    kept[RECORD]["capture"] = view[RECORD]["capture"]  # the farm's real signature: it covers other leaves
    assert _failed(world.verify(kept)) == ["authorship"]
    coop_signed = world.verify(_forge(world.runtime, view, signer=COOP, capture_key=COOP_KEY))
    assert coop_signed["status"] == "verified", "the same, signed by the coop itself, is the coop's record"


def test_a_record_whose_signer_lost_its_role_before_anchoring_fails_signer_role(world: World, api: Api) -> None:
    response = api.client.post(
        "/epcis/capture",
        json=journey.document(
            [
                {
                    "type": "ObjectEvent",
                    "eventTime": "2026-06-03T08:00:00Z",
                    "eventTimeZoneOffset": "+00:00",
                    "action": "OBSERVE",
                    "bizStep": "inspecting",
                    "epcList": [journey.lot(journey.GREEN, "LATE-1")],
                }
            ]
        ),
        headers={**world.farm_h, "Constellate-Constellation": "coffee"},
    )
    assert response.status_code == 202, response.text
    removed = api.client.put(
        f"/constellations/coffee/members/{world.farm['id']}", json={"roles": []}, headers=world.brand_h
    )
    assert removed.status_code == 200, removed.text
    world.runtime.relay(flush=True)
    late_lot = journey.lot(journey.GREEN, "LATE-1")
    late = next(v for v in world.views() if late_lot in v.get("epcList", []))
    verdict = world.verify(late)
    assert _failed(verdict) == ["signer_role"], verdict["checks"]
    earlier = next(
        v
        for v in world.views()
        if v[RECORD]["owner"]["id"] == world.farm["id"] and late_lot not in v.get("epcList", [])
    )
    assert world.verify(earlier)["status"] == "verified"  # anchored while the farm held its role


def test_a_view_saved_before_a_reorg_verifies_once_its_root_is_on_chain_again(world: World, api: Api) -> None:
    runtime = world.runtime
    chain = runtime.chain
    response = api.client.post(
        "/epcis/capture",
        json=journey.document(
            [
                {
                    "type": "ObjectEvent",
                    "eventTime": "2026-06-04T08:00:00Z",
                    "eventTimeZoneOffset": "+00:00",
                    "action": "OBSERVE",
                    "bizStep": "inspecting",
                    "epcList": [journey.lot(journey.GREEN, "REORG-1")],
                }
            ]
        ),
        headers={**world.farm_h, "Constellate-Constellation": "coffee"},
    )
    assert response.status_code == 202, response.text
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    runtime.relay(flush=True)
    saved = next(v for v in world.views() if journey.lot(journey.GREEN, "REORG-1") in v.get("epcList", []))
    anchor = saved[RECORD]["anchor"]
    root = bytes.fromhex(anchor["root"][2:])
    log = ChainProofReader(endpoint(chain.w3), TrustPins.from_json(runtime.trust())).anchoring(
        root, anchor["blockNumber"]
    )
    assert log is not None
    chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    gone = world.verify(saved)
    assert gone["status"] == "pending", [c["detail"] for c in gone["checks"]][
        -3:
    ]  # the root is gone: nothing to check it against
    chain.w3.provider.make_request("anvil_mine", ["0x4"])  # type: ignore[arg-type]
    chain.sender.resync_nonce()
    again = chain.anchor.anchor(bytes.fromhex(log.constellation[2:]), root, log.leaf_count, bytes(32))
    assert again.block_number != anchor["blockNumber"]
    verdict = world.verify(saved)
    assert verdict["status"] == "verified", verdict["checks"]
    assert (
        f"in block {again.block_number} (the view names block {anchor['blockNumber']})"
        in verdict["checks"][-1]["detail"]
    )


def test_trust_names_every_pin_and_the_command(world: World) -> None:
    trust = world.api.client.get("/verify/trust").json()
    chain = world.runtime.chain
    assert trust["chainId"] == chain.chain_id and trust["anchorer"] == chain.sender.address
    for name in ("ProvenanceAnchor", "ConstellationRegistry", "AttestationRegistry", "SharingLedger"):
        assert trust[name[0].lower() + name[1:]] == chain.address_of(name)
    assert f"--registry {chain.address_of('ConstellationRegistry')}" in trust["commands"]["journey"]
    assert trust["command"].startswith("constellate verify record VIEW.json --rpc-url RPC_URL --chain-id")


def test_a_malformed_view_is_400_naming_the_problem(world: World) -> None:
    view = world.farm_view()
    for change, words in (
        (lambda v: v[RECORD]["capture"].update(signature="0x12"), "capture.signature"),
        (lambda v: v[RECORD]["capture"].update(count=0), "capture.count"),
        (lambda v: v[RECORD]["capture"].update(proof="0x12"), "capture.proof"),
        (lambda v: v[RECORD]["capture"].update(signedBy="operator"), "capture.signedBy"),
        (lambda v: v[RECORD]["anchor"].update(leafCount="2"), "anchor.leafCount"),
        (lambda v: v[RECORD].update(capture=[]), "capture"),
    ):
        bad = deepcopy(view)
        change(bad)
        response = world.api.client.post("/verify/record", json=bad)
        assert response.status_code == 400 and words in response.json()["detail"], response.text


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_command_verifies_with_pins_from_a_trust_file_or_options(world: World, tmp_path: Path) -> None:
    trust = world.api.client.get("/verify/trust").json()
    pins = tmp_path / "trust.json"
    pins.write_text(json.dumps(trust))
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    view = world.farm_view()
    good.write_text(json.dumps(view))
    forged = deepcopy(view)
    forged[RECORD].pop("capture")
    bad.write_text(json.dumps(forged))
    rpc = ["--rpc-url", world.runtime.settings.rpc_url]
    ran = _cli("verify", "record", str(good), *rpc, "--trust", str(pins), "--json")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    verdict = json.loads(ran.stdout)
    assert verdict["status"] == "verified" and [c["name"] for c in verdict["checks"]] == list(CHECKS)
    ran = _cli("verify", "record", str(good), str(bad), *rpc, "--trust", str(pins), "--json")
    assert ran.returncode == 1
    assert [v["status"] for v in json.loads(ran.stdout)] == ["verified", "failed"]
    ran = _cli("verify", "record", str(bad), *rpc, "--trust", str(pins))
    assert ran.returncode == 1 and "FAIL authorship: the view has no capture block" in ran.stdout
    options = [
        *("--contract", trust["provenanceAnchor"], "--anchorer", trust["anchorer"]),
        *("--registry", trust["constellationRegistry"], "--chain-id", str(trust["chainId"])),
    ]
    ran = _cli("verify", "record", str(good), *rpc, *options)
    assert ran.returncode == 0 and "ok   signer_role" in ran.stdout, ran.stdout + ran.stderr
    ran = _cli("verify", "record", str(good), *rpc, "--trust", str(pins), "--anchorer", "0x" + "33" * 20)
    assert ran.returncode == 1 and "neither the trusted anchorer" in ran.stdout  # an option overrides the file
    ran = _cli("verify", "record", str(good), *rpc, "--trust", str(pins), "--chain-id", "1")
    assert ran.returncode == 1 and "FAIL authorship" in ran.stdout and "you pin chain 1" in ran.stdout
    ran = _cli("verify", "record", str(good), *rpc, "--anchorer", trust["anchorer"])
    assert ran.returncode == 2 and "no provenanceAnchor to trust" in ran.stderr
    ran = _cli("verify", "record", str(good), *rpc, *options[:4])
    assert ran.returncode == 2 and "no constellationRegistry to trust: give --registry" in ran.stderr
    ran = _cli("verify", "record", str(good), *rpc, "--trust", str(pins), "--registry", "0x12")
    assert ran.returncode == 2 and "constellationRegistry is not an address" in ran.stderr


def test_the_domain_verifier_reads_the_chain_in_two_round_trips_for_many_views(world: World) -> None:
    views = world.views()
    reader = ChainProofReader(endpoint(world.runtime.chain.w3), TrustPins.from_json(world.runtime.trust()))
    from service.domain.proofs import prefetch_views

    prefetch_views(reader, views)
    assert reader.round_trips == 2
    assert all(verify_event_view(v, reader).status == "verified" for v in views)
    assert reader.round_trips == 2, "every check of every view came from what was read ahead"


# --- the journey route and command (the checks themselves: test_journey_proofs.py) -------------


def test_a_journey_verifies_through_the_route_and_the_command(api: Api, tmp_path: Path) -> None:
    from .test_journeys import JSON, ROAST_PATH, Shop

    shop = Shop(api)
    body = shop.page(ROAST_PATH, JSON).json()
    verdict = api.client.post("/verify/journey", json=body)
    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["status"] == "verified", [c for c in verdict.json()["checks"] if c["ok"] is not True]
    assert {"pins", "structure", "completeness", "footprint"} <= {c["name"] for c in verdict.json()["checks"]}
    moved = deepcopy(body)
    moved["verify"]["constellationRegistry"] = "0x" + "44" * 20  # the page names another registry
    failed = api.client.post("/verify/journey", json=moved).json()
    assert failed["status"] == "failed" and _failed(failed) == ["pins"]
    for malformed in ([body], {"steps": []}, {**body, "item": "a string"}):
        response = api.client.post("/verify/journey", json=malformed)
        assert response.status_code == 400 and "journey" in response.json()["detail"], response.text

    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps(api.client.get("/verify/trust").json()))
    saved = tmp_path / "journey.json"
    saved.write_text(json.dumps(body))
    rpc = ["--rpc-url", shop.runtime.settings.rpc_url]
    ran = _cli("verify", "journey", str(saved), *rpc, "--trust", str(trust))
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr
    assert f"{len(body['steps'])} steps: all verified" in ran.stdout and "ok   completeness" in ran.stdout
    ran = _cli("verify", "journey", str(saved), *rpc, "--trust", str(trust), "--json")
    assert ran.returncode == 0 and json.loads(ran.stdout)["status"] == "verified"
    moved_file = tmp_path / "moved.json"
    moved_file.write_text(json.dumps(moved))
    ran = _cli("verify", "journey", str(moved_file), *rpc, "--trust", str(trust), "--json")
    assert ran.returncode == 1 and _failed(json.loads(ran.stdout)) == ["pins"]
    credential = tmp_path / "credential.json"
    credential.write_text(api.client.get(f"/attestations/{shop.certificate}/credential").text)
    ran = _cli("verify", "credential", str(credential), *rpc, "--trust", str(trust), "--json")
    assert ran.returncode == 0 and json.loads(ran.stdout)["status"] == "verified", ran.stdout + ran.stderr
    pins = json.loads(trust.read_text())
    ran = _cli(
        "verify", "journey", str(saved), *rpc, "--contract", pins["provenanceAnchor"], "--anchorer", pins["anchorer"]
    )
    assert ran.returncode == 2 and "no constellationRegistry to trust: give --registry" in ran.stderr
