"""Places: location master data by GLN (public reads; written by the holder of the GLN's company
prefix or the operator). Journeys name and map the places of the steps their reader sees."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from service.api.deps import CurrentPrincipal, SessionDep
from service.api.schemas import problems
from service.db.models import Place
from service.domain import places
from service.domain.places import PlaceIn

router = APIRouter(tags=["places"])

GlnPath = Annotated[str, Path(min_length=13, max_length=13, description="A GLN: 13 digits, check digit verified")]


class PlacePublic(BaseModel):
    gln: str
    name: str
    street_address: str | None
    city: str | None
    region: str | None
    country: str | None
    latitude: float | None
    longitude: float | None
    registered_by: str
    updated_at: datetime

    @classmethod
    def of(cls, row: Place) -> PlacePublic:
        return cls.model_validate(row, from_attributes=True)


@router.put(
    "/places/{gln}",
    response_model=PlacePublic,
    summary="Register or update a place you run (its GLN under a company prefix approved for you; or the operator)",
    responses=problems(400, 401, 403, 413, 422, 503),
)
def register_place(gln: GlnPath, place_in: PlaceIn, session: SessionDep, principal: CurrentPrincipal) -> PlacePublic:
    principal.require("events")
    with session.begin():
        row = places.register(
            session=session,
            member_id=principal.member.id,
            operator="admin" in principal.scopes,
            gln=gln,
            place_in=place_in,
        )
        return PlacePublic.of(row)


@router.get(
    "/places/{gln}",
    response_model=PlacePublic,
    summary="A place's master data (public)",
    responses=problems(404, 422, 503),
)
def read_place(gln: GlnPath, session: SessionDep) -> PlacePublic:
    return PlacePublic.of(places.get(session=session, gln=gln))
