"""What the journey page says, in words and in each language: every CBV 2.0 business step and
disposition has a word, the German catalog translates every message the pages use (with the same
placeholders), a claim's state carries its date, the carbon headline names its coverage, pledges
never pass for certifications, and the language follows `?lang=`, the cookie and Accept-Language."""

from __future__ import annotations

import json
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from starlette.requests import Request

from service.settings import PROJECT_ROOT
from service.web import i18n, journey_view, vocabulary
from service.web.i18n import Words
from service.web.journey_map import journey_map

SCHEMA = PROJECT_ROOT / "service" / "epcis" / "data" / "epcis-json-schema.json"
WEB = PROJECT_ROOT / "service" / "web"
CATALOG = WEB / "translations" / "de" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "N_plural": (1, 2), "w": None, "words": None}
KEYWORDS |= {"plural": (1, 2)}


def _terms(name: str) -> list[str]:
    schema = json.loads(SCHEMA.read_text())
    return next(alt["enum"] for alt in schema["definitions"][name]["anyOf"] if "enum" in alt)


@pytest.fixture(scope="module")
def en() -> Words:
    return Words("en")


@pytest.fixture(scope="module")
def de() -> Words:
    return Words("de")


@pytest.mark.parametrize("term", _terms("bizStep"))
def test_every_cbv_business_step_has_a_word_in_each_language(term: str, en: Words, de: Words) -> None:
    word = vocabulary.step_word("ObjectEvent", "OBSERVE", term)
    assert word and en(word) == word and de(word) != word, term


@pytest.mark.parametrize("term", _terms("disposition"))
def test_every_cbv_disposition_has_a_word_in_each_language(term: str, de: Words) -> None:
    word = vocabulary.disposition_word(term)
    assert word and de(word) != word and "_" not in word, term


@pytest.mark.parametrize("kind", ["ObjectEvent", "AggregationEvent", "TransactionEvent", "AssociationEvent"])
@pytest.mark.parametrize("action", ["ADD", "OBSERVE", "DELETE"])
def test_a_step_whose_business_step_is_withheld_still_reads_as_words(kind: str, action: str) -> None:
    word = vocabulary.step_word(kind, action, None)
    assert word and "Event" not in word and action not in word


def _messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), method_map, options_map=options, keywords=KEYWORDS
    ):
        found.add(message)
    return found


def test_the_german_catalog_translates_every_message_with_its_placeholders() -> None:
    with CATALOG.open("rb") as source:
        catalog = read_po(source, locale="de")
    translated = {m.id: m for m in catalog if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(str(m) for m in _messages() - set(translated))
    assert missing == [], "run the pybabel commands in service/web/translations/babel.cfg, then translate"
    problems = [(m.id, errors) for m, errors in catalog.check() if errors]
    assert problems == []
    assert all(all(m.string) for m in translated.values() if isinstance(m.id, tuple))


def test_the_journey_map_speaks_the_pages_language(de: Words) -> None:
    stops = [
        {
            "gln": "6234567000003",
            "name": "Bensa washing station",
            "city": "Bensa",
            "country": "ET",
            "lat": 6.57,
            "lon": 38.72,
        },
        {
            "gln": "7612345000008",
            "name": "Roastery",
            "city": "Zürich",
            "country": "CH",
            "lat": 47.39,
            "lon": 8.52,
            "from": [0],
        },
    ]
    drawn = str(journey_map(stops, words=de))
    assert "Stationen der Reise" in drawn and "Karte der Reise" in drawn and "Äthiopien" in drawn
    assert "Where it went" not in drawn and "places in journey order" not in drawn


def test_dates_numbers_and_countries_follow_the_language(en: Words, de: Words) -> None:
    assert en.date("2027-03-31") == "31 Mar 2027" and de.date("2027-03-31") == "31. März 2027"
    assert en.date("2026-09-29T07:00:00Z") == "29 Sept 2026"
    assert en.number(1234.5, 2) == "1,234.50" and de.number(1234.5, 2) == "1.234,50"
    assert en.country("ET") == "Ethiopia" and de.country("ET") == "Äthiopien"


@pytest.mark.parametrize(
    ("claim", "english", "german"),
    [
        ({"status": "valid", "statusDate": "2027-03-31"}, "Valid until 31 Mar 2027", "Gültig bis 31. März 2027"),
        ({"status": "expired", "statusDate": "2025-01-31"}, "Expired on 31 Jan 2025", "Abgelaufen am 31. Jan. 2025"),
        ({"status": "revoked", "statusDate": "2026-10-02"}, "Revoked on 2 Oct 2026", "Widerrufen am 2. Okt. 2026"),
        ({"status": "not-yet-valid", "statusDate": "2027-01-01"}, "Not valid before 1 Jan 2027", None),
        ({"status": "expired", "body": {"validUntil": "2025-01-31"}}, "Expired on 31 Jan 2025", None),
        ({"status": "revoked", "statusDate": None}, "Revoked", "Widerrufen"),
        ({"status": "pending"}, "Not yet anchored on chain", None),
    ],
)
def test_a_claims_state_is_said_with_its_date(
    claim: dict[str, Any], english: str, german: str | None, en: Words, de: Words
) -> None:
    assert journey_view.status_words(claim, en) == english
    if german:
        assert journey_view.status_words(claim, de) == german


def _doc(**fields: Any) -> dict[str, Any]:
    return {"item": {"gtin": "09506000134369", "lot": "R-1"}, "steps": [], "claims": [], "footprint": {}, **fields}


def test_the_carbon_headline_names_its_coverage_and_never_passes_a_partial_sum_as_the_footprint(
    en: Words, de: Words
) -> None:
    partial = {
        "kgCO2ePerDeclaredUnit": 1.83,
        "declaredUnit": "kilogram",
        "headline": "at-least",
        "coverage": {"massShare": 0.5, "inputsCovered": 1, "inputsTotal": 2},
        "processingIncluded": False,
        "kgCO2ePerUnit": 0.4575,
    }
    view = journey_view.shopper_view(_doc(footprint=partial), en)["footprint"]
    assert view["sentence"] == "At least 1.83 kg CO₂e per kg"
    assert view["qualifier"] == (
        "inputs making up 50% of the mass have a valid shared footprint; processing steps not included"
    )
    assert view["pack"] == "at least 0.46 kg CO₂e per pack"
    german = journey_view.shopper_view(_doc(footprint=partial), de)["footprint"]
    assert german["sentence"] == "Mindestens 1,83 kg CO₂e pro kg"
    assert german["qualifier"] == (
        "Zutaten mit 50\xa0% der Masse haben einen gültigen geteilten Fußabdruck; Verarbeitungsschritte nicht enthalten"
    )

    nothing = journey_view.shopper_view(_doc(footprint={"headline": "not-enough-data"}), en)["footprint"]
    assert nothing["sentence"] == "Not enough shared data for a carbon footprint" and nothing["qualifier"] == ""
    # a roll-up in a document without `headline` is a lower bound too
    rolled = {"kgCO2ePerDeclaredUnit": 4.8, "declaredUnit": "kilogram", "source": "rolled up", "status": "verified"}
    assert journey_view.shopper_view(_doc(footprint=rolled), en)["footprint"]["sentence"].startswith("At least")


def test_a_pledge_is_never_listed_as_a_certification(en: Words) -> None:
    pledge = {
        "uid": "0x01",
        "schema": "commitment",
        "status": "valid",
        "issuer": {"id": "m1", "name": "Farms Cooperative"},
        "subject": {"kind": "member", "id": "urn:constellate:member:m1"},
        "body": {"standard": "Fairtrade", "statement": "All lots Fairtrade by 2027", "deadline": "2027-06-30"},
    }
    view = journey_view.shopper_view(_doc(claims=[pledge]), en)
    assert view["claims"] == [] and view["certifications"] == []
    assert [p["title"] for p in view["pledges"]] == ["All lots Fairtrade by 2027"]
    assert view["pledges"][0]["due"] == "30 Jun 2027"


def test_steps_read_as_words_with_units_by_their_symbols(en: Words) -> None:
    step = {
        "ref": "0xab",
        "eventType": "TransformationEvent",
        "eventTime": "2026-05-10T08:00:00Z",
        "bizStep": "commissioning",
        "disposition": "active",
        "who": {"id": "m2", "name": "Roastery"},
        "where": {"id": None},
        "items": [],
        "quantities": [
            {
                "item": "https://id.gs1.org/01/09506000134352/10/FARM1",
                "quantity": 600,
                "uom": "KGM",
                "list": "inputQuantityList",
            },
            {
                "item": "https://id.gs1.org/01/09506000134369/10/R-1",
                "quantity": 1000,
                "uom": "XYZ",
                "list": "outputQuantityList",
            },
        ],
    }
    product = {"gtin": "09506000134369", "name": "Espresso"}
    shown = journey_view.shopper_view(_doc(steps=[step], product=product), en)["steps"][0]
    assert shown["title"] == "Processed" and shown["disposition"] is None  # "active" says nothing to a shopper
    assert shown["made_from"] == ["Lot FARM1 · 600 kg"]
    assert shown["made"] == ["Espresso, lot R-1 · 1,000 units"]  # an unknown code is never shown raw
    assert shown["technical"]["units"] == ["KGM", "XYZ"]


def _request(query: str = "", cookie: str | None = None, accept: str | None = None) -> Request:
    headers = [(b"accept-language", accept.encode())] if accept else []
    if cookie:
        headers.append((b"cookie", f"{i18n.COOKIE}={cookie}".encode()))
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query.encode(), "headers": headers})


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-CH, en;q=0.5", "de"),
        ("fr-FR, de;q=0.8, en;q=0.7", "de"),
        ("en-GB,en;q=0.9,de;q=0.8", "en"),
        ("de;q=0, en;q=0.1", "en"),
        ("fr, *;q=0.1", None),
        ("de;q=abc", None),
    ],
)
def test_accept_language_picks_the_preferred_supported_language(header: str, expected: str | None) -> None:
    assert i18n.from_accept_language(header) == expected


def test_the_switch_wins_over_the_cookie_which_wins_over_the_browser() -> None:
    assert i18n.language_of(_request(accept="de")) == "de"
    assert i18n.language_of(_request(cookie="en", accept="de")) == "en"
    assert i18n.language_of(_request("lang=de", cookie="en", accept="en")) == "de"
    assert i18n.language_of(_request(cookie="xx")) == "en"  # a made-up cookie is ignored
    assert i18n.language_of(_request("lang=fr", cookie="de", accept="en")) == "de"  # so is an unknown ?lang=
    assert i18n.language_of(_request("lang=", accept="de")) == "de"


BEANS = "https://id.gs1.org/01/06034567000139/10/"
BEANS_GTIN = "06034567000139"
BAR = {"gtin": "04012345000191", "lot": "LD-1", "digitalLink": "https://id.gs1.org/01/04012345000191/10/LD-1"}
CERTIFIER = {"id": "c1", "name": "TerraCert"}


def _certificate(subject: str, kind: str = "item") -> dict[str, Any]:
    return {
        "title": "Fairtrade",
        "issuer": CERTIFIER,
        "validFrom": None,
        "validUntil": "2027-09-30",
        "status": "valid",
        "subject": {"kind": kind, "id": subject},
    }


def test_a_certificate_of_an_input_names_what_it_certifies_never_the_product(en: Words, de: Words) -> None:
    """The first screen said "Certified: Fairtrade" on a chocolate bar whose cocoa beans (two lots)
    held the certificate: each certificate says what it is about unless that is the product."""
    doc = _doc(
        item=BAR,
        products={"06034567000139": {"name": "Ghana cocoa beans"}},
        summary={"certifications": [_certificate(BEANS + "ASH-5"), _certificate(BEANS + "ASH-6")]},
    )
    shown = journey_view.shopper_view(doc, en)["certifications"]
    assert shown == [
        {
            "title": "Fairtrade",
            "issuer": "TerraCert",
            "dates": "valid until 30 Sept 2027",
            "about": ["Ghana cocoa beans, lots ASH-5, ASH-6"],
        }
    ]
    assert journey_view.shopper_view(doc, de)["certifications"][0]["about"] == [
        "Ghana cocoa beans, Chargen ASH-5, ASH-6"
    ]
    own = _doc(item=BAR, summary={"certifications": [_certificate(BAR["digitalLink"])]})
    assert journey_view.shopper_view(own, en)["certifications"][0]["about"] == []


def test_generic_claim_titles_and_audit_results_are_in_the_pages_language(de: Words) -> None:
    footprint = {"uid": "0x1", "kind": "footprint", "title": "Carbon footprint", "status": "valid", "body": {}}
    audit = {"uid": "0x2", "kind": "audit", "title": "SA8000", "status": "valid", "body": {"result": "conditional"}}
    claims = journey_view.shopper_view(_doc(claims=[footprint, audit]), de)["claims"]
    assert [c["title"] for c in claims] == ["CO₂-Fußabdruck", "SA8000"]  # a standard's name stays as it is
    assert claims[1]["says"] == "Ergebnis: bestanden mit Auflagen"
    assert ("Ergebnis", "bestanden mit Auflagen") in claims[1]["facts"]


def test_an_own_footprint_says_who_declared_it_and_its_scope_once(en: Words) -> None:
    claim = {"uid": "0xf", "kind": "footprint", "status": "valid", "issuer": {"id": "m1", "name": "Finca"}, "body": {}}
    own = {
        "kgCO2ePerDeclaredUnit": 4.1,
        "declaredUnit": "kilogram",
        "headline": "complete",
        "source": "attested",
        "claimUid": "0xf",
        "boundary": "cradle-to-gate",
        "biogenic": "excluded",
    }
    view = journey_view.shopper_view(_doc(footprint=own, claims=[claim]), en)["footprint"]
    assert view["sentence"] == "4.10 kg CO₂e per kg"
    assert view["qualifier"] == (
        "declared by Finca; from raw materials until it leaves the producer; biogenic emissions not counted"
    )
    assert view["scope"] is None  # the page printed it a second time below


def test_an_input_added_up_from_its_own_inputs_is_a_lower_bound_not_missing(en: Words) -> None:
    """The brand's chocolate page listed its cocoa mass at 24,600 kg CO₂e with "Not shared"."""
    rolled = {
        "kgCO2ePerDeclaredUnit": 5.47,
        "declaredUnit": "kilogram",
        "headline": "at-least",
        "source": "rolled up",
        "coverage": {"massShare": 1.0, "inputsCovered": 1, "inputsTotal": 1},
        "inputs": [
            {
                "identifier": "https://id.gs1.org/01/06039999000153/10/TCM-703",
                "amount": 3200.0,
                "unit": "kilogram",
                "kgCO2e": 24600.0,
                "claimUid": None,
                "status": "rolled up",
                "headline": "at-least",
            }
        ],
    }
    row = journey_view.shopper_view(_doc(footprint=rolled), en)["footprint"]["inputs"][0]
    assert (row["kg"], row["status_word"]) == ("at least 24,600.0", "Added up from its own inputs")


def test_the_earliest_maker_shared_is_a_producer_only_when_a_valid_origin_claim_says_so(en: Words) -> None:
    """The public TCM-702 page said "Producer: Tema Cocoa Processing Ltd": the public cannot see
    its inputs, which is not the same as its having none."""
    maker = {"producers": [{"id": "m3", "name": "Tema Cocoa Processing"}], "regions": [], "countries": []}
    traced = journey_view.shopper_view(_doc(origin=maker, origins=[{"id": BEANS + "TCM-1"}]), en)["origin"]
    assert traced["traced"] is True  # the public sees the bar back to its cocoa mass only
    assert journey_view.shopper_view(_doc(origin=maker, origins=[]), en)["origin"]["traced"] is True
    farm = {**maker, "regions": ["Ashanti"]}
    assert journey_view.shopper_view(_doc(origin=farm, origins=[{"id": BEANS + "A"}]), en)["origin"]["traced"] is True
    origin = {"uid": "0x0a", "kind": "origin", "status": "valid", "body": {"region": "Ashanti"}}
    backed = journey_view.shopper_view(_doc(origin=farm, claims=[origin]), en)["origin"]
    assert backed["traced"] is False
    lapsed = journey_view.shopper_view(_doc(origin=farm, claims=[{**origin, "status": "revoked"}]), en)["origin"]
    assert lapsed["traced"] is True


def _signed_step(name: str, custody: str | None) -> dict[str, Any]:
    return {"ref": name, "eventType": "ObjectEvent", "who": {"id": name, "name": name, "custody": custody}}


def test_verified_says_whose_key_signed_each_step_by_its_custody(en: Words, de: Words) -> None:
    """Every demo member's key is managed: the page said no one, not even this site, could have
    written a step the site signed for its member."""
    managed = journey_view.shopper_view(_doc(steps=[_signed_step("Roastery", "managed")] * 2), en)["verified"]
    assert managed["custody"] == {"managed": 2, "self": 0}
    assert managed["signed"] == [
        "2 steps were recorded under the keys of the partners named on them (Roastery), which this service holds"
        " for them: the service signed them for the partners."
    ]
    own = journey_view.shopper_view(_doc(steps=[_signed_step("Farm", "self")]), en)["verified"]
    assert own["signed"] == [
        "1 step was signed with the own key of the partner named on it (Farm): not even this site could have"
        " written or changed it."
    ]
    mixed = [_signed_step("Roastery", "managed"), _signed_step("Farm", "self"), _signed_step("Shop", None)]
    said = journey_view.shopper_view(_doc(steps=mixed), en)["verified"]["signed"]
    assert said[0].startswith("2 steps were recorded under the keys") and "(Roastery, Shop)" in said[0]
    assert said[1].startswith("1 step was signed with the own key") and "(Farm)" in said[1]
    assert not any("not even this site" in line for line in said[:1])
    german = journey_view.shopper_view(_doc(steps=mixed), de)["verified"]["signed"]
    assert german[0].startswith("2 Schritte wurden unter den Schlüsseln") and "verwahrt" in german[0]
    assert german[1].startswith("1 Schritt wurde mit dem eigenen Schlüssel")


def test_two_recalls_by_two_members_name_each_its_recaller(en: Words, de: Words) -> None:
    mass = "https://id.gs1.org/01/06039999000153/10/TCM-703"
    beans = BEANS + "ASH-5"
    recall = {
        "state": "recalled",
        "by": {"id": "b", "name": "Brand"},
        "at": "2026-06-02T08:00:00Z",
        "items": [
            {
                "id": mass,
                "label": mass,
                "by": {"id": "b", "name": "Brand"},
                "at": "2026-06-02T08:00:00Z",
                "advice": "Return it.",
            },
            {
                "id": beans,
                "label": beans,
                "by": {"id": "c", "name": "Cooperative"},
                "at": "2026-06-01T08:00:00Z",
                "advice": None,
            },
        ],
        "advice": "Return it.",
        "adviceSource": "event",
    }
    names = {"products": {"06039999000153": {"name": "Cocoa mass"}, BEANS_GTIN: {"name": "Cocoa beans"}}}
    view = journey_view.shopper_view(_doc(recall=recall, **names), en)["recall"]
    assert view["recalls"] == [
        "Cocoa mass, lot TCM-703: recalled by Brand on 2 Jun 2026",
        "Cocoa beans, lot ASH-5: recalled by Cooperative on 1 Jun 2026",
    ]
    assert view["advices"] == ["Return it."]
    german = journey_view.shopper_view(_doc(recall=recall, **names), de)["recall"]["recalls"]
    assert german[1] == "Cocoa beans, Charge ASH-5: zurückgerufen von Cooperative am 1. Juni 2026"
    one = {**recall, "items": recall["items"][:1]}
    assert journey_view.shopper_view(_doc(recall=one, **names), en)["recall"]["recalls"] == []  # said once above


def test_an_inputs_footprint_says_whether_it_counts_and_who_declared_it(en: Words, de: Words) -> None:
    """A valid claim that does not count read "Verified"; a self-declared one too."""
    claims = [
        {"uid": "0x01", "status": "valid", "selfIssued": True, "kind": "footprint"},
        {"uid": "0x02", "status": "valid", "selfIssued": False, "kind": "footprint"},
    ]

    def row(claim: str, counted: bool, reason: str | None = None) -> dict[str, Any]:
        return {
            "identifier": BEANS + claim,
            "amount": 1.0,
            "unit": "kilogram",
            "kgCO2e": 2.0 if counted else None,
            "claimUid": claim,
            "status": "valid",
            "counted": counted,
            "reason": reason,
        }

    footprint = {
        "kgCO2ePerDeclaredUnit": 1.0,
        "declaredUnit": "kilogram",
        "headline": "at-least",
        "inputs": [
            row("0x01", True),
            row("0x02", True),
            row("0x02", False, "issuer-not-trusted"),
            row("0x02", False, "amount-unknown"),
        ],
    }
    words = [
        i["status_word"]
        for i in journey_view.shopper_view(_doc(claims=claims, footprint=footprint), en)["footprint"]["inputs"]
    ]
    assert words == [
        "Valid (self-declared)",
        "Valid",
        "Not counted: stated by someone who neither makes nor handles it",
        "Not counted: the amount used is not shared",
    ]
    assert "Verified" not in words
    german = journey_view.shopper_view(_doc(claims=claims, footprint=footprint), de)["footprint"]["inputs"]
    assert german[0]["status_word"] == "Gültig (Selbsterklärung)" and german[3]["status_word"].startswith(
        "Nicht gezählt"
    )


def test_a_disputed_claim_names_its_disputer_and_reason(en: Words, de: Words) -> None:
    disputed = {"status": "disputed", "statusDate": "2026-06-03", "disputedBy": {"id": "c", "name": "Certifier"}}
    assert journey_view.status_words(disputed, en) == "Disputed by Certifier since 3 Jun 2026"
    reason = {**disputed, "disputeReason": "not in the register"}
    assert journey_view.status_words(reason, en) == "Disputed by Certifier since 3 Jun 2026: not in the register"
    assert journey_view.status_words(reason, de) == "Angefochten von Certifier seit 3. Juni 2026: not in the register"
    assert journey_view.status_words({**disputed, "disputedBy": None}, en) == "Disputed since 3 Jun 2026"
