"""Attestations as W3C Verifiable Credentials 2.0, issued to a reader.

A credential carries the issuer's own EIP-712 `Attest` signature — the one the service stored
and relayed — as an `EthereumEip712Signature2021`-shaped proof. The signed message is rebuilt
from the credential's claims: the subject hash from `credentialSubject.id`, `expiresAt` from
`validUntil`, the schema from `credentialSchema`, the rest (constellation, data hash, reference,
revocability, deadline) from the `attestation` block, which also carries each shown field's salt
and Merkle proof under the data hash. Fields the reader may not see are left out and named, as
GET /attestations/{uid} decides (the same policy path, the same access log).

Checking a credential with only the chain is service/domain/credential_proofs.py's (it holds
the vocabulary both share, and needs no database)."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy.orm import Session

from service.chain import typed_data
from service.db.models import Attestation, AttestationSchema, Member
from service.domain import attestations
from service.domain.commitments import RecordCommitment
from service.domain.credential_proofs import (
    BASE_TYPE,
    PROOF_TYPE,
    SCHEMA_TYPE,
    STATUS_TYPE,
    credential_id,
    credential_time,
    credential_time_of,
    did_of,
)
from service.domain.disclosure import field_disclosures
from service.domain.policy import Access
from service.errors import Conflict

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
MEDIA_TYPE = "application/vc"
"""The media type of a VC 2.0 credential (IANA, 2024), secured here by an embedded proof."""
VOCABULARY = "urn:constellate:"
CONTEXT: dict[str, Any] = {
    "cst": VOCABULARY,
    "sec": "https://w3id.org/security#",
    BASE_TYPE: "cst:AttestationCredential",
    STATUS_TYPE: "cst:EthereumAttestationRegistryStatus",
    SCHEMA_TYPE: "cst:EthereumAttestationRegistrySchema",
    PROOF_TYPE: "sec:EthereumEip712Signature2021",
    "eip712": {"@id": "sec:eip712", "@type": "@json"},
    "body": {"@id": "cst:body", "@type": "@json"},
    "evidenceDocuments": {"@id": "cst:evidenceDocuments", "@container": "@set"},
    "attestation": {"@id": "cst:attestation", "@type": "@json"},
    "chainId": "cst:chainId",
    "registry": "cst:registry",
    "uid": "cst:uid",
    "definition": "cst:definition",
}
"""Our terms beside the VC 2.0 context. Bodies and the attestation block are JSON literals, so
any schema's field names are valid JSON-LD without a term each."""


def credential_type(schema_name: str) -> str:
    """The schema's credential type: `product-carbon-footprint` → ProductCarbonFootprintCredential."""
    return "".join(part.capitalize() for part in schema_name.split("-")) + "Credential"


def credential_of(
    *,
    row: Attestation,
    shown: frozenset[str] | None,
    schema: AttestationSchema,
    issuer_name: str,
    chain_id: int,
    registry: str,
    base_url: str,
) -> dict[str, Any]:
    """The credential of one attestation as a reader sees it (`shown` None: all of it)."""
    commitment = RecordCommitment.commit(
        attestations.committed_fields(row.body, row.evidence),
        {path: bytes.fromhex(salt) for path, salt in row.salts.items()},
    )

    def disclosed(path: str) -> bool:  # an empty evidence list is no secret: it is never withheld
        return shown is None or path in shown or (path == "evidence" and not row.evidence)

    paths = [path for path in commitment.fields if disclosed(path)]
    subject: dict[str, Any] = {
        "id": row.subject,
        "body": {key: value for key, value in row.body.items() if disclosed(attestations.body_path(key))},
    }
    if "evidence" in paths:
        subject["evidenceDocuments"] = commitment.fields["evidence"]
    did = did_of(chain_id, row.issuer_address)
    typed = typed_data.attest_message(attestations.request_of(row), row.deadline, chain_id=chain_id, registry=registry)
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, CONTEXT],
        "id": credential_id(row.uid),
        "type": ["VerifiableCredential", BASE_TYPE, credential_type(schema.name)],
        "name": schema.title,
        "issuer": {"id": did, "name": issuer_name},
        "validFrom": credential_time(row.created_at),
    }
    if row.expires_at:
        credential["validUntil"] = credential_time_of(row.expires_at)
    credential |= {
        "credentialSubject": subject,
        "credentialSchema": {
            "id": f"{base_url.rstrip('/')}/attestation-schemas/{schema.name}",
            "type": SCHEMA_TYPE,
            "uid": schema.uid,
            "definition": schema.definition,
        },
        "credentialStatus": {
            "id": f"{credential_id(row.uid)}#status",
            "type": STATUS_TYPE,
            "chainId": chain_id,
            "registry": to_checksum_address(registry),
            "uid": row.uid,
        },
        "attestation": {
            "constellation": row.constellation,
            "dataHash": row.data_hash,
            "refUID": row.ref_uid,
            "revocable": row.revocable,
            "deadline": row.deadline,
            "withheld": [] if shown is None else attestations.Readable(row, schema.name, shown).withheld,
            "disclosures": field_disclosures(commitment, paths),
        },
        "proof": {
            "type": PROOF_TYPE,
            "created": credential_time(row.created_at),
            "proofPurpose": "assertionMethod",
            "verificationMethod": f"{did}#blockchainAccountId",
            "proofValue": row.signature,
            "eip712": {"domain": typed["domain"], "types": typed["types"], "primaryType": typed["primaryType"]},
        },
    }
    return credential


def issue_credential(
    *,
    session: Session,
    access: Access,
    uid: str,
    chain_id: int,
    registry: str,
    base_url: str,
    endpoint: str = "attestations.credential",
) -> dict[str, Any]:
    """The credential of attestation `uid` as the reader may see it (404 if it may see none of
    it; 409 if the chain refused the attestation), logged as a read of that attestation."""
    found = attestations.visible(session=session, access=access, uid=uid)
    row = found.row
    if attestations.status_of(session=session, row=row, schema_name=found.schema_name) == "failed":
        raise Conflict(f"attestation {row.uid} was refused by the chain: it is no credential")
    schema = session.get(AttestationSchema, row.schema_uid)
    issuer = session.get(Member, row.issuer_id)
    assert schema is not None and issuer is not None
    credential = credential_of(
        row=row,
        shown=found.shown,
        schema=schema,
        issuer_name=issuer.name,
        chain_id=chain_id,
        registry=registry,
        base_url=base_url,
    )
    attestations.log_read(session=session, access=access, found=found, endpoint=endpoint)
    return credential


__all__ = [
    "CONTEXT",
    "MEDIA_TYPE",
    "VC_CONTEXT",
    "credential_of",
    "credential_type",
    "issue_credential",
]
