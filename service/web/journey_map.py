"""The journey map: a journey's route drawn server-side as inline SVG — no script, no CDN, no tile
server, so it shows on a closed network and under the pages' CSP (presentation attributes only,
no style attribute or block).

The route's stops (the document's `route`, service/domain/places.py) are projected with Web
Mercator and fitted to their bounds with padding, over a faint graticule and a coarse land outline
(Natural Earth 1:110m, public domain: service/web/data/). Each stop is a numbered marker in journey
order (markers that would cover each other are nudged apart); a line with an arrow runs from each stop its goods came from (a stop's
`from`). Labels keep inside the viewBox (placed on the side that fits, shortened if need be) and
one that would cover another is left out: the list beside the map names every stop in full, so
the figure is readable without the picture (the SVG also has a title and a description).

Every text is escaped: place names come from members."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from markupsafe import Markup, escape

WIDTH, HEIGHT = 360.0, 270.0
PAD = 36.0
"""Room around the route's bounds for markers and labels."""
FONT = 12.0
RADIUS = 9.0
LABEL_CHARS = 26
MIN_SPAN_DEGREES = 4.0
"""A route spanning less (one town, one stop) is shown with at least this much around it."""
MAX_LATITUDE = 85.0
INK, ROUTE, GRID, PAPER, LAND = "#1f2933", "#0b6e4f", "#d5dde5", "#eef4f8", "#dfe6d8"
LAND_OUTLINE = Path(__file__).parent / "data" / "land-110m.txt"
MAX_STOPS = 60
"""Stops drawn at most (the list names every one)."""


class Words(Protocol):
    """What the map says, in the reader's language: a message with %-style values, a country's
    name (the pages' i18n.Words fits)."""

    def __call__(self, message: str, **values: Any) -> str: ...

    def country(self, code: str | None) -> str: ...


class English:
    """The map's messages as written (the source language)."""

    def __call__(self, message: str, **values: Any) -> str:
        return message % values if values else message

    def country(self, code: str | None) -> str:
        return code or ""


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _text(value: object) -> str:
    """Text as XML character data or an attribute value: escaped, without the characters XML
    cannot hold."""
    return str(escape(_NOT_XML.sub("", str(value))))


def _n(value: float) -> str:
    """A coordinate, rounded so the same route always draws the same bytes."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _mercator(lat: float, lon: float) -> tuple[float, float]:
    """Web Mercator in degrees of longitude (y grows northwards)."""
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    return lon, math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))


def _width(text: str) -> float:
    """A generous estimate of a label's drawn width (wide characters count double)."""
    return sum(FONT * (1.05 if unicodedata.east_asian_width(c) in "WF" else 0.62) for c in text)


def _shorten(text: str, chars: int = LABEL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


@dataclass(frozen=True)
class _Frame:
    """Projected bounds fitted into the viewBox with one scale (shapes keep their proportions)."""

    left: float
    top: float
    scale: float
    shift: float
    """Added to every longitude: 360 when the route crosses the antimeridian (drawn across the Pacific)."""

    @classmethod
    def fit(cls, points: Sequence[tuple[float, float]]) -> _Frame:
        lons = [lon for _, lon in points]
        shift = 360.0 if max(lons) - min(lons) > 180 else 0.0
        projected = [_mercator(lat, lon + shift if lon < 0 else lon) for lat, lon in points]
        xs, ys = [x for x, _ in projected], [y for _, y in projected]
        span_x = max(max(xs) - min(xs), MIN_SPAN_DEGREES)
        span_y = max(max(ys) - min(ys), MIN_SPAN_DEGREES * (HEIGHT / WIDTH))
        scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)
        mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        return cls(mid_x - WIDTH / 2 / scale, mid_y + HEIGHT / 2 / scale, scale, shift)

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        x, y = _mercator(lat, lon + self.shift if self.shift and lon < 0 else lon)
        return (x - self.left) * self.scale, (self.top - y) * self.scale

    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees of what the viewBox shows."""
        east = self.left + WIDTH / self.scale
        top, bottom = self.top, self.top - HEIGHT / self.scale

        def lat(y: float) -> float:
            return math.degrees(2 * math.atan(math.exp(math.radians(y))) - math.pi / 2)

        return self.left, lat(bottom), east, lat(top)


def _step(span: float) -> float:
    """A graticule spacing giving a handful of lines over `span` degrees."""
    for step in (1.0, 2.0, 5.0, 10.0, 15.0, 30.0):
        if span / step <= 6:
            return step
    return 45.0


def _graticule(frame: _Frame) -> list[str]:
    west, south, east, north = frame.bounds()
    lines = []
    step = _step(max(east - west, north - south))
    lon = math.ceil(west / step) * step
    while lon <= east:
        x = (lon - frame.left) * frame.scale
        lines.append(f'<line x1="{_n(x)}" y1="0.0" x2="{_n(x)}" y2="{_n(HEIGHT)}"/>')
        lon += step
    lat = math.ceil(max(south, -MAX_LATITUDE) / step) * step
    while lat <= min(north, MAX_LATITUDE):
        _, y = frame.xy(lat, west)
        lines.append(f'<line x1="0.0" y1="{_n(y)}" x2="{_n(WIDTH)}" y2="{_n(y)}"/>')
        lat += step
    return lines


Ring = tuple[tuple[float, float, float, float], tuple[tuple[float, float], ...]]


@functools.cache
def _land() -> tuple[Ring, ...]:
    """The land outline's rings as (west, south, east, north) and (lon, lat) points."""
    rings = []
    for line in LAND_OUTLINE.read_text().splitlines():
        points = tuple((int(x) / 10, int(y) / 10) for x, y in (pair.split(",") for pair in line.split()))
        lons, lats = [x for x, _ in points], [y for _, y in points]
        rings.append(((min(lons), min(lats), max(lons), max(lats)), points))
    return tuple(rings)


def _land_path(frame: _Frame) -> str:
    """The land in view as one SVG path in whole pixels, points closer than two pixels dropped."""
    west, south, east, north = frame.bounds()
    parts = []
    for (w, s, e, n), points in _land():
        for offset in (0.0, 360.0) if frame.shift else (0.0,):
            if e + offset < west or w + offset > east or n < south or s > north:
                continue
            drawn: list[tuple[float, float]] = []
            for lon, lat in points:
                x, y = _mercator(lat, lon + offset)
                xy = ((x - frame.left) * frame.scale, (frame.top - y) * frame.scale)
                if not drawn or abs(xy[0] - drawn[-1][0]) + abs(xy[1] - drawn[-1][1]) >= 2.0:
                    drawn.append(xy)
            if len(drawn) >= 3:
                parts.append("M" + "L".join(f"{x:.0f},{y:.0f}" for x, y in drawn) + "Z")
    return "".join(parts)


def _spread(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Markers nudged apart until none covers another (a few rounds), kept inside the viewBox."""
    moved = [list(p) for p in points]
    need = 2 * RADIUS + 2
    for _ in range(40):
        clash = False
        for i in range(len(moved)):
            for j in range(i + 1, len(moved)):
                dx, dy = moved[j][0] - moved[i][0], moved[j][1] - moved[i][1]
                distance = math.hypot(dx, dy)
                if distance >= need:
                    continue
                clash = True
                if distance < 1e-6:  # the same spot: fan out by order
                    dx, dy, distance = math.cos(j), math.sin(j), 1.0
                push = (need - distance) / 2
                moved[i][0] -= dx / distance * push
                moved[i][1] -= dy / distance * push
                moved[j][0] += dx / distance * push
                moved[j][1] += dy / distance * push
        for point in moved:
            point[0] = min(max(point[0], RADIUS + 1), WIDTH - RADIUS - 1)
            point[1] = min(max(point[1], RADIUS + 1), HEIGHT - RADIUS - 1)
        if not clash:
            break
    return [(x, y) for x, y in moved]


Box = tuple[float, float, float, float]


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _label(number: int, name: str, x: float, y: float, taken: list[Box]) -> str | None:
    """A stop's label beside its marker, on the first side where it fits inside the viewBox and
    covers no marker or label before it; None when there is no such side."""
    text = _shorten(name)
    width = _width(text)
    while width > WIDTH - 2 * (RADIUS + 6) and len(text) > 4:
        text = _shorten(text, len(text) - 2)
        width = _width(text)
    gap = RADIUS + 4
    sides = (
        ("start", x + gap, y + FONT * 0.35),
        ("end", x - gap, y + FONT * 0.35),
        ("middle", x, y - gap - 2),
        ("middle", x, y + gap + FONT),
    )
    for anchor, tx, ty in sides:
        left = {"start": tx, "end": tx - width, "middle": tx - width / 2}[anchor]
        box = (left - 2, ty - FONT, left + width + 2, ty + 3)
        inside = box[0] >= 0 and box[1] >= 0 and box[2] <= WIDTH and box[3] <= HEIGHT
        if inside and not any(_overlaps(box, other) for other in taken):
            taken.append(box)
            return (
                f'<text class="map-label" data-stop="{number}" x="{_n(tx)}" y="{_n(ty)}" text-anchor="{anchor}"'
                f' font-size="{FONT:g}" fill="{INK}" stroke="{PAPER}" stroke-width="3" paint-order="stroke">'
                f"{_text(text)}</text>"
            )
    return None


def _place_line(stop: Mapping[str, Any], words: Words) -> str:
    parts = [str(stop.get("name") or "")]
    parts += [str(p) for p in (stop.get("city"), words.country(stop.get("country"))) if p]
    return ", ".join(parts)


def journey_map(route: Sequence[Mapping[str, Any]], *, words: Words | None = None, id_prefix: str = "route") -> Markup:
    """The map of a journey document's `route` as an HTML figure: the inline SVG (role img, with a
    title and a description) and an ordered list naming every stop — the text alternative, and
    the full names of labels the picture had to shorten or leave out. Empty when no stop has
    coordinates (the page shows no map). `words` translates the messages "Journey map",
    "%(count)s places in journey order, from %(first)s to %(last)s." and "Where it went"
    (English when None); `id_prefix` keeps the element ids unique in a page. In a Jinja
    template: `{{ journey_map(journey.route, words=words) }}` (a Markup: not escaped again)."""
    words = words or English()
    stops = [s for s in route if isinstance(s.get("lat"), int | float) and isinstance(s.get("lon"), int | float)]
    if not stops:
        return Markup("")
    drawn = stops[:MAX_STOPS]
    frame = _Frame.fit([(float(s["lat"]), float(s["lon"])) for s in drawn])
    points = _spread([frame.xy(float(s["lat"]), float(s["lon"])) for s in drawn])
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    first, last = _place_line(stops[0], words), _place_line(stops[-1], words)
    title = words("Journey map")
    description = words(
        "%(count)s places in journey order, from %(first)s to %(last)s.", count=len(stops), first=first, last=last
    )
    legs = []
    for number, stop in enumerate(drawn):
        for origin in stop.get("from") or ():
            if isinstance(origin, int) and 0 <= origin < len(points) and origin != number:
                (x1, y1), (x2, y2) = points[origin], points[number]
                length = math.hypot(x2 - x1, y2 - y1) or 1.0
                trim = min(RADIUS + 3, length / 2)
                ex, ey = x2 - (x2 - x1) * trim / length, y2 - (y2 - y1) * trim / length
                legs.append(
                    f'<line class="map-leg" data-from="{origin + 1}" data-to="{number + 1}" x1="{_n(x1)}" y1="{_n(y1)}"'
                    f' x2="{_n(ex)}" y2="{_n(ey)}" marker-end="url(#{_text(id_prefix)}-arrow)"/>'
                )
    taken: list[Box] = [(x - RADIUS, y - RADIUS, x + RADIUS, y + RADIUS) for x, y in points]
    markers, labels = [], []
    for number, (stop, (x, y)) in enumerate(zip(drawn, points, strict=True), start=1):
        markers.append(
            f'<g class="map-stop" data-stop="{number}" data-gln="{_text(stop.get("gln") or "")}">'
            f"<title>{number}. {_text(_place_line(stop, words))}</title>"
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{RADIUS:g}" fill="{ROUTE}" stroke="#fff" stroke-width="1.5"/>'
            f'<text x="{_n(x)}" y="{_n(y + FONT * 0.35)}" text-anchor="middle" font-size="{FONT - 1:g}"'
            f' font-weight="bold" fill="#fff">{number}</text></g>'
        )
    for number, (stop, (x, y)) in enumerate(zip(drawn, points, strict=True), start=1):
        label = _label(number, str(stop.get("name") or ""), x, y, taken)
        if label is not None:
            labels.append(label)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="journey-map-svg" viewBox="0 0 {WIDTH:g} {HEIGHT:g}"'
        f' width="100%" role="img" aria-labelledby="{_text(title_id)} {_text(desc_id)}"'
        f' font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">'
        f'<title id="{_text(title_id)}">{_text(title)}</title><desc id="{_text(desc_id)}">{_text(description)}</desc>'
        f'<defs><marker id="{_text(id_prefix)}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6"'
        f' markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="{ROUTE}"/></marker></defs>'
        f'<rect width="{WIDTH:g}" height="{HEIGHT:g}" fill="{PAPER}"/>'
        f'<path class="map-land" d="{_land_path(frame)}" fill="{LAND}"/>'
        f'<g class="map-graticule" stroke="{GRID}" stroke-width="0.6">{"".join(_graticule(frame))}</g>'
        f'<g class="map-legs" stroke="{ROUTE}" stroke-width="2" stroke-opacity="0.8">{"".join(legs)}</g>'
        f'<g class="map-stops">{"".join(markers)}</g><g class="map-labels">{"".join(labels)}</g></svg>'
    )
    items = "".join(
        f'<li data-testid="route-stop" data-gln="{_text(s.get("gln") or "")}">{_text(_place_line(s, words))}</li>'
        for s in stops
    )
    return Markup(
        f'<figure class="journey-map" data-testid="journey-map"><figcaption>{_text(words("Where it went"))}</figcaption>'
        f'{svg}<ol class="journey-map-stops">{items}</ol></figure>'
    )


__all__ = ["English", "Words", "journey_map"]
