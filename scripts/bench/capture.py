"""End-to-end EPCIS capture throughput: signed documents of 1,000 events POSTed over HTTP to
the API (uvicorn on 127.0.0.1), each validated against the EPCIS 2.0 schema, hashed (CBV 2.0),
its EIP-712 signature by a self-custody member recovered and checked, the signer's roles
checked for every event, and stored (events, identifiers, commitments, leaves) in one
database transaction. The local stack of `up` runs it: Anvil (automine) and SQLite by default.

The client prepares and signs every document before the clock starts: what is timed is the
service's work, from the first request to the last response. Each of --runs rounds captures
--documents new documents into the same service; one more document before the first round
starts the worker processes and is not timed.

    .venv/bin/python scripts/bench/capture.py [--documents 10] [--events 1000] [--clients 2] [--runs 5]
        [--database-url URL] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
from eth_account import Account
from harness import (
    Figure,
    add_results_option,
    admin_headers,
    chain_facts,
    database_facts,
    local_stack,
    report,
    workspace,
)

from service.chain import typed_data
from service.epcis.capture import signing_tree

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


def document(index: int, size: int) -> dict[str, object]:
    events = [
        {
            "type": "ObjectEvent",
            "eventTime": f"2026-06-01T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}.{index % 1000:03d}Z",
            "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "epcList": [f"urn:epc:id:sgtin:0614141.107346.{index}x{n}x{k}" for k in range(3)],
            "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
            "bizLocation": {"id": "urn:epc:id:sgln:0614141.07346.0"},
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


def signed(document: dict[str, Any], key: str, prepared: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The document's body and the headers of its EIP-712 Capture signature, signed by `key` as
    a self-custody member signs (docs/proof-format.md §4): its own seed, its record roots and
    capture root computed locally (any prepare answer gives the domain and the constellation)."""
    typed = prepared["messages"][0]
    constellation = typed["message"]["constellation"]
    seed = secrets.token_bytes(32)
    tree = signing_tree(document, seed=seed, signer=Account.from_key(key).address, constellation=constellation)
    message = typed_data.typed_message(
        "Capture",
        {"constellation": bytes.fromhex(constellation[2:]), "captureRoot": tree.root, "recordCount": len(tree)},
        chain_id=typed["domain"]["chainId"],
        contract=typed["domain"]["verifyingContract"],
    )
    signature = "0x" + typed_data.sign(key, message).hex()
    return json.dumps(document).encode(), {
        "Constellate-Signature": signature,
        "Constellate-Capture-Seed": "0x" + seed.hex(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=10, help="Timed documents per run")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--database-url")
    parser.add_argument("--clients", type=int, default=2, help="Documents in flight at once (HTTP clients)")
    parser.add_argument("--runs", type=int, default=5)
    add_results_option(parser)
    args = parser.parse_args()
    with workspace("capture") as folder:
        stack = local_stack(folder, "capture", args.database_url)
        try:
            base = stack.urls["api"]
            admin = admin_headers(stack)
            with httpx.Client(base_url=base, timeout=120) as client:
                brand = client.post("/members", json={"name": "Brand"}, headers=admin).json()
                brand_h = {"Authorization": f"Bearer {brand['api_key']['token']}"}
                shipper = client.post(
                    "/members", json={"name": "Shipper", "address": Account.from_key(KEY).address}, headers=admin
                ).json()
                shipper_h = {"Authorization": f"Bearer {shipper['api_key']['token']}"}
                client.post(
                    "/constellations", json={"slug": "bench", "name": "Bench"}, headers=brand_h
                ).raise_for_status()
                client.put(
                    f"/constellations/bench/members/{shipper['member']['id']}",
                    json={"roles": ["logistics"]},
                    headers=brand_h,
                ).raise_for_status()
                headers = {**shipper_h, "Constellate-Constellation": "bench", "Content-Type": "application/json"}
                prepared = client.post(
                    "/epcis/capture/prepare", content=json.dumps(document(0, 1)).encode(), headers=headers
                ).json()
                rounds = [
                    [
                        signed(document(1 + run * args.documents + n, args.events), KEY, prepared)
                        for n in range(args.documents)
                    ]
                    for run in range(args.runs)
                ]
                warm_body, warm_signed = signed(document(0, args.events), KEY, prepared)
                client.post(  # the first capture starts the worker processes: not timed
                    "/epcis/capture", content=warm_body, headers={**headers, **warm_signed}
                ).raise_for_status()

                def post(item: tuple[bytes, dict[str, str]]) -> None:
                    body, signature = item
                    with httpx.Client(base_url=base, timeout=120) as own:
                        response = own.post("/epcis/capture", content=body, headers={**headers, **signature})
                        assert response.status_code == 202, response.text

                rates = []
                for bodies in rounds:
                    began = time.perf_counter()
                    with ThreadPoolExecutor(args.clients) as clients:
                        list(clients.map(post, bodies))
                    elapsed = time.perf_counter() - began
                    rates.append(len(bodies) * args.events / elapsed)
                    print(f"run {len(rates)}: {len(bodies) * args.events:,} events in {elapsed:.2f} s", flush=True)
            kind = stack.settings.database_url.split(":")[0].split("+")[0]
            print(f"{kind}, HTTP on 127.0.0.1, signatures verified, Anvil automine")
            figure = Figure(
                f"capture, documents of {args.events:,} signed events, {args.clients} clients",
                "events/s",
                rates,
                target=(">=", 3000),
            )
            facts = {
                "documents_per_run": args.documents,
                "events_per_document": args.events,
                "clients": args.clients,
                **database_facts(stack.settings.database_url),
                **chain_facts(stack.settings.rpc_url),
            }
            report("capture", [figure], facts, args.json)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
