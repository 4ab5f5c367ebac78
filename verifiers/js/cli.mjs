#!/usr/bin/env node
/** constellate's outside verifier, in JavaScript (docs/proof-format.md):
 *
 *   node verifiers/js/cli.mjs journey FILE_OR_URL --rpc-url URL --trust trust.json [--json]
 *   node verifiers/js/cli.mjs record FILE --rpc-url URL --trust trust.json [--json]
 *
 * FILE may be '-' (standard input); a URL is asked for JSON. --trust is a file of the pins you
 * trust (what GET /verify/trust answers). Exit 0 only when verified, 1 otherwise, 2 when the
 * input, the pins or the arguments cannot be read. */

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { MalformedDocument, checkJourney, checkRecord } from "./verify.mjs";

const USAGE = "usage: cli.mjs journey FILE_OR_URL | record FILE  --rpc-url URL --trust trust.json [--json]";

class Unreadable extends Error {}

async function readSource(source) {
  if (/^https?:\/\//.test(source)) {
    let response;
    try {
      response = await fetch(source, { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(30000) });
    } catch (error) {
      throw new Unreadable(`cannot read ${source}: ${error.cause?.message || error.message}`);
    }
    if (response.status !== 200) throw new Unreadable(`${source} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    try {
      return await response.json();
    } catch {
      throw new Unreadable(`${source} did not answer JSON`);
    }
  }
  let text;
  try {
    text = source === "-" ? readFileSync(0, "utf8") : readFileSync(source, "utf8");
  } catch (error) {
    throw new Unreadable(`cannot read ${source}: ${error.code || error.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Unreadable(`${source} is not JSON: ${error.message}`);
  }
}

function plain(label, verdict) {
  const lines = [`${label}: ${verdict.status}`];
  for (const check of verdict.checks) {
    const mark = check.ok === true ? "ok  " : check.ok === false ? "FAIL" : "----";
    const where = check.step ? `step ${check.step} ` : check.claim ? `claim ${check.claim.slice(0, 10)}… ` : "";
    lines.push(`  ${mark} ${where}${check.name}: ${check.detail}`);
  }
  if (verdict.recordsNotShown) lines.push(`  note: ${verdict.recordsNotShown} records of its items are not shown to you`);
  const failed = verdict.checks.filter((c) => c.ok === false).length;
  const open = verdict.checks.filter((c) => c.ok === null).length;
  lines.push(
    verdict.status === "verified"
      ? `${verdict.checks.length} checks: all verified`
      : `${verdict.checks.length} checks: ${failed} failed, ${open} could not be checked`,
  );
  return lines.join("\n");
}

async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { "rpc-url": { type: "string" }, trust: { type: "string" }, json: { type: "boolean", default: false } },
    });
  } catch (error) {
    throw new Unreadable(`${error.message}\n${USAGE}`);
  }
  const [command, source, ...rest] = parsed.positionals;
  const { "rpc-url": rpcUrl, trust: trustFile, json } = parsed.values;
  if (!["journey", "record"].includes(command) || !source || rest.length || !rpcUrl || !trustFile) throw new Unreadable(USAGE);
  if (command === "record" && /^https?:\/\//.test(source)) throw new Unreadable("record reads a FILE (or '-'), not a URL");
  if (!URL.canParse(rpcUrl) || !/^https?:$/.test(new URL(rpcUrl).protocol)) throw new Unreadable(`--rpc-url ${rpcUrl} is not an http:// or https:// URL`);
  const trust = await readSource(trustFile);
  const document = await readSource(source);
  const check = command === "journey" ? checkJourney : checkRecord;
  const verdict = await check(document, { rpcUrl, trust });
  process.stdout.write((json ? JSON.stringify(verdict) : plain(source, verdict)) + "\n");
  return verdict.status === "verified" ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    if (error instanceof Unreadable || error instanceof MalformedDocument) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`error: ${error.stack || error}\n`);
      process.exitCode = 2;
    }
  },
);
