"""A journey checked with only the chain and the verifier's pins (docs/proof-format.md §7-§9a),
on a real Anvil and both databases: the coffee journey verifies as the public and as its brand
read it, claims by their credentials, the footprint recomputed from verified figures, and the
journey costs a few JSON-RPC round trips however many steps it has."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from service.chain.proof_reader import ChainProofReader, TrustPins
from service.domain.journey_proofs import JourneyVerdict, verify_journey

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
    return verify_journey(document, ChainProofReader(w3, TrustPins.from_json(pins)), pins)


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
