/** A journey document (GET /01/… as JSON) checked with only the chain and the verifier's pins
 * (docs/proof-format.md §7–§9a): `pins`, `structure`, every step's record view and `summary`,
 * `order`, `completeness`, every claim (`claim.*`) and the `footprint` headline. */

import { getAddress } from "ethers";

import { bizStepTerm, dispositionTerm } from "./cbv.mjs";
import { ChainUnavailable } from "./chain.mjs";
import { attestationUidCheck, checkFields, checkOnChain, checkSignature, parseCredential } from "./claims.mjs";
import { chainHead, itemStateLeaf } from "./commitments.mjs";
import { checkFootprint } from "./footprint.mjs";
import { MalformedDocument, isHex } from "./hex.mjs";
import { canonicalId } from "./identifiers.mjs";
import { jcs } from "./jcs.mjs";
import { verifyProof } from "./merkle.mjs";
import { instant, nowMoment } from "./moments.mjs";
import { RECORD_KEY, STEP_CHECKS, checkRecordView } from "./record.mjs";
import { VALIDITY_CONSULTED, validityOf } from "./validity.mjs";
import { Verdict } from "./verdict.mjs";

export const PIN_NAMES = ["chainId", "provenanceAnchor", "constellationRegistry", "attestationRegistry", "anchorer"];
const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const list = (value) => (Array.isArray(value) ? value : []);
const obj = (value) => (isObject(value) ? value : {});
const str = (value) => (value === null ? "None" : value === undefined ? "" : String(value));
const same = (a, b) => jcs(a ?? null) === jcs(b ?? null);

/** The verifier's own pins (what GET /verify/trust answers), validated; MalformedDocument if not. */
export function parseTrust(trust) {
  if (!isObject(trust)) throw new MalformedDocument("the pins are a JSON object (what GET /verify/trust answers)");
  if (!Number.isSafeInteger(trust.chainId) || trust.chainId <= 0) throw new MalformedDocument("the pins name no chainId (a positive integer)");
  const pins = { chainId: trust.chainId };
  for (const name of PIN_NAMES.slice(1)) {
    if (!isHex(trust[name], 20)) throw new MalformedDocument(`the pins name no ${name} address (0x and 20 bytes of hex)`);
    pins[name] = getAddress(trust[name].toLowerCase());
  }
  if (isHex(trust.sharingLedger, 20)) pins.sharingLedger = getAddress(trust.sharingLedger.toLowerCase());
  return pins;
}

// --- what a step says --------------------------------------------------------------------------

const label = (term) => (term ? term.replaceAll("_", " ").charAt(0).toUpperCase() + term.replaceAll("_", " ").slice(1).toLowerCase() : null);
const get = (object, name) => (isObject(object) && Object.prototype.hasOwnProperty.call(object, name) ? object[name] : null);

/** What a step says, from its event view alone. */
export function stepSummary(event) {
  const block = event[RECORD_KEY];
  const location = get(event.bizLocation, "id") || get(event.readPoint, "id") || null;
  const items = [...list(event.epcList), ...(event.parentID ? [event.parentID] : []), ...list(event.childEPCs), ...list(event.inputEPCList), ...list(event.outputEPCList)];
  const quantities = [];
  for (const name of ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"]) {
    for (const q of list(event[name])) quantities.push({ item: get(q, "epcClass"), quantity: get(q, "quantity"), uom: get(q, "uom"), list: name });
  }
  const bizStep = bizStepTerm(get(event, "bizStep"));
  const eventId = get(event, "eventID");
  return {
    ref: block.ref,
    eventType: event.type,
    eventTime: get(event, "eventTime"),
    action: get(event, "action"),
    bizStep,
    bizStepLabel: label(bizStep),
    disposition: dispositionTerm(get(event, "disposition")),
    who: { id: block.owner.id ?? null, name: block.owner.name ?? null },
    where: { id: location },
    items,
    quantities,
    withheld: block.withheld,
    hashID: typeof eventId === "string" && eventId.startsWith("ni:///") ? eventId : null,
    anchored: Boolean(block.anchor),
    anchor: block.anchor ?? null,
  };
}

/** The summary fields of a step that do not say what its event view says. */
export function summaryMismatches(step) {
  const expected = stepSummary(step.event);
  const found = [];
  for (const [name, value] of Object.entries(expected)) {
    let actual = step[name];
    if (name === "where") actual = { id: get(actual, "id") };
    if (name === "who") actual = { id: get(actual, "id"), name: get(actual, "name") };
    if (!same(actual, value)) found.push(name);
  }
  return found;
}

/** Every item an event names, canonical. */
export function namedItems(event) {
  const named = [event.parentID];
  for (const name of ["epcList", "childEPCs", "inputEPCList", "outputEPCList"]) named.push(...list(event[name]));
  for (const name of ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"]) {
    named.push(...list(event[name]).filter(isObject).map((q) => q.epcClass));
  }
  return new Set(named.filter((n) => typeof n === "string").map(canonicalId));
}

/** The item, its lineage and its containers, canonical: what a step must name. */
export function relatedItems(journey) {
  const related = new Set([canonicalId(str(get(journey.item, "digitalLink") ?? ""))]);
  for (const node of list(journey.lineage)) if (isObject(node)) related.add(canonicalId(str(node.id ?? "")));
  for (const box of list(journey.containers)) if (isObject(box)) related.add(canonicalId(str(box.id ?? "")));
  return related;
}

function journeyProblems(journey) {
  let steps = journey.steps ?? [];
  if (!Array.isArray(steps)) return ["steps is not a list"];
  if (!steps.length && !(Array.isArray(journey.claims) && journey.claims.length)) return ["the journey has neither steps nor claims to verify"];
  const related = relatedItems(journey);
  const problems = [];
  // the record a step shows, as its view's leaf names it (hex in lower case, as its bytes are)
  const refs = steps.map((s) => {
    const ref = isObject(s) && isObject(s.event) && isObject(s.event[RECORD_KEY]) ? s.event[RECORD_KEY].ref : undefined;
    return typeof ref === "string" ? ref.toLowerCase() : jcs(isObject(s) ? (s.ref ?? null) : null);
  });
  if (new Set(refs).size !== refs.length) problems.push("a step appears twice");
  steps.forEach((step, i) => {
    const event = isObject(step) ? step.event : null;
    if (!isObject(event) || ![...namedItems(event)].some((n) => related.has(n))) {
      problems.push(`step ${i + 1} names neither the item, its lineage nor a container it travelled in`);
    }
  });
  return problems;
}

function certifications(claims) {
  return claims
    .filter((c) => isObject(c) && c.kind === "certification" && c.status === "valid")
    .map((c) => Object.fromEntries(["title", "issuer", "validFrom", "validUntil", "status", "subject"].map((k) => [k, c[k] ?? null])));
}

function eventBlock(step) {
  const event = isObject(step) ? step.event : null;
  return isObject(event) && isObject(event[RECORD_KEY]) ? event[RECORD_KEY] : null;
}

function checkStructure(document, verdict) {
  const problems = journeyProblems(document);
  const steps = list(document.steps);
  const claims = list(document.claims);
  const summary = obj(document.summary);
  const anchored = steps.filter((s) => eventBlock(s)?.anchor).length;
  if (summary.steps !== steps.length) problems.push(`the summary counts ${JSON.stringify(summary.steps ?? null)} steps; the journey lists ${steps.length}`);
  if (summary.anchored !== anchored) problems.push(`the summary counts ${JSON.stringify(summary.anchored ?? null)} anchored steps; ${anchored} are`);
  const counted = obj(summary.claims);
  const statuses = claims.filter(isObject).map((c) => c.status);
  const keys = new Set([...Object.keys(counted), ...statuses.map(String)]);
  const wrong = [...keys].filter((s) => (counted[s] ?? 0) !== statuses.filter((x) => String(x) === s).length).sort();
  if (wrong.length) problems.push(`the summary's claim counts differ from the claims listed for ${wrong.join(", ")}`);
  if (!same(summary.certifications, certifications(claims))) problems.push("the summary's certifications are not the valid certifications the claims list");
  verdict.add(
    "structure",
    problems.length === 0,
    problems.length
      ? problems.join("; ")
      : `${steps.length} steps and ${claims.length} claims, each step naming the item, its lineage or a container; the summary counts what the journey lists`,
  );
}

function checkOrder(steps, verdict) {
  let previous = null;
  const problems = [];
  steps.forEach((step, i) => {
    const event = isObject(step) ? step.event : null;
    if (!isObject(event) || !Object.prototype.hasOwnProperty.call(event, "eventTime")) return;
    const when = instant(event.eventTime);
    if (when === null) return void problems.push(`step ${i + 1}'s eventTime ${JSON.stringify(event.eventTime)} is not a date-time with an offset`);
    if (previous !== null && when.us < previous[1]) problems.push(`step ${i + 1} happened before step ${previous[0]}`);
    previous = [i + 1, when.us];
  });
  verdict.add("order", problems.length === 0, problems.length ? problems.join("; ") : "the steps are listed by ascending eventTime");
}

// --- completeness ------------------------------------------------------------------------------

function entryOf(raw, number) {
  const fail = (why) => {
    throw new MalformedDocument(`completeness entry ${number} ${why}`);
  };
  if (!isObject(raw)) fail("is not an object");
  const anchor = raw.anchor;
  if (!isObject(anchor) || !Array.isArray(anchor.proof)) fail("has no anchor with a proof");
  if (!Array.isArray(raw.records) || !Number.isSafeInteger(raw.count) || raw.count < 0) fail("has no records list and count");
  if (typeof raw.item !== "string" || !raw.item) fail("names no item");
  const hex = (value, name) => (isHex(value, 32) ? value.toLowerCase() : fail(`: its ${name} is not 0x and 32 bytes of hex`));
  const block = anchor.blockNumber;
  return {
    constellation: hex(raw.constellation, "constellation"),
    item: raw.item,
    count: raw.count,
    head: hex(raw.head, "head"),
    records: raw.records.map((r) => hex(r, "record")),
    notShown: raw.notShown,
    root: hex(anchor.root, "anchor root"),
    proof: anchor.proof.map((p) => hex(p, "anchor proof")),
    leafCount: anchor.leafCount ?? null,
    block: Number.isSafeInteger(block) && block >= 0 ? block : null,
  };
}

async function rootOnChain(reader, entry) {
  if (!reader) return [null, "no chain to read the root from"];
  try {
    const [chainId, state, log] = await Promise.all([reader.chainId(), reader.anchor(entry.root), reader.anchoredLog(entry.root, entry.block)]);
    if (chainId !== Number(reader.trust.chainId)) throw new ChainUnavailable(`the endpoint answers chain ${chainId}, not the pinned chain ${reader.trust.chainId}`);
    if (!state.anchoredAt) return [null, `root ${entry.root} is not on chain yet`];
    const problems = [];
    if (state.by.toLowerCase() !== reader.trust.anchorer.toLowerCase()) problems.push(`its root was anchored by ${state.by}, not the pinned anchorer`);
    if (state.leafCount !== entry.leafCount) problems.push(`its root has ${state.leafCount} leaves, not ${JSON.stringify(entry.leafCount)}`);
    if (log !== null && log.constellation !== entry.constellation) problems.push(`its root was anchored for constellation ${log.constellation}, not ${entry.constellation}`);
    if (problems.length) return [false, problems.join("; ")];
    if (log === null) return [null, `root ${entry.root} is on chain but the endpoint returns no RootAnchored log of it`, true];
    return [true, "anchored"];
  } catch (error) {
    if (!(error instanceof ChainUnavailable)) throw error;
    return [null, error.message, true];
  }
}

function stepFacts(steps) {
  const found = [];
  steps.forEach((step, i) => {
    const block = eventBlock(step);
    if (!block) return;
    const cid = get(block.constellation, "id");
    found.push({ number: i + 1, ref: str(block.ref ?? "").toLowerCase(), cid: str(cid).toLowerCase(), anchored: Boolean(block.anchor), items: namedItems(step.event) });
  });
  return found;
}

async function checkCompleteness(document, reader, verdict) {
  const steps = list(document.steps);
  const raw = document.completeness;
  const facts = stepFacts(steps);
  if ((raw === null || raw === undefined) && !facts.some((f) => f.anchored)) {
    return ["completeness", facts.length ? null : true, "no anchored step: no record chain to show yet"];
  }
  if (!Array.isArray(raw)) return ["completeness", false, "the journey carries no completeness proof (§7) for its anchored steps"];
  let entries;
  try {
    entries = raw.map((e, i) => entryOf(e, i + 1));
  } catch (error) {
    if (!(error instanceof MalformedDocument)) throw error;
    return ["completeness", false, `a completeness entry cannot be read: ${error.message}`];
  }
  const shown = new Set(facts.map((f) => f.ref));
  const related = relatedItems(document);
  const chains = new Map();
  const problems = [];
  const onChain = [];
  entries.forEach((entry, i) => {
    const key = `${entry.constellation} ${canonicalId(entry.item)}`;
    if (!chains.has(key)) chains.set(key, { cid: entry.constellation, item: canonicalId(entry.item), records: new Set() });
    for (const r of entry.records) chains.get(key).records.add(r);
    const n = i + 1;
    if (entry.records.length !== entry.count || chainHead(entry.records) !== entry.head) {
      return void problems.push(`entry ${n} (${entry.item}): its records do not chain to its head and count`);
    }
    const missing = new Set(entry.records.filter((r) => !shown.has(r))).size;
    if (entry.notShown !== missing) problems.push(`entry ${n} (${entry.item}) says ${JSON.stringify(entry.notShown ?? null)} records not shown; ${missing} are not`);
    const leaf = itemStateLeaf(entry.constellation, entry.item, entry.count, entry.head);
    if (!verifyProof(entry.root, leaf, entry.proof)) return void problems.push(`entry ${n} (${entry.item}): its item state does not prove into its anchor root`);
    onChain.push(rootOnChain(reader, entry).then(([ok, detail, unavailable]) => ({ n, entry, ok, detail, unavailable })));
  });
  for (const fact of facts) {
    if (!fact.anchored) continue;
    const inConstellation = [...chains.values()].filter((c) => c.cid === fact.cid);
    if (!inConstellation.some((c) => c.records.has(fact.ref))) {
      problems.push(`step ${fact.number} is in no record chain of its constellation`);
      continue;
    }
    for (const item of [...fact.items].filter((x) => related.has(x)).sort()) {
      if (!chains.get(`${fact.cid} ${item}`)?.records.has(fact.ref)) problems.push(`step ${fact.number} names ${item}, whose record chain is not shown with it`);
    }
  }
  const hidden = new Set();
  for (const chain of chains.values()) for (const r of chain.records) if (!shown.has(r)) hidden.add(r);
  verdict.recordsNotShown = hidden.size;
  const summary = obj(document.summary);
  if (summary.recordsNotShown !== hidden.size) problems.push(`the summary says ${JSON.stringify(summary.recordsNotShown ?? null)} records are not shown; ${hidden.size} are not`);
  const results = await Promise.all(onChain);
  let ok = true;
  for (const r of results) {
    if (r.unavailable) verdict.chainUnavailable = true;
    if (r.ok === false) problems.push(`entry ${r.n} (${r.entry.item}): ${r.detail}`);
    else if (r.ok === null && ok === true) ok = null;
  }
  if (problems.length) return ["completeness", false, problems.join("; ")];
  return [
    "completeness",
    ok,
    ok === null
      ? results.find((r) => r.ok === null).detail
      : `${entries.length} item record chains prove every anchored step in them; ${hidden.size} of their records are not shown to you`,
  ];
}

// --- claims ------------------------------------------------------------------------------------

function schemaName(credential) {
  const definition = get(credential.credentialSchema, "definition");
  const found = typeof definition === "string" ? /^constellate\/([a-z][a-z0-9-]*) /.exec(definition) : null;
  return found ? found[1] : null;
}

function bodyProven(name, withheld) {
  const consulted = ["validFrom", "validUntil", ...(VALIDITY_CONSULTED[name] ?? [])];
  return !consulted.some((field) => withheld.includes(`body/${field}`));
}

function claimState(record, name, body, proven, now) {
  const validity = validityOf(name, proven ? body : {}, record.expiresAt);
  if (!record.issuedAt) return ["pending", validity];
  if (record.revokedAt) return ["revoked", validity];
  if (validity.unreadable.length || (validity.endsAt !== null && validity.endsAt.us <= now.us)) return ["expired", validity];
  if (validity.startsAt !== null && validity.startsAt.us > now.us) return ["not-yet-valid", validity];
  return ["valid", validity];
}

function statusAgrees(shown, proven, provenBody) {
  if (proven === "pending") return shown === "pending" ? null : false;
  if (shown === proven) return true;
  if (shown === "disputed" && (proven === "valid" || proven === "not-yet-valid")) return true;
  return !provenBody && proven === "valid" && (shown === "expired" || shown === "not-yet-valid");
}

function claimSummary(claim, credential, name, validity, provenBody) {
  const subject = obj(credential.credentialSubject);
  const status = obj(credential.credentialStatus);
  const schema = obj(credential.credentialSchema);
  const block = obj(credential.attestation);
  const issuer = credential.issuer;
  const did = str(isObject(issuer) ? issuer.id : issuer);
  const at = (value) => instant(value)?.us.toString() ?? null;
  const expected = {
    uid: [str(claim.uid ?? "").toLowerCase(), str(status.uid ?? "").toLowerCase()],
    "issuer.address": [str(get(claim.issuer, "address")).toLowerCase(), did.split(":").at(-1).toLowerCase()],
    schemaUid: [str(claim.schemaUid ?? "").toLowerCase(), str(schema.uid ?? "").toLowerCase()],
    schema: [name, schemaName(credential)],
    "schema as named": [claim.schema ?? null, name],
    "subject.id": [get(claim.subject, "id"), subject.id ?? null],
    body: [claim.body ?? null, subject.body ?? {}],
    withheld: [[...list(claim.withheld)].map(String).sort(), [...list(block.withheld)].map(String).sort()],
    expiresAt: [at(claim.expiresAt), at(credential.validUntil)],
  };
  if (validity !== null && provenBody) {
    expected.validFrom = [claim.validFrom ?? null, validity.validFrom];
    expected.validUntil = [claim.validUntil ?? null, validity.validUntil];
  }
  const differ = Object.entries(expected).filter(([, [stated, proven]]) => !same(stated, proven)).map(([k]) => k);
  return differ.length ? [false, `the claim differs from its credential in ${differ.join(", ")}`] : [true, "the claim states what its credential proves"];
}

async function schemaOnChain(credential, reader) {
  const uid = get(credential.credentialSchema, "uid");
  if (!isHex(uid, 32)) return null;
  let definition;
  try {
    definition = await reader.schemaDefinition(uid.toLowerCase());
  } catch (error) {
    if (error instanceof ChainUnavailable) return null;
    throw error;
  }
  const found = typeof definition === "string" ? /^constellate\/([a-z][a-z0-9-]*) /.exec(definition) : null;
  return found ? found[1] : "";
}

/** Every check of one claim: [[name, ok, detail]...] and what the footprint check needs. */
async function checkClaim(claim, reader, trust, now) {
  const uid = isObject(claim) ? str(claim.uid) : "?";
  const credential = isObject(claim) ? claim.credential : null;
  if (!isObject(credential)) return { uid, checks: [["claim.signature", false, "the claim carries no credential: nothing proves it"]] };
  let parsed;
  try {
    parsed = parseCredential(credential);
  } catch (error) {
    if (!(error instanceof MalformedDocument)) throw error;
    return { uid, checks: [["claim.signature", false, `the claim's credential cannot be read: ${error.message}`]] };
  }
  const checks = [
    ["claim.signature", ...checkSignature(parsed, trust)],
    ["claim.uid", ...attestationUidCheck(parsed)],
    ["claim.disclosed_fields", ...checkFields(parsed)],
  ];
  const chain = reader ? await checkOnChain(parsed, reader, Number(now.us / 1000n)) : { onChain: [null, "no chain to read the registry from"], unavailable: true, record: null };
  checks.push(["claim.on_chain", ...chain.onChain]);
  const body = isObject(get(credential.credentialSubject, "body")) ? credential.credentialSubject.body : {};
  const withheld = list(get(credential.attestation, "withheld")).map(String);
  // the schema name as the registry defines the uid the issuer signed (§8): it decides which body
  // fields bound the claim's validity, so neither the claim nor the credential may name it
  const onChain = reader && !chain.unavailable ? await schemaOnChain(credential, reader) : null;
  const name = onChain ?? str(claim.schema ?? "");
  const provenBody = bodyProven(name, withheld);
  let validity = null;
  if (chain.record) {
    let state;
    [state, validity] = claimState(chain.record, name, body, provenBody, now);
    let detail = `shown ${JSON.stringify(claim.status ?? null)}; the chain and the claim's body prove ${JSON.stringify(state)}`;
    if (state === "revoked") detail += ` (revoked at ${new Date(chain.record.revokedAt * 1000).toISOString().replace(".000Z", "Z")})`;
    if (!provenBody) detail += "; its validity fields are withheld from you, so only its on-chain expiry is checked";
    checks.push(["claim.status", statusAgrees(claim.status, state, provenBody), detail]);
  } else {
    checks.push(["claim.status", null, chain.onChain[1] || "no chain to read the registry from"]);
  }
  checks.push(["claim.summary", ...claimSummary(claim, credential, name, validity, provenBody)]);
  const oks = checks.map((c) => c[1]);
  return {
    uid,
    checks,
    unavailable: Boolean(chain.unavailable),
    facts: {
      uid,
      ok: oks.includes(false) ? false : oks.includes(null) ? null : true,
      shownStatus: claim.status,
      subject: canonicalId(str(get(credential.credentialSubject, "id") ?? "")),
      body,
    },
  };
}

// --- the journey -------------------------------------------------------------------------------

async function checkStep(step, number, reader, trust) {
  const event = isObject(step) ? step.event : null;
  let checked;
  try {
    checked = await checkRecordView(event, reader, trust);
  } catch (error) {
    if (!(error instanceof MalformedDocument)) throw error;
    return { checks: [["disclosed_fields", false, `the step's view cannot be read: ${error.message}`]] };
  }
  let mismatches;
  try {
    mismatches = summaryMismatches(step);
  } catch (error) {
    mismatches = [`(unreadable: ${error.message})`];
  }
  const summary = mismatches.length
    ? ["summary", false, `the step's summary differs from its proven view in ${mismatches.join(", ")}`]
    : ["summary", true, "the step's summary says what its proven view says"];
  return { checks: [...checked.checks, summary], unavailable: checked.unavailable };
}

/** Starts every chain read the journey needs at once, so they leave as one batch. */
function prefetch(document, reader) {
  const reads = [reader.chainId()];
  for (const step of list(document.steps)) {
    const anchor = eventBlock(step)?.anchor;
    if (isObject(anchor) && isHex(anchor.root, 32)) {
      const root = anchor.root.toLowerCase();
      reads.push(reader.anchor(root));
      reads.push(Number.isSafeInteger(anchor.blockNumber) ? reader.rootLogs(root, anchor.blockNumber) : reader.rootLogs(root, null));
    }
  }
  for (const entry of list(document.completeness)) {
    const anchor = isObject(entry) ? entry.anchor : null;
    if (isObject(anchor) && isHex(anchor.root, 32)) reads.push(reader.anchor(anchor.root.toLowerCase()));
  }
  for (const claim of list(document.claims)) {
    const uid = get(obj(claim).credential?.credentialStatus, "uid");
    if (isHex(uid, 32)) reads.push(reader.attestation(uid.toLowerCase()));
    const schema = get(obj(claim).credential?.credentialSchema, "uid");
    if (isHex(schema, 32)) reads.push(reader.schemaDefinition(schema.toLowerCase()));
  }
  for (const read of reads) read.catch(() => {}); // each check reports its own failed read
}

/** Checks a journey with only the chain (`reader` null: all but the chain) and the verifier's
 * pins `trust`. `nowMs` is the clock (claims expire). Raises MalformedDocument for a document
 * that is no journey, or pins that are no pins. */
export async function verifyJourney(document, { reader = null, trust, nowMs = Date.now() } = {}) {
  const pins = parseTrust(trust);
  if (!isObject(document) || !isObject(document.item)) throw new MalformedDocument("a journey is a JSON object with an item (GET /01/… asking for JSON)");
  const now = nowMoment(nowMs);
  const steps = list(document.steps);
  const claims = list(document.claims);
  const verdict = new Verdict();
  if (reader) prefetch(document, reader);
  const [stepResults, completeness, claimResults] = await Promise.all([
    Promise.all(steps.map((step, i) => checkStep(step, i + 1, reader, pins))),
    checkCompleteness(document, reader, verdict),
    Promise.all(claims.map((claim) => checkClaim(claim, reader, pins, now))),
  ]);
  const named = obj(document.verify);
  const differ = [];
  for (const name of PIN_NAMES) {
    const value = named[name];
    const ok = name === "chainId" ? value === pins.chainId : typeof value === "string" && value.toLowerCase() === pins[name].toLowerCase();
    if (!ok) differ.push(`${name} (the page names ${JSON.stringify(value ?? null)}, you pin ${JSON.stringify(pins[name])})`);
  }
  verdict.add("pins", differ.length === 0, differ.length ? `the page names other trust pins than yours: ${differ.join("; ")}` : "the page names the chain, contracts and anchorer you pin");
  checkStructure(document, verdict);
  stepResults.forEach((result, i) => {
    for (const [name, ok, detail] of result.checks) verdict.add(name, ok, detail, { step: i + 1 });
    if (result.unavailable) verdict.chainUnavailable = true;
  });
  checkOrder(steps, verdict);
  verdict.add(...completeness);
  const facts = new Map();
  for (const result of claimResults) {
    for (const [name, ok, detail] of result.checks) verdict.add(name, ok, detail, { claim: result.uid });
    if (result.unavailable) verdict.chainUnavailable = true;
    if (result.facts) facts.set(result.uid.toLowerCase(), result.facts);
  }
  const events = new Map();
  for (const step of steps) {
    const block = eventBlock(step);
    const ref = block?.ref ?? (isObject(step) ? step.ref : null);
    if (typeof ref === "string") events.set(ref.toLowerCase(), step.event);
  }
  verdict.add("footprint", ...checkFootprint(document, facts, events));
  if (!reader) verdict.chainUnavailable = true;
  return verdict;
}

/** Checks one record view (`constellate verify record`): the checks of a step, without a summary. */
export async function verifyRecord(view, { reader = null, trust } = {}) {
  const pins = parseTrust(trust);
  const checked = await checkRecordView(view, reader, pins);
  const verdict = new Verdict();
  for (const [name, ok, detail] of checked.checks) verdict.add(name, ok, detail);
  verdict.chainUnavailable = checked.unavailable || !reader;
  return verdict;
}

export { STEP_CHECKS };
