/** The Constellate outside verifier, in JavaScript, written from docs/proof-format.md: checks a
 * journey or a record view with nothing but a JSON-RPC endpoint and the pins you trust. The same
 * module runs in Node (cli.mjs) and, bundled, in the shopper's browser (the journey page's
 * "check it on this phone"). */

export { ChainReader, ChainUnavailable, WRITERS } from "./src/chain.mjs";
export { attestationUid, parseCredential } from "./src/claims.mjs";
export { chainHead, derivedSalt, fieldLeaf, itemStateLeaf, recordLeaf, recordRoot } from "./src/commitments.mjs";
export { MalformedDocument } from "./src/hex.mjs";
export { canonicalId } from "./src/identifiers.mjs";
export { canonical, jcs } from "./src/jcs.mjs";
export { PIN_NAMES, parseTrust, verifyJourney, verifyRecord } from "./src/journey.mjs";
export { hashPair, merkleProof, merkleRoot, verifyProof } from "./src/merkle.mjs";
export { Verdict } from "./src/verdict.mjs";

import { ChainReader } from "./src/chain.mjs";
import { parseTrust, verifyJourney, verifyRecord } from "./src/journey.mjs";

/** Verifies a journey document against the chain at `rpcUrl`: the §9a verdict as JSON. */
export async function checkJourney(document, { rpcUrl, trust, nowMs, timeoutMs } = {}) {
  const pins = parseTrust(trust);
  const reader = rpcUrl ? new ChainReader({ rpcUrl, trust: pins, timeoutMs }) : null;
  return (await verifyJourney(document, { reader, trust: pins, nowMs })).toJSON();
}

/** Verifies one record view against the chain at `rpcUrl`: the §9a verdict as JSON. */
export async function checkRecord(view, { rpcUrl, trust, timeoutMs } = {}) {
  const pins = parseTrust(trust);
  const reader = rpcUrl ? new ChainReader({ rpcUrl, trust: pins, timeoutMs }) : null;
  return (await verifyRecord(view, { reader, trust: pins })).toJSON();
}
