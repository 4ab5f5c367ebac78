"""The `constellate` commands that talk to a running API, run in-process (CliRunner) against a
real server on 127.0.0.1 (uvicorn in a thread), a real Anvil and both databases: one coffee
scenario from onboarding to exports, each command asserted as a user would read it."""

from __future__ import annotations

import csv
import io
import json
import shlex
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from service.chain.deployment import Chain
from service.cli import app
from service.client import Client
from service.domain.keys import generate_key_encryption_key
from service.domain.policy import EVENT_CATEGORIES
from service.epcis.validation import validate_document
from service.settings import Settings
from service.stack import ApiServer

from ..unit.test_credentials import PCF_BODY, pact_problems
from . import journey
from .conftest import ADMIN_KEY

ROASTERY_CSV = Path(__file__).resolve().parent.parent / "fixtures" / "csv" / "roastery.csv"
CSV_HEADER = "eventTime,action,bizStep,disposition,epcList,bizLocation\n"
SSCC, SHOP = journey.SSCC, journey.SHOP


@pytest.fixture
def api_url(settings: Settings, chain: Chain) -> Iterator[str]:
    """The API on a free port of 127.0.0.1, configured as the `api` fixture's app (and a small
    capture limit, which the command line's batches must adapt to)."""
    configured = settings.model_copy(
        update={
            "admin_api_key": SecretStr(ADMIN_KEY),
            "key_encryption_key": SecretStr(generate_key_encryption_key()),
            "relay_interval_seconds": 0,
            "capture_max_events": 20,
            "host": "127.0.0.1",
            "port": 0,
        }
    )
    server = ApiServer(configured)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


class Cli:
    """`constellate …` typed by one member: the API's URL and that member's key in the environment."""

    def __init__(self, api_url: str) -> None:
        self.runner = CliRunner()
        self.api_url = api_url

    def __call__(self, key: str, command: str, code: int = 0) -> Any:
        env = {"CONSTELLATE_API_URL": self.api_url, "CONSTELLATE_API_KEY": key}
        result = self.runner.invoke(app, shlex.split(command), env=env)
        assert result.exit_code == code, f"{command}: exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
        return result

    def json(self, key: str, command: str) -> Any:
        return json.loads(self(key, command + " --json").stdout)


def _events(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


def _bulk_csv(path: Path, rows: int) -> Path:
    lines = [
        f"2026-06-{1 + n // 24:02d}T{n % 24:02d}:00:00Z,OBSERVE,inspecting,active,"
        f"https://id.gs1.org/01/{journey.ROASTED}/21/BAG{n:04d},{journey.ROASTERY}\n"
        for n in range(rows)
    ]
    path.write_text(CSV_HEADER + "".join(lines))
    return path


def test_a_coffee_chain_through_the_command_line(
    api_url: str, chain: Chain, settings: Settings, tmp_path: Path
) -> None:
    cli = Cli(api_url)

    # members and keys
    brand = cli.json(ADMIN_KEY, "members create 'Roaster Brand' --website https://brand.example")
    producer = cli.json(ADMIN_KEY, "members create Producer")
    shop = cli.json(ADMIN_KEY, "members create 'Coffee Shop'")
    brand_key, producer_key, shop_key = brand["api_key"], producer["api_key"], shop["api_key"]
    shown = cli(producer_key, "members show")
    assert "Producer" in shown.stdout and producer["member"]["id"] in shown.stdout and producer_key not in shown.stdout
    created = cli.json(producer_key, "members keys create --scope read --label auditor")
    assert created["scopes"] == ["read"] and created["token"].startswith("cst_")
    listed = cli(producer_key, "members keys list")
    assert "auditor" in listed.stdout and created["token"] not in listed.stdout
    assert "revoked API key" in cli(producer_key, f"members keys revoke {created['id']}").stdout

    # the constellation and its roles
    assert "tx" in cli(brand_key, "constellations create coffee Coffee").stdout
    producer_id, shop_id = producer["member"]["id"], shop["member"]["id"]
    cli(brand_key, f"constellations roles coffee {producer_id} supplier manufacturer logistics")
    cli(brand_key, f"constellations roles coffee {shop_id} retailer")
    assert "--remove" in cli(brand_key, f"constellations roles coffee {shop_id}", code=2).stderr
    roles = {m["member"]["name"]: m["roles"] for m in cli.json(brand_key, "constellations show coffee")["members"]}
    assert roles["Coffee Shop"] == ["retailer"] and "manufacturer" in roles["Producer"]
    assert "coordinator" in cli(brand_key, "constellations list").stdout
    everything = ",".join([*EVENT_CATEGORIES, "attestations"])
    default = f"--categories {everything} --audience constellation --purpose 'open books' --default"
    cli(brand_key, f"grants create -c coffee {default}")

    # capture: a JSON document, then CSV files in batches with a progress bar; a rerun is idempotent
    origins = tmp_path / "origins.json"
    origins.write_text(json.dumps(journey.document(journey.origin_events())))
    assert "captured 4 new events" in cli(producer_key, f"capture {origins} -c coffee").stdout
    files = f"{ROASTERY_CSV} {_bulk_csv(tmp_path / 'bulk.csv', 30)}"
    first = cli(producer_key, f"capture {files} -c coffee --batch-size 50")
    assert "captured 35 new events, 0 duplicates, in 3 batches" in first.stdout
    assert "capturing" in first.stderr and "35/35" in first.stderr
    assert "refused 30 events at once; sending 15" in first.stderr  # over the service's 20
    again = cli.json(producer_key, f"capture {files} -c coffee --batch-size 8")
    assert (again["captured"], again["duplicates"], again["batches"]) == (0, 35, 5)

    # a bad row: exit 2 naming it, nothing sent
    broken = tmp_path / "broken.csv"
    lines = (tmp_path / "bulk.csv").read_text().splitlines(keepends=True)
    broken.write_text("".join(lines[:3]) + lines[3].replace("active", "actve") + "".join(lines[4:]))
    refused = cli(producer_key, f"capture {broken} -c coffee", code=2)
    assert "row 4, column disposition" in refused.stderr and "nothing was sent" in refused.stderr

    # the service refuses a later batch: the earlier one stays stored, a fixed rerun is safe
    shop_csv = tmp_path / "shop.csv"
    received = f"2026-05-14T08:00:00Z,OBSERVE,receiving,sellable_not_accessible,{SSCC},{SHOP}\n"
    stored = f"2026-05-15T08:00:00Z,OBSERVE,storing,sellable_not_accessible,{SSCC},{SHOP}\n"
    made = f"2026-05-16T08:00:00Z,ADD,commissioning,active,{SSCC},{SHOP}\n"
    shop_csv.write_text(CSV_HEADER + received + stored + made)
    failed = cli(shop_key, f"capture {shop_csv} -c coffee --batch-size 2", code=1)
    assert "shop.csv row 4 was refused" in failed.stderr and "403" in failed.stderr
    assert "shop.csv rows 2-3" in failed.stderr and "2 new events" in failed.stderr
    shop_csv.write_text(CSV_HEADER + received + stored)
    fixed = cli.json(shop_key, f"capture {shop_csv} -c coffee")
    assert (fixed["captured"], fixed["duplicates"]) == (0, 2)

    # attestations
    lot_1 = f"gtin={journey.GREEN},lot=FARM1-2026"
    origin = cli.json(
        producer_key, f"""attest -c coffee --schema origin --subject {lot_1} --body '{{"country": "CO"}}'"""
    )
    assert origin["status"] == "valid"
    found = cli.json(brand_key, f"attestations list --gtin {journey.GREEN} --lot FARM1-2026")
    assert [a["uid"] for a in found] == [origin["uid"]]
    assert '"country": "CO"' in cli(brand_key, f"attestations show {origin['uid']}").stdout
    assert "revoked" in cli(producer_key, f"attestations revoke {origin['uid']}").stdout

    # grants: create, list, revoke
    public = "--categories what --audience public --purpose consumers --until 2030-01-01"
    grant = cli.json(producer_key, f"grants create -c coffee {public}")
    assert grant["audience"] == {"kind": "public", "value": None} and grant["valid_until"].startswith("2030-01-01")
    assert grant["id"] in cli(producer_key, "grants list").stdout
    cli(producer_key, f"grants revoke {grant['id']}")
    assert next(g for g in cli.json(producer_key, "grants list") if g["id"] == grant["id"])["revoked_at"]

    # traces and the recall report
    upstream = cli(brand_key, f"trace upstream {journey.ROAST_LOT}")
    assert "made from" in upstream.stdout and journey.LOT_1 in upstream.stdout and journey.LOT_2 in upstream.stdout
    assert set(cli.json(brand_key, f"trace upstream {journey.ROAST_LOT}")["origins"]) == {journey.LOT_1, journey.LOT_2}
    downstream = cli.json(brand_key, f"trace downstream {journey.LOT_1}")
    assert {journey.ROAST_LOT, SSCC} <= {a["id"] for a in downstream["affected"]}
    assert "affected" in cli(brand_key, f"trace downstream {journey.LOT_1}").stdout
    custody = cli.json(brand_key, f"trace custody {SSCC}")
    assert [s["bizStep"] for s in custody["steps"]][-3:] == ["shipping", "receiving", "storing"]
    report = tmp_path / "recall.csv"
    cli(brand_key, f"recall {journey.GREEN} FARM1-2026 --csv {report}")
    assert {journey.ROAST_LOT, SSCC} <= {row["id"] for row in csv.DictReader(io.StringIO(report.read_text()))}
    assert "R-0042" in cli(brand_key, f"recall {journey.GREEN} FARM1-2026").stdout

    # export: one EPCISQueryDocument across pages
    exported = tmp_path / "events.json"
    paged = cli(brand_key, f"export events --param perPage=10 -o {exported}")
    document = json.loads(exported.read_text())
    validate_document(document)
    assert document["type"] == "EPCISQueryDocument" and len(_events(document)) == 4 + 35 + 2
    assert "41 events from 5 pages" in paged.stderr
    assert len(_events(json.loads(cli(brand_key, "export events -p EQ_bizStep=shipping").stdout))) == 3

    # export: an attestation as a Verifiable Credential (verified with only the chain) and as a PACT footprint
    brand_client = Client(api_url, brand_key)
    claim = brand_client.post("/company-prefixes", {"prefix": journey.ROASTED[1:13]})
    with Client(api_url, ADMIN_KEY) as operator:
        operator.post(f"/company-prefixes/{claim['id']}/approve")
    brand_client.put_product(journey.ROASTED, "Roasted coffee, 1 kg", net_content=1, net_content_unit="kilogram")
    brand_client.close()
    (tmp_path / "pcf.json").write_text(json.dumps(PCF_BODY))
    pcf = cli.json(
        producer_key,
        f"attest -c coffee --schema product-carbon-footprint --subject gtin={journey.ROASTED},lot=R-0042 "
        f"--body {tmp_path / 'pcf.json'} --expires-at 2030-01-01",
    )
    credential_file = tmp_path / "credential.json"
    cli(brand_key, f"export credential {pcf['uid']} -o {credential_file}")
    pins = f"--rpc-url {settings.rpc_url} --registry {chain.address_of('AttestationRegistry')}"
    checked = cli("", f"verify credential {credential_file} {pins}")
    assert "verified (full disclosure)" in checked.stdout and "ok   signature" in checked.stdout
    forged = json.loads(credential_file.read_text())
    forged["credentialSubject"]["body"]["pCfExcludingBiogenic"] = 0.1
    credential_file.write_text(json.dumps(forged))
    assert "FAIL disclosed_fields" in cli("", f"verify credential {credential_file} {pins}", code=1).stdout
    cli(brand_key, f"export credential {pcf['uid']} -o {credential_file}")
    pact = json.loads(cli(brand_key, f"export footprint {pcf['uid']}").stdout)
    assert pact_problems(pact) == [] and pact["pcf"]["declaredUnit"] == "kilogram"
    folder = tmp_path / "credentials"
    written = cli(brand_key, f"export credentials --gtin {journey.ROASTED} --lot R-0042 --dir {folder}")
    assert "wrote 1 credentials" in written.stdout and (folder / f"{pcf['uid']}.json").is_file()

    # verify: the service's pins, with a warning
    trust = cli("", f"verify trust {api_url}")
    assert "provenanceAnchor" in trust.stdout and "independent source" in trust.stderr

    # the managed key: exported once, to a private file; then replaced
    key_file = tmp_path / "shop-key.json"
    cli(shop_key, f"members keys export --yes -o {key_file}")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert json.loads(key_file.read_text())["address"] == shop["member"]["address"]
    assert "error: ApiError" in cli(shop_key, "members keys export --yes", code=1).stderr
    rotated = cli.json(shop_key, "members keys rotate --yes")
    assert rotated["old_address"] == shop["member"]["address"] != rotated["new_address"]

    # the service's refusals and an unreachable service: one line, exit 1
    wrong = cli("cst_not-a-key", "members show", code=1)
    assert "401" in wrong.stderr and "Traceback" not in wrong.stderr and len(wrong.stderr.strip().splitlines()) == 1
    unreachable = cli(producer_key, "members show --api-url http://127.0.0.1:9", code=1)
    assert "cannot reach the API" in unreachable.stderr


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("attest -c x --schema origin --subject sku=1 --body {}", "--subject 'sku=1'"),
        ("attest -c x --schema origin --subject member=m --body [1]", "must be a JSON object"),
        ("attest -c x --schema origin --subject gln=1 --body {} --expires-at soon", "'soon'"),
        ("grants create -c x --categories what --audience all --purpose p", "--audience"),
        ("grants create -c x --categories what --audience public --purpose p --until 2030-01-01T00:00", "offset"),
        ("export events --param EQ_bizStep", "NAME=VALUE"),
        ("recall 09506000134353 L1", "check digit"),
        ("constellations roles c m retailer --remove", "not both"),
        ("capture {tmp}/missing.csv -c x", "no such file"),
        ("capture {tmp}/broken.json -c x", "broken.json is not JSON"),
        ("capture {tmp}/event.json -c x", "eventTime"),
    ],
)
def test_bad_local_input_exits_2_and_sends_nothing(command: str, message: str, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "event.json").write_text(json.dumps({"type": "ObjectEvent", "action": "OBSERVE", "epcList": []}))
    args = [*shlex.split(command.replace("{tmp}", str(tmp_path))), "--api-url", "http://127.0.0.1:9"]
    result = CliRunner().invoke(app, args, env={"CONSTELLATE_API_KEY": "k"})
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr
