"""Properties of the EPCIS parser, validator and CBV 2.0 event hash over generated EPCIS 2.0 events.

Events of every kind are generated with GS1 identifiers of every scheme the service canonicalises, CBV
terms, quantities, ILMD, sensor data, namespaced extensions and time zones, each written several ways
(EPC URN or Digital Link on any host, bare CBV term or URI, any key order, any offset). The oracle for
identifiers is built here from the GS1 rules (check digits by service.domain.gs1.check_digit), not from
the code under test.

CI runs a small derandomised profile; ``HYPOTHESIS_PROFILE=nightly`` (or ``bench``) runs a large one.
"""

from __future__ import annotations

import copy
import json
import os
import random as stdlib_random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from service.domain.gs1 import ItemKey, LocationKey, check_digit, normalise_gtin, parse_item_path, validate_attribute
from service.domain.view_format import RECORD_KEY
from service.epcis.analysis import analyse, epcis_document, stored_payload
from service.epcis.event_hash import HashContext, hash_ids, iter_events
from service.epcis.identifiers import canonical_id, identifier_problem
from service.epcis.query import query_document
from service.epcis.validation import SCHEMA_PATH, validate_document
from service.errors import InvalidField, MalformedInput, ValidationFailed

settings.register_profile(
    "epcis-ci", max_examples=50, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "epcis-nightly", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
NIGHTLY = os.environ.get("HYPOTHESIS_PROFILE") in ("nightly", "bench")
PROFILE = settings.get_profile("epcis-nightly" if NIGHTLY else "epcis-ci")
pytestmark = [pytest.mark.timeout(0)] if NIGHTLY else []  # a nightly property runs for minutes

CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
CSET39 = "#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
EXAMPLE_NS = "https://ns.example.com/epcis/"
STANDARD_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
_DEFINITIONS = json.loads(SCHEMA_PATH.read_text())["definitions"]


def _terms(name: str) -> list[str]:
    return next(a["enum"] for a in _DEFINITIONS[name]["anyOf"] if "enum" in a)


BIZ_STEPS, DISPOSITIONS = _terms("bizStep"), _terms("disposition")
BTT, SDT, COMPONENTS = _terms("bizTransaction-type"), _terms("source-dest-type"), _terms("component")
MEASUREMENTS = _terms("measurementType")


# --- GS1 identifiers: the oracle ---------------------------------------------------------------------------


def with_check_digit(body: str) -> str:
    return body + str(check_digit(body))


def canonical_text(value: str) -> str:
    """A serial or lot as the canonical Digital Link writes it."""
    return quote(value, safe="';=")


# Ways of writing a serial in an EPC URN: the characters the EPC Tag Data Standard must escape, or all.
URN_ESCAPES: list[Callable[[str], str]] = [
    lambda s: quote(s, safe="!'()*+,-.:;=_"),
    lambda s: quote(s, safe=""),
]
# ... and in a Digital Link path segment.
DL_ESCAPES: list[Callable[[str], str]] = [canonical_text, lambda s: quote(s, safe=""), lambda s: quote(s, safe="!*:")]
SHORT_NAMES = {
    "01": "gtin", "21": "ser", "10": "lot", "00": "sscc", "414": "gln", "254": "glnx", "8003": "grai",
    "8004": "giai", "8018": "gsrn", "8017": "gsrnp", "253": "gdti", "417": "party", "255": "gcn",
    "401": "ginc", "402": "gsin", "8010": "cpid", "8011": "cpsn", "8006": "itip",
}  # fmt: skip


@dataclass(frozen=True)
class Identifier:
    """One GS1 identifier: its EPC URN and the Digital Link segments it is made of, each an AI, its value
    (unencoded), and how many of the value's leading characters are key digits (the rest is text that a
    URI percent-encodes: a serial, a lot, an asset reference)."""

    kind: str
    urn: str
    segments: tuple[tuple[str, str, int], ...]

    @property
    def canonical(self) -> str:
        return "https://id.gs1.org" + "".join(f"/{ai}/{v[:n]}{canonical_text(v[n:])}" for ai, v, n in self.segments)


def cset(alphabet: str, max_size: int, min_size: int = 1) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


def numerals(size: int) -> st.SearchStrategy[str]:
    return cset("0123456789", size, size)


@st.composite
def company_and_reference(draw: st.DrawFn, total: int) -> tuple[str, str]:
    """A company prefix (6 to 12 digits) and the digits that complete a key of `total` digits."""
    gcp = draw(cset("0123456789", min(12, total), 6))
    return gcp, draw(numerals(total - len(gcp)))


@st.composite
def gs1_identifiers(draw: st.DrawFn, kinds: tuple[str, ...] | None = None) -> Identifier:
    """An identifier of one of `kinds` (every scheme the service canonicalises), its URN escaped either way."""
    kind = draw(st.sampled_from(kinds or KINDS))
    escape = draw(st.sampled_from(URN_ESCAPES))
    if kind in ("sgtin", "lgtin", "upui", "itip", "idpat:sgtin"):
        gcp, item = draw(company_and_reference(12))
        indicator = draw(numerals(1))
        gtin = ("01", with_check_digit(indicator + gcp + item), 14)
        reference = f"{gcp}.{indicator}{item}"
        if kind == "idpat:sgtin":
            return Identifier(kind, f"urn:epc:idpat:sgtin:{reference}.*", (gtin,))
        if kind == "itip":
            piece, total, serial = draw(numerals(2)), draw(numerals(2)), draw(cset(CSET82, 20))
            urn = f"urn:epc:id:itip:{reference}.{piece}.{total}.{escape(serial)}"
            return Identifier(kind, urn, (("8006", gtin[1] + piece + total, 18), ("21", serial, 0)))
        scheme, ai, size = {"sgtin": ("id", "21", 20), "lgtin": ("class", "10", 20), "upui": ("id", "235", 28)}[kind]
        value = draw(cset(CSET82, size))
        return Identifier(kind, f"urn:epc:{scheme}:{kind}:{reference}.{escape(value)}", (gtin, (ai, value, 0)))
    if kind == "sscc":
        gcp, rest = draw(company_and_reference(16))
        extension = draw(numerals(1))
        sscc = with_check_digit(extension + gcp + rest)
        return Identifier(kind, f"urn:epc:id:sscc:{gcp}.{extension}{rest}", (("00", sscc, 18),))
    if kind in ("sgln", "pgln", "grai", "gdti", "sgcn"):
        gcp, reference = draw(company_and_reference(12))
        key = with_check_digit(gcp + reference)
        if kind == "sgln":
            extension = draw(st.one_of(st.just("0"), cset(CSET82, 20)))
            urn = f"urn:epc:id:sgln:{gcp}.{reference}.{escape(extension)}"
            return Identifier(kind, urn, (("414", key, 13), *(() if extension == "0" else (("254", extension, 0),))))
        if kind == "pgln":
            return Identifier(kind, f"urn:epc:id:pgln:{gcp}.{reference}", (("417", key, 13),))
        if kind == "sgcn":
            serial = draw(cset("0123456789", 12))
            return Identifier(kind, f"urn:epc:id:sgcn:{gcp}.{reference}.{serial}", (("255", key + serial, 25),))
        serial = draw(cset(CSET82, 16 if kind == "grai" else 17))
        ai, value = ("8003", "0" + key) if kind == "grai" else ("253", key)
        urn = f"urn:epc:id:{kind}:{gcp}.{reference}.{escape(serial)}"
        return Identifier(kind, urn, ((ai, value + serial, len(value)),))
    if kind in ("gsrn", "gsrnp", "gsin"):
        gcp, reference = draw(company_and_reference(16 if kind == "gsin" else 17))
        ai = {"gsrn": "8018", "gsrnp": "8017", "gsin": "402"}[kind]
        key = with_check_digit(gcp + reference)
        return Identifier(kind, f"urn:epc:id:{kind}:{gcp}.{reference}", ((ai, key, len(key)),))
    if kind in ("giai", "ginc"):
        gcp = draw(cset("0123456789", 12, 6))
        reference = draw(cset(CSET82, 30 - len(gcp)))
        ai = "8004" if kind == "giai" else "401"
        return Identifier(kind, f"urn:epc:id:{kind}:{gcp}.{escape(reference)}", ((ai, gcp + reference, 0),))
    assert kind == "cpi"
    gcp = draw(cset("0123456789", 12, 6))
    part, serial = draw(cset(CSET39, 30 - len(gcp), 0)), draw(cset("0123456789", 12))
    urn = f"urn:epc:id:cpi:{gcp}.{quote(part, safe='')}.{serial}"
    return Identifier(kind, urn, (("8010", gcp + part, 0), ("8011", serial, len(serial))))


KINDS = (
    "sgtin", "lgtin", "upui", "itip", "idpat:sgtin", "sscc", "sgln", "pgln", "grai", "gdti", "sgcn",
    "gsrn", "gsrnp", "gsin", "giai", "ginc", "cpi",
)  # fmt: skip
INSTANCES = ("sgtin", "sscc", "grai", "giai", "itip", "upui", "gsrn", "gdti", "cpi")
CLASSES = ("lgtin", "idpat:sgtin")


@st.composite
def digital_links(draw: st.DrawFn, identifier: Identifier) -> str:
    """`identifier` as a Digital Link URI: any host and path prefix, short key names, shorter GTINs,
    coarser qualifiers before the kept one, any percent-encoding, a query string and a fragment."""
    host = draw(st.sampled_from(["https://id.gs1.org", "https://brand.example.com", "http://example.org/dl/x"]))
    segments = list(identifier.segments)
    ai, value, _ = segments[0]
    if ai == "01" and draw(st.booleans()):  # a GTIN-8, -12 or -13 as itself
        short = value.lstrip("0")
        segments[0] = (ai, short.zfill(next(n for n in (8, 12, 13, 14) if n >= len(short))), 14)
    if ai in ("01", "8006") and len(segments) > 1 and segments[1][0] == "21" and draw(st.booleans()):
        segments.insert(1, ("10", draw(cset(CSET82, 20)), 0))  # a lot before the serial: the serial is finer
    path = ""
    for code, raw, key_digits in segments:
        name = SHORT_NAMES[code] if code in SHORT_NAMES and draw(st.booleans()) else code
        path += f"/{name}/{raw[:key_digits]}{draw(st.sampled_from(DL_ESCAPES))(raw[key_digits:])}"
    query = draw(st.sampled_from(["", "?17=250101", "?linkType=gs1:pip&10=X"]))
    fragment = draw(st.sampled_from(["", "#top"]))
    return host + path + query + fragment


# --- URN <-> Digital Link ----------------------------------------------------------------------------------


@PROFILE
@given(st.data())
def test_urn_and_every_digital_link_of_an_identifier_canonicalise_alike(data: st.DataObject) -> None:
    identifier = data.draw(gs1_identifiers())
    link = data.draw(digital_links(identifier))
    assert canonical_id(identifier.urn) == identifier.canonical
    assert canonical_id(link) == identifier.canonical, link
    assert canonical_id(identifier.canonical) == identifier.canonical
    assert identifier_problem(identifier.urn) is None
    assert identifier_problem(identifier.canonical) is None


@PROFILE
@given(gs1_identifiers(kinds=("sgtin", "lgtin", "sgln")))
@example(
    Identifier("lgtin", "urn:epc:class:lgtin:4012345.012345.A'1;=", (("01", "04012345123456", 14), ("10", "A'1;=", 0)))
)
def test_the_domain_item_and_place_keys_write_the_canonical_digital_link(identifier: Identifier) -> None:
    """Attestation subjects and journey pages (ItemKey, LocationKey) name an item or a place as events do:
    a lot with ', ; or = once had them percent-encoded there and not in events."""
    (_, key, _), *rest = identifier.segments
    qualifier = {ai: value for ai, value, _ in rest}
    if identifier.kind == "sgln":
        written = LocationKey(key, qualifier.get("254")).digital_link()
    else:
        item = ItemKey.of(key, lot=qualifier.get("10"), serial=qualifier.get("21"))
        written = item.digital_link()
        assert parse_item_path(written.removeprefix("https://id.gs1.org")) == item
    assert written == identifier.canonical == canonical_id(identifier.urn)


# Ways to break a valid EPC URN: more digits in the company prefix, an unknown scheme, a space in the
# serial, the last part dropped, a 5-digit company prefix.
BREAKS: list[Callable[[str], str]] = [
    lambda urn: re.sub(r"^(urn:epc:[a-z]+:[a-z]+:[0-9]+)", r"\g<1>1", urn),
    lambda urn: re.sub(r"^(urn:epc:[a-z]+:)", r"\g<1>x", urn),
    lambda urn: urn + " x",
    lambda urn: urn.rsplit(".", 1)[0],
    lambda urn: re.sub(r"^(urn:epc:[a-z]+:[a-z]+:)[0-9]+", r"\g<1>12345", urn),
]


@PROFILE
@given(gs1_identifiers(), st.sampled_from(BREAKS))
@example(Identifier("sgtin", "urn:epc:id:sgtin:4012345.011111.1", ()), BREAKS[3])
def test_a_broken_epc_urn_is_rejected_naming_the_problem(identifier: Identifier, breaker: Callable[[str], str]) -> None:
    broken = breaker(identifier.urn)
    problem = identifier_problem(broken)
    if canonical_id(broken) != broken:  # still an identifier (a GIAI with a longer reference, a serial with a dot)
        assert problem is None
        return
    assert problem is not None and broken in problem
    assert re.search(r"digits|not an EPC .*scheme|character set|form is|company prefix|pattern", problem), problem
    with pytest.raises(InvalidField, match=r"epcisBody\.eventList\[0\]\.epcList\[0\]: .*is not"):
        validate_document(epcis_document([_event("ObjectEvent", epcList=[broken])]))


@PROFILE
@given(
    st.text(max_size=60),
    st.sampled_from(["", "urn:epc:id:sgtin:", "urn:epc:", "https://id.gs1.org/01/", "https://x.example/01/"]),
)
@example("0401234511111²", "https://id.gs1.org/01/")
def test_any_string_is_canonicalised_or_left_alone_never_an_uncaught_error(junk: str, prefix: str) -> None:
    uri = prefix + junk
    assert isinstance(canonical_id(uri), str)
    problem = identifier_problem(uri)
    assert problem is None or uri[:20] in problem or repr(uri)[1:21] in problem


@pytest.mark.parametrize(
    ("value", "call"),
    [
        ("0401234511111²", normalise_gtin),  # Unicode digits: isdigit() holds, int() fails
        ("٠٤٠١٢٣٤٥١١١١١٨", normalise_gtin),  # Arabic-Indic digits are no GS1 key
        ("L1\n", lambda v: validate_attribute(v, "lot")),  # "$" matches before a final newline
        ("/01/0401234511111²", parse_item_path),
    ],
)
def test_gs1_keys_reject_what_only_looks_like_digits_or_a_lot(value: str, call: Callable[[str], Any]) -> None:
    with pytest.raises(ValidationFailed):
        call(value)


# --- generated events --------------------------------------------------------------------------------------


def _event(event_type: str, **fields: Any) -> dict[str, Any]:
    event = {"type": event_type, "eventTime": "2024-05-01T10:00:00.000+02:00", "eventTimeZoneOffset": "+02:00"}
    if event_type != "TransformationEvent":
        event["action"] = "OBSERVE"
    return {**event, **fields}


@dataclass
class Spelled:
    """An event in plain form (EPC URNs, bare CBV terms) and how each of its values may be written otherwise."""

    event: dict[str, Any]
    links: dict[str, list[str]]  # URN -> Digital Link URIs of the same identifier
    instant: datetime
    offset: int  # minutes


def offset_text(minutes: int, zulu: bool = False) -> str:
    if minutes == 0 and zulu:
        return "Z"
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def time_text(instant: datetime, offset: int, digits: int = 3, zulu: bool = False) -> str:
    local = instant + timedelta(minutes=offset)
    fraction = f"{local.microsecond // 1000:03d}".ljust(digits, "0")[:digits] if digits else ""
    assert not fraction or int(fraction[:3].ljust(3, "0")) == local.microsecond // 1000
    return f"{local:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}{offset_text(offset, zulu)}"


instants = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
offsets = st.integers(-56, 56).map(lambda quarter: quarter * 15)
quantities = st.one_of(st.integers(0, 10**6), st.floats(0, 1e6, allow_nan=False).map(lambda x: round(x, 3)))
uoms = st.sampled_from(["KGM", "LTR", "H87", "MTR"])
quantity_parts = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"quantity": st.integers(0, 10**6)}),
    st.fixed_dictionaries({"quantity": quantities, "uom": uoms}),
)
scalars = st.one_of(
    st.text(alphabet="abcdefgh XYZ-0123456789", max_size=12).map(str.strip).filter(bool),
    st.integers(-1000, 1000),
    st.booleans(),
)
extension_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(st.sampled_from(["ex:a", "ex:b", "ex:c"]), inner, min_size=1, max_size=3),
    ),
    max_leaves=6,
)


@st.composite
def spelled_events(draw: st.DrawFn) -> Spelled:
    links: dict[str, list[str]] = {}

    def ids(kinds: tuple[str, ...], min_size: int = 0, max_size: int = 3) -> list[str]:
        found = draw(
            st.lists(gs1_identifiers(kinds), min_size=min_size, max_size=max_size, unique_by=lambda i: i.canonical)
        )
        for identifier in found:
            links[identifier.urn] = [draw(digital_links(identifier)) for _ in range(2)]
        return [i.urn for i in found]

    def one(kinds: tuple[str, ...]) -> str:
        return ids(kinds, 1, 1)[0]

    def quantity_list(min_size: int = 0) -> list[dict[str, Any]]:
        classes = ids(CLASSES, min_size, 3)
        return [
            {"epcClass": c, **draw(quantity_parts)}  # EPCIS 2.0: a uom needs a quantity, a count is whole
            for c in classes
        ]

    event_type = draw(
        st.sampled_from(
            ["ObjectEvent", "AggregationEvent", "TransformationEvent", "AssociationEvent", "TransactionEvent"]
        )
    )
    instant, offset = draw(instants), draw(offsets)
    event: dict[str, Any] = {
        "type": event_type,
        "eventTime": time_text(instant, offset),
        "eventTimeZoneOffset": offset_text(offset),
    }
    action = draw(st.sampled_from(["OBSERVE", "ADD", "DELETE"]))
    if event_type == "ObjectEvent":
        event |= {"action": action, "epcList": ids(INSTANCES), "quantityList": quantity_list(1)}
    elif event_type in ("AggregationEvent", "AssociationEvent"):
        parent = one(("sscc",) if event_type == "AggregationEvent" else ("grai", "giai"))
        event |= {
            "action": action,
            "parentID": parent,
            "childEPCs": ids(INSTANCES, 1),
            "childQuantityList": quantity_list(),
        }
    elif event_type == "TransactionEvent":
        event |= {"action": action, "epcList": ids(INSTANCES)}
    else:
        event |= {
            "inputEPCList": ids(INSTANCES, 1),
            "inputQuantityList": quantity_list(),
            "outputEPCList": ids(INSTANCES),
            "outputQuantityList": quantity_list(1),
        }
        if draw(st.booleans()):
            event["transformationID"] = f"urn:uuid:{draw(st.uuids())}"
    if draw(st.booleans()):
        event["bizStep"] = draw(st.sampled_from(BIZ_STEPS))
    if draw(st.booleans()):
        event["disposition"] = draw(st.sampled_from(DISPOSITIONS))
    if event_type in ("ObjectEvent", "TransformationEvent") and draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(DISPOSITIONS), min_size=2, max_size=4, unique=True))
        event["persistentDisposition"] = {"set": chosen[: len(chosen) // 2], "unset": chosen[len(chosen) // 2 :]}
    for place in ("readPoint", "bizLocation"):
        if draw(st.booleans()):
            event[place] = {"id": one(("sgln",))}
    transactions = [
        {"type": draw(st.sampled_from(BTT)), "bizTransaction": one(("gdti",))}
        for _ in range(draw(st.integers(1 if event_type == "TransactionEvent" else 0, 2)))
    ]
    if transactions:
        event["bizTransactionList"] = transactions
    for name, key in (("sourceList", "source"), ("destinationList", "destination")):
        entries = [
            {"type": kind, key: one(("pgln",) if kind.endswith("party") else ("sgln",))}
            for kind in draw(st.lists(st.sampled_from(SDT), max_size=3, unique=True))
        ]
        if entries:
            event[name] = entries
    if draw(st.booleans()):
        event["sensorElementList"] = [
            {
                "sensorMetadata": {"time": time_text(instant, offset), "deviceID": one(("giai",))},
                "sensorReport": [
                    {"type": draw(st.sampled_from(MEASUREMENTS)), "value": draw(quantities), "uom": "CEL"},
                    {"type": "Angle", "component": draw(st.sampled_from(COMPONENTS)), "value": draw(quantities)},
                ],
            }
        ]
    takes_ilmd = event_type == "TransformationEvent" or (event_type == "ObjectEvent" and action == "ADD")
    if takes_ilmd and draw(st.booleans()):
        event["ilmd"] = {"ex:lotOrigin": draw(scalars), "cbvmda:bestBeforeDate": "2030-01-31"}
    extensions = draw(
        st.dictionaries(st.sampled_from(["ex:note", "ex:grade", "ex:lines"]), extension_values, max_size=2)
    )
    event |= extensions
    return Spelled(event, links, instant, offset)


def document_of(events: list[dict[str, Any]], prefix: str = "ex") -> dict[str, Any]:
    document = epcis_document(events, creation_date="2026-01-01T00:00:00Z")
    document["@context"] = [STANDARD_CONTEXT, {prefix: EXAMPLE_NS}]
    return document


def respelled(spelled: Spelled, rng: stdlib_random.Random, prefix: str = "ey") -> dict[str, Any]:
    """The same event written otherwise: Digital Links for URNs, CBV URIs or CURIEs for bare terms, the time
    in another offset with other fraction digits, integers as floats, extensions under another prefix of the
    same namespace, and every object's keys and every list shuffled."""
    vocabularies = {
        "bizStep": "BizStep-", "disposition": "Disp-", "set": "Disp-", "unset": "Disp-", "component": "Comp-",
    }  # fmt: skip

    def term(prefix_: str, value: str) -> str:
        return rng.choice([value, f"https://ref.gs1.org/cbv/{prefix_}{value}", f"cbv:{prefix_}{value}"])

    def walk(value: Any, key: str = "", parent: str = "") -> Any:
        if isinstance(value, dict):
            items = [(_rename(k), walk(v, k, key)) for k, v in value.items()]
            rng.shuffle(items)
            return dict(items)
        if isinstance(value, list):
            items = [walk(v, key, parent) for v in value]
            rng.shuffle(items)
            return items
        if isinstance(value, str):
            if value in spelled.links:
                return rng.choice([value, *spelled.links[value]])
            if key in vocabularies:
                return term(vocabularies[key], value)
            if key == "type" and parent in ("bizTransactionList", "sourceList", "destinationList"):
                return term("BTT-" if parent == "bizTransactionList" else "SDT-", value)
            if key == "type" and parent == "sensorReport":
                return rng.choice([value, f"gs1:{value}"])
            if key in ("eventTime", "time"):
                other = rng.choice([0, -300, 330, 840])
                return time_text(
                    spelled.instant,
                    other,
                    rng.choice([3, 4, 6]) if spelled.instant.microsecond else rng.choice([0, 3]),
                    zulu=rng.random() < 0.5,
                )
        if isinstance(value, int) and not isinstance(value, bool) and key in ("quantity", "value"):
            return float(value)
        return value

    def _rename(key: str) -> str:
        return f"{prefix}:{key[3:]}" if key.startswith("ex:") else key

    return walk(copy.deepcopy(spelled.event))


def hash_of(event: dict[str, Any], prefix: str = "ex") -> str:
    (hashed,) = hash_ids(document_of([event], prefix))
    return hashed


@PROFILE
@given(spelled_events(), st.randoms(use_true_random=False))
def test_generated_events_in_any_spelling_are_valid_epcis(spelled: Spelled, rng: stdlib_random.Random) -> None:
    validate_document(document_of([spelled.event]))
    validate_document(document_of([respelled(spelled, rng)], "ey"))


@PROFILE
@given(spelled_events(), st.randoms(use_true_random=False), st.sampled_from([None, 2, 4]))
def test_the_hash_is_independent_of_order_spelling_and_serialisation(
    spelled: Spelled, rng: stdlib_random.Random, indent: int | None
) -> None:
    other = respelled(spelled, rng)
    reserialised = json.loads(json.dumps(document_of([other], "ey"), indent=indent, ensure_ascii=indent is None))
    assert hash_ids(reserialised) == [hash_of(spelled.event)]


def _mutations(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every hashed scalar of an event."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _mutations(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _mutations(v, (*path, i))]
    return [path]


def _changed(value: Any, key: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if key in ("eventTime", "time"):
        return (datetime.fromisoformat(value.replace("Z", "+00:00")) + timedelta(milliseconds=1)).isoformat(
            timespec="milliseconds"
        )
    return value + "7"


@PROFILE
@given(spelled_events(), st.data())
def test_any_changed_hashed_value_changes_the_hash(spelled: Spelled, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_mutations(spelled.event)))
    changed = copy.deepcopy(spelled.event)
    holder = changed
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = _changed(holder[path[-1]], next((p for p in reversed(path) if isinstance(p, str)), None))
    assert hash_of(changed) != hash_of(spelled.event), path


@PROFILE
@given(st.lists(spelled_events(), min_size=1, max_size=3), st.booleans(), st.booleans())
@example(
    [Spelled(_event("ObjectEvent", epcList=[], **{"ex:captureID": "c-1"}), {}, datetime(2024, 1, 1), 0)], True, True
)
def test_a_parsed_document_re_emitted_as_stored_parses_to_the_same_events_and_hashes(
    spelled: list[Spelled], as_query: bool, other_repository: bool
) -> None:
    """What the service stores of a captured document, emitted as an EPCISDocument (exports, the CLI) or as the
    query endpoint's EPCISQueryDocument (with what it adds to each event), hashes as the document did. Fields
    another repository added and declared outside the hash (`ex:ignoreFields`) are not kept."""
    document = document_of([s.event for s in spelled])
    if other_repository:
        document["ex:ignoreFields"] = ["ex:captureID"]
        for number, event in enumerate(iter_events(document)):
            event["ex:captureID"] = f"capture-{number}"
    events = iter_events(document)
    context = HashContext.from_document(document)
    payloads = [stored_payload(event, document["@context"], context) for event in events]
    assert all("ex:captureID" not in payload for payload in payloads)
    if as_query:
        shown = [{**p, "recordTime": "2026-01-02T00:00:00Z", RECORD_KEY: {"ref": "0x" + "ab" * 32}} for p in payloads]
        emitted = query_document([SimpleNamespace(document=event) for event in shown])  # type: ignore[misc]
    else:
        emitted = epcis_document(payloads)
    reparsed = json.loads(json.dumps(emitted))
    validate_document(reparsed)
    assert [
        {k: v for k, v in e.items() if k not in ("recordTime", RECORD_KEY)} for e in iter_events(reparsed)
    ] == payloads
    assert hash_ids(reparsed) == hash_ids(document)
    assert [a.hash_hex for a in analyse(iter_events(reparsed), HashContext.from_document(reparsed))] == [
        a.hash_hex for a in analyse(events, context)
    ]


# --- the validator on bad input ---------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(alphabet="abcxyz:@_-", max_size=8), inner, max_size=4),  # keys a path can show
    ),
    max_leaves=12,
)


@st.composite
def corrupted_documents(draw: st.DrawFn) -> Any:
    """A valid document with one part replaced by arbitrary JSON, or a key removed, or garbage at the top."""
    spelled = draw(spelled_events())
    document: Any = document_of([spelled.event])
    paths = [p for p in _all_paths(document) if p]
    path = draw(st.sampled_from(paths))
    holder = document
    for step in path[:-1]:
        holder = holder[step]
    if draw(st.booleans()) and isinstance(holder, dict):
        del holder[path[-1]]
    else:
        holder[path[-1]] = draw(json_values)
    return document


def _all_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    children: list[tuple[Any, ...]] = [path]
    if isinstance(value, dict):
        children += [p for k, v in value.items() for p in _all_paths(v, (*path, k))]
    elif isinstance(value, list):
        children += [p for i, v in enumerate(value) for p in _all_paths(v, (*path, i))]
    return children


@PROFILE
@given(st.one_of(corrupted_documents(), json_values))
@example(
    {
        "@context": [STANDARD_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-01-01T00:00:00Z",
        "x:ignoreFields": "x:y",
        "epcisBody": {"eventList": []},
    }
)
def test_the_validator_answers_any_json_with_a_validation_error_or_a_hashable_document(document: Any) -> None:
    try:
        validate_document(document)
    except MalformedInput as error:
        message = str(error)
        if not isinstance(document, dict):
            assert message.startswith("an EPCIS payload is a JSON object")
            return
        assert isinstance(error, InvalidField) and _names_a_path(document, error.path), message
        assert message == f"not a valid EPCIS 2.0 document: {error.field}: {error.problem}".replace(": : ", ": ")
        return
    events = iter_events(document)
    context = HashContext.from_document(document)
    assert len(analyse(events, context)) == len(events)


def _names_a_path(document: Any, path: tuple[str | int, ...]) -> bool:
    """Whether `path` leads to a member of `document`, or to a missing key of an object in it."""
    node = document
    for position, step in enumerate(path):
        in_list = isinstance(node, list) and isinstance(step, int) and step < len(node)
        if in_list or (isinstance(node, dict) and isinstance(step, str) and step in node):
            node = node[step]
        else:
            return isinstance(node, dict) and position == len(path) - 1  # a required field, missing
    return True


MISSPELT = [
    ("bizStep", "shiping", "'shipping'"),
    ("disposition", "in_progres", "'in_progress'"),
    ("bizStep", "https://ref.gs1.org/cbv/BizStep-recieving", "'receiving'"),
    ("disposition", "cbv:Disp-in-transit", "'in_transit'"),
    ("bizStep", "cbv:Disp-in_transit", "business step"),
    ("bizStep", "urn:epcglobal:cbv:bizstep:shipping", "bare"),
]


@pytest.mark.parametrize(("field", "value", "hint"), MISSPELT, ids=[v for _, v, _ in MISSPELT])
def test_a_misspelt_cbv_term_is_rejected_naming_the_field(field: str, value: str, hint: str) -> None:
    event = _event("ObjectEvent", epcList=["urn:epc:id:sgtin:4012345.011111.1"], **{field: value})
    with pytest.raises(InvalidField, match=rf"epcisBody\.eventList\[0\]\.{field}: ") as error:
        validate_document(document_of([event]))
    assert hint in str(error.value)


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        (
            {"sensorElementList": [{"sensorReport": [{"type": "gs1:Temperatur"}]}]},
            "sensorElementList[0].sensorReport[0].type",
        ),
        (
            {"bizTransactionList": [{"type": "cbv:BTT-purchase_order", "bizTransaction": "urn:x:1"}]},
            "bizTransactionList[0].type",
        ),
        ({"persistentDisposition": {"set": ["active", "recaled"]}}, "persistentDisposition.set[1]"),
        ({"readPoint": {"id": "urn:epc:id:sgln:4012345.00011"}}, "readPoint.id"),
        ({"quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345"}]}, "quantityList[0].epcClass"),
        ({"epcList": ["https://id.gs1.org/01/0401234511/21/1"]}, "epcList[0]"),
        ({"eventTimeZoneOffset": "+14:30"}, "eventTimeZoneOffset"),
        ({"eventTime": "2024-05-01T10:00:00+25:00"}, "eventTime"),
        ({"eventTime": "2024-05-01T10:00:00"}, "eventTime"),
    ],
)
def test_a_malformed_value_is_rejected_naming_the_field(fields: dict[str, Any], where: str) -> None:
    event = _event("ObjectEvent", **{"epcList": ["urn:epc:id:sgtin:4012345.011111.1"], **fields})
    with pytest.raises(InvalidField) as error:
        validate_document(document_of([event]))
    assert error.value.field == f"epcisBody.eventList[0].{where}"


@pytest.mark.parametrize(
    "fields",
    [
        {"bizStep": "https://example.com/steps/grinding", "disposition": "ex:roasted"},
        {"bizStep": "gs1:BizStep-commissioning", "disposition": "http://ref.gs1.org/cbv/Disp-active"},
        {"destinationList": [{"type": "cbv:my_own_party", "destination": "urn:epc:id:pgln:0614141.00777"}]},
        {"epcList": ["urn:epc:id:gid:95100000.12345.400", "https://example.com/01/1234", "urn:uuid:1-2-3"]},
        {"quantityList": [{"epcClass": "urn:epc:idpat:sgtin:4012345.*.*"}]},
    ],
)
def test_custom_vocabularies_and_other_identifiers_stay_valid(fields: dict[str, Any]) -> None:
    validate_document(document_of([_event("ObjectEvent", **{"epcList": [], **fields})]))
