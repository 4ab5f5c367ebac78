/** The verifier as the journey page loads it on demand (bundled into /static/verifier.js): the
 * journey and the service's pins read from this site, every check run against the chain at the
 * endpoint the reader chose, the verdict returned in the reader's words. */

import { ChainReader } from "./chain.mjs";
import { parseTrust, verifyJourney } from "./journey.mjs";
import { explain } from "./words.mjs";

async function json(url, what) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  } catch (error) {
    throw new Error(`${what}: ${error.message}`);
  }
  if (!response.ok) throw new Error(`${what}: ${response.status}`);
  return response.json();
}

/** Checks the journey at `journeyUrl` against the chain at `rpcUrl`:
 * {status, headline, lines, verdict}. */
export async function checkOnThisPhone({ journeyUrl, trustUrl, rpcUrl, lang = "en", titles = {}, timeoutMs = 20000 }) {
  const [journey, trust] = await Promise.all([json(journeyUrl, "the journey"), json(trustUrl, "the pins")]);
  const pins = parseTrust(trust);
  const reader = new ChainReader({ rpcUrl, trust: pins, timeoutMs });
  const verdict = (await verifyJourney(journey, { reader, trust: pins })).toJSON();
  return { ...explain(verdict, journey, { lang, titles, rpcUrl }), verdict, pins };
}

export { explain };
