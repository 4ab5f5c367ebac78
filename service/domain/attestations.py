"""ESG attestations: validated against their schema, committed field by field, signed by the
issuer (EIP-712), kept here with their evidence, and relayed on chain through a durable outbox
so a chain outage delays them but never loses or duplicates them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from service.chain import typed_data
from service.chain.deployment import Chain
from service.chain.structs import AttestationRequest, SignedAttestation
from service.db.models import (
    Attestation,
    AttestationEvidence,
    AttestationSchema,
    ChainAttestation,
    ChainRevocation,
    Constellation,
    EvidenceDocument,
    Member,
    OutboxItem,
)
from service.domain.claim_status import DISPUTE_SCHEMA, claim_status
from service.domain.commitments import RecordCommitment
from service.domain.constellations import current_roles, get_constellation
from service.domain.keys import KeyVault
from service.domain.policy import EVIDENCE, Access, Decision
from service.domain.schema_catalogue import get_schema, validate_body
from service.domain.signing import Deadline, authorise, deadline_in, parse_signature
from service.domain.subjects import Subject, subject_hash
from service.errors import (
    ChainUnavailable,
    Conflict,
    ContractReverted,
    MalformedInput,
    NotFound,
    PolicyDenied,
    TransactionTimeout,
    ValidationFailed,
)
from service.roles import Role

log = logging.getLogger(__name__)
ZERO32 = b"\x00" * 32
MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
MAX_EVIDENCE_TOTAL_BYTES = 20 * 1024 * 1024


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=255)
    media_type: str = Field(
        default="application/octet-stream",
        max_length=100,
        pattern=r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$",
    )
    content_base64: str

    def content(self) -> bytes:
        try:
            raw = base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationFailed(f"evidence {self.filename!r} is not valid base64") from exc
        if len(raw) > MAX_EVIDENCE_BYTES:
            raise ValidationFailed(f"evidence {self.filename!r} is larger than {MAX_EVIDENCE_BYTES} bytes")
        return raw


class AttestationCreate(BaseModel):
    """An attestation to issue. Self-custody issuers add `deadline`, `salts` and `signature`
    exactly as /attestations/prepare returned them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_name: str = Field(alias="schema")
    constellation: str
    subject: Subject
    body: dict[str, Any]
    expires_at: datetime | None = None
    ref_uid: str | None = None
    revocable: bool | None = None
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=20)
    deadline: Deadline | None = None
    salts: dict[str, str] | None = None
    signature: str | None = None

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("expires_at needs a time zone (e.g. 2027-06-30T00:00:00Z)")
        return value

    @field_validator("evidence")
    @classmethod
    def _evidence_total(cls, value: list[EvidenceIn]) -> list[EvidenceIn]:
        encoded = sum(len(item.content_base64) for item in value)
        if encoded > MAX_EVIDENCE_TOTAL_BYTES * 4 // 3 + 4 * len(value):
            raise ValueError(f"evidence documents together are limited to {MAX_EVIDENCE_TOTAL_BYTES} bytes")
        return value


@dataclass
class Prepared:
    schema: AttestationSchema
    constellation: Constellation
    subject_kind: str
    subject: str
    commitment: RecordCommitment
    request: AttestationRequest
    deadline: int
    typed: dict[str, Any]
    evidence: list[tuple[EvidenceIn, bytes, str]]

    def uid(self, issuer: str) -> str:
        return "0x" + self.request.uid(issuer).hex()


def _hex32(value: str, name: str) -> bytes:
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError as exc:
        raise ValidationFailed(f"{name} is not hex") from exc
    if len(raw) != 32:
        raise ValidationFailed(f"{name} must be 32 bytes")
    return raw


def committed_fields(body: dict[str, Any], evidence_ids: list[str]) -> dict[str, Any]:
    """What an attestation's data hash commits to: each body field, and its evidence documents."""
    fields = {body_path(key): value for key, value in body.items()}
    fields["evidence"] = sorted(evidence_ids)
    return fields


def prepare(
    *, session: Session, chain: Chain, issuer: Member, att_in: AttestationCreate, ttl: int, now: datetime | None = None
) -> Prepared:
    """Checks everything about an attestation before anything is stored or signed."""
    now = now or datetime.now(UTC)
    try:
        schema = get_schema(session=session, name=att_in.schema_name)
        constellation = get_constellation(session=session, slug=att_in.constellation)
    except NotFound as exc:
        raise ValidationFailed(str(exc)) from exc
    validate_body(schema, att_in.body)
    roles = current_roles(session=session, cid=constellation.id, address=issuer.address)
    if not roles:
        raise PolicyDenied(f"{issuer.name} is not a member of constellation {constellation.slug!r}")
    if schema.required_roles and not roles & schema.required_roles:
        needed = " or ".join(Role.names(schema.required_roles))
        raise PolicyDenied(f"schema {schema.name!r} needs the {needed} role; {issuer.name} holds {Role.names(roles)}")
    if att_in.subject.kind == "member" and session.get(Member, att_in.subject.member_id) is None:
        raise ValidationFailed(f"subject member {att_in.subject.member_id} does not exist")
    expires_at = 0
    if att_in.expires_at is not None:
        if att_in.expires_at <= now:
            raise ValidationFailed(f"expires_at {att_in.expires_at.isoformat()} is in the past")
        expires_at = int(att_in.expires_at.timestamp())
    revocable = schema.revocable if att_in.revocable is None else att_in.revocable
    if revocable and not schema.revocable:
        raise ValidationFailed(f"schema {schema.name!r} is irrevocable: its attestations cannot be revocable")
    ref_uid = ZERO32
    if att_in.ref_uid is not None:
        ref_uid = _hex32(att_in.ref_uid, "ref_uid")
        if session.get(Attestation, "0x" + ref_uid.hex()) is None:
            raise ValidationFailed(f"ref_uid {att_in.ref_uid} names no attestation")
    if schema.name == DISPUTE_SCHEMA and schema.builtin:
        _check_dispute(session, att_in, constellation, "0x" + ref_uid.hex())
    evidence = []
    for item in att_in.evidence:
        content = item.content()
        evidence.append((item, content, hashlib.sha256(content).hexdigest()))
    salts = None
    if att_in.salts is not None:
        try:
            salts = {path: bytes.fromhex(salt.removeprefix("0x")) for path, salt in att_in.salts.items()}
        except ValueError as exc:
            raise ValidationFailed("salts must be hex") from exc
    fields = committed_fields(att_in.body, [sha for _, _, sha in evidence])
    if salts is not None and set(salts) != set(fields):
        raise ValidationFailed(f"salts must cover exactly the committed fields {sorted(fields)}")
    try:
        commitment = RecordCommitment.commit(fields, salts)
        data_hash = commitment.root
    except MalformedInput as exc:  # a value with no canonical form (RFC 8785), e.g. beyond 2^53
        raise MalformedInput(f"body: {exc}") from None
    except ValueError as exc:
        raise ValidationFailed(f"salts: {exc}") from exc
    canonical = att_in.subject.canonical()
    request = AttestationRequest(
        schema=_hex32(schema.uid, "schema"),
        constellation=_hex32(constellation.id, "constellation"),
        subject=subject_hash(canonical),
        data_hash=data_hash,
        expires_at=expires_at,
        ref_uid=ref_uid,
        revocable=revocable,
    )
    deadline = att_in.deadline or deadline_in(ttl, now=now.timestamp())
    if deadline <= now.timestamp():
        raise ValidationFailed("deadline is in the past")
    typed = typed_data.attest_message(
        request, deadline, chain_id=chain.chain_id, registry=chain.address_of("AttestationRegistry")
    )
    return Prepared(
        schema, constellation, att_in.subject.kind, canonical, commitment, request, deadline, typed, evidence
    )


def _check_dispute(session: Session, att_in: AttestationCreate, constellation: Constellation, ref_uid: str) -> None:
    """A dispute names (refUID) the claim it disputes, in the same constellation, about the same subject."""
    disputed = session.get(Attestation, ref_uid)
    if disputed is None:
        raise ValidationFailed("a dispute names the claim it disputes in ref_uid")
    if disputed.constellation != constellation.id:
        raise ValidationFailed(f"attestation {ref_uid} is in another constellation: dispute it there")
    if disputed.subject != att_in.subject.canonical():
        raise ValidationFailed(f"a dispute is about the subject of the claim it disputes ({disputed.subject})")


def create(
    *, session: Session, chain: Chain, vault: KeyVault | None, issuer: Member, att_in: AttestationCreate, ttl: int
) -> Attestation:
    """Validates, checks or makes the issuer's signature, stores the attestation and its outbox entry."""
    prepared = prepare(session=session, chain=chain, issuer=issuer, att_in=att_in, ttl=ttl)
    if att_in.signature is not None and att_in.salts is None:
        raise ValidationFailed("a signed attestation must carry the salts it was prepared with")
    signature = authorise(session=session, vault=vault, member=issuer, typed=prepared.typed, signature=att_in.signature)
    uid = prepared.uid(issuer.address)
    if session.get(Attestation, uid) is not None:
        raise Conflict(f"attestation {uid} is already recorded (a replayed signature or a duplicate)")
    for item, content, sha in prepared.evidence:
        if session.get(EvidenceDocument, sha) is None:
            session.add(
                EvidenceDocument(
                    sha256=sha, media_type=item.media_type, filename=item.filename, size=len(content), content=content
                )
            )
    row = Attestation(
        uid=uid,
        schema_uid=prepared.schema.uid,
        constellation=prepared.constellation.id,
        subject_kind=prepared.subject_kind,
        subject=prepared.subject,
        subject_hash="0x" + prepared.request.subject.hex(),
        issuer_id=issuer.id,
        issuer_address=issuer.address,
        body=att_in.body,
        salts={p: s.hex() for p, s in prepared.commitment.salts.items()},
        data_hash="0x" + prepared.request.data_hash.hex(),
        expires_at=prepared.request.expires_at,
        ref_uid="0x" + prepared.request.ref_uid.hex(),
        revocable=prepared.request.revocable,
        deadline=prepared.deadline,
        signature="0x" + signature.hex(),
        evidence=[sha for _, _, sha in prepared.evidence],
    )
    session.add(row)
    session.flush()  # the documents and the attestation exist before the links between them
    for sha in {sha for _, _, sha in prepared.evidence}:
        session.add(AttestationEvidence(attestation_uid=uid, sha256=sha))
    session.add(OutboxItem(kind="attest", ref=uid))
    session.flush()
    return row


def get(*, session: Session, uid: str) -> Attestation:
    row = session.get(Attestation, uid.lower() if uid.startswith("0x") else uid)
    if row is None:
        raise NotFound(f"no attestation {uid}")
    return row


def status_of(
    *, session: Session, row: Attestation, now: datetime | None = None, schema_name: str | None = None
) -> str:
    """valid · not-yet-valid · expired · revoked · disputed · pending · failed: the claim's state
    (service/domain/claim_status.py, the one place that decides it)."""
    name = schema_name if schema_name is not None else schema_name_of(session, row)
    return claim_status(session=session, row=row, schema_name=name, now=now).state


def body_path(key: str) -> str:
    return f"body/{key}"


def concrete_categories(row: Attestation, schema_name: str) -> dict[str, str]:
    """Each committed field of an attestation with the sharing category that discloses it:
    `attestation:<schema>/<field>` for a body field, `evidence` for its evidence documents."""
    parts = {f"attestation:{schema_name}/{key}": body_path(key) for key in row.body}
    if row.evidence:
        parts[EVIDENCE] = "evidence"
    return parts


@dataclass(frozen=True)
class Readable:
    """An attestation and the committed fields the reader sees (None: all of it)."""

    row: Attestation
    schema_name: str
    shown: frozenset[str] | None

    @property
    def withheld(self) -> list[str]:
        if self.shown is None:
            return []
        return sorted(set(concrete_categories(self.row, self.schema_name).values()) - self.shown)

    @property
    def decision(self) -> Decision:
        """This read, for the access log."""
        parts = concrete_categories(self.row, self.schema_name)
        shown = set(parts.values()) if self.shown is None else set(self.shown)
        categories = [category for category, path in parts.items() if path in shown]
        row = self.row
        return Decision(
            row.issuer_id, row.constellation, "attestation", row.uid, sorted(shown), self.withheld, categories
        )


def schema_name_of(session: Session, row: Attestation) -> str:
    return session.scalar(select(AttestationSchema.name).where(AttestationSchema.uid == row.schema_uid)) or ""


def view_of(access: Access, row: Attestation, schema_name: str) -> Readable | None:
    """What of one attestation the reader sees; None: nothing (it does not learn it exists)."""
    parts = concrete_categories(row, schema_name)
    visible = access.visible(row.issuer_id, row.constellation, list(parts))
    if visible is None:
        return Readable(row, schema_name, None)
    granted = access.visible(row.issuer_id, row.constellation, [f"attestation:{schema_name}/", EVIDENCE])
    if not visible and not granted:
        return None  # nothing of this issuer's attestations of this schema reaches the reader
    return Readable(row, schema_name, frozenset(parts[c] for c in visible))


def _log(session: Session, access: Access, found: list[Readable], endpoint: str) -> None:
    access.log(session, endpoint=endpoint, decisions=[item.decision for item in found])


def _may_see(access: Access) -> Any:
    return or_(
        access.may_see_some("attestation", Attestation.issuer_id, Attestation.constellation),
        access.sees(EVIDENCE, Attestation.issuer_id, Attestation.constellation),
    )


def visible(*, session: Session, access: Access, uid: str) -> Readable:
    """One attestation as the reader may see it (404 if it may see none of it), not yet logged:
    a caller that may still refuse to answer (an export) logs with `log_read` once it answers."""
    row = get(session=session, uid=uid)
    schema_name = schema_name_of(session, row)
    found = view_of(access, row, schema_name)
    if found is None:
        raise NotFound(f"no attestation {uid} that you may see")  # outsiders do not learn it exists
    return found


def log_read(*, session: Session, access: Access, found: Readable, endpoint: str) -> None:
    _log(session, access, [found], endpoint)


def read(*, session: Session, access: Access, uid: str, endpoint: str) -> Readable:
    """One attestation as the reader may see it (404 if it may see none of it), logged."""
    found = visible(session=session, access=access, uid=uid)
    log_read(session=session, access=access, found=found, endpoint=endpoint)
    return found


def issued_by(*, session: Session, access: Access, uid: str) -> Attestation:
    """The reader's own attestation (to revoke): 403 for one it may see but did not issue,
    404 for one it may not see (it does not learn it exists)."""
    row = get(session=session, uid=uid)
    if row.issuer_id == access.reader.member_id:
        return row
    schema_name = schema_name_of(session, row)
    if view_of(access, row, schema_name) is None:
        raise NotFound(f"no attestation {uid}")
    raise PolicyDenied(f"only the issuer of attestation {uid} revokes it")


def evidence_for(*, session: Session, access: Access, sha256: str) -> EvidenceDocument:
    """An evidence document, if an attestation citing it shows the reader its evidence; logged
    as a read of that attestation's evidence."""
    document = session.get(EvidenceDocument, sha256.lower())
    citing = None
    if document is not None:
        citing = session.scalar(
            select(Attestation)
            .join(AttestationEvidence, AttestationEvidence.attestation_uid == Attestation.uid)
            .where(
                AttestationEvidence.sha256 == document.sha256,
                access.sees(EVIDENCE, Attestation.issuer_id, Attestation.constellation),
            )
            .limit(1)
        )
    if document is None or citing is None:
        raise NotFound(f"no evidence document {sha256} that you may see")
    access.log(
        session,
        endpoint="evidence",
        decisions=[
            Decision(citing.issuer_id, citing.constellation, "evidence", document.sha256, ["content"], [], [EVIDENCE])
        ],
    )
    return document


def search(
    *,
    session: Session,
    access: Access,
    subject: str | None = None,
    subjects: Collection[str] | None = None,
    issuer_id: str | None = None,
    schema_uid: str | None = None,
    limit: int = 100,
    offset: int = 0,
    endpoint: str = "attestations.search",
    log: bool = True,
) -> list[Readable]:
    """Attestations matching every given filter that the reader may see something of, logged
    (unless the caller logs its reads itself). Filters name only what every visible
    attestation shows (subject, issuer, schema); `subjects`: any of these."""
    query = (
        select(Attestation, AttestationSchema.name)
        .join(AttestationSchema, AttestationSchema.uid == Attestation.schema_uid)
        .where(_may_see(access))
        .order_by(Attestation.created_at, Attestation.uid)
    )
    if subject is not None:
        query = query.where(Attestation.subject == subject)
    if subjects is not None:
        query = query.where(Attestation.subject.in_(list(subjects)))
    if issuer_id is not None:
        query = query.where(Attestation.issuer_id == issuer_id)
    if schema_uid is not None:
        query = query.where(Attestation.schema_uid == schema_uid)
    found: list[Readable] = []
    skipped = 0
    for row, schema_name in session.execute(query).yield_per(200):
        item = view_of(access, row, schema_name)
        if item is None:
            continue
        if skipped < offset:
            skipped += 1
            continue
        found.append(item)
        if len(found) == limit:
            break
    if log:
        _log(session, access, found, endpoint)
    return found


def revoke_message(*, chain: Chain, uid: str, deadline: int) -> dict[str, Any]:
    return typed_data.typed_message(
        "Revoke",
        {"uid": _hex32(uid, "uid"), "deadline": deadline},
        chain_id=chain.chain_id,
        contract=chain.address_of("AttestationRegistry"),
    )


def request_revocation(
    *,
    session: Session,
    chain: Chain,
    vault: KeyVault | None,
    member: Member,
    uid: str,
    deadline: int | None,
    signature: str | None,
    ttl: int,
) -> Attestation:
    """Records the issuer's signed revocation and queues it for the chain."""
    row = get(session=session, uid=uid)
    if row.issuer_id != member.id:
        raise PolicyDenied("only the issuer may revoke an attestation")
    if not row.revocable:
        raise Conflict(f"attestation {uid} was issued irrevocable")
    if status_of(session=session, row=row) == "revoked":
        raise Conflict(f"attestation {uid} is already revoked")
    queued = session.scalar(select(OutboxItem).where(OutboxItem.kind == "revoke", OutboxItem.ref == row.uid))
    if queued is not None and queued.status != "failed":
        raise Conflict(f"the revocation of attestation {uid} is already on its way to the chain")
    deadline = deadline or deadline_in(ttl)
    if signature is not None:
        parse_signature(signature)
    made = authorise(
        session=session,
        vault=vault,
        member=member,
        typed=revoke_message(chain=chain, uid=uid, deadline=deadline),
        signature=signature,
    )
    row.revoke_signature = "0x" + made.hex()
    row.revoke_deadline = deadline
    row.revoke_requested_at = datetime.now(UTC)
    if queued is None:
        session.add(OutboxItem(kind="revoke", ref=row.uid))
    else:  # the chain refused an earlier signature (expired, say): this one replaces it
        queued.status, queued.attempts, queued.last_error = "pending", 0, None
    session.flush()
    return row


def request_of(row: Attestation) -> AttestationRequest:
    """The request the issuer signed for a stored attestation."""
    return AttestationRequest(
        schema=_hex32(row.schema_uid, "schema"),
        constellation=_hex32(row.constellation, "constellation"),
        subject=_hex32(row.subject_hash, "subject"),
        data_hash=_hex32(row.data_hash, "data_hash"),
        expires_at=row.expires_at,
        ref_uid=_hex32(row.ref_uid, "ref_uid"),
        revocable=row.revocable,
    )


def _signed(row: Attestation) -> SignedAttestation:
    return SignedAttestation(request_of(row), row.issuer_address, row.deadline, bytes.fromhex(row.signature[2:]))


@dataclass
class RelayReport:
    attested: int = 0
    revoked: int = 0
    failed: int = 0
    already_on_chain: int = 0
    transactions: int = 0
    outage: ChainUnavailable | TransactionTimeout | None = None
    """Set when the chain failed mid-way; what was recorded so far is committed, the rest stays pending."""


def _done(item: OutboxItem, tx_hash: str | None) -> None:
    item.status, item.tx_hash, item.done_at = "done", tx_hash, datetime.now(UTC)


def relay_outbox(*, sessions: sessionmaker[Session], chain: Chain, batch_size: int) -> RelayReport:
    """Sends pending attestations (batched) and revocations to the chain, exactly once.

    The uid is deterministic, so an attestation that reached the chain before a crash is found
    there and marked done instead of being sent again. Raises ChainUnavailable if the chain is
    down; everything unsent stays pending."""
    report = RelayReport()
    after = 0
    while report.outage is None:
        with sessions() as session, session.begin():
            items = list(
                session.scalars(
                    select(OutboxItem)
                    .where(OutboxItem.kind == "attest", OutboxItem.status == "pending", OutboxItem.id > after)
                    .order_by(OutboxItem.id)
                    .limit(batch_size)
                )
            )
            if not items:
                break
            after = items[-1].id
            _relay_attestations(session, chain, items, report)
    if report.outage is None:
        with sessions() as session, session.begin():
            items = list(
                session.scalars(
                    select(OutboxItem)
                    .where(OutboxItem.kind == "revoke", OutboxItem.status == "pending")
                    .order_by(OutboxItem.id)
                )
            )
            for item in items:
                _relay_revocation(session, chain, item, report)
                if report.outage is not None:
                    break
    if report.outage is not None:
        raise report.outage
    return report


def _record_failure(item: OutboxItem, exc: Exception) -> None:
    item.attempts += 1
    item.last_error = f"{type(exc).__name__}: {exc}"


def _relay_attestations(session: Session, chain: Chain, items: list[OutboxItem], report: RelayReport) -> None:
    rows = {
        row.uid: row for row in session.scalars(select(Attestation).where(Attestation.uid.in_([i.ref for i in items])))
    }
    to_send: list[OutboxItem] = []
    for item in items:
        if chain.attestations.get_attestation(_hex32(item.ref, "uid")).issued_at:
            _adopt_from_mirror(session, item, rows[item.ref], report)
        else:
            to_send.append(item)
    if not to_send:
        return
    try:
        receipt = chain.attestations.multi_attest_by_sig([_signed(rows[i.ref]) for i in to_send])
    except ContractReverted:
        for item in to_send:
            _relay_one(chain, item, rows[item.ref], report)
            if report.outage is not None:
                return
        return
    except (ChainUnavailable, TransactionTimeout) as exc:
        for item in to_send:
            _record_failure(item, exc)
        report.outage = exc
        return
    report.transactions += 1
    for item in to_send:
        rows[item.ref].anchored_tx, rows[item.ref].anchored_block = receipt.tx_hash, receipt.block_number
        _done(item, receipt.tx_hash)
        report.attested += 1


def _adopt_from_mirror(session: Session, item: OutboxItem, row: Attestation, report: RelayReport) -> None:
    """An attestation already on chain (sent before a crash, or by another relayer): take its
    transaction from the indexed mirror; until the indexer has it, the item stays pending."""
    found = session.execute(
        select(ChainAttestation.tx_hash, ChainAttestation.block_number).where(ChainAttestation.uid == row.uid).limit(1)
    ).first()
    if found is None:
        return
    row.anchored_tx, row.anchored_block = found
    _done(item, found[0])
    report.already_on_chain += 1


def _relay_one(chain: Chain, item: OutboxItem, row: Attestation, report: RelayReport) -> None:
    try:
        receipt = chain.attestations.attest_by_sig(_signed(row))
    except ContractReverted as exc:
        if exc.error_name == "AttestationRegistryAttestationExists":
            return  # sent by another relayer meanwhile: adopted from the mirror on a later round
        item.status = "failed"
        _record_failure(item, exc)
        report.failed += 1
        log.warning("attestation %s refused by the chain: %s", row.uid, exc)
        return
    except (ChainUnavailable, TransactionTimeout) as exc:
        _record_failure(item, exc)
        report.outage = exc
        return
    report.transactions += 1
    row.anchored_tx, row.anchored_block = receipt.tx_hash, receipt.block_number
    _done(item, receipt.tx_hash)
    report.attested += 1


def _relay_revocation(session: Session, chain: Chain, item: OutboxItem, report: RelayReport) -> None:
    row = session.get(Attestation, item.ref)
    assert row is not None and row.revoke_signature is not None and row.revoke_deadline is not None
    if row.anchored_tx is None:
        return  # the attestation itself is not on chain yet
    uid = _hex32(row.uid, "uid")
    if chain.attestations.get_attestation(uid).revoked_at:
        tx = session.scalar(select(ChainRevocation.tx_hash).where(ChainRevocation.uid == row.uid).limit(1))
        if tx is not None:
            row.revoked_tx = tx
            _done(item, tx)
        return
    try:
        receipt = chain.attestations.revoke_by_sig(
            uid,
            issuer=row.issuer_address,
            deadline=row.revoke_deadline,
            signature=bytes.fromhex(row.revoke_signature[2:]),
        )
    except ContractReverted as exc:
        item.status = "failed"
        _record_failure(item, exc)
        report.failed += 1
        return
    except (ChainUnavailable, TransactionTimeout) as exc:
        _record_failure(item, exc)
        report.outage = exc
        return
    row.revoked_tx = receipt.tx_hash
    _done(item, receipt.tx_hash)
    report.revoked += 1
    report.transactions += 1
