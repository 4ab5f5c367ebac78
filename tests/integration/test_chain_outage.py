"""Chain outages: attestations, revocations and captured events made while the chain is down
are kept, and the background relayer puts them on chain once it is back — exactly once."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from web3 import Web3

from service.api import create_app
from service.chain.anvil import DEV_PRIVATE_KEY, AnvilProcess
from service.chain.compiler import Artifact
from service.chain.deployment import deploy_contracts, new_sender
from service.chain.rpc import connect
from service.domain.keys import generate_key_encryption_key
from service.settings import Settings

from . import journey
from .conftest import ADMIN_KEY, Api

GTIN = "09506000134352"


@pytest.fixture
def node(tmp_path: Path) -> Iterator[AnvilProcess]:
    """An Anvil of this test's own, keeping its state in a file so it can be stopped and restarted."""
    process = AnvilProcess(state_path=tmp_path / "anvil-state.json").start()
    try:
        yield process
    finally:
        process.stop()


def wait_for(predicate: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def _attested_uids(w3: Web3, registry: str, abi: list[dict[str, Any]]) -> Counter[str]:
    contract = w3.eth.contract(address=Web3.to_checksum_address(registry), abi=abi)
    logs = contract.events.Attested.get_logs(from_block=0)
    return Counter("0x" + bytes(log["args"]["uid"]).hex() for log in logs)


def outage_settings(node: AnvilProcess, tmp_path: Path, build_dir: Path, database_url: str) -> Settings:
    return Settings(
        rpc_url=node.rpc_url,
        relayer_private_key=SecretStr(DEV_PRIVATE_KEY),
        build_dir=build_dir / "contracts",
        manifest_path=tmp_path / "deployment.json",
        database_url=database_url,
        admin_api_key=SecretStr(ADMIN_KEY),
        key_encryption_key=SecretStr(generate_key_encryption_key()),
        relay_interval_seconds=0.5,
        rpc_timeout_seconds=2,
        tx_max_retries=1,
        tx_timeout_seconds=10,
    )


def test_attestations_made_during_an_outage_land_exactly_once(
    node: AnvilProcess, tmp_path: Path, build_dir: Path, artifacts: dict[str, Artifact], database_url: str
) -> None:
    settings = outage_settings(node, tmp_path, build_dir, database_url)
    w3 = connect(node.rpc_url)
    manifest = deploy_contracts(new_sender(w3, settings, artifacts), artifacts)
    manifest.save(settings.manifest_path)
    registry = manifest.contracts["AttestationRegistry"].address
    abi = artifacts["AttestationRegistry"].abi

    with TestClient(create_app(settings)) as client:
        api = Api(client)
        _, brand = api.onboard("Chocolatier")
        farm, farm_h = api.onboard("Finca Sur")
        assert client.post("/constellations", json={"slug": "cocoa", "name": "Cocoa"}, headers=brand).status_code == 201
        client.put(f"/constellations/cocoa/members/{farm['id']}", json={"roles": ["supplier"]}, headers=brand)

        def attest(lot: str) -> Any:
            body = {
                "constellation": "cocoa",
                "schema": "origin",
                "subject": {"kind": "item", "gtin": GTIN, "lot": lot},
                "body": {"country": "CI"},
            }
            return client.post("/attestations", json=body, headers=farm_h)

        before = attest("L0")
        assert before.status_code == 201 and before.json()["status"] == "valid"

        node.stop()
        during = attest("L1")
        assert during.status_code == 202, during.text
        assert during.json()["status"] == "pending" and during.json()["proof"]["tx_hash"] is None
        imported = client.post(
            "/attestations/import",
            json=[
                {
                    "constellation": "cocoa",
                    "schema": "origin",
                    "subject": {"kind": "item", "gtin": GTIN, "lot": f"B{i}"},
                    "body": {"country": "GH"},
                }
                for i in range(3)
            ],
            headers=farm_h,
        )
        assert imported.status_code == 201 and {a["status"] for a in imported.json()["attestations"]} == {"pending"}
        revoking = client.post(f"/attestations/{before.json()['uid']}/revoke", json={}, headers=farm_h)
        assert revoking.status_code == 202 and revoking.json()["revocation_pending"] is True
        pending = [during.json()["uid"], *(a["uid"] for a in imported.json()["attestations"])]
        assert client.get(f"/attestations/{pending[0]}", headers=farm_h).json()["status"] == "pending"

        node.start()  # the same port, the state it saved on stopping

        def settled() -> bool:
            states = [client.get(f"/attestations/{uid}", headers=farm_h).json()["status"] for uid in pending]
            revoked = client.get(f"/attestations/{before.json()['uid']}", headers=farm_h).json()["status"]
            return states == ["valid"] * len(pending) and revoked == "revoked"

        wait_for(settled, timeout=60, what="the background relayer to send the queued work")

    counts = _attested_uids(connect(node.rpc_url), registry, abi)
    assert all(counts[uid] == 1 for uid in [before.json()["uid"], *pending]), counts
    assert sum(counts.values()) == 1 + len(pending)
    # A further relay round finds nothing to send.
    from service.runtime import Runtime

    runtime = Runtime(settings)
    report = runtime.relay()
    runtime.close()
    assert report is not None
    assert (report.attestations.attested, report.attestations.revoked, report.attestations.transactions) == (0, 0, 0)


def test_events_captured_during_an_outage_are_anchored_exactly_once(
    node: AnvilProcess, tmp_path: Path, build_dir: Path, artifacts: dict[str, Artifact], database_url: str
) -> None:
    settings = outage_settings(node, tmp_path, build_dir, database_url).model_copy(
        update={"anchor_batch_max_leaves": 3, "anchor_batch_max_age_seconds": 0}
    )
    manifest = deploy_contracts(new_sender(connect(node.rpc_url), settings, artifacts), artifacts)
    manifest.save(settings.manifest_path)
    anchor = connect(node.rpc_url).eth.contract(
        address=Web3.to_checksum_address(manifest.contracts["ProvenanceAnchor"].address),
        abi=artifacts["ProvenanceAnchor"].abi,
    )

    with TestClient(create_app(settings)) as client:
        api = Api(client)
        _, brand = api.onboard("Roaster Brand")
        farm, farm_h = api.onboard("Farms Cooperative")
        client.post("/constellations", json={"slug": "coffee", "name": "Coffee"}, headers=brand)
        client.put(f"/constellations/coffee/members/{farm['id']}", json={"roles": ["supplier"]}, headers=brand)

        node.stop()
        captured = client.post(
            "/epcis/capture",
            content=json.dumps(journey.document(journey.origin_events())).encode(),
            headers={**farm_h, "Constellate-Constellation": "coffee", "Content-Type": "application/json"},
        )
        assert captured.status_code == 202, captured.text
        events = client.get("/epcis/events", headers=farm_h).json()["epcisBody"]["queryResults"]["resultsBody"][
            "eventList"
        ]
        assert len(events) == 4
        time.sleep(1.5)  # the relayer tries, fails, keeps the sealed batches pending
        first = client.get(f"/verify/events/{quote(events[0]['eventID'], safe='')}", headers=farm_h).json()
        assert first["status"] == "pending"

        node.start()

        def anchored() -> bool:
            verdicts = [
                client.get(f"/verify/events/{quote(e['eventID'], safe='')}", headers=farm_h).json() for e in events
            ]
            return all(v["status"] == "verified" for v in verdicts)

        wait_for(anchored, timeout=60, what="the relayer to anchor the events captured during the outage")

    roots = Counter(
        "0x" + bytes(log["args"]["root"]).hex() for log in anchor.events.RootAnchored.get_logs(from_block=0)
    )
    assert sorted(roots.values()) == [1, 1]  # 4 events in batches of 3: two roots, each anchored once
