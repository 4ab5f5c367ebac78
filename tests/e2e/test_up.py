"""`scripts/up` as a user runs it: it comes up, seeds the demo constellations, serves /ready =
ok against freshly deployed contracts, a journey page (the public's and a brand's) and the
coordinator view, writes QR codes, stops cleanly on Ctrl-C (SIGINT), and a rerun reuses its
chain, deployment and demo without seeding anything twice."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service import demo
from service.chain.anvil import DEV_PRIVATE_KEY, AnvilProcess, free_port
from service.chain.compiler import Artifact
from service.db.migrate import upgrade
from service.settings import PROJECT_ROOT
from tests.integration.conftest import _postgres_database


@pytest.fixture
def contracts(build_dir: Path, artifacts: dict[str, Artifact]) -> Path:
    """The contracts compiled once per session (up compiles only when they are stale)."""
    return build_dir / "contracts"


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """The `up` processes a test starts: stopped (Ctrl-C, then killed) however the test ends."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def _start(
    tmp_path: Path, port: int, *options: str, contracts: Path, started: list[subprocess.Popen[str]], **env_vars: str
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "CONSTELLATE_DATABASE_URL": f"sqlite:///{tmp_path / 'up.db'}",
        "CONSTELLATE_MANIFEST_PATH": str(tmp_path / "deployment.json"),
        "CONSTELLATE_BUILD_DIR": str(contracts),
        **env_vars,
    }
    process = subprocess.Popen(
        [str(PROJECT_ROOT / "scripts" / "up"), "--port", str(port), "--state-dir", str(tmp_path / "state"), *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    started.append(process)
    return process


def _wait_for_urls(process: subprocess.Popen[str], timeout: float = 240) -> str:
    output = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        output.append(line)
        if "Press Ctrl-C" in line:
            return "".join(output)
    process.kill()
    raise AssertionError("up did not come up:\n" + "".join(output))


def _rpc_port(output: str) -> int:
    line = next(line for line in output.splitlines() if line.strip().startswith("rpc"))
    return int(line.rsplit(":", 1)[1])


def _member_keys(output: str) -> dict[str, str]:
    return dict(re.findall(r"^ {4}(\S.*?\S) +(cst_\S+)$", output, flags=re.MULTILINE))


def _journey_summary(base: str, path: str, key: str | None = None) -> dict[str, object]:
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    response = httpx.get(base + path, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    summary: dict[str, object] = response.json()["summary"]
    return summary


def _check_demo(output: str, port: int, tmp_path: Path) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    match = re.search(r"Demo: 2 constellations, (\d+) members, (\d+) events", output)
    assert match and int(match[1]) >= 8 and int(match[2]) >= 200, output
    keys = _member_keys(output)
    assert len(keys) == int(match[1]), output
    bar = re.search(rf"{base}(/01/\d{{14}}/10/LD70-2602)", output)
    assert bar, output
    page = httpx.get(base + bar[1], timeout=30)
    assert page.status_code == 200 and "Lumen 70 % Dark Chocolate" in page.text
    public = _journey_summary(base, bar[1])
    brand = _journey_summary(base, bar[1], keys["Lumen Chocolate GmbH"])
    assert brand["steps"] > public["steps"] and public["withheldFields"] > brand["withheldFields"], (public, brand)
    assert brand["claims"]["revoked"] >= 1 and brand["anchored"] == brand["steps"], brand  # type: ignore[index]
    routes = {  # the places each reader may see, from the partners' place master data
        reader: [stop["name"] for stop in httpx.get(base + bar[1], headers=headers, timeout=30).json()["route"]]
        for reader, headers in (
            ("public", {"Accept": "application/json"}),
            ("brand", {"Accept": "application/json", "Authorization": f"Bearer {keys['Lumen Chocolate GmbH']}"}),
        )
    }
    assert routes["public"] == ["Lumen Chocolate factory"], routes  # only Lumen tells the public where
    assert routes["brand"][0] == "Ashanti Cocoa Farmers Union, Bekwai depot", routes
    assert "Harbour Line terminal, Port of Hamburg" in routes["brand"], routes  # shared with its customer only
    assert "GreenLeaf Market Sablon" in routes["brand"], routes
    recalled = re.search(rf"{base}(/01/\d{{14}}/10/LD70-2603)", output)
    assert recalled, output
    status = httpx.get(base + recalled[1], headers={"Accept": "application/json"}, timeout=30).json()["status"]
    assert status["state"] == "recalled" and status["by"]["name"] == "Lumen Chocolate GmbH", status
    _check_teasers(output, base)
    coordinator = httpx.get(
        f"{base}/coordinator/cocoa-chocolate", headers={"Authorization": f"Bearer {keys['Lumen Chocolate GmbH']}"}
    )
    assert coordinator.status_code == 200 and "Ashanti Cocoa Farmers Union" in coordinator.text
    recall = re.search(rf"{base}(/recall/\S+)", output)
    assert recall, output
    report = httpx.get(f"{base}{recall[1]}.csv", headers={"Authorization": f"Bearer {keys['Lumen Chocolate GmbH']}"})
    assert report.status_code == 200 and "LD70-2603" in report.text, report.text
    qr_codes = sorted((tmp_path / "state" / "qr").glob("*.png"))
    assert len(qr_codes) == 5 and all(p.read_bytes().startswith(b"\x89PNG") for p in qr_codes)
    if shutil.which("zbarimg"):
        decoded = subprocess.run(["zbarimg", "--raw", "-q", str(qr_codes[0])], capture_output=True, text=True)
        assert decoded.stdout.strip().startswith(f"{base}/01/"), decoded
    return keys


def _check_teasers(output: str, base: str) -> None:
    """Each journey `up` prints says only what its public page shows: its teaser is the one its
    journey document makes, and the facts it names are on the page."""
    printed = dict(re.findall(rf"^ {{4}}{re.escape(base)}(/01/\S+)  (.+)$", output, flags=re.MULTILINE))
    assert set(printed) == set(demo.JOURNEYS), output
    journeys = {
        path: httpx.get(base + path, headers={"Accept": "application/json"}, timeout=30).json() for path in printed
    }
    for path, shown in printed.items():
        assert shown == demo.teaser(demo.JOURNEYS[path], journeys[path]), (path, shown)
    huila = next(j for p, j in journeys.items() if p.endswith("/HUI-2026-02"))
    lapsed = [c for c in huila["claims"] if c["title"] == "Organic (EU)"]
    assert [(c["status"], c["statusDate"]) for c in lapsed] == [("expired", demo.LAPSED_ON)], lapsed
    assert "Rainforest Alliance" not in printed[next(p for p in printed if p.endswith("/HUI-2026-02"))]
    bars = next(j for p, j in journeys.items() if p.endswith("/LD70-2603"))
    assert bars["recall"]["by"]["name"] == "Lumen Chocolate GmbH" and bars["recall"]["items"], bars["recall"]
    assert "recalled by Lumen Chocolate GmbH" in printed[next(p for p in printed if p.endswith("/LD70-2603"))]
    roast = next(j for p, j in journeys.items() if p.endswith("/AR-2603"))
    assert roast["footprint"]["headline"] == "at-least" and roast["footprint"]["coverage"]["inputsCovered"] == 2


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    remaining, _ = process.communicate(timeout=30)
    assert process.returncode == 0, remaining
    return remaining


def test_up_serves_ready_and_stops_on_ctrl_c_then_reruns_idempotently(
    tmp_path: Path, contracts: Path, started: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    first = _start(tmp_path, port, contracts=contracts, started=started)
    output = _wait_for_urls(first)
    assert f"http://127.0.0.1:{port}/docs" in output
    assert "deploying contracts" in output
    keys = _check_demo(output, port, tmp_path)
    ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=10)
    assert ready.status_code == 200 and ready.json()["status"] == "ok", ready.text
    rpc_port = _rpc_port(output)
    assert "stopped" in _stop(first)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", rpc_port)) != 0, "anvil still listening after Ctrl-C"
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "API still listening after Ctrl-C"

    second = _start(tmp_path, port, contracts=contracts, started=started)
    output = _wait_for_urls(second)
    assert "deploying contracts" not in output, "a rerun must reuse the persisted chain and deployment"
    assert httpx.get(f"http://127.0.0.1:{port}/ready", timeout=10).json()["status"] == "ok"
    assert _check_demo(output, port, tmp_path) == keys, "a rerun must keep the seeded members"
    grants = httpx.get(
        f"http://127.0.0.1:{port}/grants", headers={"Authorization": f"Bearer {keys['Harbour Line Logistics']}"}
    ).json()
    assert len(grants) == 2, "a rerun must not seed a grant twice"
    _stop(second)


@pytest.mark.postgres
def test_up_runs_against_an_external_chain_and_postgresql(
    tmp_path: Path, contracts: Path, started: list[subprocess.Popen[str]]
) -> None:
    """--rpc-url and --database-url: no embedded chain; the demo seeds a PostgreSQL database."""
    port = free_port()
    for database_url in _postgres_database():
        with AnvilProcess() as node:
            process = _start(
                tmp_path,
                port,
                "--rpc-url",
                node.rpc_url,
                "--database-url",
                database_url,
                contracts=contracts,
                started=started,
                CONSTELLATE_RELAYER_PRIVATE_KEY=DEV_PRIVATE_KEY,
            )
            output = _wait_for_urls(process)
            assert f"rpc    {node.rpc_url}" in output
            _check_demo(output, port, tmp_path)
            _stop(process)
            with socket.socket() as sock:
                assert sock.connect_ex(("127.0.0.1", node.port)) == 0, "up must leave an external chain running"


def test_up_that_cannot_start_leaves_nothing_running(
    tmp_path: Path, contracts: Path, started: list[subprocess.Popen[str]]
) -> None:
    """A database it cannot reach: one line naming the problem, exit 1, and no Anvil left behind."""
    process = _start(
        tmp_path,
        free_port(),
        "--database-url",
        f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/nothing",
        contracts=contracts,
        started=started,
    )
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 1 and "error: OperationalError" in output, output
    state = str(tmp_path / "state")
    leftovers = subprocess.run(["pgrep", "-f", state], capture_output=True, text=True).stdout.split()
    assert leftovers == [], f"still running after a failed start: {leftovers}"


# --- What an instance owns, and what it leaves behind -------------------------------------------


def _start_instance(
    state: Path, port: int, *options: str, contracts: Path, started: list[subprocess.Popen[str]]
) -> subprocess.Popen[str]:
    """`up` as a user runs it for a second instance: only --state-dir (and --port) told apart."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONSTELLATE_")}
    env["CONSTELLATE_BUILD_DIR"] = str(contracts)
    process = subprocess.Popen(
        [str(PROJECT_ROOT / "scripts" / "up"), "--port", str(port), "--state-dir", str(state), "--no-demo", *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    started.append(process)
    return process


def _admin(output: str) -> dict[str, str]:
    match = re.search(r"admin API key: (\S+)", output)
    assert match, output
    return {"Authorization": f"Bearer {match[1]}"}


def _holds_member(port: int, admin: dict[str, str], member_id: str) -> bool:
    response = httpx.get(f"http://127.0.0.1:{port}/members/{member_id}", headers=admin, timeout=30)
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


def _gone(pattern: str, *, timeout: float = 30) -> bool:
    """Whether, within `timeout`, no process's command line holds `pattern` any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True).returncode == 1:
            return True
        time.sleep(0.1)
    return False


def test_up_killed_hard_leaves_no_anvil_running(
    tmp_path: Path, contracts: Path, started: list[subprocess.Popen[str]]
) -> None:
    """The API runs inside `up`: when it dies (a segfault, SIGKILL — no handler runs), the
    Anvil it started stops too instead of holding its port and state forever."""
    process = _start_instance(tmp_path / "state", free_port(), contracts=contracts, started=started)
    rpc_port = _rpc_port(_wait_for_urls(process))
    anvil = f"--port {rpc_port} "
    assert not _gone(anvil, timeout=0.5), "anvil should be running under up"
    process.kill()
    process.wait(timeout=30)
    assert _gone(anvil), "anvil outlived the up that started it"
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", rpc_port)) != 0, "anvil still listening after up died"


def test_a_second_instance_keeps_to_its_own_state_folder_and_never_shares_one(
    tmp_path: Path, contracts: Path, started: list[subprocess.Popen[str]]
) -> None:
    """`up --state-dir B` beside a running `up --state-dir A` deployed a fresh chain and deleted
    A's database (both lived in the checkout). Each keeps its database and manifest in its own
    folder; an `up` that would share a folder or a database with a running one is refused,
    naming it; and A, restarted, finds its records."""
    first_port, second_port = free_port(), free_port()
    first = _start_instance(tmp_path / "a", first_port, contracts=contracts, started=started)
    admin_a = _admin(_wait_for_urls(first))
    created = httpx.post(f"http://127.0.0.1:{first_port}/members", json={"name": "Kept Farm"}, headers=admin_a)
    assert created.status_code == 201, created.text
    kept = created.json()["member"]["id"]
    owned = {"constellate.db", "deployment.json", "secrets.json", "database-chain.json"}
    assert {p.name for p in (tmp_path / "a").iterdir()} >= owned

    same_folder = _start_instance(tmp_path / "a", free_port(), contracts=contracts, started=started)
    refused, _ = same_folder.communicate(timeout=120)
    assert same_folder.returncode == 1, refused
    assert f"state folder {tmp_path / 'a'} is in use by another `constellate up` (pid {first.pid}" in refused
    shared_database = _start_instance(
        tmp_path / "c",
        free_port(),
        "--database-url",
        f"sqlite:///{tmp_path / 'a' / 'constellate.db'}",
        contracts=contracts,
        started=started,
    )
    refused, _ = shared_database.communicate(timeout=120)
    assert shared_database.returncode == 1 and f"(pid {first.pid}, state folder {tmp_path / 'a'}" in refused
    assert "database" in refused

    second = _start_instance(tmp_path / "b", second_port, contracts=contracts, started=started)
    output = _wait_for_urls(second)
    assert "deploying contracts" in output  # a chain of its own
    assert not _holds_member(second_port, _admin(output), kept)
    assert _holds_member(first_port, admin_a, kept)

    _stop(first)
    again = _start_instance(tmp_path / "a", first_port, contracts=contracts, started=started)
    output = _wait_for_urls(again)
    assert "deploying contracts" not in output, "A's chain and manifest must still be A's"
    assert _holds_member(first_port, admin_a, kept)
    _stop(again)
    _stop(second)


def test_up_deletes_only_a_database_it_recorded_making_in_its_state_folder(
    tmp_path: Path, contracts: Path, started: list[subprocess.Popen[str]]
) -> None:
    """`up --state-dir build` in the checkout deleted build/constellate.db, the default database of
    `constellate serve`, on its fresh chain: any constellate.db in the folder was taken for its
    own. Only a database `up` recorded making there (database-chain.json) is deleted; any other is
    refused, named and left as it was, and so is a folder holding a manifest `up` did not make."""
    build = tmp_path / "build"
    served = build / "constellate.db"
    build.mkdir()
    upgrade(f"sqlite:///{served}")  # what `constellate serve` leaves in build/
    before = served.read_bytes()
    process = _start_instance(build, free_port(), contracts=contracts, started=started)
    refused, _ = process.communicate(timeout=240)
    assert process.returncode == 1, refused
    assert f"the database {served} holds records of another chain" in refused and "does not delete it" in refused
    assert served.read_bytes() == before

    deployed = tmp_path / "deployed"
    deployed.mkdir()
    (deployed / "deployment.json").write_text("{}")  # what `constellate deploy` leaves in build/
    process = _start_instance(deployed, free_port(), contracts=contracts, started=started)
    refused, _ = process.communicate(timeout=240)
    assert process.returncode == 1, refused
    assert f"{deployed / 'deployment.json'} was not made by `up`" in refused
    assert (deployed / "deployment.json").read_text() == "{}"
