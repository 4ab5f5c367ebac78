"""Who signs a member's EIP-712 messages: its managed key, in the service, or the member
itself (self-custody), in which case the given signature is checked here. The one place a
member's authorisation of a chain action is decided."""

from __future__ import annotations

import time
from typing import Annotated, Any

from eth_utils import to_checksum_address
from pydantic import Field
from sqlalchemy.orm import Session

from service.chain import typed_data
from service.db.models import Member
from service.domain.keys import KeyVault
from service.domain.members import managed_signer
from service.errors import ValidationFailed


def parse_signature(value: str) -> bytes:
    """A 65-byte hex signature, or ValidationFailed naming the problem."""
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError as exc:
        raise ValidationFailed("signature is not hex") from exc
    if len(raw) != 65:
        raise ValidationFailed(f"signature must be 65 bytes (r, s, v), got {len(raw)}")
    return raw


Deadline = Annotated[
    int, Field(ge=0, le=2**63 - 1, description="Unix time until which the signature holds (the signed uint256)")
]
"""The deadline a member signed with, as requests carry it: a Unix time the service can store."""


def deadline_in(seconds: int, *, now: float | None = None) -> int:
    return int(now if now is not None else time.time()) + seconds


def authorise(
    *, session: Session, vault: KeyVault | None, member: Member, typed: dict[str, Any], signature: str | None
) -> bytes:
    """The member's signature over `typed`: made with its managed key, or checked if given."""
    if member.custody == "managed" and signature is None:
        return typed_data.sign(bytes(managed_signer(session=session, vault=vault, member=member).key), typed)
    if signature is None:
        raise ValidationFailed(
            f"member {member.name} holds its own key: sign the {typed['primaryType']} typed data and send the signature"
        )
    raw = parse_signature(signature)
    try:
        signer = typed_data.recover(typed, raw)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(f"signature does not recover: {exc}") from exc
    if to_checksum_address(signer) != member.address:
        raise ValidationFailed(
            f"the {typed['primaryType']} signature is by {signer}, not by {member.name} ({member.address})"
        )
    return raw
