"""What a journey says a claim is, and what it adds up to, on a real Anvil and both databases:
claim states from the claim itself (its body's validity, its revocation, a dispute), pledges
apart from claims, a recall of an input on the product, an honest carbon headline whose
per-input table agrees with the claims list, the product's image and origin."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from service.web import journeys as journey_web

from . import journey
from .conftest import Api
from .test_journeys import JSON, PCF, ROAST_PATH, Shop, _capture, _recall
from .test_provenance_api import Journey

LOT_1_PATH = f"/01/{journey.GREEN}/10/FARM1-2026"
CERTIFICATE = {"standard": "Organic (EU)", "certificateId": "BIO-1", "issuingBody": "Kiwa BCS"}


@pytest.fixture
def shop(api: Api) -> Shop:
    return Shop(api)


def _claims(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["uid"]: c for c in body["claims"]}


def _attest(
    shop: Shop, headers: dict[str, str], schema: str, subject: dict[str, Any], body: dict[str, Any], **more: Any
) -> Any:
    response = shop.api.client.post(
        "/attestations",
        json={"constellation": "coffee", "schema": schema, "subject": subject, "body": body, **more},
        headers=headers,
    )
    return response


def _lot_1() -> dict[str, Any]:
    return {"kind": "item", "gtin": journey.GREEN, "lot": "FARM1-2026"}


# --- claim states -----------------------------------------------------------------------------


def test_a_certificate_lapsed_by_its_body_is_expired_with_its_date_everywhere(shop: Shop) -> None:
    lapsed = shop.attest(shop.certifier_h, "certification", journey.LOT_1, {**CERTIFICATE, "validUntil": "2025-01-31"})
    shop.runtime.relay(flush=True)
    body = shop.page(ROAST_PATH, JSON).json()
    claim = _claims(body)[lapsed]
    assert (claim["status"], claim["statusDate"], claim["validUntil"]) == ("expired", "2025-01-31", "2025-01-31")
    assert (claim["kind"], claim["title"], claim["selfIssued"]) == ("certification", "Organic (EU)", False)
    assert body["summary"]["claims"]["expired"] == 1
    assert [c["title"] for c in body["summary"]["certifications"]] == ["Fairtrade"]  # the valid one only
    assert body["summary"]["certifications"][0]["validUntil"] == "2027-12-31"
    read = shop.api.client.get(f"/attestations/{lapsed}", headers=shop.brand_h).json()
    assert (read["status"], read["status_date"], read["valid_until"]) == ("expired", "2025-01-31", "2025-01-31")


def test_a_withheld_validity_is_not_given_away_by_the_dates_beside_the_status(shop: Shop) -> None:
    """A certifier shares its certificate's standard with the public, not its validUntil: the
    public learns the certificate lapsed (a shopper must not read it as valid), not the day."""
    auditor, auditor_h = shop.api.onboard("Discreet Audits")
    joined = shop.api.client.put(
        f"/constellations/coffee/members/{auditor['id']}", json={"roles": ["certifier"]}, headers=shop.brand_h
    )
    assert joined.status_code == 200, joined.text
    shown = [f"attestation:certification/{name}" for name in ("standard", "certificateId", "issuingBody")]
    shop.api.grant(auditor_h, "coffee", shown, audience={"kind": "public"})
    lapsed = shop.attest(auditor_h, "certification", journey.LOT_1, {**CERTIFICATE, "validUntil": "2025-01-31"})
    shop.runtime.relay(flush=True)
    public = _claims(shop.page(ROAST_PATH, JSON).json())[lapsed]
    assert public["status"] == "expired" and "validUntil" not in public["body"]
    assert (public["statusDate"], public["validUntil"]) == (None, None), public
    own = _claims(shop.page(ROAST_PATH, {**JSON, **auditor_h}).json())[lapsed]
    assert (own["status"], own["statusDate"], own["validUntil"]) == ("expired", "2025-01-31", "2025-01-31")
    read = shop.api.client.get(f"/attestations/{lapsed}").json()  # the API says as much as the page
    assert (read["status"], read["status_date"], read["valid_until"]) == ("expired", None, None), read


def test_a_footprint_is_valid_from_its_reference_periods_end_for_three_years(shop: Shop) -> None:
    future = shop.attest(
        shop.farm_h,
        "product-carbon-footprint",
        journey.LOT_1,
        {**PCF, "referencePeriodEnd": "2099-12-31T00:00:00Z", "pCfExcludingBiogenic": 1.0},
    )
    old = shop.attest(
        shop.farm_h,
        "product-carbon-footprint",
        journey.LOT_2,
        {**PCF, "referencePeriodStart": "2020-01-01T00:00:00Z", "referencePeriodEnd": "2020-12-31T00:00:00Z",
         "pCfExcludingBiogenic": 9.0, "fossilGhgEmissions": 9.0, "fossilCarbonContent": 0, "biogenicCarbonContent": 0,
         "crossSectoralStandardsUsed": ["ISO 14067"]},
    )  # fmt: skip
    shop.runtime.relay(flush=True)
    claims = _claims(shop.page(ROAST_PATH, JSON).json())
    assert (claims[future]["status"], claims[future]["statusDate"]) == ("not-yet-valid", "2099-12-31")
    assert (claims[old]["status"], claims[old]["validFrom"], claims[old]["validUntil"]) == (
        "expired",
        "2020-12-31",
        "2023-12-30",
    )
    assert claims[shop.pcf_1]["status"] == "valid" and claims[shop.pcf_1]["validUntil"] == "2028-12-30"
    # the PACT export deprecates the footprint its body says has lapsed
    shop.api.own_prefix(shop.farm_h, journey.GREEN)
    registered = shop.api.client.put("/products", json={"gtin": journey.GREEN, "name": "Green"}, headers=shop.farm_h)
    assert registered.status_code == 200, registered.text
    exported = shop.api.client.get(f"/attestations/{old}/footprint", headers=shop.brand_h)
    assert exported.status_code == 200 and exported.json()["status"] == "Deprecated", exported.text
    assert "was expired" in exported.json()["statusComment"]


def test_a_revoked_certificate_says_when(shop: Shop) -> None:
    revoked = shop.api.client.post(f"/attestations/{shop.certificate}/revoke", json={}, headers=shop.certifier_h)
    assert revoked.status_code in (200, 202), revoked.text
    shop.runtime.relay(flush=True)
    body = shop.page(ROAST_PATH, JSON).json()
    claim = _claims(body)[shop.certificate]
    assert claim["status"] == "revoked" and claim["statusDate"] == body["generatedAt"][:10]
    assert body["summary"]["certifications"] == []


def test_a_certifiers_dispute_makes_a_claim_disputed_until_it_is_withdrawn(shop: Shop) -> None:
    dispute = {"reason": "the certificate number is not in the scheme's register"}
    refused = _attest(shop, shop.farm_h, "dispute", _lot_1(), dispute, ref_uid=shop.certificate)
    assert refused.status_code == 403 and "certifier or coordinator" in refused.json()["detail"], refused.text
    elsewhere = {"kind": "item", "gtin": journey.GREEN, "lot": "FARM2-2026"}
    wrong = _attest(shop, shop.certifier_h, "dispute", elsewhere, dispute, ref_uid=shop.certificate)
    assert wrong.status_code == 422 and "subject of the claim it disputes" in wrong.json()["detail"], wrong.text
    unnamed = _attest(shop, shop.certifier_h, "dispute", _lot_1(), dispute)
    assert unnamed.status_code == 422 and "ref_uid" in unnamed.json()["detail"], unnamed.text

    made = _attest(shop, shop.certifier_h, "dispute", _lot_1(), dispute, ref_uid=shop.certificate)
    assert made.status_code == 201, made.text
    shop.runtime.relay(flush=True)
    body = shop.page(ROAST_PATH, JSON).json()
    claims = _claims(body)
    assert claims[shop.certificate]["status"] == "disputed" and claims[shop.certificate]["statusDate"]
    assert made.json()["uid"] not in claims  # the dispute shows as its claim's status
    assert body["summary"]["claims"]["disputed"] == 1 and body["summary"]["certifications"] == []
    disputed = claims[shop.certificate]
    assert disputed["disputedBy"] == {"id": shop.certifier["id"], "name": "Bureau Veritas"}
    assert disputed["disputeReason"] == dispute["reason"]  # the certifier shares its attestations publicly
    page = shop.page(ROAST_PATH, {"Accept": "text/html"}).text
    assert "Disputed by Bureau Veritas since" in page and "not in the scheme&#39;s register" in page
    read = shop.api.client.get(f"/attestations/{shop.certificate}", headers=shop.brand_h).json()
    assert read["status"] == "disputed"

    withdrawn = shop.api.client.post(f"/attestations/{made.json()['uid']}/revoke", json={}, headers=shop.certifier_h)
    assert withdrawn.status_code in (200, 202), withdrawn.text
    shop.runtime.relay(flush=True)
    assert _claims(shop.page(ROAST_PATH, JSON).json())[shop.certificate]["status"] == "valid"


def test_a_pledge_is_shown_apart_with_its_progress_never_as_a_claim(shop: Shop) -> None:
    farm_id = shop.farm["id"]
    pledge = {"metric": "certified-share", "standard": "Fairtrade", "gtins": [journey.GREEN], "targetPercent": 100,
              "deadline": "2099-06-30", "statement": "Every lot Fairtrade certified"}  # fmt: skip
    made = _attest(shop, shop.farm_h, "commitment", {"kind": "member", "member_id": farm_id}, pledge)
    assert made.status_code == 201, made.text
    shop.runtime.relay(flush=True)
    body = shop.page(ROAST_PATH, {**JSON, **shop.brand_h}).json()
    uid = made.json()["uid"]
    assert uid not in _claims(body) and all(c["kind"] != "pledge" for c in body["claims"])
    (shown,) = body["pledges"]
    assert shown["uid"] == uid and shown["title"] == "Every lot Fairtrade certified"
    assert shown["by"]["name"] == "Farms Cooperative" and shown["dueDate"] == "2099-06-30"
    assert shown["target"] == {"percent": 100, "standard": "Fairtrade", "metric": "certified-share"}
    assert shown["progress"]["state"] == "on track"  # one of its two lots certified, long before the deadline
    assert shown["progress"]["detail"]["certifiedLots"] == 1 and shown["progress"]["detail"]["lots"] == 2
    assert sum(body["summary"]["claims"].values()) == len(body["claims"]) and body["summary"]["pledges"] == 1
    assert all(c["title"] != shown["title"] for c in body["summary"]["certifications"])


def test_claims_say_whether_their_issuer_speaks_about_itself(shop: Shop) -> None:
    shop.api.own_prefix(shop.farm_h, journey.GREEN)
    claims = _claims(shop.page(ROAST_PATH, JSON).json())
    assert claims[shop.pcf_1]["selfIssued"] is True and claims[shop.pcf_1]["kind"] == "footprint"
    assert claims[shop.pcf_1]["title"] == "Carbon footprint"
    assert claims[shop.certificate]["selfIssued"] is False


# --- recall -----------------------------------------------------------------------------------


def _recall_lot_1(shop: Shop, headers: dict[str, str], **extra: Any) -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2026-06-01T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "bizStep": "holding",
        "disposition": "recalled",
        "quantityList": [{"epcClass": journey.LOT_1, "quantity": 600, "uom": "KGM"}],
        **extra,
    }
    document = journey.document([event])
    document["@context"] = [*journey.CONTEXT, {"ex": "https://farms.example/epcis/"}]
    captured = shop.api.client.post(
        "/epcis/capture",
        content=json.dumps(document).encode(),
        headers={**headers, "Constellate-Constellation": "coffee", "Content-Type": "application/json"},
    )
    assert captured.status_code == 202, captured.text


def test_a_recalled_input_puts_a_recall_on_the_product(shop: Shop) -> None:
    shop.api.own_prefix(shop.farm_h, journey.GREEN)  # the farm brands the green coffee: it may recall its lots
    shop.api.grant(shop.farm_h, "coffee", ["why", "extensions"], audience={"kind": "public"})
    assert shop.page(ROAST_PATH, JSON).json()["recall"] is None
    _recall_lot_1(shop, shop.shop_h)  # a retailer may not recall another's product
    assert shop.page(ROAST_PATH, JSON).json()["recall"] is None

    _recall_lot_1(shop, shop.farm_h, **{"ex:recallAdvice": "Return the coffee to the shop for a refund."})
    body = shop.page(ROAST_PATH, JSON).json()
    recall = body["recall"]
    assert recall["state"] == "recalled" and recall["by"]["name"] == "Farms Cooperative"
    assert recall["at"] == "2026-06-01T08:00:00Z"
    advice = "Return the coffee to the shop for a refund."
    by = {"id": shop.farm["id"], "name": "Farms Cooperative"}
    assert recall["items"] == [
        {
            "id": journey.LOT_1,
            "label": journey.LOT_1,
            "path": LOT_1_PATH,
            "by": by,
            "at": "2026-06-01T08:00:00Z",
            "advice": advice,
        }
    ]
    assert (recall["advice"], recall["adviceSource"]) == ("Return the coffee to the shop for a refund.", "event")
    assert recall["statusLink"] == f"http://127.0.0.1:8000{ROAST_PATH}?linkType=gs1%3ArecallStatus"
    assert body["status"] is None  # the roast lot itself was not recalled
    status = shop.page(f"{ROAST_PATH}?linkType=gs1:recallStatus").json()
    assert status["recalled"] is True and status["recall"]["items"][0]["id"] == journey.LOT_1
    links = shop.page(ROAST_PATH, {"Accept": "application/linkset+json"}).json()["linkset"][0]
    assert links["https://gs1.org/voc/recallStatus"][0]["href"] == recall["statusLink"]


def test_a_recall_without_advice_gives_the_default(shop: Shop) -> None:
    brand_id = shop.api.client.get("/members/me", headers=shop.brand_h).json()["id"]
    roles = shop.api.client.put(
        f"/constellations/coffee/members/{brand_id}", json={"roles": ["coordinator", "retailer"]}, headers=shop.brand_h
    )
    assert roles.status_code == 200, roles.text
    _recall_lot_1(shop, shop.brand_h)  # the coordinator of the brand's constellation (nobody brands the lot)
    recall = shop.page(ROAST_PATH, {**JSON, **shop.brand_h}).json()["recall"]
    assert recall["by"]["name"] == "Roaster Brand" and recall["adviceSource"] == "default" and recall["advice"]
    assert shop.page(f"{ROAST_PATH}?linkType=gs1:recallStatus", shop.brand_h).json()["recalled"] is True


# --- honest carbon ----------------------------------------------------------------------------


def _agrees(body: dict[str, Any]) -> None:
    """Each input of the roll-up names its claim and carries that claim's status."""
    claims = _claims(body)
    for entry in body["footprint"]["inputs"]:
        if entry["claimUid"] is not None:
            assert entry["status"] == claims[entry["claimUid"]]["status"], entry
        footprints = [
            c for c in claims.values() if c["kind"] == "footprint" and c["subject"]["id"] == entry["identifier"]
        ]
        if footprints:
            assert entry["claimUid"] in {c["uid"] for c in footprints}, entry


def test_a_roll_up_is_a_lower_bound_naming_its_coverage(shop: Shop) -> None:
    body = shop.page(ROAST_PATH, JSON).json()
    footprint = body["footprint"]
    assert footprint["headline"] == "at-least" and footprint["processingIncluded"] is False
    assert footprint["coverage"] == {"massShare": 1.0, "inputsCovered": 2, "inputsTotal": 2}
    assert (footprint["boundary"], footprint["biogenic"]) == ("cradle-to-gate", "excluded")
    assert {i["claimUid"] for i in footprint["inputs"]} == {shop.pcf_1, shop.pcf_2}
    _agrees(body)

    shop.api.client.post(f"/attestations/{shop.pcf_2}/revoke", json={}, headers=shop.farm_h)
    shop.runtime.relay(flush=True)
    body = shop.page(ROAST_PATH, JSON).json()
    footprint = body["footprint"]
    assert footprint["headline"] == "at-least" and footprint["kgCO2ePerDeclaredUnit"] == pytest.approx(1.8)
    assert footprint["coverage"] == {"massShare": 0.5, "inputsCovered": 1, "inputsTotal": 2}
    lot_2 = next(i for i in footprint["inputs"] if i["identifier"] == journey.LOT_2)
    assert (lot_2["claimUid"], lot_2["status"], lot_2["counted"], lot_2["reason"]) == (
        shop.pcf_2,
        "revoked",
        False,
        "claim-not-valid",
    )
    _agrees(body)

    shop.api.client.post(f"/attestations/{shop.pcf_1}/revoke", json={}, headers=shop.farm_h)
    shop.runtime.relay(flush=True)
    footprint = shop.page(ROAST_PATH, JSON).json()["footprint"]
    assert footprint["headline"] == "not-enough-data" and footprint["kgCO2ePerDeclaredUnit"] is None
    assert footprint["coverage"]["inputsCovered"] == 0


def test_the_products_own_footprint_is_complete(shop: Shop) -> None:
    own = shop.attest(
        shop.roaster_h, "product-carbon-footprint", journey.ROAST_LOT, {**PCF, "pCfExcludingBiogenic": 6.1}
    )
    shop.runtime.relay(flush=True)
    footprint = shop.page(ROAST_PATH, {**JSON, **shop.brand_h}).json()["footprint"]
    assert footprint["headline"] == "complete" and footprint["processingIncluded"] is True
    assert footprint["claimUid"] == own and footprint["kgCO2ePerDeclaredUnit"] == pytest.approx(6.1)


def test_an_inputs_footprint_counts_whatever_else_of_its_owner_the_reader_sees(api: Api) -> None:
    """The cause of 'valid' in the claims list and 'missing' in the roll-up: whether a footprint
    counted depended on the reader seeing its issuer's events name the item."""
    coffee = Journey(api)
    api.own_prefix(coffee.roaster_h, journey.ROASTED)
    api.grant(coffee.farm_h, "coffee", ["what", "when", "attestations"], audience={"kind": "public"})  # no quantities
    api.grant(coffee.roaster_h, "coffee", ["what", "when", "where", "why", "quantities"], audience={"kind": "public"})
    uids = []
    for lot, figure in (("FARM1-2026", 3.0), ("FARM2-2026", 5.0)):
        made = api.client.post(
            "/attestations",
            json={"constellation": "coffee", "schema": "product-carbon-footprint",
                  "subject": {"kind": "item", "gtin": journey.GREEN, "lot": lot},
                  "body": {**PCF, "pCfExcludingBiogenic": figure}},
            headers=coffee.farm_h,
        )  # fmt: skip
        assert made.status_code == 201, made.text
        uids.append(made.json()["uid"])
    coffee.runtime.relay(flush=True)
    body = api.client.get(ROAST_PATH, headers=JSON).json()
    assert body["footprint"]["coverage"]["inputsCovered"] == 2, body["footprint"]
    assert body["footprint"]["kgCO2ePerDeclaredUnit"] == pytest.approx(4.8)
    _agrees(body)
    lot = api.client.get(LOT_1_PATH, headers=JSON).json()["footprint"]  # the lot's own footprint
    assert lot["headline"] == "complete" and lot["claimUid"] == uids[0]


# --- master data and origin ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "ok"),
    [
        ("https://cdn.roastery.example/packs/espresso.png", True),
        ("/static/espresso.png", True),
        ("javascript:alert(1)", False),
        ("//evil.example/x.png", False),
        ('https://a.example/x.png" onerror="alert(1)', False),
        ("https://a.example/" + "x" * 500, False),
        ("/01/09506000134352?lang=de", False),  # a page: every viewer's browser would read it
        ("/static/espresso.png?v=2", False),
        ("/static/espresso.png#top", False),
        ("/static/../01/09506000134352", False),
        ("/static/%2E%2e/login", False),
        ("/login", False),
        ("https://cdn.roastery.example/espresso.png?w=400", True),
    ],
)
def test_a_product_image_is_a_url_or_a_path_on_this_site(shop: Shop, image: str, ok: bool) -> None:
    product = {"gtin": journey.ROASTED, "name": "Espresso", "image": image}
    response = shop.api.client.put("/products", json=product, headers=shop.roaster_h)
    if not ok:
        assert response.status_code == 422 and "image" in response.text, response.text
        return
    assert response.status_code == 200 and response.json()["image"] == image, response.text
    assert shop.page(ROAST_PATH, JSON).json()["product"]["image"] == image


def test_the_origin_is_what_origin_claims_and_master_data_share(shop: Shop) -> None:
    assert shop.page(ROAST_PATH, JSON).json()["origin"] is None
    shop.api.own_prefix(shop.farm_h, journey.GREEN)
    origin = {"country": "ET", "region": "Sidama, Bensa", "harvestYear": 2026}
    assert _attest(shop, shop.farm_h, "origin", _lot_1(), origin).status_code == 201
    shop.runtime.relay(flush=True)
    shown = shop.page(ROAST_PATH, JSON).json()["origin"]
    assert shown == {
        "regions": ["Sidama, Bensa"],
        "countries": ["ET"],
        "producers": [{"id": shop.farm["id"], "name": "Farms Cooperative"}],
    }


def test_two_recalls_by_two_members_each_name_their_recaller(shop: Shop) -> None:
    """The banner gave both items to the latest recaller."""
    shop.api.own_prefix(shop.farm_h, journey.GREEN)  # the farm brands the green coffee: it may recall its lots
    shop.api.grant(shop.farm_h, "coffee", ["why", "extensions"], audience={"kind": "public"})
    _recall_lot_1(shop, shop.farm_h, **{"ex:recallAdvice": "Return the coffee to the shop for a refund."})
    _capture(shop, shop.roaster_h, "coffee", [_recall("2026-06-02T08:00:00Z")])
    recall = shop.page(ROAST_PATH, JSON).json()["recall"]
    assert recall["by"]["name"] == "Roastery" and recall["at"] == "2026-06-02T08:00:00Z"  # the latest, as before
    said = {i["id"]: (i["by"]["name"], i["at"], i["advice"]) for i in recall["items"]}
    assert said == {
        journey.ROAST_LOT: ("Roastery", "2026-06-02T08:00:00Z", None),
        journey.LOT_1: ("Farms Cooperative", "2026-06-01T08:00:00Z", "Return the coffee to the shop for a refund."),
    }
    page = shop.page(ROAST_PATH, {"Accept": "text/html"}).text
    assert "recalled by Roastery on 2 Jun 2026" in page and "recalled by Farms Cooperative on 1 Jun 2026" in page


SELF_KEY = "0x" + "5a" * 32


def test_verified_says_whose_key_signed_the_steps(shop: Shop) -> None:
    """The panel said nobody, not even this site, could have written a step the site signs for a
    member whose key it holds."""
    body = shop.page(ROAST_PATH, JSON).json()
    assert {s["who"]["custody"] for s in body["steps"]} == {"managed"}
    page = shop.page(ROAST_PATH, {"Accept": "text/html"}).text
    assert "which this service holds for them: the service signed them for the partners" in page
    assert "not even this site" not in page

    own = Account.from_key(SELF_KEY)
    coop, coop_h = shop.api.onboard("Self Custody Coop", address=own.address)
    joined = shop.api.client.put(
        f"/constellations/coffee/members/{coop['id']}", json={"roles": ["retailer"]}, headers=shop.brand_h
    )
    assert joined.status_code == 200, joined.text
    event = {**_recall("2026-06-03T08:00:00Z"), "bizStep": "receiving", "disposition": "in_progress"}
    document = json.dumps(journey.document([event])).encode()
    headers = {**coop_h, "Constellate-Constellation": "coffee", "Content-Type": "application/json"}
    prepared = shop.api.client.post("/epcis/capture/prepare", content=document, headers=headers)
    assert prepared.status_code == 200, prepared.text
    typed = prepared.json()["messages"][0]
    signature = "0x" + bytes(Account.sign_message(encode_typed_data(full_message=typed), SELF_KEY).signature).hex()
    captured = shop.api.client.post(
        "/epcis/capture",
        content=document,
        headers={**headers, "Constellate-Signature": signature, "Constellate-Capture-Seed": prepared.json()["seed"]},
    )
    assert captured.status_code == 202, captured.text
    mine = shop.page(ROAST_PATH, {**JSON, **coop_h}).json()  # the coop reads its own step
    custody = {s["who"]["name"]: s["who"]["custody"] for s in mine["steps"]}
    assert custody["Self Custody Coop"] == "self" and custody["Roastery"] == "managed"
    problems = shop.api.client.get(ROAST_PATH, headers={**JSON, **coop_h}).json()
    assert all(not journey_web.summary_mismatches(s) for s in problems["steps"])  # custody is not the event's
    page = shop.page(ROAST_PATH, {"Accept": "text/html", **coop_h}).text
    assert "signed with the own key of the partner named on it (Self Custody Coop): not even this site" in page
    assert "which this service holds for them" in page
