from __future__ import annotations

import pytest
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from service.domain.merkle import MerkleTree, hash_pair, verify_proof

leaves32 = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70)


@given(leaves32)
def test_every_leaf_proves_under_the_root(leaves: list[bytes]) -> None:
    tree = MerkleTree(leaves)
    for index, leaf in enumerate(leaves):
        assert verify_proof(tree.root, leaf, tree.proof(index))


@given(leaves32, st.binary(min_size=32, max_size=32))
def test_a_foreign_leaf_does_not_prove(leaves: list[bytes], other: bytes) -> None:
    tree = MerkleTree(leaves)
    if other not in leaves and len(leaves) > 1:
        assert not verify_proof(tree.root, other, tree.proof(0))


def test_pairs_are_sorted_before_hashing() -> None:
    a, b = b"\x01" * 32, b"\x02" * 32
    assert hash_pair(a, b) == hash_pair(b, a) == keccak(a + b)
    assert MerkleTree([b, a]).root == keccak(a + b)


def test_single_leaf_is_its_own_root() -> None:
    leaf = keccak(b"only")
    tree = MerkleTree([leaf])
    assert tree.root == leaf and tree.proof(0) == []


@pytest.mark.parametrize("bad", [[], [b"short"]])
def test_rejects_empty_or_malformed_leaves(bad: list[bytes]) -> None:
    with pytest.raises(ValueError):
        MerkleTree(bad)
