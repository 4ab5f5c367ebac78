"""Signed events anchored in Merkle batches, verified check by check; tracing upstream to the
origins, downstream for a recall, and an item's custody — on a real Anvil and both databases."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select, update

from service.chain.deployment import Chain
from service.db.models import AnchorBatch, EpcisEvent
from service.runtime import Runtime

from . import journey
from .conftest import Api


class Journey:
    def __init__(self, api: Api) -> None:
        self.api = api
        _, self.brand_h = api.onboard("Roaster Brand")
        self.farm, self.farm_h = api.onboard("Farms Cooperative")
        self.roaster, self.roaster_h = api.onboard("Roastery")
        self.shop, self.shop_h = api.onboard("Coffee Shop")
        api.client.post("/constellations", json={"slug": "coffee", "name": "Coffee"}, headers=self.brand_h)
        for member, roles in (
            (self.farm, ["supplier"]),
            (self.roaster, ["manufacturer", "logistics"]),
            (self.shop, ["retailer"]),
        ):
            api.client.put(
                f"/constellations/coffee/members/{member['id']}", json={"roles": roles}, headers=self.brand_h
            )
        api.share_everything_by_default(self.brand_h, "coffee")
        for headers, events in (
            (self.farm_h, journey.origin_events()),
            (self.roaster_h, journey.roastery_events()),
            (self.shop_h, journey.shop_events()),
        ):
            response = api.client.post(
                "/epcis/capture",
                content=json.dumps(journey.document(events)).encode(),
                headers={**headers, "Constellate-Constellation": "coffee", "Content-Type": "application/json"},
            )
            assert response.status_code == 202, response.text

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.api.client.app.state.runtime  # type: ignore[attr-defined]
        return runtime

    def get(self, path: str, **params: Any) -> Any:
        response = self.api.client.get(path, params=params, headers=self.brand_h)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def coffee(api: Api) -> Journey:
    return Journey(api)


def _all_events(coffee: Journey) -> list[dict[str, Any]]:
    return coffee.get("/epcis/events", perPage="100")["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def test_events_are_anchored_in_batches_and_verify_check_by_check(coffee: Journey, chain: Chain) -> None:
    events = _all_events(coffee)
    assert len(events) == 10
    pending = coffee.get(f"/verify/events/{quote(events[0]['eventID'], safe='')}")
    assert pending["status"] == "pending" and not pending["verified"]
    assert {c["name"]: c["ok"] for c in pending["checks"]} == {
        "event_hash": True,
        "signature": True,
        "signer_role": True,
        "commitment": True,
        "merkle_proof": None,
        "anchored": None,
    }

    coffee.runtime.settings = coffee.runtime.settings.model_copy(update={"anchor_batch_max_leaves": 4})
    round_ = coffee.runtime.relay(flush=True)
    assert round_ is not None and round_.anchoring is not None
    assert (round_.anchoring.sealed, round_.anchoring.anchored, round_.anchoring.events) == (3, 3, 10)

    for event in events:
        verdict = coffee.get(f"/verify/events/{quote(event['eventID'], safe='')}")
        assert verdict["status"] == "verified", verdict
        assert all(check["ok"] for check in verdict["checks"])
        assert verdict["anchor"]["tx_hash"] and verdict["anchor"]["chain_id"] == chain.chain_id
    again = coffee.runtime.relay(flush=True)
    assert again is not None and again.anchoring is not None and again.anchoring.anchored == 0


def test_tampering_with_a_stored_event_is_detected(coffee: Journey) -> None:
    coffee.runtime.relay(flush=True)
    event = _all_events(coffee)[0]
    with coffee.runtime.sessions() as session, session.begin():
        row = session.scalar(select(EpcisEvent).where(EpcisEvent.event_id == event["eventID"]))
        assert row is not None
        forged = {**row.payload, "bizStep": "destroying"}
        session.execute(update(EpcisEvent).where(EpcisEvent.event_hash == row.event_hash).values(payload=forged))
    verdict = coffee.get(f"/verify/events/{quote(event['eventID'], safe='')}")
    assert verdict["status"] == "failed"
    failed = {c["name"] for c in verdict["checks"] if not c["ok"]}
    assert {"event_hash", "commitment"} <= failed


def test_upstream_trace_reaches_every_origin(coffee: Journey) -> None:
    trace = coffee.get("/trace/upstream", id=journey.SSCC)
    assert set(trace["origins"]) == {journey.LOT_1, journey.LOT_2}
    assert {n["id"]: n["depth"] for n in trace["nodes"]} == {
        journey.SSCC: 0,
        journey.ROAST_LOT: 1,
        journey.LOT_1: 2,
        journey.LOT_2: 2,
    }
    shallow = coffee.get("/trace/upstream", id=journey.SSCC, max_depth=1)
    assert shallow["truncated"] is True and {n["id"] for n in shallow["nodes"]} == {journey.SSCC, journey.ROAST_LOT}


def test_downstream_trace_is_a_recall_with_the_last_known_custodian(coffee: Journey) -> None:
    recall = coffee.get("/trace/downstream", id=journey.LOT_1)
    affected = {a["id"]: a for a in recall["affected"]}
    assert set(affected) == {journey.ROAST_LOT, journey.SSCC}
    pallet = affected[journey.SSCC]["lastKnown"]
    assert (
        pallet["bizStep"] == "receiving"
        and pallet["bizLocation"] == journey.SHOP
        and pallet["custodian"] == "Coffee Shop"
    )
    before_roasting = coffee.get("/trace/downstream", id=journey.LOT_1, until="2026-05-01T00:00:00Z")
    assert before_roasting["affected"] == []


def test_custody_of_a_lot_in_time_order(coffee: Journey) -> None:
    custody = coffee.get("/trace/custody", id=journey.LOT_1)
    steps = [(s["bizStep"], s["recordedBy"]) for s in custody["steps"]]
    assert steps == [
        ("commissioning", "Farms Cooperative"),
        ("shipping", "Farms Cooperative"),
        ("receiving", "Roastery"),
        ("commissioning", "Roastery"),
    ]


def test_a_whole_trace_verifies(coffee: Journey) -> None:
    coffee.runtime.relay(flush=True)
    report = coffee.get("/verify/trace", id=journey.SSCC, direction="upstream")
    # the edges (roasting, packing) and every event naming a node: the whole journey
    assert report["status"] == "verified" and report["events"] == 10 and report["failed"] == 0


def test_outsiders_trace_nothing(coffee: Journey, api: Api) -> None:
    _, outsider = api.onboard("Competitor")
    response = api.client.get("/trace/downstream", params={"id": journey.LOT_1}, headers=outsider)
    assert response.status_code == 200 and response.json()["affected"] == []
    assert api.client.get("/trace/upstream", headers=outsider).status_code == 400


def test_only_one_anchorer_leads(coffee: Journey) -> None:
    other = Runtime(coffee.runtime.settings)
    try:
        assert coffee.runtime.relay(flush=True) is not None
        follower = other.relay(flush=True)
        assert follower is not None and follower.anchoring is None
    finally:
        other.close()
    with coffee.runtime.sessions() as session:
        assert session.scalar(select(AnchorBatch.status)) == "anchored"


def test_a_recall_never_shows_another_constellations_sighting(coffee: Journey, api: Api) -> None:
    _, rival_h = api.onboard("Rival Brand")
    rival_shop, rival_shop_h = api.onboard("Rival Warehouse")
    api.client.post("/constellations", json={"slug": "tea", "name": "Tea"}, headers=rival_h)
    api.client.put(f"/constellations/tea/members/{rival_shop['id']}", json={"roles": ["retailer"]}, headers=rival_h)
    secret = journey.shop_events()
    secret[0]["bizLocation"] = {"id": "https://id.gs1.org/414/" + journey.gtin("950600000099")}
    secret[0]["disposition"] = "in_progress"  # same item, same time, another constellation and place
    response = api.client.post(
        "/epcis/capture",
        content=json.dumps(journey.document(secret)).encode(),
        headers={**rival_shop_h, "Constellate-Constellation": "tea", "Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.text
    recall = coffee.get("/trace/downstream", id=journey.LOT_1)
    pallet = {a["id"]: a for a in recall["affected"]}[journey.SSCC]["lastKnown"]
    assert pallet["bizLocation"] == journey.SHOP and pallet["custodian"] == "Coffee Shop"


def test_verifying_a_trace_of_nothing_is_404(coffee: Journey) -> None:
    response = coffee.api.client.get(
        "/verify/trace", params={"id": "https://id.gs1.org/01/09506000134352/10/NOPE"}, headers=coffee.brand_h
    )
    assert response.status_code == 404


def test_a_root_anchored_first_by_someone_else_is_detected_and_its_events_sealed_again(
    coffee: Journey, chain: Chain
) -> None:
    from service.chain.anchorer import seal_batches

    with coffee.runtime.sessions() as session, session.begin():
        (batch,) = seal_batches(session=session, max_leaves=1000, max_age=0, flush=True)
        root, cid, contested_id = batch.root, batch.constellation, batch.id
    # Front-running: the same root anchored first, with another leaf count.
    chain.anchor.anchor(bytes.fromhex(cid[2:]), bytes.fromhex(root[2:]), 1, bytes(32))
    first = coffee.runtime.relay(flush=True)
    assert first is not None and first.anchoring is not None and first.anchoring.contested == 1
    second = coffee.runtime.relay(flush=True)
    assert second is not None and second.anchoring is not None and second.anchoring.events == 10
    with coffee.runtime.sessions() as session:
        assert session.get(AnchorBatch, contested_id).status == "contested"  # type: ignore[union-attr]
    for event in _all_events(coffee):
        verdict = coffee.get(f"/verify/events/{quote(event['eventID'], safe='')}")
        assert verdict["status"] == "verified" and verdict["anchor"]["root"] != root


def test_a_root_anchored_first_by_another_member_with_the_same_parameters_is_not_adopted(
    coffee: Journey, chain: Chain
) -> None:
    """A writer of the constellation copies a sealed root from the mempool and anchors it first
    with the very same parameters: the anchoring is not the service's (outside verifiers would
    refuse it), so the batch is contested and its events are anchored again by the service."""
    from service.chain.anchorer import seal_batches

    rival = chain.w3.eth.accounts[8]
    member, _ = coffee.api.onboard("Rival Writer", address=rival)
    put = coffee.api.client.put(
        f"/constellations/coffee/members/{member['id']}", json={"roles": ["supplier"]}, headers=coffee.brand_h
    )
    assert put.status_code == 200, put.text
    with coffee.runtime.sessions() as session, session.begin():
        (batch,) = seal_batches(session=session, max_leaves=1000, max_age=0, flush=True)
        root, cid, count, contested_id = batch.root, batch.constellation, batch.leaf_count, batch.id
    chain.anchor.contract.functions.anchor(bytes.fromhex(cid[2:]), bytes.fromhex(root[2:]), count, bytes(32)).transact(
        {"from": rival}
    )
    first = coffee.runtime.relay(flush=True)
    assert first is not None and first.anchoring is not None and first.anchoring.contested == 1
    coffee.runtime.relay(flush=True)
    with coffee.runtime.sessions() as session:
        assert session.get(AnchorBatch, contested_id).status == "contested"  # type: ignore[union-attr]
    for event in _all_events(coffee):
        verdict = coffee.get(f"/verify/events/{quote(event['eventID'], safe='')}")
        assert verdict["status"] == "verified" and verdict["anchor"]["root"] != root
