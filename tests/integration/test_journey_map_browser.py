"""The journey map in Debian's headless Chromium at phone width (412 px), under the pages' own
Content-Security-Policy: it renders (no refused style), fits the screen, and every label's drawn
box stays inside the viewBox."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from service.web.journey_map import HEIGHT, WIDTH, journey_map
from service.web.pages import PAGE_HEADERS

from .browser import Served, needs_chromium, shot

pytestmark = needs_chromium

ROUTE = [
    {"gln": "6234567000001", "name": "Sidama Highlands Cooperative, Bensa washing station", "city": "Bensa", "country": "ET", "lat": 6.57, "lon": 38.72, "from": []},
    {"gln": "7709876000004", "name": "Finca La Esperanza", "city": "Pitalito", "country": "CO", "lat": 1.85, "lon": -76.05, "from": []},
    {"gln": "8712345000211", "name": "Port of Djibouti", "city": "Djibouti", "country": "DJ", "lat": 11.59, "lon": 43.15, "from": [0]},
    {"gln": "8712345000228", "name": "Port of Buenaventura", "city": "Buenaventura", "country": "CO", "lat": 3.88, "lon": -77.03, "from": [1]},
    {"gln": "8712345000310", "name": "Port of Antwerp", "city": "Antwerp", "country": "BE", "lat": 51.26, "lon": 4.40, "from": [2, 3]},
    {"gln": "7612345000008", "name": "Alpine Roasters roastery", "city": "Zürich", "country": "CH", "lat": 47.37, "lon": 8.54, "from": [4]},
    {"gln": "5401234000003", "name": "GreenLeaf distribution centre", "city": "Mechelen", "country": "BE", "lat": 51.03, "lon": 4.48, "from": [5]},
    {"gln": "5401234000119", "name": "GreenLeaf Market Sablon <b>&</b>", "city": "Brussels", "country": "BE", "lat": 50.84, "lon": 4.36, "from": [6]},
]  # fmt: skip


def test_the_map_renders_at_phone_width_with_its_labels_inside(browser_page: Any) -> None:
    def page(_: Request) -> HTMLResponse:
        body = f'<!doctype html><html lang="en"><meta name="viewport" content="width=device-width"><body>{journey_map(ROUTE)}</body></html>'
        return HTMLResponse(body, headers=PAGE_HEADERS)

    refused: list[str] = []
    browser_page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    browser_page.set_viewport_size({"width": 412, "height": 900})
    with Served(Starlette(routes=[Route("/", page)])) as base:
        response = browser_page.goto(base + "/")
        assert response is not None and response.status == 200
        svg = browser_page.locator("svg.journey-map-svg")
        box = svg.bounding_box()
        assert box is not None and 300 < box["width"] <= 412 and box["height"] > 200
        assert browser_page.locator("g.map-stop").count() == len(ROUTE)
        assert browser_page.locator("path.map-land").get_attribute("d")  # the coastline is drawn
        label_boxes = browser_page.locator("text.map-label").evaluate_all(
            "els => els.map(e => { const b = e.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; })"
        )
        assert label_boxes
        for left, top, right, bottom in label_boxes:
            assert left >= 0 and top >= 0 and right <= WIDTH and bottom <= HEIGHT
        stops = browser_page.locator("[data-testid=route-stop]").all_inner_texts()
        assert stops[-1] == "GreenLeaf Market Sablon <b>&</b>, Brussels, BE"
        shot(browser_page, "journey-map-412")
    assert refused == []
