"""The GS1 keys a Digital Link or an EPC URN names, and the rule only their digits carry: the check digit.

One place for it, read by every path that accepts an identifier: EPCIS capture, the CSV importer and
``constellate capture --check`` (through :func:`service.epcis.identifiers.identifier_problem`), master
data and the resolver (through :mod:`service.domain.gs1`).

GS1 General Specifications, section 7.9 (the mod-10 check digit) and the element strings of section 3:

* with a check digit, the last digit of a fixed run of digits at the start of the key: GTIN (AI 01, 14
  digits), ITIP (8006: its GTIN, then piece and total), SSCC (00, 18), GLN (414) and party GLN (417, 13),
  GRAI (8003: a filler ``0``, then 13 digits), GDTI (253, 13, then an optional serial), GCN (255, 13, then
  an optional serial), GSIN (402, 17), GSRN and GSRN-P (8018, 8017: 18);
* without one: GIAI (8004), GINC (401), CPID (8010) and its serial (8011), and every qualifier (lot,
  serial, TPX, GLN extension, consumer product variant);
* the GMN (8013) carries a check character pair (mod 1021), not a check digit; the Digital Link parser of
  this service does not read GMNs (nor UIC with extension, 7040), so no GMN reaches this check.

An EPC URN writes no check digit: the canonical form computes it, so a parsable URN is always right.
"""

from __future__ import annotations

from dataclasses import dataclass

CANONICAL_HOST = "https://id.gs1.org"
CANONICAL_SAFE = "';="
"""Besides letters, digits and ``-._~``, what a canonical Digital Link keeps unencoded in a serial or lot
(as the reference event hash implementation does); every other character is percent-encoded."""


@dataclass(frozen=True)
class Gs1Key:
    """A GS1 key as a Digital Link writes it: its application identifier and name, and how many of its
    leading digits end in the check digit (None: the key has none)."""

    ai: str
    name: str
    checked_digits: int | None


KEYS: dict[str, Gs1Key] = {
    key.ai: key
    for key in (
        Gs1Key("00", "SSCC", 18),
        Gs1Key("01", "GTIN", 14),
        Gs1Key("253", "GDTI", 13),
        Gs1Key("255", "GCN", 13),
        Gs1Key("401", "GINC", None),
        Gs1Key("402", "GSIN", 17),
        Gs1Key("414", "GLN", 13),
        Gs1Key("417", "party GLN", 13),
        Gs1Key("8003", "GRAI", 14),
        Gs1Key("8004", "GIAI", None),
        Gs1Key("8006", "ITIP", 14),
        Gs1Key("8010", "CPID", None),
        Gs1Key("8017", "GSRN-P", 18),
        Gs1Key("8018", "GSRN", 18),
    )
}
"""Every key the Digital Link parser reads, by application identifier."""


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of `body` (the key's digits without their last)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def key_problem(ai: str, value: str) -> str | None:
    """Why `value` (the digits and characters a Digital Link writes after ``/<ai>/``, GTINs padded to 14
    digits) is no valid key of AI `ai`: a wrong check digit, or a GRAI without its filler zero. None
    when it is valid, or when the key has no check digit. The grammar (lengths, character sets) is the
    parser's: a value that breaks it is reported there."""
    key = KEYS.get(ai)
    if key is None or key.checked_digits is None:
        return None
    digits = value[: key.checked_digits]
    if len(digits) < key.checked_digits or not digits.isdigit():
        return f"the {key.name} {value!r} does not start with {key.checked_digits} digits"
    if ai == "8003" and digits[0] != "0":
        return f"the GRAI {digits} does not start with the filler digit 0 (AI 8003 is 0, then the 13-digit GRAI)"
    expected = check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        return f"the {key.name} {digits} has a wrong check digit (expected {expected})"
    return None
