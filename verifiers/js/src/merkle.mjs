/** Merkle trees of docs/proof-format.md §5: leaves of 32 bytes, a parent is keccak256 of the
 * sorted pair (OpenZeppelin's MerkleProof), an odd node is carried up unchanged, a one-leaf
 * tree's root is its leaf. A proof is the siblings from the leaf upwards. Hashes are 0x hex. */

import { keccak256 } from "ethers";

import { hash32Into } from "./hex.mjs";

/** keccak256(min(a, b) ‖ max(a, b)), the pair ordered as unsigned big-endian numbers. */
export function hashPair(a, b) {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const pair = new Uint8Array(64);
  hash32Into(pair, 0, x < y ? x : y);
  hash32Into(pair, 32, x < y ? y : x);
  return keccak256(pair);
}

/** The levels of the tree over `leaves`, leaves first and the root last. */
export function merkleLevels(leaves) {
  if (leaves.length === 0) throw new RangeError("a Merkle tree needs at least one leaf");
  const levels = [leaves.map((leaf) => leaf.toLowerCase())];
  while (levels.at(-1).length > 1) {
    const level = levels.at(-1);
    const parents = [];
    for (let i = 0; i + 1 < level.length; i += 2) parents.push(hashPair(level[i], level[i + 1]));
    if (level.length % 2) parents.push(level.at(-1));
    levels.push(parents);
  }
  return levels;
}

export function merkleRoot(leaves) {
  return merkleLevels(leaves).at(-1)[0];
}

/** The siblings proving leaf `index` (used by the tests: a verifier only checks proofs). */
export function merkleProof(leaves, index) {
  const levels = merkleLevels(leaves);
  if (!(index >= 0 && index < leaves.length)) throw new RangeError(`leaf index ${index} is outside the tree`);
  const proof = [];
  for (const level of levels.slice(0, -1)) {
    const sibling = index ^ 1;
    if (sibling < level.length) proof.push(level[sibling]);
    index = Math.floor(index / 2);
  }
  return proof;
}

/** Whether `proof` proves `leaf` under `root`: membership, never position (§5). */
export function verifyProof(root, leaf, proof) {
  let node = leaf.toLowerCase();
  for (const sibling of proof) node = hashPair(node, sibling);
  return node === root.toLowerCase();
}
