"""Journey page latency: the public journey page of a product whose lineage holds 200 events
(20 input lots with 7 events each, the transformation that blends them, 59 events of the
product lot), with certifications and PACT footprints of every input, under N concurrent
clients (wrk, closed loop, keep-alive, Accept-Encoding: gzip as browsers send) on 127.0.0.1.

Seeding runs on the local stack of `up` (Anvil automine, SQLite by default); every event is
anchored before the clock starts. The API then runs as `constellate serve --workers W` in its
own processes. The cache serves a journey while the data revision is unchanged, so the script
also measures the journey built from scratch on every request (cache off, 4 clients): what the
first request after any change costs.

    scripts/bootstrap --bench   # installs wrk
    .venv/bin/python scripts/bench/journey.py [--clients 32] [--seconds 20] [--workers 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx

from service.domain.gs1 import check_digit
from service.settings import PROJECT_ROOT, Settings
from service.stack import LocalStack

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format('REPORT {"requests": %d, "errors": %d, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "rps": %.1f}\\n',
    summary.requests, errors, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
end
"""


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


def seed(base: str, admin: dict[str, str], inputs: int, per_input: int, product_events: int) -> str:
    """Members, a constellation, public grants, the lineage, claims; everything anchored."""
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
            "referencePeriodStart": "2026-01-01T00:00:00Z",
            "referencePeriodEnd": "2026-12-31T00:00:00Z",
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
        return product.removeprefix("https://id.gs1.org")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(settings: Settings, workers: int, cache: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "CONSTELLATE_DATABASE_URL": settings.database_url,
        "CONSTELLATE_RPC_URL": settings.rpc_url,
        "CONSTELLATE_MANIFEST_PATH": str(settings.manifest_path),
        "CONSTELLATE_RELAY_INTERVAL_SECONDS": "0",
        "CONSTELLATE_RELAYER_PRIVATE_KEY": settings.relayer_private_key.get_secret_value(),  # type: ignore[union-attr]
        "CONSTELLATE_JOURNEY_CACHE_ENTRIES": "1024" if cache else "0",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the API did not start")


def wrk(url: str, clients: int, seconds: int, script: Path) -> dict[str, Any]:
    ran = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-H",
            "Accept: text/html",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in ran.stdout.splitlines() if line.startswith("REPORT "))
    return dict(json.loads(line.removeprefix("REPORT ")))


def spread(runs: list[dict[str, Any]], key: str) -> str:
    values = sorted(r[key] for r in runs)
    return f"{values[0]:.2f} · **{statistics.median(values):.2f}** · {values[-1]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--inputs", type=int, default=20)
    parser.add_argument("--per-input", type=int, default=7)
    parser.add_argument("--product-events", type=int, default=59)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: scripts/bootstrap --bench installs it")
    folder = Path(tempfile.mkdtemp(prefix="constellate-journey-"))
    settings = Settings(
        database_url=args.database_url or f"sqlite:///{folder}/journey.db",
        manifest_path=folder / "deployment.json",
        port=0,
        relay_interval_seconds=0,
    )
    stack = LocalStack(settings=settings, state_dir=folder).start(embedded_chain=True)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        admin = {"Authorization": f"Bearer {stack.settings.admin_api_key.get_secret_value()}"}  # type: ignore[union-attr]
        path = seed(stack.urls["api"], admin, args.inputs, args.per_input, args.product_events)
        assert stack.api is not None
        stack.api.server.config.app.state.runtime.relay(flush=True)  # anchor everything, relay the claims
        stack.api.stop()
        stack.api = None
        script = folder / "report.lua"
        script.write_text(WRK_REPORT)
        results: dict[str, Any] = {"path": path, "clients": args.clients, "workers": args.workers}
        for cache in (True, False):
            process, base = serve(stack.settings, args.workers, cache)
            servers.append(process)
            journey = httpx.get(base + path, headers={"Accept": "application/json"}, timeout=60).json()
            assert "steps" in journey, journey
            results["events"] = len(journey["steps"])
            results["footprint"] = journey["footprint"]["status"]
            start = time.perf_counter()
            httpx.get(base + path, timeout=60).raise_for_status()
            results[f"{'cached' if cache else 'uncached'}_single_request_ms"] = round(
                (time.perf_counter() - start) * 1000, 2
            )
            wrk(base + path, args.clients, 3, script)  # every worker builds and renders it once: not timed
            runs = [
                wrk(base + path, args.clients if cache else 4, args.seconds if cache else 5, script)
                for _ in range(args.runs if cache else 1)
            ]
            results["cached" if cache else "uncached_4_clients"] = runs
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        cached = results["cached"]
        print(json.dumps(results, indent=2))
        print(
            f"\n{results['events']} events, {args.clients} clients, {args.workers} workers, {args.seconds} s x {args.runs} runs"
            f"\np95 ms (min · median · max): {spread(cached, 'p95_ms')}"
            f"\np50 ms: {spread(cached, 'p50_ms')}   p99 ms: {spread(cached, 'p99_ms')}   req/s: {spread(cached, 'rps')}"
            f"\nerrors: {sum(r['errors'] for r in cached)}"
            f"\nuncached, 4 clients: p50 {results['uncached_4_clients'][0]['p50_ms']:.1f} ms, p95 {results['uncached_4_clients'][0]['p95_ms']:.1f} ms"
        )
    finally:
        for process in servers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        stack.stop()


if __name__ == "__main__":
    os.chdir(PROJECT_ROOT)
    main()
