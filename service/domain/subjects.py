"""What an attestation is about: an item (GTIN, GTIN + lot, SGTIN), a member, or a location
(GLN). Each subject has one canonical identifier; its keccak256 is the on-chain subject."""

from __future__ import annotations

from typing import Annotated, Literal

from eth_utils import keccak
from pydantic import BaseModel, ConfigDict, Field

from service.domain.gs1 import ItemKey, LocationKey, validate_gln


class ItemSubject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["item"] = "item"
    gtin: str
    lot: str | None = None
    serial: str | None = None

    def canonical(self) -> str:
        return ItemKey.of(self.gtin, self.lot, self.serial).digital_link()


class MemberSubject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["member"] = "member"
    member_id: str

    def canonical(self) -> str:
        return f"urn:constellate:member:{self.member_id}"


class LocationSubject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["location"] = "location"
    gln: str

    def canonical(self) -> str:
        return LocationKey(validate_gln(self.gln)).digital_link()


Subject = Annotated[ItemSubject | MemberSubject | LocationSubject, Field(discriminator="kind")]


def subject_hash(canonical: str) -> bytes:
    return keccak(text=canonical)
