"""GS1 identifiers in EPCIS: one canonical string for every way of writing the same identifier.

EPCIS 2.0 lets a capturing application name an object, a lot, a place or a party either as an EPC URN
(``urn:epc:id:sgtin:4012345.011111.987``) or as a GS1 Digital Link URI on any host
(``https://example.com/01/04012345111118/21/987?17=250101``). :func:`canonical_id` maps both to the
*constrained canonical GS1 Digital Link URI* that the CBV 2.0 event hash uses (CBV 2.0 section 8.9,
rules 17 and 18, as the reference implementation github.com/RalphTro/epcis-event-hash-generator applies
them):

* the host is ``https://id.gs1.org``; a custom host, a custom path prefix, the query string and the
  fragment are dropped, and short key names (``gtin``, ``ser``, ``gln`` ...) become application
  identifiers (``01``, ``21``, ``414`` ...);
* a GTIN has 14 digits; the numeric keys built from URN parts get their GS1 check digit;
* only the finest level of identification stays: ``01/21``, ``01/235``, ``01/10`` or ``01`` (the same
  for ``8006``), ``414/254``, ``8010/8011``; a consumer product variant (``22``) is dropped;
* serials, lots and the other alphanumeric parts are percent-decoded and re-encoded one way: every
  character except letters, digits and ``-._~';=`` is percent-encoded (``98"`` becomes ``98%22``).

The mapping is syntactic. It checks the grammar, the lengths and the character sets, but not the check
digit that a Digital Link URI carries (the reference hash algorithm does not check it either).
Anything that is not a recognisable GS1 identifier comes back unchanged. :func:`identifier_problem` is
the one validity check of an identifier, shared by capture, the CSV importer, ``capture --check`` and
the resolver: what is wrong with an EPC URN, a Digital Link URI on id.gs1.org that is not one, or a
Digital Link URI on any host whose key has a wrong check digit (:mod:`service.epcis.gs1_keys`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import quote, unquote

from service.epcis.gs1_keys import CANONICAL_HOST, CANONICAL_SAFE, key_problem

# GS1 AI encodable character set 82 (serials, lots, asset references) and set 39 (component/part refs).
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+")
_CSET39 = re.compile(r"[#\-/0-9A-Z]+")
_DIGITS = re.compile(r"[0-9]+")
_CANDIDATES = ("urn:epc:", "https://", "http://")


class _NotAnIdentifier(Exception):
    """Raised by the parsers below when a string is not a GS1 identifier they can canonicalise."""


def canonical_id(uri: str) -> str:
    """The canonical GS1 Digital Link URI of a GS1 identifier written as an EPC URN or a Digital Link URI.

    EPC URNs (``urn:epc:id:*``, ``urn:epc:class:lgtin``, class-level ``urn:epc:idpat:*``) and Digital Link
    URIs on any host map to ``https://id.gs1.org/...``; every other string is returned unchanged.
    """
    return _canonical(uri) if uri.startswith(_CANDIDATES) else uri


@lru_cache(maxsize=1 << 16)
def _canonical(uri: str) -> str:
    try:
        path = _urn_path(uri) if uri.startswith("urn:") else _digital_link_path(uri)
    except _NotAnIdentifier:
        return uri
    return CANONICAL_HOST + path


# --- parts shared by both syntaxes -------------------------------------------------------------------------


def _component(raw: str, max_length: int, charset: re.Pattern[str] = _CSET82) -> str:
    """An alphanumeric part (percent-encoded as in a URN or a Digital Link URI), re-encoded canonically."""
    value = unquote(raw)
    if len(value) > max_length or not charset.fullmatch(value):
        name = "82" if charset is _CSET82 else "39"
        raise _NotAnIdentifier(f"{value!r} is not 1 to {max_length} characters of the GS1 character set {name}")
    return quote(value, safe=CANONICAL_SAFE)


def _digits(raw: str, lengths: range | tuple[int, ...]) -> str:
    if len(raw) not in lengths or not _DIGITS.fullmatch(raw):
        allowed = f"{lengths[0]} to {lengths[-1]}" if isinstance(lengths, range) else " or ".join(map(str, lengths))
        raise _NotAnIdentifier(f"{raw!r} is not {allowed} digits")
    return raw


def _with_check_digit(digits: str) -> str:
    """`digits` followed by their GS1 mod-10 check digit.

    The same result as :func:`service.epcis.gs1_keys.check_digit`, about four times faster: the digits in odd
    positions from the right weigh 3, the others 1, summed from their ASCII codes (48 is ``"0"``).
    """
    odd, even = digits[-1::-2], digits[-2::-2]
    total = 3 * (sum(odd.encode()) - 48 * len(odd)) + sum(even.encode()) - 48 * len(even)
    return f"{digits}{-total % 10}"


# --- EPC URNs (GS1 EPC Tag Data Standard) ------------------------------------------------------------------


def _prefix(gcp: str) -> str:
    """A GS1 company prefix: 6 to 12 digits (the URN patterns below only capture digits)."""
    if not 6 <= len(gcp) <= 12:
        raise _NotAnIdentifier(f"the company prefix {gcp!r} is not 6 to 12 digits")
    return gcp


def _key(gcp: str, reference: str, length: int) -> str:
    """The digits of a key made of a company prefix and a reference, `length` digits without check digit."""
    digits = _prefix(gcp) + reference
    if len(digits) != length:
        raise _NotAnIdentifier(
            f"the company prefix {gcp!r} and the reference {reference!r} make {len(digits)} digits, not {length}"
        )
    return digits


def _gtin(gcp: str, indicator_and_item: str) -> str:
    """The GTIN-14 of an SGTIN-style URN: the indicator digit moves in front of the company prefix."""
    _key(gcp, indicator_and_item, 13)
    return _with_check_digit(indicator_and_item[0] + gcp + indicator_and_item[1:])


def _sgln(gcp: str, location: str, extension: str) -> str:
    gln = _with_check_digit(_key(gcp, location, 12))
    return f"/414/{gln}" if extension == "0" else f"/414/{gln}/254/{_component(extension, 20)}"


def _serial_shipping(gcp: str, extension_and_serial: str) -> str:
    _key(gcp, extension_and_serial, 17)
    return f"/00/{_with_check_digit(extension_and_serial[0] + gcp + extension_and_serial[1:])}"


def _cpi(gcp: str, part: str) -> str:
    return _component(_prefix(gcp) + part, 30, _CSET39)


_N = r"([0-9]+)"  # a company prefix or a numeric reference
_N0 = r"([0-9]*)"  # a reference that is empty when the company prefix has 12 digits
_S = r"(.+)"  # an alphanumeric part, URN-escaped; it may contain dots
_URN_BUILDERS: dict[str, tuple[str, Callable[..., str]]] = {
    "id:sgtin": (rf"{_N}\.{_N}\.{_S}", lambda c, r, s: f"/01/{_gtin(c, r)}/21/{_component(s, 20)}"),
    "id:sscc": (rf"{_N}\.{_N}", _serial_shipping),
    "id:sgln": (rf"{_N}\.{_N0}\.{_S}", _sgln),
    "id:grai": (
        rf"{_N}\.{_N0}\.{_S}",
        lambda c, r, s: f"/8003/0{_with_check_digit(_key(c, r, 12))}{_component(s, 16)}",
    ),
    "id:giai": (rf"{_N}\.{_S}", lambda c, s: f"/8004/{_prefix(c)}{_component(s, 30 - len(c))}"),
    "id:gsrn": (rf"{_N}\.{_N}", lambda c, r: f"/8018/{_with_check_digit(_key(c, r, 17))}"),
    "id:gsrnp": (rf"{_N}\.{_N}", lambda c, r: f"/8017/{_with_check_digit(_key(c, r, 17))}"),
    "id:gdti": (rf"{_N}\.{_N0}\.{_S}", lambda c, r, s: f"/253/{_with_check_digit(_key(c, r, 12))}{_component(s, 17)}"),
    "id:cpi": (rf"{_N}\.([^.]*)\.{_N}", lambda c, p, s: f"/8010/{_cpi(c, p)}/8011/{_digits(s, range(1, 13))}"),
    "id:sgcn": (
        rf"{_N}\.{_N0}\.{_N}",
        lambda c, r, s: f"/255/{_with_check_digit(_key(c, r, 12))}{_digits(s, range(1, 13))}",
    ),
    "id:ginc": (rf"{_N}\.{_S}", lambda c, s: f"/401/{_prefix(c)}{_component(s, 30 - len(c))}"),
    "id:gsin": (rf"{_N}\.{_N}", lambda c, r: f"/402/{_with_check_digit(_key(c, r, 16))}"),
    "id:itip": (
        rf"{_N}\.{_N}\.([0-9]{{2}})\.([0-9]{{2}})\.{_S}",
        lambda c, r, piece, total, s: f"/8006/{_gtin(c, r)}{piece}{total}/21/{_component(s, 20)}",
    ),
    "id:upui": (rf"{_N}\.{_N}\.{_S}", lambda c, r, s: f"/01/{_gtin(c, r)}/235/{_component(s, 28)}"),
    "id:pgln": (rf"{_N}\.{_N0}", lambda c, r: f"/417/{_with_check_digit(_key(c, r, 12))}"),
    "class:lgtin": (rf"{_N}\.{_N}\.{_S}", lambda c, r, lot: f"/01/{_gtin(c, r)}/10/{_component(lot, 20)}"),
    "idpat:sgtin": (rf"{_N}\.{_N}\.\*", lambda c, r: f"/01/{_gtin(c, r)}"),
    "idpat:grai": (rf"{_N}\.{_N0}\.\*", lambda c, r: f"/8003/0{_with_check_digit(_key(c, r, 12))}"),
    "idpat:gdti": (rf"{_N}\.{_N0}\.\*", lambda c, r: f"/253/{_with_check_digit(_key(c, r, 12))}"),
    "idpat:sgcn": (rf"{_N}\.{_N0}\.\*", lambda c, r: f"/255/{_with_check_digit(_key(c, r, 12))}"),
    "idpat:cpi": (rf"{_N}\.([^.]*)\.\*", lambda c, p: f"/8010/{_cpi(c, p)}"),
    "idpat:itip": (
        rf"{_N}\.{_N}\.([0-9]{{2}})\.([0-9]{{2}})\.\*",
        lambda c, r, piece, total: f"/8006/{_gtin(c, r)}{piece}{total}",
    ),
    "idpat:upui": (rf"{_N}\.{_N}\.\*", lambda c, r: f"/01/{_gtin(c, r)}"),
}
_URN = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):(.+)")
_URN_PARSERS = {scheme: (re.compile(pattern), build) for scheme, (pattern, build) in _URN_BUILDERS.items()}


def _urn_path(urn: str) -> str:
    """The Digital Link path (``/01/...``) of an EPC pure identity, class or class-level pattern URN."""
    match = _URN.fullmatch(urn)
    if match is None or (parser := _URN_PARSERS.get(f"{match[1]}:{match[2]}")) is None:
        raise _NotAnIdentifier("not an EPC URN of a GS1 key")
    pattern, build = parser
    parts = pattern.fullmatch(match[3])
    if parts is None:
        raise _NotAnIdentifier(f"the {match[2].upper()} form is urn:epc:{match[1]}:{match[2]}:{_shape(pattern)}")
    return build(*parts.groups())


def _shape(pattern: re.Pattern[str]) -> str:
    """A URN pattern above, readable: ``<digits>.<digits>.<serial>``."""
    shape = pattern.pattern
    for regex, text in ((_N, "<digits>"), (_N0, "<digits or nothing>"), (_S, "<serial>"), ("([^.]*)", "<part>")):
        shape = shape.replace(regex, text)
    return shape.replace("([0-9]{2})", "<2 digits>").replace("\\", "")


# EPC schemes of the EPC Tag Data Standard that are no GS1 key: valid in EPCIS, kept as written.
_OTHER_EPC_SCHEMES = frozenset({"gid", "usdod", "adi", "bic", "imovn"})
_EPC_SCHEMES = sorted({name.split(":")[1] for name in _URN_BUILDERS} | _OTHER_EPC_SCHEMES)
_COMPANY_PATTERN = re.compile(r"([0-9]+)(?:\.\*)+|\*(?:\.\*)+")
_RESOLVER_HOSTS = (f"{CANONICAL_HOST}/", "http://id.gs1.org/")


def identifier_problem(uri: str) -> str | None:
    """What is wrong with `uri` as a GS1 identifier, or None when it is a valid one or names something
    else: an EPC URN (``urn:epc:...``) must be well formed; a Digital Link URI on GS1's resolver
    (``https://id.gs1.org/...``) must follow the grammar; a Digital Link URI on any host that follows it
    (the service stores it as that GS1 key) must carry the right check digit. Any other URI, a web
    address on another host that is no Digital Link included, is None.

    EPC URNs carry no check digits (the canonical form computes them), so a parsable one is a valid key.
    """
    if uri.startswith("urn:epc:"):
        return None if _canonical(uri) != uri else _urn_problem(uri)  # the hash reuses the cached canonical form
    if uri.startswith(("https://", "http://")):
        return _digital_link_problem(uri)
    return None


@lru_cache(maxsize=1 << 12)
def _digital_link_problem(uri: str) -> str | None:
    try:
        path = _digital_link_path(uri)
    except _NotAnIdentifier as malformed:
        return f"{uri!r} is not a GS1 Digital Link URI: {malformed}" if uri.startswith(_RESOLVER_HOSTS) else None
    _, ai, value = path.split("/", 3)[:3]
    wrong = key_problem(ai, value)
    return None if wrong is None else f"{uri!r}: {wrong}"


@lru_cache(maxsize=1 << 12)
def _urn_problem(urn: str) -> str | None:
    match = _URN.fullmatch(urn)
    if match is None:
        return (
            f"{urn!r} is not an EPC URN: urn:epc:id:<scheme>:... names an instance, urn:epc:class:lgtin:... a lot,"
            " urn:epc:idpat:<scheme>:... a class"
        )
    kind, scheme, rest = match.groups()
    if scheme not in _EPC_SCHEMES or (kind == "class") != (scheme == "lgtin"):
        known = "lgtin" if kind == "class" else ", ".join(s for s in _EPC_SCHEMES if s != "lgtin")
        return f"{urn!r}: {scheme!r} is not an EPC {kind} scheme (one of {known})"
    if scheme in _OTHER_EPC_SCHEMES:
        return None
    if kind == "idpat" and (company := _COMPANY_PATTERN.fullmatch(rest)) is not None:
        return (
            None
            if company[1] is None or 6 <= len(company[1]) <= 12
            else f"{urn!r}: the company prefix is not 6 to 12 digits"
        )
    if f"{kind}:{scheme}" not in _URN_PARSERS:
        return f"{urn!r}: an EPC pattern of the {scheme} scheme is a company prefix and '*' for the rest"
    try:
        _urn_path(urn)
    except _NotAnIdentifier as problem:
        return f"{urn!r} is not a valid EPC URN: {problem}"
    return None


# --- GS1 Digital Link URIs (GS1 Digital Link URI syntax 1.2) ---------------------------------------------


def _numeric_key(*lengths: int) -> Callable[[str], str]:
    """A fixed-length numeric key; the shorter GTINs are padded to 14 digits."""
    width = max(lengths)
    return lambda raw: _digits(raw, lengths).zfill(width)


def _numeric_then(digits: int, tail: Callable[[str], str]) -> Callable[[str], str]:
    """A key of `digits` digits followed by an optional serial component (GDTI, GCN, GRAI)."""

    def parse(raw: str) -> str:
        head, rest = raw[:digits], raw[digits:]
        return _digits(head, (digits,)) + (tail(rest) if rest else "")

    return parse


def _text(max_length: int, charset: re.Pattern[str] = _CSET82) -> Callable[[str], str]:
    return lambda raw: _component(raw, max_length, charset)


def _serial_digits(raw: str) -> str:
    return _digits(raw, range(1, 13))


# Key and key-qualifier codes, with the short names that Digital Link 1.2 still accepts.
_KEY_CODES = {
    "00": "00", "sscc": "00", "01": "01", "gtin": "01", "253": "253", "gdti": "253", "255": "255", "gcn": "255",
    "401": "401", "ginc": "401", "402": "402", "gsin": "402", "414": "414", "gln": "414", "417": "417",
    "party": "417", "8003": "8003", "grai": "8003", "8004": "8004", "giai": "8004", "8006": "8006",
    "itip": "8006", "8010": "8010", "cpid": "8010", "8017": "8017", "gsrnp": "8017", "8018": "8018", "gsrn": "8018",
}  # fmt: skip
_QUALIFIER_CODES = {
    "22": "22", "cpv": "22", "10": "10", "lot": "10", "21": "21", "ser": "21", "235": "235",
    "254": "254", "glnx": "254", "8011": "8011", "cpsn": "8011",
}  # fmt: skip
_KEY_FORMATS: dict[str, Callable[[str], str]] = {
    "00": _numeric_key(18),
    "01": _numeric_key(8, 12, 13, 14),
    "253": _numeric_then(13, _text(17)),
    "255": _numeric_then(13, _serial_digits),
    "401": _text(30),
    "402": _numeric_key(17),
    "414": _numeric_key(13),
    "417": _numeric_key(13),
    "8003": _numeric_then(14, _text(16)),
    "8004": _text(30),
    "8006": _numeric_key(18),
    "8010": _text(30, _CSET39),
    "8017": _numeric_key(18),
    "8018": _numeric_key(18),
}
_QUALIFIER_FORMATS: dict[str, Callable[[str], str]] = {
    "22": _text(20),
    "10": _text(20),
    "21": _text(20),
    "235": _text(28),
    "254": _text(20),
    "8011": _serial_digits,
}
# The qualifier sequences the grammar allows after each key (any ordered subset of one of them) ...
_QUALIFIER_ORDERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "01": (("22", "10", "21"), ("235",)),
    "8006": (("22", "10", "21"),),
    "8010": (("8011",),),
    "414": (("254",),),
}
# ... and the one the canonical form keeps: the finest level of identification (CBV 2.0 8.9 rule 18).
_KEPT_QUALIFIERS = ("21", "235", "10", "8011", "254")
_DIGITAL_LINK = re.compile(r"https?://[^/?#]+(/[^?#]*)(?:\?[^#]*)?(?:#.*)?")


def _digital_link_path(uri: str) -> str:
    """The canonical path of a Digital Link URI, whatever its host and custom path prefix."""
    match = _DIGITAL_LINK.fullmatch(uri)
    if match is None:
        raise _NotAnIdentifier("not an http(s) URI with a path")
    segments = match[1].removesuffix("/").split("/")[1:]
    problem = _NotAnIdentifier("no GS1 key (01, 00, 414 ...) followed by its value and qualifiers")
    for start in range(len(segments) - 1):
        if segments[start] in _KEY_CODES and (len(segments) - start) % 2 == 0:
            try:
                return _gs1_path(segments[start:])
            except _NotAnIdentifier as error:
                problem = error  # perhaps a custom path segment that merely looks like a key code
    raise problem


def _gs1_path(segments: list[str]) -> str:
    """Canonicalise ``key/value[/qualifier/value]...`` path segments."""
    key = _KEY_CODES[segments[0]]
    path = f"/{key}/{_KEY_FORMATS[key](segments[1])}"
    qualifiers: dict[str, str] = {}
    for code, raw in zip(segments[2::2], segments[3::2], strict=True):
        qualifier = _QUALIFIER_CODES.get(code)
        if qualifier is None or qualifier in qualifiers:
            raise _NotAnIdentifier(f"{code!r} is not a key qualifier, or comes twice")
        qualifiers[qualifier] = _QUALIFIER_FORMATS[qualifier](raw)
    if qualifiers and not any(_in_order(qualifiers, order) for order in _QUALIFIER_ORDERS.get(key, ())):
        allowed = " or ".join("/".join(order) for order in _QUALIFIER_ORDERS.get(key, ())) or "none"
        raise _NotAnIdentifier(f"the qualifiers {'/'.join(qualifiers)} do not follow {key} (in order: {allowed})")
    kept = next((q for q in _KEPT_QUALIFIERS if q in qualifiers), None)
    return f"{path}/{kept}/{qualifiers[kept]}" if kept else path


def _in_order(codes: dict[str, str], order: tuple[str, ...]) -> bool:
    """Whether `codes` (in their order of appearance) is an ordered subset of `order`."""
    remaining = iter(order)
    return all(code in remaining for code in codes)
