"""Journey page latency: the public journey page of a product whose lineage holds 200 events
(20 input lots with 7 events each, the transformation that blends them, 59 events of the
product lot), with certifications and PACT footprints of every input, under N concurrent
clients (wrk, closed loop, keep-alive, Accept-Encoding: gzip as browsers send) on 127.0.0.1.
And the time to verify that journey independently: `constellate verify journey` checks every
step's view, leaf and Merkle proof against the chain (the command's own code, called in this
process on the saved JSON, --verify-runs times; and --cold-runs times as the command a reader
types, on its URL, each in a new interpreter).

Seeding runs on the local stack of `up` (Anvil automine, SQLite by default); every event is
anchored before the clock starts. The API then runs as `constellate serve --workers W` in its
own processes. The cache serves a journey while the data revision is unchanged, so the script
also measures the journey built from scratch on every request (cache off, 4 clients): what the
first request after any change costs.

    scripts/bootstrap --bench   # installs wrk
    .venv/bin/python scripts/bench/journey.py [--clients 32] [--seconds 20] [--workers 2] [--runs 3]
        [--verify-runs 10] [--cold-runs 3] [--database-url URL] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
import typer
from harness import (
    WRK_REPORT,
    Figure,
    add_lineage_options,
    add_results_option,
    admin_headers,
    chain_facts,
    database_facts,
    local_stack,
    report,
    serve,
    workspace,
    wrk,
)

from service import cli
from service.domain.gs1 import check_digit
from service.settings import PROJECT_ROOT

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def gtin(body: str) -> str:
    return body + str(check_digit(body))


GREEN, ROASTED = gtin("0950600099001"), gtin("0950600099002")
PLACE = "https://id.gs1.org/414/" + gtin("950600099001")


def lot(item: str, number: str) -> str:
    return f"https://id.gs1.org/01/{item}/10/{number}"


def event(kind: str, minute: int, **fields: Any) -> dict[str, Any]:
    when = f"2026-06-{1 + minute // 1440:02d}T{(minute // 60) % 24:02d}:{minute % 60:02d}:00Z"
    return {"type": kind, "eventTime": when, "eventTimeZoneOffset": "+00:00", **fields}


def document(events: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-06-01T00:00:00Z",
            "epcisBody": {"eventList": events},
        }
    ).encode()


def lineage(inputs: int, per_input: int, product_events: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """(the suppliers' events, the manufacturer's events, the product lot)."""
    steps = ("inspecting", "storing", "shipping", "receiving", "storing", "inspecting", "storing")
    supplied = []
    for n in range(inputs):
        item = lot(GREEN, f"IN-{n:03d}")
        supplied.append(
            event(
                "ObjectEvent",
                n,
                action="ADD",
                bizStep="commissioning",
                disposition="active",
                quantityList=[{"epcClass": item, "quantity": 50, "uom": "KGM"}],
                bizLocation={"id": PLACE},
            )
        )
        supplied += [
            event(
                "ObjectEvent",
                100 + n * per_input + k,
                action="OBSERVE",
                bizStep=steps[k % len(steps)],
                quantityList=[{"epcClass": item, "quantity": 50, "uom": "KGM"}],
                readPoint={"id": PLACE},
            )
            for k in range(per_input - 1)
        ]
    product = lot(ROASTED, "P-0001")
    made = [
        event(
            "TransformationEvent",
            5000,
            bizStep="commissioning",
            disposition="active",
            inputQuantityList=[
                {"epcClass": lot(GREEN, f"IN-{n:03d}"), "quantity": 50, "uom": "KGM"} for n in range(inputs)
            ],
            outputQuantityList=[{"epcClass": product, "quantity": 40 * inputs, "uom": "KGM"}],
            bizLocation={"id": PLACE},
        )
    ]
    made += [
        event(
            "ObjectEvent",
            5001 + k,
            action="OBSERVE",
            bizStep=("storing", "inspecting", "shipping", "receiving")[k % 4],
            quantityList=[{"epcClass": product, "quantity": 40 * inputs, "uom": "KGM"}],
            readPoint={"id": PLACE},
        )
        for k in range(product_events)
    ]
    return supplied, made, product


@dataclass
class Seeded:
    """What seed() made: the product's journey path, the members (their id and Authorization
    header, by name) and the input lots."""

    path: str
    members: dict[str, dict[str, str]]
    inputs: list[str]


def seed(base: str, admin: dict[str, str], inputs: int, per_input: int, product_events: int) -> Seeded:
    """Members, a constellation, public grants, the lineage, claims (anchoring is the caller's)."""
    with httpx.Client(base_url=base, timeout=300) as client:

        def member(name: str) -> dict[str, str]:
            body = client.post("/members", json={"name": name}, headers=admin).raise_for_status().json()
            return {"id": body["member"]["id"], "Authorization": f"Bearer {body['api_key']['token']}"}

        brand, farm, roaster, certifier = (member(n) for n in ("Brand", "Farm", "Roaster", "Certifier"))

        def auth(m: dict[str, str]) -> dict[str, str]:
            return {"Authorization": m["Authorization"]}

        client.post("/constellations", json={"slug": "bench", "name": "Bench"}, headers=auth(brand)).raise_for_status()
        for m, roles in ((farm, ["supplier"]), (roaster, ["manufacturer", "logistics"]), (certifier, ["certifier"])):
            client.put(
                f"/constellations/bench/members/{m['id']}", json={"roles": roles}, headers=auth(brand)
            ).raise_for_status()
        categories = ["what", "when", "where", "why", "quantities", "attestations"]
        for m in (farm, roaster, certifier):
            grant = {
                "constellation": "bench",
                "categories": categories,
                "audience": {"kind": "public"},
                "purpose": "journey",
            }
            client.post("/grants", json=grant, headers=auth(m)).raise_for_status()
        claim = client.post("/company-prefixes", json={"prefix": ROASTED[1:13]}, headers=auth(roaster))
        client.post(
            f"/company-prefixes/{claim.raise_for_status().json()['id']}/approve", headers=admin
        ).raise_for_status()
        client.put(
            "/products",
            json={"gtin": ROASTED, "name": "Bench Roast", "net_content": 0.25, "net_content_unit": "kilogram"},
            headers=auth(roaster),
        ).raise_for_status()
        supplied, made, product = lineage(inputs, per_input, product_events)
        for m, events in ((farm, supplied), (roaster, made)):
            response = client.post(
                "/epcis/capture",
                content=document(events),
                headers={**auth(m), "Constellate-Constellation": "bench", "Content-Type": "application/json"},
            )
            assert response.status_code == 202, response.text
        pcf = {
            "declaredUnit": "kilogram",
            "unitaryProductAmount": 1,
            "referencePeriodStart": "2025-01-01T00:00:00Z",
            "referencePeriodEnd": "2025-12-31T00:00:00Z",
            "geographyCountry": "ET",
            "boundaryProcessesDescription": "cradle to farm gate",
            "primaryDataShare": 80,
        }
        cert = {"standard": "Fairtrade", "certificateId": "FT", "issuingBody": "FLOCERT", "validUntil": "2027-12-31"}
        for n in range(inputs):
            subject = {"kind": "item", "gtin": GREEN, "lot": f"IN-{n:03d}"}
            for issuer, schema, body in (
                (farm, "product-carbon-footprint", {**pcf, "pCfExcludingBiogenic": 2.0 + n / 10}),
                (certifier, "certification", {**cert, "certificateId": f"FT-{n}"}),
            ):
                client.post(
                    "/attestations",
                    json={"constellation": "bench", "schema": schema, "subject": subject, "body": body},
                    headers=auth(issuer),
                ).raise_for_status()
        return Seeded(
            path=product.removeprefix("https://id.gs1.org"),
            members=dict(
                zip(("Brand", "Farm", "Roaster", "Certifier"), (brand, farm, roaster, certifier), strict=True)
            ),
            inputs=[lot(GREEN, f"IN-{n:03d}") for n in range(inputs)],
        )


def verify_journey(source: str, trust: dict[str, str]) -> str:
    """`constellate verify journey SOURCE` run in this process (the command's own code, no
    interpreter start): its output; SystemExit unless every step verified."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            cli.verify_journey(source, trust["rpcUrl"], trust=trust["file"])
    except typer.Exit as exc:
        raise SystemExit(f"verify journey failed ({exc.exit_code}):\n{out.getvalue()[-2000:]}") from None
    return out.getvalue()


def time_verification(
    base: str, path: str, rpc_url: str, runs: int, cold_runs: int, folder: Path
) -> tuple[list[float], list[float], int]:
    """Seconds to verify the public journey with only the chain: in process on its saved JSON
    (`runs` times), and as the command a reader types, on its URL (a new interpreter each time)."""
    body = httpx.get(base + path, headers={"Accept": "application/json"}, timeout=120).raise_for_status().json()
    pins = folder / "trust.json"  # what a reader pins: the service publishes it, the reader keeps it
    pins.write_text(httpx.get(base + "/verify/trust", timeout=30).raise_for_status().text)
    trust = {"rpcUrl": rpc_url, "file": str(pins)}
    saved = folder / "journey.json"
    saved.write_text(json.dumps(body))
    in_process = []
    for _ in range(runs):
        began = time.perf_counter()
        output = verify_journey(str(saved), trust)
        in_process.append(time.perf_counter() - began)
        assert "steps: all verified" in output, output[-500:]
    command = [sys.executable, "-m", "service.cli", "verify", "journey", base + path, "--rpc-url", rpc_url]
    command += ["--trust", trust["file"]]
    cold = []
    for _ in range(cold_runs):
        began = time.perf_counter()
        ran = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        cold.append(time.perf_counter() - began)
        if ran.returncode != 0:
            raise SystemExit(f"verify journey failed:\n{ran.stdout[-2000:]}{ran.stderr[-2000:]}")
    return in_process, cold, len(body["steps"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3, help="Seconds of untimed load before the runs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--uncached-seconds", type=int, default=5, help="The cache-off run (0: skip it)")
    parser.add_argument("--verify-runs", type=int, default=10, help="Timed verifications of the journey (0: none)")
    parser.add_argument("--cold-runs", type=int, default=3, help="Of them, run as a command on the journey's URL")
    add_lineage_options(parser)
    add_results_option(parser)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: scripts/bootstrap --bench installs it")
    with workspace("journey") as folder:
        stack = local_stack(folder, "journey", args.database_url)
        try:
            admin = admin_headers(stack)
            path = seed(stack.urls["api"], admin, args.inputs, args.per_input, args.product_events).path
            assert stack.api is not None
            stack.api.server.config.app.state.runtime.relay(flush=True)  # anchor everything, relay the claims
            figures: list[Figure] = []
            facts: dict[str, Any] = {"path": path, "clients": args.clients, "workers": args.workers}
            if args.verify_runs:
                in_process, cold, steps = time_verification(
                    stack.urls["api"], path, stack.settings.rpc_url, args.verify_runs, args.cold_runs, folder
                )
                figures.append(
                    Figure(f"verify journey, {steps} events, every proof against the chain", "s", in_process)
                )
                if cold:
                    figures.append(
                        Figure(
                            f"verify journey, {steps} events, as a command on its URL",
                            "s",
                            cold,
                            note="a new interpreter each run: imports and the fetch included",
                        )
                    )
            stack.api.stop()
            stack.api = None
            script = folder / "report.lua"
            script.write_text(WRK_REPORT)
            results: dict[str, Any] = {}
            for cache in (True, False) if args.uncached_seconds else (True,):
                server = serve(
                    stack.settings,
                    workers=args.workers,
                    log=folder / f"serve-{'cached' if cache else 'uncached'}.log",
                    env={"CONSTELLATE_JOURNEY_CACHE_ENTRIES": "1024" if cache else "0"},
                )
                try:
                    journey = httpx.get(server.base + path, headers={"Accept": "application/json"}, timeout=60).json()
                    assert "steps" in journey, journey
                    facts["events"] = len(journey["steps"])
                    facts["footprint"] = journey["footprint"]["status"]
                    start = time.perf_counter()
                    httpx.get(server.base + path, timeout=60).raise_for_status()
                    facts[f"{'cached' if cache else 'uncached'}_single_request_ms"] = round(
                        (time.perf_counter() - start) * 1000, 2
                    )
                    run = functools.partial(
                        wrk,
                        server.base + path,
                        clients=args.clients if cache else 4,
                        script=script,
                        headers=["Accept: text/html"],
                    )
                    if args.warmup:  # every worker builds and renders the page once: not timed
                        run(seconds=args.warmup)
                    timed = [
                        run(seconds=args.seconds if cache else args.uncached_seconds)
                        for _ in range(args.runs if cache else 1)
                    ]
                    results["cached" if cache else "uncached"] = timed
                finally:
                    server.stop()
            cached = results["cached"]
            label = f"journey page, {facts['events']} events, {args.clients} clients"
            figures = [
                Figure(f"{label}: p95", "ms", [r["p95_ms"] for r in cached], target=("<=", 25)),
                Figure(f"{label}: p50", "ms", [r["p50_ms"] for r in cached]),
                Figure(f"{label}: p99", "ms", [r["p99_ms"] for r in cached]),
                Figure(f"{label}: throughput", "requests/s", [r["rps"] for r in cached]),
                Figure(f"{label}: errors", "", [float(sum(r["errors"] for r in cached))], target=("==", 0)),
                *figures,
            ]
            if "uncached" in results:
                uncached = results["uncached"][0]
                figures.append(
                    Figure(
                        "journey page built on every request (cache off), 4 clients: p95",
                        "ms",
                        [uncached["p95_ms"]],
                        note=f"p50 {uncached['p50_ms']:.1f} ms; the cost of the first request after any change",
                    )
                )
            facts.update(database_facts(stack.settings.database_url), **chain_facts(stack.settings.rpc_url))
            facts["wrk"] = results
            print(
                f"{facts['events']} events, {args.clients} clients, {args.workers} workers, {args.seconds} s x {args.runs} runs"
                f"\nerrors: {sum(r['errors'] for r in cached)}"
            )
            report("journey", figures, facts, args.json)
            if any(r["errors"] for r in cached):
                raise SystemExit("the journey runs had errors")
        finally:
            stack.stop()


if __name__ == "__main__":
    os.chdir(PROJECT_ROOT)
    main()
