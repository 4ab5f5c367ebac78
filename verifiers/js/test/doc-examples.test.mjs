/** The worked examples of docs/proof-format.md §10, recomputed by the JavaScript verifier from
 * the values the doc states: canonical JSON, salts, field leaves, record roots and leaves, the
 * capture root and its signature, an item chain, batch trees and the RootAnchored topic. The
 * Python side regenerates the same block (tests/unit/test_proof_format_doc.py): both are held to
 * the one text. */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { getAddress, verifyTypedData } from "ethers";

import { ROOT_ANCHORED } from "../src/chain.mjs";
import { ITEM_STATE, chainHead, derivedSalt, fieldLeaf, itemStateLeaf, recordLeaf } from "../src/commitments.mjs";
import { canonicalId } from "../src/identifiers.mjs";
import { jcs } from "../src/jcs.mjs";
import { merkleLevels, merkleProof, merkleRoot, verifyProof } from "../src/merkle.mjs";
import { CAPTURE_TYPES } from "../src/record.mjs";

const doc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "docs", "proof-format.md"), "utf8");
const examples = doc.slice(doc.indexOf("<!-- examples:begin -->"), doc.indexOf("<!-- examples:end -->"));
const section = (title) => examples.slice(examples.indexOf(`### ${title}`)).split("\n### ")[0];
const fixture = (label) => new RegExp(`\\| ${label}[^|]*\\| \`([^\`]+)\` \\|`).exec(section("10.1"))[1];
const seed = fixture("capture seed");
const signer = fixture("signer \\(");
const constellation = fixture("constellation \\(");
const chainId = Number(fixture("`chainId`"));
const anchor = fixture("`provenanceAnchor`");

/** The rows of a field table: [path, canonical text, salt, fieldLeaf]. */
function rows(text) {
  return [...text.matchAll(/^\| \d+ \| `([^`]+)` \| `(.+)` \| `(0x[0-9a-f]{32})` \| `(0x[0-9a-f]{64})` \|$/gm)].map((m) => m.slice(1));
}

function recordOf(title, event) {
  const text = section(title);
  const table = rows(text);
  assert.ok(table.length > 5, `the table of ${title}`);
  const eventHash = JSON.parse(table.find(([path]) => path === "#eventHash")[1]);
  const leaves = table.map(([path, canonicalText, salt, leaf]) => {
    const value = JSON.parse(canonicalText);
    assert.equal(jcs(value), canonicalText, `${event}: canonical(${path})`);
    assert.equal(derivedSalt(seed, "0x" + eventHash, path), salt, `${event}: salt(${path})`);
    assert.equal(fieldLeaf(path, value, salt), leaf, `${event}: fieldLeaf(${path})`);
    return leaf;
  });
  assert.deepEqual(table.map(([path]) => path), [...table.map(([path]) => path)].sort(), `${event}: UTF-16 order`);
  const root = new RegExp(`record root of ${event} = \`(0x[0-9a-f]{64})\``).exec(text)[1];
  assert.equal(merkleRoot(leaves), root);
  return { leaves, root };
}

test("§10.2-§10.4: canonical values, derived salts, field leaves and record roots", () => {
  const one = recordOf("10.3", "event 1");
  recordOf("10.4", "event 2");
  const levels = merkleLevels(one.leaves);
  const drawn = [...section("10.3").matchAll(/^level \d+ \((\d+) nodes?\)$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(levels.map((l) => l.length), drawn);
  const disclosure = JSON.parse(/```json\n([\s\S]+?)\n```/.exec(section("10.3"))[1]);
  assert.deepEqual(merkleProof(one.leaves, 10), disclosure.proof);
  assert.ok(verifyProof(one.root, one.leaves[10], disclosure.proof));
});

test("§10.5-§10.6: record leaves, the capture root and the signature recovering the signer", () => {
  const roots = [recordOf("10.3", "event 1").root, recordOf("10.4", "event 2").root];
  const refs = [...section("10.5").matchAll(/recordLeaf \(ref\) = (0x[0-9a-f]{64})/g)].map((m) => m[1]);
  assert.deepEqual(roots.map((root) => recordLeaf(root, signer, constellation)), refs);
  const capture = JSON.parse(/```json\n([\s\S]+?)\n```/.exec(section("10.6"))[1]);
  assert.equal(merkleRoot(refs), capture.root);
  assert.ok(verifyProof(capture.root, refs[1], capture.proof));
  const domain = { name: "ProvenanceAnchor", version: "1", chainId, verifyingContract: anchor };
  const message = { constellation, captureRoot: capture.root, recordCount: capture.count };
  assert.equal(getAddress(verifyTypedData(domain, CAPTURE_TYPES, message, capture.signature)), getAddress(signer));
});

test("§10.7: canonical item identifiers, an item chain and its state leaf", () => {
  const text = section("10.7");
  assert.equal(canonicalId("urn:epc:class:lgtin:4012345.011111.4444"), "https://id.gs1.org/01/04012345111118/10/4444");
  const refs = [...section("10.5").matchAll(/recordLeaf \(ref\) = (0x[0-9a-f]{64})/g)].map((m) => m[1]);
  const heads = [...text.matchAll(/^head\d\s+= (?:keccak256[^=]+= )?(0x[0-9a-f]{64})$/gm)].map((m) => m[1]);
  assert.deepEqual(heads, [chainHead([]), chainHead(refs.slice(0, 1)), chainHead(refs)]);
  assert.equal(ITEM_STATE, /^\s+= (0x[0-9a-f]{64})$/m.exec(text.slice(text.indexOf("ITEM_STATE")))[1]);
  const leaf = /^itemStateLeaf\s+= (0x[0-9a-f]{64})$/m.exec(text)[1];
  assert.equal(itemStateLeaf(constellation, "https://id.gs1.org/01/70614141123451/21/2018", 2, heads[2]), leaf);
});

test("§10.8: batch trees, their proofs and the RootAnchored topic", () => {
  const text = section("10.8");
  const batch1 = [...text.split("Batch 2 has")[0].matchAll(/^  leaf \d (0x[0-9a-f]{64})/gm)].map((m) => m[1]);
  assert.equal(batch1.length, 5);
  assert.equal(merkleRoot(batch1), /^  root\s+(0x[0-9a-f]{64})$/m.exec(text)[1]);
  const batch2 = [...text.matchAll(/leaf \d (0x[0-9a-f]{64})/g)].map((m) => m[1]).slice(5);
  assert.equal(batch2.length, 3);
  const root = /root = keccak256\(min ‖ max of level 1\)\s+= (0x[0-9a-f]{64})/.exec(text)[1];
  assert.equal(merkleRoot(batch2), root);
  const proofs = [...text.matchAll(/^proof of leaf (\d) [^:]+: \[([^\]]+)\]$/gm)];
  assert.equal(proofs.length, 3);
  for (const [, index, list] of proofs) {
    const proof = list.split(", ");
    assert.deepEqual(merkleProof(batch2, Number(index)), proof);
    assert.ok(verifyProof(root, batch2[Number(index)], proof));
  }
  assert.equal(ROOT_ANCHORED, /^\s+= (0x[0-9a-f]{64})$/m.exec(text.slice(text.indexOf("RootAnchored(bytes32")))[1]);
});
