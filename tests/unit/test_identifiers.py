"""canonical_id: EPC URNs and GS1 Digital Link URIs on any host map to one canonical Digital Link URI."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.epcis.gs1_keys import check_digit
from service.epcis.identifiers import _with_check_digit, canonical_id

# URN -> canonical Digital Link, one or more per scheme. The expected values are the ones the reference
# hash vectors record (tests/fixtures/epcis/event-hash: epclist_normalisation, epcisDocWithAllGS1Keys,
# epcisDocWithVariousEventTypes ...), plus the GLN/GTIN check digits computed by service.epcis.gs1_keys.
URN_CASES = [
    ("urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/04012345111118/21/9876"),
    ("urn:epc:id:sgtin:415056789012.0.987654", "https://id.gs1.org/01/04150567890128/21/987654"),
    ("urn:epc:id:sgtin:4012345.011111.98%22", "https://id.gs1.org/01/04012345111118/21/98%22"),
    (
        "urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()",
        "https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29",
    ),
    ("urn:epc:id:sgtin:4012345.011111.1.2", "https://id.gs1.org/01/04012345111118/21/1.2"),
    ("urn:epc:id:sscc:4012345.3111111111", "https://id.gs1.org/00/340123451111111111"),
    ("urn:epc:id:sscc:5200001.0111111146", "https://id.gs1.org/00/052000011111111461"),
    ("urn:epc:id:sgln:4012345.00005.0", "https://id.gs1.org/414/4012345000054"),
    ("urn:epc:id:sgln:4012345.00005.122", "https://id.gs1.org/414/4012345000054/254/122"),
    ("urn:epc:id:grai:4012345.00022.334455", "https://id.gs1.org/8003/04012345000221334455"),
    ("urn:epc:id:giai:4012345.ABC345", "https://id.gs1.org/8004/4012345ABC345"),
    ("urn:epc:id:giai:4000001.111", "https://id.gs1.org/8004/4000001111"),
    ("urn:epc:id:gsrn:4012345.0000006765", "https://id.gs1.org/8018/401234500000067657"),
    ("urn:epc:id:gsrnp:4012345.0000000007", "https://id.gs1.org/8017/401234500000000074"),
    ("urn:epc:id:gdti:4012345.00009.PO-4711", "https://id.gs1.org/253/4012345000092PO-4711"),
    ("urn:epc:id:gdti:987659999999..9", "https://id.gs1.org/253/98765999999929"),
    (
        "urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234",
        "https://id.gs1.org/8010/061414111111111111111-A%23%2F/8011/1234",
    ),
    ("urn:epc:id:sgcn:4012345.99999.44", "https://id.gs1.org/255/401234599999044"),
    ("urn:epc:id:ginc:0614141.xyz47%2F11", "https://id.gs1.org/401/0614141xyz47%2F11"),
    ("urn:epc:id:gsin:4012345.222333444", "https://id.gs1.org/402/40123452223334442"),
    ("urn:epc:id:itip:4012345.011111.01.02.987", "https://id.gs1.org/8006/040123451111180102/21/987"),
    (
        "urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB",
        "https://id.gs1.org/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7'SDB",
    ),
    ("urn:epc:id:pgln:4000001.00000", "https://id.gs1.org/417/4000001000005"),
    ("urn:epc:id:pgln:999999999999.", "https://id.gs1.org/417/9999999999994"),
    ("urn:epc:class:lgtin:4012345.012345.Lot987", "https://id.gs1.org/01/04012345123456/10/Lot987"),
    ("urn:epc:idpat:sgtin:4054739.099914.*", "https://id.gs1.org/01/04054739999148"),
    ("urn:epc:idpat:grai:4012345.66666.*", "https://id.gs1.org/8003/04012345666663"),
    ("urn:epc:idpat:gdti:4012345.55555.*", "https://id.gs1.org/253/4012345555554"),
    ("urn:epc:idpat:sgcn:4012345.99999.*", "https://id.gs1.org/255/4012345999990"),
    ("urn:epc:idpat:cpi:4012345.ABC.*", "https://id.gs1.org/8010/4012345ABC"),
    ("urn:epc:idpat:itip:4012345.012345.01.02.*", "https://id.gs1.org/8006/040123451234560102"),
    ("urn:epc:idpat:upui:4012345.012345.*", "https://id.gs1.org/01/04012345123456"),
]


@pytest.mark.parametrize(("urn", "canonical"), URN_CASES)
def test_epc_urns_map_to_the_canonical_digital_link(urn: str, canonical: str) -> None:
    assert canonical_id(urn) == canonical
    assert canonical_id(canonical) == canonical


# The same identifiers written as Digital Link URIs in all the ways the standard allows.
DIGITAL_LINK_CASES = [
    ("https://example.com/01/04012345111118/21/9876", "urn:epc:id:sgtin:4012345.011111.9876"),
    ("http://id.gs1.org/gtin/04012345111118/ser/9876", "urn:epc:id:sgtin:4012345.011111.9876"),
    ("https://shop.example.com:8443/products/item/01/04012345111118/21/9876/", "urn:epc:id:sgtin:4012345.011111.9876"),
    ("https://example.com/01/04012345111118/10/L1/21/9876?17=250101#top", "urn:epc:id:sgtin:4012345.011111.9876"),
    ("https://example.com/01/04012345111118/22/V2/21/9876", "urn:epc:id:sgtin:4012345.011111.9876"),
    ("https://example.com/01/04012345111118/21/98%22", "urn:epc:id:sgtin:4012345.011111.98%22"),
    ('https://example.com/01/04012345111118/21/98"', "urn:epc:id:sgtin:4012345.011111.98%22"),
    (
        "https://example.com/01/80614141123458/21/6789%2f%26%25%22!%3F()",
        "urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()",
    ),
    ("https://example.com/sscc/340123451111111111", "urn:epc:id:sscc:4012345.3111111111"),
    ("https://example.com/gln/4012345000054", "urn:epc:id:sgln:4012345.00005.0"),
    ("https://example.com/414/4012345000054/glnx/122", "urn:epc:id:sgln:4012345.00005.122"),
    ("https://example.com/grai/04012345000221334455", "urn:epc:id:grai:4012345.00022.334455"),
    ("https://example.com/giai/4012345ABC345", "urn:epc:id:giai:4012345.ABC345"),
    ("https://example.com/gsrn/401234500000067657", "urn:epc:id:gsrn:4012345.0000006765"),
    ("https://example.com/gsrnp/401234500000000074", "urn:epc:id:gsrnp:4012345.0000000007"),
    ("https://example.com/gdti/4012345000092PO-4711", "urn:epc:id:gdti:4012345.00009.PO-4711"),
    (
        "https://example.com/cpid/061414111111111111111-A%23%2F/cpsn/1234",
        "urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234",
    ),
    ("https://example.com/gcn/401234599999044", "urn:epc:id:sgcn:4012345.99999.44"),
    ("https://example.com/ginc/0614141xyz47%2F11", "urn:epc:id:ginc:0614141.xyz47%2F11"),
    ("https://example.com/gsin/40123452223334442", "urn:epc:id:gsin:4012345.222333444"),
    ("https://example.com/itip/040123451111180102/lot/L1/ser/987", "urn:epc:id:itip:4012345.011111.01.02.987"),
    (
        "https://example.com/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7%27SDB",
        "urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB",
    ),
    ("https://example.com/party/4000001000005", "urn:epc:id:pgln:4000001.00000"),
    ("https://example.com/01/04012345123456/lot/Lot987", "urn:epc:class:lgtin:4012345.012345.Lot987"),
    ("https://example.com/01/4012345123456/cpv/A1", "urn:epc:idpat:sgtin:4012345.012345.*"),
    ("https://example.com/8003/04012345666663", "urn:epc:idpat:grai:4012345.66666.*"),
    ("https://example.com/8006/040123451234560102", "urn:epc:idpat:itip:4012345.012345.01.02.*"),
]


@pytest.mark.parametrize(("digital_link", "urn"), DIGITAL_LINK_CASES)
def test_digital_links_on_any_host_meet_the_urn(digital_link: str, urn: str) -> None:
    assert canonical_id(digital_link) == canonical_id(urn)


# The distinct Digital Link URIs of the GS1 EPCIS 2.0 examples
# (/work/shared/reference/epcis/digital-link/dl-uris-in-reference-examples.tsv).
@pytest.mark.parametrize(
    ("uri", "canonical"),
    [
        ("https://id.gs1.org/01/70614141123451/21/2017", "https://id.gs1.org/01/70614141123451/21/2017"),
        ("https://id.gs1.org/01/04012345987652", "https://id.gs1.org/01/04012345987652"),
        ("https://id.gs1.org/01/04012345123456/10/998877", "https://id.gs1.org/01/04012345123456/10/998877"),
        ("https://id.gs1.org/01/00614141777778/10/987", "https://id.gs1.org/01/00614141777778/10/987"),
        ("https://id.gs1.org/8004/4000001111", "https://id.gs1.org/8004/4000001111"),
        ("https://example.org/8004/401234599999", "https://id.gs1.org/8004/401234599999"),
        ("https://id.gs1.org/01/09506000134352/21/12345", "https://id.gs1.org/01/09506000134352/21/12345"),
        ("https://id.gs1.org/414/9506000134307", "https://id.gs1.org/414/9506000134307"),
        ("https://id.example.com/8003/040123450007718765", "https://id.gs1.org/8003/040123450007718765"),
        ("https://id.example.com/414/4012345000054", "https://id.gs1.org/414/4012345000054"),
        ("https://example.com/253/4012345000054987", "https://id.gs1.org/253/4012345000054987"),
        ("https://example.org/253/4012345000054987", "https://id.gs1.org/253/4012345000054987"),
    ],
)
def test_digital_links_of_the_gs1_examples(uri: str, canonical: str) -> None:
    assert canonical_id(uri) == canonical


# Cases from the unit tests of gs1/digital-link.js (Apache-2.0, (c) 2018 EVRYTHNG), as collected in
# /work/shared/reference/epcis/digital-link/dl-validity-cases.json. Valid URIs canonicalise ...
@pytest.mark.parametrize(
    ("uri", "canonical"),
    [
        (
            "https://example.com/some/other/path/info/01/01234567890128/21/12345",
            "https://id.gs1.org/01/01234567890128/21/12345",
        ),
        ("https://example.com/01/01234565/", "https://id.gs1.org/01/00000001234565"),
        ("https://example.com/01/01234565/10/12345/21/4512", "https://id.gs1.org/01/00000001234565/21/4512"),
        ("https://example.com/01/12345670/10/4512?240=ABCD", "https://id.gs1.org/01/00000012345670/10/4512"),
        ("https://example.com/01/12345670/10/4512?linkType=ABCD", "https://id.gs1.org/01/00000012345670/10/4512"),
        ("https://example.com/gtin/012345678905", "https://id.gs1.org/01/00012345678905"),
        ("https://example.com/01/012345678905", "https://id.gs1.org/01/00012345678905"),
        ("https://example.com/grai/050606547800290002", "https://id.gs1.org/8003/050606547800290002"),
        ("https://example.com/gln/0123456789128", "https://id.gs1.org/414/0123456789128"),
        ("https://example.com/sscc/012345678912345675", "https://id.gs1.org/00/012345678912345675"),
        ("https://example.com/gsrn/012345678912345675", "https://id.gs1.org/8018/012345678912345675"),
        ("https://example.com/gdti/012345178912345667", "https://id.gs1.org/253/012345178912345667"),
        ("https://example.com/gsin/01234367891244565", "https://id.gs1.org/402/01234367891244565"),
        ("https://example.com/gcn/01234567891284569", "https://id.gs1.org/255/01234567891284569"),
        # The uncompressed sides of the library's compression pairs.
        (
            "https://dlnkd.tn.gg/gtin/09780345418913/lot/231/ser/345345?15=120820",
            "https://id.gs1.org/01/09780345418913/21/345345",
        ),
        (
            "https://dlnkd.tn.gg/01/09780345418913/10/231/21/345345?15=120820",
            "https://id.gs1.org/01/09780345418913/21/345345",
        ),
        ("https://dlnkd.tn.gg/01/9780345418913/21/43786?foo=bar", "https://id.gs1.org/01/09780345418913/21/43786"),
    ],
)
def test_valid_digital_links_of_digital_link_js(uri: str, canonical: str) -> None:
    assert canonical_id(uri) == canonical


# ... URIs that break the grammar (no key, a letter in a GTIN, qualifiers out of order or not allowed
# after the key) are not GS1 identifiers and come back unchanged ...
@pytest.mark.parametrize(
    "uri",
    [
        "badurl",
        "https://example.com/custom/path/",
        "https://example.com/my/custom/path/01/0123456789d/21/12345/10/4512",
        "https://example.com/01/01234567/21/12345/10/4512",
        "https://example.com/00/123456789123456789/10/4512",
        # Compressed Digital Link URIs are not decompressed.
        "https://dlnkd.tn.gg/HxHKVAdpQgZzjr-hCDKigI",
        "https://example.com/some/other/path/info/DBHKVAdpQgowOQ",
    ],
)
def test_uris_outside_the_digital_link_grammar_are_unchanged(uri: str) -> None:
    assert canonical_id(uri) == uri


# ... and canonicalisation does not check check digits or query parameters (neither does the reference
# hash algorithm): these URIs, invalid for digital-link.js for those reasons only, are canonicalised as written.
# identifier_problem, which capture and the resolver apply first, refuses the wrong check digits
# (tests/unit/test_epcis_rules.py).
@pytest.mark.parametrize(
    ("uri", "canonical"),
    [
        ("https://example.com/01/012345678906", "https://id.gs1.org/01/00012345678906"),
        ("https://example.com/8003/050606547800230002", "https://id.gs1.org/8003/050606547800230002"),
        ("https://example.com/gln/0123456789123", "https://id.gs1.org/414/0123456789123"),
        ("https://example.com/sscc/012345678912345673", "https://id.gs1.org/00/012345678912345673"),
        ("https://example.com/gsrn/012345678912345673", "https://id.gs1.org/8018/012345678912345673"),
        ("https://example.com/gdti/012341178912345667", "https://id.gs1.org/253/012341178912345667"),
        ("https://example.com/gsin/01234567891244565", "https://id.gs1.org/402/01234567891244565"),
        ("https://example.com/gcn/01234567891244569", "https://id.gs1.org/255/01234567891244569"),
        ("https://example.com/01/12345678/10/4512?4321=2", "https://id.gs1.org/01/00000012345678/10/4512"),
    ],
)
def test_check_digits_and_query_parameters_are_not_checked(uri: str, canonical: str) -> None:
    assert canonical_id(uri) == canonical


@pytest.mark.parametrize(
    "uri",
    [
        "urn:epcglobal:cbv:bt:4012345000009:ASN1099",
        "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8",
        "http://transaction.acme.com/po/12345678",
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "https://www.ncbi.nlm.nih.gov/taxonomy/1126011",
        "http://www.opengis.net/def/crs/EPSG/0/27700",
        "geo:47.506694,11.104301",
        "ni:///sha-256;df6523665bc5e5803d6c7b84f5a04e103694d8220f2abc4f2c74310e89f31bc6?ver=CBV2.0",
        "https://example.com",
        "",
        # EPC URNs that are malformed or name no single GS1 key.
        "urn:epc:id:sgtin:4012345.011111",  # no serial
        "urn:epc:id:sgtin:401234.01111111.1",  # company prefix and item reference of 14 digits
        "urn:epc:id:sgtin:40123.0111111.1",  # company prefix of 5 digits
        "urn:epc:id:sgtin:4012345.011111.ABCDEFGHIJKLMNOPQRSTU",  # serial of 21 characters
        "urn:epc:id:sgtin:4012345.011111.A B",  # a space is outside the GS1 character set
        "urn:epc:idpat:sgtin:4012345.*.*",
        "urn:epc:id:sgln:4012345.00005",
        "urn:epc:id:cpi:0614141.abc.1",  # lower case is outside the CPI character set
        "urn:epc:id:gid:95100000.12345.400",
        "urn:epc:id:usdod:2S194.12345678901",
    ],
)
def test_non_gs1_uris_come_back_unchanged(uri: str) -> None:
    assert canonical_id(uri) == uri


@given(st.text(alphabet="0123456789", min_size=1, max_size=17))
def test_the_fast_check_digit_agrees_with_the_domain_one(digits: str) -> None:
    assert _with_check_digit(digits) == digits + str(check_digit(digits))
