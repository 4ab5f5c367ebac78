"""What a person reads on the demo's journeys, as `scripts/up` serves them: each of the five
journeys opened in Chromium at phone size (412 x 900), as the public and as its brand (signed in
through /login with the key `up` prints), in English and in German (Accept-Language: de). A
screenshot of the first screen and of the whole page of each is kept under
build/test-artifacts/demo/. On every page: a recalled lot (or a lot with a recalled input) has
its recall banner inside the first screen; a lapsed certificate says expired with its date; a
pledge is never listed as a certification; no CBV term, event type, UN/ECE unit code, PACT field
name or raw identifier is visible outside the collapsed technical sections; the carbon headline
names its coverage; and the German page says all of it in German, with German dates and numbers."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.pofile import read_po

from service import demo
from service.chain.anvil import free_port
from service.chain.compiler import Artifact
from service.settings import PROJECT_ROOT
from service.web.i18n import Words
from tests.e2e.test_up import _member_keys, _start, _stop, _wait_for_urls
from tests.integration.browser import ARTIFACTS, CHROMIUM, needs_chromium

pytestmark = [needs_chromium, pytest.mark.timeout(600)]

SHOTS = ARTIFACTS / "demo"
WIDTH, HEIGHT = 412, 900
LOTS = [path.rsplit("/", 1)[1] for path in demo.JOURNEYS]
RECALLED = {"LD70-2603"}
"""The demo's recalled lot: its banner must show whatever the journey document says."""
CATALOG = PROJECT_ROOT / "service" / "web" / "translations" / "de" / "LC_MESSAGES" / "messages.po"

RAW = re.compile(
    r"urn:epc|gs1\.org|https?://|\bcbv\b|bizStep|"
    r"\b(?:Object|Aggregation|Transformation|Transaction|Association)Event\b|"
    r"\b(?:KGM|GRM|TNE|LTR|MTR|H87|XBG|XBX)\b|"  # UN/ECE Rec 20/21 codes the demo uses and their kin
    r"\bpCf\w*|declaredUnit|referencePeriod\w*|unitaryProductAmount|productMassPerDeclaredUnit|"  # PACT fields
    r"\b[a-z]+_[a-z_]+\b|"  # CBV terms as written in an event (in_transit, in_progress, ...)
    r"\b\d{13,14}\b|\b0x[0-9a-fA-F]{8,}"  # a GLN or GTIN, a hash or an address
)
VISIBLE = """() => {
  const main = document.querySelector("main").cloneNode(true);
  main.querySelectorAll("details").forEach((d) => d.remove());
  main.style.position = "absolute"; main.style.left = "-10000px"; main.style.width = "412px";
  document.body.appendChild(main);
  const text = main.innerText;
  main.remove();
  return text;
}"""
"""The page's main text a reader sees without opening a technical section."""

CARBON = {
    "en": {
        "at-least": ("At least ", "valid shared footprint", "processing steps not included"),
        "complete": ("declared by", "from raw materials until it leaves the producer"),
        "not-enough-data": ("Not enough shared data for a carbon footprint",),
    },
    "de": {
        "at-least": ("Mindestens ", "gültigen geteilten Fußabdruck", "Verarbeitungsschritte nicht enthalten"),
        "complete": ("erklärt von", "von den Rohstoffen, bis es den Erzeuger verlässt"),
        "not-enough-data": ("Nicht genug geteilte Daten für einen CO₂-Fußabdruck",),
    },
}
"""What the carbon headline must say per headline: its bound and coverage (or whose figure it is
and what it covers), in each language."""
BANNER = {"en": "Recalled: do not use this product", "de": "Rückruf: Verwenden Sie dieses Produkt nicht"}
EXPIRED = {"en": "Expired on {date}", "de": "Abgelaufen am {date}"}
DATE = {"en": r"\d{1,2} [A-Z][a-z]{2,4} \d{4}", "de": r"\d{1,2}\. [A-ZÄÖÜ][a-zä]{2,4}\.? \d{4}"}
NUMBER = {"en": r"\d\.\d\d kg CO₂e", "de": r"\d,\d\d kg CO₂e"}


@pytest.fixture(scope="module")
def demo_up(tmp_path_factory: pytest.TempPathFactory, build_dir: Path, artifacts: dict[str, Artifact]) -> Iterator[Any]:
    """One `scripts/up` with its demo for the whole module: its URL and the members' keys; stopped
    (Ctrl-C, then killed) however the module ends."""
    started: list[subprocess.Popen[str]] = []
    port = free_port()
    process = _start(tmp_path_factory.mktemp("demo-up"), port, contracts=build_dir / "contracts", started=started)
    try:
        keys = _member_keys(_wait_for_urls(process))
        yield f"http://127.0.0.1:{port}", keys
        _stop(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def english_messages() -> list[str]:
    """The pages' English sentences and phrases that German says differently: none may be left on
    a German page. Split at their placeholders; only fragments long enough to mean something."""
    with CATALOG.open("rb") as source:
        catalog = read_po(source, locale="de")
    fragments = set()
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = [str(i) for i in (message.id if isinstance(message.id, tuple | list) else (message.id,))]
        strings = [str(s) for s in (message.string if isinstance(message.string, tuple | list) else (message.string,))]
        for english in ids:
            if english in strings:
                continue  # "Details", "GTIN": the same in both
            for part in re.split(r"%\(\w+\)s", english):
                part = part.strip(" .,:;()·")
                if len(part) >= 6 and not any(part in german for german in strings):
                    fragments.add(part)
    return sorted(fragments)


def _journey(base: str, path: str, key: str | None) -> dict[str, Any]:
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    response = httpx.get(base + path, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("reader", ["public", "brand"])
@pytest.mark.parametrize("lot", LOTS)
def test_a_demo_journey_reads_right_on_a_phone(
    demo_up: Any, chromium: Any, english_messages: list[str], lot: str, reader: str, language: str
) -> None:
    base, keys = demo_up
    path = next(p for p in demo.JOURNEYS if p.endswith("/" + lot))
    brand = _journey(base, path, None)["brand"]["name"]
    key = keys[brand] if reader == "brand" else None
    doc = _journey(base, path, key)
    words = Words(language)
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": HEIGHT}, extra_http_headers={"Accept-Language": language}
    )
    try:
        page = context.new_page()
        if key:  # signed in as the brand, as a person does: the form, then back to the journey
            page.goto(f"{base}/login?next={path}")
            page.fill("#api-key", key)
            page.click("button[type=submit]")
            page.wait_for_url(base + path)
        else:
            page.goto(base + path)
        SHOTS.mkdir(parents=True, exist_ok=True)
        name = f"{lot}-{reader}-{language}"
        page.screenshot(path=str(SHOTS / f"{name}-first.png"))
        page.screenshot(path=str(SHOTS / f"{name}-full.png"), full_page=True)
        assert page.locator("html").get_attribute("lang") == language
        if key:
            assert page.get_by_test_id("reader").inner_text() != words("Public view"), "not signed in"
        visible = page.evaluate(VISIBLE)

        _recall_banner_is_on_the_first_screen(page, doc, lot, language)
        _lapsed_certificates_say_expired_with_their_date(page, doc, words, language)
        _pledges_are_never_certifications(page, doc)
        _carbon_headline_names_its_coverage(page, doc, language)
        raw = sorted({m.group(0) for m in RAW.finditer(visible)})
        assert raw == [], f"raw codes outside the technical sections of {name}: {raw}"
        _goods_and_places_by_name(page, doc, visible)
        if language == "de":
            left = [fragment for fragment in english_messages if re.search(rf"\b{re.escape(fragment)}\b", visible)]
            assert left == [], f"English left on the German page {name}: {left}"
    finally:
        context.close()


def _recall_banner_is_on_the_first_screen(page: Any, doc: dict[str, Any], lot: str, language: str) -> None:
    banner = page.locator("[data-testid=status][data-state=recalled]")
    if doc["recall"] is None and lot not in RECALLED:
        assert banner.count() == 0
        return
    assert doc["recall"] is not None, f"{lot} is recalled but its journey says nothing"
    assert banner.count() == 1, f"no recall banner on {lot}"
    box = banner.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, box
    text = banner.inner_text()
    assert BANNER[language] in text and doc["recall"]["by"]["name"] in text, text
    assert re.search(DATE[language], page.get_by_test_id("recall-by").inner_text()), text
    assert page.get_by_test_id("recall-status").get_attribute("href") == doc["recall"]["statusLink"]


def _lapsed_certificates_say_expired_with_their_date(
    page: Any, doc: dict[str, Any], words: Words, language: str
) -> None:
    lapsed = [c for c in doc["claims"] if c["status"] == "expired"]
    if doc["item"]["lot"] == "HUI-2026-02":  # the demo's certificate its body let lapse
        assert [(c["title"], c["statusDate"]) for c in lapsed] == [("Organic (EU)", demo.LAPSED_ON)], lapsed
    for claim in lapsed:
        card = page.locator(f"[data-testid=claim][data-uid='{claim['uid']}']")
        expected = EXPIRED[language].format(date=words.date(claim["statusDate"]))
        assert card.get_by_test_id("badge").inner_text() == expected
        assert claim["title"] not in page.get_by_test_id("certifications").inner_text()  # not valid on top
    if lapsed:
        assert words.plural("%(num)s expired claim", "%(num)s expired claims", len(lapsed)) in (
            page.get_by_test_id("claim-counts").inner_text()
        )


def _pledges_are_never_certifications(page: Any, doc: dict[str, Any]) -> None:
    claimed = {uid for uid in page.locator("[data-testid=claim]").evaluate_all("els => els.map(e => e.dataset.uid)")}
    assert page.locator("[data-testid=claim][data-kind=pledge]").count() == 0
    certified = page.get_by_test_id("certifications").inner_text()
    for pledge in doc["pledges"]:
        assert pledge["uid"] not in claimed, pledge
        assert page.locator(f"[data-testid=pledges] [data-testid=pledge][data-uid='{pledge['uid']}']").count() == 1
        assert pledge["title"] not in certified, pledge
    if doc["item"]["lot"] == "AR-2603":  # the demo's pledge, shown to everyone
        assert doc["pledges"], "the Sidama pledge is missing"


def _carbon_headline_names_its_coverage(page: Any, doc: dict[str, Any], language: str) -> None:
    footprint = doc["footprint"]
    headline = page.get_by_test_id("carbon-headline")
    assert headline.get_attribute("data-headline") == footprint["headline"]
    text = headline.inner_text()
    for wording in CARBON[language][footprint["headline"]]:
        assert wording in text, (footprint["headline"], text)
    if footprint["headline"] != "not-enough-data":
        assert re.search(NUMBER[language], text), text
    if footprint["headline"] == "at-least":  # never the partial sum alone, in the section either
        sentence = page.get_by_test_id("footprint-sentence").inner_text()
        assert sentence.startswith(CARBON[language]["at-least"][0]), sentence


def _goods_and_places_by_name(page: Any, doc: dict[str, Any], visible: str) -> None:
    """Every product the journey has master data for is named; every place on the map by name."""
    for lineage in doc["lineage"]:
        product = doc["products"].get(lineage["gtin"])
        if product and lineage["lot"] and lineage["lot"] in visible:
            assert product["name"] in visible, (product, lineage["lot"])
    stops = page.get_by_test_id("route-stop").all_inner_texts()
    assert len(stops) == len(doc["route"])
    for stop, place in zip(stops, doc["route"], strict=True):
        assert place["name"] in stop, (stop, place)
