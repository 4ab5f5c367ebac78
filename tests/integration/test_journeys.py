"""Journeys through the GS1 Digital Link resolver on a real Anvil and both databases: what the
public and a brand see under the sharing policies, the carbon roll-up, claim badges, QR codes,
linksets, recall reports, and a cache that never serves a stale page."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service.db.models import AccessLogEntry
from service.domain.gs1 import ItemKey

from . import journey
from .conftest import Api
from .test_provenance_api import Journey

PCF = {
    "declaredUnit": "kilogram",
    "unitaryProductAmount": 1,
    "referencePeriodStart": "2025-01-01T00:00:00Z",
    "referencePeriodEnd": "2025-12-31T00:00:00Z",
    "geographyCountry": "ET",
    "boundaryProcessesDescription": "cradle to farm gate",
    "primaryDataShare": 80,
}
ROAST_PATH = f"/01/{journey.ROASTED}/10/R-0042"
JSON = {"Accept": "application/json"}


class Shop(Journey):
    """The coffee journey; the roaster brands the roasted coffee; the farm and the roaster
    publish what and when to the public (the roaster also where and why), the shop nothing; a
    certifier certifies one farm lot; the farm attests both lots' footprints."""

    def __init__(self, api: Api) -> None:
        super().__init__(api)
        self.certifier, self.certifier_h = api.onboard("Bureau Veritas")
        client = api.client
        response = client.put(
            f"/constellations/coffee/members/{self.certifier['id']}",
            json={"roles": ["certifier"]},
            headers=self.brand_h,
        )
        assert response.status_code == 200, response.text
        api.own_prefix(self.roaster_h, journey.ROASTED)
        response = client.put(
            "/products",
            json={
                "gtin": journey.ROASTED,
                "name": "Yirgacheffe Espresso <b>Roast</b>",
                "brand": "Roastery",
                "net_content": 0.25,
                "net_content_unit": "kilogram",
            },
            headers=self.roaster_h,
        )
        assert response.status_code == 200, response.text
        api.grant(self.farm_h, "coffee", ["what", "when", "quantities", "attestations"], audience={"kind": "public"})
        api.grant(self.roaster_h, "coffee", ["what", "when", "where", "why", "quantities"], audience={"kind": "public"})
        api.grant(self.certifier_h, "coffee", ["attestations"], audience={"kind": "public"})
        self.certificate = self.attest(
            self.certifier_h,
            "certification",
            journey.LOT_1,
            {"standard": "Fairtrade", "certificateId": "FT-1", "issuingBody": "FLOCERT", "validUntil": "2027-12-31"},
        )
        self.pcf_1 = self.attest(
            self.farm_h, "product-carbon-footprint", journey.LOT_1, {**PCF, "pCfExcludingBiogenic": 3.0}
        )
        self.pcf_2 = self.attest(
            self.farm_h, "product-carbon-footprint", journey.LOT_2, {**PCF, "pCfExcludingBiogenic": 5.0}
        )
        self.runtime.relay(flush=True)

    def attest(self, headers: dict[str, str], schema: str, lot: str, body: dict[str, Any]) -> str:
        key = ItemKey(lot.split("/01/")[1].split("/")[0], lot.rsplit("/10/", 1)[1])
        response = self.api.client.post(
            "/attestations",
            json={
                "constellation": "coffee",
                "schema": schema,
                "subject": {"kind": "item", "gtin": key.gtin, "lot": key.lot},
                "body": body,
            },
            headers=headers,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["uid"])

    def page(self, path: str, headers: dict[str, str] | None = None) -> Any:
        response = self.api.client.get(path, headers=headers or {})
        assert response.status_code == 200, response.text
        return response


@pytest.fixture
def shop(api: Api) -> Shop:
    return Shop(api)


def test_the_public_journey_shows_only_what_owners_published(shop: Shop) -> None:
    body = shop.page(ROAST_PATH, JSON).json()
    assert body["item"] == {
        "gtin": journey.ROASTED,
        "lot": "R-0042",
        "serial": None,
        "kind": "lgtin",
        "digitalLink": journey.ROAST_LOT,
        "path": ROAST_PATH,
        "url": "http://127.0.0.1:8000" + ROAST_PATH,
    }
    assert body["product"]["name"] == "Yirgacheffe Espresso <b>Roast</b>"
    assert body["reader"] == {"kind": "public", "name": None}
    owners = {s["who"]["name"] for s in body["steps"]}
    assert owners == {"Farms Cooperative", "Roastery"}  # the shop shares nothing with the public
    assert len(body["steps"]) == 9
    times = [s["eventTime"] for s in body["steps"]]
    assert times == sorted(times)
    farm_steps = [s for s in body["steps"] if s["who"]["name"] == "Farms Cooperative"]
    assert all(s["where"]["id"] is None and s["bizStep"] is None for s in farm_steps)
    assert all({"bizStep", "disposition"} <= set(s["withheld"]) for s in farm_steps)
    withheld = {w["name"]: w["fields"] for w in body["withheld"]}
    assert withheld["Farms Cooperative"] == sum(len(s["withheld"]) for s in farm_steps) > 0
    assert set(body["summary"]) >= {"steps", "origins", "claims", "withheldFields"}
    assert {o["id"] for o in body["origins"]} == {journey.LOT_1, journey.LOT_2}
    assert all(s["anchored"] and s["anchor"]["root"] for s in body["steps"])
    assert body["verify"]["command"].startswith(
        f"constellate verify journey http://127.0.0.1:8000{ROAST_PATH} --rpc-url "
    )
    assert not any(s["hashID"] for s in body["steps"] if s["withheld"])  # the hash digests withheld fields


def test_claims_carry_badges_and_the_footprint_rolls_up_by_quantity(shop: Shop) -> None:
    body = shop.page(ROAST_PATH, JSON).json()
    claims = {c["uid"]: c for c in body["claims"]}
    assert claims[shop.certificate]["status"] == "valid"
    assert claims[shop.certificate]["issuer"]["name"] == "Bureau Veritas"
    assert claims[shop.certificate]["txHash"]
    footprint = body["footprint"]
    # (600 kg x 3.0 + 600 kg x 5.0) / 1000 kg of roasted coffee, both inputs attested and anchored
    assert footprint["status"] == "verified" and footprint["source"] == "rolled up"
    assert footprint["kgCO2ePerDeclaredUnit"] == pytest.approx(4.8)
    assert footprint["kgCO2ePerUnit"] == pytest.approx(1.2)  # a 250 g pack
    assert {i["identifier"]: i["kgCO2e"] for i in footprint["inputs"]} == {journey.LOT_1: 1800.0, journey.LOT_2: 3000.0}

    revoked = shop.api.client.post(f"/attestations/{shop.pcf_2}/revoke", json={}, headers=shop.farm_h)
    assert revoked.status_code in (200, 202), revoked.text
    shop.runtime.relay(flush=True)
    body = shop.page(ROAST_PATH, JSON).json()  # the next request: no stale cache
    assert {c["uid"]: c["status"] for c in body["claims"]}[shop.pcf_2] == "revoked"
    assert body["footprint"]["status"] == "partly verified"
    assert body["footprint"]["kgCO2ePerDeclaredUnit"] == pytest.approx(1.8)  # a lower bound


def test_the_brand_sees_everything_shared_with_it(shop: Shop) -> None:
    public = shop.page(ROAST_PATH, JSON).json()
    brand = shop.page(ROAST_PATH, {**JSON, **shop.brand_h}).json()
    assert brand["reader"]["kind"] == "member" and brand["reader"]["name"] == "Roaster Brand"
    assert len(brand["steps"]) == 10 > len(public["steps"])
    assert brand["summary"]["withheldFields"] == 0 < public["summary"]["withheldFields"]
    assert {n["id"] for n in brand["lineage"]} == {journey.ROAST_LOT, journey.LOT_1, journey.LOT_2}
    assert {c["id"] for c in brand["containers"]} == {journey.SSCC}


def test_a_new_event_and_a_new_grant_show_on_the_next_request(shop: Shop) -> None:
    before = shop.page(ROAST_PATH, JSON).json()
    assert shop.page(ROAST_PATH, JSON).json()["revision"] == before["revision"]  # served again
    shop.api.grant(shop.shop_h, "coffee", ["what", "when"], audience={"kind": "public"})
    after = shop.page(ROAST_PATH, JSON).json()
    assert after["revision"] > before["revision"]
    assert len(after["steps"]) == len(before["steps"]) + 1
    assert "Coffee Shop" in {s["who"]["name"] for s in after["steps"]}

    stored = {
        "type": "ObjectEvent",
        "eventTime": "2026-05-13T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "bizStep": "storing",
        "quantityList": [{"epcClass": journey.ROAST_LOT, "quantity": 1000, "uom": "KGM"}],
    }
    captured = shop.api.client.post(
        "/epcis/capture",
        content=json.dumps(journey.document([stored])).encode(),
        headers={**shop.roaster_h, "Constellate-Constellation": "coffee", "Content-Type": "application/json"},
    )
    assert captured.status_code == 202, captured.text
    latest = shop.page(ROAST_PATH, JSON).json()  # the new event shows on the next request
    assert latest["revision"] > after["revision"]
    assert len(latest["steps"]) == len(after["steps"]) + 1
    assert "2026-05-13T08:00:00Z" in [s["eventTime"] for s in latest["steps"]]


def test_journey_reads_are_logged_per_owner(shop: Shop) -> None:
    shop.page(ROAST_PATH, {**JSON, **shop.brand_h, "Constellate-Purpose": "quality audit"})
    shop.page(ROAST_PATH, {**JSON, **shop.brand_h, "Constellate-Purpose": "quality audit"})
    with shop.runtime.sessions() as session:
        rows = session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.endpoint == "journey", AccessLogEntry.reader_kind == "member")
        ).all()
    assert len(rows) == 2 * 4  # two reads (the second from the cache): three event owners, the certifier
    assert {r.purpose for r in rows} == {"quality audit"}
    assert {r.record_ref for r in rows} == {ROAST_PATH}


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/01/09506000134353/10/R-0042", "check digit"),
        ("/01/12345/10/X", "digits"),
        ("/01/09506000134352/10/" + "L" * 21, "character set"),
    ],
)
def test_a_malformed_link_gets_a_400_page_naming_the_problem(shop: Shop, path: str, problem: str) -> None:
    page = shop.api.client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert problem in page.text
    problem_json = shop.api.client.get(path, headers=JSON)
    assert problem_json.status_code == 400 and problem in problem_json.json()["detail"]


def test_unknown_items_are_404_and_nothing_leaks_to_the_public(shop: Shop) -> None:
    assert shop.api.client.get(f"/01/{journey.GREEN}/10/NOPE", headers=JSON).status_code == 404


def test_linkset_and_qr_codes(shop: Shop) -> None:
    linkset = shop.page(ROAST_PATH, {"Accept": "application/linkset+json"})
    assert linkset.headers["content-type"].startswith("application/linkset+json")
    entry = linkset.json()["linkset"][0]
    assert entry["anchor"] == journey.ROAST_LOT
    assert entry["https://gs1.org/voc/defaultLink"][0]["href"] == "http://127.0.0.1:8000" + ROAST_PATH
    svg = shop.page(f"/qr{ROAST_PATH}.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and svg.text.lstrip().startswith("<svg")
    png = shop.page(f"/qr{ROAST_PATH}.png")
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    label = shop.page(f"/label{ROAST_PATH}", {"Accept": "text/html"})
    assert "(01) " + journey.ROASTED in label.text and "&lt;b&gt;Roast&lt;/b&gt;" in label.text
    assert shop.api.client.get(f"/qr{ROAST_PATH}.gif").status_code == 400


def test_the_recall_report_as_page_and_csv(shop: Shop) -> None:
    lot_1 = f"/01/{journey.GREEN}/10/FARM1-2026"
    assert shop.api.client.get(f"/recall{lot_1}.csv").status_code == 401
    report = shop.page(f"/recall{lot_1}.csv", shop.brand_h)
    assert report.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert {r["id"] for r in rows} == {journey.ROAST_LOT, journey.SSCC}
    pallet = next(r for r in rows if r["id"] == journey.SSCC)
    assert pallet["bizStep"] == "receiving" and pallet["recordedBy"] == "Coffee Shop"
    page = shop.page(f"/recall{lot_1}", {**shop.brand_h, "Accept": "text/html"})
    assert journey.SSCC in page.text


def test_sign_in_sets_a_cookie_that_pages_read_and_the_api_does_not(shop: Shop) -> None:
    client = shop.api.client
    token = shop.brand_h["Authorization"].split(" ", 1)[1]
    refused = shop.api.sign_in_form("cst_nope_nope")
    assert refused.status_code == 401
    response = shop.api.sign_in_form(token, "//evil.example/")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "httponly" in response.headers["set-cookie"].lower()
    try:
        brand = client.get(ROAST_PATH, headers=JSON).json()
        assert brand["reader"]["name"] == "Roaster Brand"
        assert client.get("/grants").status_code == 401  # the API never takes the cookie
    finally:
        client.cookies.clear()
    assert client.get(ROAST_PATH, headers=JSON).json()["reader"]["kind"] == "public"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_journey_verifies_with_only_the_chain_and_tampering_is_named(shop: Shop, tmp_path: Path) -> None:
    body = shop.page(ROAST_PATH, JSON).json()
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps(shop.api.client.get("/verify/trust").json()))
    pins = ["--rpc-url", shop.runtime.settings.rpc_url, "--trust", str(trust)]
    good = tmp_path / "journey.json"
    good.write_text(json.dumps(body))
    ran = _cli("verify", "journey", str(good), *pins)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "ok   summary" in ran.stdout and "ok   completeness" in ran.stdout, ran.stdout

    def verdict(document: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        path = tmp_path / "document.json"
        path.write_text(json.dumps(document))
        ran = _cli("verify", "journey", str(path), *pins, "--json")
        return ran.returncode, json.loads(ran.stdout)

    def failed(result: dict[str, Any]) -> set[tuple[int | None, str]]:
        return {(c.get("step"), c["name"]) for c in result["checks"] if c["ok"] is False}

    foreign = {**deepcopy(body), "item": {**body["item"], "digitalLink": journey.lot(journey.GREEN, "ELSEWHERE")}}
    foreign["lineage"], foreign["containers"] = [], []
    code, result = verdict(foreign)
    assert code == 1 and (None, "structure") in failed(result), result
    code, result = verdict({**body, "steps": []})  # every step dropped: the chains still name them
    assert code == 1 and (None, "completeness") in failed(result), result

    # Each kind of tampering in its own step of one journey; each is named by its check.
    tampered = deepcopy(body)
    steps = tampered["steps"]
    assert len(steps) >= 7
    records = [step["event"]["constellate:record"] for step in steps]
    steps[0]["eventTime"] = "2020-01-01T00:00:00Z"  # the summary lies, the view does not
    steps[1]["event"]["eventTime"] = "2020-01-01T00:00:00Z"  # the view lies about a field
    records[2]["withheld"] = [*records[2]["withheld"], "bizTransactionList"]  # hides that a field was shown
    records[3]["constellation"]["id"] = "0x" + "ab" * 32  # moved to another constellation
    records[4]["anchor"]["proof"] = [*records[4]["anchor"]["proof"], "0x" + "11" * 32]  # a forged path
    records[5]["anchor"]["chainId"] = 1  # anchored on another chain
    records[6]["owner"]["address"] = "0x" + "22" * 20  # re-attributed to another signer
    code, result = verdict(tampered)
    assert code == 1
    found = failed(result)
    for number, check in enumerate(
        ("summary", "disclosed_fields", "field_list", "leaf", "merkle_proof", "anchored", "authorship"), start=1
    ):
        assert (number, check) in found, (number, check, sorted(found, key=str))
    assert not {step for step, _ in found if step is not None and step > 7}, found


def test_a_product_class_lists_the_lots_the_reader_may_see(shop: Shop) -> None:
    body = shop.page(f"/01/{journey.GREEN}", JSON).json()
    assert body["item"]["kind"] == "gtin"
    assert {lot["id"] for lot in body["lots"]} == {journey.LOT_1, journey.LOT_2}
    assert {lot["path"] for lot in body["lots"]} == {
        f"/01/{journey.GREEN}/10/FARM1-2026",
        f"/01/{journey.GREEN}/10/FARM2-2026",
    }
    assert shop.api.client.get(f"/01/{journey.ROASTED}", headers=JSON).json()["lots"][0]["lot"] == "R-0042"


def test_a_lot_with_an_encoded_slash_resolves_by_its_raw_path(shop: Shop) -> None:
    response = shop.api.client.get(f"/01/{journey.ROASTED}/10/A%2FB", headers=JSON)
    assert response.status_code == 404 and "/10/A%2FB" in response.json()["detail"]  # parsed, not misrouted
    assert shop.api.client.get(f"/01/{journey.ROASTED}/10/A/B", headers=JSON).status_code == 400


# --- who speaks for an item ------------------------------------------------------------------


def _capture(shop: Shop, headers: dict[str, str], slug: str, events: list[dict[str, Any]]) -> None:
    captured = shop.api.client.post(
        "/epcis/capture",
        content=json.dumps(journey.document(events)).encode(),
        headers={**headers, "Constellate-Constellation": slug, "Content-Type": "application/json"},
    )
    assert captured.status_code == 202, captured.text


def _recall(when: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": when,
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "bizStep": "holding",
        "disposition": "recalled",
        "quantityList": [{"epcClass": journey.ROAST_LOT, "quantity": 1000, "uom": "KGM"}],
        **fields,
    }


def _rival(shop: Shop) -> dict[str, str]:
    """A competitor that runs a constellation of its own and publishes what it records there."""
    client = shop.api.client
    rival, rival_h = shop.api.onboard("Rival Roasters")
    assert client.post("/constellations", json={"slug": "rival", "name": "Rival"}, headers=rival_h).status_code == 201
    roles = client.put(
        f"/constellations/rival/members/{rival['id']}", json={"roles": ["coordinator", "retailer"]}, headers=rival_h
    )
    assert roles.status_code == 200, roles.text
    shop.api.grant(rival_h, "rival", ["what", "when", "why", "quantities"], audience={"kind": "public"})
    return rival_h


def test_a_competitors_recall_is_an_observation_apart_never_the_brands_step_or_status(shop: Shop) -> None:
    before = shop.page(ROAST_PATH, JSON).json()
    assert before["brand"]["name"] == "Roastery" and before["status"] is None
    rival_h = _rival(shop)
    pallet = "https://id.gs1.org/00/" + journey.gtin("09506000000000099")
    graft = {  # the rival claims to have packed the lot on its own pallet, then ships the pallet
        "type": "AggregationEvent",
        "eventTime": "2026-05-20T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "bizStep": "packing",
        "parentID": pallet,
        "childQuantityList": [{"epcClass": journey.ROAST_LOT, "quantity": 1000, "uom": "KGM"}],
    }
    ship = {**_recall("2026-05-21T08:00:00Z"), "bizStep": "shipping", "disposition": "in_transit", "epcList": [pallet]}
    del ship["quantityList"]
    _capture(shop, rival_h, "rival", [_recall("2026-05-20T09:00:00Z"), graft, ship])

    after = shop.page(ROAST_PATH, JSON).json()
    assert [s["ref"] for s in after["steps"]] == [s["ref"] for s in before["steps"]]  # nothing added to the journey
    assert {c["id"] for c in after["containers"]} == {c["id"] for c in before["containers"]}  # no grafted pallet
    assert after["status"] is None
    observed = after["observations"]
    assert {o["who"]["name"] for o in observed} == {"Rival Roasters"}
    assert sorted(o["bizStep"] for o in observed) == ["holding", "packing"]  # the pallet's shipping is not the lot's
    assert after["summary"]["observations"] == 2 and after["summary"]["steps"] == before["summary"]["steps"]

    page = shop.page(ROAST_PATH, {"Accept": "text/html"}).text
    observations = page.split('data-testid="observations"', 1)[1].split("</section>", 1)[0]
    assert "Rival Roasters</strong> says: Put on hold · Recalled" in observations
    assert 'data-testid="status"' not in page


def test_a_competitor_enrolling_the_brand_in_its_own_constellation_gains_no_voice(shop: Shop) -> None:
    """Any coordinator can give any address a role without its consent: a role alone never makes
    a constellation the brand's (it must coordinate it or have recorded events there)."""
    before = shop.page(ROAST_PATH, JSON).json()
    rival_h = _rival(shop)
    enrolled = shop.api.client.put(
        f"/constellations/rival/members/{shop.roaster['id']}", json={"roles": ["supplier"]}, headers=rival_h
    )
    assert enrolled.status_code == 200, enrolled.text
    _capture(shop, rival_h, "rival", [_recall("2026-05-20T09:00:00Z")])
    after = shop.page(ROAST_PATH, JSON).json()
    assert after["status"] is None
    assert [s["ref"] for s in after["steps"]] == [s["ref"] for s in before["steps"]]
    assert [o["who"]["name"] for o in after["observations"]] == ["Rival Roasters"]


def test_a_recall_is_the_items_status_only_from_its_brand_or_its_constellations_coordinator(shop: Shop) -> None:
    brand_view = {**JSON, **shop.brand_h}
    _capture(shop, shop.shop_h, "coffee", [_recall("2026-05-20T08:00:00Z")])  # a retailer of the constellation
    body = shop.page(ROAST_PATH, brand_view).json()
    held = [s for s in body["steps"] if s["who"]["name"] == "Coffee Shop" and s["disposition"] == "recalled"]
    assert len(held) == 1 and body["status"] is None  # its step, not the item's status
    _capture(shop, shop.roaster_h, "coffee", [_recall("2026-05-21T08:00:00Z")])  # the brand itself
    body = shop.page(ROAST_PATH, brand_view).json()
    assert body["status"]["state"] == "recalled" and body["status"]["by"]["name"] == "Roastery"
    public = shop.page(ROAST_PATH, JSON).json()  # the roastery publishes what, when and why
    assert public["status"]["by"]["name"] == "Roastery"
    page = shop.page(ROAST_PATH, {"Accept": "text/html", **shop.brand_h}).text
    assert 'data-testid="status" data-state="recalled"' in page and "Roastery recalled it on 21 May 2026." in page


def test_the_coordinator_of_the_brands_constellation_may_recall_and_lift_it(shop: Shop) -> None:
    brand_view = {**JSON, **shop.brand_h}
    brand_id = shop.api.client.get("/members/me", headers=shop.brand_h).json()["id"]
    roles = shop.api.client.put(
        f"/constellations/coffee/members/{brand_id}",
        json={"roles": ["coordinator", "retailer"]},
        headers=shop.brand_h,
    )
    assert roles.status_code == 200, roles.text
    _capture(shop, shop.brand_h, "coffee", [_recall("2026-05-20T08:00:00Z")])
    assert shop.page(ROAST_PATH, brand_view).json()["status"]["by"]["name"] == "Roaster Brand"
    lifted = {
        **_recall("2026-05-22T08:00:00Z"),
        "bizStep": "inspecting",
        "persistentDisposition": {"unset": ["recalled"]},
    }
    del lifted["disposition"]
    _capture(shop, shop.roaster_h, "coffee", [lifted])
    assert shop.page(ROAST_PATH, brand_view).json()["status"] is None
