/** The verdict of docs/proof-format.md §9a: checks named as both verifiers name them, and a
 * status — any false is `failed`; all true is `verified`; else `unavailable` when the chain
 * could not be read, `pending` when something is not anchored yet. */

export class Verdict {
  constructor() {
    this.checks = [];
    this.recordsNotShown = 0;
    this.chainUnavailable = false;
  }

  /** Adds one check; `where` is {step} or {claim}. */
  add(name, ok, detail, where = {}) {
    this.checks.push({ name, ok, detail, ...where });
    return ok;
  }

  get status() {
    if (this.checks.some((c) => c.ok === false)) return "failed";
    if (this.checks.length && this.checks.every((c) => c.ok === true)) return "verified";
    return this.chainUnavailable ? "unavailable" : "pending";
  }

  toJSON() {
    return { status: this.status, checks: this.checks, recordsNotShown: this.recordsNotShown };
  }
}
