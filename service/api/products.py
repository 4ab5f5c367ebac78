"""Products: trade item master data (public reads), and the GS1 company prefixes that decide
who brands a GTIN (claimed by a member, approved by a coordinator or the operator)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from service.api.deps import CurrentPrincipal, SessionDep
from service.api.schemas import problems
from service.db.models import CompanyPrefix, Product
from service.domain import company_prefixes, products
from service.domain.company_prefixes import PrefixClaim, PrefixReassign
from service.domain.products import ProductIn

router = APIRouter(tags=["products"])


class ProductPublic(BaseModel):
    gtin: str
    owner_id: str
    name: str
    brand: str | None
    description: str | None
    net_content: float | None
    net_content_unit: str | None
    image: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Product) -> ProductPublic:
        return cls.model_validate(row, from_attributes=True)


class PrefixPublic(BaseModel):
    id: int
    prefix: str
    member_id: str
    status: str
    claimed_at: datetime
    approved_by: str | None
    approved_at: datetime | None

    @classmethod
    def of(cls, row: CompanyPrefix) -> PrefixPublic:
        return cls.model_validate(row, from_attributes=True)


@router.put(
    "/products",
    response_model=ProductPublic,
    summary="Register or update a GTIN you brand (under a company prefix approved for you)",
    responses=problems(400, 401, 403, 413, 422, 503),
)
def register_product(product_in: ProductIn, session: SessionDep, principal: CurrentPrincipal) -> ProductPublic:
    principal.require("events")
    with session.begin():
        return ProductPublic.of(products.register(session=session, owner_id=principal.member.id, product_in=product_in))


@router.get(
    "/products/{gtin}",
    response_model=ProductPublic,
    summary="A product's master data (public)",
    responses=problems(404, 422, 503),
)
def read_product(gtin: str, session: SessionDep) -> ProductPublic:
    return ProductPublic.of(products.get(session=session, gtin=gtin))


@router.post(
    "/company-prefixes",
    response_model=PrefixPublic,
    status_code=201,
    summary="Claim a GS1 company prefix (pending until a coordinator or the operator approves it)",
    responses=problems(400, 401, 403, 409, 413, 422, 503),
)
def claim_prefix(claim_in: PrefixClaim, session: SessionDep, principal: CurrentPrincipal) -> PrefixPublic:
    principal.require("events")
    with session.begin():
        return PrefixPublic.of(company_prefixes.claim(session=session, member=principal.member, claim_in=claim_in))


@router.get(
    "/company-prefixes",
    response_model=list[PrefixPublic],
    summary="Company prefix claims, newest first (public, as GS1's GEPIR is)",
    responses=problems(400, 422, 503),
)
def list_prefixes(
    session: SessionDep,
    member: Annotated[str | None, Query(max_length=36, description="One member's claims")] = None,
    status: Annotated[Literal["pending", "approved", "revoked"] | None, Query()] = None,
) -> list[PrefixPublic]:
    return [PrefixPublic.of(r) for r in company_prefixes.listed(session=session, member_id=member, status=status)]


@router.post(
    "/company-prefixes/{claim_id}/approve",
    response_model=PrefixPublic,
    summary="Approve a claim (a coordinator of a constellation the claimant belongs to, or the operator)",
    responses=problems(400, 401, 403, 404, 409, 422, 503),
)
def approve_prefix(
    claim_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="The claim's id")],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> PrefixPublic:
    principal.require("constellations")
    with session.begin():
        row = company_prefixes.approve(
            session=session, approver=principal.member, operator="admin" in principal.scopes, claim_id=claim_id
        )
        return PrefixPublic.of(row)


@router.put(
    "/company-prefixes/{prefix}/holder",
    response_model=PrefixPublic,
    summary="Settle who holds a prefix (the operator): others' overlapping approvals are revoked",
    responses=problems(400, 401, 403, 404, 422, 503),
)
def reassign_prefix(
    prefix: str, reassign_in: PrefixReassign, session: SessionDep, principal: CurrentPrincipal
) -> PrefixPublic:
    principal.require("admin")
    with session.begin():
        row = company_prefixes.reassign(
            session=session, operator=principal.member, prefix=prefix, member_id=reassign_in.member_id
        )
        return PrefixPublic.of(row)
