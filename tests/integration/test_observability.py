"""Operations on a real Anvil and database: request ids, JSON access lines, the 500 answer,
Prometheus metrics (latency by route template, events, anchoring lag, outbox, gas, denials),
and `constellate serve` with several workers logging JSON and reporting metrics for all."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.api import create_app
from service.db.models import OutboxItem
from service.observability import JsonFormatter
from service.settings import Settings

from . import journey
from .conftest import Api
from .test_provenance_api import Journey

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def access_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The access log as `constellate serve` writes it: one JSON object per line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("constellate.access")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def scrape(client: TestClient | httpx.Client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_to(samples: Samples, route: str) -> float:
    """Requests answered on a route template, whatever their method and status."""
    return sum(
        count
        for (name, labels), count in samples.items()
        if name == "constellate_http_request_duration_seconds_count" and dict(labels)["route"] == route
    )


@SQLITE_ONLY
def test_a_request_id_is_echoed_when_safe_and_made_otherwise(api: Api) -> None:
    given = api.client.get("/health", headers={"X-Request-ID": "lb-7f3a:01.x_y"})
    assert given.headers["X-Request-ID"] == "lb-7f3a:01.x_y"
    made = api.client.get("/health")
    other = api.client.get("/health")
    assert len(made.headers["X-Request-ID"]) == 32 and made.headers["X-Request-ID"] != other.headers["X-Request-ID"]
    for unsafe in ("x" * 129, "a b", "<script>", "id;rm -rf"):
        replaced = api.client.get("/health", headers={"X-Request-ID": unsafe})
        assert replaced.headers["X-Request-ID"] not in (unsafe, "")
        assert len(replaced.headers["X-Request-ID"]) == 32


@SQLITE_ONLY
def test_each_request_is_one_json_access_line_with_its_id_and_status(
    api: Api, access_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    api.client.get("/health?api_key=do-not-log-me", headers={"X-Request-ID": "req-1"})
    api.client.get(f"/01/{journey.GREEN}/10/NOBODY-RECORDED-THIS", headers={"X-Request-ID": "req-2"})
    api.client.get("/members/me", headers={"X-Request-ID": "req-3"})
    member, member_h = api.onboard("Logged Member")
    api.client.get("/members/me", headers={"X-Request-ID": "req-4", **member_h})
    lines = {line["request_id"]: line for line in access_lines() if line["request_id"].startswith("req-")}
    assert set(lines) == {"req-1", "req-2", "req-3", "req-4"}
    assert lines["req-4"]["member_id"] == member["id"] and "member_id" not in lines["req-1"]
    health = lines["req-1"]
    assert (health["logger"], health["level"], health["method"], health["path"], health["status"]) == (
        "constellate.access",
        "INFO",
        "GET",
        "/health",
        200,
    )
    assert health["duration_ms"] >= 0 and health["time"].endswith("Z")
    assert "do-not-log-me" not in json.dumps(list(lines.values()))
    assert lines["req-2"]["status"] == 404  # the resolver's own route, installed first, is wrapped too
    assert lines["req-3"]["status"] == 401


def test_an_unexpected_error_is_a_500_naming_only_its_request_id(
    base_settings: Settings, tmp_path: Path, access_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    unmigrated = base_settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}", "relay_interval_seconds": 0}
    )
    with TestClient(create_app(unmigrated), raise_server_exceptions=False) as client:
        response = client.get("/epcis/events", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500 and response.headers["X-Request-ID"] == "boom-1"
    body = response.json()
    assert body["error"] == "InternalError" and "boom-1" in body["detail"]
    assert not any(word in response.text.lower() for word in ("select", "sqlite", "table", "traceback"))
    [line] = access_lines()
    assert (line["request_id"], line["status"], line["level"], line["error"]) == (
        "boom-1",
        500,
        "ERROR",
        "OperationalError",
    )


@pytest.mark.parametrize("path", ["/verify/record", "/auth/siwe/nonce"], ids=["raw body", "model body"])
def test_a_client_that_hangs_up_before_its_body_is_sent_is_a_499_not_an_error(
    api: Api, access_lines: Callable[[], list[dict[str, Any]]], path: str
) -> None:
    """A client gone mid-upload (a load generator stopping, a phone losing signal) is nothing the
    service did wrong: one INFO access line with 499, no traceback, nothing done — whether the
    route reads its body itself or FastAPI parses it into a model."""
    app = api.client.app
    sent: list[dict[str, Any]] = []
    parts = iter([{"type": "http.request", "body": b'{"partial": ', "more_body": True}, {"type": "http.disconnect"}])

    async def receive() -> dict[str, Any]:
        return next(parts)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), (b"x-request-id", b"gone-1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    api.client.portal.call(app, scope, receive, send)  # type: ignore[union-attr]
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 499
    [line] = [line for line in access_lines() if line["request_id"] == "gone-1"]
    assert (line["status"], line["level"]) == (499, "INFO") and "error" not in line


def test_metrics_report_events_lag_outbox_gas_denials_and_latency_by_route(api: Api) -> None:
    client = api.client
    before = scrape(client)
    coffee = Journey(api)

    captured = scrape(client)
    assert value(captured, "constellate_events_captured_total") == 10
    assert value(captured, "constellate_events_unanchored", stage="waiting") == 10
    assert value(captured, "constellate_anchoring_lag_seconds") > 0
    assert value(captured, "constellate_metrics_database_up") == 1

    coffee.runtime.relay(flush=True)
    with coffee.runtime.sessions() as session, session.begin():  # rows as a chain outage leaves them
        session.add(OutboxItem(kind="attest", ref="0x" + "11" * 32, status="pending"))
        session.add(OutboxItem(kind="revoke", ref="0x" + "22" * 32, status="failed"))
    anchored = scrape(client)
    assert value(anchored, "constellate_events_unanchored", stage="waiting") == 0
    assert value(anchored, "constellate_events_unanchored", stage="sealed") == 0
    assert value(anchored, "constellate_anchoring_lag_seconds") == 0
    assert value(anchored, "constellate_anchor_batches_pending") == 0
    assert value(anchored, "constellate_anchorer_lease_seconds") > 0
    assert value(anchored, "constellate_outbox_items", kind="attest", status="pending") == 1
    assert value(anchored, "constellate_outbox_items", kind="revoke", status="failed") == 1
    assert value(anchored, "constellate_events_captured_total") == 10
    anchor = {"contract": "ProvenanceAnchor", "function": "anchor"}
    assert value(anchored, "constellate_gas_used_total", **anchor) > value(
        before, "constellate_gas_used_total", **anchor
    )
    assert value(anchored, "constellate_transactions_total", **anchor) > value(
        before, "constellate_transactions_total", **anchor
    )
    assert value(anchored, "constellate_transaction_fees_wei_total", **anchor) > 0

    denied = client.put(
        f"/constellations/coffee/members/{coffee.farm['id']}", json={"roles": ["retailer"]}, headers=coffee.shop_h
    )
    assert denied.status_code == 403, denied.text
    unauthenticated = client.get("/members/me", headers={"Authorization": "Bearer cst_nobody_nothing"})
    assert unauthenticated.status_code == 401
    for lot in ("FARM1-2026", "FARM2-2026"):
        client.get(f"/01/{journey.GREEN}/10/{lot}")
    after = scrape(client)
    assert value(after, "constellate_policy_denials_total") == value(anchored, "constellate_policy_denials_total") + 1
    assert requests_to(after, "/01/{link:path}") >= 2 + requests_to(before, "/01/{link:path}")
    routes = {dict(labels).get("route") for name, labels in after if name.startswith("constellate_http_request")}
    assert not any(route and "FARM" in route for route in routes)  # templates, never raw paths
    assert "/constellations/{slug}/members/{member_id}" in routes
    assert not any("coffee" in str(key) or coffee.farm["id"] in str(key) for key in after)  # aggregates only


@SQLITE_ONLY
def test_metrics_stay_out_of_the_schema_and_can_be_turned_off(api: Api, settings: Settings) -> None:
    assert "/metrics" not in api.client.get("/openapi.json").json()["paths"]
    with TestClient(create_app(settings.model_copy(update={"metrics_enabled": False}))) as client:
        assert client.get("/metrics").status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_workers_logs_json_and_reports_metrics_for_all_of_them(
    base_settings: Settings, tmp_path: Path
) -> None:
    port = _free_port()
    log_path = tmp_path / "serve.log"
    env = {
        **os.environ,
        "CONSTELLATE_DATABASE_URL": f"sqlite:///{tmp_path / 'unmigrated.db'}",  # so one route fails
        "CONSTELLATE_RPC_URL": base_settings.rpc_url,
        "CONSTELLATE_MANIFEST_PATH": str(base_settings.manifest_path),
        "CONSTELLATE_BUILD_DIR": str(base_settings.build_dir),
        "CONSTELLATE_RELAY_INTERVAL_SECONDS": "0",
        "CONSTELLATE_LOG_FORMAT": "json",
        "CONSTELLATE_LOG_LEVEL": "info",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        for number in range(20):  # a connection each: both workers answer some
            httpx.get(base + "/health", headers={"X-Request-ID": f"serve-{number}"})
        failed = httpx.get(base + "/epcis/events", headers={"X-Request-ID": "serve-boom"})
        assert failed.status_code == 500 and failed.headers["X-Request-ID"] == "serve-boom"
        health = {"method": "GET", "route": "/health", "status": "2xx"}
        with httpx.Client(base_url=base) as client:
            counts = [
                value(scrape(client), "constellate_http_request_duration_seconds_count", **health) for _ in range(4)
            ]
        assert min(counts) >= 21, counts  # whichever worker answers counts every worker's requests
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    access = {line["request_id"]: line for line in lines if line["logger"] == "constellate.access"}
    assert {f"serve-{n}" for n in range(20)} <= set(access)
    assert access["serve-3"]["status"] == 200 and access["serve-3"]["path"] == "/health"
    assert access["serve-boom"]["status"] == 500 and access["serve-boom"]["level"] == "ERROR"
    [traceback] = [line for line in lines if line.get("request_id") == "serve-boom" and "exception" in line]
    assert traceback["logger"] == "uvicorn.error" and "OperationalError" in traceback["exception"]
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
