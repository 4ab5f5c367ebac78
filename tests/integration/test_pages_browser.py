"""The pages in a real browser (Debian's headless Chromium, driven by Playwright) against the
service listening on 127.0.0.1: the customer's journey page agrees with the JSON journey, its
badges, withheld counts and footprint roll-up change on the next request after a revocation;
QR codes decode (zbarimg) to the Digital Link URL; markup in data is shown, never run; a page of
another origin can neither sign a visitor in nor out.
Screenshots are kept in build/test-artifacts/ (or $CONSTELLATE_TEST_ARTIFACTS)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from . import journey
from .browser import Served, needs_chromium, shot, texts
from .conftest import Api
from .test_journeys import ROAST_PATH, Shop

pytestmark = [pytest.mark.parametrize("database_url", ["sqlite"], indirect=True), needs_chromium]


def test_the_customer_page_agrees_with_the_json_and_changes_on_revocation(
    api: Api, browser_page: Any, tmp_path: Path
) -> None:
    shop = Shop(api)
    page = browser_page
    with Served(api.client.app) as base:
        body = httpx.get(base + ROAST_PATH, headers={"Accept": "application/json"}).json()
        response = page.goto(base + ROAST_PATH)
        assert response is not None and response.status == 200
        shot(page, "journey-public")

        # The page and the JSON journey say the same thing, step by step.
        refs = page.locator("[data-testid=step]").evaluate_all("els => els.map(e => e.dataset.ref)")
        assert refs == [s["ref"] for s in body["steps"]]
        assert texts(page, "[data-testid=who]") == [s["who"]["name"] for s in body["steps"]]
        whens = page.locator("[data-testid=when] time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
        assert whens == [s["eventTime"] for s in body["steps"] if s["eventTime"]]
        assert page.locator("[data-testid=step]").count() == len(body["steps"])
        hidden = body["summary"]["recordsNotShown"]  # the shop shares nothing: its records are counted
        assert hidden > 0 and f"Not shown to you: {hidden} more record" in page.inner_text(
            "[data-testid=verified-not-shown]"
        )
        page.locator("[data-testid=technical] > summary").click()  # withheld counts are technical details
        withheld = {
            row.get_attribute("data-owner"): int(row.locator("[data-testid=withheld-fields]").inner_text())
            for row in page.locator("[data-testid=withheld-row]").all()
        }
        assert withheld == {w["name"]: w["fields"] for w in body["withheld"]}
        assert withheld["Farms Cooperative"] > 0 and "Coffee Shop" not in withheld
        assert page.inner_text("[data-testid=reader]") == "Public view"

        # Claims by their state and the roll-up, as a lower bound that names its coverage.
        states = {
            c.get_attribute("data-uid"): c.get_attribute("data-status")
            for c in page.locator("[data-testid=claim]").all()
        }
        assert states == {c["uid"]: c["status"] for c in body["claims"]}
        assert states[shop.certificate] == "valid" and states[shop.pcf_2] == "valid"
        badge = f"[data-uid='{shop.certificate}'] [data-testid=badge]"
        assert page.inner_text(badge) == "Valid until 31 Dec 2027"
        assert page.inner_text("[data-testid=footprint-sentence]") == "At least 4.80 kg CO₂e per kg"
        assert page.inner_text("[data-testid=footprint-coverage]") == (
            "inputs making up 100% of the mass have a valid shared footprint; processing steps not included"
        )
        assert page.inner_text("[data-testid=footprint-pack]") == "at least 1.20 kg CO₂e per pack"

        # Markup in data is text: the product name's <b> is shown, not rendered.
        assert page.locator("h1 b").count() == 0 and "<b>Roast</b>" in page.inner_text("h1")

        # Accessible structure: one h1, a language, every form control labelled.
        assert page.locator("h1").count() == 1 and page.get_attribute("html", "lang") == "en"
        assert page.evaluate(
            "() => [...document.querySelectorAll('input:not([type=hidden])')].every(i => i.labels && i.labels.length)"
        )
        assert page.evaluate("() => [...document.querySelectorAll('link[href^=http],script[src^=http]')].length") == 0
        assert page.evaluate(  # no CDN: the only script is this site's own phone check
            "() => [...document.querySelectorAll('script[src]')].every(s => s.getAttribute('src').startsWith('/static/'))"
        )

        # A revocation shows on the next request.
        assert api.client.post(f"/attestations/{shop.pcf_2}/revoke", json={}, headers=shop.farm_h).status_code in (
            200,
            202,
        )
        shop.runtime.relay(flush=True)
        page.reload()
        assert page.get_attribute(f"[data-uid='{shop.pcf_2}']", "data-status") == "revoked"
        assert page.inner_text(f"[data-uid='{shop.pcf_2}'] [data-testid=badge]").startswith("Revoked on ")
        assert page.inner_text("[data-testid=footprint-sentence]") == "At least 1.80 kg CO₂e per kg"
        assert page.inner_text("[data-testid=footprint-coverage]").startswith(
            "inputs making up 50% of the mass have a valid shared footprint"
        )
        shot(page, "journey-after-revocation")

        # A malformed link: a 400 page that says what is wrong.
        bad = page.goto(base + f"/01/{journey.ROASTED[:-1]}0/10/R-0042")
        assert bad is not None and bad.status == 400
        assert "check digit" in page.inner_text("[data-testid=problem]")
        shot(page, "journey-malformed")

        # The QR code on the label decodes to the Digital Link URL on the public base.
        page.goto(base + f"/label{ROAST_PATH}")
        assert page.locator("[data-testid=label] svg").count() == 1
        shot(page, "label")
        png = tmp_path / "qr.png"
        png.write_bytes(httpx.get(base + f"/qr{ROAST_PATH}.png").content)
        decoded = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, check=True)
        assert decoded.stdout.strip() == body["item"]["url"] == shop.runtime.settings.public_base_url + ROAST_PATH


def test_the_brand_signs_in_and_sees_its_view_trace_and_recall(api: Api, browser_page: Any) -> None:
    shop = Shop(api)
    page = browser_page
    token = shop.brand_h["Authorization"].split(" ", 1)[1]
    with Served(api.client.app) as base:
        page.goto(base + f"/login?next={ROAST_PATH}")
        page.get_by_label("API key").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + ROAST_PATH)
        assert page.inner_text("[data-testid=reader]") == "Shared with Roaster Brand"
        assert page.locator("[data-testid=step]").count() == 10
        page.locator("[data-testid=technical] > summary").click()
        assert page.inner_text("[data-testid=withheld-total]") == "0"
        assert page.locator(f"[data-testid=lineage] [data-id='{journey.LOT_1}']").inner_text() == "Lot FARM1-2026"
        shot(page, "journey-brand")

        page.goto(base + f"/recall/01/{journey.GREEN}/10/FARM1-2026")
        affected = texts(page, "[data-testid=affected] td:first-child")
        assert set(affected) == {journey.ROAST_LOT, journey.SSCC}
        shot(page, "recall")
        with page.expect_download() as download:
            page.click("[data-testid=csv-link]")
        assert download.value.suggested_filename == f"recall-{journey.GREEN}-FARM1-2026.csv"

        page.get_by_role("button", name="Sign out").click()
        page.goto(base + ROAST_PATH)
        assert page.inner_text("[data-testid=reader]") == "Public view"


def test_the_coordinator_sees_the_map_metrics_scorecards_and_commitments(api: Api, browser_page: Any) -> None:
    from .test_coordination_api import SLUG, Cocoa

    cocoa = Cocoa(api)
    page = browser_page
    metrics = cocoa.get("metrics")
    cards = cocoa.get("scorecards")
    pledges = cocoa.get("commitments")
    with Served(api.client.app) as base:
        page.goto(base + f"/coordinator/{SLUG}")
        page.wait_for_url(f"{base}/login?next=/coordinator/{SLUG}")  # sign in first
        page.get_by_label("API key").fill(cocoa.brand_h["Authorization"].split(" ", 1)[1])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/coordinator/{SLUG}")
        page.set_viewport_size({"width": 1280, "height": 900})
        shot(page, "coordinator")
        assert page.inner_text("[data-testid=members]") == str(metrics["members"])
        assert page.inner_text("[data-testid=events-total]") == str(metrics["events"]["total"])
        svg = page.locator("[data-testid=map] svg")
        assert svg.count() == 1 and svg.get_attribute("role") == "img"
        labels = svg.text_content()
        for card in cards:
            assert card["member"]["name"] in labels  # names with markup are text, not elements
        assert page.locator("[data-testid=map] sur").count() == 0
        rows = page.locator("[data-testid=scorecard]")
        assert rows.count() == len(cards)
        assert [r.get_attribute("data-member") for r in rows.all()] == [c["member"]["name"] for c in cards]
        weakest = {c["member"]["name"] for c in cards if c["weakest"]}
        assert {r.get_attribute("data-member") for r in page.locator("[data-weakest=true]").all()} == weakest
        statuses = [c.get_attribute("data-status") for c in page.locator("[data-testid=commitment]").all()]
        assert statuses == [p["status"] for p in pledges]
        # Another member is refused, with a page that says why.
        page.get_by_role("button", name="Sign out").click()
        page.goto(base + "/login")
        page.get_by_label("API key").fill(cocoa.farm_h["Authorization"].split(" ", 1)[1])
        page.get_by_role("button", name="Sign in").click()
        refused = page.goto(base + f"/coordinator/{SLUG}")
        assert refused is not None and refused.status == 403
        assert "only a coordinator" in page.inner_text("[data-testid=problem]")


def _lure(victim: dict[str, str], attacker_key: str) -> Starlette:
    """Another site (another port of 127.0.0.1 is another origin): a page whose buttons post
    forms to the service, as a phishing page would (no token: it cannot read one)."""

    def lure(request: Request) -> HTMLResponse:
        base = victim["base"]
        return HTMLResponse(
            f'<form method="post" action="{base}/login"><input type="hidden" name="api_key" value="{attacker_key}">'
            f'<input type="hidden" name="next" value="/"><button id="claim">Claim your prize</button></form>'
            f'<form method="post" action="{base}/logout"><input type="hidden" name="csrf" value="guess">'
            '<button id="leave">Unsubscribe</button></form>'
        )

    return Starlette(routes=[Route("/", lure)])


def test_forms_posted_from_another_site_neither_sign_in_nor_sign_out(api: Api, browser_page: Any) -> None:
    """Login CSRF and forced logout, in Chromium: a page of another origin posting to /login (its
    own key) or /logout is refused and changes nothing; the service's own forms work."""
    _, attacker = api.onboard("Attacker Ltd")
    _, brand = api.onboard("Roaster Brand")
    victim: dict[str, str] = {}
    page = browser_page
    with Served(api.client.app) as base, Served(_lure(victim, attacker["Authorization"].split(" ", 1)[1])) as evil:
        victim["base"] = base
        page.goto(evil + "/")
        with page.expect_navigation() as posted:
            page.click("#claim")
        assert posted.value is not None and posted.value.status == 403
        assert f"a page of {evil} cannot post" in page.inner_text("[data-testid=problem]")
        page.goto(base + "/")
        assert "Attacker Ltd" not in page.inner_text("header") and "Partner sign-in" in page.inner_text("header")

        page.goto(base + "/login")
        page.get_by_label("API key").fill(brand["Authorization"].split(" ", 1)[1])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + "/")
        assert "Signed in as Roaster Brand" in page.inner_text("header")

        page.goto(evil + "/")
        with page.expect_navigation() as posted:
            page.click("#leave")
        assert posted.value is not None and posted.value.status == 403
        page.goto(base + "/")
        assert "Signed in as Roaster Brand" in page.inner_text("header")
        shot(page, "csrf-refused")

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(base + "/")
        assert "Partner sign-in" in page.inner_text("header")
