"""Sharing grants: an owner lets an audience — one member, a role in the constellation, the
whole constellation, or the public — see categories of its own data in one constellation,
for a purpose, from a date until a date. A coordinator sets the constellation's defaults the
same way (grants over every member's data there), and an owner narrows them for its own data
with `withhold` grants. The grantor signs (EIP-712 AnchorGrant, or its managed key does) and
the service anchors the hashes on the SharingLedger; revocation is the grantor's alone, on
chain too. What the grants let each reader see is decided in one place, the policy engine
(service/domain/policy.py); here are grants, the preview of a reader's view, and the log."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.chain import typed_data
from service.chain.deployment import Chain
from service.chain.indexer import NOT_ON_CHAIN
from service.db.models import AccessLogEntry, Attestation, EpcisEvent, Member, SharingGrant
from service.domain import attestations, disclosure, policy
from service.domain.commitments import canonical_json
from service.domain.constellations import current_roles, get_constellation
from service.domain.disclosure import AnchorRef
from service.domain.keys import KeyVault
from service.domain.schema_catalogue import get_schema
from service.domain.signing import Deadline, authorise, deadline_in
from service.epcis.categories import CATEGORIES
from service.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from service.hashing import keccak256
from service.roles import Role

EVENT_CATEGORIES = tuple(CATEGORIES)
OTHER_CATEGORIES = ("attestations", "evidence")
"""Attestations as a whole, or `attestation:<schema>` for one schema; evidence documents."""


class MemberAudience(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["member"] = "member"
    member_id: str


class RoleAudience(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["role"] = "role"
    role: str

    @field_validator("role")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in Role.NAMES:
            raise ValueError(f"unknown role {value!r}; known roles are {sorted(Role.NAMES)}")
        return value


class ConstellationAudience(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["constellation"] = "constellation"


class PublicAudience(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["public"] = "public"


Audience = Annotated[
    MemberAudience | RoleAudience | ConstellationAudience | PublicAudience, Field(discriminator="kind")
]


def _audience_value(audience: Any) -> str | None:
    return getattr(audience, "member_id", None) or getattr(audience, "role", None)


class GrantCreate(BaseModel):
    """A grant to make. Self-custody owners add `grant_id`, `deadline`, `valid_from` and
    `signature` exactly as /grants/prepare returned them."""

    model_config = ConfigDict(extra="forbid")
    constellation: str
    categories: list[str] = Field(min_length=1, max_length=32)
    audience: Audience
    purpose: str = Field(min_length=1, max_length=200)
    effect: Literal["share", "withhold"] = "share"
    """withhold: narrow the constellation's defaults for the owner's own data."""
    default: bool = False
    """A constellation default (coordinators only): applies to every member's data there."""
    owner: str | None = None
    """Whose data: the caller's own, always (given, it must be the caller's member id)."""
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    grant_id: str | None = None
    deadline: Deadline | None = None
    signature: str | None = None

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        unknown = [
            c for c in value if c not in EVENT_CATEGORIES + OTHER_CATEGORIES and not c.startswith("attestation:")
        ]
        if unknown:
            raise ValueError(
                f"unknown categories {unknown}; known: {list(EVENT_CATEGORIES + OTHER_CATEGORIES)} "
                "or attestation:<schema name>"
            )
        return sorted(set(value))

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("dates need a time zone (e.g. 2027-06-30T00:00:00Z)")
        return value

    @model_validator(mode="after")
    def _period(self) -> GrantCreate:
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must come after valid_from")
        if self.default and self.effect == "withhold":
            raise ValueError("a constellation default shares; an owner withholds from the defaults with its own grant")
        if self.default and isinstance(self.audience, MemberAudience):
            raise ValueError("a constellation default is for a role, the constellation or the public, not one member")
        return self


def _stamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def audience_hash(kind: str, value: str | None) -> bytes:
    return keccak256(canonical_json({"kind": kind, "value": value}))


def terms_hash(
    *,
    categories: list[str],
    purpose: str,
    valid_from: datetime,
    valid_until: datetime | None,
    effect: str = "share",
    default: bool = False,
) -> bytes:
    """What the grantor agreed to, hashed: categories, purpose, period, effect and whether it
    is a constellation default (canonical JSON)."""
    terms = {
        "categories": categories,
        "default": default,
        "effect": effect,
        "purpose": purpose,
        "validFrom": _stamp(valid_from),
        "validUntil": _stamp(valid_until),
    }
    return keccak256(canonical_json(terms))


def _grant_bytes(grant_id: str) -> bytes:
    try:
        raw = bytes.fromhex(grant_id.removeprefix("0x"))
    except ValueError:
        raise ValidationFailed("grant_id is not hex") from None
    if len(raw) != 32 or raw == bytes(32):
        raise ValidationFailed("grant_id must be 32 non-zero bytes")
    return raw


def grant_message(
    *, chain: Chain, grant_id: bytes, cid: str, audience: bytes, terms: bytes, expires_at: int, deadline: int
) -> dict[str, Any]:
    return typed_data.typed_message(
        "AnchorGrant",
        {
            "grantId": grant_id,
            "constellation": bytes.fromhex(cid[2:]),
            "audienceHash": audience,
            "termsHash": terms,
            "expiresAt": expires_at,
            "deadline": deadline,
        },
        chain_id=chain.chain_id,
        contract=chain.address_of("SharingLedger"),
    )


def _has_data(session: Session, owner: Member, cid: str) -> bool:
    """Whether a former member still has records in the constellation (it may still narrow)."""
    event = select(EpcisEvent.id).where(EpcisEvent.owner_id == owner.id, EpcisEvent.constellation == cid).limit(1)
    issued = select(Attestation.uid).where(Attestation.issuer_id == owner.id, Attestation.constellation == cid).limit(1)
    return session.scalar(event) is not None or session.scalar(issued) is not None


def _check_attestation_category(session: Session, category: str) -> None:
    """`attestation:<schema>` or `attestation:<schema>/<field>` naming a known schema and field."""
    name, slash, field_name = category.removeprefix("attestation:").partition("/")
    try:
        schema = get_schema(session=session, name=name)
    except NotFound:
        raise ValidationFailed(f"category {category!r} names no attestation schema {name!r}") from None
    if slash:
        properties = schema.json_schema.get("properties")
        known = sorted(properties) if isinstance(properties, dict) else []
        if field_name not in known:
            raise ValidationFailed(
                f"category {category!r}: schema {name!r} has no field {field_name!r}; its fields: {known}"
            )


def prepare_grant(
    *, session: Session, chain: Chain, owner: Member, grant_in: GrantCreate, ttl: int, now: datetime | None = None
) -> tuple[dict[str, Any], SharingGrant]:
    """Checks a grant and returns the message its owner signs, with the row it will become."""
    now = now or datetime.now(UTC)
    if grant_in.owner is not None and grant_in.owner != owner.id:
        raise PolicyDenied(
            f"a grant shares the caller's own data; the data of member {grant_in.owner} is theirs to share"
        )
    try:
        constellation = get_constellation(session=session, slug=grant_in.constellation)
    except NotFound as exc:
        raise ValidationFailed(str(exc)) from None
    held = current_roles(session=session, cid=constellation.id, address=owner.address)
    if not held and not (grant_in.effect == "withhold" and _has_data(session, owner, constellation.id)):
        raise PolicyDenied(
            f"{owner.name} is not a member of constellation {constellation.slug!r}: it has no data there to share"
        )
    if grant_in.default and not held & Role.COORDINATOR:
        raise PolicyDenied(f"only a coordinator of {constellation.slug!r} sets its defaults")
    audience = grant_in.audience
    if isinstance(audience, MemberAudience) and session.get(Member, audience.member_id) is None:
        raise ValidationFailed(f"audience member {audience.member_id} does not exist")
    for category in grant_in.categories:
        if category.startswith("attestation:"):
            _check_attestation_category(session, category)
    valid_from = grant_in.valid_from or now
    if grant_in.valid_until is not None and grant_in.valid_until <= now:
        raise ValidationFailed("valid_until is in the past")
    grant_id = _grant_bytes(grant_in.grant_id) if grant_in.grant_id else secrets.token_bytes(32)
    value = _audience_value(audience)
    audience_digest = audience_hash(audience.kind, value)
    terms_digest = terms_hash(
        categories=grant_in.categories,
        purpose=grant_in.purpose,
        valid_from=valid_from,
        valid_until=grant_in.valid_until,
        effect=grant_in.effect,
        default=grant_in.default,
    )
    expires_at = int(grant_in.valid_until.timestamp()) if grant_in.valid_until else 0
    deadline = grant_in.deadline or deadline_in(ttl, now=now.timestamp())
    message = grant_message(
        chain=chain,
        grant_id=grant_id,
        cid=constellation.id,
        audience=audience_digest,
        terms=terms_digest,
        expires_at=expires_at,
        deadline=deadline,
    )
    row = SharingGrant(
        id="0x" + grant_id.hex(),
        owner_id=owner.id,
        constellation=constellation.id,
        categories=grant_in.categories,
        audience_kind=audience.kind,
        audience_value=value,
        purpose=grant_in.purpose,
        valid_from=valid_from,
        valid_until=grant_in.valid_until,
        effect=grant_in.effect,
        is_default=grant_in.default,
        audience_hash="0x" + audience_digest.hex(),
        terms_hash="0x" + terms_digest.hex(),
        tx_hash=NOT_ON_CHAIN,
    )
    return message, row


def create_grant(
    *, session: Session, chain: Chain, vault: KeyVault | None, owner: Member, grant_in: GrantCreate, ttl: int
) -> SharingGrant:
    """Signs (or checks the owner's signature), anchors on the SharingLedger, then stores."""
    if grant_in.signature is not None and None in (grant_in.grant_id, grant_in.deadline, grant_in.valid_from):
        raise ValidationFailed("a signed grant must carry the grant_id, deadline and valid_from it was prepared with")
    message, row = prepare_grant(session=session, chain=chain, owner=owner, grant_in=grant_in, ttl=ttl)
    if session.get(SharingGrant, row.id) is not None:
        raise Conflict(f"grant {row.id} exists already")
    signature = authorise(session=session, vault=vault, member=owner, typed=message, signature=grant_in.signature)
    fields = message["message"]
    receipt = chain.sharing.anchor_grant_by_sig(
        fields["grantId"],
        fields["constellation"],
        fields["audienceHash"],
        fields["termsHash"],
        fields["expiresAt"],
        grantor=owner.address,
        deadline=fields["deadline"],
        signature=signature,
    )
    row.tx_hash = receipt.tx_hash
    session.add(row)
    session.flush()
    return row


def grants_of(*, session: Session, owner: Member) -> list[SharingGrant]:
    return list(
        session.scalars(select(SharingGrant).where(SharingGrant.owner_id == owner.id).order_by(SharingGrant.created_at))
    )


def defaults_of(*, session: Session, member: Member, slug: str) -> list[SharingGrant]:
    """A constellation's live defaults, for its members (and the operator) to see."""
    try:
        constellation = get_constellation(session=session, slug=slug)
    except NotFound as exc:
        raise ValidationFailed(str(exc)) from None
    if (
        not current_roles(session=session, cid=constellation.id, address=member.address)
        and member.custody != "operator"
    ):
        raise NotFound(f"no constellation {slug!r} of yours")
    now = datetime.now(UTC)
    rows = session.scalars(
        select(SharingGrant)
        .where(SharingGrant.constellation == constellation.id, SharingGrant.is_default.is_(True))
        .order_by(SharingGrant.created_at)
    )
    return [row for row in rows if policy.is_live(policy.GrantTerms.of(row), now)]


def get_grant(*, session: Session, owner: Member, grant_id: str) -> SharingGrant:
    row = session.get(SharingGrant, grant_id.lower())
    if row is None or row.owner_id != owner.id:
        raise NotFound(f"no grant {grant_id} of yours")
    return row


def revoke_message(*, chain: Chain, grant_id: str, deadline: int) -> dict[str, Any]:
    return typed_data.typed_message(
        "RevokeGrant",
        {"grantId": _grant_bytes(grant_id), "deadline": deadline},
        chain_id=chain.chain_id,
        contract=chain.address_of("SharingLedger"),
    )


def revoke_grant(
    *,
    session: Session,
    chain: Chain,
    vault: KeyVault | None,
    owner: Member,
    grant_id: str,
    deadline: int | None,
    signature: str | None,
    ttl: int,
) -> SharingGrant:
    """Revokes on chain (signed by the owner), then records it; effective from the next read."""
    row = get_grant(session=session, owner=owner, grant_id=grant_id)
    if row.tx_hash == NOT_ON_CHAIN:
        raise Conflict(f"grant {grant_id} is not on chain (a chain reorganisation dropped it): it is void already")
    if row.revoked_at is not None and row.revoke_tx_hash is not None:
        raise Conflict(f"grant {grant_id} is already revoked")
    deadline = deadline or deadline_in(ttl)
    made = authorise(
        session=session,
        vault=vault,
        member=owner,
        typed=revoke_message(chain=chain, grant_id=row.id, deadline=deadline),
        signature=signature,
    )
    receipt = chain.sharing.revoke_grant_by_sig(
        _grant_bytes(row.id), grantor=owner.address, deadline=deadline, signature=made
    )
    row.revoked_at = row.revoked_at or datetime.now(UTC)  # a revocation a reorganisation dropped is sent again
    row.revoke_tx_hash = receipt.tx_hash
    session.flush()
    return row


# --- what a reader would see, and who saw what ------------------------------------------------


def preview(*, session: Session, owner: Member, reader: str, record: str, where: AnchorRef | None) -> dict[str, Any]:
    """What member `reader` (or `public`) would see of the owner's record `record` (an event's
    reference or an attestation's uid) right now, and on which grants. Not a read: not logged."""
    if reader == "public":
        target = policy.PUBLIC
    else:
        member = session.get(Member, reader)
        if member is None:
            raise ValidationFailed(f"no member {reader}: name a member id, or 'public'")
        target = policy.reader_of(session=session, member=member)
    access = policy.access_for(session=session, reader=target)
    ref = record.lower()
    event = session.scalar(select(EpcisEvent).where(EpcisEvent.leaf == ref))
    if event is not None and event.owner_id == owner.id:
        views = disclosure.render_events(session, access, [event], where=where, endpoint="", log=False)
        decision = views[0].decision if views else None
        return _preview(
            access,
            reader,
            ref,
            "event",
            event.owner_id,
            event.constellation,
            decision,
            views[0].document if views else None,
        )
    attestation = session.get(Attestation, ref)
    if attestation is not None and attestation.issuer_id == owner.id:
        found = attestations.view_of(access, attestation, attestations.schema_name_of(session, attestation))
        decision = found.decision if found is not None else None
        return _preview(access, reader, ref, "attestation", owner.id, attestation.constellation, decision, None)
    raise NotFound(f"no record {record} of yours (an event reference or an attestation uid)")


def _preview(
    access: policy.Access,
    reader: str,
    ref: str,
    kind: str,
    owner_id: str,
    constellation: str,
    decision: policy.Decision | None,
    view: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "reader": reader,
        "record": ref,
        "kind": kind,
        "visible": decision is not None,
        "shown": sorted(decision.shown) if decision else [],
        "withheld": sorted(decision.withheld) if decision else [],
        "basis": access.basis(owner_id, constellation, decision.shown_categories) if decision else [],
        "view": view,
    }


def access_log(
    *,
    session: Session,
    owner: Member,
    record: str | None = None,
    reader: str | None = None,
    since: datetime | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[AccessLogEntry]:
    """The owner's access log (its own data only), newest first; `before` pages by entry id."""
    query = select(AccessLogEntry).where(AccessLogEntry.owner_id == owner.id)
    if record is not None:
        query = query.where(AccessLogEntry.record_ref == record.lower())
    if reader is not None:
        query = query.where(
            AccessLogEntry.reader_kind == "public" if reader == "public" else AccessLogEntry.reader_id == reader
        )
    if since is not None:
        query = query.where(AccessLogEntry.at >= since)
    if before is not None:
        query = query.where(AccessLogEntry.id < before)
    return list(session.scalars(query.order_by(AccessLogEntry.id.desc()).limit(limit)))
