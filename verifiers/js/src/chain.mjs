/** Reads the chain with nothing but a JSON-RPC endpoint and the pinned addresses. Reads made in
 * the same tick go out as one JSON-RPC batch (rpc.mjs), and each is asked once: a root read for
 * ten steps is one getAnchor, one log search. */

import { getAddress, id, Interface } from "ethers";

import { JsonRpcBatcher } from "./rpc.mjs";

export const WRITERS = 0xbf;
export const ROOT_ANCHORED = id("RootAnchored(bytes32,bytes32,address,uint32,bytes32)");

const ANCHOR = new Interface([
  "function getAnchor(bytes32 root) view returns (tuple(address by, uint64 anchoredAt, uint32 leafCount))",
]);
const REGISTRY = new Interface([
  "function hasAnyRole(bytes32 constellation, address account, uint256 anyOf) view returns (bool)",
]);
const ATTESTATIONS = new Interface([
  "function getAttestation(bytes32 uid) view returns (tuple(bytes32 uid, bytes32 schema, bytes32 constellation, bytes32 subject, bytes32 dataHash, bytes32 refUID, address issuer, uint64 issuedAt, uint64 expiresAt, uint64 revokedAt, bool revocable))",
  "function getSchema(bytes32 uid) view returns (tuple(bytes32 uid, address registrant, bool revocable, uint256 requiredRoles, string definition))",
]);

/** The chain could not be read (unreachable, no answer, not the contract pinned). */
export class ChainUnavailable extends Error {
  constructor(message) {
    super(message);
    this.name = "ChainUnavailable";
  }
}

function reason(error) {
  const text = error?.shortMessage || error?.message || String(error);
  return text.length > 200 ? text.slice(0, 200) + "…" : text;
}

const hexBlock = (number) => "0x" + number.toString(16);

export class ChainReader {
  /** `rpcUrl` the endpoint; `trust` the pins (docs/proof-format.md §1); `provider` a seam for
   * tests (anything with `send(method, params)`). */
  constructor({ rpcUrl, trust, timeoutMs = 20000, provider = null }) {
    this.trust = trust;
    this.rpcUrl = rpcUrl;
    this.provider = provider ?? new JsonRpcBatcher(rpcUrl, { timeoutMs });
    this.memo = new Map();
  }

  /** How many HTTP requests the reads took. */
  get posts() {
    return this.provider.posts;
  }

  once(key, read) {
    if (!this.memo.has(key)) {
      const promise = read().catch((error) => {
        throw error instanceof ChainUnavailable ? error : new ChainUnavailable(`${key.split(":")[0]} failed: ${reason(error)}`);
      });
      this.memo.set(key, promise);
    }
    return this.memo.get(key);
  }

  async call(to, iface, name, args, blockTag = "latest") {
    const data = iface.encodeFunctionData(name, args);
    const answer = await this.provider.send("eth_call", [{ to, data }, blockTag]);
    if (answer === "0x") throw new ChainUnavailable(`${name}: no contract answers at ${to}`);
    return iface.decodeFunctionResult(name, answer)[0];
  }

  /** eth_chainId, as a number. */
  chainId() {
    return this.once("eth_chainId", async () => Number(BigInt(await this.provider.send("eth_chainId", []))));
  }

  /** ProvenanceAnchor.getAnchor(root) at the latest block: {by, anchoredAt, leafCount}. */
  anchor(root) {
    return this.once(`getAnchor:${root}`, async () => {
      const found = await this.call(this.trust.provenanceAnchor, ANCHOR, "getAnchor", [root]);
      return { by: getAddress(found.by), anchoredAt: Number(found.anchoredAt), leafCount: Number(found.leafCount) };
    });
  }

  /** The root's RootAnchored logs, in `block` if given, else anywhere from block 0. */
  rootLogs(root, block) {
    const range = block === null || block === undefined ? { fromBlock: "0x0", toBlock: "latest" } : { fromBlock: hexBlock(block), toBlock: hexBlock(block) };
    return this.once(`eth_getLogs:${root}:${block ?? "any"}`, async () => {
      const logs = await this.provider.send("eth_getLogs", [
        { address: this.trust.provenanceAnchor, topics: [ROOT_ANCHORED, null, root], ...range },
      ]);
      return logs
        .filter((log) => !log.removed)
        .map((log) => ({
          constellation: log.topics[1].toLowerCase(),
          blockNumber: Number(BigInt(log.blockNumber)),
        }));
    });
  }

  /** Where the root was anchored: its log in the named block first, then anywhere (§6). */
  async anchoredLog(root, block) {
    if (block !== null && block !== undefined) {
      const here = await this.rootLogs(root, block);
      if (here.length) return here[0];
    }
    const anywhere = await this.rootLogs(root, null);
    return anywhere[0] ?? null;
  }

  /** ConstellationRegistry.hasAnyRole(constellation, account, WRITERS) at `block`. */
  hasWritingRole(constellation, account, block) {
    return this.once(`hasAnyRole:${constellation}:${account.toLowerCase()}:${block}`, () =>
      this.call(this.trust.constellationRegistry, REGISTRY, "hasAnyRole", [constellation, account, WRITERS], hexBlock(block)),
    );
  }

  /** AttestationRegistry.getSchema(uid).definition (null: no such schema). */
  schemaDefinition(uid) {
    return this.once(`getSchema:${uid}`, async () => {
      const schema = await this.call(this.trust.attestationRegistry, ATTESTATIONS, "getSchema", [uid]);
      return BigInt(schema.registrant) === 0n ? null : schema.definition;
    });
  }

  /** AttestationRegistry.getAttestation(uid) at the latest block. */
  attestation(uid) {
    return this.once(`getAttestation:${uid}`, async () => {
      const a = await this.call(this.trust.attestationRegistry, ATTESTATIONS, "getAttestation", [uid]);
      return {
        uid: a.uid.toLowerCase(),
        schema: a.schema.toLowerCase(),
        constellation: a.constellation.toLowerCase(),
        subject: a.subject.toLowerCase(),
        dataHash: a.dataHash.toLowerCase(),
        refUID: a.refUID.toLowerCase(),
        issuer: getAddress(a.issuer),
        issuedAt: Number(a.issuedAt),
        expiresAt: Number(a.expiresAt),
        revokedAt: Number(a.revokedAt),
        revocable: a.revocable,
      };
    });
  }
}
