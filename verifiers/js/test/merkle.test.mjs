import assert from "node:assert/strict";
import { test } from "node:test";

import { concat, keccak256 } from "ethers";

import { hashPair, merkleProof, merkleRoot, verifyProof } from "../src/merkle.mjs";

const leaf = (n) => keccak256(new Uint8Array([n]));

test("a one-leaf tree's root is its leaf, with an empty proof", () => {
  assert.equal(merkleRoot([leaf(1)]), leaf(1));
  assert.deepEqual(merkleProof([leaf(1)], 0), []);
  assert.ok(verifyProof(leaf(1), leaf(1), []));
});

test("a parent hashes the pair sorted as unsigned numbers", () => {
  const [a, b] = [leaf(1), leaf(2)].sort();
  assert.equal(hashPair(a, b), keccak256(concat([a, b])));
  assert.equal(hashPair(b, a), keccak256(concat([a, b])));
  assert.equal(hashPair(b.toUpperCase().replace("0X", "0x"), a), keccak256(concat([a, b])));
});

test("an odd node is carried up unchanged: three leaves", () => {
  const [x, y, z] = [leaf(1), leaf(2), leaf(3)];
  assert.equal(merkleRoot([x, y, z]), hashPair(hashPair(x, y), z));
  assert.deepEqual(merkleProof([x, y, z], 2), [hashPair(x, y)]);
});

test("every leaf of trees of 1 to 17 leaves proves, and a changed sibling does not", () => {
  for (let n = 1; n <= 17; n++) {
    const leaves = Array.from({ length: n }, (_, i) => leaf(100 + i));
    const root = merkleRoot(leaves);
    leaves.forEach((l, i) => {
      const proof = merkleProof(leaves, i);
      assert.ok(verifyProof(root, l, proof), `${n}:${i}`);
      if (proof.length) assert.ok(!verifyProof(root, l, [leaf(0), ...proof.slice(1)]));
    });
    assert.ok(!verifyProof(root, leaf(0), merkleProof(leaves, 0)));
  }
});

test("a proof proves membership, not position", () => {
  const leaves = [leaf(1), leaf(2)];
  assert.deepEqual(merkleProof(leaves, 0), [leaf(2)]);
  assert.ok(verifyProof(merkleRoot(leaves), leaf(2), [leaf(1)]));
});
