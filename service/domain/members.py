"""Members (organisations), their keys (self-custody or managed) and their API keys."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from eth_account.signers.local import LocalAccount
from eth_utils import is_address, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import ApiKey, ManagedKey, Member
from service.domain.gs1 import validate_gln
from service.domain.identities import Identities
from service.domain.keys import KeyVault
from service.errors import Conflict, NotAuthenticated, NotFound, PolicyDenied, ValidationFailed

Scope = Literal["admin", "members", "constellations", "attestations", "events", "grants", "read"]
MEMBER_SCOPES: list[Scope] = ["members", "constellations", "attestations", "events", "grants", "read"]
ALL_SCOPES: list[Scope] = ["admin", *MEMBER_SCOPES]
TOKEN_PREFIX = "cst"
_LEI = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")


def validate_lei(lei: str) -> str:
    """An ISO 17442 Legal Entity Identifier (20 characters, ISO 7064 mod 97-10 check)."""
    if not _LEI.match(lei):
        raise ValueError(f"LEI {lei!r} must be 18 upper-case letters or digits followed by 2 check digits")
    if int("".join(str(int(c, 36)) for c in lei)) % 97 != 1:
        raise ValueError(f"LEI {lei} has wrong check digits")
    return lei


class MemberCreate(BaseModel):
    """An organisation joining. Give `address` for self-custody; omit it for a managed key."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    gln: str | None = Field(default=None, description="GLN or party GLN (13 digits, check digit verified)")
    lei: str | None = Field(default=None, description="ISO 17442 LEI")
    website: HttpUrl | None = None
    address: str | None = Field(default=None, description="Ethereum address of a self-custody key")

    @field_validator("gln")
    @classmethod
    def _gln(cls, value: str | None) -> str | None:
        return validate_gln(value) if value is not None else None

    @field_validator("lei")
    @classmethod
    def _lei(cls, value: str | None) -> str | None:
        return validate_lei(value) if value is not None else None

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not is_address(value):
            raise ValueError(f"{value!r} is not an Ethereum address")
        return to_checksum_address(value)

    @model_validator(mode="after")
    def _name_not_blank(self) -> MemberCreate:
        if not self.name.strip():
            raise ValueError("name must not be blank")
        return self


@dataclass(frozen=True)
class Principal:
    """Who is calling: a member and what its API key lets it do."""

    member: Member
    scopes: frozenset[str]

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise PolicyDenied(f"this API key lacks the {scope!r} scope")

    def require_every_member_scope(self, what: str) -> None:
        """For what hands over the member's whole identity (its exported private key signs in
        with every scope): a key narrower than that would be a way around its own limits."""
        lacking = sorted(set(MEMBER_SCOPES) - self.scopes)
        if lacking:
            raise PolicyDenied(f"{what} needs a key with every member scope; this one lacks {lacking}")


def create_member(
    *, session: Session, vault: KeyVault | None, member_in: MemberCreate, identities: Identities
) -> Member:
    """Stores a member; without an address, generates its managed key and seals it. A self-custody
    key may be neither the relayer's nor a published development key (outside dev mode)."""
    if member_in.address is not None:
        identities.check_member_key(member_in.address)
    if member_in.gln and session.scalar(select(Member).where(Member.gln == member_in.gln)):
        raise Conflict(f"a member with GLN {member_in.gln} already exists")
    member_id = str(uuid.uuid4())
    if member_in.address is None:
        if vault is None:
            raise ValidationFailed("managed keys are disabled: set CONSTELLATE_KEY_ENCRYPTION_KEY or give an address")
        account = vault.new_account()
        address, custody = account.address, "managed"
    else:
        account, address, custody = None, member_in.address, "self"
    if session.scalar(select(Member).where(Member.address == address)):
        raise Conflict(f"address {address} already belongs to a member")
    member = Member(
        id=member_id,
        name=member_in.name.strip(),
        gln=member_in.gln,
        lei=member_in.lei,
        website=str(member_in.website) if member_in.website else None,
        address=address,
        custody=custody,
    )
    session.add(member)
    session.flush()
    if account is not None and vault is not None:
        nonce, ciphertext = vault.seal(member_id=member_id, private_key=bytes(account.key))
        session.add(ManagedKey(member_id=member_id, address=address, nonce=nonce, ciphertext=ciphertext))
    session.flush()
    return member


def get_member(*, session: Session, member_id: str) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"no member {member_id}")
    return member


def member_by_address(*, session: Session, address: str) -> Member:
    member = session.scalar(select(Member).where(Member.address == to_checksum_address(address)))
    if member is None:
        raise NotFound(f"no member has address {address}")
    return member


def _active_managed_key(session: Session, member: Member) -> ManagedKey:
    key = session.scalar(select(ManagedKey).where(ManagedKey.member_id == member.id, ManagedKey.retired_at.is_(None)))
    if key is None:
        raise ValidationFailed(f"member {member.name} signs with its own key (self-custody): send its signature")
    return key


def managed_signer(*, session: Session, vault: KeyVault | None, member: Member) -> LocalAccount:
    """The member's managed key, opened for signing; self-custody members have none."""
    key = _active_managed_key(session, member)
    if vault is None:
        raise ValidationFailed("managed keys are disabled: CONSTELLATE_KEY_ENCRYPTION_KEY is not set")
    return vault.open(member_id=member.id, nonce=key.nonce, ciphertext=key.ciphertext)


def export_managed_key(*, session: Session, vault: KeyVault | None, member: Member) -> str:
    """Hands the member its managed private key, once; the service keeps using it."""
    key = _active_managed_key(session, member)
    if key.exported_at is not None:
        raise Conflict(f"the managed key of {member.name} was already exported at {key.exported_at.isoformat()}")
    account = managed_signer(session=session, vault=vault, member=member)
    key.exported_at = datetime.now(UTC)
    return "0x" + bytes(account.key).hex()


def rotate_managed_key(*, session: Session, vault: KeyVault | None, member: Member) -> tuple[str, str]:
    """Retires the managed key and makes a new one. Returns (old address, new address)."""
    if vault is None:
        raise ValidationFailed("managed keys are disabled: CONSTELLATE_KEY_ENCRYPTION_KEY is not set")
    old = _active_managed_key(session, member)
    old.retired_at = datetime.now(UTC)
    session.flush()
    account = vault.new_account()
    nonce, ciphertext = vault.seal(member_id=member.id, private_key=bytes(account.key))
    session.add(ManagedKey(member_id=member.id, address=account.address, nonce=nonce, ciphertext=ciphertext))
    member.address = account.address
    session.flush()
    return old.address, account.address


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_key(
    *,
    session: Session,
    member: Member,
    scopes: list[Scope] | None = None,
    label: str = "",
    minted_by: frozenset[str] | None = None,
) -> tuple[ApiKey, str]:
    """A new API key; the returned token is the only time its secret is seen. `minted_by` holds
    the scopes of the API key that asks for it: a key mints only keys with a subset of its own
    scopes (by default, the member scopes it holds). None when the member proved its Ethereum key
    (sign-in) or the operator onboards it."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    default = MEMBER_SCOPES if minted_by is None else [s for s in MEMBER_SCOPES if s in minted_by]
    chosen = sorted(set(scopes or default))
    unknown = set(chosen) - set(ALL_SCOPES)
    if unknown:
        raise ValidationFailed(f"unknown scopes {sorted(unknown)}; known scopes are {ALL_SCOPES}")
    if not chosen:
        raise ValidationFailed("an API key needs at least one scope")
    lacking = sorted(set(chosen) - minted_by) if minted_by is not None else []
    if lacking:
        raise PolicyDenied(f"this API key lacks the scopes {lacking}: a key only mints keys with scopes it holds")
    if "admin" in chosen and member.custody != "operator":
        raise PolicyDenied("only the operator holds the admin scope")
    api_key = ApiKey(id=key_id, member_id=member.id, secret_hash=_hash_secret(secret), scopes=chosen, label=label)
    session.add(api_key)
    session.flush()
    return api_key, f"{TOKEN_PREFIX}_{key_id}_{secret}"


def api_keys_of(*, session: Session, member_id: str) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.member_id == member_id).order_by(ApiKey.created_at)))


def revoke_api_key(*, session: Session, member: Member, key_id: str) -> ApiKey:
    api_key = session.get(ApiKey, key_id)
    if api_key is None or api_key.member_id != member.id:
        raise NotFound(f"no API key {key_id} of this member")
    if api_key.revoked_at is None:
        api_key.revoked_at = datetime.now(UTC)
    return api_key


def authenticate(*, session: Session, token: str) -> Principal:
    """The principal behind an API key token, or PolicyDenied (unknown, malformed, revoked)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise NotAuthenticated("malformed API key")
    api_key = session.get(ApiKey, parts[1])
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, _hash_secret(parts[2])):
        raise NotAuthenticated("unknown API key")
    if api_key.revoked_at is not None:
        raise NotAuthenticated("this API key was revoked")
    member = session.get(Member, api_key.member_id)
    assert member is not None
    return Principal(member, frozenset(api_key.scopes))


def operator(*, session: Session, address: str) -> Member:
    """The operator's own member row (the relayer account), created on first use."""
    found = session.scalar(select(Member).where(Member.custody == "operator"))
    if found is not None:
        if found.address != address:
            found.address = address
        return found
    member = Member(id=str(uuid.uuid4()), name="Operator", address=address, custody="operator")
    session.add(member)
    session.flush()
    return member
