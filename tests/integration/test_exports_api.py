"""Attestations leaving the service, on a real Anvil and both databases: a W3C Verifiable
Credential 2.0 whose EIP-712 proof verifies with only the chain (full and redacted, each read
logged for the issuer, tampering and revocation caught by the named check), and a PACT
ProductFootprint of a footprint attestation (valid, stable, Deprecated once revoked) that
refuses what it cannot state."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from service.chain.compiler import Artifact
from service.chain.deployment import Chain
from service.chain.proof_reader import ATTESTATION_TYPE, RegistryReader
from service.chain.rpc import endpoint
from service.domain.credential_proofs import verify_credential
from service.domain.pact import footprint_id

from ..unit.test_credentials import PACT_PRODUCT_FOOTPRINT, PCF_BODY, pact_problems
from .conftest import Api

GTIN = "09506000134352"
LOT = "L-2026-07"
FOOTPRINT = "product-carbon-footprint"
CERTIFICATE = {
    "standard": "Fairtrade",
    "certificateId": "FLO-1234",
    "issuingBody": "FLOCERT",
    "validUntil": "2027-12-31",
}


def _fields(*names: str) -> list[str]:
    return [f"attestation:{FOOTPRINT}/{name}" for name in names]


class Cocoa:
    """A farm attests a lot's footprint, a certifier certifies it (with evidence). The roaster
    sees the certification in full and the footprint without its fossil and biogenic-inclusive
    figures; the brand (which registers the product) sees the footprint but its dqi and
    pCfIncludingBiogenic; an outsider sees nothing."""

    def __init__(self, api: Api, chain: Chain) -> None:
        self.api = api
        self.rpc_url, self.registry = endpoint(chain.w3), chain.address_of("AttestationRegistry")
        self.brand, self.brand_h = api.onboard("Chocolatier")
        self.farm, self.farm_h = api.onboard("Finca Sur", gln="4012345000009", lei="5299000J2N45DDNE4Y28")
        self.certifier, self.certifier_h = api.onboard("Control Union")
        self.roaster, self.roaster_h = api.onboard("Roaster")
        _, self.outsider_h = api.onboard("Competitor")
        client = api.client
        assert client.post("/constellations", json={"slug": "cocoa", "name": "Cocoa"}, headers=self.brand_h).is_success
        for member, roles in (
            (self.farm, ["supplier"]),
            (self.certifier, ["certifier"]),
            (self.roaster, ["manufacturer"]),
        ):
            put = client.put(
                f"/constellations/cocoa/members/{member['id']}", json={"roles": roles}, headers=self.brand_h
            )
            assert put.status_code == 200, put.text
        product = {"gtin": GTIN, "name": "Cocoa beans, fermented", "description": "Forastero, sun-dried"}
        api.own_prefix(self.brand_h, GTIN)
        assert client.put("/products", json=product, headers=self.brand_h).status_code == 200
        to_roaster = {"kind": "member", "member_id": self.roaster["id"]}
        hidden_from_roaster = {"fossilGhgEmissions", "pCfIncludingBiogenic"}
        api.grant(self.farm_h, "cocoa", _fields(*(set(PCF_BODY) - hidden_from_roaster)), audience=to_roaster)
        api.grant(
            self.farm_h,
            "cocoa",
            _fields(*(set(PCF_BODY) - {"dqi", "pCfIncludingBiogenic"})),
            audience={"kind": "member", "member_id": self.brand["id"]},
        )
        api.grant(self.certifier_h, "cocoa", ["attestation:certification", "evidence"], audience=to_roaster)
        self.pcf = self.attest(self.farm_h, FOOTPRINT, PCF_BODY)
        evidence = [{"filename": "cert.pdf", "media_type": "application/pdf", "content_base64": "JVBERi0xLjQK"}]
        self.certificate = self.attest(self.certifier_h, "certification", CERTIFICATE, evidence=evidence)

    @property
    def reader(self) -> RegistryReader:
        """A verifier's reader of the pinned registry, new each time: a reader reads each value once."""
        return RegistryReader(self.rpc_url, self.registry)

    def attest(self, headers: dict[str, str], schema: str, body: dict[str, Any], **fields: Any) -> str:
        response = self.api.client.post(
            "/attestations",
            json={
                "schema": schema,
                "constellation": "cocoa",
                "subject": {"kind": "item", "gtin": GTIN, "lot": LOT},
                "body": body,
                "expires_at": "2027-06-30T00:00:00Z",
                **fields,
            },
            headers=headers,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["uid"])

    def get(self, headers: dict[str, str], path: str) -> Any:
        return self.api.client.get(path, headers=headers)


@pytest.fixture
def cocoa(api: Api, chain: Chain) -> Cocoa:
    return Cocoa(api, chain)


def _checks(verdict: Any) -> dict[str, bool | None]:
    return {check.name: check.ok for check in verdict.checks}


def test_a_full_readers_credential_verifies_with_only_the_chain_and_tampering_fails_the_named_check(
    cocoa: Cocoa, chain: Chain, artifacts: dict[str, Artifact]
) -> None:
    response = cocoa.get(cocoa.roaster_h, f"/attestations/{cocoa.certificate}/credential")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vc"
    credential = response.json()
    assert credential["type"][::2] == ["VerifiableCredential", "CertificationCredential"]
    issuer = cocoa.get(cocoa.roaster_h, f"/attestations/{cocoa.certificate}").json()["issuer"]
    assert credential["issuer"] == {
        "id": f"did:pkh:eip155:{chain.chain_id}:{issuer['address']}",
        "name": "Control Union",
    }
    assert credential["credentialSubject"]["id"] == f"https://id.gs1.org/01/{GTIN}/10/{LOT}"
    assert credential["credentialSubject"]["body"] == CERTIFICATE
    assert len(credential["credentialSubject"]["evidenceDocuments"]) == 1
    assert credential["validUntil"] == "2027-06-30T00:00:00Z" and credential["attestation"]["withheld"] == []
    assert credential["credentialStatus"] | {"id": None} == {
        "id": None,
        "type": "EthereumAttestationRegistryStatus",
        "chainId": chain.chain_id,
        "registry": chain.address_of("AttestationRegistry"),
        "uid": cocoa.certificate,
    }
    assert credential["credentialSchema"]["id"].endswith("/attestation-schemas/certification")

    verdict = verify_credential(credential, cocoa.reader)
    assert verdict.status == "verified", verdict.as_json()
    assert set(_checks(verdict)) == {"signature", "uid", "disclosed_fields", "on_chain", "status"}

    def tampered(change: Any) -> dict[str, bool | None]:
        copied = copy.deepcopy(credential)
        change(copied)
        return _checks(verify_credential(copied, cocoa.reader))

    assert tampered(lambda c: c["credentialSubject"]["body"].update(standard="Organic"))["disclosed_fields"] is False
    other = cocoa.get(cocoa.roaster_h, f"/attestations/{cocoa.pcf}").json()["issuer"]["address"]
    assert tampered(lambda c: c["issuer"].update(id=f"did:pkh:eip155:{chain.chain_id}:{other}"))["signature"] is False
    assert tampered(lambda c: c["proof"].update(proofValue="0x" + "ab" * 65))["signature"] is False

    # the verifier reads the registry through the real interface: getAttestation(bytes32), decoded as its struct
    compiled = next(e for e in artifacts["AttestationRegistry"].abi if e.get("name") == "getAttestation")
    assert _shape(compiled) == (["bytes32"], [ATTESTATION_TYPE.removeprefix("(").removesuffix(")").split(",")])
    # the read is the issuer's to see, as every read of its data
    log = cocoa.get(cocoa.certifier_h, f"/access-log?record={cocoa.certificate}").json()
    assert any(e["endpoint"] == "attestations.credential" and e["reader"]["id"] == cocoa.roaster["id"] for e in log)
    assert cocoa.get(cocoa.outsider_h, f"/attestations/{cocoa.certificate}/credential").status_code == 404


def _shape(entry: dict[str, Any]) -> Any:
    """An ABI entry's types, names aside."""
    if "components" in entry:
        return [_shape(c) for c in entry["components"]]
    if "inputs" in entry:
        return [_shape(e) for e in entry["inputs"]], [_shape(e) for e in entry["outputs"]]
    return entry["type"]


def test_a_redacted_readers_credential_verifies_the_fields_it_shows_and_names_the_others(cocoa: Cocoa) -> None:
    credential = cocoa.get(cocoa.roaster_h, f"/attestations/{cocoa.pcf}/credential").json()
    assert set(credential["credentialSubject"]["body"]) == set(PCF_BODY) - {
        "fossilGhgEmissions",
        "pCfIncludingBiogenic",
    }
    assert credential["attestation"]["withheld"] == ["body/fossilGhgEmissions", "body/pCfIncludingBiogenic"]
    assert "body/fossilGhgEmissions" not in credential["attestation"]["disclosures"]
    verdict = verify_credential(credential, cocoa.reader)
    assert verdict.status == "verified", verdict.as_json()
    assert verdict.as_json()["disclosure"] == "partial" and verdict.withheld == credential["attestation"]["withheld"]
    # a withheld field cannot be slipped back in: it has no proof
    credential["credentialSubject"]["body"]["fossilGhgEmissions"] = 0.1
    assert _checks(verify_credential(credential, cocoa.reader))["disclosed_fields"] is False


def test_a_footprint_is_a_valid_pact_product_footprint_deprecated_once_revoked(cocoa: Cocoa) -> None:
    before = cocoa.get(cocoa.brand_h, f"/attestations/{cocoa.pcf}/footprint")
    assert before.status_code == 200, before.text
    footprint = before.json()
    assert pact_problems(footprint) == [], footprint
    assert set(PACT_PRODUCT_FOOTPRINT["required"]) <= set(footprint)
    assert (
        footprint["id"]
        == footprint_id(cocoa.pcf)
        == cocoa.get(cocoa.brand_h, f"/attestations/{cocoa.pcf}/footprint").json()["id"]
    )
    assert uuid.UUID(footprint["id"]).version == 5
    assert (footprint["status"], footprint["version"], footprint["specVersion"]) == ("Active", 1, "2.3.0")
    assert footprint["companyName"] == "Finca Sur" and "urn:pact:gs1.org:gln:4012345000009" in footprint["companyIds"]
    assert footprint["productNameCompany"] == "Cocoa beans, fermented" and f"urn:gtin:{GTIN}" in footprint["productIds"]
    assert footprint["pcf"]["pCfExcludingBiogenic"] == "2.35" and "dqi" not in footprint["pcf"]
    assert "pCfIncludingBiogenic" not in footprint["pcf"]  # withheld from the brand: left out, and said so
    assert "withheld from this reader: dqi, pCfIncludingBiogenic" in footprint["comment"]
    # the issuer's own credential, taken before the revocation
    credential = cocoa.get(cocoa.farm_h, f"/attestations/{cocoa.pcf}/credential").json()
    assert verify_credential(credential, cocoa.reader).status == "verified"

    revoked = cocoa.api.client.post(f"/attestations/{cocoa.pcf}/revoke", json={}, headers=cocoa.farm_h)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked", revoked.text
    after = cocoa.get(cocoa.brand_h, f"/attestations/{cocoa.pcf}/footprint").json()
    assert pact_problems(after) == [], after
    assert (after["id"], after["status"], after["version"]) == (footprint["id"], "Deprecated", 2)
    assert after["updated"] > after["created"] and "revoked" in after["statusComment"]
    verdict = verify_credential(credential, cocoa.reader)
    assert verdict.status == "failed" and _checks(verdict)["status"] is False
    assert _checks(verdict)["signature"] is True and _checks(verdict)["on_chain"] is True


def test_a_footprint_export_refuses_what_it_cannot_state_naming_it(cocoa: Cocoa) -> None:
    other = cocoa.get(cocoa.roaster_h, f"/attestations/{cocoa.certificate}/footprint")
    assert other.status_code == 409 and "'certification' attestation" in other.json()["detail"]
    withheld = cocoa.get(cocoa.roaster_h, f"/attestations/{cocoa.pcf}/footprint")
    assert withheld.status_code == 403 and "fossilGhgEmissions" in withheld.json()["detail"]
    minimal = {k: v for k, v in PCF_BODY.items() if k not in ("fossilCarbonContent", "biogenicCarbonContent")}
    unstated = cocoa.get(cocoa.farm_h, f"/attestations/{cocoa.attest(cocoa.farm_h, FOOTPRINT, minimal)}/footprint")
    assert unstated.status_code == 409
    assert "does not state fossilCarbonContent, biogenicCarbonContent" in unstated.json()["detail"]
    assert cocoa.get(cocoa.outsider_h, f"/attestations/{cocoa.pcf}/footprint").status_code == 404
    # refused exports are no reads: nothing was shown
    log = cocoa.get(cocoa.farm_h, f"/access-log?record={cocoa.pcf}").json()
    assert not [e for e in log if e["endpoint"] == "attestations.footprint"]
