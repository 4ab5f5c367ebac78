"""GS1 keys as the domain holds them: items and places, and their canonical GS1 Digital Link URI.
The canonical form (https://id.gs1.org/...) is what the service stores, hashes and compares. The
rules of the keys themselves (check digits, the Digital Link grammar) are service.epcis's, the same
ones EPCIS capture applies: a link the resolver refuses is one capture refuses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from service.epcis.gs1_keys import CANONICAL_HOST, CANONICAL_SAFE, key_problem
from service.epcis.gs1_keys import check_digit as check_digit  # the domain's callers name it here too
from service.epcis.identifiers import canonical_id, identifier_problem
from service.errors import ValidationFailed

# GS1 AI 10 (lot) and 21 (serial): up to 20 characters of GS1 AI encodable character set 82.
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
_DIGITS = re.compile(r"[0-9]+")


def _digits(value: str, lengths: tuple[int, ...], name: str, ai: str) -> str:
    if not _DIGITS.fullmatch(value) or len(value) not in lengths:
        allowed = " or ".join(str(n) for n in lengths)
        raise ValidationFailed(f"{name} {value!r} must be {allowed} digits")
    problem = key_problem(ai, value.zfill(max(lengths)))
    if problem is not None:
        raise ValidationFailed(problem)
    return value


def normalise_gtin(gtin: str) -> str:
    """A valid GTIN-8/12/13/14 as GTIN-14."""
    return _digits(gtin, (8, 12, 13, 14), "GTIN", "01").zfill(14)


def validate_gln(gln: str) -> str:
    return _digits(gln, (13,), "GLN", "414")


def validate_sscc(sscc: str) -> str:
    return _digits(sscc, (18,), "SSCC", "00")


def validate_attribute(value: str, name: str) -> str:
    """A lot or serial number: 1-20 characters of GS1's character set 82."""
    if not _CSET82.fullmatch(value):
        raise ValidationFailed(f"{name} {value!r} must be 1 to 20 characters of the GS1 character set 82")
    return value


@dataclass(frozen=True)
class ItemKey:
    """A trade item class (GTIN), a lot (GTIN + lot), a unit (GTIN + serial, optionally lot)."""

    gtin: str
    lot: str | None = None
    serial: str | None = None

    @classmethod
    def of(cls, gtin: str, lot: str | None = None, serial: str | None = None) -> ItemKey:
        return cls(
            normalise_gtin(gtin),
            validate_attribute(lot, "lot") if lot is not None else None,
            validate_attribute(serial, "serial") if serial is not None else None,
        )

    @property
    def kind(self) -> str:
        if self.serial is not None:
            return "sgtin"
        return "lgtin" if self.lot is not None else "gtin"

    def digital_link(self, base: str = CANONICAL_HOST) -> str:
        uri = f"{base.rstrip('/')}/01/{self.gtin}"
        if self.lot is not None:
            uri += f"/10/{quote(self.lot, safe=CANONICAL_SAFE)}"
        if self.serial is not None:
            uri += f"/21/{quote(self.serial, safe=CANONICAL_SAFE)}"
        return uri

    @property
    def lot_key(self) -> ItemKey:
        """The lot (or class) this item belongs to."""
        return ItemKey(self.gtin, self.lot)


@dataclass(frozen=True)
class LocationKey:
    gln: str
    extension: str | None = None

    def digital_link(self, base: str = CANONICAL_HOST) -> str:
        uri = f"{base.rstrip('/')}/414/{self.gln}"
        return uri + (f"/254/{quote(self.extension, safe=CANONICAL_SAFE)}" if self.extension else "")


_PATH = re.compile(r"^/01/(?P<gtin>[^/]+)(?:/10/(?P<lot>[^/]+))?(?:/21/(?P<serial>[^/]+))?/?$")


def parse_item_path(path: str) -> ItemKey:
    """An item from a Digital Link path such as /01/{gtin}/10/{lot}/21/{serial}: the Digital Link
    grammar and the key's check digit as capture checks them, then the item's parts."""
    problem = identifier_problem(CANONICAL_HOST + path) if path.startswith("/") else None
    if problem is not None:
        raise ValidationFailed(problem)
    match = _PATH.match(path)
    if match is None:
        raise ValidationFailed(f"{path!r} is not a GS1 Digital Link path /01/{{gtin}}[/10/{{lot}}][/21/{{serial}}]")
    lot, serial = match["lot"], match["serial"]
    return ItemKey.of(
        match["gtin"], unquote(lot) if lot is not None else None, unquote(serial) if serial is not None else None
    )


ITEM_PREFIX = CANONICAL_HOST + "/01/"


def item_of(identifier: str) -> ItemKey | None:
    """The item (a class, a lot or a unit) a canonical Digital Link names; None for any other
    identifier (an SSCC, a place, a URN that is not GS1)."""
    if not identifier.startswith(ITEM_PREFIX):
        return None
    try:
        return parse_item_path(identifier[len(CANONICAL_HOST) :])
    except ValidationFailed:
        return None


def class_of(identifier: str) -> str:
    """The product class (…/01/{gtin}) of a canonical item identifier; any other unchanged."""
    if not identifier.startswith(ITEM_PREFIX):
        return identifier
    return ITEM_PREFIX + identifier[len(ITEM_PREFIX) :].split("/", 1)[0]


def lot_of(identifier: str) -> str | None:
    """The lot of a unit named with its lot (…/10/{lot}/21/{serial}); None otherwise. Canonical
    lots and serials percent-encode "/", so the split is exact."""
    if identifier.startswith(ITEM_PREFIX) and "/10/" in identifier and "/21/" in identifier:
        return identifier.split("/21/", 1)[0]
    return None


def item_subjects(identifier: str) -> tuple[str, ...]:
    """The canonical subjects that speak for an item: the item, its lot (a unit's serial
    dropped) and its class — a certified lot certifies its units, a certified product its lots."""
    return tuple(dict.fromkeys(s for s in (identifier, lot_of(identifier), class_of(identifier)) if s))


_GLN_PREFIX = CANONICAL_HOST + "/414/"


def gln_of(location: str) -> str | None:
    """The GLN of a location identifier (a Digital Link /414/…, with or without an extension, or
    an SGLN URN); None for any other identifier."""
    canonical = canonical_id(location)
    if not canonical.startswith(_GLN_PREFIX):
        return None
    return canonical[len(_GLN_PREFIX) :].split("/", 1)[0]
