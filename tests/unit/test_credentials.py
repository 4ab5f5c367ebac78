"""Exports of attestations, without a chain or a database: the VC 2.0 credential (its EIP-712
proof is the issuer's real Attest signature) verifies, full or redacted, and each tampering fails
the check it should; the PACT ProductFootprint of a footprint attestation is valid against the
PACT 2.3 data model, stable, deprecated when revoked, and refuses what it cannot state."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_account import Account
from jsonschema import Draft202012Validator, FormatChecker

from service.chain import typed_data
from service.chain.structs import AttestationRecord, AttestationRequest
from service.db.models import Attestation, AttestationSchema, Member, Product
from service.domain.attestations import committed_fields
from service.domain.commitments import RecordCommitment
from service.domain.credential_proofs import MalformedCredential, did_of, verify_credential
from service.domain.credentials import credential_of
from service.domain.gs1 import ItemKey
from service.domain.pact import footprint_id, product_footprint
from service.domain.subjects import subject_hash
from service.errors import Conflict, PolicyDenied

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
OTHER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CHAIN_ID = 31337
SCHEMA_UID = "0x" + "5c" * 32
CONSTELLATION = "0x" + "c0" * 32
CREATED = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
EXPIRES = int(datetime(2028, 1, 1, tzinfo=UTC).timestamp())

PCF_BODY: dict[str, Any] = {
    "declaredUnit": "kilogram",
    "unitaryProductAmount": 1,
    "pCfExcludingBiogenic": 2.35,
    "pCfIncludingBiogenic": 1.9,
    "fossilGhgEmissions": 2.1,
    "fossilCarbonContent": 0,
    "biogenicCarbonContent": 0.45,
    "dLucGhgEmissions": 0.000001,
    "referencePeriodStart": "2026-01-01T00:00:00Z",
    "referencePeriodEnd": "2027-01-01T00:00:00Z",
    "geographyCountry": "CI",
    "boundaryProcessesDescription": "cradle to farm gate: cultivation, fermentation, drying",
    "crossSectoralStandardsUsed": ["GHG Protocol Product standard", "ISO 14067"],
    "primaryDataShare": 62.5,
    "dqi": {
        "coveragePercent": 90,
        "technologicalDQR": 1.5,
        "temporalDQR": 1,
        "geographicalDQR": 1.2,
        "completenessDQR": 1.4,
        "reliabilityDQR": 1.6,
    },
}

_DECIMAL = {"type": "string", "pattern": r"^[+-]?\d+(\.\d+)?$"}
_POSITIVE_OR_ZERO = {"type": "string", "pattern": r"^[+]?\d+(\.\d+)?$"}
_DQR = {"type": "number", "minimum": 1, "maximum": 3}
_URNS = {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string", "pattern": "^[uU][rR][nN]:"}}
PACT_PRODUCT_FOOTPRINT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "PACT Technical Specifications 2.3 ProductFootprint (required fields and types, from the spec)",
    "type": "object",
    "required": [
        "id",
        "specVersion",
        "version",
        "created",
        "status",
        "comment",
        "companyName",
        "companyIds",
        "productDescription",
        "productIds",
        "productCategoryCpc",
        "productNameCompany",
        "pcf",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "specVersion": {"type": "string", "pattern": r"^\d+\.\d+\.\d+(-\d{8})?$"},
        "precedingPfIds": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"format": "uuid"}},
        "version": {"type": "integer", "minimum": 0},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
        "status": {"enum": ["Active", "Deprecated"]},
        "statusComment": {"type": "string"},
        "validityPeriodStart": {"type": "string", "format": "date-time"},
        "validityPeriodEnd": {"type": "string", "format": "date-time"},
        "companyName": {"type": "string", "minLength": 1},
        "companyIds": _URNS,
        "productDescription": {"type": "string"},
        "productIds": _URNS,
        "productCategoryCpc": {"type": "string", "minLength": 1},
        "productNameCompany": {"type": "string", "minLength": 1},
        "comment": {"type": "string"},
        "pcf": {
            "type": "object",
            "required": [
                "declaredUnit",
                "unitaryProductAmount",
                "referencePeriodStart",
                "referencePeriodEnd",
                "pCfExcludingBiogenic",
                "fossilGhgEmissions",
                "fossilCarbonContent",
                "biogenicCarbonContent",
                "characterizationFactors",
                "ipccCharacterizationFactorsSources",
                "crossSectoralStandardsUsed",
                "boundaryProcessesDescription",
                "exemptedEmissionsPercent",
                "exemptedEmissionsDescription",
                "packagingEmissionsIncluded",
            ],
            "properties": {
                "declaredUnit": {
                    "enum": [
                        "liter",
                        "kilogram",
                        "cubic meter",
                        "kilowatt hour",
                        "megajoule",
                        "ton kilometer",
                        "square meter",
                    ]
                },
                "unitaryProductAmount": {
                    "type": "string",
                    "pattern": r"^[+]?((\d*[1-9]\d*)(\.\d+)?|(0+\.\d*[1-9]\d*))$",
                },
                "pCfExcludingBiogenic": _POSITIVE_OR_ZERO,
                "pCfIncludingBiogenic": _DECIMAL,
                "fossilGhgEmissions": _POSITIVE_OR_ZERO,
                "fossilCarbonContent": _POSITIVE_OR_ZERO,
                "biogenicCarbonContent": _POSITIVE_OR_ZERO,
                "dLucGhgEmissions": _POSITIVE_OR_ZERO,
                "characterizationFactors": {"enum": ["AR6", "AR5"]},
                "ipccCharacterizationFactorsSources": {
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": {"type": "string", "pattern": r"^AR\d+$"},
                },
                "crossSectoralStandardsUsed": {
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": {"enum": ["GHG Protocol Product standard", "ISO Standard 14067", "ISO Standard 14044"]},
                },
                "crossSectoralStandards": {
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": {
                        "enum": [
                            "ISO14067",
                            "ISO14083",
                            "ISO14040-44",
                            "GHGP-Product",
                            "PEF",
                            "PACT-1.0",
                            "PACT-2.0",
                            "PACT-3.0",
                        ]
                    },
                },
                "boundaryProcessesDescription": {"type": "string"},
                "referencePeriodStart": {"type": "string", "format": "date-time"},
                "referencePeriodEnd": {"type": "string", "format": "date-time"},
                "geographyCountry": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "geographyRegionOrSubregion": {"type": "string"},
                "geographyCountrySubdivision": {"type": "string", "pattern": "^[A-Z]{2}-[A-Z0-9]{1,3}$"},
                "exemptedEmissionsPercent": {"type": "number", "minimum": 0, "maximum": 5},
                "exemptedEmissionsDescription": {"type": "string"},
                "packagingEmissionsIncluded": {"type": "boolean"},
                "primaryDataShare": {"type": "number", "minimum": 0, "maximum": 100},
                "dqi": {
                    "type": "object",
                    "required": [
                        "coveragePercent",
                        "technologicalDQR",
                        "temporalDQR",
                        "geographicalDQR",
                        "completenessDQR",
                        "reliabilityDQR",
                    ],
                    "properties": {
                        "coveragePercent": {"type": "number", "minimum": 0, "maximum": 100},
                        "technologicalDQR": _DQR,
                        "temporalDQR": _DQR,
                        "geographicalDQR": _DQR,
                        "completenessDQR": _DQR,
                        "reliabilityDQR": _DQR,
                    },
                },
            },
            "oneOf": [
                {
                    "oneOf": [
                        {"required": ["geographyRegionOrSubregion"]},
                        {"required": ["geographyCountry"]},
                        {"required": ["geographyCountrySubdivision"]},
                    ]
                },
                {
                    "not": {
                        "anyOf": [
                            {"required": ["geographyRegionOrSubregion"]},
                            {"required": ["geographyCountry"]},
                            {"required": ["geographyCountrySubdivision"]},
                        ]
                    }
                },
            ],
            "anyOf": [{"required": ["primaryDataShare"]}, {"required": ["dqi"]}],
        },
    },
}
"""The PACT 2.3 ProductFootprint as its Technical Specifications' OpenAPI schema states it
(wbcsd/data-exchange-protocol, spec/v2/openapi.yaml): every required field, the types of the
fields we emit, decimals as strings, one geography at most, primaryDataShare or dqi."""


def pact_problems(footprint: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(PACT_PRODUCT_FOOTPRINT, format_checker=FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(footprint)]


def _attestation(
    body: dict[str, Any] = PCF_BODY,
    *,
    key: str = KEY,
    evidence: list[str] | None = None,
    subject: str | None = None,
    expires_at: int = EXPIRES,
) -> Attestation:
    """An attestation as the service stores it, signed by `key` exactly as the registry checks."""
    evidence = evidence or []
    subject = subject or ItemKey.of("09506000134352", "L-2026-07").digital_link()
    commitment = RecordCommitment.commit(committed_fields(body, evidence))
    request = AttestationRequest(
        schema=bytes.fromhex(SCHEMA_UID[2:]),
        constellation=bytes.fromhex(CONSTELLATION[2:]),
        subject=subject_hash(subject),
        data_hash=commitment.root,
        expires_at=expires_at,
    )
    deadline = 1_900_000_000
    typed = typed_data.typed_message(
        "Attest", {**request.typed_fields(), "deadline": deadline}, chain_id=CHAIN_ID, contract=REGISTRY
    )
    issuer = Account.from_key(key).address
    return Attestation(
        uid="0x" + request.uid(issuer).hex(),
        schema_uid=SCHEMA_UID,
        constellation=CONSTELLATION,
        subject_kind="item" if "/01/" in subject else "member",
        subject=subject,
        subject_hash="0x" + request.subject.hex(),
        issuer_id=str(uuid.UUID(int=1)),
        issuer_address=issuer,
        body=body,
        salts={path: salt.hex() for path, salt in commitment.salts.items()},
        data_hash="0x" + commitment.root.hex(),
        expires_at=expires_at,
        ref_uid="0x" + "00" * 32,
        revocable=True,
        deadline=deadline,
        signature="0x" + typed_data.sign(key, typed).hex(),
        evidence=evidence,
        created_at=CREATED,
    )


SCHEMA = AttestationSchema(
    uid=SCHEMA_UID,
    name="product-carbon-footprint",
    title="Product carbon footprint (WBCSD PACT data model)",
    definition="constellate/product-carbon-footprint json-schema sha256:00",
)


def _credential(row: Attestation, shown: frozenset[str] | None = None) -> dict[str, Any]:
    return credential_of(
        row=row,
        shown=shown,
        schema=SCHEMA,
        issuer_name="Finca Sur",
        chain_id=CHAIN_ID,
        registry=REGISTRY,
        base_url="https://constellate.example",
    )


class Registry:
    """The chain seam: an AttestationRegistry that holds the given records."""

    address = REGISTRY
    chain_id = CHAIN_ID

    def __init__(self, *records: AttestationRecord) -> None:
        self.records = {r.uid: r for r in records}

    def get_attestation(self, uid: bytes) -> AttestationRecord:
        return self.records.get(uid) or AttestationRecord(uid, *([b"\x00" * 32] * 5), "0x" + "00" * 20, 0, 0, 0, False)


def _record(row: Attestation, *, revoked_at: int = 0) -> AttestationRecord:
    return AttestationRecord(
        uid=bytes.fromhex(row.uid[2:]),
        schema=bytes.fromhex(row.schema_uid[2:]),
        constellation=bytes.fromhex(row.constellation[2:]),
        subject=bytes.fromhex(row.subject_hash[2:]),
        data_hash=bytes.fromhex(row.data_hash[2:]),
        ref_uid=bytes.fromhex(row.ref_uid[2:]),
        issuer=row.issuer_address,
        issued_at=int(CREATED.timestamp()),
        expires_at=row.expires_at,
        revoked_at=revoked_at,
        revocable=True,
    )


def _checks(verdict: Any) -> dict[str, bool | None]:
    return {check.name: check.ok for check in verdict.checks}


# --- credentials ----------------------------------------------------------------------------


def test_a_full_credential_is_a_vc2_document_whose_proof_is_the_issuers_attest_signature() -> None:
    row = _attestation(evidence=["ab" * 32])
    credential = _credential(row)
    address = Account.from_key(KEY).address
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert credential["type"] == [
        "VerifiableCredential",
        "ConstellateAttestationCredential",
        "ProductCarbonFootprintCredential",
    ]
    assert credential["issuer"] == {"id": f"did:pkh:eip155:31337:{address}", "name": "Finca Sur"}
    assert credential["validUntil"] == "2028-01-01T00:00:00Z" and credential["validFrom"] == "2027-02-01T12:00:00Z"
    assert credential["credentialSubject"] == {
        "id": "https://id.gs1.org/01/09506000134352/10/L-2026-07",
        "body": PCF_BODY,
        "evidenceDocuments": ["ab" * 32],
    }
    assert credential["credentialStatus"]["uid"] == row.uid and credential["credentialSchema"]["uid"] == SCHEMA_UID
    proof = credential["proof"]
    assert proof["proofValue"] == row.signature and proof["eip712"]["primaryType"] == "Attest"
    assert proof["verificationMethod"] == did_of(CHAIN_ID, address) + "#blockchainAccountId"
    verdict = verify_credential(credential, Registry(_record(row)), now=CREATED)
    assert verdict.status == "verified", verdict.as_json()
    assert _checks(verdict) == dict.fromkeys(["signature", "uid", "disclosed_fields", "on_chain", "status"], True)
    assert verdict.withheld == [] and "issuer.name" in verdict.unproven


def test_a_redacted_credential_verifies_what_it_shows_and_names_the_rest() -> None:
    row = _attestation(evidence=["ab" * 32])
    shown = frozenset({"body/declaredUnit", "body/pCfExcludingBiogenic"})
    credential = _credential(row, shown)
    assert credential["credentialSubject"]["body"] == {"declaredUnit": "kilogram", "pCfExcludingBiogenic": 2.35}
    assert "evidenceDocuments" not in credential["credentialSubject"]
    withheld = credential["attestation"]["withheld"]
    assert "evidence" in withheld and "body/dqi" in withheld and "body/declaredUnit" not in withheld
    assert set(credential["attestation"]["disclosures"]) == set(shown)
    verdict = verify_credential(credential, Registry(_record(row)), now=CREATED)
    assert verdict.status == "verified", verdict.as_json()
    assert verdict.as_json()["disclosure"] == "partial" and "attestation.withheld" in verdict.unproven


def test_without_a_chain_everything_but_the_chain_is_checked() -> None:
    verdict = verify_credential(_credential(_attestation()), None)
    assert verdict.status == "unavailable"
    assert _checks(verdict) == {
        "signature": True,
        "uid": True,
        "disclosed_fields": True,
        "on_chain": None,
        "status": None,
    }


def _tamper(row: Attestation, path: str, value: Any) -> dict[str, Any]:
    credential = copy.deepcopy(_credential(row))
    *outer, last = path.split(".")
    target = credential
    for name in outer:
        target = target[name]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return credential


@pytest.mark.parametrize(
    ("path", "value", "failed"),
    [
        ("credentialSubject.body.pCfExcludingBiogenic", 1.2, {"disclosed_fields"}),
        ("credentialSubject.body.dqi", None, {"disclosed_fields"}),  # dropped, and not named withheld
        ("credentialSubject.body.colour", "green", {"disclosed_fields"}),  # added, unproven
        ("credentialSubject.id", "https://id.gs1.org/01/09506000134352/10/L-2026-08", {"signature", "uid", "on_chain"}),
        ("validUntil", "2030-01-01T00:00:00Z", {"signature", "uid", "on_chain"}),
        ("attestation.dataHash", "0x" + "11" * 32, {"signature", "uid", "disclosed_fields", "on_chain"}),
        ("issuer.id", f"did:pkh:eip155:31337:{Account.from_key(OTHER_KEY).address}", {"signature", "uid", "on_chain"}),
        ("proof.proofValue", "0x" + "22" * 65, {"signature"}),
        ("proof.eip712.domain.verifyingContract", "0x" + "33" * 20, {"signature"}),
        ("proof.type", "DataIntegrityProof", {"signature"}),
        ("credentialStatus.registry", "0x" + "44" * 20, {"on_chain"}),
        ("credentialStatus.uid", "0x" + "55" * 32, {"uid"}),
        # claims outside the proven body: nothing proves them, so they fail
        ("credentialSubject.pCfExcludingBiogenic", 0.1, {"disclosed_fields"}),
        ("credentialSubject.organic", True, {"disclosed_fields"}),
        ("description", "Fairtrade certified", {"disclosed_fields"}),
        ("issuer.certifiedBy", "FLOCERT", {"disclosed_fields"}),
        ("type", ["VerifiableCredential", "OrganicCertificationCredential"], {"disclosed_fields"}),
    ],
)
def test_each_tampering_fails_the_check_that_catches_it(path: str, value: Any, failed: set[str]) -> None:
    row = _attestation()
    verdict = verify_credential(_tamper(row, path, value), Registry(_record(row)), now=CREATED)
    assert verdict.status == "failed"
    assert {name for name, ok in _checks(verdict).items() if ok is False} == failed, verdict.as_json()


def test_a_withheld_list_naming_no_committed_field_is_refused() -> None:
    credential = _tamper(_attestation(), "attestation.withheld", ["body/../nothing"])
    with pytest.raises(MalformedCredential, match="withheld"):
        verify_credential(credential, Registry(_record(_attestation())), now=CREATED)


def test_another_signers_signature_does_not_pass_for_the_issuers() -> None:
    row = _attestation()
    request = AttestationRequest(
        schema=bytes.fromhex(SCHEMA_UID[2:]),
        constellation=bytes.fromhex(CONSTELLATION[2:]),
        subject=bytes.fromhex(row.subject_hash[2:]),
        data_hash=bytes.fromhex(row.data_hash[2:]),
        expires_at=EXPIRES,
    )
    typed = typed_data.typed_message(
        "Attest", {**request.typed_fields(), "deadline": row.deadline}, chain_id=CHAIN_ID, contract=REGISTRY
    )
    credential = _credential(row)
    credential["proof"]["proofValue"] = (
        "0x" + typed_data.sign(OTHER_KEY, typed).hex()
    )  # the same message, signed by another
    verdict = verify_credential(credential, Registry(_record(row)), now=CREATED)
    signature = next(c for c in verdict.checks if c.name == "signature")
    assert signature.ok is False and Account.from_key(OTHER_KEY).address in signature.detail


def test_revoked_and_expired_attestations_fail_the_status_check() -> None:
    row = _attestation()
    revoked = verify_credential(_credential(row), Registry(_record(row, revoked_at=EXPIRES - 10)), now=CREATED)
    assert _checks(revoked)["status"] is False and revoked.status == "failed"
    assert "revoked" in next(c.detail for c in revoked.checks if c.name == "status")
    expired = verify_credential(_credential(row), Registry(_record(row)), now=CREATED + timedelta(days=800))
    assert _checks(expired)["status"] is False and "expired" in expired.checks[-1].detail
    absent = verify_credential(_credential(row), Registry(), now=CREATED)
    assert absent.status == "pending" and _checks(absent)["on_chain"] is None


@pytest.mark.parametrize(
    "document", [[], {"proof": {}}, {**{"issuer": "did:web:example.com"}}, "not a credential"], ids=str
)
def test_a_document_that_is_no_credential_is_refused_as_malformed(document: Any) -> None:
    with pytest.raises(MalformedCredential):
        verify_credential(document, None)


# --- PACT footprints ------------------------------------------------------------------------

ISSUER = Member(id=str(uuid.UUID(int=1)), name="Finca Sur", gln="4012345000009", lei="5299000J2N45DDNE4Y28")
PRODUCT = Product(gtin="09506000134352", owner_id=ISSUER.id, name="Green coffee, washed", description="Arabica")


def _footprint(row: Attestation, **changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"shown": None, "status": "valid", "issuer": ISSUER, "product": PRODUCT} | changes
    return product_footprint(row=row, **arguments)


def test_a_footprint_is_a_valid_pact_product_footprint_of_what_the_issuer_signed() -> None:
    row = _attestation()
    footprint = _footprint(row)
    assert pact_problems(footprint) == []
    assert footprint["id"] == footprint_id(row.uid) == _footprint(row)["id"]  # stable across exports
    assert uuid.UUID(footprint["id"]).version == 5
    assert footprint["status"] == "Active" and footprint["version"] == 1 and "updated" not in footprint
    assert footprint["companyName"] == "Finca Sur"
    assert footprint["companyIds"] == [
        f"urn:uuid:{ISSUER.id}",
        "urn:pact:gs1.org:gln:4012345000009",
        "urn:pact:gleif.org:lei:5299000J2N45DDNE4Y28",
    ]
    assert footprint["productIds"] == [
        "urn:gtin:09506000134352",
        "urn:pact:id.gs1.org:product-id:01/09506000134352/10/L-2026-07",
    ]
    assert footprint["productNameCompany"] == "Green coffee, washed" and footprint["productDescription"] == "Arabica"
    pcf = footprint["pcf"]
    assert pcf["pCfExcludingBiogenic"] == "2.35" and pcf["unitaryProductAmount"] == "1"
    assert pcf["fossilCarbonContent"] == "0" and pcf["dLucGhgEmissions"] == "0.000001"
    assert pcf["crossSectoralStandardsUsed"] == ["GHG Protocol Product standard", "ISO Standard 14067"]
    assert pcf["crossSectoralStandards"] == ["GHGP-Product", "ISO14067"]
    assert pcf["dqi"] == PCF_BODY["dqi"] and pcf["geographyCountry"] == "CI"
    assert footprint["validityPeriodStart"] == "2027-01-01T00:00:00Z"
    assert footprint["validityPeriodEnd"] == "2028-01-01T00:00:00Z"
    assert row.uid in footprint["comment"] and "packagingEmissionsIncluded" in footprint["comment"]


def test_a_revoked_attestation_is_the_footprints_deprecated_next_version() -> None:
    row = _attestation()
    revoked_at = CREATED + timedelta(days=3)
    footprint = _footprint(row, status="revoked", deprecated_at=revoked_at, preceding=["0x" + "ee" * 32])
    assert pact_problems(footprint) == []
    assert footprint["id"] == footprint_id(row.uid)
    assert (footprint["status"], footprint["version"], footprint["updated"]) == (
        "Deprecated",
        2,
        "2027-02-04T12:00:00Z",
    )
    assert footprint["precedingPfIds"] == [footprint_id("0x" + "ee" * 32)]


def test_a_footprint_omits_what_the_reader_may_not_see_and_refuses_without_what_pact_needs() -> None:
    row = _attestation()
    everything = {f"body/{name}" for name in PCF_BODY}
    partial = _footprint(row, shown=frozenset(everything - {"body/pCfIncludingBiogenic", "body/dqi"}))
    assert pact_problems(partial) == [] and "pCfIncludingBiogenic" not in partial["pcf"] and "dqi" not in partial["pcf"]
    assert "withheld from this reader: dqi, pCfIncludingBiogenic" in partial["comment"]
    for needed in ("fossilGhgEmissions", "geographyCountry"):
        with pytest.raises(PolicyDenied, match=needed):
            _footprint(row, shown=frozenset(everything - {f"body/{needed}"}))
    with pytest.raises(PolicyDenied, match="primaryDataShare, dqi"):
        _footprint(row, shown=frozenset(everything - {"body/primaryDataShare", "body/dqi"}))


@pytest.mark.parametrize(
    ("row", "changes", "problem"),
    [
        (
            _attestation({k: v for k, v in PCF_BODY.items() if "fossil" not in k}),
            {},
            "fossilGhgEmissions, fossilCarbonContent",
        ),
        (_attestation({**PCF_BODY, "crossSectoralStandardsUsed": ["PAS 2050"]}), {}, "'PAS 2050'"),
        (_attestation(subject="urn:constellate:member:m1"), {}, "about a member, not a product"),
        (_attestation(), {"product": None}, "no product master data"),
        (_attestation(), {"status": "failed"}, "refused by the chain"),
    ],
    ids=["unstated", "unknown-standard", "member", "no-product", "failed"],
)
def test_a_footprint_that_cannot_be_valid_is_a_conflict_naming_why(
    row: Attestation, changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(Conflict, match=problem):
        _footprint(row, **changes)


def test_one_geography_is_exported_the_most_specific_and_only_a_region_pact_names() -> None:
    body = {k: v for k, v in PCF_BODY.items() if k != "geographyCountry"}
    both = _footprint(_attestation({**PCF_BODY, "geographyRegionOrSubregion": "Western Europe"}))
    assert both["pcf"]["geographyCountry"] == "CI" and "geographyRegionOrSubregion" not in both["pcf"]
    regional = _footprint(_attestation({**body, "geographyRegionOrSubregion": "Western Europe"}))
    assert pact_problems(regional) == [] and regional["pcf"]["geographyRegionOrSubregion"] == "Western Europe"
    with pytest.raises(Conflict, match="'Western Africa' is not a PACT region"):
        _footprint(_attestation({**body, "geographyRegionOrSubregion": "Western Africa"}))
