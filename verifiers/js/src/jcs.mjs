/** Canonical JSON (docs/proof-format.md §2): RFC 8785, the JSON Canonicalization Scheme, by its
 * reference implementation (`canonicalize`). `canonical(v)` is the UTF-8 bytes every hash reads. */

import canonicalize from "canonicalize";
import { toUtf8Bytes } from "ethers";

/** The JCS text of a JSON value; throws on what JSON cannot say (NaN, Infinity, undefined). */
export function jcs(value) {
  const text = canonicalize(value);
  if (typeof text !== "string") throw new TypeError("the value has no JSON form");
  return text;
}

/** canonical(v) = utf8(JCS(v)). */
export function canonical(value) {
  return toUtf8Bytes(jcs(value));
}

/** Strings sorted by their UTF-16 code units (JavaScript's default sort, RFC 8785's order). */
export function utf16Order(names) {
  return [...names].sort();
}
