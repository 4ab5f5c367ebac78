"""Products: trade item master data (public reads)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from service.api.deps import CurrentPrincipal, SessionDep
from service.api.schemas import problems
from service.db.models import Product
from service.domain import products
from service.domain.products import ProductIn

router = APIRouter(prefix="/products", tags=["products"])


class ProductPublic(BaseModel):
    gtin: str
    owner_id: str
    name: str
    brand: str | None
    description: str | None
    net_content: float | None
    net_content_unit: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Product) -> ProductPublic:
        return cls.model_validate(row, from_attributes=True)


@router.put(
    "",
    response_model=ProductPublic,
    summary="Register or update a GTIN you brand",
    responses=problems(400, 401, 403, 413, 422, 503),
)
def register_product(product_in: ProductIn, session: SessionDep, principal: CurrentPrincipal) -> ProductPublic:
    principal.require("events")
    with session.begin():
        return ProductPublic.of(products.register(session=session, owner_id=principal.member.id, product_in=product_in))


@router.get(
    "/{gtin}",
    response_model=ProductPublic,
    summary="A product's master data (public)",
    responses=problems(404, 422, 503),
)
def read_product(gtin: str, session: SessionDep) -> ProductPublic:
    return ProductPublic.of(products.get(session=session, gtin=gtin))
