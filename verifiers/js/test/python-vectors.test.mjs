/** The JavaScript verifier against vectors the service's Python code computes (test/vectors.py):
 * both implementations of docs/proof-format.md must agree byte for byte. The vectors come from
 * $CONSTELLATE_PY_VECTORS (tests/integration/test_js_verifier.py writes it), or from running the
 * script with the project's .venv; without either the test is skipped. */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { getAddress, verifyTypedData } from "ethers";

import { attestationUid } from "../src/claims.mjs";
import { bizStepTerm, dispositionTerm } from "../src/cbv.mjs";
import { chainHead, derivedSalt, fieldLeaf, ITEM_STATE, itemStateLeaf, recordLeaf, recordRoot, textHash } from "../src/commitments.mjs";
import { canonicalId } from "../src/identifiers.mjs";
import { jcs, utf16Order } from "../src/jcs.mjs";
import { merkleProof, merkleRoot, verifyProof } from "../src/merkle.mjs";
import { CAPTURE_TYPES } from "../src/record.mjs";

const cbvTerms = (term) => [bizStepTerm(term), dispositionTerm(term)];
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

function load() {
  if (process.env.CONSTELLATE_PY_VECTORS) return JSON.parse(readFileSync(process.env.CONSTELLATE_PY_VECTORS, "utf8"));
  const python = join(root, ".venv", "bin", "python");
  if (!existsSync(python)) return null;
  return JSON.parse(execFileSync(python, [join(root, "verifiers", "js", "test", "vectors.py")], { cwd: root, encoding: "utf8" }));
}

const vectors = load();
const skip = vectors === null ? "no Python vectors: set CONSTELLATE_PY_VECTORS or run scripts/bootstrap" : false;

test("JCS: the same text as Python's rfc8785 for every value", { skip }, () => {
  for (const { value, text } of vectors.jcs) assert.equal(jcs(value), text, JSON.stringify(value));
});

test("field leaves: keccak256(salt ‖ keccak256(path) ‖ keccak256(canonical(value)))", { skip }, () => {
  for (const { path, value, salt, leaf } of vectors.fieldLeaves) assert.equal(fieldLeaf(path, value, salt), leaf, path);
});

test("a record root over fields in UTF-16 order, and its record leaf", { skip }, () => {
  const { fields, order, root: expected, leaf, signer, constellation } = vectors.record;
  assert.deepEqual(utf16Order(Object.keys(fields)), order);
  assert.equal(recordRoot(fields), expected);
  assert.equal(recordLeaf(expected, signer, constellation), leaf);
});

test("salts derived from a capture's seed", { skip }, () => {
  const { seed, eventHash, salts } = vectors.derivedSalts;
  for (const [path, salt] of Object.entries(salts)) assert.equal(derivedSalt(seed, eventHash, path), salt, path);
});

test("Merkle trees of 1 to 9 leaves: roots and proofs", { skip }, () => {
  for (const { leaves, root: expected, proofs } of vectors.merkle) {
    assert.equal(merkleRoot(leaves), expected);
    proofs.forEach((proof, i) => {
      assert.deepEqual(merkleProof(leaves, i), proof);
      assert.ok(verifyProof(expected, leaves[i], proof));
    });
  }
});

test("an item's record chain and its state leaf", { skip }, () => {
  const { records, head, item, constellation, stateLeaf, itemState } = vectors.itemChain;
  assert.equal(ITEM_STATE, itemState);
  assert.equal(chainHead(records), head);
  assert.equal(itemStateLeaf(constellation, item, records.length, head), stateLeaf);
});

test("the Capture signature Python makes recovers its signer with ethers", { skip }, () => {
  const c = vectors.capture;
  const domain = { name: "ProvenanceAnchor", version: "1", chainId: c.chainId, verifyingContract: c.contract };
  const message = { constellation: c.constellation, captureRoot: c.captureRoot, recordCount: c.recordCount };
  assert.equal(getAddress(verifyTypedData(domain, CAPTURE_TYPES, message, c.signature)), getAddress(c.signer));
});

test("an attestation's uid and subject hash", { skip }, () => {
  const a = vectors.attestation;
  assert.equal(textHash(a.subjectId), a.request.subject);
  assert.equal(attestationUid(a.request, a.issuer), a.uid);
});

test("canonical GS1 identifiers as the service writes them", { skip }, () => {
  for (const [identifier, expected] of Object.entries(vectors.canonicalIds)) assert.equal(canonicalId(identifier), expected, identifier);
});

test("CBV terms of business steps and dispositions", { skip }, () => {
  for (const [term, expected] of Object.entries(vectors.terms)) assert.deepEqual(cbvTerms(term), expected, term);
});
