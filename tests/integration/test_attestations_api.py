"""ESG attestations through the API on a real Anvil and both databases: the schema catalogue,
issuing (managed and self-custody keys), bad input, revocation, expiry, search, evidence and
bulk import in one batched transaction."""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from service.chain.deployment import Chain
from service.domain.commitments import RecordCommitment
from service.domain.schema_catalogue import BUILTIN

from .conftest import Api

SELF_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
GTIN = "09506000134352"


def _sign(typed: dict[str, Any], key: str) -> str:
    return "0x" + bytes(Account.sign_message(encode_typed_data(full_message=typed), key).signature).hex()


class Cocoa:
    """A constellation with a coordinator, a certifier, a farm and a self-custody supplier; an outsider."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.brand, self.brand_h = api.onboard("Chocolatier")
        self.certifier, self.certifier_h = api.onboard("Control Union", gln="4012345000009")
        self.farm, self.farm_h = api.onboard("Finca Sur")
        self.coop, self.coop_h = api.onboard("Cooperative", address=Account.from_key(SELF_KEY).address)
        self.outsider, self.outsider_h = api.onboard("Competitor")
        assert (
            api.client.post(
                "/constellations", json={"slug": "cocoa", "name": "Cocoa"}, headers=self.brand_h
            ).status_code
            == 201
        )
        for member, roles in ((self.certifier, ["certifier"]), (self.farm, ["supplier"]), (self.coop, ["supplier"])):
            response = api.client.put(
                f"/constellations/cocoa/members/{member['id']}", json={"roles": roles}, headers=self.brand_h
            )
            assert response.status_code == 200, response.text
        api.share_everything_by_default(self.brand_h, "cocoa")

    def attest(self, headers: dict[str, str], **fields: Any) -> Any:
        return self.api.client.post("/attestations", json={"constellation": "cocoa", **fields}, headers=headers)


@pytest.fixture
def cocoa(api: Api) -> Cocoa:
    return Cocoa(api)


def _in(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


ITEM = {"kind": "item", "gtin": GTIN, "lot": "L-2026-07"}
VALID: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    # schema: (issuer, subject, body)
    "certification": (
        "certifier",
        ITEM,
        {
            "standard": "Fairtrade",
            "certificateId": "FLO-1234",
            "issuingBody": "FLOCERT",
            "scope": "cocoa beans",
            "validUntil": "2027-12-31",
        },
    ),
    "product-carbon-footprint": (
        "farm",
        ITEM,
        {
            "declaredUnit": "kilogram",
            "unitaryProductAmount": 1,
            "pCfExcludingBiogenic": 2.35,
            "pCfIncludingBiogenic": 1.9,
            "fossilGhgEmissions": 2.1,
            "biogenicCarbonContent": 0.45,
            "referencePeriodStart": "2025-01-01T00:00:00Z",
            "referencePeriodEnd": "2025-12-31T00:00:00Z",
            "geographyCountry": "CI",
            "boundaryProcessesDescription": "cradle to farm gate: cultivation, fermentation, drying",
            "crossSectoralStandardsUsed": ["GHG Protocol Product standard", "ISO 14067"],
            "dqi": {
                "coveragePercent": 90,
                "technologicalDQR": 1.5,
                "temporalDQR": 1,
                "geographicalDQR": 1.2,
                "completenessDQR": 1.4,
                "reliabilityDQR": 1.6,
            },
        },
    ),
    "labour-audit": (
        "certifier",
        {"kind": "member", "member_id": "FARM"},
        {
            "standard": "SMETA 4-pillar",
            "auditor": "Control Union",
            "auditDate": "2026-10-02",
            "result": "pass",
            "findings": 0,
        },
    ),
    "origin": (
        "farm",
        {"kind": "location", "gln": "4012345000009"},
        {"country": "CI", "region": "Soubré", "latitude": 5.78, "longitude": -6.6, "harvestYear": 2026},
    ),
    "recycled-content": (
        "farm",
        {"kind": "item", "gtin": GTIN, "serial": "A1"},
        {"material": "PET tray", "recycledSharePercent": 30, "chainOfCustody": "mass-balance"},
    ),
}


def test_the_builtin_schemas_are_registered_on_chain(api: Api, cocoa: Cocoa, chain: Chain) -> None:
    listed = api.client.get("/attestation-schemas", headers=cocoa.farm_h)
    assert listed.status_code == 200
    schemas = {s["name"]: s for s in listed.json()}
    assert set(schemas) == set(BUILTIN)
    for schema in schemas.values():
        record = chain.attestations.get_schema(bytes.fromhex(schema["uid"][2:]))
        assert record.definition == schema["definition"] and record.registrant == chain.sender.address
    assert schemas["certification"]["required_roles"] == ["certifier"]


@pytest.mark.parametrize("schema", sorted(VALID))
def test_every_schema_accepts_a_valid_body_and_anchors_its_commitment(
    api: Api, cocoa: Cocoa, chain: Chain, schema: str
) -> None:
    issuer, subject, body = VALID[schema]
    if subject.get("member_id") == "FARM":
        subject = {**subject, "member_id": cocoa.farm["id"]}
    response = cocoa.attest(getattr(cocoa, f"{issuer}_h"), schema=schema, subject=subject, body=body)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["status"] == "valid" and made["proof"]["tx_hash"] and made["body"] == body
    uid = bytes.fromhex(made["uid"][2:])
    assert chain.attestations.is_valid(uid)
    on_chain = chain.attestations.get_attestation(uid)
    assert "0x" + on_chain.data_hash.hex() == made["proof"]["data_hash"]
    # The issuer holds the salts: the body recomputes the root the chain holds.
    salts = {path: bytes.fromhex(salt[2:]) for path, salt in made["salts"].items()}
    fields = {f"body/{key}": value for key, value in body.items()} | {"evidence": []}
    assert RecordCommitment.commit(fields, salts).root == on_chain.data_hash
    read = api.client.get(f"/attestations/{made['uid']}", headers=cocoa.brand_h).json()
    assert read["status"] == "valid" and read["salts"] is None and read["proof"]["on_chain"]["valid"] is True


BAD: list[tuple[str, dict[str, Any], str]] = [
    (
        "certification",
        {"standard": "Fairtrade", "certificateId": "X", "issuingBody": "FLOCERT"},
        '"validUntil" is a required property',
    ),
    (
        "certification",
        {**VALID["certification"][2], "validUntil": "next year"},
        'validUntil: "next year" is not a "date"',
    ),
    ("product-carbon-footprint", {**VALID["product-carbon-footprint"][2], "declaredUnit": "bag"}, "declaredUnit"),
    (
        "product-carbon-footprint",
        {**VALID["product-carbon-footprint"][2], "pCfExcludingBiogenic": "2.3"},
        'pCfExcludingBiogenic: "2.3" is not of type "number"',
    ),
    (
        "product-carbon-footprint",
        {k: v for k, v in VALID["product-carbon-footprint"][2].items() if k != "dqi"},
        "is not valid under any of the schemas listed in the 'anyOf' keyword",
    ),
    ("labour-audit", {**VALID["labour-audit"][2], "result": "excellent"}, 'result: "excellent" is not one of'),
    ("origin", {"country": "Ivory Coast"}, 'country: "Ivory Coast" does not match'),
    ("origin", {"country": "CI", "latitude": 95}, "latitude: 95 is greater than the maximum of 90"),
    (
        "recycled-content",
        {"material": "PET", "recycledSharePercent": 130, "chainOfCustody": "segregated"},
        "recycledSharePercent",
    ),
    (
        "recycled-content",
        {"material": "PET", "recycledSharePercent": 30, "chainOfCustody": "segregated", "colour": "blue"},
        "Additional properties are not allowed ('colour'",
    ),
]


@pytest.mark.parametrize(("schema", "body", "problem"), BAD)
def test_every_schema_rejects_bad_bodies_naming_the_field_and_stores_nothing(
    api: Api, cocoa: Cocoa, schema: str, body: dict[str, Any], problem: str
) -> None:
    response = cocoa.attest(cocoa.certifier_h, schema=schema, subject=ITEM, body=body)
    assert response.status_code == 422, response.text
    assert problem in response.json()["detail"]
    assert api.client.get("/attestations", headers=api.admin).json() == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"schema": "halal"}, "unknown schema 'halal'"),
        ({"constellation": "tea"}, "no constellation"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "is in the past"),
        ({"expires_at": "2030-01-01T00:00:00"}, "time zone"),
        ({"subject": {"kind": "item", "gtin": "09506000134353"}}, "check digit"),
        ({"subject": {"kind": "location", "gln": "123"}}, "13 digits"),
        ({"subject": {"kind": "member", "member_id": "nobody"}}, "subject member nobody does not exist"),
        ({"ref_uid": "0x" + "ab" * 32}, "names no attestation"),
        ({"evidence": [{"filename": "a.pdf", "content_base64": "not base64!"}]}, "not valid base64"),
        ({"signature": "0x1234"}, "salts"),
        ({"grade": "A"}, "Extra inputs"),
    ],
)
def test_bad_attestation_input_is_refused_naming_the_problem(
    api: Api, cocoa: Cocoa, change: dict[str, Any], problem: str
) -> None:
    _issuer, subject, body = VALID["origin"]
    response = cocoa.attest(cocoa.farm_h, **({"schema": "origin", "subject": subject, "body": body} | change))
    assert response.status_code == 422, response.text
    assert problem in response.text
    assert api.client.get("/attestations", headers=api.admin).json() == []


def test_only_members_attest_and_certifications_need_the_certifier_role(api: Api, cocoa: Cocoa) -> None:
    _, subject, body = VALID["certification"]
    farm = cocoa.attest(cocoa.farm_h, schema="certification", subject=subject, body=body)
    assert farm.status_code == 403 and "needs the certifier role" in farm.json()["detail"]
    outsider = cocoa.attest(cocoa.outsider_h, schema="origin", subject=ITEM, body={"country": "CI"})
    assert outsider.status_code == 403 and "not a member of constellation 'cocoa'" in outsider.json()["detail"]
    assert api.client.get("/attestations", headers=api.admin).json() == []


def test_a_self_custody_issuer_signs_and_a_replay_is_refused(api: Api, cocoa: Cocoa, chain: Chain) -> None:
    request = {
        "constellation": "cocoa",
        "schema": "origin",
        "subject": ITEM,
        "body": {"country": "GH", "region": "Ashanti"},
    }
    unsigned = api.client.post("/attestations", json=request, headers=cocoa.coop_h)
    assert unsigned.status_code == 422 and "holds its own key" in unsigned.json()["detail"]
    prepared = api.client.post("/attestations/prepare", json=request, headers=cocoa.coop_h).json()
    signed = request | {"deadline": prepared["deadline"], "salts": prepared["salts"]}
    forged = api.client.post(
        "/attestations",
        json=signed | {"signature": _sign(prepared["messages"][0], "0x" + "22" * 32)},
        headers=cocoa.coop_h,
    )
    assert forged.status_code == 422 and "not by Cooperative" in forged.json()["detail"]
    signature = _sign(prepared["messages"][0], SELF_KEY)
    tampered = api.client.post(
        "/attestations", json=signed | {"body": {"country": "CI"}, "signature": signature}, headers=cocoa.coop_h
    )
    assert tampered.status_code == 422  # the salts no longer cover the body's fields
    made = api.client.post("/attestations", json=signed | {"signature": signature}, headers=cocoa.coop_h)
    assert made.status_code == 201, made.text
    assert (
        made.json()["uid"] == prepared["uid"] and made.json()["issuer"]["address"] == Account.from_key(SELF_KEY).address
    )
    assert chain.attestations.is_valid(bytes.fromhex(prepared["uid"][2:]))
    replay = api.client.post("/attestations", json=signed | {"signature": signature}, headers=cocoa.coop_h)
    assert replay.status_code == 409 and "already recorded" in replay.json()["detail"]
    assert len(api.client.get("/attestations", headers=api.admin).json()) == 1


def test_revocation_is_issuer_only_and_visible_through_the_api_and_on_chain(
    api: Api, cocoa: Cocoa, chain: Chain
) -> None:
    _, subject, body = VALID["certification"]
    made = cocoa.attest(cocoa.certifier_h, schema="certification", subject=subject, body=body).json()
    uid = made["uid"]
    by_brand = api.client.post(f"/attestations/{uid}/revoke", json={}, headers=cocoa.brand_h)
    assert by_brand.status_code == 403 and "only the issuer" in by_brand.json()["detail"]
    revoked = api.client.post(f"/attestations/{uid}/revoke", json={}, headers=cocoa.certifier_h)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked" and revoked.json()["proof"]["revocation_tx_hash"]
    assert not chain.attestations.is_valid(bytes.fromhex(uid[2:]))
    assert chain.attestations.get_attestation(bytes.fromhex(uid[2:])).revoked_at > 0
    read = api.client.get(f"/attestations/{uid}", headers=cocoa.farm_h).json()
    assert read["status"] == "revoked" and read["proof"]["on_chain"]["revoked_at"] is not None
    again = api.client.post(f"/attestations/{uid}/revoke", json={}, headers=cocoa.certifier_h)
    assert again.status_code == 409 and "already revoked" in again.json()["detail"]


def test_a_self_custody_issuer_revokes_by_signature(api: Api, cocoa: Cocoa, chain: Chain) -> None:
    request = {"constellation": "cocoa", "schema": "origin", "subject": ITEM, "body": {"country": "GH"}}
    prepared = api.client.post("/attestations/prepare", json=request, headers=cocoa.coop_h).json()
    signed = request | {
        "deadline": prepared["deadline"],
        "salts": prepared["salts"],
        "signature": _sign(prepared["messages"][0], SELF_KEY),
    }
    uid = api.client.post("/attestations", json=signed, headers=cocoa.coop_h).json()["uid"]
    unsigned = api.client.post(f"/attestations/{uid}/revoke", json={}, headers=cocoa.coop_h)
    assert unsigned.status_code == 422 and "holds its own key" in unsigned.json()["detail"]
    message = api.client.post(f"/attestations/{uid}/revoke/prepare", headers=cocoa.coop_h).json()
    revoked = api.client.post(
        f"/attestations/{uid}/revoke",
        json={"deadline": message["deadline"], "signature": _sign(message["messages"][0], SELF_KEY)},
        headers=cocoa.coop_h,
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert not chain.attestations.is_valid(bytes.fromhex(uid[2:]))


def test_expiry_is_visible_through_the_api_and_on_chain(api: Api, cocoa: Cocoa, chain: Chain) -> None:
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    made = cocoa.attest(
        cocoa.farm_h, schema="origin", subject=ITEM, body={"country": "CI"}, expires_at=expires.isoformat()
    )
    assert made.status_code == 201 and made.json()["status"] == "valid", made.text
    uid = made.json()["uid"]
    assert chain.attestations.is_valid(bytes.fromhex(uid[2:]))
    time.sleep(max(0.0, expires.timestamp() - time.time()) + 0.2)
    latest = chain.w3.eth.get_block("latest")["timestamp"]
    chain.w3.provider.make_request("evm_setNextBlockTimestamp", [max(latest + 1, int(expires.timestamp()) + 1)])  # type: ignore[arg-type]
    chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    read = api.client.get(f"/attestations/{uid}", headers=cocoa.brand_h).json()
    assert read["status"] == "expired" and read["expires_at"].startswith(expires.strftime("%Y-%m-%dT%H:%M:%S"))
    assert read["proof"]["on_chain"]["valid"] is False
    assert not chain.attestations.is_valid(bytes.fromhex(uid[2:]))


def test_search_by_subject_issuer_and_schema_and_outsiders_see_nothing(api: Api, cocoa: Cocoa) -> None:
    cert = cocoa.attest(cocoa.certifier_h, schema="certification", subject=ITEM, body=VALID["certification"][2]).json()
    origin = cocoa.attest(cocoa.farm_h, schema="origin", subject=ITEM, body={"country": "CI"}).json()
    other_lot = cocoa.attest(
        cocoa.farm_h, schema="origin", subject={"kind": "item", "gtin": GTIN, "lot": "L2"}, body={"country": "GH"}
    ).json()
    location = cocoa.attest(
        cocoa.farm_h, schema="origin", subject={"kind": "location", "gln": "4012345000009"}, body={"country": "CI"}
    ).json()

    def uids(query: str, headers: dict[str, str]) -> set[str]:
        response = api.client.get(f"/attestations?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return {a["uid"] for a in response.json()}

    assert uids(f"gtin={GTIN}&lot=L-2026-07", cocoa.brand_h) == {cert["uid"], origin["uid"]}
    assert uids("gln=4012345000009", cocoa.brand_h) == {location["uid"]}
    assert uids(f"issuer={cocoa.farm['id']}", cocoa.brand_h) == {origin["uid"], other_lot["uid"], location["uid"]}
    assert uids("schema=certification", cocoa.brand_h) == {cert["uid"]}
    assert uids("", cocoa.outsider_h) == set()
    hidden = api.client.get(f"/attestations/{cert['uid']}", headers=cocoa.outsider_h)
    assert hidden.status_code == 404
    assert api.client.get("/attestations?lot=L2", headers=cocoa.brand_h).status_code == 422
    assert api.client.get("/attestations?gtin=123", headers=cocoa.brand_h).status_code == 422
    assert api.client.get("/attestations?schema=nope", headers=cocoa.brand_h).status_code == 404


def test_evidence_is_content_addressed_committed_and_served_to_readers_only(api: Api, cocoa: Cocoa) -> None:
    report = b"%PDF-1.7 audit report"
    sha = hashlib.sha256(report).hexdigest()
    evidence = [
        {"filename": "audit.pdf", "media_type": "application/pdf", "content_base64": base64.b64encode(report).decode()}
    ]
    made = cocoa.attest(
        cocoa.certifier_h,
        schema="labour-audit",
        subject={"kind": "member", "member_id": cocoa.farm["id"]},
        body=VALID["labour-audit"][2],
        evidence=evidence,
    )
    assert made.status_code == 201, made.text
    assert made.json()["evidence"] == [
        {
            "sha256": sha,
            "filename": "audit.pdf",
            "media_type": "application/pdf",
            "size": len(report),
            "url": f"/evidence/{sha}",
        }
    ]
    assert "evidence" in made.json()["proof"]["committed_fields"]
    served = api.client.get(f"/evidence/{sha}", headers=cocoa.farm_h)
    assert served.status_code == 200 and served.content == report
    assert served.headers["content-type"] == "application/pdf" and served.headers["x-content-type-options"] == "nosniff"
    assert api.client.get(f"/evidence/{sha}", headers=cocoa.outsider_h).status_code == 404
    bad_type = cocoa.attest(
        cocoa.farm_h,
        schema="origin",
        subject=ITEM,
        body={"country": "CI"},
        evidence=[{**evidence[0], "media_type": "text/html; x=<script>"}],
    )
    assert bad_type.status_code == 422


def test_bulk_import_goes_out_in_one_transaction_and_is_all_or_nothing(api: Api, cocoa: Cocoa, chain: Chain) -> None:
    entries = [
        {
            "constellation": "cocoa",
            "schema": "origin",
            "subject": {"kind": "item", "gtin": GTIN, "lot": f"L{i}"},
            "body": {"country": "CI"},
        }
        for i in range(6)
    ]
    bad = [*entries[:3], {**entries[3], "body": {"country": "Côte d'Ivoire"}}, *entries[4:]]
    refused = api.client.post("/attestations/import", json=bad, headers=cocoa.farm_h)
    assert refused.status_code == 422 and "attestation #3" in refused.json()["detail"]
    assert api.client.get("/attestations", headers=api.admin).json() == []
    not_json = api.client.post("/attestations/import", content=b"{oops", headers=cocoa.farm_h)
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["detail"]  # before the route

    lines = "\n".join(__import__("json").dumps(e) for e in entries).encode()
    imported = api.client.post(
        "/attestations/import", content=lines, headers={**cocoa.farm_h, "Content-Type": "application/x-ndjson"}
    )
    assert imported.status_code == 201, imported.text
    made = imported.json()["attestations"]
    assert imported.json()["imported"] == 6 and all(a["status"] == "valid" for a in made)
    assert len({a["proof"]["tx_hash"] for a in made}) == 1  # batched: one multiAttestBySig
    for attestation in made:
        assert chain.attestations.is_valid(bytes.fromhex(attestation["uid"][2:]))


def test_a_custom_schema_is_registered_on_chain_and_validates_bodies(api: Api, cocoa: Cocoa, chain: Chain) -> None:
    schema = {
        "name": "deforestation-free",
        "title": "EUDR due diligence statement",
        "json_schema": {
            "type": "object",
            "properties": {
                "ddsReference": {"type": "string", "pattern": "^[0-9]{2}[A-Z]{2}[0-9A-Z]{10}$"},
                "plots": {"type": "integer", "minimum": 1},
            },
            "required": ["ddsReference"],
            "additionalProperties": False,
        },
        "required_roles": ["certifier"],
    }
    created = api.client.post("/attestation-schemas", json=schema, headers=cocoa.brand_h)
    assert created.status_code == 201, created.text
    record = chain.attestations.get_schema(bytes.fromhex(created.json()["uid"][2:]))
    assert record.definition == created.json()["definition"] and record.required_roles != 0
    duplicate = api.client.post("/attestation-schemas", json=schema, headers=cocoa.brand_h)
    assert duplicate.status_code == 409
    broken = api.client.post(
        "/attestation-schemas",
        json={**schema, "name": "broken", "json_schema": {"type": "objekt"}},
        headers=cocoa.brand_h,
    )
    assert broken.status_code == 422 and "not a valid JSON Schema" in broken.json()["detail"]
    good = cocoa.attest(
        cocoa.certifier_h,
        schema="deforestation-free",
        subject=ITEM,
        body={"ddsReference": "26FR0123456789", "plots": 3},
    )
    assert good.status_code == 201, good.text
    bad = cocoa.attest(cocoa.certifier_h, schema="deforestation-free", subject=ITEM, body={"ddsReference": "x"})
    assert bad.status_code == 422 and "ddsReference" in bad.json()["detail"]
    wrong_role = cocoa.attest(
        cocoa.farm_h, schema="deforestation-free", subject=ITEM, body={"ddsReference": "26FR0123456789"}
    )
    assert wrong_role.status_code == 403
