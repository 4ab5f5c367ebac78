"""Field-by-field commitments: each field of a record is hashed with its own random salt, and
the record's commitment root is the Merkle root of those field hashes. Disclosing a field with
its salt and proof lets anyone check it against the root without learning the other fields;
the salts make low-entropy values (a country, a yes/no) impossible to guess from the hashes."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from service.domain.merkle import MerkleTree, verify_proof
from service.errors import MalformedInput
from service.hashing import keccak256, keccak256_text

SALT_BYTES = 16


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, UTF-8. NaN and infinities are no JSON (a
    hash over them could never be recomputed from what is stored): MalformedInput."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise MalformedInput(f"a value is not JSON: {exc} (NaN and Infinity have no JSON form)") from None
    return text.encode()


def field_leaf(path: str, value: Any, salt: bytes) -> bytes:
    """keccak256(salt ‖ keccak256(path) ‖ keccak256(canonical value))."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a field salt is {SALT_BYTES} bytes")
    return keccak256(salt + keccak256_text(path) + keccak256(canonical_json(value)))


@dataclass(frozen=True)
class FieldDisclosure:
    """One disclosed field: enough to check it against the record's commitment root."""

    path: str
    value: Any
    salt: bytes
    proof: list[bytes]


@dataclass(frozen=True)
class RecordCommitment:
    """The committed fields of one record, in path order, with their salts."""

    fields: dict[str, Any]
    salts: dict[str, bytes]

    @classmethod
    def commit(cls, fields: dict[str, Any], salts: dict[str, bytes] | None = None) -> RecordCommitment:
        """Commits `fields` (top-level name -> value), drawing fresh salts unless given."""
        if not fields:
            raise ValueError("a record commitment needs at least one field")
        salts = dict(salts or {})
        missing = [path for path in fields if path not in salts]
        fresh = secrets.token_bytes(SALT_BYTES * len(missing))  # one system call for all of them
        for index, path in enumerate(missing):
            salts[path] = fresh[index * SALT_BYTES : (index + 1) * SALT_BYTES]
        return cls(dict(sorted(fields.items())), {p: salts[p] for p in sorted(fields)})

    @property
    def paths(self) -> list[str]:
        return list(self.fields)

    def _tree(self) -> MerkleTree:
        return MerkleTree([field_leaf(p, v, self.salts[p]) for p, v in self.fields.items()])

    @property
    def root(self) -> bytes:
        return self._tree().root

    def disclose(self, paths: list[str]) -> list[FieldDisclosure]:
        tree = self._tree()
        index = {path: i for i, path in enumerate(self.fields)}
        unknown = [p for p in paths if p not in index]
        if unknown:
            raise KeyError(f"no committed fields {unknown}")
        return [FieldDisclosure(p, self.fields[p], self.salts[p], tree.proof(index[p])) for p in paths]


def verify_disclosure(root: bytes, disclosure: FieldDisclosure) -> bool:
    """Whether a disclosed field (value, salt, proof) is committed under `root`."""
    try:
        leaf = field_leaf(disclosure.path, disclosure.value, disclosure.salt)
    except ValueError:
        return False
    return verify_proof(root, leaf, disclosure.proof)


HASH_FIELD = "#eventHash"
"""The committed field holding an event's CBV 2.0 hash. The hash digests every field of the
event, so it is disclosed only to readers who see all of them: an unsalted digest beside a
withheld low-entropy field would let anyone guess that field."""


FIELDS_FIELD = "#fields"
"""The committed list of an event's field names: disclosed in every view, so a view cannot
pass for more complete than it is (its withheld list is checked against it)."""


def event_leaf(record_root: bytes, signer: str, constellation: str) -> bytes:
    """The anchored leaf of one event record: keccak256(abi.encode(bytes32 recordRoot, address
    signer, bytes32 constellation)). The event hash is inside the record root as a salted field,
    so the leaf reveals nothing about withheld fields; 96 bytes of preimage, so a leaf can never
    pass for an inner node."""
    address = bytes.fromhex(signer.removeprefix("0x"))
    cid = bytes.fromhex(constellation.removeprefix("0x"))
    if len(record_root) != 32 or len(address) != 20 or len(cid) != 32:
        raise ValueError("a leaf is made of a 32-byte root, a 20-byte address and a 32-byte constellation id")
    return keccak256(record_root + bytes(12) + address + cid)
