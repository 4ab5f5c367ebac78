"""Places: location master data (what a GS1 registry holds of a GLN) — its name, address and
coordinates — and a journey's route over them.

A place is registered by the member holding the approved GS1 company prefix its GLN falls under
(service/domain/company_prefixes.py), or by the operator; being first proves nothing. Master data
is public, as a signpost is: a journey names and maps the places its reader sees on its steps,
and only those (a step whose location is withheld shows no place, so the route never reveals it).

The route follows the goods: its stops are the located places in the order the journey first
reaches them, and each stop names the stops its goods came from (the latest earlier located step
naming one of the same items: a lot, a container it travelled in, a transformation's inputs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import Place
from service.domain.company_prefixes import holder_of_gln
from service.domain.event_items import named_items
from service.domain.gs1 import gln_of, validate_gln
from service.domain.text import printable
from service.errors import NotFound, PolicyDenied


class PlaceIn(BaseModel):
    """A place's master data as its GLN's owner publishes it."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, description="The place's name, as people know it")
    street_address: str | None = Field(default=None, min_length=1, max_length=200)
    city: str | None = Field(default=None, min_length=1, max_length=100)
    region: str | None = Field(default=None, min_length=1, max_length=100, description="State, province or region")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code")
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False, description="WGS 84 degrees")
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False, description="WGS 84 degrees")

    @field_validator("name", "street_address", "city", "region")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        value = printable(value)
        if value == "":
            raise ValueError("must not be blank")
        return value

    @model_validator(mode="after")
    def _coordinates(self) -> PlaceIn:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together")
        return self


def register(*, session: Session, member_id: str, operator: bool, gln: str, place_in: PlaceIn) -> Place:
    """Registers or updates a place: 403 unless the caller holds an approved company prefix the
    GLN falls under, or is the operator."""
    gln = validate_gln(gln)
    if not operator and holder_of_gln(session=session, gln=gln) != member_id:
        raise PolicyDenied(
            f"GLN {gln} is not under a company prefix approved for you: the holder of its prefix"
            " (or the operator) registers a place"
        )
    place = session.get(Place, gln)
    if place is None:
        place = Place(gln=gln)
        session.add(place)
    place.registered_by = member_id
    for name in ("name", "street_address", "city", "region", "country", "latitude", "longitude"):
        setattr(place, name, getattr(place_in, name))
    session.flush()
    return place


def get(*, session: Session, gln: str) -> Place:
    place = session.get(Place, validate_gln(gln))
    if place is None:
        raise NotFound(f"no place {gln}")
    return place


def location_of(event: Mapping[str, Any]) -> str | None:
    """Where an event (or a view of it) happened: its business location, else its read point
    (absent when the reader may not see it)."""
    for name in ("bizLocation", "readPoint"):
        found = (event.get(name) or {}).get("id")
        if isinstance(found, str):
            return found
    return None


@dataclass
class Stop:
    place: Place
    steps: list[int] = field(default_factory=list)
    came_from: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        p = self.place
        return {
            "gln": p.gln,
            "name": p.name,
            "city": p.city,
            "country": p.country,
            "lat": p.latitude,
            "lon": p.longitude,
            "steps": self.steps,
            "from": self.came_from,
        }


@dataclass(frozen=True)
class Route:
    stops: list[Stop]
    """Located places in the order the journey first reaches them."""
    places: dict[str, dict[str, str | None]]
    """Every location identifier the reader sees (steps and observations) that has master data:
    its name, city and country."""

    def as_json(self) -> list[dict[str, Any]]:
        return [stop.as_json() for stop in self.stops]


def route_of(
    *, session: Session, steps: Sequence[dict[str, Any]], observations: Sequence[dict[str, Any]] = ()
) -> Route:
    """The route of a journey's steps (event views, in time order, as the reader sees them), and
    the names of the places on its steps and observations."""
    locations = [location_of(event) for event in steps]
    seen = {loc for loc in [*locations, *(location_of(e) for e in observations)] if loc is not None}
    glns = {loc: gln for loc in seen if (gln := gln_of(loc)) is not None}
    found = {p.gln: p for p in session.scalars(select(Place).where(Place.gln.in_(set(glns.values()))))} if glns else {}
    places = {
        loc: {"name": found[gln].name, "city": found[gln].city, "country": found[gln].country}
        for loc, gln in sorted(glns.items())
        if gln in found
    }
    stops: list[Stop] = []
    index: dict[str, int] = {}
    last_at: dict[str, int] = {}
    """Per item, the stop of the latest located step naming it."""
    for number, (event, location) in enumerate(zip(steps, locations, strict=True)):
        place = found.get(glns.get(location, "")) if location is not None else None
        if place is None or place.latitude is None or place.longitude is None:
            continue  # no place the reader may see on a map: the goods' trail passes through
        if place.gln not in index:
            index[place.gln] = len(stops)
            stops.append(Stop(place))
        here = index[place.gln]
        stop = stops[here]
        stop.steps.append(number)
        items = named_items(event)
        for item in sorted(items):
            before = last_at.get(item)
            if before is not None and before != here and before not in stop.came_from:
                stop.came_from.append(before)
            last_at[item] = here
    return Route(stops, places)


__all__ = ["PlaceIn", "Route", "Stop", "get", "location_of", "register", "route_of"]
