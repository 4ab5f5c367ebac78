/** One record view (`constellate:record`), checked as docs/proof-format.md §3–§6 say: each shown
 * field against the record root, the withheld list against the committed field list, the
 * record leaf, its member's signed capture root, the signer's writing role when the root was
 * anchored, the leaf's proof into the anchored batch root, and that root on chain. */

import { getAddress, verifyTypedData } from "ethers";

import { FIELDS_FIELD, HASH_FIELD, fieldLeaf, recordLeaf } from "./commitments.mjs";
import { MalformedDocument, hexOf, isHex } from "./hex.mjs";
import { ChainUnavailable } from "./chain.mjs";
import { verifyProof } from "./merkle.mjs";

export const RECORD_KEY = "constellate:record";
/** Shown by the service, never committed: the time it recorded the event. */
export const NOT_DISCLOSED = new Set(["recordTime"]);
const SELF_DESCRIBING = new Set([HASH_FIELD, FIELDS_FIELD]);
export const CAPTURE_TYPES = {
  Capture: [
    { name: "constellation", type: "bytes32" },
    { name: "captureRoot", type: "bytes32" },
    { name: "recordCount", type: "uint32" },
  ],
};
const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const own = (object, name) => Object.prototype.hasOwnProperty.call(object, name);
const short = (hex) => `${hex.slice(0, 10)}…`;

/** The hash ID the service shows as eventID when the event had none (CBV 2.0). */
export const hashId = (hex) => `ni:///sha-256;${hex}?ver=CBV2.0`;

function hexList(value, size, name) {
  if (!Array.isArray(value)) throw new MalformedDocument(`${name} is not a list`);
  return value.map((entry, i) => hexOf(entry, size, `${name}[${i}]`));
}

function count(value, name) {
  if (!Number.isSafeInteger(value) || value < 1 || value > 2 ** 32 - 1) throw new MalformedDocument(`${name} is not an integer from 1 to ${2 ** 32 - 1}`);
  return value;
}

function blockNumber(value, name) {
  if (value === null || value === undefined) return null;
  if (!Number.isSafeInteger(value) || value < 0) throw new MalformedDocument(`${name} is not a block number`);
  return value;
}

/** The parts of a record view a verifier reads, or MalformedDocument naming what is wrong. */
export function parseRecordView(view) {
  if (!isObject(view)) throw new MalformedDocument("a record view is a JSON object");
  const block = view[RECORD_KEY];
  if (!isObject(block)) throw new MalformedDocument(`not a record view: it has no "${RECORD_KEY}" object`);
  if (!isObject(block.disclosures)) throw new MalformedDocument("disclosures is not an object");
  const disclosures = {};
  for (const [path, entry] of Object.entries(block.disclosures)) {
    if (!isObject(entry)) throw new MalformedDocument(`disclosure ${path} is not an object`);
    disclosures[path] = {
      salt: hexOf(entry.salt, 16, `the salt of ${path}`),
      proof: hexList(entry.proof, 32, `the proof of ${path}`),
      value: SELF_DESCRIBING.has(path) ? entry.value : view[path],
      present: SELF_DESCRIBING.has(path) ? own(entry, "value") : own(view, path),
    };
  }
  const withheld = block.withheld ?? [];
  if (!Array.isArray(withheld) || !withheld.every((w) => typeof w === "string")) {
    throw new MalformedDocument("withheld is not a list of field names");
  }
  if (!isObject(block.owner) || !isObject(block.constellation)) throw new MalformedDocument("owner or constellation is missing");
  let anchor = null;
  if (block.anchor) {
    if (!isObject(block.anchor) || !Array.isArray(block.anchor.proof)) throw new MalformedDocument("anchor is not an object with a proof list");
    const leafCount = block.anchor.leafCount ?? null;
    anchor = {
      root: hexOf(block.anchor.root, 32, "anchor.root"),
      proof: hexList(block.anchor.proof, 32, "anchor.proof"),
      blockNumber: blockNumber(block.anchor.blockNumber, "anchor.blockNumber"),
      leafCount: leafCount === null ? null : count(leafCount, "anchor.leafCount"),
      chainId: block.anchor.chainId ?? null,
      contract: block.anchor.contract ?? null,
    };
  }
  let capture = null;
  if (block.capture !== undefined && block.capture !== null) {
    if (!isObject(block.capture)) throw new MalformedDocument("capture is not an object");
    const signature = block.capture.signature ?? null;
    if (signature !== null && !isHex(signature, 65)) throw new MalformedDocument("capture.signature is not 0x and 65 bytes of hex");
    const signedBy = own(block.capture, "signedBy") ? block.capture.signedBy : "self";
    if (signedBy !== "self" && signedBy !== "service") throw new MalformedDocument("capture.signedBy is neither 'self' nor 'service'");
    capture = {
      root: hexOf(block.capture.root, 32, "capture.root"),
      count: count(block.capture.count, "capture.count"),
      proof: hexList(block.capture.proof, 32, "capture.proof"),
      signature,
      signedBy,
    };
  }
  return {
    ref: hexOf(block.ref, 32, "ref"),
    root: hexOf(block.recordRoot, 32, "recordRoot"),
    signer: getAddress(hexOf(block.owner.address, 20, "owner.address")),
    constellation: hexOf(block.constellation.id, 32, "constellation.id"),
    withheld,
    disclosures,
    anchor,
    capture,
  };
}

/** The checks that need no chain: disclosed_fields, field_list, leaf, authorship, merkle_proof. */
export function localChecks(view, parsed, trust) {
  const { disclosures } = parsed;
  const listed = disclosures[FIELDS_FIELD]?.value;
  const names = Array.isArray(listed) && listed.every((n) => typeof n === "string") ? listed : null;
  const committedId = names === null || names.includes("eventID");
  const derivedId = own(disclosures, HASH_FIELD) && own(view, "eventID") && !own(disclosures, "eventID") && !committedId;
  const shown = new Set(Object.keys(view).filter((n) => !NOT_DISCLOSED.has(n) && n !== RECORD_KEY));
  if (derivedId) shown.delete("eventID");
  const bad = [];
  for (const [path, item] of Object.entries(disclosures)) {
    let proves = false;
    try {
      proves = item.present && verifyProof(parsed.root, fieldLeaf(path, item.value, item.salt), item.proof);
    } catch {
      proves = false; // a value JSON cannot say (it came from a file that is no JSON) proves nothing
    }
    if (!proves) bad.push(path);
  }
  for (const name of shown) if (!own(disclosures, name)) bad.push(name);
  for (const name of SELF_DESCRIBING) if (own(view, name)) bad.push(name);
  if (derivedId && view.eventID !== hashId(String(disclosures[HASH_FIELD].value))) bad.push("eventID");
  const checks = {};
  checks.disclosed_fields = bad.length
    ? [false, `fields that do not prove into the record root: ${[...new Set(bad)].sort().join(", ")}`]
    : [true, `${Object.keys(disclosures).length} disclosed fields prove into record root ${parsed.root}`];
  if (names === null) {
    checks.field_list = [false, `the view does not disclose the committed field list "${FIELDS_FIELD}"`];
  } else {
    const missing = names.filter((n) => !shown.has(n)).sort();
    const withheld = [...parsed.withheld].sort();
    const complete = JSON.stringify(missing) === JSON.stringify(withheld) && [...shown].every((n) => names.includes(n));
    checks.field_list = complete
      ? [true, `the record commits ${names.length} fields: ${shown.size} shown, ${missing.length} withheld, as the view says`]
      : [false, `the view's withheld list [${withheld.join(", ")}] is not what the record withholds: [${missing.join(", ")}]`];
  }
  const leaf = recordLeaf(parsed.root, parsed.signer, parsed.constellation);
  const leafOk = leaf === parsed.ref;
  checks.leaf = leafOk
    ? [true, "keccak256(abi.encode(recordRoot, signer, constellation)) equals the record's ref"]
    : [false, "the record's ref is not the leaf of its record root, signer and constellation"];
  checks.authorship = authorship(parsed, leaf, trust);
  if (parsed.anchor === null) {
    checks.merkle_proof = [null, "the record is not in an anchored batch yet"];
  } else {
    const ok = verifyProof(parsed.anchor.root, leaf, parsed.anchor.proof);
    checks.merkle_proof = [ok, ok ? `the leaf proves into batch root ${parsed.anchor.root}` : `the leaf does not prove into batch root ${parsed.anchor.root}`];
  }
  return { leaf, leafOk, checks };
}

const recovered = new Map();

/** The signer of a Capture message, recovered once per message and signature: the records of one
 * capture share both (a journey's steps often come from a few captures). */
function recoverCapture(domain, message, signature) {
  const key = `${domain.chainId}:${domain.verifyingContract}:${message.constellation}:${message.captureRoot}:${message.recordCount}:${signature}`.toLowerCase();
  if (!recovered.has(key)) {
    if (recovered.size > 4096) recovered.clear();
    recovered.set(key, getAddress(verifyTypedData(domain, CAPTURE_TYPES, message, signature)));
  }
  return recovered.get(key);
}

function authorship(parsed, leaf, trust) {
  const capture = parsed.capture;
  if (capture === null) return [false, "the view has no capture block: nothing shows its signer signed this record"];
  if (!verifyProof(capture.root, leaf, capture.proof)) {
    return [false, `the record's leaf does not prove into the signed capture root ${capture.root}`];
  }
  if (capture.signature === null) return [false, `nobody signed the capture root ${capture.root}: the view carries no signature`];
  const domain = { name: "ProvenanceAnchor", version: "1", chainId: Number(trust.chainId), verifyingContract: trust.provenanceAnchor };
  const message = { constellation: parsed.constellation, captureRoot: capture.root, recordCount: capture.count };
  let signer;
  try {
    signer = recoverCapture(domain, message, capture.signature);
  } catch (error) {
    return [false, `the capture signature is not valid: ${error.shortMessage || error.message}`];
  }
  if (signer !== parsed.signer) {
    return [false, `the Capture signature over root ${capture.root} (${capture.count} records) recovers ${signer}, not the record's signer ${parsed.signer}`];
  }
  const by = capture.signedBy === "service" ? " (signed for the member by the service, with the member's own key)" : "";
  return [true, `${signer} signed Capture(constellation, root ${capture.root}, ${capture.count} records) under ProvenanceAnchor ${trust.provenanceAnchor} on chain ${trust.chainId}${by}; the record's leaf proves into that root`];
}

/** The checks that read the chain: anchored and signer_role (null: not anchored yet or unreadable). */
export async function chainChecks(parsed, local, reader) {
  const anchor = parsed.anchor;
  if (anchor === null) {
    return { anchored: [null, "not anchored yet"], signer_role: [null, "not anchored yet: the role is read at the anchoring block"], block: null };
  }
  const notRead = (why) => [null, `not read: ${why}`];
  try {
    const trust = reader.trust;
    const [chainId, onChain, log] = await Promise.all([reader.chainId(), reader.anchor(anchor.root), reader.anchoredLog(anchor.root, anchor.blockNumber)]);
    const pinned = Number(trust.chainId);
    if (chainId !== pinned) {
      throw new ChainUnavailable(`the endpoint answers chain ${chainId}, not the pinned chain ${pinned}`);
    }
    if (anchor.chainId !== null && anchor.chainId !== pinned) {
      const why = `the view names chain ${anchor.chainId}; you pin chain ${pinned}`;
      return { anchored: [false, why], signer_role: notRead(why), block: null };
    }
    if (typeof anchor.contract === "string" && anchor.contract.toLowerCase() !== trust.provenanceAnchor.toLowerCase()) {
      const why = `the view names ProvenanceAnchor ${anchor.contract}; you pin ${trust.provenanceAnchor}`;
      return { anchored: [false, why], signer_role: notRead(why), block: null };
    }
    if (!onChain.anchoredAt) {
      return { anchored: [null, `root ${anchor.root} is not on the pinned ProvenanceAnchor on chain ${chainId} (yet)`], signer_role: [null, "not anchored yet: the role is read at the anchoring block"], block: null };
    }
    if (log === null) {
      const why = `root ${anchor.root} is on chain but the endpoint returns no RootAnchored log of it`;
      return { anchored: [null, why], signer_role: notRead(why), block: null, unavailable: true };
    }
    const problems = [];
    if (!verifyProof(anchor.root, local.leaf, anchor.proof)) problems.push("the leaf's proof does not prove it into the root");
    if (!local.leafOk || ![getAddress(trust.anchorer), parsed.signer].includes(onChain.by)) {
      problems.push(`the anchoring account ${onChain.by} is neither the pinned anchorer nor the signer`);
    }
    if (log.constellation !== parsed.constellation) problems.push(`anchored for constellation ${log.constellation}, not the record's`);
    if (anchor.leafCount !== onChain.leafCount) problems.push(`the view says ${anchor.leafCount} leaves, the chain ${onChain.leafCount}`);
    const moved = anchor.blockNumber !== null && anchor.blockNumber !== log.blockNumber ? ` (the view names block ${anchor.blockNumber})` : "";
    const when = new Date(onChain.anchoredAt * 1000).toISOString().replace(".000Z", "Z");
    const anchored = [
      problems.length === 0,
      `root ${anchor.root} of ${onChain.leafCount} leaves anchored at ${when} by ${onChain.by} for constellation ${log.constellation} in block ${log.blockNumber}${moved}` +
        problems.map((p) => `; ${p}`).join(""),
    ];
    const held = await reader.hasWritingRole(parsed.constellation, parsed.signer, log.blockNumber);
    const signerRole = [
      held,
      `${parsed.signer} ${held ? "held" : "held no"} writing role (any of 0xbf) in the record's constellation at block ${log.blockNumber}, which anchored the root`,
    ];
    return { anchored, signer_role: signerRole, block: log.blockNumber };
  } catch (error) {
    if (!(error instanceof ChainUnavailable)) throw error;
    return { anchored: [null, error.message], signer_role: [null, error.message], block: null, unavailable: true };
  }
}

export const STEP_CHECKS = ["disclosed_fields", "field_list", "leaf", "authorship", "signer_role", "merkle_proof", "anchored"];

/** Every check of one record view, in the order §9a lists them (`reader` null: no chain). */
export async function checkRecordView(view, reader, trust) {
  const parsed = parseRecordView(view);
  const local = localChecks(view, parsed, trust);
  const chain = reader
    ? await chainChecks(parsed, local, reader)
    : { anchored: [null, "no chain to read"], signer_role: [null, "no chain to read"], unavailable: true };
  const all = { ...local.checks, anchored: chain.anchored, signer_role: chain.signer_role };
  return { parsed, leaf: local.leaf, block: chain.block ?? null, unavailable: Boolean(chain.unavailable), checks: STEP_CHECKS.map((name) => [name, ...all[name]]) };
}
