"""Response schemas, named for their direction (…Public out)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.chain.deployment import Chain
from service.db.models import ApiKey, AttestationSchema, Constellation, EvidenceDocument, Member
from service.domain.attestations import Readable, body_path, committed_fields
from service.domain.claim_status import ClaimStatus, dates_seen
from service.domain.commitments import RecordCommitment
from service.domain.constellations import Membership
from service.domain.disclosure import field_disclosures
from service.errors import ChainUnavailable
from service.roles import Role

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """Every error answer (RFC 7807 problem details, `service/api/errors.py`): `error` names it,
    `detail` says what is wrong in words, naming the field or record."""

    type: str
    """`about:blank`, or the EPCIS 2.0 exception (`epcisException:...`) it is."""
    title: str
    status: int
    error: str
    """The error's name: `ValidationFailed`, `NotFound`, ... or the Solidity custom error."""
    detail: str
    args: dict[str, Any] | None = None
    """The custom error's arguments, when the chain refused a transaction."""
    field: str | None = None
    """The path of the offending field (`epcisBody.eventList[3].action`), when one field is to blame."""


PROBLEMS: dict[int, str] = {
    400: "Malformed input: not parseable, or against the standard it claims (named)",
    401: "No API key where one is needed, or an unknown, malformed or revoked one",
    403: "Not allowed: the key's scope, the member's role or the owner's sharing grants",
    404: "No such record that you may see",
    409: "Contradicts the current state (a duplicate, a replay), or the chain refused it (the custom error named)",
    413: "The body is larger than the service accepts",
    422: "A field breaks a rule (each one named)",
    503: "The chain or the database cannot be reached now: try again",
    504: "The transaction was sent but not mined in time; it may still be",
}


def problems(*statuses: int, described: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """The error answers a route declares in its `responses`: the Problem body, or a page for a
    browser (Accept: text/html); those in `described` say what the status means for this route."""
    meanings = {status: PROBLEMS[status] for status in statuses} | (described or {})
    return {
        status: {
            "description": meaning,
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}},
                "text/html": {"schema": {"type": "string"}},
            },
        }
        for status, meaning in sorted(meanings.items())
    }


OPTIONAL_KEY: dict[str, Any] = {"security": [{}]}
"""`openapi_extra` of a route the public may read too: FastAPI declares the API key schemes as
required; this adds the anonymous alternative (without a key the reader is the public)."""


class MemberPublic(BaseModel):
    id: str
    name: str
    gln: str | None
    lei: str | None
    website: str | None
    address: str
    custody: str
    created_at: datetime

    @classmethod
    def of(cls, member: Member) -> MemberPublic:
        return cls.model_validate(member, from_attributes=True)


class ApiKeyPublic(BaseModel):
    id: str
    scopes: list[str]
    label: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyPublic:
        return cls.model_validate(key, from_attributes=True)


class ApiKeyCreated(ApiKeyPublic):
    token: str
    """The whole API key. It is shown this once and stored only as a hash."""


class MemberCreated(BaseModel):
    member: MemberPublic
    api_key: ApiKeyCreated


class ExportedKey(BaseModel):
    address: str
    private_key: str


class RotatedKey(BaseModel):
    old_address: str
    new_address: str
    moved: list[str]
    """Constellations whose roles moved to the new address (the member coordinates them)."""
    pending: list[str]
    """Constellations whose coordinator must re-grant the roles to the new address."""


class MembershipPublic(BaseModel):
    constellation: str
    slug: str | None
    member: MemberPublic | None
    address: str
    roles: list[str]
    since: datetime

    @classmethod
    def of(cls, membership: Membership, *, slug: str | None, member: Member | None) -> MembershipPublic:
        return cls(
            constellation=membership.constellation,
            slug=slug,
            member=MemberPublic.of(member) if member else None,
            address=membership.address,
            roles=Role.names(membership.roles),
            since=membership.since,
        )


class ConstellationPublic(BaseModel):
    id: str
    slug: str
    name: str
    created_by: str
    tx_hash: str | None
    members: list[MembershipPublic]

    @classmethod
    def of(cls, row: Constellation, members: list[MembershipPublic]) -> ConstellationPublic:
        return cls(
            id=row.id, slug=row.slug, name=row.name, created_by=row.created_by, tx_hash=row.tx_hash, members=members
        )


class TypedDataToSign(BaseModel):
    deadline: int
    messages: list[dict[str, Any]]
    """EIP-712 messages (eth_signTypedData_v4 JSON), to sign in this order."""


class TransactionPublic(BaseModel):
    tx_hash: str


class AttestationSchemaPublic(BaseModel):
    uid: str
    name: str
    title: str
    definition: str
    """Registered on chain: the name and the SHA-256 of the canonical JSON Schema."""
    json_schema: dict[str, Any]
    revocable: bool
    required_roles: list[str]
    builtin: bool
    registered_by: str | None
    tx_hash: str | None

    @classmethod
    def of(cls, row: AttestationSchema) -> AttestationSchemaPublic:
        return cls(
            uid=row.uid,
            name=row.name,
            title=row.title,
            definition=row.definition,
            json_schema=row.json_schema,
            revocable=row.revocable,
            required_roles=Role.names(row.required_roles),
            builtin=row.builtin,
            registered_by=row.registered_by,
            tx_hash=row.tx_hash,
        )


class SubjectPublic(BaseModel):
    kind: str
    id: str
    """Canonical identifier: a GS1 Digital Link URI for items and locations."""
    hash: str
    """keccak256 of the identifier: the subject on chain."""


class IssuerPublic(BaseModel):
    id: str
    name: str
    address: str


class EvidencePublic(BaseModel):
    sha256: str
    filename: str
    media_type: str
    size: int
    url: str


class OnChainAttestation(BaseModel):
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    valid: bool


class AttestationProof(BaseModel):
    """How to check this attestation with only the chain: the registry holds `data_hash` under
    `uid`; `data_hash` is the Merkle root (sorted pairs, keccak256) of the committed fields,
    each leaf keccak256(salt ‖ keccak256(path) ‖ keccak256(canonical JSON value))."""

    chain_id: int
    registry: str
    uid: str
    data_hash: str
    committed_fields: list[str]
    tx_hash: str | None
    block_number: int | None
    revocation_tx_hash: str | None
    on_chain: OnChainAttestation | None
    """The registry's record read just now (None when not asked for, not yet sent, or the chain is unreachable)."""


def _when(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


class FieldProof(BaseModel):
    salt: str
    proof: list[str]


class AttestationPublic(BaseModel):
    uid: str
    schema_name: str
    schema_uid: str
    constellation: str
    subject: SubjectPublic
    issuer: IssuerPublic
    body: dict[str, Any]
    evidence: list[EvidencePublic]
    expires_at: datetime | None
    revocable: bool
    ref_uid: str | None
    status: str
    """valid · not-yet-valid · expired · revoked · disputed · pending · failed"""
    status_date: date | None
    """When the state began (revoked, disputed; expired: the last valid day) or ends (valid)
    or begins (not-yet-valid)."""
    valid_from: date | None
    valid_until: date | None
    """The validity period: the body's (or its schema's equivalent) and the on-chain expiry."""
    revocation_pending: bool
    created_at: datetime
    proof: AttestationProof
    salts: dict[str, str] | None
    """Only for the issuer: with them it can disclose single fields to others, verifiably."""
    withheld: list[str]
    """Committed fields left out for this reader (`body/<field>`, `evidence`)."""
    disclosures: dict[str, FieldProof]
    """Each shown committed field's salt and Merkle proof under `proof.data_hash`."""

    @classmethod
    def of(
        cls,
        *,
        session: Session,
        readable: Readable,
        status: ClaimStatus,
        chain: Chain,
        with_salts: bool,
        on_chain: bool,
    ) -> AttestationPublic:
        row = readable.row
        shown = readable.shown
        commitment = RecordCommitment.commit(
            committed_fields(row.body, row.evidence), {path: bytes.fromhex(salt) for path, salt in row.salts.items()}
        )
        issuer = session.get(Member, row.issuer_id)
        schema = session.get(AttestationSchema, row.schema_uid)
        slug = session.scalar(select(Constellation.slug).where(Constellation.id == row.constellation))
        documents = {
            d.sha256: d
            for d in session.scalars(select(EvidenceDocument).where(EvidenceDocument.sha256.in_(row.evidence)))
        }
        record = None
        if on_chain and row.anchored_tx is not None:
            try:
                found = chain.attestations.get_attestation(bytes.fromhex(row.uid[2:]))
                record = OnChainAttestation(
                    issued_at=_when(found.issued_at) or datetime.fromtimestamp(0, UTC),
                    expires_at=_when(found.expires_at),
                    revoked_at=_when(found.revoked_at),
                    valid=chain.attestations.is_valid(bytes.fromhex(row.uid[2:])),
                )
            except ChainUnavailable:
                record = None
        assert issuer is not None and schema is not None
        seen = dates_seen(
            status, schema.name, row.body, lambda key: shown is None or body_path(key) in shown, row.expires_at or 0
        )
        return cls(
            uid=row.uid,
            schema_name=schema.name,
            schema_uid=row.schema_uid,
            constellation=slug or row.constellation,
            subject=SubjectPublic(kind=row.subject_kind, id=row.subject, hash=row.subject_hash),
            issuer=IssuerPublic(id=issuer.id, name=issuer.name, address=row.issuer_address),
            body={k: v for k, v in row.body.items() if shown is None or body_path(k) in shown},
            evidence=[
                EvidencePublic(
                    sha256=sha,
                    filename=documents[sha].filename,
                    media_type=documents[sha].media_type,
                    size=documents[sha].size,
                    url=f"/evidence/{sha}",
                )
                for sha in row.evidence
                if shown is None or "evidence" in shown
            ],
            expires_at=_when(row.expires_at),
            revocable=row.revocable,
            ref_uid=None if row.ref_uid == "0x" + "00" * 32 else row.ref_uid,
            status=status.state,
            status_date=seen.status_date,
            valid_from=seen.valid_from,
            valid_until=seen.valid_until,
            revocation_pending=row.revoke_signature is not None and row.revoked_tx is None,
            created_at=row.created_at,
            proof=AttestationProof(
                chain_id=chain.chain_id,
                registry=chain.address_of("AttestationRegistry"),
                uid=row.uid,
                data_hash=row.data_hash,
                committed_fields=sorted(row.salts),
                tx_hash=row.anchored_tx,
                block_number=row.anchored_block,
                revocation_tx_hash=row.revoked_tx,
                on_chain=record,
            ),
            salts={p: "0x" + s for p, s in row.salts.items()} if with_salts and shown is None else None,
            withheld=readable.withheld,
            disclosures={
                path: FieldProof(**entry)
                for path, entry in field_disclosures(
                    commitment, [p for p in commitment.fields if shown is None or p in shown]
                ).items()
            },
        )
