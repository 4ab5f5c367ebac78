"""Master data text (a place's or a product's name) as people will read it on a page and a map:
printable characters only. Refused: C0 and C1 controls, line and paragraph separators,
non-characters, and every format character (Unicode category Cf: the bidirectional embeddings,
overrides and isolates U+202A-202E and U+2066-2069, the marks U+200E-200F, zero-width spaces
and joiners), which would let a name display text other than what it holds."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")


def printable(value: str | None) -> str | None:
    """The value stripped of surrounding spaces; ValueError naming the first character it refuses."""
    if value is None:
        return None
    for char in value:
        if _CONTROL.match(char) or unicodedata.category(char) == "Cf":
            raise ValueError(f"must not hold control or format characters (U+{ord(char):04X})")
    return value.strip()


__all__ = ["printable"]
