"""Field-by-field commitments: each field of a record is hashed with its own random salt, and
the record's commitment root is the Merkle root of those field hashes. Disclosing a field with
its salt and proof lets anyone check it against the root without learning the other fields;
the salts make low-entropy values (a country, a yes/no) impossible to guess from the hashes."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

from service.domain.merkle import MerkleTree, verify_proof
from service.errors import MalformedInput
from service.hashing import keccak256, keccak256_text

SALT_BYTES = 16
SEED_BYTES = 32
ZERO32 = bytes(32)


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 JSON Canonicalization Scheme (the `rfc8785` package): members sorted by
    UTF-16 code units, numbers as ECMAScript writes them (12.0 is 12), so a verifier in any
    language reproduces the bytes. NaN, infinities and integers beyond ±(2^53 - 1) have no
    portable form: MalformedInput."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.IntegerDomainError:
        raise MalformedInput(
            "a number is an integer beyond ±(2^53 - 1): no JSON reader outside Python keeps it exact "
            "(send it as a string)"
        ) from None
    except rfc8785.FloatDomainError:
        raise MalformedInput("a value is not JSON (NaN and Infinity have no JSON form)") from None
    except (rfc8785.CanonicalizationError, UnicodeEncodeError) as exc:  # e.g. a lone surrogate in a key
        raise MalformedInput(f"a value is not JSON: {exc}") from None


def utf16_order(names: Iterable[str]) -> list[str]:
    """`names` sorted by their UTF-16 code units (RFC 8785's order, JavaScript's default sort)."""
    return sorted(names, key=lambda name: name.encode("utf-16-be"))


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
        order = utf16_order(fields)
        return cls({p: fields[p] for p in order}, {p: salts[p] for p in order})

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


def derived_salts(seed: bytes, event_hash: bytes, paths: Iterable[str]) -> dict[str, bytes]:
    """The salts of one event of a capture: salt(path) = keccak256(seed ‖ eventHash ‖ utf8(path))[:16].
    The seed is the capture's secret (the capturer's and the service's), so a self-custody
    member computes its record roots — and signs them — before it sends anything."""
    if len(seed) != SEED_BYTES or len(event_hash) != 32:
        raise ValueError("a capture seed and an event hash are 32 bytes each")
    prefix = seed + event_hash
    return {path: keccak256(prefix + path.encode())[:SALT_BYTES] for path in paths}


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


def capture_tree(record_leaves: Sequence[bytes]) -> MerkleTree:
    """The Merkle tree of a capture's record leaves, in document order: its root is what the
    member signs (EIP-712 `Capture(constellation, captureRoot, recordCount)`)."""
    return MerkleTree(record_leaves)


ITEM_STATE = keccak256_text("constellate:item-state:v1")
"""The tag of an item-state leaf (docs/proof-format.md §7)."""


def item_hash(item: str) -> bytes:
    """keccak256 of the item's identifier as journeys write it (canonical Digital Link, or URN)."""
    return keccak256(item.encode())


def chain_step(head: bytes, record_leaf: bytes) -> bytes:
    """The next head of an item's record chain: keccak256(head ‖ recordLeaf)."""
    return keccak256(head + record_leaf)


def chain_head(record_leaves: Iterable[bytes]) -> bytes:
    head = ZERO32
    for leaf in record_leaves:
        head = chain_step(head, leaf)
    return head


def item_state_leaf(constellation: str, item_key: bytes, count: int, head: bytes) -> bytes:
    """keccak256(abi.encode(ITEM_STATE, constellation, keccak256(item), count, head)): 160 bytes
    of preimage, never a record leaf (96) nor an inner node (64)."""
    cid = bytes.fromhex(constellation.removeprefix("0x"))
    if len(cid) != 32 or len(item_key) != 32 or len(head) != 32 or not 0 <= count < 2**256:
        raise ValueError("an item state is a 32-byte constellation, item hash and head, and a count")
    return keccak256(ITEM_STATE + cid + item_key + count.to_bytes(32, "big") + head)
