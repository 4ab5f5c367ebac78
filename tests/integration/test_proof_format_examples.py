"""The worked examples of docs/proof-format.md §10 are what the service really stores and seals:
the example's signer captures event 1 alone, then the two-event document, through the API on a
real Anvil, and the anchorer seals each into its batch. Record roots, leaves, the capture root,
the item chains and the order of the state leaves in each batch tree are the doc's; only the
random leaf (and so the batch roots) and the EIP-712 domain (the deployed contract's address)
differ."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import quote

import pytest
from eth_typing import HexStr
from sqlalchemy import select

from service.chain import typed_data
from service.chain.deployment import Chain
from service.db.models import AnchorBatch, CaptureJob, EpcisEvent, ItemState
from service.domain.commitments import item_hash
from service.domain.merkle import verify_proof
from service.epcis.capture import signing_tree
from service.hashing import keccak256
from service.runtime import Runtime
from tests.unit.test_proof_format_doc import ROOT_ANCHORED, SEED, SIGNER_KEY, SLUG, Example, example

from .conftest import Api


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def _raw(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


class Signer:
    """The example's signer as a self-custody member of the example's constellation."""

    def __init__(self, api: Api, chain: Chain, ex: Example) -> None:
        self.api, self.chain, self.ex = api, chain, ex
        _, brand_h = api.onboard("Brand")
        member, self.headers = api.onboard("Shipper", address=ex.signer)
        created = api.client.post("/constellations", json={"slug": SLUG, "name": "Coffee"}, headers=brand_h)
        assert created.status_code == 201, created.text
        granted = api.client.put(
            f"/constellations/{SLUG}/members/{member['id']}", json={"roles": ["logistics"]}, headers=brand_h
        )
        assert granted.status_code == 200, granted.text

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.api.client.app.state.runtime  # type: ignore[attr-defined]
        return runtime

    def capture(self, document: dict[str, Any]) -> None:
        """Captures `document` signed as a self-custody member signs: its seed, its capture root."""
        tree = signing_tree(document, seed=SEED, signer=self.ex.signer, constellation=self.ex.constellation)
        typed = typed_data.typed_message(
            "Capture",
            {"constellation": _raw(self.ex.constellation), "captureRoot": tree.root, "recordCount": len(tree)},
            chain_id=self.chain.chain_id,
            contract=self.chain.address_of("ProvenanceAnchor"),
        )
        response = self.api.client.post(
            "/epcis/capture",
            content=json.dumps(document).encode(),
            headers={
                **self.headers,
                "Constellate-Constellation": SLUG,
                "Content-Type": "application/json",
                "Constellate-Signature": _hex(typed_data.sign(SIGNER_KEY, typed)),
                "Constellate-Capture-Seed": _hex(SEED),
            },
        )
        assert response.status_code == 202, response.text


@pytest.fixture
def captured(api: Api, chain: Chain) -> tuple[Signer, Example]:
    ex = example()
    signer = Signer(api, chain, ex)
    alone = copy.deepcopy(ex.document)
    del alone["epcisBody"]["eventList"][1:]
    signer.capture(alone)
    signer.runtime.relay(flush=True)
    signer.capture(ex.document)
    signer.runtime.relay(flush=True)
    return signer, ex


def test_the_service_stores_the_examples_records_and_capture_root(captured: tuple[Signer, Example]) -> None:
    signer, ex = captured
    with signer.runtime.sessions() as session:
        rows = {row.event_hash: row for row in session.scalars(select(EpcisEvent))}
        jobs = list(session.scalars(select(CaptureJob).order_by(CaptureJob.created_at)))
    assert sorted(rows) == sorted(ex.event_hashes)
    for digest, commitment, leaf in zip(ex.event_hashes, ex.commitments, ex.record_leaves, strict=True):
        assert rows[digest].record_root == _hex(commitment.root)
        assert rows[digest].leaf == _hex(leaf)
        assert rows[digest].salts == {path: salt.hex() for path, salt in commitment.salts.items()}
    first, second = jobs
    assert (first.capture_root, first.record_count) == (_hex(ex.record_leaves[0]), 1)
    assert (second.capture_root, second.record_count, second.duplicates) == (_hex(ex.capture.root), 2, 1)
    assert rows[ex.event_hashes[0]].capture_id == first.id, "a duplicate's record is the one captured first"
    assert rows[ex.event_hashes[1]].capture_proof == [_hex(ex.record_leaves[0])]


def test_the_anchorer_seals_the_examples_batch_trees(captured: tuple[Signer, Example]) -> None:
    signer, ex = captured
    with signer.runtime.sessions() as session:
        batches = list(session.scalars(select(AnchorBatch).order_by(AnchorBatch.id)))
        assert [b.status for b in batches] == ["anchored", "anchored"]
        for batch, expected in zip(batches, ex.batches, strict=True):
            assert batch.leaf_count == len(expected.leaves)
            (record,) = session.scalars(select(EpcisEvent).where(EpcisEvent.batch_id == batch.id))
            assert (record.leaf, record.leaf_index) == (_hex(expected.records[0]), 0)
            states = list(
                session.scalars(select(ItemState).where(ItemState.batch_id == batch.id).order_by(ItemState.leaf_index))
            )
            assert [(s.item_hash, s.count, s.head, s.leaf_index) for s in states] == [
                (_hex(item_hash(item)), count, _hex(head), 1 + offset)
                for offset, (item, count, head, _) in enumerate(expected.states)
            ], "the state leaves follow the record leaves, sorted by their bytes"
            for state, (*_, leaf) in zip(states, expected.states, strict=True):
                assert verify_proof(_raw(batch.root), leaf, [_raw(p) for p in state.proof])
            documented = [_hex(p) for p in expected.tree.proof(0)]
            assert record.proof is not None and len(record.proof) == len(documented)
            assert record.proof[:-1] == documented[:-1], "the same tree but for the random leaf (the last sibling)"
            assert batch.tx_hash is not None
            receipt = signer.runtime.chain.w3.eth.get_transaction_receipt(HexStr(batch.tx_hash))
            (log,) = receipt["logs"]
            assert [bytes(t) for t in log["topics"][:3]] == [
                keccak256(ROOT_ANCHORED.encode()),
                _raw(ex.constellation),
                _raw(batch.root),
            ]


def test_event_2s_view_carries_the_examples_capture_block(captured: tuple[Signer, Example]) -> None:
    signer, ex = captured
    ref = _hex(ex.record_leaves[1])
    response = signer.api.client.get(f"/epcis/events/{quote(ref, safe='')}", headers=signer.headers)
    assert response.status_code == 200, response.text
    block = response.json()["constellate:record"]
    assert block["ref"] == ref and block["recordRoot"] == _hex(ex.commitments[1].root)
    capture = block["capture"]
    assert {k: capture[k] for k in ("root", "count", "index", "proof", "signedBy")} == {
        "root": _hex(ex.capture.root),
        "count": 2,
        "index": 1,
        "proof": [_hex(ex.record_leaves[0])],
        "signedBy": "self",
    }
    disclosed = block["disclosures"]["#fields"]
    assert disclosed["value"] == ex.commitments[1].fields["#fields"]
    assert disclosed["salt"] == _hex(ex.commitments[1].salts["#fields"])
    anchor = block["anchor"]
    assert (anchor["leafIndex"], anchor["leafCount"]) == (0, 3)
    assert anchor["proof"][0] == _hex(ex.batches[1].states[0][3]), "its sibling is the item's state leaf"
