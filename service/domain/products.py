"""Trade item master data: a GTIN's name, brand and net content, registered by the member that
brands it: the holder of the approved GS1 company prefix the GTIN falls under
(service/domain/company_prefixes.py), never merely the first to register it. Public, as the
pack is."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from sqlalchemy.orm import Session

from service.db.models import Product
from service.domain.company_prefixes import brand_of
from service.domain.gs1 import normalise_gtin
from service.domain.text import printable
from service.errors import NotFound, PolicyDenied

IMAGE = re.compile(
    r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?"
    r"|/static(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+"
)
"""An image reference: an http(s) URL with a host, or a file under /static/ on this site (no
query or fragment, no `.` or `..` segment, percent-encoded or not: a same-site path that reaches a
page would have every viewer's browser read it, setting a cookie or logging a read), printable
URL characters only (no quotes, spaces or angle brackets; never `//host`, `javascript:` or
`data:`). Pages show the same-site images only (their CSP allows img-src 'self')."""
_DOT_SEGMENT = re.compile(r"/(\.|%2e){1,2}(?=/|$)", re.IGNORECASE)
DeclaredUnit = Literal[
    "liter", "kilogram", "cubic meter", "kilowatt hour", "megajoule", "ton kilometer", "square meter"
]


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gtin: str = Field(description="GTIN-8, -12, -13 or -14 (check digit verified; stored as GTIN-14)")
    name: str = Field(min_length=1, max_length=200)
    brand: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    net_content: float | None = Field(
        default=None, gt=0, lt=1e9, allow_inf_nan=False, description="Amount of net_content_unit in one unit"
    )
    net_content_unit: DeclaredUnit | None = Field(default=None, description="A PACT declared unit")
    image: str | None = Field(
        default=None,
        max_length=500,
        description="A picture of the product: an https or http URL, or a file on this site under /static/",
    )

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, value: str) -> str:
        return normalise_gtin(value)

    @field_validator("name", "brand", "description")
    @classmethod
    def _text(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = printable(value)
        if value == "" and info.field_name != "description":
            raise ValueError("must not be blank")
        return value

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not IMAGE.fullmatch(value) or (value.startswith("/") and _DOT_SEGMENT.search(value)):
            raise ValueError(
                "image must be an https:// or http:// URL with a host, or a file on this site under /static/"
                " (no query, fragment, . or .. segment)"
            )
        return value

    @model_validator(mode="after")
    def _net_content(self) -> ProductIn:
        if (self.net_content is None) != (self.net_content_unit is None):
            raise ValueError("net_content and net_content_unit go together")
        return self


def register(*, session: Session, owner_id: str, product_in: ProductIn) -> Product:
    """Registers or updates a GTIN's master data: 403 unless `owner_id` holds an approved company
    prefix the GTIN falls under (a row someone else registered before passes to the holder)."""
    brand = brand_of(session=session, gtin=product_in.gtin)
    if brand != owner_id:
        raise PolicyDenied(
            f"GTIN {product_in.gtin} is not under a company prefix approved for you"
            + (
                "; it is another member's"
                if brand is not None
                else ": claim your GS1 company prefix (POST /company-prefixes) and have it approved"
            )
        )
    product = session.get(Product, product_in.gtin)
    if product is None:
        product = Product(gtin=product_in.gtin, owner_id=owner_id)
        session.add(product)
    product.owner_id = owner_id
    for name in ("name", "brand", "description", "net_content", "net_content_unit", "image"):
        setattr(product, name, getattr(product_in, name))
    session.flush()
    return product


def get(*, session: Session, gtin: str) -> Product:
    product = session.get(Product, normalise_gtin(gtin))
    if product is None:
        raise NotFound(f"no product {gtin}")
    return product
