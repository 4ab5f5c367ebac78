"""The pure parts of the coordinator's health views: which subjects certify an item, lots,
percentiles, ISO weeks, pledge status, the partner score and the map's SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest

from service.domain.gs1 import item_subjects
from service.domain.health import (
    elapsed_share,
    iso_weeks,
    lot_gtin,
    map_svg,
    member_score,
    percentile,
    pledge_status,
    star_points,
)

GTIN = "09506000134352"
CLASS = f"https://id.gs1.org/01/{GTIN}"
SVG = "{http://www.w3.org/2000/svg}"


def test_an_item_is_certified_by_itself_its_lot_or_its_class() -> None:
    assert item_subjects(f"{CLASS}/10/L1") == (f"{CLASS}/10/L1", CLASS)
    assert item_subjects(f"{CLASS}/21/S9") == (f"{CLASS}/21/S9", CLASS)
    assert item_subjects(f"{CLASS}/10/L1/21/S9") == (f"{CLASS}/10/L1/21/S9", f"{CLASS}/10/L1", CLASS)
    assert item_subjects(CLASS) == (CLASS,)
    assert item_subjects("https://id.gs1.org/00/095060000000000017") == ("https://id.gs1.org/00/095060000000000017",)


def test_only_lots_have_a_lot_gtin() -> None:
    assert lot_gtin(f"{CLASS}/10/L%2F1") == GTIN
    assert lot_gtin(CLASS) is None
    assert lot_gtin(f"{CLASS}/21/S9") is None
    assert lot_gtin("https://id.gs1.org/414/9506000000018") is None


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.95) is None
    assert percentile([7.0], 0.95) == 7.0
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 0.95) == 19.0
    assert percentile(values, 0.5) == 10.0
    assert percentile(list(reversed(values)), 1.0) == 20.0


def test_iso_weeks_end_with_the_current_week_across_a_year_end() -> None:
    weeks = iso_weeks(datetime(2027, 1, 3, 23, 0, tzinfo=UTC), 3)  # a Sunday, ISO week 2026-W53
    assert [label for label, _ in weeks] == ["2026-W51", "2026-W52", "2026-W53"]
    assert weeks[-1][1] == datetime(2026, 12, 28, tzinfo=UTC)
    assert [label for label, _ in iso_weeks(datetime(2027, 1, 4, tzinfo=UTC), 1)] == ["2027-W01"]


CREATED = datetime(2026, 1, 1, tzinfo=UTC)
DEADLINE = date(2026, 12, 31)  # ends 2027-01-01 00:00 UTC: 365 days after the pledge


@pytest.mark.parametrize(
    ("progress", "target", "now", "status"),
    [
        (80, 80, datetime(2026, 2, 1, tzinfo=UTC), "met"),
        (90, 80, datetime(2027, 6, 1, tzinfo=UTC), "met"),
        (50, 80, datetime(2026, 7, 2, 12, tzinfo=UTC), "on track"),  # half the time gone, 40 % expected
        (30, 80, datetime(2026, 7, 2, 12, tzinfo=UTC), "behind"),
        (0, 80, CREATED, "on track"),
        (79, 80, datetime(2026, 12, 31, 23, 59, tzinfo=UTC), "behind"),  # the deadline day is still on
        (79, 80, datetime(2027, 1, 1, tzinfo=UTC), "missed"),
    ],
)
def test_a_pledge_stands_met_on_track_behind_or_missed(
    progress: float, target: float, now: datetime, status: str
) -> None:
    assert pledge_status(progress=progress, target=target, created=CREATED, deadline=DEADLINE, now=now) == status


def test_elapsed_share_is_bounded() -> None:
    assert elapsed_share(created=CREATED, deadline=DEADLINE, now=datetime(2025, 1, 1, tzinfo=UTC)) == 0.0
    assert elapsed_share(created=CREATED, deadline=DEADLINE, now=datetime(2026, 7, 2, 12, tzinfo=UTC)) == 0.5
    assert elapsed_share(created=CREATED, deadline=date(2025, 1, 1), now=CREATED) == 1.0


def test_the_score_averages_what_is_measurable_and_costs_revocations() -> None:
    assert member_score(timeliness=1.0, completeness=0.5, coverage=0.0, revocations=0) == 50
    assert member_score(timeliness=1.0, completeness=None, coverage=0.5, revocations=1) == 65
    assert member_score(timeliness=0.1, completeness=0.1, coverage=0.1, revocations=3) == 0
    assert member_score(timeliness=None, completeness=None, coverage=None, revocations=2) is None


def test_a_star_has_ten_corners_and_points_up() -> None:
    corners = [tuple(map(float, p.split(","))) for p in star_points(100, 100, 20, 8).split()]
    assert len(corners) == 10 and corners[0] == (100.0, 80.0)


def _map(name: str) -> dict[str, object]:
    return {
        "constellation": {"name": "Tea & <Co>"},
        "nodes": [
            {"id": "a", "name": name, "roles": ["supplier"], "kind": "member"},
            {"id": "b", "name": "Roaster", "roles": ["manufacturer", "logistics"], "kind": "member"},
            {"id": "c", "name": "Shop", "roles": ["retailer"], "kind": "member"},
            {"id": "everyone", "name": "Every member", "roles": [], "kind": "audience"},
        ],
        "edges": [
            {"kind": "flow", "source": "a", "target": "b", "weight": 3},
            {"kind": "flow", "source": "b", "target": "c", "weight": 1},
            {"kind": "sharing", "source": "a", "target": "b", "weight": 2, "categories": ["what", "when"]},
            {"kind": "default", "source": "c", "target": "everyone", "weight": 9, "categories": ["what"]},
        ],
    }


def test_the_svg_is_escaped_accessible_self_contained_and_deterministic() -> None:
    name = 'Farm "Ōrganic" <& Sons>'
    svg = map_svg(_map(name))
    assert svg == map_svg(_map(name))
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and "Tea & <Co>" in (root.get("aria-label") or "")
    assert root.findtext(f"{SVG}title", "").startswith("Map of the constellation Tea & <Co>: 3 members, 2 flows")
    assert len(root.findall(f".//{SVG}polygon")) == 3  # the audience is a circle, not a star
    assert name in {"".join(t.itertext()) for t in root.iter(f"{SVG}tspan")}
    assert "manufacturer, logistics" in {"".join(t.itertext()) for t in root.iter(f"{SVG}tspan")}
    paths = {
        g.findtext(f"{SVG}title"): g.find(f"{SVG}path")
        for g in root.iter(f"{SVG}g")
        if "edge " in (g.get("class") or "")
    }
    assert set(paths) == {
        f"{name} shipped to Roaster: 3 items",
        "Roaster shipped to Shop: 1 item",
        f"{name} shares with Roaster: what, when",
        "Shop shares by default with Every member: what",
    }
    heavy, light = paths[f"{name} shipped to Roaster: 3 items"], paths["Roaster shipped to Shop: 1 item"]
    assert heavy is not None and light is not None
    assert float(heavy.get("stroke-width", 0)) > float(light.get("stroke-width", 0))
    assert heavy.get("stroke-dasharray") is None
    assert paths[f"{name} shares with Roaster: what, when"].get("stroke-dasharray")  # type: ignore[union-attr]
    assert "href=" not in svg and "<script" not in svg and "url(http" not in svg


def test_characters_xml_cannot_hold_are_dropped() -> None:
    root = ET.fromstring(map_svg(_map("Bell\x07 Farm")))
    assert "Bell Farm" in {"".join(t.itertext()) for t in root.iter(f"{SVG}tspan")}
