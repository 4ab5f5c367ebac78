"""Sign-In with Ethereum (EIP-4361): a member proves it holds its key by signing a one-time
message, and receives an API key. The nonce is issued here, bound to the address, valid for
a few minutes and used once; the message must name this service's domain, URI and chain — as
settings give them (the public base URL), never as a request's Host header says: a phishing site
would otherwise get a nonce for its own domain and trade a member's signature for its API key.
Who a key may sign in as is `identities`' to decide."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys.exceptions import BadSignature
from eth_utils import is_address, to_checksum_address
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.db.models import ApiKey, Member, SiweNonce
from service.domain.identities import Identities
from service.domain.members import Scope, issue_api_key, operator
from service.domain.signing import parse_signature
from service.errors import Conflict, NotAuthenticated, ValidationFailed

NONCE_TTL = timedelta(minutes=10)
MAX_OPEN_NONCES = 5
MAX_MESSAGE = 4096

# EIP-4361: "${domain} wants you to sign in with your Ethereum account:\n${address}\n\n
# ${statement}\n\nURI: …\nVersion: 1\nChain ID: …\nNonce: …\nIssued At: …" + optional fields.
_HEADER = re.compile(r"^(?P<domain>[^\s/]+) wants you to sign in with your Ethereum account:$")
_FIELD = re.compile(r"^(?P<key>[A-Za-z ]+): (?P<value>.+)$")
_REQUIRED = ("URI", "Version", "Chain ID", "Nonce", "Issued At")
_OPTIONAL = ("Expiration Time", "Not Before", "Request ID")


@dataclass(frozen=True)
class SiweMessage:
    domain: str
    address: str
    statement: str | None
    uri: str
    chain_id: int
    nonce: str
    issued_at: datetime
    expiration_time: datetime | None
    not_before: datetime | None


def _time(name: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"SIWE {name} {value!r} is not an RFC 3339 date-time") from None
    if parsed.tzinfo is None:
        raise ValidationFailed(f"SIWE {name} needs a time zone")
    return parsed


def parse(message: str) -> SiweMessage:
    """An EIP-4361 message, or ValidationFailed naming what is wrong with it."""
    if len(message) > MAX_MESSAGE:
        raise ValidationFailed(f"a SIWE message is at most {MAX_MESSAGE} characters")
    lines = message.split("\n")
    header = _HEADER.match(lines[0]) if lines else None
    if header is None or len(lines) < 3:
        raise ValidationFailed(
            "not an EIP-4361 message: it starts '<domain> wants you to sign in with your Ethereum account:'"
        )
    address = lines[1]
    if not is_address(address) or address != to_checksum_address(address):
        raise ValidationFailed("the SIWE address must be an EIP-55 checksummed Ethereum address")
    rest = lines[2:]
    if rest and rest[0] != "":
        raise ValidationFailed("a blank line must follow the address")
    rest = rest[1:]
    statement = None
    if rest and not _FIELD.match(rest[0]):
        statement, rest = rest[0], rest[1:]
        if not rest or rest[0] != "":
            raise ValidationFailed("a blank line must follow the statement")
        rest = rest[1:]
    fields: dict[str, str] = {}
    for line in rest:
        if line.startswith("Resources:") or line.startswith("- "):
            continue
        match = _FIELD.match(line)
        if match is None or match["key"] not in (*_REQUIRED, *_OPTIONAL):
            raise ValidationFailed(f"unexpected SIWE line {line[:80]!r}")
        fields[match["key"]] = match["value"]
    missing = [key for key in _REQUIRED if key not in fields]
    if missing:
        raise ValidationFailed(f"the SIWE message lacks {missing}")
    if fields["Version"] != "1":
        raise ValidationFailed("SIWE Version must be 1")
    if not fields["Chain ID"].isdigit():
        raise ValidationFailed("SIWE Chain ID must be a number")
    return SiweMessage(
        domain=header["domain"],
        address=address,
        statement=statement,
        uri=fields["URI"],
        chain_id=int(fields["Chain ID"]),
        nonce=fields["Nonce"],
        issued_at=_time("Issued At", fields["Issued At"]),
        expiration_time=_time("Expiration Time", fields["Expiration Time"]) if "Expiration Time" in fields else None,
        not_before=_time("Not Before", fields["Not Before"]) if "Not Before" in fields else None,
    )


@dataclass(frozen=True)
class Audience:
    """Where sign-in messages must point: this service's public base URL, from settings."""

    base_url: str

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def uri(self) -> str:
        return self.base_url.rstrip("/") + "/auth/siwe"

    def check(self, parsed: SiweMessage) -> None:
        """NotAuthenticated unless the message names this service's domain and a URI on it."""
        if parsed.domain != self.domain:
            raise NotAuthenticated(f"the SIWE message is for {parsed.domain!r}, not this service ({self.domain!r})")
        root = self.base_url.rstrip("/")
        if parsed.uri != root and not parsed.uri.startswith(root + "/"):
            raise NotAuthenticated(f"the SIWE message's URI {parsed.uri[:200]!r} is not on this service ({root!r})")

    def message(self, *, row: SiweNonce, chain_id: int) -> str:
        """A ready EIP-4361 message for a nonce, to be signed as is."""
        return (
            f"{self.domain} wants you to sign in with your Ethereum account:\n{row.address}\n\n"
            "Sign in to Constellate.\n\n"
            f"URI: {self.uri}\nVersion: 1\nChain ID: {chain_id}\n"
            f"Nonce: {row.nonce}\nIssued At: {row.issued_at.isoformat().replace('+00:00', 'Z')}"
        )


def issue_nonce(*, session: Session, address: str, now: datetime | None = None) -> SiweNonce:
    """A fresh nonce for `address` (alphanumeric, as EIP-4361 requires), valid NONCE_TTL."""
    if not is_address(address):
        raise ValidationFailed(f"{address!r} is not an Ethereum address")
    now = now or datetime.now(UTC)
    checksummed = to_checksum_address(address)
    session.execute(delete(SiweNonce).where(SiweNonce.expires_at < now))  # nonces never pile up
    open_nonces = session.scalar(
        select(func.count()).select_from(SiweNonce).where(SiweNonce.address == checksummed, SiweNonce.used_at.is_(None))
    )
    if open_nonces >= MAX_OPEN_NONCES:
        raise Conflict(f"{checksummed} already has {MAX_OPEN_NONCES} unused nonces; use one or wait {NONCE_TTL}")
    row = SiweNonce(nonce=secrets.token_hex(16), address=checksummed, issued_at=now, expires_at=now + NONCE_TTL)
    session.add(row)
    session.flush()
    return row


def sign_in(
    *,
    session: Session,
    message: str,
    signature: str,
    audience: Audience,
    chain_id: int,
    identities: Identities,
    scopes: list[Scope] | None = None,
    now: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Checks a signed SIWE message and issues an API key to the member holding the address
    (the operator's own row for its administrative account)."""
    now = now or datetime.now(UTC)
    parsed = parse(message)
    audience.check(parsed)
    if parsed.chain_id != chain_id:
        raise NotAuthenticated(f"the SIWE message is for chain {parsed.chain_id}, not {chain_id}")
    if parsed.expiration_time is not None and parsed.expiration_time <= now:
        raise NotAuthenticated("the SIWE message has expired")
    if parsed.not_before is not None and parsed.not_before > now:
        raise NotAuthenticated("the SIWE message is not valid yet")
    raw = parse_signature(signature)
    try:
        signer = Account.recover_message(encode_defunct(text=message), signature=raw)
    except (ValueError, TypeError, BadSignature) as exc:
        raise NotAuthenticated(f"the SIWE signature does not recover: {exc}") from None
    if signer != parsed.address:
        raise NotAuthenticated("the SIWE message was not signed by the address it names")
    identities.check_sign_in(parsed.address)
    nonce = session.get(SiweNonce, parsed.nonce, with_for_update=True)
    if nonce is None or nonce.address != parsed.address:
        raise NotAuthenticated("unknown SIWE nonce: ask POST /auth/siwe/nonce for one")
    if nonce.used_at is not None:
        raise NotAuthenticated("this SIWE nonce was used already")
    if nonce.expires_at <= now:
        raise NotAuthenticated("this SIWE nonce has expired")
    nonce.used_at = now
    if identities.is_operator(parsed.address):
        admin = operator(session=session, address=identities.relayer or parsed.address)
        return issue_api_key(session=session, member=admin, scopes=scopes, label="operator sign-in with Ethereum")
    member = session.scalar(select(Member).where(Member.address == parsed.address))
    if member is None or member.custody == "operator":  # the operator's row carries the relayer's address
        raise NotAuthenticated(f"no member holds {parsed.address}")
    return issue_api_key(session=session, member=member, scopes=scopes, label="sign-in with Ethereum")
