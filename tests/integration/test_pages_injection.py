"""Markup in data is text on every page, in a real browser (Debian's headless Chromium) against the
service on 127.0.0.1: hostile strings in every stored field a page shows — member and
constellation names, product master data, lots, EPCIS places and extensions, certification,
footprint, pledge and custom-schema bodies, URLs — are shown literally, never run; nothing
injected exists in the DOM, no `javascript:` URL is a live link, and each page's
Content-Security-Policy allows no script at all (an inline script added to the page is refused)
while the pages' own styles apply. Uploaded evidence (HTML here) is a sandboxed download."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from service.domain.gs1 import ItemKey
from service.domain.policy import EVENT_CATEGORIES

from . import journey
from .browser import Served, needs_chromium, shot
from .conftest import Api

pytestmark = [pytest.mark.parametrize("database_url", ["sqlite"], indirect=True), needs_chromium]

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '"><img src=x onerror="window.__pwned=1">'
TITLE = "</title><script>window.__pwned=1</script>"
TEMPLATE = "{{7*7}}{% if 1 %}49{% endif %}"
LINK = "javascript:window.__pwned=1"
LOT = '"><b/id=pw>L</b>'
"""20 characters of GS1's set 82 at most: an element with id `pw` if it were ever parsed."""
KEY = LOT[:2] + "<i/id=pw>"
"""A custom schema's field name."""

SLUG = "coffee"
BRAND = f"Roaster {SCRIPT}"
FARM = f"Farm {IMG}"
CERTIFIER = f"Certifier {TITLE} {TEMPLATE}"
CONSTELLATION = f"Coffee {IMG} {TEMPLATE}"
PRODUCT = f"Green {TITLE}"
DESCRIPTION = f"{SCRIPT} {TEMPLATE} {LINK}"
ITEM = ItemKey(journey.GREEN, LOT)
LOT_ID = ITEM.digital_link()
PATH = ITEM.digital_link("")


def _event(kind: str, when: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "eventTime": when, "eventTimeZoneOffset": "+00:00", **fields}


class Hostile:
    """A roaster coordinates `coffee`; a farm (GLN of its place) commissions the lot, packs it on
    a pallet at a place named by a `javascript:` URI and publishes everything; a certifier
    certifies the lot; the farm states its footprint, a pledge and a custom claim. Every free
    text holds markup."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.brand, self.brand_h = api.onboard(BRAND)
        self.farm, self.farm_h = api.onboard(FARM, gln=journey.FARM_1.rsplit("/", 1)[1])
        self.certifier, self.certifier_h = api.onboard(CERTIFIER)
        self.call("POST", "/constellations", self.brand_h, {"slug": SLUG, "name": CONSTELLATION})
        for member, roles in ((self.farm, ["supplier"]), (self.certifier, ["certifier"])):
            self.call("PUT", f"/constellations/{SLUG}/members/{member['id']}", self.brand_h, {"roles": roles})
        for headers in (self.farm_h, self.certifier_h):
            api.grant(headers, SLUG, [*EVENT_CATEGORIES, "attestations"], audience={"kind": "public"}, purpose=SCRIPT)
        api.share_everything_by_default(self.brand_h, SLUG)
        api.own_prefix(self.farm_h, journey.GREEN)
        self.call(
            "PUT",
            "/products",
            self.farm_h,
            {"gtin": journey.GREEN, "name": PRODUCT, "brand": IMG, "description": DESCRIPTION},
        )
        extension = {"@context": {"x": "https://example.com/x/"}}
        commission = _event(
            "ObjectEvent",
            "2026-03-01T08:00:00Z",
            action="ADD",
            bizStep="commissioning",
            disposition="active",
            quantityList=[{"epcClass": LOT_ID, "quantity": 600, "uom": "KGM"}],
            bizLocation={"id": journey.FARM_1},
            ilmd={"x:note": SCRIPT, "x:link": LINK},
            **{"x:remark": IMG},
        )
        pack = _event(
            "AggregationEvent",
            "2026-03-02T08:00:00Z",
            action="ADD",
            bizStep="packing",
            parentID=journey.SSCC,
            childQuantityList=[{"epcClass": LOT_ID, "quantity": 600, "uom": "KGM"}],
            readPoint={"id": LINK},
            bizLocation={"id": LINK},
            sensorElementList=[
                {
                    "sensorMetadata": {"time": "2026-03-02T08:00:00Z"},
                    "sensorReport": [{"type": "Temperature", "value": 12, "uom": "CEL", "stringValue": SCRIPT}],
                }
            ],
        )
        document = {**journey.document([commission, pack]), "@context": [*journey.CONTEXT, extension["@context"]]}
        response = api.client.post(
            "/epcis/capture",
            content=json.dumps(document).encode(),
            headers={**self.farm_h, "Constellate-Constellation": SLUG, "Content-Type": "application/json"},
        )
        assert response.status_code == 202, response.text
        subject = {"kind": "item", "gtin": journey.GREEN, "lot": LOT}
        self.attest(
            self.certifier_h,
            "certification",
            subject,
            {
                "standard": SCRIPT,
                "certificateId": IMG,
                "issuingBody": TITLE,
                "scope": f"{TEMPLATE} {LINK}",
                "validUntil": "2030-12-31",
            },
            evidence=[
                {
                    "filename": f"{IMG}.html",
                    "media_type": "text/html",
                    "content_base64": base64.b64encode(SCRIPT.encode()).decode(),
                }
            ],
        )
        self.attest(
            self.farm_h,
            "product-carbon-footprint",
            subject,
            {
                "declaredUnit": "kilogram",
                "unitaryProductAmount": 1,
                "pCfExcludingBiogenic": 2.0,
                "referencePeriodStart": "2025-01-01T00:00:00Z",
                "referencePeriodEnd": "2025-12-31T00:00:00Z",
                "geographyRegionOrSubregion": IMG,
                "boundaryProcessesDescription": SCRIPT,
                "crossSectoralStandardsUsed": [TITLE, LINK],
                "primaryDataShare": 50,
            },
        )
        deadline = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
        self.attest(
            self.farm_h,
            "commitment",
            {"kind": "member", "member_id": self.farm["id"]},
            {
                "metric": "certified-share",
                "gtins": [journey.GREEN],
                "targetPercent": 80,
                "deadline": deadline,
                "statement": f"{SCRIPT} {IMG}",
                "standard": TITLE,
            },
        )
        self.call(
            "POST",
            "/attestation-schemas",
            self.farm_h,
            {
                "name": "farm-notes",
                "title": TITLE,
                "json_schema": {"type": "object", "properties": {KEY: {"type": "string"}, "url": {"type": "string"}}},
            },
        )
        self.attest(self.farm_h, "farm-notes", subject, {KEY: TEMPLATE, "url": LINK})
        self.runtime.relay(flush=True)

    @property
    def runtime(self) -> Any:
        return self.api.client.app.state.runtime  # type: ignore[attr-defined]

    def call(self, method: str, path: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
        response = self.api.client.request(method, path, json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def attest(
        self, headers: dict[str, str], schema: str, subject: dict[str, Any], body: dict[str, Any], **fields: Any
    ) -> str:
        made = self.call(
            "POST",
            "/attestations",
            headers,
            {"constellation": SLUG, "schema": schema, "subject": subject, "body": body, **fields},
        )
        return str(made["uid"])


@pytest.fixture
def hostile(api: Api) -> Hostile:
    return Hostile(api)


@pytest.fixture
def refusals(browser_page: Any) -> list[str]:
    """What the browser's console says the Content-Security-Policy refused."""
    found: list[str] = []
    browser_page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


INERT = """() => ({
    pwned: typeof window.__pwned,
    scripts: document.scripts.length,
    images: document.images.length,
    planted: document.querySelectorAll('#pw').length,
    handlers: [...document.querySelectorAll('*')].flatMap(
        e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => `${e.tagName} ${a.name}`)),
    scriptLinks: [...document.querySelectorAll('[href],[src],[action],[formaction]')]
        .map(e => e.getAttribute('href') ?? e.getAttribute('src') ?? e.getAttribute('action') ?? e.getAttribute('formaction'))
        .filter(url => /^\\s*(javascript|data|vbscript):/i.test(url)),
    margin: getComputedStyle(document.body).margin,
})"""

PROBE = """() => new Promise(resolve => {
    const script = document.createElement('script');
    script.textContent = 'window.__probe = 1';
    document.body.appendChild(script);
    setTimeout(() => resolve(typeof window.__probe), 50);
})"""


def check(page: Any, refusals: list[str], response: Any, status: int, *shown: str, name: str) -> str:
    """The page answered `status`, shows each of `shown` as text, holds nothing injected, and its
    policy refuses nothing of the page itself (its styles apply) but an inline script added to
    it. Returns the page's text."""
    assert response is not None and response.status == status, (name, response and response.status)
    shot(page, f"injection-{name}")
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'none'" in policy and "unsafe" not in policy, policy
    assert "frame-ancestors 'none'" in policy
    own_scripts = 0
    if name.startswith("journey"):  # the phone check: this site's own module, loaded on demand
        assert "script-src 'self'" in policy, policy
        own_scripts = page.locator("script[src^='/static/phone-check.js?v=']").count()
        assert own_scripts <= 1, name
    else:
        assert "script-src" not in policy, policy
    found = page.evaluate(INERT)
    assert found == {
        "pwned": "undefined",
        "scripts": own_scripts,
        "images": 0,
        "planted": 0,
        "handlers": [],
        "scriptLinks": [],
        "margin": "0px",  # base.html's own style applied under the policy
    }, name
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true })")  # technical views too
    text: str = page.inner_text("body")
    for value in shown:
        assert value in text, (name, value)
    assert refusals == [], (name, refusals)
    assert page.evaluate(PROBE) == "undefined", name  # an inline script is refused
    assert refusals, name
    refusals.clear()
    return text


def test_markup_in_every_shown_field_is_text_on_every_page(
    hostile: Hostile, browser_page: Any, refusals: list[str]
) -> None:
    page = browser_page
    with Served(hostile.api.client.app) as base:
        # The public journey page: product, lot, steps, places, claims and footprint.
        text = check(
            page,
            refusals,
            page.goto(base + PATH),
            200,
            PRODUCT,
            IMG,
            DESCRIPTION,
            LOT,
            FARM,
            LINK,
            SCRIPT,
            TITLE,
            TEMPLATE,
            name="journey-public",
        )
        assert page.title().startswith(PRODUCT) and LOT in page.title()
        assert page.inner_text("h1") == PRODUCT
        assert f"{KEY}\n{TEMPLATE}" in text or f"{KEY}\t{TEMPLATE}" in text  # a custom field's name and value
        assert page.locator("[data-testid=claim]").count() == 3 and page.locator("[data-testid=pledge]").count() == 1
        assert FARM in page.locator("[data-testid=who]").all_inner_texts()  # the farm named on its steps

        # Signed in as the brand: its name in the header, the trace with the lot.
        page.goto(base + f"/login?next={quote(PATH)}")
        page.get_by_label("API key").fill(hostile.brand_h["Authorization"].split(" ", 1)[1])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + PATH)
        check(page, refusals, page.reload(), 200, f"Signed in as {BRAND}", LOT_ID, name="journey-brand")

        # The recall report: the pallet, last seen at a `javascript:` place, as text.
        check(page, refusals, page.goto(base + f"/recall{PATH}"), 200, journey.SSCC, LINK, name="recall")
        assert page.locator("[data-testid=affected]").count() == 1

        # The coordinator's view: the constellation's and members' names (the map too), the pledge.
        check(
            page,
            refusals,
            page.goto(base + f"/coordinator/{SLUG}"),
            200,
            CONSTELLATION,
            FARM,
            CERTIFIER,
            f"{FARM}: {SCRIPT} {IMG}",
            TITLE,
            name="coordinator",
        )
        assert page.title().startswith(CONSTELLATION)
        labels = page.locator("[data-testid=map] svg").text_content()
        assert FARM in labels and BRAND in labels and CONSTELLATION in labels
        assert page.locator("[data-testid=map] svg *").evaluate_all(
            "els => els.every(e => e.namespaceURI === 'http://www.w3.org/2000/svg')"
        )

        # The label: the product's name beside the QR code.
        check(page, refusals, page.goto(base + f"/label{PATH}"), 200, PRODUCT, LOT, name="label")

        # The home page and the sign-in form with a hostile `next`.
        check(page, refusals, page.goto(base + "/"), 200, BRAND, name="home")
        page.get_by_role("button", name="Sign out").click()
        hostile_next = "/" + IMG + SCRIPT
        check(page, refusals, page.goto(base + f"/login?next={quote(hostile_next)}"), 200, name="login")
        assert page.locator("input[name=next]").get_attribute("value") == hostile_next
        page.get_by_label("API key").fill("cst_nope_" + SCRIPT)
        with page.expect_navigation() as refused:
            page.get_by_role("button", name="Sign in").click()
        check(page, refusals, refused.value, 401, "That API key is not valid.", name="login-refused")
        assert page.locator("input[name=next]").get_attribute("value") == hostile_next

        # Error pages echo what was asked for as text.
        check(
            page,
            refusals,
            page.goto(base + f"/01/{journey.GREEN}/10/{quote(SCRIPT, safe='')}"),
            400,
            SCRIPT,
            name="error-400",
        )
        page.goto(base + "/login")
        page.get_by_label("API key").fill(hostile.brand_h["Authorization"].split(" ", 1)[1])
        page.get_by_role("button", name="Sign in").click()
        check(page, refusals, page.goto(base + f"/coordinator/{quote(IMG)}"), 404, IMG, name="error-404")

    # Evidence is the uploader's bytes in the uploader's media type (HTML here): always an
    # attachment, never sniffed, sandboxed without script should a browser render it anyway.
    client, brand = hostile.api.client, hostile.brand_h
    certificates = client.get("/attestations", params={"issuer": hostile.certifier["id"]}, headers=brand).json()
    served = client.get(certificates[0]["evidence"][0]["url"], headers=brand)
    assert served.status_code == 200 and served.content == SCRIPT.encode()
    assert served.headers["content-disposition"].startswith("attachment;")
    assert '"' not in served.headers["content-disposition"].split('filename="', 1)[1].rstrip('"')
    assert served.headers["x-content-type-options"] == "nosniff"
    policy = served.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
