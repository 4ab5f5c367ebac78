/** A claim's W3C Verifiable Credential, checked as docs/proof-format.md §8 says: the issuer's
 * EIP-712 `Attest` signature rebuilt from the credential, its uid, each shown field against the
 * signed data hash, the attestation on the pinned registry, and its status. */

import { AbiCoder, getAddress, keccak256, verifyTypedData } from "ethers";

import { fieldLeaf, recordRoot, textHash } from "./commitments.mjs";
import { ChainUnavailable } from "./chain.mjs";
import { MalformedDocument, hexOf, isHex } from "./hex.mjs";
import { jcs } from "./jcs.mjs";
import { verifyProof } from "./merkle.mjs";

export const ATTEST_TYPES = {
  Attest: [
    { name: "schema", type: "bytes32" },
    { name: "constellation", type: "bytes32" },
    { name: "subject", type: "bytes32" },
    { name: "dataHash", type: "bytes32" },
    { name: "expiresAt", type: "uint64" },
    { name: "refUID", type: "bytes32" },
    { name: "revocable", type: "bool" },
    { name: "deadline", type: "uint256" },
  ],
};
const PROOF_TYPE = "EthereumEip712Signature2021";
const DID = /^did:pkh:eip155:([0-9]+):(0x[0-9a-fA-F]{40})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;
const WITHHELD = /^(body\/[^/]+|evidence)$/;
const MEMBERS = {
  "": ["@context", "id", "type", "name", "issuer", "validFrom", "validUntil", "credentialSubject", "credentialSchema", "credentialStatus", "attestation", "proof"],
  issuer: ["id", "name"],
  credentialSubject: ["id", "body", "evidenceDocuments"],
  credentialSchema: ["id", "type", "uid", "definition"],
  credentialStatus: ["id", "type", "chainId", "registry", "uid"],
  attestation: ["constellation", "dataHash", "refUID", "revocable", "deadline", "withheld", "disclosures"],
  proof: ["type", "created", "proofPurpose", "verificationMethod", "proofValue", "eip712"],
};
const abi = AbiCoder.defaultAbiCoder();
const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const own = (object, name) => Object.prototype.hasOwnProperty.call(object, name);

function object(value, name) {
  if (!isObject(value)) throw new MalformedDocument(`${name} is not an object`);
  return value;
}

/** validUntil as the signed expiresAt: 0 when absent, -1 when it holds a fraction of a second. */
function seconds(value) {
  if (value === undefined || value === null) return 0;
  const match = typeof value === "string" ? DATE_TIME.exec(value) : null;
  if (!match) throw new MalformedDocument(`validUntil ${JSON.stringify(value)} is not a date-time with a time zone`);
  if (match[7] && /[1-9]/.test(match[7])) return -1;
  const zone = match[8].toUpperCase() === "Z" ? "Z" : match[8];
  return Math.floor(Date.parse(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}${zone}`) / 1000);
}

/** The parts of a credential the Attest request is rebuilt from, or MalformedDocument. */
export function parseCredential(credential) {
  const document = object(credential, "a credential");
  try {
    const issuer = document.issuer;
    const did = DID.exec(isObject(issuer) ? issuer.id : issuer);
    if (!did) throw new MalformedDocument("issuer is not a did:pkh:eip155 account");
    const subject = object(document.credentialSubject, "credentialSubject");
    const status = object(document.credentialStatus, "credentialStatus");
    const block = object(document.attestation, "attestation");
    const proof = object(document.proof, "proof");
    const eip712 = object(proof.eip712, "proof.eip712");
    const disclosures = {};
    for (const [path, entry] of Object.entries(object(block.disclosures, "attestation.disclosures"))) {
      object(entry, `the disclosure of ${path}`);
      if (!Array.isArray(entry.proof)) throw new MalformedDocument(`the proof of ${path} is not a list`);
      disclosures[path] = { salt: hexOf(entry.salt, 16, `the salt of ${path}`), proof: entry.proof.map((p) => hexOf(p, 32, `the proof of ${path}`)) };
    }
    const withheld = (block.withheld ?? []).map(String);
    if (!withheld.every((name) => WITHHELD.test(name))) throw new MalformedDocument("attestation.withheld names something other than body/<field> or evidence");
    if (!Number.isSafeInteger(block.deadline) || block.deadline < 0) throw new MalformedDocument("attestation.deadline is not a timestamp");
    if (typeof subject.id !== "string") throw new MalformedDocument("credentialSubject.id is not a string");
    return {
      id: document.id,
      issuerChain: Number(did[1]),
      issuer: getAddress(did[2].toLowerCase()),
      subjectId: subject.id,
      body: isObject(subject.body ?? {}) ? (subject.body ?? {}) : (() => { throw new MalformedDocument("credentialSubject.body is not an object"); })(),
      evidence: own(subject, "evidenceDocuments") ? subject.evidenceDocuments : undefined,
      uid: hexOf(status.uid, 32, "credentialStatus.uid"),
      statusChain: status.chainId,
      statusRegistry: String(status.registry ?? ""),
      withheld,
      disclosures,
      request: {
        schema: hexOf(object(document.credentialSchema, "credentialSchema").uid, 32, "credentialSchema.uid"),
        constellation: hexOf(block.constellation, 32, "attestation.constellation"),
        subject: textHash(subject.id),
        dataHash: hexOf(block.dataHash, 32, "attestation.dataHash"),
        expiresAt: seconds(document.validUntil),
        refUID: hexOf(block.refUID, 32, "attestation.refUID"),
        revocable: block.revocable === true,
      },
      deadline: block.deadline,
      proofType: proof.type,
      signature: proof.proofValue,
      eip712,
      verificationMethod: proof.verificationMethod,
      unexpected: unexpectedMembers(document),
    };
  } catch (error) {
    if (error instanceof MalformedDocument) throw error;
    throw new MalformedDocument(`the credential is malformed: ${error.message}`);
  }
}

function unexpectedMembers(document) {
  const found = Object.keys(document).filter((key) => !MEMBERS[""].includes(key));
  for (const [outer, allowed] of Object.entries(MEMBERS)) {
    if (outer && isObject(document[outer])) found.push(...Object.keys(document[outer]).filter((k) => !allowed.includes(k)).map((k) => `${outer}.${k}`));
  }
  const kinds = document.type;
  const typed = Array.isArray(kinds) && kinds.length === 3 && kinds[0] === "VerifiableCredential" && kinds[1] === "ConstellateAttestationCredential" && typeof kinds[2] === "string" && kinds[2].endsWith("Credential");
  if (!typed) found.push("type");
  return found;
}

/** The shown value of committed field `path` ([present, value]). */
function valueOf(parsed, path) {
  if (path === "evidence") return [parsed.evidence !== undefined, parsed.evidence];
  const key = path.startsWith("body/") ? path.slice(5) : null;
  return [key !== null && own(parsed.body, key), key !== null ? parsed.body[key] : undefined];
}

export const didOf = (chainId, address) => `did:pkh:eip155:${chainId}:${getAddress(address)}`;

/** claim.signature: the Attest message rebuilt from the credential recovers the issuer. */
export function checkSignature(parsed, trust) {
  const chainId = Number(trust.chainId);
  const registry = getAddress(trust.attestationRegistry);
  const did = didOf(chainId, parsed.issuer);
  if (parsed.proofType !== PROOF_TYPE) return [false, `the proof is of type ${parsed.proofType}, not ${PROOF_TYPE}`];
  if (parsed.issuerChain !== chainId || parsed.verificationMethod !== `${did}#blockchainAccountId`) {
    return [false, `the issuer and the proof's verification method must be ${did}, on the pinned chain`];
  }
  if (parsed.request.expiresAt < 0) return [false, "validUntil holds a fraction of a second: no signed expiresAt can say that"];
  if (parsed.eip712.primaryType !== "Attest" || jcs(parsed.eip712.types?.Attest ?? null) !== jcs(ATTEST_TYPES.Attest)) {
    return [false, "the proof's EIP-712 types are not the AttestationRegistry's Attest message"];
  }
  const named = parsed.eip712.domain;
  const domain = { name: "AttestationRegistry", version: "1", chainId, verifyingContract: registry };
  if (!isObject(named) || named.name !== domain.name || named.version !== domain.version || Number(named.chainId) !== chainId || String(named.verifyingContract).toLowerCase() !== registry.toLowerCase()) {
    return [false, `the proof's EIP-712 domain is not that of the pinned AttestationRegistry ${registry} on chain ${chainId}`];
  }
  if (!isHex(parsed.signature, 65)) return [false, "the proof's signature is not 65 bytes of hex"];
  let signer;
  try {
    signer = getAddress(verifyTypedData(domain, ATTEST_TYPES, { ...parsed.request, deadline: parsed.deadline }, parsed.signature));
  } catch (error) {
    return [false, `the proof's signature does not recover: ${error.shortMessage || error.message}`];
  }
  if (signer !== parsed.issuer) return [false, `the Attest message rebuilt from the credential is signed by ${signer}, not by the issuer ${did}`];
  return [true, `the EIP-712 Attest message rebuilt from the credential recovers the issuer ${did}`];
}

/** keccak256(abi.encode(schema, constellation, subject, dataHash, expiresAt, refUID, revocable, issuer)). */
export function attestationUid(request, issuer) {
  return keccak256(
    abi.encode(
      ["bytes32", "bytes32", "bytes32", "bytes32", "uint64", "bytes32", "bool", "address"],
      [request.schema, request.constellation, request.subject, request.dataHash, Math.max(request.expiresAt, 0), request.refUID, request.revocable, issuer],
    ),
  );
}

export function attestationUidCheck(parsed) {
  const ok = attestationUid(parsed.request, parsed.issuer) === parsed.uid && parsed.id === `urn:constellate:attestation:${parsed.uid}`;
  return ok
    ? [true, "the uid is keccak256(abi.encode(request, issuer)) of the signed request"]
    : [false, "the credential's uid is not that of the request it states, by its issuer"];
}

/** claim.disclosed_fields: each shown field proves into the data hash; nothing withheld means all. */
export function checkFields(parsed) {
  const shown = new Set(Object.keys(parsed.body).map((k) => `body/${k}`));
  if (parsed.evidence !== undefined) shown.add("evidence");
  const bad = [];
  const fields = {};
  for (const [path, item] of Object.entries(parsed.disclosures)) {
    const [present, value] = valueOf(parsed, path);
    fields[path] = { value, salt: item.salt };
    let proves = false;
    try {
      proves = present && verifyProof(parsed.request.dataHash, fieldLeaf(path, value, item.salt), item.proof);
    } catch {
      proves = false;
    }
    if (!proves) bad.push(path);
  }
  for (const path of shown) if (!own(parsed.disclosures, path)) bad.push(path);
  for (const path of parsed.withheld) if (shown.has(path)) bad.push(path);
  bad.push(...parsed.unexpected);
  if (bad.length) return [false, `fields that do not prove into the data hash: ${[...new Set(bad)].sort().join(", ")}`];
  if (parsed.withheld.length) return [true, `${shown.size} shown fields prove into data hash ${parsed.request.dataHash}; withheld: ${parsed.withheld.join(", ")}`];
  if (!Object.keys(fields).length) return [false, "the credential discloses no field"];
  const complete = recordRoot(fields) === parsed.request.dataHash;
  return complete
    ? [true, `all ${shown.size} committed fields shown; they hash into data hash ${parsed.request.dataHash}`]
    : [false, "the credential names nothing withheld, yet its fields are not all the committed ones"];
}

const iso = (seconds) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");

/** claim.on_chain and the chain's own status of the attestation ({state: valid|revoked|expired}). */
export async function checkOnChain(parsed, reader, now) {
  try {
    const [chainId, record] = await Promise.all([reader.chainId(), reader.attestation(parsed.uid)]);
    const pinned = Number(reader.trust.chainId);
    if (chainId !== pinned) throw new ChainUnavailable(`the endpoint answers chain ${chainId}, not the pinned chain ${pinned}`);
    if (!record.issuedAt) return { onChain: [null, `uid ${parsed.uid} is not on the AttestationRegistry (yet)`], state: null };
    const expected = { ...parsed.request, expiresAt: Math.max(parsed.request.expiresAt, 0), issuer: parsed.issuer };
    const differ = ["schema", "constellation", "subject", "dataHash", "refUID", "issuer", "expiresAt", "revocable"].filter((k) => expected[k] !== record[k]);
    const registry = reader.trust.attestationRegistry.toLowerCase();
    if (Number(parsed.statusChain) !== pinned || parsed.statusRegistry.toLowerCase() !== registry) {
      differ.push(`registry (the credential's status names ${parsed.statusRegistry} on chain ${parsed.statusChain})`);
    }
    const onChain = differ.length
      ? [false, `the registry holds uid ${parsed.uid} with another ${differ.join(", ")} than the credential's`]
      : [true, `the AttestationRegistry holds uid ${parsed.uid}, issued at ${iso(record.issuedAt)}, as the credential states`];
    const state = record.revokedAt ? "revoked" : record.expiresAt && record.expiresAt <= now / 1000 ? "expired" : "valid";
    return { onChain, state, record };
  } catch (error) {
    if (!(error instanceof ChainUnavailable)) throw error;
    return { onChain: [null, error.message], state: null, unavailable: true };
  }
}

export { iso };
