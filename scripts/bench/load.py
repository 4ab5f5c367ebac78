"""A load run: 64 clients for a few minutes against `constellate serve` on 127.0.0.1 with the
mixed traffic of a live constellation, and the memory of the API's processes.

The journey benchmark's constellation is seeded (a 200-event lineage, 40 claims, public grants,
everything anchored), with three more members that hold their own keys. Then one wrk process
per kind of request drives the server, closed loop over keep-alive connections (clients of 64):

    journey page, public (HTML, gzip)                             16
    journey as a member (JSON, each of four members in turn)       8
    EPCIS event queries as members                                 8
    traces as members: recall (downstream), upstream, custody      8
    attestation reads: one claim with its on-chain proof, a lot's  8
    verification: an event by its owner, a public view POSTed      8
    captures of 5-event documents, signed by the three members or,
      for a managed member, by the service, paced to --capture-rate  8

A capture a second (5 events/s, ~430,000 a day) by default. Each capture is a data change, so
it also retires every cached journey: the journey figures show what that costs. The background
relayer anchors what is captured, as in production (every 5 s). The run is
--runs windows of --seconds each, back to back: each figure is the median over the windows.
An error is any response but the one expected (200; 202 for a capture), any socket error or
timeout (10 s), and any ERROR line in the server's log: the script exits 1 unless there are none.
(A request still in flight when a window ends is abandoned by wrk; if the server had not read
its body yet, it logs a ClientDisconnect: those are counted apart, as the client's doing.)
Memory: RSS and PSS of the server process and its workers (/proc), idle after start and the
peak of each window (sampled every 0.5 s).

    scripts/bootstrap --bench   # installs wrk
    .venv/bin/python scripts/bench/load.py [--clients 64] [--seconds 60] [--runs 3] [--workers 2]
        [--capture-rate 1] [--database-url URL] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
from capture import document as capture_document
from capture import signed
from eth_account import Account
from eth_utils import keccak
from harness import (
    WRK_REPORT,
    Figure,
    MemorySampler,
    add_lineage_options,
    add_results_option,
    admin_headers,
    chain_facts,
    database_facts,
    local_stack,
    memory,
    processes,
    report,
    serve,
    workspace,
    wrk_command,
    wrk_result,
)
from journey import GREEN, seed
from journey import Seeded as JourneySeed

from service.settings import PROJECT_ROOT

# Requests are read from a file: records end with \x1e, fields (method, path, headers, body)
# end with \x1f; headers are "Name: value" lines. JSON never holds either byte unescaped.
REQUESTS_LUA = r"""
local requests, count, index = {}, 0, 0
unexpected, sample = 0, ""

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local text = file:read("*a")
  file:close()
  for record in string.gmatch(text, "([^\30]+)\30") do
    local method, path, head, body = record:match("^(.-)\31(.-)\31(.-)\31(.*)$")
    local headers = {}
    for name, value in string.gmatch(head, "([^\n:]+): ([^\n]*)") do headers[name] = value end
    count = count + 1
    requests[count] = wrk.format(method, path, headers, body ~= "" and body or nil)
  end
end

function request()
  index = index % count + 1
  return requests[index]
end

function response(status, headers, body)
  if status ~= EXPECTED then
    unexpected = unexpected + 1
    if sample == "" then
      sample = status .. " " .. (string.gsub(string.sub(body or "", 1, 300), '[%c"\\]', " "))
    end
  end
end
"""


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def record(self) -> str:
        head = "".join(f"{name}: {value}\n" for name, value in self.headers.items())
        return f"{self.method}\x1f{self.path}\x1f{head}\x1f{self.body}\x1e"


@dataclass
class Kind:
    """One kind of request: its share of the clients, what it sends, what it must answer."""

    name: str
    share: int  # of 16
    requests: list[Request]
    expected: int = 200
    pause_ms: int = 0  # think time between one client's requests (captures are paced)

    def script(self, folder: Path) -> Path:
        path = folder / f"{self.name}.lua"
        delay = f"\nfunction delay() return {self.pause_ms} end\n" if self.pause_ms else ""
        path.write_text(f"EXPECTED = {self.expected}\n{REQUESTS_LUA}{delay}{WRK_REPORT}")
        return path

    def write(self, path: Path, requests: list[Request] | None = None) -> Path:
        path.write_text("".join(r.record() for r in requests or self.requests))
        return path


def clients_of(kinds: list[Kind], total: int) -> dict[str, int]:
    """Clients per kind in proportion to its share, at least one each, summing to `total`."""
    counts = {k.name: max(1, total * k.share // 16) for k in kinds}
    by_share = sorted(kinds, key=lambda k: -k.share)
    n = 0
    while sum(counts.values()) < total:
        counts[by_share[n % len(by_share)].name] += 1
        n += 1
    if sum(counts.values()) > total:
        raise SystemExit(f"--clients must be at least {len(kinds)}, one per kind of request")
    return counts


@dataclass
class Capturer:
    name: str
    headers: dict[str, str]
    key: str | None  # None: a managed member, the service signs


@dataclass
class Seeded:
    """The journey benchmark's constellation, the members who capture, and the signing domain
    (what /epcis/capture/prepare answers)."""

    journey: JourneySeed
    capturers: list[Capturer]
    prepared: dict[str, Any]


def seed_traffic(base: str, admin: dict[str, str], inputs: int, per_input: int, product_events: int) -> Seeded:
    """Seeds the constellation and the members who capture."""
    seeded = seed(base, admin, inputs, per_input, product_events)
    members = seeded.members
    brand = {"Authorization": members["Brand"]["Authorization"]}
    capturers = [Capturer("Roaster", {"Authorization": members["Roaster"]["Authorization"]}, None)]
    with httpx.Client(base_url=base, timeout=300) as client:
        for name in ("Carrier A", "Carrier B", "Carrier C"):
            key = "0x" + keccak(text=f"constellate load {name}").hex()
            made = client.post(
                "/members", json={"name": name, "address": Account.from_key(key).address}, headers=admin
            ).raise_for_status()
            member = made.json()
            client.put(
                f"/constellations/bench/members/{member['member']['id']}", json={"roles": ["logistics"]}, headers=brand
            ).raise_for_status()
            capturers.append(Capturer(name, {"Authorization": f"Bearer {member['api_key']['token']}"}, key))
        signer = next(c for c in capturers if c.key is not None)
        prepared = client.post(
            "/epcis/capture/prepare",
            content=json.dumps(capture_document(0, 1)).encode(),
            headers={**signer.headers, "Constellate-Constellation": "bench"},
        ).raise_for_status()
    return Seeded(seeded, capturers, prepared.json())


def reads(base: str, seeded: JourneySeed) -> list[Kind]:
    """Every kind of request but captures, from what the seeded service holds."""
    members = [{"Authorization": m["Authorization"]} for m in seeded.members.values()]
    farm = {"Authorization": seeded.members["Farm"]["Authorization"]}
    product = "https://id.gs1.org" + seeded.path
    lots = seeded.inputs[:4]
    with httpx.Client(base_url=base, timeout=300) as client:
        journey = client.get(seeded.path, headers={"Accept": "application/json"}).raise_for_status().json()
        owned = client.get("/epcis/events", params={"perPage": 20}, headers=farm).raise_for_status().json()
        refs = [e["constellate:record"]["ref"] for e in owned["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
        claims = client.get("/attestations", params={"gtin": GREEN, "lot": "IN-000"}, headers=farm)
        uids = [a["uid"] for a in claims.raise_for_status().json()]
    views = [json.dumps(step["event"]) for step in journey["steps"][:: max(1, len(journey["steps"]) // 8)]]
    public = {"Accept": "text/html", "Accept-Encoding": "gzip"}
    json_h = {"Accept": "application/json"}

    def each(paths: list[str], headers: list[dict[str, str]]) -> list[Request]:
        """Every path with every reader's headers, interleaved."""
        return [Request("GET", p, {**json_h, **h}) for p in paths for h in headers]

    def query(**params: str | int) -> str:
        return "/epcis/events?" + urlencode(params)

    def item(path: str, identifier: str) -> str:
        return f"{path}?id={quote(identifier, safe='')}"

    lot_paths = [lot.removeprefix("https://id.gs1.org") for lot in lots]
    return [
        Kind("journey_public", 4, [Request("GET", p, public) for p in [seeded.path] * 4 + lot_paths]),
        Kind("journey_member", 2, each([seeded.path], members)),
        Kind(
            "event_queries",
            2,
            each(
                [
                    query(MATCH_anyEPCClass=product, perPage=50),
                    query(MATCH_anyEPCClass=lots[0], perPage=20),
                    query(EQ_bizStep="shipping", perPage=20),
                    query(perPage=30),
                ],
                members,
            ),
        ),
        Kind(
            "traces",
            2,
            each(
                [item("/trace/downstream", lots[0]), item("/trace/upstream", product), item("/trace/custody", product)],
                members[:3],
            ),
        ),
        Kind(
            "attestation_reads",
            2,
            each([f"/attestations/{uid}" for uid in uids] + ["/attestations?" + urlencode({"gtin": GREEN})], members),
        ),
        Kind(
            "verification",
            2,
            [Request("GET", f"/verify/events/{ref}", {**json_h, **farm}) for ref in refs[:4]]
            + [Request("POST", "/verify/record", {"Content-Type": "application/json"}, body) for body in views],
        ),
    ]


def captures(capturers: list[Capturer], prepared: dict[str, Any], count: int, start: int, size: int) -> list[Request]:
    """`count` new documents of `size` events, each member's in turn, signed before the clock."""
    made = []
    for n in range(start, start + count):
        member = capturers[n % len(capturers)]
        doc = capture_document(n + 1, size)
        headers = {**member.headers, "Constellate-Constellation": "bench", "Content-Type": "application/json"}
        if member.key is None:
            body = json.dumps(doc).encode()
        else:
            body, signature = signed(doc, member.key, prepared)
            headers.update(signature)
        made.append(Request("POST", "/epcis/capture", headers, body.decode()))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=60, help="Length of one window")
    parser.add_argument("--runs", type=int, default=3, help="Windows, back to back")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--capture-rate", type=float, default=1, help="Documents captured a second, at most")
    parser.add_argument("--capture-events", type=int, default=5, help="Events per captured document")
    parser.add_argument("--relay-interval", type=float, default=5, help="Seconds between the relayer's rounds")
    add_lineage_options(parser)
    add_results_option(parser)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: scripts/bootstrap --bench installs it")
    with workspace("load") as folder:
        stack = local_stack(folder, "load", args.database_url)
        server = None
        try:
            admin = admin_headers(stack)
            made = seed_traffic(stack.urls["api"], admin, args.inputs, args.per_input, args.product_events)
            assert stack.api is not None
            stack.api.server.config.app.state.runtime.relay(flush=True)  # anchor everything, relay the claims
            kinds = reads(stack.urls["api"], made.journey)
            stack.api.stop()
            stack.api = None

            capture = Kind("capture", 2, [], expected=202)
            kinds.append(capture)
            clients = clients_of(kinds, args.clients)
            per_window = math.ceil(args.capture_rate * args.seconds * 1.2) + clients["capture"]
            capture.pause_ms = round(1000 * clients["capture"] / args.capture_rate)
            documents = [
                captures(made.capturers, made.prepared, per_window, run * per_window, args.capture_events)
                for run in range(args.runs)
            ]
            print(f"clients per kind: {clients}; {args.runs} x {per_window} signed documents ready", flush=True)

            server = serve(
                stack.settings,
                workers=args.workers,
                log=folder / "serve.log",
                env={"CONSTELLATE_RELAY_INTERVAL_SECONDS": str(args.relay_interval)},
            )
            time.sleep(1)
            idle, idle_processes = memory(server.process.pid), processes(server.process.pid)
            print(f"idle after start: {idle}", flush=True)
            windows: list[dict[str, Any]] = []
            for run in range(args.runs):
                running = {}
                with MemorySampler(server.process.pid) as sampler:
                    for kind in kinds:
                        requests = documents[run] if kind is capture else None
                        command = wrk_command(
                            server.base,
                            clients=clients[kind.name],
                            seconds=args.seconds,
                            script=kind.script(folder),
                            threads=1,
                            args=[str(kind.write(folder / f"{kind.name}-{run}.requests", requests))],
                        )
                        running[kind.name] = subprocess.Popen(
                            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                        )
                    results = {}
                    for name, process in running.items():
                        out, err = process.communicate(timeout=args.seconds + 60)
                        if process.returncode != 0:
                            raise SystemExit(f"wrk ({name}) failed: {err}")
                        results[name] = wrk_result(out, err)
                windows.append({"kinds": results, "memory": dict(sampler.peak)})
                total = sum(r["requests"] for r in results.values())
                errors = sum(r["errors"] for r in results.values())
                print(f"window {run + 1}: {total:,} requests, {errors} errors, peak {sampler.peak}", flush=True)
                for name, result in results.items():
                    if result["errors"]:
                        print(f"  {name}: {result['errors']} errors, first: {result['sample']}", flush=True)
            healthy = httpx.get(server.base + "/health", timeout=10).status_code == 200
            abandoned, logged = server.logged_errors()
            server.stop()
            server = None

            errors = sum(r["errors"] for w in windows for r in w["kinds"].values()) + len(logged) + (not healthy)
            figures = [
                Figure(
                    f"load: {args.clients} clients, mixed traffic, throughput",
                    "requests/s",
                    [sum(r["rps"] for r in w["kinds"].values()) for w in windows],
                ),
                Figure(
                    f"load: errors in {args.runs} x {args.seconds} s",
                    "",
                    [float(errors)],
                    target=("==", 0),
                    note="unexpected statuses, socket errors, timeouts, server log errors",
                ),
            ]
            for kind in kinds:
                measured = [w["kinds"][kind.name] for w in windows]
                label = f"load · {kind.name} ({clients[kind.name]} clients)"
                figures += [
                    Figure(f"{label}: {p}", "ms", [r[f"{p}_ms"] for r in measured]) for p in ("p50", "p95", "p99")
                ]
                figures.append(Figure(f"{label}: throughput", "requests/s", [r["rps"] for r in measured]))
            count = int(idle["processes"])
            figures += [
                Figure(f"API memory idle after start ({count} processes): RSS", "MiB", [idle["rss_mib"]]),
                Figure(f"API memory idle after start ({count} processes): PSS", "MiB", [idle["pss_mib"]]),
                Figure("API memory peak under load: RSS", "MiB", [w["memory"]["rss_mib"] for w in windows]),
                Figure("API memory peak under load: PSS", "MiB", [w["memory"]["pss_mib"] for w in windows]),
            ]
            facts = {
                "clients": clients,
                "workers": args.workers,
                "capture_rate": args.capture_rate,
                "capture_events": args.capture_events,
                "window_seconds": args.seconds,
                "memory_idle": idle,
                "memory_idle_processes": idle_processes,
                "server_log_errors": logged[:20],
                "server_log_abandoned_requests": len(abandoned),
                "healthy_after": healthy,
                "windows": windows,
                **database_facts(stack.settings.database_url),
                **chain_facts(stack.settings.rpc_url),
            }
            report("load", figures, facts, args.json)
            print(f"errors: {errors}")
            if errors:
                for line in logged[:10]:
                    print(f"server log: {line}")
                raise SystemExit(f"the load run had {errors} errors")
        finally:
            if server is not None:
                server.stop()
            stack.stop()


if __name__ == "__main__":
    os.chdir(PROJECT_ROOT)
    main()
