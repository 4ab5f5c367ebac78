"""The API docs work on a closed network: /docs (Swagger UI) and /redoc (ReDoc) in Debian's headless
Chromium with every request not to 127.0.0.1 aborted, their scripts and styles served by the service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.api import create_app
from service.settings import Settings

from .browser import Served, needs_chromium, shot

pytestmark = needs_chromium


@pytest.fixture
def offline(browser_page: Any, tmp_path: Path) -> Iterator[tuple[Any, str, list[str]]]:
    """The browser page, the served app's base URL, and the URLs the page tried to reach elsewhere."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'docs.db'}"))
    blocked: list[str] = []
    with Served(app) as base:

        def only_this_host(route: Any) -> None:
            url = route.request.url
            if url.startswith(base + "/"):
                route.continue_()
            else:
                blocked.append(url)
                route.abort()

        browser_page.route("**/*", only_this_host)
        yield browser_page, base, blocked


def test_swagger_ui_lists_the_operations_with_the_network_blocked(offline: tuple[Any, str, list[str]]) -> None:
    page, base, blocked = offline
    page.set_viewport_size({"width": 1280, "height": 900})
    response = page.goto(base + "/docs")
    assert response is not None and response.status == 200
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").evaluate_all("els => els.map(e => e.dataset.path)")
    assert {"/products/{gtin}", "/company-prefixes", "/epcis/capture"} <= set(paths)
    shot(page, "docs-swagger-offline")
    assert blocked == []


def test_redoc_renders_with_the_network_blocked(offline: tuple[Any, str, list[str]]) -> None:
    page, base, blocked = offline
    page.set_viewport_size({"width": 1280, "height": 900})
    response = page.goto(base + "/redoc")
    assert response is not None and response.status == 200
    heading = page.locator(".api-content h2", has_text="A product's master data (public)")
    heading.wait_for(timeout=20_000)
    assert page.locator(".api-content h1").first.inner_text().startswith("Constellate")
    shot(page, "docs-redoc-offline")
    assert blocked == []


def test_only_the_pages_assets_are_served(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'docs.db'}"))
    with Served(app) as base:
        assert httpx.get(base + "/docs/assets/swagger-ui.css").status_code == 200
        assert httpx.get(base + "/docs/assets/core.py").status_code == 404
        assert httpx.get(base + "/docs/assets/..%2Fcore.py").status_code == 404
        page = httpx.get(base + "/docs").text
        assert "cdn" not in page and "fonts.googleapis" not in page and "tiangolo" not in page
