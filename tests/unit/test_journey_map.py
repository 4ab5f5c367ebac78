"""The journey map's SVG, parsed: stops numbered in journey order where their coordinates put them,
lines where the goods went, labels inside the viewBox that cover nothing, every text escaped, a
text alternative naming every stop."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from service.web.journey_map import FONT, HEIGHT, WIDTH, _width, journey_map

SVG = "{http://www.w3.org/2000/svg}"


def stop(
    gln: str, name: str, lat: float, lon: float, came_from: list[int] | None = None, **more: Any
) -> dict[str, Any]:
    return {
        "gln": gln,
        "name": name,
        "city": None,
        "country": None,
        "lat": lat,
        "lon": lon,
        "steps": [0],
        "from": came_from or [],
        **more,
    }


ROUTE = [
    stop("7709876000004", "Finca La Esperanza", 1.85, -76.05, city="Pitalito", country="CO"),
    stop("8712345000211", "Port of Buenaventura", 3.88, -77.03, [0]),
    stop("8712345000310", "Port of Antwerp", 51.26, 4.40, [1]),
    stop("7612345000008", "Alpine Roasters", 47.37, 8.54, [2]),
    stop("5401234000119", "GreenLeaf Sablon", 50.84, 4.36, [3]),
]


def parse(route: list[dict[str, Any]], **options: Any) -> ET.Element:
    return ET.fromstring(str(journey_map(route, **options)))


def svg_of(figure: ET.Element) -> ET.Element:
    found = figure.find(f"{SVG}svg")
    assert found is not None
    return found


def markers(svg: ET.Element) -> list[tuple[int, float, float]]:
    found = []
    for group in svg.iter(f"{SVG}g"):
        if group.get("class") == "map-stop":
            circle = group.find(f"{SVG}circle")
            assert circle is not None
            found.append((int(group.get("data-stop", "0")), float(circle.get("cx", "")), float(circle.get("cy", ""))))
    return found


def labels(svg: ET.Element) -> list[ET.Element]:
    return [t for t in svg.iter(f"{SVG}text") if t.get("class") == "map-label"]


def test_stops_are_numbered_in_order_where_their_coordinates_put_them() -> None:
    svg = svg_of(parse(ROUTE))
    found = markers(svg)
    assert [n for n, _, _ in found] == [1, 2, 3, 4, 5]
    xy = {n: (x, y) for n, x, y in found}
    assert xy[1][0] < xy[3][0] < xy[4][0]  # west to east
    assert xy[3][1] < xy[1][1]  # Antwerp is north of Huila (SVG y grows southwards)
    assert all(0 <= x <= WIDTH and 0 <= y <= HEIGHT for x, y in xy.values())
    assert svg.get("viewBox") == f"0 0 {WIDTH:g} {HEIGHT:g}"


def test_lines_run_where_the_goods_went() -> None:
    svg = svg_of(parse(ROUTE))
    legs = [
        (int(line.get("data-from", "")), int(line.get("data-to", "")))
        for line in svg.iter(f"{SVG}line")
        if line.get("class") == "map-leg"
    ]
    assert legs == [(1, 2), (2, 3), (3, 4), (4, 5)]
    merged = [*ROUTE[:2], stop("3", "Roastery", 47.0, 8.0, [0, 1])]
    legs = [
        (line.get("data-from"), line.get("data-to"))
        for line in svg_of(parse(merged)).iter(f"{SVG}line")
        if line.get("class") == "map-leg"
    ]
    assert legs == [("1", "2"), ("1", "3"), ("2", "3")]


def test_labels_stay_inside_the_viewbox_and_cover_nothing() -> None:
    long_names = [{**s, "name": s["name"] + " with a very long name that would never fit on a phone"} for s in ROUTE]
    for route in (ROUTE, long_names):
        svg = svg_of(parse(route))
        boxes = []
        for label in labels(svg):
            x, y, text = float(label.get("x", "")), float(label.get("y", "")), label.text or ""
            width = _width(text)
            left = {"start": x, "end": x - width, "middle": x - width / 2}[label.get("text-anchor", "")]
            box = (left, y - FONT, left + width, y + 3)
            assert box[0] >= 0 and box[1] >= 0 and box[2] <= WIDTH and box[3] <= HEIGHT, text
            assert all(not (box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]) for b in boxes)
            boxes.append(box)
        assert labels(svg)


def test_a_crowd_of_stops_keeps_every_marker_and_names_each_in_the_list() -> None:
    crowd = [stop(str(i), f"Store {i}", 50.85, 4.35) for i in range(12)]
    figure = parse(crowd)
    svg = svg_of(figure)
    points = [(x, y) for _, x, y in markers(svg)]
    assert len(points) == 12 and len(set(points)) == 12  # nudged apart, not stacked
    assert len(labels(svg)) < 12  # the crowd is named in the list, not over itself
    assert [li.text for li in figure.iter("li")] == [f"Store {i}" for i in range(12)]


def test_hostile_names_are_escaped() -> None:
    hostile = "</text><script>alert(1)</script>&amp;\"'\x00\x1b"
    route = [stop('"><script>x</script>', hostile, 5.6, -0.2, city="<b>Tema</b>", country="GH")]
    html = str(journey_map(route))
    assert "<script" not in html and "<b>" not in html
    figure = ET.fromstring(html)  # still well-formed XML
    assert [li.text for li in figure.iter("li")] == ["</text><script>alert(1)</script>&amp;\"', <b>Tema</b>, GH"]
    texts = "".join(t.text or "" for t in labels(svg_of(figure)))
    assert "<script>" in texts  # shown as text, never as markup


def test_title_description_and_language() -> None:
    class German:
        def __call__(self, message: str, **values: Any) -> str:
            words = {"Journey map": "Reisekarte", "Where it went": "Der Weg"}
            return words.get(message, "%(count)s Orte von %(first)s bis %(last)s.") % values

        def country(self, code: str | None) -> str:
            return {"CO": "Kolumbien"}.get(code or "", code or "")

    figure = parse(ROUTE, words=German(), id_prefix="m1")
    svg = svg_of(figure)
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "m1-title m1-desc"
    assert svg.findtext(f"{SVG}title") == "Reisekarte"
    assert svg.findtext(f"{SVG}desc") == "5 Orte von Finca La Esperanza, Pitalito, Kolumbien bis GreenLeaf Sablon."
    assert figure.findtext("figcaption") == "Der Weg"
    assert str(journey_map(ROUTE)) == str(journey_map(ROUTE))  # the same route draws the same bytes


def test_no_located_stop_draws_nothing_and_one_stop_is_centred() -> None:
    assert str(journey_map([])) == ""
    assert str(journey_map([{**ROUTE[0], "lat": None, "lon": None}])) == ""
    [(_, x, y)] = markers(svg_of(parse(ROUTE[:1])))
    assert (x, y) == pytest.approx((WIDTH / 2, HEIGHT / 2), abs=0.1)


def test_a_route_across_the_antimeridian_is_drawn_across_the_pacific() -> None:
    pacific = [stop("1", "Suva", -18.1, 178.4), stop("2", "Apia", -13.8, -171.8, [0])]
    [(_, x1, y1), (_, x2, y2)] = markers(svg_of(parse(pacific)))
    assert x1 < x2  # Apia east of Suva: 10 degrees apart, not 350 the other way round
    assert abs(y2 - y1) / (x2 - x1) > 0.3  # so 4 degrees of latitude still show
