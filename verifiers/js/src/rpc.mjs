/** A JSON-RPC client that batches: requests made while one tick runs leave together, as one
 * JSON-RPC batch per POST (at most `maxBatch` requests each), over fetch — in Node and in the
 * browser alike. Any failure (no answer, an HTTP error, an RPC error, a timeout) rejects the
 * request with RpcFailure naming it. */

export class RpcFailure extends Error {
  constructor(message) {
    super(message);
    this.name = "RpcFailure";
  }
}

export class JsonRpcBatcher {
  constructor(url, { timeoutMs = 20000, maxBatch = 100, stallMs = 5, fetchImpl = globalThis.fetch.bind(globalThis) } = {}) {
    this.url = url;
    this.timeoutMs = timeoutMs;
    this.maxBatch = maxBatch;
    this.stallMs = stallMs;
    this.fetch = fetchImpl;
    this.queue = [];
    this.timer = null;
    this.nextId = 1;
    this.posts = 0;
  }

  /** One JSON-RPC call; it leaves with the others of this tick. */
  send(method, params) {
    return new Promise((resolve, reject) => {
      this.queue.push({ payload: { jsonrpc: "2.0", id: this.nextId++, method, params }, resolve, reject });
      this.timer ??= setTimeout(() => this.flush(), this.stallMs);
    });
  }

  flush() {
    this.timer = null;
    const queue = this.queue;
    this.queue = [];
    for (let i = 0; i < queue.length; i += this.maxBatch) this.post(queue.slice(i, i + this.maxBatch));
  }

  async post(batch) {
    this.posts += 1;
    const fail = (why) => batch.forEach(({ reject }) => reject(new RpcFailure(why)));
    let answer;
    try {
      const response = await this.fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(batch.length === 1 ? batch[0].payload : batch.map((b) => b.payload)),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) return fail(`${this.url} answered HTTP ${response.status}`);
      answer = await response.json();
    } catch (error) {
      const why = error?.name === "TimeoutError" ? `no answer within ${this.timeoutMs / 1000} s` : error?.cause?.message || error?.message || String(error);
      return fail(`${this.url} could not be read: ${why}`);
    }
    const found = new Map((Array.isArray(answer) ? answer : [answer]).filter((r) => r && typeof r === "object").map((r) => [r.id, r]));
    for (const { payload, resolve, reject } of batch) {
      const reply = found.get(payload.id);
      if (!reply) reject(new RpcFailure(`${payload.method}: the endpoint gave no answer`));
      else if (reply.error) reject(new RpcFailure(`${payload.method}: ${reply.error.message ?? JSON.stringify(reply.error)}`));
      else if (!("result" in reply)) reject(new RpcFailure(`${payload.method}: the endpoint gave no result`));
      else resolve(reply.result);
    }
  }
}
