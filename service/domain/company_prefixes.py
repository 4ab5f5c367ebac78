"""Who brands a GTIN: the member holding the approved GS1 company prefix the GTIN falls under.

A member claims a prefix (pending); the claim counts once approved by a coordinator of a
constellation the member belongs to (never the claimant itself) or by the operator. Being the
first to register a GTIN's master data proves nothing. Approved prefixes of different members
never overlap: an approval that would is refused, and the operator resolves the conflict by
reassigning the prefix (the other members' overlapping approvals are revoked and the GTINs
under it change hands). In a GTIN-14 the company prefix starts after the indicator digit; a
GLN (a place) starts with it, and the same holder registers the place's master data."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import CompanyPrefix, Member, Product
from service.domain.constellations import constellations_of, current_roles
from service.domain.gs1 import normalise_gtin, validate_gln
from service.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from service.roles import Role

MIN_LENGTH, MAX_LENGTH = 4, 12
"""GS1 company prefixes are 4 to 12 digits (a GTIN-14 holds 12 after its indicator digit and
before its check digit)."""
_PREFIX = re.compile(rf"^[0-9]{{{MIN_LENGTH},{MAX_LENGTH}}}$")


def validate_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix):
        raise ValidationFailed(f"company prefix {prefix!r} must be {MIN_LENGTH} to {MAX_LENGTH} digits")
    return prefix


class PrefixClaim(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prefix: str = Field(
        description="A GS1 company prefix, 4 to 12 digits (a GTIN-12's U.P.C. prefix with its leading 0)",
        json_schema_extra={"pattern": _PREFIX.pattern},
    )

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return validate_prefix(value)


class PrefixReassign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str = Field(min_length=1, max_length=36, description="The member the prefix belongs to")


def prefixes_of_gtin(gtin: str) -> list[str]:
    """Every company prefix a GTIN could fall under (any GTIN form), shortest first."""
    body = normalise_gtin(gtin)[1:13]
    return [body[:length] for length in range(MIN_LENGTH, MAX_LENGTH + 1)]


def _overlapping(prefix: str) -> list[str]:
    """The prefixes that overlap `prefix` as far as it goes: itself and the shorter ones it starts
    with (longer ones are found by a LIKE query)."""
    return [prefix[:length] for length in range(MIN_LENGTH, len(prefix) + 1)]


def prefixes_of_gln(gln: str) -> list[str]:
    """Every company prefix a GLN could fall under (its leading digits), shortest first."""
    body = validate_gln(gln)
    return [body[:length] for length in range(MIN_LENGTH, MAX_LENGTH + 1)]


def _holder(session: Session, prefixes: list[str]) -> str | None:
    """The member holding the longest approved prefix among `prefixes`, or None."""
    row = session.scalar(
        select(CompanyPrefix)
        .where(CompanyPrefix.prefix.in_(prefixes), CompanyPrefix.status == "approved")
        .order_by(CompanyPrefix.prefix.desc())
        .limit(1)
    )
    return row.member_id if row is not None else None


def brand_of(*, session: Session, gtin: str) -> str | None:
    """The member branding the GTIN (the holder of the longest approved prefix it falls under),
    or None when no member's prefix is approved for it."""
    return _holder(session, prefixes_of_gtin(gtin))


def holder_of_gln(*, session: Session, gln: str) -> str | None:
    """The member whose approved company prefix the GLN (a place) falls under, or None."""
    return _holder(session, prefixes_of_gln(gln))


def _approved_overlaps(session: Session, prefix: str) -> list[CompanyPrefix]:
    return list(
        session.scalars(
            select(CompanyPrefix).where(
                CompanyPrefix.status == "approved",
                (CompanyPrefix.prefix.in_(_overlapping(prefix)))
                | CompanyPrefix.prefix.startswith(prefix, autoescape=True),
            )
        )
    )


def claim(*, session: Session, member: Member, claim_in: PrefixClaim) -> CompanyPrefix:
    """Records `member`'s claim to a prefix, pending approval (409 if it claimed it already)."""
    found = session.scalar(
        select(CompanyPrefix).where(CompanyPrefix.prefix == claim_in.prefix, CompanyPrefix.member_id == member.id)
    )
    if found is not None:
        raise Conflict(f"you claimed company prefix {claim_in.prefix} already (claim {found.id}, {found.status})")
    row = CompanyPrefix(prefix=claim_in.prefix, member_id=member.id, status="pending")
    session.add(row)
    session.flush()
    return row


def _may_approve(session: Session, approver: Member, claimant: Member) -> bool:
    """A coordinator of a constellation the claimant belongs to, other than the claimant."""
    if approver.id == claimant.id:
        return False
    return any(
        current_roles(session=session, cid=m.constellation, address=approver.address) & Role.COORDINATOR
        for m in constellations_of(session=session, address=claimant.address)
    )


def approve(
    *, session: Session, approver: Member, operator: bool, claim_id: int, now: datetime | None = None
) -> CompanyPrefix:
    """Approves a pending claim: by the operator, or by a coordinator of a constellation the
    claimant belongs to (403 otherwise); 409 when another member's approved prefix overlaps."""
    row = session.get(CompanyPrefix, claim_id)
    if row is None:
        raise NotFound(f"no company prefix claim {claim_id}")
    claimant = session.get(Member, row.member_id)
    assert claimant is not None  # a foreign key
    if not operator and not _may_approve(session, approver, claimant):
        raise PolicyDenied(
            "a company prefix claim is approved by a coordinator of a constellation the claimant belongs to"
            " (not the claimant itself) or by the operator"
        )
    if row.status != "pending":
        raise Conflict(f"claim {claim_id} is {row.status}, not pending")
    others = [o for o in _approved_overlaps(session, row.prefix) if o.member_id != row.member_id]
    if others:
        raise Conflict(
            f"company prefix {row.prefix} overlaps prefix {others[0].prefix}, approved for another member;"
            " the operator resolves it: PUT /company-prefixes/{prefix}/holder"
        )
    row.status, row.approved_by, row.approved_at = "approved", approver.id, now or datetime.now(UTC)
    session.flush()
    return row


def reassign(
    *, session: Session, operator: Member, prefix: str, member_id: str, now: datetime | None = None
) -> CompanyPrefix:
    """The operator settles who holds a prefix: the member's claim is approved (made if need be),
    every other member's approved overlapping prefix is revoked, and the products under the
    prefix become the member's."""
    validate_prefix(prefix)
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"no member {member_id}")
    when = now or datetime.now(UTC)
    for other in _approved_overlaps(session, prefix):
        if other.member_id != member.id:
            other.status = "revoked"
    row = session.scalar(
        select(CompanyPrefix).where(CompanyPrefix.prefix == prefix, CompanyPrefix.member_id == member.id)
    )
    if row is None:
        row = CompanyPrefix(prefix=prefix, member_id=member.id, claimed_at=when)
        session.add(row)
    row.status, row.approved_by, row.approved_at = "approved", operator.id, when
    for product in session.scalars(select(Product).where(Product.gtin.like(f"_{prefix}%"))):
        product.owner_id = member.id
    session.flush()
    return row


def listed(*, session: Session, member_id: str | None = None, status: str | None = None) -> list[CompanyPrefix]:
    """Claims, newest first (all of them: who brands which GTINs is public, as in GS1's GEPIR)."""
    query = select(CompanyPrefix).order_by(CompanyPrefix.id.desc()).limit(1000)
    if member_id is not None:
        query = query.where(CompanyPrefix.member_id == member_id)
    if status is not None:
        query = query.where(CompanyPrefix.status == status)
    return list(session.scalars(query))
