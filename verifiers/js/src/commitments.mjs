/** The preimages of docs/proof-format.md §3, §4 and §7: field leaves, record roots, record
 * leaves, item record chains and item-state leaves. Every hash is 0x lowercase hex. */

import { AbiCoder, concat, getBytes, keccak256, toUtf8Bytes } from "ethers";

import { hash32Into } from "./hex.mjs";
import { canonical, utf16Order } from "./jcs.mjs";
import { merkleRoot } from "./merkle.mjs";

export const SALT_BYTES = 16;
export const HASH_FIELD = "#eventHash";
export const FIELDS_FIELD = "#fields";
export const ZERO32 = "0x" + "00".repeat(32);
export const ITEM_STATE = keccak256(toUtf8Bytes("constellate:item-state:v1"));
const abi = AbiCoder.defaultAbiCoder();

/** keccak256(salt ‖ keccak256(utf8(path)) ‖ keccak256(canonical(value))). */
export function fieldLeaf(path, value, salt) {
  const raw = getBytes(salt);
  if (raw.length !== SALT_BYTES) throw new RangeError(`a field salt is ${SALT_BYTES} bytes`);
  return keccak256(concat([raw, keccak256(toUtf8Bytes(path)), keccak256(canonical(value))]));
}

/** The Merkle root of the field leaves of `fields` ({path: {value, salt}}), in UTF-16 order of path. */
export function recordRoot(fields) {
  const paths = utf16Order(Object.keys(fields));
  return merkleRoot(paths.map((path) => fieldLeaf(path, fields[path].value, fields[path].salt)));
}

/** keccak256(abi.encode(bytes32 recordRoot, address signer, bytes32 constellation)): 96 bytes. */
export function recordLeaf(root, signer, constellation) {
  return keccak256(abi.encode(["bytes32", "address", "bytes32"], [root, signer, constellation]));
}

/** salt(path) = first 16 bytes of keccak256(seed ‖ eventHash ‖ utf8(path)) (§4). */
export function derivedSalt(seed, eventHash, path) {
  const digest = keccak256(concat([seed, eventHash, toUtf8Bytes(path)]));
  return digest.slice(0, 2 + SALT_BYTES * 2);
}

/** head₀ = 0x00×32, headₖ = keccak256(headₖ₋₁ ‖ recordLeafₖ). */
export function chainHead(leaves) {
  let head = ZERO32;
  const pair = new Uint8Array(64);
  for (const leaf of leaves) {
    hash32Into(pair, 0, head);
    hash32Into(pair, 32, leaf.toLowerCase());
    head = keccak256(pair);
  }
  return head;
}

/** keccak256(abi.encode(ITEM_STATE, C, keccak256(utf8(I)), uint256 count, head)): 160 bytes. */
export function itemStateLeaf(constellation, item, count, head) {
  return keccak256(
    abi.encode(
      ["bytes32", "bytes32", "bytes32", "uint256", "bytes32"],
      [ITEM_STATE, constellation, keccak256(toUtf8Bytes(item)), BigInt(count), head],
    ),
  );
}

/** keccak256(utf8(s)) (a subject's hash, an item's key). */
export function textHash(text) {
  return keccak256(toUtf8Bytes(text));
}

