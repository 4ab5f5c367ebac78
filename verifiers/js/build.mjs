#!/usr/bin/env node
/** Bundles the verifier for the browser with esbuild: build/web/verifier.js (the library and
 * ethers, loaded on demand) and build/web/phone-check.js (the page's form). Nothing generated is
 * committed; scripts/bootstrap and the browser tests run this. `--check` exits 1 if the bundle
 * is older than its sources. */

import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
export const OUT = join(here, "..", "..", "build", "web");

mkdirSync(OUT, { recursive: true });
await build({
  entryPoints: { verifier: join(here, "src", "browser.mjs"), "phone-check": join(here, "src", "phone-check.mjs") },
  outdir: OUT,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  legalComments: "eof",
  logLevel: "warning",
});
