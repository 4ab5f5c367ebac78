"""The JavaScript outside verifier (verifiers/js/, written from docs/proof-format.md) on a real
Anvil: its unit tests under Node with vectors the Python code prints, the coffee journey
verified by `node verifiers/js/cli.mjs` with the same verdict as the Python verifier, and a
few tamperings each failing with the check named (the full matrix is test_proof_matrix.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from service.chain.proof_reader import ChainProofReader, TrustPins
from service.chain.rpc import endpoint
from service.domain.journey_proofs import verify_journey
from service.settings import PROJECT_ROOT

from .browser import Served
from .flaky_proxy import FlakyProxy
from .test_journeys import JSON, ROAST_PATH, Shop

sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""The chain is what is checked here: one database kind is enough."""

NODE = shutil.which("node")
JS = PROJECT_ROOT / "verifiers" / "js"
CLI = JS / "cli.mjs"
needs_node = pytest.mark.skipif(
    NODE is None or not (PROJECT_ROOT / "node_modules" / "ethers").exists(),
    reason="no node or no npm packages: run scripts/bootstrap",
)


def _node(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run(
        [NODE, *args], cwd=PROJECT_ROOT, input=stdin, capture_output=True, text=True, timeout=300, env=env
    )


@needs_node
def test_the_unit_tests_pass_with_vectors_from_the_python_code(tmp_path: Path) -> None:
    vectors = subprocess.run(
        [sys.executable, str(JS / "test" / "vectors.py")], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    path = tmp_path / "vectors.json"
    path.write_text(vectors.stdout, encoding="utf-8")
    run = _node("--test", "verifiers/js/test/", env={**os.environ, "CONSTELLATE_PY_VECTORS": str(path)})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout and "# skipped 0" in run.stdout, run.stdout[-2000:]


@pytest.fixture
def shop(api: Any) -> Shop:
    return Shop(api)


class Verifiers:
    """Both verifiers on the same chain, pins and documents."""

    def __init__(self, shop: Shop, w3: Web3, rpc_url: str, folder: Path) -> None:
        self.shop = shop
        self.w3 = w3
        self.rpc_url = rpc_url
        self.folder = folder
        response = shop.api.client.get("/verify/trust")
        assert response.status_code == 200, response.text
        self.pins = response.json()
        self.trust = folder / "trust.json"
        self.trust.write_text(json.dumps(self.pins))

    def js(self, document: Any, command: str = "journey", *, rpc_url: str | None = None) -> tuple[int, dict[str, Any]]:
        path = self.folder / f"{command}.json"
        path.write_text(json.dumps(document))
        run = _node(
            str(CLI), command, str(path), "--rpc-url", rpc_url or self.rpc_url, "--trust", str(self.trust), "--json"
        )
        assert run.returncode in (0, 1), run.stderr
        return run.returncode, json.loads(run.stdout)

    def python(self, document: Any) -> dict[str, Any]:
        reader = ChainProofReader(endpoint(self.w3), TrustPins.from_json(self.pins))
        return verify_journey(document, reader, self.pins).as_json()


@pytest.fixture
def both(shop: Shop, w3: Web3, anvil: Any, tmp_path: Path) -> Verifiers:
    return Verifiers(shop, w3, anvil.rpc_url, tmp_path)


def _outcomes(verdict: dict[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    return [(c["name"], c.get("step"), c.get("claim"), c["ok"]) for c in verdict["checks"]]


def _failing(verdict: dict[str, Any]) -> set[tuple[str, Any, Any]]:
    return {(c["name"], c.get("step"), c.get("claim")) for c in verdict["checks"] if c["ok"] is False}


@needs_node
@sqlite
def test_the_public_journey_verifies_with_the_python_verifiers_checks(both: Verifiers) -> None:
    body = both.shop.page(ROAST_PATH, JSON).json()
    code, verdict = both.js(body)
    assert verdict["status"] == "verified" and code == 0, [c for c in verdict["checks"] if c["ok"] is not True]
    assert _outcomes(verdict) == _outcomes(both.python(body))
    names = {c["name"] for c in verdict["checks"]}
    assert names >= {"pins", "structure", "order", "completeness", "footprint", "authorship", "signer_role"}
    assert names >= {"claim.signature", "claim.uid", "claim.disclosed_fields", "claim.on_chain", "claim.status"}
    assert verdict["recordsNotShown"] == body["summary"]["recordsNotShown"] > 0  # the shop shares nothing


@needs_node
@sqlite
def test_the_brands_journey_verifies(both: Verifiers) -> None:
    body = both.shop.page(ROAST_PATH, {**JSON, **both.shop.brand_h}).json()
    code, verdict = both.js(body)
    assert (code, verdict["status"]) == (0, "verified"), [c for c in verdict["checks"] if c["ok"] is not True]
    assert verdict["recordsNotShown"] == 0


def _step(body: dict[str, Any], owner: str) -> int:
    return next(i for i, s in enumerate(body["steps"]) if s["who"]["name"] == owner)


def _tamper_quantity(body: dict[str, Any]) -> None:
    step = next(s for s in body["steps"] if s["eventType"] == "TransformationEvent")
    step["event"]["outputQuantityList"][0]["quantity"] = 2000
    step["quantities"] = [
        q | ({"quantity": 2000} if q["list"] == "outputQuantityList" else {}) for q in step["quantities"]
    ]


def _reattribute(body: dict[str, Any]) -> None:
    """The record re-attributed to another address (its ref recomputed to match)."""
    from service.domain.commitments import event_leaf

    block = body["steps"][0]["event"]["constellate:record"]
    other = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
    block["owner"]["address"] = other
    block["ref"] = "0x" + event_leaf(bytes.fromhex(block["recordRoot"][2:]), other, block["constellation"]["id"]).hex()
    body["steps"][0]["ref"] = block["ref"]


def _drop_step(body: dict[str, Any]) -> None:
    body["steps"].pop(_step(body, "Roastery"))
    body["summary"]["steps"] -= 1
    body["summary"]["anchored"] -= 1


def _claim_body(body: dict[str, Any]) -> None:
    claim = next(c for c in body["claims"] if c["body"].get("certificateId"))
    claim["credential"]["credentialSubject"]["body"]["certificateId"] = "FT-999"
    claim["body"]["certificateId"] = "FT-999"


def _pins(body: dict[str, Any]) -> None:
    body["verify"]["provenanceAnchor"] = "0x" + "11" * 20


TAMPERINGS = {
    "field value": (_tamper_quantity, "disclosed_fields"),
    "record re-attributed": (_reattribute, "authorship"),
    "step dropped": (_drop_step, "completeness"),
    "claim body": (_claim_body, "claim.disclosed_fields"),
    "page pins": (_pins, "pins"),
}


@needs_node
@sqlite
@pytest.mark.parametrize("case", sorted(TAMPERINGS))
def test_a_tampered_journey_fails_with_the_check_named_as_python_fails_it(both: Verifiers, case: str) -> None:
    body = both.shop.page(ROAST_PATH, JSON).json()
    tamper, expected = TAMPERINGS[case]
    tampered = deepcopy(body)
    tamper(tampered)
    code, verdict = both.js(tampered)
    assert (code, verdict["status"]) == (1, "failed")
    assert expected in {name for name, _, _ in _failing(verdict)}
    assert _failing(verdict) == _failing(both.python(tampered))


@needs_node
@sqlite
def test_the_journey_costs_two_json_rpc_round_trips(both: Verifiers) -> None:
    """Every root, log and attestation in one batch, every signer's role in a second: each root
    read once, however many steps it anchors."""
    body = both.shop.page(ROAST_PATH, JSON).json()
    with FlakyProxy(both.rpc_url, drop_first=0) as proxy:
        code, verdict = both.js(body, rpc_url=proxy.url)
    assert (code, verdict["status"]) == (0, "verified")
    assert proxy.forwarded == 2


@needs_node
@sqlite
def test_a_record_view_verifies_and_a_changed_salt_fails(both: Verifiers) -> None:
    body = both.shop.page(ROAST_PATH, JSON).json()
    view = body["steps"][0]["event"]
    code, verdict = both.js(view, "record")
    assert (code, verdict["status"]) == (0, "verified"), verdict
    assert [c["name"] for c in verdict["checks"]] == [
        "disclosed_fields", "field_list", "leaf", "authorship", "signer_role", "merkle_proof", "anchored",
    ]  # fmt: skip
    salted = deepcopy(view)
    entry = next(e for p, e in salted["constellate:record"]["disclosures"].items() if p == "eventTime")
    entry["salt"] = "0x" + "00" * 16
    code, verdict = both.js(salted, "record")
    assert (code, verdict["status"]) == (1, "failed")
    assert {c["name"] for c in verdict["checks"] if c["ok"] is False} == {"disclosed_fields"}


@needs_node
@sqlite
def test_an_unreachable_chain_is_unavailable_never_verified(both: Verifiers) -> None:
    body = both.shop.page(ROAST_PATH, JSON).json()
    code, verdict = both.js(body, rpc_url="http://127.0.0.1:9")
    assert (code, verdict["status"]) == (1, "unavailable")
    assert not any(c["ok"] is False for c in verdict["checks"])
    assert any(c["name"] == "anchored" and c["ok"] is None for c in verdict["checks"])


@needs_node
@sqlite
def test_a_journey_read_from_its_url_verifies_and_says_so_in_words(both: Verifiers) -> None:
    with Served(both.shop.api.client.app) as base:
        run = _node(str(CLI), "journey", base + ROAST_PATH, "--rpc-url", both.rpc_url, "--trust", str(both.trust))
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.splitlines()[0] == f"{base}{ROAST_PATH}: verified"
        assert run.stdout.rstrip().endswith("checks: all verified")
        bad = _node(str(CLI), "journey", base + "/01/12345", "--rpc-url", both.rpc_url, "--trust", str(both.trust))
        assert bad.returncode == 2 and "answered 400" in bad.stderr, bad.stderr


@needs_node
@sqlite
def test_unreadable_input_exits_2_naming_it(both: Verifiers, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    run = _node(
        str(CLI), "journey", str(tmp_path / "broken.json"), "--rpc-url", both.rpc_url, "--trust", str(both.trust)
    )
    assert run.returncode == 2 and "is not JSON" in run.stderr
    run = _node(
        str(CLI), "journey", str(tmp_path / "missing.json"), "--rpc-url", both.rpc_url, "--trust", str(both.trust)
    )
    assert run.returncode == 2 and "cannot read" in run.stderr
    run = _node(str(CLI), "journey", "-", "--rpc-url", both.rpc_url, "--trust", str(both.trust), stdin='{"steps": []}')
    assert run.returncode == 2 and "a journey is a JSON object with an item" in run.stderr
    run = _node(str(CLI), "journey", "-", "--trust", str(both.trust), stdin="{}")
    assert run.returncode == 2 and "usage" in run.stderr
    run = _node(str(CLI), "journey", "-", "--rpc-url", "localhost:8545", "--trust", str(both.trust), stdin="{}")
    assert run.returncode == 2 and "is not an http:// or https:// URL" in run.stderr
