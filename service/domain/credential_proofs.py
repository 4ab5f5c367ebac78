"""Verification of attestations' W3C Verifiable Credentials with only the chain
(docs/proof-format.md §8): the issuer's EIP-712 `Attest` signature over the message rebuilt from
the credential's claims, its uid, each shown field against the signed data hash, the
attestation on the AttestationRegistry the verifier pins, its revocation and expiry — and the
credential's vocabulary, shared with service/domain/credentials.py, which issues them.

Pure: no database and no web3 (the chain is read through an `AttestationReader` the caller
hands in), so a verifier loads only what it checks with."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from eth_utils import is_address

from service.addresses import checksum_address
from service.chain import typed_data
from service.chain.structs import AttestationRecord, AttestationRequest
from service.domain.commitments import FieldDisclosure, RecordCommitment, verify_disclosure
from service.domain.proofs import ViewVerdict
from service.domain.subjects import subject_hash
from service.errors import ChainUnavailable, MalformedInput

PROOF_TYPE = "EthereumEip712Signature2021"
STATUS_TYPE = "EthereumAttestationRegistryStatus"
SCHEMA_TYPE = "EthereumAttestationRegistrySchema"
BASE_TYPE = "ConstellateAttestationCredential"
UNPROVEN = (
    "name",
    "type",
    "issuer.name",
    "validFrom",
    "credentialSchema.id",
    "credentialSchema.definition",
    "proof.created",
)
"""What the service adds for readers and the chain does not prove (`type`: its schema-specific
third entry; the first two are checked)."""
MEMBERS: dict[str, frozenset[str]] = {
    "": frozenset(
        {"@context", "id", "type", "name", "issuer", "validFrom", "validUntil", "credentialSubject"}
        | {"credentialSchema", "credentialStatus", "attestation", "proof"}
    ),
    "issuer": frozenset({"id", "name"}),
    "credentialSubject": frozenset({"id", "body", "evidenceDocuments"}),
    "credentialSchema": frozenset({"id", "type", "uid", "definition"}),
    "credentialStatus": frozenset({"id", "type", "chainId", "registry", "uid"}),
    "attestation": frozenset(
        {"constellation", "dataHash", "refUID", "revocable", "deadline", "withheld", "disclosures"}
    ),
    "proof": frozenset({"type", "created", "proofPurpose", "verificationMethod", "proofValue", "eip712"}),
}
"""Every member a credential may have: anything else would be a claim nothing proves."""
_WITHHELD = re.compile(r"^(body/[^/]+|evidence)$")


def did_of(chain_id: int, address: str) -> str:
    """The issuer's signing account as a did:pkh (CAIP-10 on an EIP-155 chain)."""
    return f"did:pkh:eip155:{chain_id}:{checksum_address(address)}"


def credential_id(uid: str) -> str:
    return f"urn:constellate:attestation:{uid}"


def credential_time(moment: datetime) -> str:
    """A credential's date-time: UTC, written with `Z`."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def credential_time_of(seconds: int) -> str:
    """A chain's Unix time as a credential's date-time."""
    return credential_time(datetime.fromtimestamp(seconds, UTC))


class AttestationReader(Protocol):
    """What a verifier reads: the chain it is on, the registry it pins, one attestation
    (service/chain/proof_reader.py's readers implement it over JSON-RPC)."""

    @property
    def address(self) -> str: ...

    @property
    def chain_id(self) -> int: ...

    def get_attestation(self, uid: bytes) -> AttestationRecord: ...

    def schema_definition(self, uid: bytes) -> str | None: ...


class MalformedCredential(MalformedInput):
    """The document is not a credential this service issues."""


_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_DID = re.compile(r"^did:pkh:eip155:(?P<chain>[0-9]+):(?P<address>0x[0-9a-fA-F]{40})$")


def _hex32(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not _HEX32.match(value):
        raise MalformedCredential(f"{name} is not 0x and 32 bytes of hex")
    return bytes.fromhex(value[2:])


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedCredential(f"{name} is not an object")
    return value


def _seconds(value: Any) -> int:
    """validUntil as the signed `expiresAt` (0: none); a fraction of a second cannot be signed."""
    if value is None:
        return 0
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise MalformedCredential(f"validUntil {value!r} is not a date-time") from exc
    if moment.tzinfo is None:
        raise MalformedCredential("validUntil has no time zone")
    seconds = moment.timestamp()
    return int(seconds) if seconds == int(seconds) else -1


class _Parsed:
    """The parts of a credential a verifier rebuilds the signed request from."""

    def __init__(self, credential: Any) -> None:
        document = _object(credential, "a credential")
        try:
            issuer = document["issuer"]
            match = _DID.match(issuer["id"] if isinstance(issuer, Mapping) else str(issuer))
            if match is None:
                raise MalformedCredential("issuer is not a did:pkh:eip155 account")
            self.issuer_chain, self.issuer = int(match["chain"]), checksum_address(match["address"])
            subject = _object(document["credentialSubject"], "credentialSubject")
            self.subject = str(subject["id"])
            self.body = dict(_object(subject.get("body", {}), "credentialSubject.body"))
            self.evidence = subject.get("evidenceDocuments")
            status = _object(document["credentialStatus"], "credentialStatus")
            self.uid = _hex32(status["uid"], "credentialStatus.uid")
            self.status_chain, self.status_registry = status["chainId"], str(status["registry"])
            block = _object(document["attestation"], "attestation")
            self.withheld = [str(name) for name in block.get("withheld") or []]
            self.data_hash = _hex32(block["dataHash"], "attestation.dataHash")
            self.disclosures = {
                str(path): FieldDisclosure(
                    str(path),
                    None,
                    _salt(entry["salt"]),
                    [_hex32(p, f"the proof of {path}") for p in entry["proof"]],
                )
                for path, entry in _object(block["disclosures"], "attestation.disclosures").items()
            }
            self.request = AttestationRequest(
                schema=_hex32(_object(document["credentialSchema"], "credentialSchema")["uid"], "credentialSchema.uid"),
                constellation=_hex32(block["constellation"], "attestation.constellation"),
                subject=subject_hash(self.subject),
                data_hash=self.data_hash,
                expires_at=_seconds(document.get("validUntil")),
                ref_uid=_hex32(block["refUID"], "attestation.refUID"),
                revocable=block["revocable"] is True,
            )
            self.deadline = block["deadline"]
            if not isinstance(self.deadline, int) or isinstance(self.deadline, bool) or self.deadline < 0:
                raise MalformedCredential("attestation.deadline is not a timestamp")
            proof = _object(document["proof"], "proof")
            self.proof_type = proof.get("type")
            self.signature = bytes.fromhex(str(proof["proofValue"]).removeprefix("0x"))
            self.eip712 = _object(proof["eip712"], "proof.eip712")
            self.domain = _object(self.eip712["domain"], "proof.eip712.domain")
            self.verification_method = proof.get("verificationMethod")
            self.id = document.get("id")
            self.unexpected = _unexpected_members(document)
            if not all(_WITHHELD.match(name) for name in self.withheld):
                raise MalformedCredential("attestation.withheld names something other than body/<field> or evidence")
        except MalformedCredential:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise MalformedCredential(f"the credential is malformed: {exc!r}") from None

    def value_of(self, path: str) -> tuple[bool, Any]:
        """Whether the credential shows committed field `path`, and its value."""
        if path == "evidence":
            return self.evidence is not None, self.evidence
        key = path.removeprefix("body/")
        return (path.startswith("body/") and key in self.body), self.body.get(key)


def _unexpected_members(document: Mapping[str, Any]) -> list[str]:
    """Members outside those a credential has (claims nothing would prove), and a `type` that
    is not a Constellate attestation credential's."""
    found = [key for key in document if key not in MEMBERS[""]]
    for outer, allowed in MEMBERS.items():
        value = document.get(outer) if outer else None
        if isinstance(value, Mapping):
            found += [f"{outer}.{key}" for key in value if key not in allowed]
    kinds = document.get("type")
    if not (
        isinstance(kinds, list)
        and len(kinds) == 3
        and kinds[:2] == ["VerifiableCredential", BASE_TYPE]
        and isinstance(kinds[2], str)
        and kinds[2].endswith("Credential")
    ):
        found.append("type")
    return found


def _salt(value: Any) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{32}", value):
        raise MalformedCredential("a disclosure's salt is not 0x and 16 bytes of hex")
    return bytes.fromhex(value[2:])


def _names(credential: Mapping[str, Any], dotted: str) -> bool:
    outer, _, inner = dotted.partition(".")
    value = credential.get(outer)
    return value is not None and (not inner or (isinstance(value, Mapping) and inner in value))


def _check_signature(parsed: _Parsed, chain_id: int, registry: str) -> tuple[bool, str]:
    did = did_of(chain_id, parsed.issuer)
    if parsed.proof_type != PROOF_TYPE:
        return False, f"the proof is of type {parsed.proof_type!r}, not {PROOF_TYPE}"
    if parsed.issuer_chain != chain_id or parsed.verification_method != f"{did}#blockchainAccountId":
        return False, f"the issuer and the proof's verification method must be {did}, on the registry's chain"
    if parsed.request.expires_at < 0:
        return False, "validUntil holds a fraction of a second: no signed expiresAt can say that"
    typed = typed_data.attest_message(
        parsed.request, parsed.deadline, chain_id=chain_id, registry=checksum_address(registry)
    )
    eip712 = parsed.eip712
    if eip712.get("primaryType") != "Attest" or eip712.get("types") != typed["types"]:
        return False, "the proof's EIP-712 types are not the AttestationRegistry's Attest message"
    domain = {**parsed.domain}
    if isinstance(domain.get("verifyingContract"), str):
        domain["verifyingContract"] = domain["verifyingContract"].lower()
    if domain != {**typed["domain"], "verifyingContract": typed["domain"]["verifyingContract"].lower()}:
        return (
            False,
            f"the proof's EIP-712 domain is not that of the AttestationRegistry {registry} on chain {chain_id}",
        )
    if len(parsed.signature) != 65:
        return False, f"the proof's signature is {len(parsed.signature)} bytes, not 65"
    try:
        signer = checksum_address(typed_data.recover(typed, parsed.signature))
    except (ValueError, TypeError, OverflowError) as exc:
        return False, f"the proof's signature does not recover: {exc}"
    if signer != parsed.issuer:
        return False, f"the Attest message rebuilt from the credential is signed by {signer}, not by the issuer {did}"
    return True, f"the EIP-712 Attest message rebuilt from the credential recovers the issuer {did}"


def _check_fields(parsed: _Parsed) -> tuple[bool, str]:
    shown = {f"body/{key}" for key in parsed.body} | ({"evidence"} if parsed.evidence is not None else set())
    bad: list[str] = []
    values: dict[str, Any] = {}
    for path, item in parsed.disclosures.items():
        present, value = parsed.value_of(path)
        values[path] = value
        if not present or not verify_disclosure(parsed.data_hash, FieldDisclosure(path, value, item.salt, item.proof)):
            bad.append(path)
    bad += sorted(shown - set(parsed.disclosures))  # shown, but without a proof
    bad += sorted(shown & set(parsed.withheld))
    bad += parsed.unexpected
    if bad:
        return False, f"fields that do not prove into the data hash: {sorted(set(bad))}"
    if parsed.withheld:
        return True, (
            f"{len(shown)} shown fields prove into data hash 0x{parsed.data_hash.hex()}; "
            f"withheld: {sorted(parsed.withheld)}"
        )
    if not parsed.disclosures:
        return False, "the credential discloses no field"
    salts = {path: item.salt for path, item in parsed.disclosures.items()}
    complete = RecordCommitment.commit(values, salts).root == parsed.data_hash
    return complete, (
        f"all {len(shown)} committed fields shown; they hash into data hash 0x{parsed.data_hash.hex()}"
        if complete
        else "the credential names nothing withheld, yet its fields are not all the committed ones"
    )


def _check_chain(
    parsed: _Parsed, record: AttestationRecord, reader: AttestationReader, now: datetime
) -> tuple[tuple[bool | None, str], tuple[bool | None, str]]:
    if not record.issued_at:
        return (None, f"uid 0x{parsed.uid.hex()} is not on the AttestationRegistry {reader.address} (yet)"), (
            None,
            "not on chain yet",
        )
    request = parsed.request
    expected = {
        "schema": request.schema,
        "constellation": request.constellation,
        "subject": request.subject,
        "dataHash": request.data_hash,
        "refUID": request.ref_uid,
        "issuer": parsed.issuer,
        "expiresAt": request.expires_at,
        "revocable": request.revocable,
    }
    found = {
        "schema": record.schema,
        "constellation": record.constellation,
        "subject": record.subject,
        "dataHash": record.data_hash,
        "refUID": record.ref_uid,
        "issuer": checksum_address(record.issuer),
        "expiresAt": record.expires_at,
        "revocable": record.revocable,
    }
    differ = sorted(name for name in expected if expected[name] != found[name])
    named = (parsed.status_chain, str(parsed.status_registry).lower())
    if named != (reader.chain_id, reader.address.lower()):
        differ.append(f"registry (the credential's status names {named[1]} on chain {named[0]})")
    on_chain = (
        not differ,
        f"AttestationRegistry {reader.address} on chain {reader.chain_id} holds uid 0x{parsed.uid.hex()}, "
        f"issued at {credential_time_of(record.issued_at)}"
        + (f", with another {', '.join(differ)} than the credential's" if differ else ", as the credential states"),
    )
    if record.revoked_at:
        status: tuple[bool | None, str] = (False, f"revoked on chain at {credential_time_of(record.revoked_at)}")
    elif record.expires_at and record.expires_at <= now.timestamp():
        status = (False, f"expired at {credential_time_of(record.expires_at)}")
    else:
        until = f"valid until {credential_time_of(record.expires_at)}" if record.expires_at else "no expiry"
        status = (True, f"not revoked; {until}")
    return on_chain, status


def verify_credential(credential: Any, reader: AttestationReader | None, *, now: datetime | None = None) -> ViewVerdict:
    """Checks a credential — full or redacted — with only the chain: `signature` (the Attest
    message rebuilt from the credential recovers the issuer, under the pinned registry's
    domain), `uid` (the request's uid by that issuer is the credential's), `disclosed_fields`
    (each shown field proves into the data hash; with nothing withheld, they are all of them),
    `on_chain` (the registry holds that attestation) and `status` (not revoked, not expired).
    `reader` None: everything but the chain, against the registry the credential names.
    Raises MalformedCredential for a document that is not such a credential."""
    now = now or datetime.now(UTC)
    parsed = _Parsed(credential)
    verdict = ViewVerdict(ref="0x" + parsed.uid.hex(), withheld=parsed.withheld)
    verdict.unproven = [name for name in UNPROVEN if _names(credential, name)]
    if parsed.withheld:
        verdict.unproven.append("attestation.withheld")
    chain_id, registry = parsed.status_chain, parsed.status_registry
    unreadable = "no chain to read the registry from"
    pinned_chain_unknown = False
    if reader is not None:
        registry = reader.address  # the pinned registry, never the one the credential names
        try:
            chain_id = reader.chain_id
        except ChainUnavailable as exc:
            verdict.chain_unavailable = pinned_chain_unknown = True
            reader, unreadable = None, str(exc)
    if not isinstance(chain_id, int) or not is_address(registry):
        raise MalformedCredential("credentialStatus names no chain id and registry address")
    signed, detail = _check_signature(parsed, chain_id, registry)
    if signed and pinned_chain_unknown:
        verdict.add("signature", None, f"the pinned registry's chain id cannot be read ({unreadable})")
    else:
        verdict.add("signature", signed, detail)
    uid_ok = parsed.request.uid(parsed.issuer) == parsed.uid and parsed.id == credential_id("0x" + parsed.uid.hex())
    verdict.add(
        "uid",
        uid_ok,
        "the uid is keccak256(abi.encode(request, issuer)) of the signed request"
        if uid_ok
        else "the credential's uid is not that of the request it states, by its issuer",
    )
    verdict.add("disclosed_fields", *_check_fields(parsed))
    if reader is None:
        verdict.chain_unavailable = True
        verdict.add("on_chain", None, unreadable)
        verdict.add("status", None, unreadable)
        return verdict
    try:
        record = reader.get_attestation(parsed.uid)
        on_chain, status = _check_chain(parsed, record, reader, now)
    except ChainUnavailable as exc:
        verdict.chain_unavailable = True
        verdict.add("on_chain", None, str(exc))
        verdict.add("status", None, str(exc))
        return verdict
    verdict.add("on_chain", *on_chain)
    verdict.add("status", *status)
    return verdict


__all__ = [
    "BASE_TYPE",
    "MEMBERS",
    "PROOF_TYPE",
    "SCHEMA_TYPE",
    "STATUS_TYPE",
    "UNPROVEN",
    "AttestationReader",
    "MalformedCredential",
    "credential_id",
    "credential_time",
    "credential_time_of",
    "did_of",
    "verify_credential",
]
