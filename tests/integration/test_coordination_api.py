"""The coordinator's health views through the API, on a real Anvil and both databases: the map
of partners, flows and grants (and its SVG), the metrics, the scorecards and the commitments —
with real numbers, a revoked certification, events a partner withholds, and who may look."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.api import coordination
from service.chain.deployment import Chain
from service.domain import schema_catalogue
from service.domain.gs1 import check_digit
from service.domain.policy import EVENT_CATEGORIES
from service.runtime import Runtime

from .conftest import Api

SLUG = "cocoa"
GTIN = "0950600013435" + str(check_digit("0950600013435"))
LOT_A, LOT_B = f"https://id.gs1.org/01/{GTIN}/10/A-1", f"https://id.gs1.org/01/{GTIN}/10/B-2"
FARM_NAME = "Finca <Sur> & Hijos"  # escaped in the SVG


def _place(number: str) -> dict[str, str]:
    return {"id": "https://id.gs1.org/414/" + number + str(check_digit(number))}


FARM, SHOP, DEPOT = _place("950600000001"), _place("950600000004"), _place("950600000005")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(when: datetime, step: str, disposition: str, lots: list[str], **fields: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": _stamp(when),
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD" if step == "commissioning" else "OBSERVE",
        "bizStep": step,
        "disposition": disposition,
        "quantityList": [{"epcClass": lot, "quantity": 100, "uom": "KGM"} for lot in lots],
        **fields,
    }


CERTIFICATE = {"standard": "Fairtrade", "certificateId": "FLO-7", "issuingBody": "FLOCERT", "validUntil": "2030-12-31"}


def _footprint(value: float) -> dict[str, Any]:
    return {
        "declaredUnit": "kilogram",
        "unitaryProductAmount": 1,
        "pCfExcludingBiogenic": value,
        "referencePeriodStart": "2025-01-01T00:00:00Z",
        "referencePeriodEnd": "2025-12-31T00:00:00Z",
        "geographyCountry": "CI",
        "boundaryProcessesDescription": "cradle to farm gate",
        "primaryDataShare": 60,
    }


class Cocoa:
    """A brand coordinating a certifier, a farm, a trader and a shop. Everything is shared by
    default; the trader withholds its events' times; the shop shares what it handles with the
    certifier. The farm commissions two lots and ships both; the shop and the trader receive
    them. Lot A is Fairtrade-certified, lot B is not; the farm declares footprints and pledges."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.brand, self.brand_h = api.onboard("Chocolatier")
        self.certifier, self.certifier_h = api.onboard("Control Union")
        self.farm, self.farm_h = api.onboard(FARM_NAME)
        self.trader, self.trader_h = api.onboard("Trader")
        self.shop, self.shop_h = api.onboard("Shop")
        assert (
            api.client.post("/constellations", json={"slug": SLUG, "name": "Cocoa"}, headers=self.brand_h).status_code
            == 201
        )
        for member, roles in (
            (self.certifier, ["certifier"]),
            (self.farm, ["supplier"]),
            (self.trader, ["logistics"]),
            (self.shop, ["retailer"]),
        ):
            response = api.client.put(
                f"/constellations/{SLUG}/members/{member['id']}", json={"roles": roles}, headers=self.brand_h
            )
            assert response.status_code == 200, response.text
        api.share_everything_by_default(self.brand_h, SLUG)
        api.grant(self.trader_h, SLUG, ["when"], effect="withhold")
        api.grant(self.shop_h, SLUG, ["what"], audience={"kind": "member", "member_id": self.certifier["id"]})
        self.times = {
            "commission A": self.now - timedelta(days=15),
            "commission B": self.now - timedelta(days=8),
            "ship": self.now - timedelta(hours=3),
            "shop receives": self.now - timedelta(hours=1),
        }
        self.capture(
            self.farm_h,
            _event(self.times["commission A"], "commissioning", "active", [LOT_A], readPoint=FARM, bizLocation=FARM),
            _event(self.times["commission B"], "commissioning", "active", [LOT_B], bizLocation=FARM),
            _event(self.times["ship"], "shipping", "in_transit", [LOT_A, LOT_B], readPoint=FARM),
        )
        self.capture(
            self.shop_h,
            _event(
                self.times["shop receives"],
                "receiving",
                "in_progress",
                [LOT_A, LOT_B],
                readPoint=SHOP,
                bizLocation=SHOP,
            ),
        )
        self.capture(
            self.trader_h,
            _event(
                self.now - timedelta(hours=2), "receiving", "in_progress", [LOT_A], readPoint=DEPOT, bizLocation=DEPOT
            ),
        )
        self.certificate = self.attest(
            self.certifier_h, "certification", {"kind": "item", "gtin": GTIN, "lot": "A-1"}, CERTIFICATE
        )
        for lot, value in (("A-1", 2.0), ("B-2", 3.0)):
            self.attest(
                self.farm_h, "product-carbon-footprint", {"kind": "item", "gtin": GTIN, "lot": lot}, _footprint(value)
            )
        pledges = (
            ("Fairtrade", 50, self.now.date() + timedelta(days=365)),
            (None, 100, self.now.date() + timedelta(days=365)),
            ("Organic", 20, self.now.date() - timedelta(days=2)),
        )
        self.pledges = [self.pledge(standard, target, deadline.isoformat()) for standard, target, deadline in pledges]

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.api.client.app.state.runtime  # type: ignore[attr-defined]
        return runtime

    def capture(self, headers: dict[str, str], *events: dict[str, Any]) -> None:
        document = {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": _stamp(self.now),
            "epcisBody": {"eventList": list(events)},
        }
        response = self.api.client.post(
            "/epcis/capture",
            content=json.dumps(document).encode(),
            headers={**headers, "Constellate-Constellation": SLUG, "Content-Type": "application/json"},
        )
        assert response.status_code == 202, response.text

    def attest(self, headers: dict[str, str], schema: str, subject: dict[str, Any], body: dict[str, Any]) -> str:
        response = self.api.client.post(
            "/attestations",
            json={"constellation": SLUG, "schema": schema, "subject": subject, "body": body},
            headers=headers,
        )
        assert response.status_code == 201 and response.json()["status"] == "valid", response.text
        return str(response.json()["uid"])

    def pledge(self, standard: str | None, target: float, deadline: str) -> str:
        body: dict[str, Any] = {
            "metric": "certified-share",
            "gtins": [GTIN],
            "targetPercent": target,
            "deadline": deadline,
            "statement": f"{target} % of our lots certified{' ' + standard if standard else ''} by {deadline}",
        }
        if standard:
            body["standard"] = standard
        return self.attest(self.farm_h, "commitment", {"kind": "member", "member_id": self.farm["id"]}, body)

    def get(self, view: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        response = self.api.client.get(f"/constellations/{SLUG}/{view}", params=params, headers=headers or self.brand_h)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def cocoa(api: Api) -> Cocoa:
    app = api.client.app
    mounted = {getattr(route, "path", None) for route in app.routes}  # type: ignore[attr-defined]
    if "/constellations/{slug}/map" not in mounted:  # until service/api/app.py mounts it
        app.include_router(coordination.router)  # type: ignore[attr-defined]
    return Cocoa(api)


def _week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def test_metrics_count_what_the_coordinator_sees_and_fall_with_a_revoked_certificate(cocoa: Cocoa) -> None:
    metrics = cocoa.get("metrics", weeks=4)
    assert metrics["members"] == 5  # the relayer's anchorer account is no partner
    assert metrics["events"]["total"] == 4  # the trader's event time is withheld: it does not count
    expected = Counter(_week(moment) for moment in cocoa.times.values())
    now = datetime.now(UTC)
    labels = [_week(now - timedelta(weeks=back)) for back in (3, 2, 1, 0)]
    assert [w["week"] for w in metrics["events"]["per_week"]] == labels
    assert {w["week"]: w["events"] for w in metrics["events"]["per_week"]} == {
        label: expected[label] for label in labels
    }
    assert metrics["certification_coverage"] == {"items": 2, "certified": 1, "share": 0.5}
    assert metrics["data_completeness"] == {
        "share": 0.875,
        "biz_step": 1.0,
        "disposition": 1.0,
        "read_point": 0.75,
        "biz_location": 0.75,
    }
    assert metrics["carbon"] == [{"declared_unit": "kilogram", "mean_kgco2e": 2.5, "footprints": 2}]
    assert metrics["chain_score"] == 56 and metrics["weakest"] == [cocoa.farm["id"]]
    anchoring = metrics["anchoring"]
    assert anchoring["anchored"] + anchoring["unanchored"] == 4

    cocoa.runtime.relay(flush=True)
    anchoring = cocoa.get("metrics")["anchoring"]
    assert anchoring["anchored"] == 4 and anchoring["unanchored"] == 0
    assert 0 <= anchoring["median_lag_seconds"] <= anchoring["p95_lag_seconds"] < 600

    everything = cocoa.get("metrics", cocoa.api.admin, weeks=4)  # the operator sees the trader's event too
    assert everything["events"]["total"] == 5

    revoked = cocoa.api.client.post(f"/attestations/{cocoa.certificate}/revoke", json={}, headers=cocoa.certifier_h)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked", revoked.text
    after = cocoa.get("metrics")
    assert after["certification_coverage"] == {"items": 2, "certified": 0, "share": 0.0}
    assert after["chain_score"] == 39


def test_scorecards_rank_the_weakest_partner_first_and_count_revocations(cocoa: Cocoa) -> None:
    cards = cocoa.get("scorecards")
    assert [c["member"]["name"] for c in cards] == [FARM_NAME, "Shop", "Chocolatier", "Control Union", "Trader"]
    farm, shop, *unscored = cards
    assert farm["events"] == 3 and farm["score"] == 56 and farm["weakest"] is True
    assert farm["timeliness"]["within_24h_share"] == 0.3333
    assert 8 * 86_400 <= farm["timeliness"]["median_capture_lag_seconds"] < 8 * 86_400 + 600
    assert farm["completeness"] == 0.8333
    assert farm["certification_coverage"] == {"items": 2, "certified": 1, "share": 0.5}
    assert farm["attestations_issued"] == 5 and farm["revocations"] == 0  # two footprints, three pledges
    assert shop["score"] == 83 and shop["weakest"] is False and shop["timeliness"]["within_24h_share"] == 1.0
    assert all(c["score"] is None and not c["weakest"] for c in unscored)
    trader = next(c for c in unscored if c["member"]["name"] == "Trader")
    assert trader["events"] == 0  # withheld: nothing to score

    cocoa.api.client.post(f"/attestations/{cocoa.certificate}/revoke", json={}, headers=cocoa.certifier_h)
    cards = {c["member"]["name"]: c for c in cocoa.get("scorecards")}
    assert cards["Control Union"]["revocations"] == 1 and cards["Control Union"]["attestations_issued"] == 1
    assert cards[FARM_NAME]["certification_coverage"]["certified"] == 0 and cards[FARM_NAME]["score"] == 39
    assert cards["Shop"]["score"] == 67


def test_commitments_show_progress_against_the_pledge(cocoa: Cocoa) -> None:
    pledges = cocoa.get("commitments")
    assert [p["uid"] for p in pledges] == cocoa.pledges
    fairtrade, everything, organic = pledges
    assert fairtrade["member"] == {"id": cocoa.farm["id"], "name": FARM_NAME}
    assert fairtrade["attestation_status"] == "valid" and fairtrade["withheld"] == []
    assert (fairtrade["standard"], fairtrade["target_percent"], fairtrade["gtins"]) == ("Fairtrade", 50, [GTIN])
    assert (fairtrade["lots"], fairtrade["certified_lots"], fairtrade["progress_percent"]) == (2, 1, 50.0)
    assert fairtrade["status"] == "met"
    assert everything["progress_percent"] == 50.0 and everything["status"] == "on track"
    assert everything["expected_percent"] < 1
    assert organic["certified_lots"] == 0 and organic["status"] == "missed"  # no Organic certificate, deadline gone

    cocoa.api.client.post(f"/attestations/{cocoa.certificate}/revoke", json={}, headers=cocoa.certifier_h)
    statuses = [(p["progress_percent"], p["status"]) for p in cocoa.get("commitments")]
    assert statuses == [(0.0, "behind"), (0.0, "behind"), (0.0, "missed")]


def test_the_map_shows_flows_and_grants_and_draws_every_member(cocoa: Cocoa) -> None:
    mapped = cocoa.get("map")
    ids = {cocoa.brand["id"]: "brand", cocoa.farm["id"]: "farm", cocoa.shop["id"]: "shop"}
    ids |= {cocoa.certifier["id"]: "certifier", cocoa.trader["id"]: "trader", "everyone": "everyone"}
    members = [n for n in mapped["nodes"] if n["kind"] == "member"]
    assert {n["name"] for n in members} == {"Chocolatier", "Control Union", FARM_NAME, "Trader", "Shop"}
    assert next(n for n in members if n["name"] == "Chocolatier")["roles"] == ["coordinator"]
    edges = {(e["kind"], ids[e["source"]], ids[e["target"]]): e for e in mapped["edges"]}
    assert set(edges) == {("flow", "farm", "shop"), ("default", "brand", "everyone"), ("sharing", "shop", "certifier")}
    assert edges["flow", "farm", "shop"]["weight"] == 2  # the trader's receipt is withheld from the coordinator
    assert edges["default", "brand", "everyone"]["weight"] == len(EVENT_CATEGORIES) + 2
    assert edges["sharing", "shop", "certifier"]["categories"] == ["what"]
    operator_view = cocoa.get("map", cocoa.api.admin)
    assert {
        (e["kind"], e["source"], e["target"], e["weight"]) for e in operator_view["edges"] if e["kind"] == "flow"
    } == {
        ("flow", cocoa.farm["id"], cocoa.shop["id"], 2),
        ("flow", cocoa.farm["id"], cocoa.trader["id"], 1),
    }

    response = cocoa.api.client.get(f"/constellations/{SLUG}/map.svg", headers=cocoa.brand_h)
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("role") == "img" and root.get("aria-label")
    texts = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}tspan")}
    assert {"Chocolatier", "Control Union", FARM_NAME, "Trader", "Shop"} <= texts
    assert len(list(root.iter("{http://www.w3.org/2000/svg}polygon"))) == 5
    assert all(
        g.find("{http://www.w3.org/2000/svg}title") is not None for g in root.iter("{http://www.w3.org/2000/svg}g")
    )
    assert "href" not in response.text and "@import" not in response.text
    assert cocoa.api.client.get(f"/constellations/{SLUG}/map.svg", headers=cocoa.brand_h).text == response.text


def test_only_a_coordinator_reads_the_health_views(cocoa: Cocoa, api: Api) -> None:
    _, outsider_h = api.onboard("Competitor")
    for view in ("map", "map.svg", "metrics", "scorecards", "commitments"):
        path = f"/constellations/{SLUG}/{view}"
        anonymous = api.client.get(path)
        assert anonymous.status_code == 401 and "API key" in anonymous.json()["detail"]
        member = api.client.get(path, headers=cocoa.shop_h)
        assert member.status_code == 403 and "only a coordinator of 'cocoa'" in member.json()["detail"]
        assert "retailer" in member.json()["detail"]
        assert api.client.get(path, headers=outsider_h).status_code == 403
        assert api.client.get(f"/constellations/tea/{view}", headers=cocoa.brand_h).status_code == 404
        assert api.client.get(path, headers=api.admin).status_code == 200
    assert (
        api.client.get(f"/constellations/{SLUG}/metrics", params={"weeks": 0}, headers=cocoa.brand_h).status_code == 422
    )


def _older_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalogue as deployments before commitments knew it."""
    monkeypatch.setattr(
        schema_catalogue, "BUILTIN", {k: v for k, v in schema_catalogue.BUILTIN.items() if k != "commitment"}
    )


def test_an_existing_deployment_registers_the_commitment_schema_on_chain(
    api: Api, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, member_h = api.onboard("Member")
    runtime: Runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    _older_catalogue(monkeypatch)
    runtime.ensure_schemas()
    assert api.client.get("/attestation-schemas/commitment", headers=member_h).status_code == 404
    monkeypatch.undo()
    schema = api.client.get("/attestation-schemas/commitment", headers=member_h).json()
    assert schema["builtin"] is True and schema["required_roles"] == [] and schema["revocable"] is True
    record = chain.attestations.get_schema(bytes.fromhex(schema["uid"][2:]))
    assert record.definition == schema["definition"] and record.registrant == chain.sender.address
    taken = api.client.post(
        "/attestation-schemas",
        json={"name": "certification", "title": "Mine", "json_schema": {"type": "object"}},
        headers=member_h,
    )
    assert taken.status_code == 409


def test_a_custom_schema_named_commitment_keeps_its_name(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    member, member_h = api.onboard("Member")
    _older_catalogue(monkeypatch)
    custom = api.client.post(
        "/attestation-schemas",
        json={"name": "commitment", "title": "Our own", "json_schema": {"type": "object"}},
        headers=member_h,
    )
    assert custom.status_code == 201, custom.text
    monkeypatch.undo()
    listed = {s["name"]: s for s in api.client.get("/attestation-schemas", headers=member_h).json()}
    assert set(listed) == set(schema_catalogue.BUILTIN)  # every other built-in is there, the name stays taken
    assert listed["commitment"]["builtin"] is False and listed["commitment"]["registered_by"] == member["id"]


def _aggregates(cocoa: Cocoa, headers: dict[str, str]) -> list[dict[str, Any]]:
    log = cocoa.api.client.get("/access-log", headers=headers)
    assert log.status_code == 200, log.text
    return [e for e in log.json() if e["record"]["kind"] == "aggregate"]


def test_every_coordinator_view_is_logged_for_the_owners_whose_records_it_drew_on(cocoa: Cocoa) -> None:
    brand_id = cocoa.brand["id"]
    roles = cocoa.api.client.put(
        f"/constellations/{SLUG}/members/{brand_id}", json={"roles": ["coordinator", "retailer"]}, headers=cocoa.brand_h
    )
    assert roles.status_code == 200, roles.text
    cocoa.capture(cocoa.brand_h, _event(cocoa.now - timedelta(minutes=30), "receiving", "in_progress", [LOT_A]))
    for view in ("map", "metrics", "scorecards", "commitments"):
        cocoa.get(view)
    page = cocoa.api.client.get(f"/coordinator/{SLUG}", headers={**cocoa.brand_h, "Accept": "text/html"})
    assert page.status_code == 200, page.text

    farm = {e["record"]["ref"]: e for e in _aggregates(cocoa, cocoa.farm_h)}
    assert set(farm) == {f"{v}:{SLUG}" for v in ("map", "metrics", "scorecards", "commitments", "coordinator")}
    assert all(e["reader"] == {"kind": "member", "id": brand_id} for e in farm.values())
    # three events, two footprints and three pledges; the map drew on its shipment only
    assert farm[f"metrics:{SLUG}"]["records"] == farm[f"coordinator:{SLUG}"]["records"] == 3 + 2 + 3
    assert farm[f"map:{SLUG}"]["records"] == 1 and farm[f"map:{SLUG}"]["endpoint"] == "coordination.map"
    assert farm[f"metrics:{SLUG}"]["shown"] == sorted(
        ["what", "when", "where", "why", "quantities", "attestation:commitment", "attestation:product-carbon-footprint"]
    )
    assert farm[f"metrics:{SLUG}"]["basis"]  # the constellation default that showed it
    certifier = {e["record"]["ref"]: e["records"] for e in _aggregates(cocoa, cocoa.certifier_h)}
    assert certifier[f"scorecards:{SLUG}"] == 1  # its certificate
    shop = {e["record"]["ref"]: e["records"] for e in _aggregates(cocoa, cocoa.shop_h)}
    assert shop[f"map:{SLUG}"] == shop[f"metrics:{SLUG}"] == 1
    assert _aggregates(cocoa, cocoa.trader_h) == []  # it withholds its times: nothing of it was read
    assert _aggregates(cocoa, cocoa.brand_h) == []  # the coordinator's own records are not logged to itself


def test_the_operators_reads_of_the_views_are_logged_too(cocoa: Cocoa) -> None:
    cocoa.get("scorecards", headers=cocoa.api.admin)
    (entry,) = _aggregates(cocoa, cocoa.shop_h)
    assert entry["reader"]["kind"] == "operator" and entry["basis"] == ["operator"]
    assert entry["records"] == 1
