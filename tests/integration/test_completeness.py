"""Item record chains on a real Anvil and both databases (docs/proof-format.md §7): every record
naming an item joins the item's chain once, in anchoring order; each batch anchors the chains'
new states; a journey's completeness entries recompute from their records and prove into
anchored roots; records the reader is not shown are counted, never shown."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.db.models import EpcisEvent, ItemRecord
from service.domain import journeys
from service.domain.commitments import chain_head, item_hash, item_state_leaf
from service.domain.gs1 import ItemKey
from service.domain.merkle import verify_proof
from service.domain.policy import PUBLIC, access_for

from . import journey
from .conftest import Api
from .test_journeys import Shop


@pytest.fixture
def shop(api: Api) -> Shop:
    return Shop(api)


def _build(shop: Shop, reader=PUBLIC) -> journeys.Journey:  # type: ignore[no-untyped-def]
    runtime = shop.runtime
    with runtime.sessions() as session:
        return journeys.build(
            session=session,
            access=access_for(session=session, reader=reader),
            key=ItemKey(journey.ROASTED, "R-0042"),
            where=runtime.anchor_ref(),
        )


def _raw(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def test_a_journeys_chains_recompute_prove_into_anchored_roots_and_count_what_is_not_shown(shop: Shop) -> None:
    built = _build(shop)
    entries = built.completeness.entries
    assert entries, "the anchored journey has record chains"
    items = {e["item"] for e in entries}
    assert journey.ROAST_LOT in items and journey.LOT_1 in items and journey.SSCC in items
    steps = {v.row.leaf for v in built.steps}
    chained: set[str] = set()
    for entry in entries:
        records = [_raw(r) for r in entry["records"]]
        assert len(records) == entry["count"] == len(set(records))
        assert "0x" + chain_head(records).hex() == entry["head"]
        leaf = item_state_leaf(entry["constellation"], item_hash(entry["item"]), entry["count"], _raw(entry["head"]))
        anchor = entry["anchor"]
        assert verify_proof(_raw(anchor["root"]), leaf, [_raw(p) for p in anchor["proof"]])
        record = shop.runtime.chain.anchor.get_anchor(_raw(anchor["root"]))
        assert record.anchored_at and record.leaf_count == anchor["leafCount"]
        assert entry["notShown"] == len([r for r in entry["records"] if r not in steps])
        chained.update(entry["records"])
    assert steps <= chained, "every step the journey shows is in a chain of its items"
    hidden = chained - steps
    assert built.completeness.records_not_shown == len(hidden) > 0  # the shop publishes nothing
    with shop.runtime.sessions() as session:
        owners = set(session.scalars(select(EpcisEvent.owner_id).where(EpcisEvent.leaf.in_(hidden))))
    assert owners == {shop.shop["id"]}, "what the public is not shown is exactly the shop's records"


def test_a_chain_only_grows_and_each_record_joins_it_once(shop: Shop) -> None:
    before = {e["item"]: e for e in _build(shop).completeness.entries}
    lot = before[journey.ROAST_LOT]
    response = shop.api.client.post(
        "/epcis/capture",
        json=journey.document(
            [
                {
                    "type": "ObjectEvent",
                    "eventTime": "2026-06-30T08:00:00Z",
                    "eventTimeZoneOffset": "+00:00",
                    "action": "OBSERVE",
                    "bizStep": "inspecting",
                    "quantityList": [{"epcClass": journey.ROAST_LOT, "quantity": 1, "uom": "KGM"}],
                }
            ]
        ),
        headers={**shop.roaster_h, "Constellate-Constellation": "coffee"},
    )
    assert response.status_code == 202, response.text
    pending = {e["item"]: e for e in _build(shop).completeness.entries}
    assert pending[journey.ROAST_LOT]["count"] == lot["count"], "a record counts once its state is anchored"
    shop.runtime.relay(flush=True)
    after = {e["item"]: e for e in _build(shop).completeness.entries}[journey.ROAST_LOT]
    assert after["count"] == lot["count"] + 1
    assert after["records"][: lot["count"]] == lot["records"], "append-only: the older records keep their places"
    assert after["anchor"]["root"] != lot["anchor"]["root"]
    with shop.runtime.sessions() as session:
        counts = session.execute(select(ItemRecord.item_hash, ItemRecord.record_id)).all()
    assert len(counts) == len(set(counts)), "a record is in an item's chain once"
