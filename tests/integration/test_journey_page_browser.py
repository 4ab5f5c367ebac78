"""The journey page as a shopper reads it on a phone (Chromium, 412 x 900 px), on the coffee
journey of test_journeys.py with what a shelf holds: a lapsed certificate, a farm's pledge and a
recall by the brand. The recall is on the first screen, public and signed in; claims say their
state with its date; a pledge is never a certification; no CBV term, event type, unit code or
raw identifier shows outside the collapsed technical details; the carbon figure names its
coverage; German by the browser's language and by the switch, remembered.
Screenshots are kept in build/test-artifacts/ (or $CONSTELLATE_TEST_ARTIFACTS)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from service.web import vocabulary

from . import journey
from .browser import CHROMIUM, Served, needs_chromium, shot
from .conftest import Api
from .test_journeys import ROAST_PATH, Shop, _capture, _recall

pytestmark = [pytest.mark.parametrize("database_url", ["sqlite"], indirect=True), needs_chromium]

PHONE = {"width": 412, "height": 900}
LAPSED = "2025-01-31"
RAW_TERMS = re.compile(
    "|".join(
        [
            r"urn:epcglobal",
            r"ref\.gs1\.org/cbv",
            r"https://id\.gs1\.org/",
            r"\b(?:Object|Aggregation|Transformation|Transaction|Association)Event\b",
            r"\b(?:" + "|".join(sorted({*vocabulary.UNITS, *vocabulary.COUNTED_UNITS})) + r")\b",
            r"\b(?:" + "|".join(t for t in (*vocabulary.BIZ_STEPS, *vocabulary.DISPOSITIONS) if "_" in t) + r")\b",
            r"\b(?:" + "|".join(k for k in vocabulary.FIELDS if re.search("[a-z][A-Z]", k)) + r")\b",
        ]
    )
)
"""What a shopper should never have to read: vocabulary URIs, Digital Link URIs, EPCIS event
types, UN/ECE unit codes, CBV terms and PACT field names."""


class Shelf(Shop):
    """The coffee journey (Shop) as it reaches a shelf: the certifier's organic certificate of
    the second farm lot lapsed on 31 Jan 2025 (its body says so), the farm pledges Fairtrade for
    every lot by mid-2027 (self-issued)."""

    def __init__(self, api: Api) -> None:
        super().__init__(api)
        self.lapsed = self.attest(
            self.certifier_h,
            "certification",
            journey.LOT_2,
            {
                "standard": "Organic (EU)",
                "certificateId": "BIO-7",
                "issuingBody": "Öko-Kontrolle",
                "validUntil": LAPSED,
            },
        )
        farm = api.client.get("/members/me", headers=self.farm_h).json()
        pledged = api.client.post(
            "/attestations",
            json={
                "constellation": "coffee",
                "schema": "commitment",
                "subject": {"kind": "member", "member_id": farm["id"]},
                "body": {
                    "metric": "certified-share",
                    "standard": "Fairtrade",
                    "gtins": [journey.GREEN],
                    "targetPercent": 100,
                    "deadline": "2027-06-30",
                    "statement": "Every lot Fairtrade certified by mid-2027",
                },
            },
            headers=self.farm_h,
        )
        assert pledged.status_code == 201, pledged.text
        self.pledge = str(pledged.json()["uid"])
        self.runtime.relay(flush=True)

    def recall(self) -> None:
        """The brand recalls the roast (public: the roastery shares what, when and why)."""
        _capture(self, self.roaster_h, "coffee", [_recall("2026-05-21T08:00:00Z")])


@pytest.fixture
def shelf(api: Api) -> Shelf:
    return Shelf(api)


@pytest.fixture
def phone() -> Iterator[Any]:
    """A browser context at a phone's size, English unless a test asks otherwise."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])

        def context(**options: Any) -> Any:
            made = browser.new_context(viewport=PHONE, **{"locale": "en-GB", **options})
            contexts.append(made)
            return made.new_page()

        contexts: list[Any] = []
        try:
            yield context
        finally:
            for made in contexts:
                made.close()
            browser.close()


def _visible(page: Any) -> str:
    """The page's text as rendered: collapsed <details> hold what is not shown."""
    text: str = page.inner_text("body")
    assert page.locator("details[open]").count() == 0
    return text


def _in_first_screen(page: Any, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box


def test_a_recall_is_the_first_thing_a_shopper_and_the_brand_read(shelf: Shelf, phone: Any) -> None:
    shelf.recall()
    token = shelf.brand_h["Authorization"].split(" ", 1)[1]
    with Served(shelf.api.client.app) as base:
        page = phone()
        page.goto(base + ROAST_PATH)
        banner = "[data-testid=status][data-state=recalled]"
        _in_first_screen(page, banner)
        said = page.inner_text(banner)
        assert "Recalled" in said and "Roastery recalled it on 21 May 2026." in said
        assert "What to do:" in said
        link = page.get_attribute("[data-testid=recall-status]", "href")
        assert link is not None and "linkType=gs1%3ArecallStatus" in link
        assert page.locator("h1").bounding_box()["y"] > page.locator(banner).bounding_box()["y"]  # type: ignore[index]
        shot(page, "journey-recalled-public")

        page.goto(f"{base}/login?next={ROAST_PATH}")
        page.get_by_label("API key").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + ROAST_PATH)
        assert page.inner_text("[data-testid=reader]") == "Shared with Roaster Brand"
        _in_first_screen(page, banner)
        assert "Roastery recalled it on 21 May 2026." in page.inner_text(banner)
        shot(page, "journey-recalled-brand")


def test_claims_say_their_state_and_date_and_a_pledge_is_never_a_certification(shelf: Shelf, phone: Any) -> None:
    with Served(shelf.api.client.app) as base:
        page = phone()
        page.goto(base + ROAST_PATH)
        assert page.locator("[data-testid=status]").count() == 0  # nothing recalled: no banner

        lapsed = page.locator(f"[data-testid=claim][data-uid='{shelf.lapsed}']")
        assert lapsed.get_attribute("data-status") == "expired"
        assert lapsed.locator("[data-testid=badge]").inner_text() == "Expired on 31 Jan 2025"
        certificate = page.locator(f"[data-testid=claim][data-uid='{shelf.certificate}']")
        assert certificate.locator("[data-testid=badge]").inner_text() == "Valid until 31 Dec 2027"
        assert certificate.locator("[data-testid=claim-title]").inner_text() == "Fairtrade"

        # The first screen: valid certifications by name, issuer and date; the lapsed one is not among them.
        _in_first_screen(page, "[data-testid=certifications]")
        certified = page.inner_text("[data-testid=certifications]")
        assert (
            "Fairtrade · for Lot FARM1-2026 · by Bureau Veritas · valid until 31 Dec 2027" in certified
        )  # an input lot's
        assert "Organic" not in certified
        assert "1 expired claim" in certified

        # The pledge: in its own section with its progress, never a claim card or a certification.
        assert page.locator(f"[data-testid=claim][data-uid='{shelf.pledge}']").count() == 0
        pledge = page.locator(f"[data-testid=pledge][data-uid='{shelf.pledge}']")
        assert pledge.locator("h3").inner_text() == "Every lot Fairtrade certified by mid-2027"
        assert "Pledged by Farms Cooperative · due 30 Jun 2027" in pledge.inner_text()
        assert pledge.locator("[data-testid=pledge-progress]").inner_text().startswith("Progress: ")
        assert "Every lot Fairtrade" not in certified
        assert "certif" not in pledge.locator("xpath=ancestor::section[1]//h2").inner_text().lower()
        shot(page, "journey-claims-public")


def test_the_page_speaks_in_words_and_keeps_the_codes_in_its_details(shelf: Shelf, phone: Any) -> None:
    shelf.api.client.post(f"/attestations/{shelf.pcf_2}/revoke", json={}, headers=shelf.farm_h)
    shelf.runtime.relay(flush=True)  # one input's footprint gone: the roll-up covers half the mass
    with Served(shelf.api.client.app) as base:
        for reader, headers in (("public", {}), ("brand", shelf.brand_h)):
            page = phone(extra_http_headers=headers)
            page.goto(base + ROAST_PATH)
            visible = _visible(page)
            assert RAW_TERMS.findall(visible) == [], reader
            # The carbon figure names what it covers and what it leaves out, on the first screen.
            headline = page.inner_text("[data-testid=carbon-headline]")
            assert headline.startswith("At least 1.80 kg CO₂e per kg"), headline
            assert (
                "inputs making up 50% of the mass have a valid shared footprint; processing steps not included"
                in headline
            )
            _in_first_screen(page, "[data-testid=carbon-headline]")
            assert "fields withheld" not in visible.lower()  # no longer a headline
            titles = [t.strip() for t in page.locator("[data-testid=step-title]").all_inner_texts()]
            assert "Shipped" in titles and "Processed" in titles and "Packed" in titles, titles
            assert "Lot FARM1-2026 · 600 kg" in visible

            # The codes are one tap away.
            details = page.locator("[data-testid=step-details]").first
            details.locator("summary").click()
            assert "KGM" in details.inner_text() and "Event" in details.inner_text()
            technical = page.locator("[data-testid=technical]")
            technical.locator("summary").first.click()
            assert "constellate verify journey" in page.inner_text("[data-testid=verify-command]")
            assert int(page.inner_text("[data-testid=withheld-total]")) >= 0

            assert "What “verified” means here" in visible and "Not proven" in visible
            page.reload()
            shot(page, f"journey-words-{reader}")


def test_german_by_the_browsers_language_and_by_the_switch_remembered(shelf: Shelf, phone: Any) -> None:
    with Served(shelf.api.client.app) as base:
        page = phone(locale="de-DE")  # Chromium sends Accept-Language: de-DE
        page.goto(base + ROAST_PATH)
        assert page.get_attribute("html", "lang") == "de"
        assert page.inner_text("[data-testid=reader]") == "Öffentliche Ansicht"
        lapsed = page.locator(f"[data-testid=claim][data-uid='{shelf.lapsed}'] [data-testid=badge]")
        assert lapsed.inner_text() == "Abgelaufen am 31. Jan. 2025"
        assert page.inner_text("[data-testid=carbon-headline]").startswith("Mindestens 4,80 kg CO₂e pro kg")
        assert RAW_TERMS.findall(_visible(page)) == []
        shot(page, "journey-de")

        english = phone(locale="en-GB")
        english.goto(base + ROAST_PATH)
        assert english.inner_text("[data-testid=reader]") == "Public view"  # each language its own rendering
        english.click("[data-testid=language-de]")
        english.wait_for_url(re.compile(r"\?lang=de$"))
        assert english.inner_text("[data-testid=reader]") == "Öffentliche Ansicht"
        english.goto(base + ROAST_PATH)  # the cookie remembers the choice
        assert english.inner_text("[data-testid=reader]") == "Öffentliche Ansicht"
        english.goto(base + f"/login?next={ROAST_PATH}")
        assert english.inner_text("h1") == "Anmeldung für Partner"
        english.click("[data-testid=language-en]")
        assert english.inner_text("h1") == "Partner sign-in"
        assert english.url.endswith(
            f"/login?next={ROAST_PATH.replace('/', '%2F')}&lang=en"
        )  # the rest of the query kept

        ignored = english.goto(base + ROAST_PATH + "?lang=fr")  # an unknown language: the cookie's (en)
        assert ignored is not None and ignored.status == 200
        assert english.inner_text("[data-testid=reader]") == "Public view"


def test_a_signed_in_page_rendered_once_carries_each_browsers_own_sign_out_token(shelf: Shelf, phone: Any) -> None:
    token = shelf.brand_h["Authorization"].split(" ", 1)[1]
    with Served(shelf.api.client.app) as base:
        browsers = [phone(), phone()]
        for page in browsers:
            page.goto(f"{base}/login?next={ROAST_PATH}")
            page.get_by_label("API key").fill(token)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + ROAST_PATH)
            page.reload()  # the page now comes from the member's rendering of this revision
        forms = [p.get_attribute("form[action='/logout'] input[name=csrf]", "value") for p in browsers]
        cookies = [next(c["value"] for c in p.context.cookies() if c["name"] == "constellate_csrf") for p in browsers]
        assert forms == cookies and forms[0] != forms[1]
        browsers[1].get_by_role("button", name="Sign out").click()
        browsers[1].wait_for_url(base + "/")
        assert "Partner sign-in" in browsers[1].inner_text("header")
        browsers[0].reload()
        assert browsers[0].inner_text("[data-testid=reader]") == "Shared with Roaster Brand"
