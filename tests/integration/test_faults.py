"""Faults on a real Anvil and a real database: the chain killed while it anchors, the service
killed mid-capture, PostgreSQL restarted under traffic, a chain reorganisation. Each run ends
where a run without the fault would: every event anchored exactly once and verified, nothing
half-written, nothing marked as on chain that the chain does not hold. Every fault is bounded in
count and time."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from web3 import Web3

from service.api import create_app
from service.chain.anvil import AnvilProcess, free_port
from service.chain.compiler import Artifact
from service.chain.deployment import Chain, DeploymentManifest, deploy_contracts, new_sender
from service.chain.indexer import NOT_ON_CHAIN, Reopened
from service.chain.rpc import connect
from service.db.migrate import upgrade
from service.db.models import AnchorBatch, EpcisEvent
from service.domain.keys import generate_key_encryption_key
from service.runtime import Runtime
from service.settings import PROJECT_ROOT, Settings

from . import journey
from .conftest import ADMIN_KEY, REQUIRE_POSTGRES, Api
from .test_chain_outage import outage_settings, wait_for

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
JSON = {"Content-Type": "application/json"}


def _lots(tag: str, count: int) -> bytes:
    """An EPCIS document commissioning `count` new lots at a farm (a supplier's step)."""
    events = [
        {
            "type": "ObjectEvent",
            "eventTime": "2026-03-01T08:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "quantityList": [{"epcClass": journey.lot(journey.GREEN, f"{tag}-{n}"), "quantity": 60, "uom": "KGM"}],
            "bizLocation": {"id": journey.FARM_1},
        }
        for n in range(count)
    ]
    return json.dumps(journey.document(events)).encode()


def _capture_headers(member: dict[str, str], slug: str = "coffee") -> dict[str, str]:
    return {**member, **JSON, "Constellate-Constellation": slug}


def _event_ids(client: TestClient | httpx.Client, headers: dict[str, str]) -> list[str]:
    """Every event the member sees, page by page."""
    found: list[str] = []
    url: str | None = "/epcis/events?perPage=1000"
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        found += [event["eventID"] for event in body]
        following = response.links.get("next", {}).get("url")
        url = str(httpx.URL(following).raw_path.decode()) if following else None
    return found


def _verdicts(client: TestClient, headers: dict[str, str], event_ids: list[str]) -> list[str]:
    return [client.get(f"/verify/events/{quote(e, safe='')}", headers=headers).json()["status"] for e in event_ids]


def _roots_on_chain(w3: Web3, manifest: DeploymentManifest, artifacts: dict[str, Artifact]) -> Counter[str]:
    """How often each root was anchored on the chain as it now stands."""
    anchor = w3.eth.contract(
        address=Web3.to_checksum_address(manifest.contracts["ProvenanceAnchor"].address),
        abi=artifacts["ProvenanceAnchor"].abi,
    )
    return Counter("0x" + bytes(log["args"]["root"]).hex() for log in anchor.events.RootAnchored.get_logs(from_block=0))


def _on_canonical_chain(w3: Web3, tx_hash: str | None, block_number: int | None) -> bool:
    """The transaction is mined in that block of the chain as it now stands."""
    if tx_hash is None or block_number is None:
        return False
    receipt = w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    return bool(receipt["blockNumber"] == block_number and receipt["status"] == 1)


def _onboard(client: TestClient | httpx.Client, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    response = client.post("/members", json={"name": name}, headers=ADMIN)
    assert response.status_code == 201, response.text
    body = response.json()
    return body["member"], {"Authorization": f"Bearer {body['api_key']['token']}"}


def _coffee(client: TestClient | httpx.Client) -> dict[str, str]:
    """A brand coordinating "coffee" with a farm as its supplier: the farm's headers."""
    _, brand = _onboard(client, "Roaster Brand")
    farm, farm_h = _onboard(client, "Farms Cooperative")
    assert client.post("/constellations", json={"slug": "coffee", "name": "Coffee"}, headers=brand).status_code == 201
    joined = client.put(f"/constellations/coffee/members/{farm['id']}", json={"roles": ["supplier"]}, headers=brand)
    assert joined.status_code == 200, joined.text
    return farm_h


# --- 1. Anvil killed (SIGKILL) while the relayer anchors, three times -------------------------


def test_events_are_anchored_exactly_once_across_repeated_chain_crashes(
    tmp_path: Path,
    build_dir: Path,
    artifacts: dict[str, Artifact],
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Anvil keeps its state only on a clean stop, so each SIGKILL also drops every block mined
    since: anchorings the service had recorded vanish (a reorganisation) and must be redone."""
    node = AnvilProcess(state_path=tmp_path / "anvil-state.json").start()
    try:
        settings = outage_settings(node, tmp_path, build_dir, database_url).model_copy(
            update={
                "anchor_batch_max_leaves": 4,
                "anchor_batch_max_age_seconds": 0,
                "relay_interval_seconds": 0.2,
                "tx_timeout_seconds": 2,
            }
        )
        manifest = deploy_contracts(new_sender(connect(node.rpc_url), settings, artifacts), artifacts)
        manifest.save(settings.manifest_path)
        with TestClient(create_app(settings)) as client:
            farm_h = _coffee(client)
            node.stop()  # a clean stop: the deployment and the constellation are kept from here on
            node.start()
            runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]

            def anchored_batches() -> int:
                with runtime.sessions() as session:
                    return int(session.scalar(select(func.count()).where(AnchorBatch.status == "anchored")) or 0)

            for crash in range(3):
                before = anchored_batches()
                captured = client.post(
                    "/epcis/capture", content=_lots(f"K{crash}", 6), headers=_capture_headers(farm_h)
                )
                assert captured.status_code == 202, captured.text
                wait_for(lambda b=before: anchored_batches() > b, timeout=30, what="the relayer to anchor a batch")
                node.kill()  # mid-anchoring: the rest of the document is still being sent
                during = client.post("/epcis/capture", content=_lots(f"D{crash}", 3), headers=_capture_headers(farm_h))
                assert during.status_code == 202, during.text
                time.sleep(0.3)
                node.start()

            events = _event_ids(client, farm_h)
            assert len(events) == 3 * (6 + 3)

            def settled() -> bool:
                with runtime.sessions() as session:
                    waiting = session.scalar(
                        select(func.count())
                        .select_from(EpcisEvent)
                        .outerjoin(AnchorBatch, AnchorBatch.id == EpcisEvent.batch_id)
                        .where((EpcisEvent.batch_id.is_(None)) | (AnchorBatch.status != "anchored"))
                    )
                return waiting == 0

            wait_for(settled, timeout=60, what="every event to be anchored after the crashes")
            assert set(_verdicts(client, farm_h, events)) == {"verified"}
            with runtime.sessions() as session:
                batches = session.execute(
                    select(AnchorBatch.root, AnchorBatch.tx_hash, AnchorBatch.block_number).where(
                        AnchorBatch.status == "anchored"
                    )
                ).all()
                roots_of_events = set(
                    session.scalars(
                        select(AnchorBatch.root).join(EpcisEvent, EpcisEvent.batch_id == AnchorBatch.id).distinct()
                    )
                )
        reopened = [r.args[0] for r in caplog.records if isinstance(r.args, tuple) and isinstance(r.args[0], Reopened)]
        assert sum(r.batches for r in reopened) >= 3  # each crash took an anchoring the service had recorded
        w3 = connect(node.rpc_url)
        on_chain = _roots_on_chain(w3, manifest, artifacts)
        assert set(on_chain.values()) == {1}, on_chain  # no root anchored twice
        assert roots_of_events == {root for root, _, _ in batches} <= set(on_chain)
        assert all(_on_canonical_chain(w3, tx, block) for _, tx, block in batches)
    finally:
        node.stop()


# --- 2. The service killed (SIGKILL) mid-capture ------------------------------------------------


@dataclass
class Service:
    """`constellate serve` as a process of its own, on 127.0.0.1 and a free port."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    url: str = ""

    def start(self, *, timeout: float = 60) -> Service:
        port = free_port()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its worker processes (the hashing pool) die with it
            )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert self.process.poll() is None and time.monotonic() < deadline, self.log_path.read_text()[-3000:]
            time.sleep(0.1)

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        """Signals the process group (SIGKILL: as a crash would) and waits for it to end."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, how)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def client(self, timeout: float = 30) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)


@pytest.fixture
def service_env(base_settings: Settings, chain: Chain) -> dict[str, str]:
    """The environment of a served process on the session's chain (reverted after the test);
    the test names the database."""
    env = {
        **os.environ,
        "CONSTELLATE_RPC_URL": base_settings.rpc_url,
        "CONSTELLATE_MANIFEST_PATH": str(base_settings.manifest_path),
        "CONSTELLATE_BUILD_DIR": str(base_settings.build_dir),
        "CONSTELLATE_RELAYER_PRIVATE_KEY": base_settings.relayer_private_key.get_secret_value(),  # type: ignore[union-attr]
        "CONSTELLATE_ADMIN_API_KEY": ADMIN_KEY,
        "CONSTELLATE_KEY_ENCRYPTION_KEY": generate_key_encryption_key(),
        "CONSTELLATE_RELAY_INTERVAL_SECONDS": "0",
        "CONSTELLATE_LOG_LEVEL": "warning",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


class CaptureWatch:
    """Tells, from beside the service, whether a capture is writing its events in a transaction
    not yet committed: SQLite's write lock is held, or PostgreSQL runs (or holds open) the insert."""

    def __init__(self, database_url: str) -> None:
        self.sqlite = make_url(database_url).database if database_url.startswith("sqlite") else None
        self.engine = None if self.sqlite else create_engine(database_url)

    def writing(self) -> bool:
        if self.sqlite is not None:
            probe = sqlite3.connect(self.sqlite, timeout=0)
            try:
                probe.execute("BEGIN IMMEDIATE")  # refused while another connection holds the write lock
                probe.rollback()
                return False
            except sqlite3.OperationalError:
                return True
            finally:
                probe.close()
        assert self.engine is not None
        with self.engine.connect() as connection:
            return bool(
                connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                        " AND query ~ '^INSERT INTO (capture_jobs|epcis_events|event_identifiers)'"
                    )
                )
            )

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def _stored_events(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(EpcisEvent)) or 0)
    finally:
        engine.dispose()


def test_a_capture_killed_mid_write_leaves_nothing_and_a_retry_stores_it_whole(
    service_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    size = 1000
    document = _lots("BIG", size)
    env = {**service_env, "CONSTELLATE_DATABASE_URL": database_url}
    service = Service(env, tmp_path / "serve.log").start()
    try:
        with service.client() as client:
            farm_h = _coffee(client)
        outcome: dict[str, Any] = {}

        def post() -> None:
            try:
                with service.client(timeout=60) as client:
                    outcome["response"] = client.post(
                        "/epcis/capture", content=document, headers=_capture_headers(farm_h)
                    )
            except httpx.TransportError as exc:
                outcome["error"] = exc

        watch = CaptureWatch(database_url)
        request = threading.Thread(target=post)
        request.start()
        deadline = time.monotonic() + 60
        while not watch.writing():
            assert request.is_alive() and time.monotonic() < deadline, (
                f"the capture ended before it was caught: {outcome}"
            )
            time.sleep(0.005)
        service.stop(signal.SIGKILL)
        watch.close()
        request.join(timeout=30)
        assert "error" in outcome, f"the capture was answered before the kill: {outcome}"

        service.start()
        with service.client() as client:
            assert _event_ids(client, farm_h) == []
            assert client.get("/epcis/capture", headers=farm_h).json() == []  # no half-written job either
            assert _stored_events(database_url) == 0

            retried = client.post("/epcis/capture", content=document, headers=_capture_headers(farm_h))
            assert retried.status_code == 202, retried.text
            assert (retried.json()["eventCount"], retried.json()["duplicates"]) == (size, 0)
            again = client.post("/epcis/capture", content=document, headers=_capture_headers(farm_h))
            assert again.status_code == 202, again.text
            assert (again.json()["eventCount"], again.json()["duplicates"]) == (size, size)
            assert _stored_events(database_url) == size
            shown = client.get("/epcis/events?perPage=5", headers=farm_h).json()
            assert len(shown["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 5
            jobs = client.get("/epcis/capture", headers=farm_h).json()
            assert [job["duplicates"] for job in jobs] == [size, 0] and not any(job["running"] for job in jobs)
    finally:
        service.stop()


# --- 3. PostgreSQL restarted under traffic ------------------------------------------------------


class ScratchPostgres:
    """A PostgreSQL server of this test's own (scripts/pg-scratch), stopped and started with pg_ctl."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        made = subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "pg-scratch"), "start", str(folder)], capture_output=True, text=True
        )
        if made.returncode != 0:
            if REQUIRE_POSTGRES:
                pytest.fail(f"pg-scratch could not start a server: {made.stderr}")
            pytest.skip(f"no PostgreSQL server binaries: {made.stderr.strip()}")
        self.url = made.stdout.strip()
        self.port = make_url(self.url).port

    def _pg_ctl(self, *args: str) -> None:
        pg_ctl = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
        owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*owner, str(pg_ctl), "-D", str(self.folder / "data"), "-w", "-t", "30", *args], check=True)

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c max_connections=200"
        self._pg_ctl("start", "-l", str(self.folder / "server.log"), "-o", options)

    def remove(self) -> None:
        subprocess.run([str(PROJECT_ROOT / "scripts" / "pg-scratch"), "stop", str(self.folder)], check=False)


@pytest.fixture
def scratch_postgres(tmp_path: Path) -> Iterator[ScratchPostgres]:
    if shutil.which("runuser") is None and os.geteuid() == 0:
        pytest.skip("runuser is needed to run PostgreSQL as root")
    server = ScratchPostgres(Path(f"/tmp/constellate-faults-{os.getpid()}-{tmp_path.name}"))
    try:
        yield server
    finally:
        server.remove()


@dataclass
class Answer:
    started: float
    ended: float
    kind: str
    status: int | None
    body: Any


@pytest.mark.postgres
def test_postgresql_restarted_under_traffic_answers_503_then_recovers(
    scratch_postgres: ScratchPostgres,
    service_env: dict[str, str],
    tmp_path: Path,
) -> None:
    upgrade(scratch_postgres.url)
    env = {**service_env, "CONSTELLATE_DATABASE_URL": scratch_postgres.url, "CONSTELLATE_RELAY_INTERVAL_SECONDS": "0.3"}
    env["CONSTELLATE_ANCHOR_BATCH_MAX_AGE_SECONDS"] = "0"
    service = Service(env, tmp_path / "serve.log").start()
    answers: list[Answer] = []
    stop = threading.Event()

    def traffic(worker: int) -> None:
        """Reads and writes in turn until told to stop; every answer (or failure) is recorded."""
        with service.client(timeout=5) as client:
            n = 0
            while not stop.is_set():
                n += 1
                kind = "write" if n % 2 else "read"
                started = time.monotonic()
                try:
                    if kind == "write":
                        document = _lots(f"W{worker}-{n}", 2)
                        response = client.post("/epcis/capture", content=document, headers=_capture_headers(farm_h))
                    else:
                        response = client.get("/epcis/events?perPage=5", headers=farm_h)
                    body = response.json() if "json" in response.headers.get("content-type", "") else None
                    answers.append(Answer(started, time.monotonic(), kind, response.status_code, body))
                except httpx.HTTPError as exc:  # a hang (timeout) or a dropped connection: both failures
                    answers.append(Answer(started, time.monotonic(), kind, None, repr(exc)))
                time.sleep(0.02)

    try:
        with service.client() as client:
            farm_h = _coffee(client)
            workers = [threading.Thread(target=traffic, args=(w,)) for w in range(3)]
            for worker in workers:
                worker.start()
            time.sleep(1.0)
            scratch_postgres.stop()
            down_from = time.monotonic()
            time.sleep(1.5)
            ready = client.get("/ready")
            down_until = time.monotonic()
            scratch_postgres.start()
            up_from = time.monotonic()
            time.sleep(1.5)
            stop.set()
            for worker in workers:
                worker.join(timeout=30)

            assert ready.status_code == 503
            database = next(check for check in ready.json()["checks"] if check["name"] == "database")
            assert database["ok"] is False and "unreachable" in database["detail"]
            assert [a for a in answers if a.status is None or a.status not in (200, 202, 503)] == []
            during = [a for a in answers if a.started >= down_from and a.ended <= down_until]
            after = [a for a in answers if a.started >= up_from]
            assert {a.kind for a in during} == {"read", "write"} and {a.kind for a in after} == {"read", "write"}
            assert {(a.status, a.body["error"]) for a in during} == {(503, "DatabaseUnavailable")}
            assert all("database is unavailable" in a.body["detail"] for a in during)
            assert {a.status for a in after} <= {200, 202}, [a for a in after if a.status not in (200, 202)]

            # Every acknowledged write is there, whole, and the relayer outlived the outage: it anchors them.
            written = sum(2 for a in answers if a.kind == "write" and a.status == 202)
            events = _event_ids(client, farm_h)
            assert len(events) == written

            def anchored() -> bool:
                verdicts = [
                    client.get(f"/verify/events/{quote(e, safe='')}", headers=farm_h).json()["status"]
                    for e in events[-2:]
                ]
                return verdicts == ["verified", "verified"]

            wait_for(anchored, timeout=30, what="the relayer to anchor what was captured after the restart")
    finally:
        stop.set()
        service.stop()


# --- 4. A chain reorganisation -----------------------------------------------------------------


def test_a_reorganisation_reopens_what_was_anchored_in_dropped_blocks(
    api: Api, chain: Chain, manifest: DeploymentManifest, artifacts: dict[str, Artifact]
) -> None:
    runtime: Runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    client, w3 = api.client, chain.w3
    farm_h = _coffee(client)
    kept = api.grant(farm_h, "coffee", ["what"])  # anchored before the fork, revoked after it
    runtime.sync_index()
    fork = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]

    captured = client.post("/epcis/capture", content=_lots("R", 3), headers=_capture_headers(farm_h))
    assert captured.status_code == 202, captured.text
    runtime.relay(flush=True)
    attested = client.post(
        "/attestations",
        json={
            "constellation": "coffee",
            "schema": "origin",
            "subject": {"kind": "item", "gtin": journey.GREEN, "lot": "R-0"},
            "body": {"country": "CO"},
        },
        headers=farm_h,
    )
    assert attested.status_code == 201 and attested.json()["status"] == "valid", attested.text
    uid = attested.json()["uid"]
    assert client.post(f"/attestations/{uid}/revoke", json={}, headers=farm_h).json()["status"] == "revoked"
    dropped_grant = api.grant(farm_h, "coffee", ["why"])
    assert client.post(f"/grants/{kept['id']}/revoke", json={}, headers=farm_h).status_code == 200
    runtime.sync_index()  # the mirror holds all of it, in blocks about to be dropped
    events = _event_ids(client, farm_h)
    assert set(_verdicts(client, farm_h, events)) == {"verified"}
    with runtime.sessions() as session:
        [(root, dropped_block)] = session.execute(select(AnchorBatch.root, AnchorBatch.block_number)).all()

    w3.provider.make_request("evm_revert", [fork])  # type: ignore[arg-type]
    w3.provider.make_request("anvil_mine", [1])  # type: ignore[arg-type]  # a new block where the old ones were
    assert runtime.relay() is not None  # the indexer rewinds, the service reopens, the relayer sends again

    assert set(_verdicts(client, farm_h, events)) == {"verified"}
    assert _roots_on_chain(w3, manifest, artifacts) == Counter({root: 1})
    with runtime.sessions() as session:
        batch = session.scalars(select(AnchorBatch)).one()
        assert (batch.root, batch.status) == (root, "anchored") and _on_canonical_chain(
            w3, batch.tx_hash, batch.block_number
        )
    assert w3.eth.get_block(dropped_block)["hash"] is not None  # the number exists again, in another block

    attestation = client.get(f"/attestations/{uid}", headers=farm_h).json()
    assert attestation["status"] == "revoked"
    assert _on_canonical_chain(w3, attestation["proof"]["tx_hash"], attestation["proof"]["block_number"])
    record = chain.attestations.get_attestation(bytes.fromhex(uid[2:]))
    assert record.issued_at and record.revoked_at

    # A grant cannot be sent again (its owner's signature is not kept): void, never in force unanchored.
    voided = client.get(f"/grants/{dropped_grant['id']}", headers=farm_h).json()
    assert voided["tx_hash"] == NOT_ON_CHAIN and voided["revoked_at"]
    assert not chain.sharing.is_active(bytes.fromhex(dropped_grant["id"][2:]))
    # A revocation the chain dropped stays in force here, and the owner can put it on chain again.
    unrecorded = client.get(f"/grants/{kept['id']}", headers=farm_h).json()
    assert unrecorded["revoked_at"] and unrecorded["revoke_tx_hash"] is None
    assert chain.sharing.is_active(bytes.fromhex(kept["id"][2:]))
    again = client.post(f"/grants/{kept['id']}/revoke", json={}, headers=farm_h)
    assert again.status_code == 200 and again.json()["revoke_tx_hash"], again.text
    assert not chain.sharing.is_active(bytes.fromhex(kept["id"][2:]))
    assert client.post(f"/grants/{kept['id']}/revoke", json={}, headers=farm_h).status_code == 409
