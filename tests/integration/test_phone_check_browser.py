"""The journey page's "Check it on this phone" as a shopper uses it (Chromium at 412 x 900 px,
the coffee journey of test_journeys.py on a real Anvil): the verifier bundled from
verifiers/js/ loads only when asked, from this origin under the page's Content-Security-Policy,
checks every step and claim against the chain and says so in words, all green; a wrong chain
endpoint says the chain could not be reached, never "verified"; without JavaScript the page is
whole and offers no check. Screenshots in build/test-artifacts/ (or $CONSTELLATE_TEST_ARTIFACTS)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from service.settings import PROJECT_ROOT
from service.web import static

from .browser import ARTIFACTS, CHROMIUM, Served, needs_chromium, shot
from .conftest import Api
from .test_journeys import ROAST_PATH, Shop

pytestmark = [pytest.mark.parametrize("database_url", ["sqlite"], indirect=True), needs_chromium]

PHONE = {"width": 412, "height": 900}
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def bundle() -> None:
    """The browser bundle, built from the sources under test (esbuild, well under a second)."""
    if NODE is None or not (PROJECT_ROOT / "node_modules" / "esbuild").exists():
        pytest.skip("no node or no npm packages: run scripts/bootstrap")
    subprocess.run([NODE, "verifiers/js/build.mjs"], cwd=PROJECT_ROOT, check=True, timeout=120)


@pytest.fixture
def shop(api: Api, bundle: None) -> Shop:
    return Shop(api)


@pytest.fixture
def phone() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        contexts: list[Any] = []

        def context(**options: Any) -> Any:
            made = browser.new_context(viewport=PHONE, **{"locale": "en-GB", **options})
            contexts.append(made)
            return made.new_page()

        try:
            yield context
        finally:
            for made in contexts:
                made.close()
            browser.close()


def _watch(page: Any) -> tuple[list[str], list[str]]:
    """The script URLs the page asks for, and what the browser's console says it refused."""
    scripts: list[str] = []
    refused: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: refused.append(f"page error: {e}"))
    return scripts, refused


def _run(page: Any, rpc_url: str | None = None) -> str:
    if rpc_url is not None:
        page.fill("[data-testid=phone-check-rpc]", rpc_url)
    page.click("[data-testid=phone-check-run]")
    headline = page.locator("[data-testid=phone-check-headline]")
    headline.wait_for(timeout=60_000)
    return str(headline.get_attribute("data-status"))


def _shoot(page: Any, name: str) -> None:
    """The whole page, and the check as the reader sees it on the phone's screen."""
    shot(page, name)
    section = page.locator("[data-testid=phone-check]")
    section.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / f"{name}-section.png"))


def _lines(page: Any) -> list[tuple[str, str]]:
    """Each line's state and words (its mark, ✓ ✗ or ?, left out)."""
    lines = page.locator("[data-testid=phone-check-line]")
    found = []
    for i in range(lines.count()):
        mark = lines.nth(i).locator(".mark").text_content()
        text = str(lines.nth(i).text_content())
        assert mark in "✓✗?" and text.startswith(f"{mark} "), text
        found.append((str(lines.nth(i).get_attribute("data-state")), text[2:]))
    return found


def test_a_shopper_checks_the_journey_on_a_phone_and_every_check_is_green(shop: Shop, anvil: Any, phone: Any) -> None:
    with Served(shop.api.client.app) as base:
        page = phone()
        scripts, refused = _watch(page)
        response = page.goto(base + ROAST_PATH)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe" not in policy and "default-src 'none'" in policy
        section = page.locator("[data-testid=phone-check]")
        assert section.is_visible()
        assert section.locator("h2").inner_text() == "Check it on this phone"
        assert page.input_value("[data-testid=phone-check-rpc]") == anvil.rpc_url  # the page's own endpoint
        assert [s for s in scripts if "verifier.js" in s] == []  # loaded only on demand

        assert _run(page) == "verified"
        assert any("/static/verifier.js?v=" in s for s in scripts)
        assert (
            page.inner_text("[data-testid=phone-check-headline]")
            == "Everything this page shows checks out against the chain."
        )
        lines = _lines(page)
        assert {state for state, _ in lines} == {"ok"}, lines
        said = [text for _, text in lines]
        assert "Every step was signed with the key of the company named (a key this site keeps for it)." in said
        assert any(
            t.startswith("No step is missing from what this page shows (") and "not shown to you)" in t for t in said
        )
        assert "“Fairtrade” for Lot FARM1-2026 was issued by Bureau Veritas and is not revoked." in said
        assert "“Carbon footprint” for Lot FARM2-2026 was issued by Farms Cooperative and is not revoked." in said
        assert "The carbon figure follows from the certified figures it is based on." in said
        assert refused == []
        _shoot(page, "phone-check-verified")


def test_a_wrong_chain_endpoint_says_the_chain_could_not_be_reached(shop: Shop, phone: Any) -> None:
    with Served(shop.api.client.app) as base:
        page = phone()
        _, refused = _watch(page)
        page.goto(base + ROAST_PATH)
        status = _run(page, "http://127.0.0.1:9")
        assert status == "unavailable"
        headline = page.inner_text("[data-testid=phone-check-headline]")
        assert headline == "Could not reach the chain at http://127.0.0.1:9. Nothing on this page was confirmed."
        assert "verified" not in headline.lower()
        lines = _lines(page)
        assert "bad" not in {state for state, _ in lines}  # unreachable is not a failed check ...
        assert lines[0][0] == "unknown"  # ... and what could not be checked comes first
        assert any("the chain did not answer" in text for _, text in lines)
        assert refused == []
        _shoot(page, "phone-check-unreachable")

        assert _run(page, "not an address") == "invalid"


class Tampering:
    """The site between the chain and the reader, lying: every journey it answers as JSON names
    another anchoring account than the one it pins (an ASGI wrapper around the app)."""

    def __init__(self, app: Any, old: str, new: str) -> None:
        self.app, self.old, self.new = app, old.encode(), new.encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers") or ())
        if scope["type"] != "http" or b"json" not in headers.get(b"accept", b"") or "/01/" not in scope["path"]:
            return await self.app(scope, receive, send)
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]}
        start: dict[str, Any] = {}
        body = bytearray()

        async def collect(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                changed = bytes(body).replace(self.old, self.new)
                fixed = [(k, v) for k, v in start["headers"] if k != b"content-length"]
                await send({**start, "headers": [*fixed, (b"content-length", str(len(changed)).encode())]})
                await send({"type": "http.response.body", "body": changed})

        await self.app(scope, receive, collect)


def test_a_tampered_page_fails_prominently(shop: Shop, phone: Any) -> None:
    """The same check on a journey the site changed (it names another anchoring account than it
    pins): the reader is told, in red and first."""
    anchorer = shop.api.client.get("/verify/trust").json()["anchorer"]
    with Served(Tampering(shop.api.client.app, anchorer, "0x" + "11" * 20)) as base:
        page = phone()
        page.goto(base + ROAST_PATH)
        assert _run(page) == "failed"
        assert (
            page.inner_text("[data-testid=phone-check-headline]") == "Something on this page does not match the chain."
        )
        assert page.get_attribute("[data-testid=phone-check-headline]", "role") == "alert"
        lines = _lines(page)
        assert lines[0] == ("bad", "This page names another chain or other contracts than the check relies on.")
        assert [state for state, _ in lines[1:]] == ["ok"] * (len(lines) - 1)  # the chain was read: the rest holds
        _shoot(page, "phone-check-failed")


def test_the_check_speaks_german_on_a_german_page(shop: Shop, phone: Any) -> None:
    with Served(shop.api.client.app) as base:
        page = phone(locale="de-DE")
        page.goto(base + ROAST_PATH)
        assert page.locator("[data-testid=phone-check] h2").inner_text() == "Auf diesem Telefon prüfen"
        assert _run(page) == "verified"
        said = [text for _, text in _lines(page)]
        assert any("Jeder Schritt wurde mit dem Schlüssel des genannten Unternehmens signiert" in t for t in said), said
        assert any(
            t.startswith("„Fairtrade“ für ")
            and t.endswith(" wurde von Bureau Veritas ausgestellt und ist nicht widerrufen.")
            for t in said
        ), said
        _shoot(page, "phone-check-verified-de")


def test_without_javascript_the_page_is_whole_and_offers_no_check(shop: Shop, phone: Any) -> None:
    with Served(shop.api.client.app) as base:
        page = phone(java_script_enabled=False)
        page.goto(base + ROAST_PATH)
        assert page.locator("[data-testid=phone-check]").is_hidden()
        assert page.locator("[data-testid=step]").count() == 9
        assert page.locator("[data-testid=verify-command]").count() == 1
        shot(page, "phone-check-no-javascript")


def test_the_modules_are_served_from_this_origin_with_a_long_cache(shop: Shop) -> None:
    client = shop.api.client
    url = static.url("verifier.js")
    assert url is not None and url.startswith("/static/verifier.js?v=")
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert "checkOnThisPhone" in response.text
    unversioned = client.get("/static/phone-check.js")
    assert unversioned.status_code == 200 and unversioned.headers["cache-control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/static/other.js").status_code == 404
    assert client.get("/static/..%2Fbuild.mjs").status_code == 404
