/** The bare CBV term of a business step or disposition however an event writes it: bare, as a
 * CBV or GS1 Web Vocabulary URI (http or https), or as a cbv:/gs1: CURIE. A journey's step
 * summary names these terms; any other value is kept as written. */

const CBV_URI = /^https?:\/\/(?:ref\.gs1\.org\/cbv|(?:www\.|id\.)?gs1\.org\/voc)\/(BizStep|Disp)-([A-Za-z0-9_]+)$/;
const PREFIXES = { cbv: "https://ref.gs1.org/cbv/", gs1: "https://gs1.org/voc/" };

function expand(value) {
  const colon = value.indexOf(":");
  if (colon < 0) return value;
  const prefix = value.slice(0, colon);
  return Object.prototype.hasOwnProperty.call(PREFIXES, prefix) ? PREFIXES[prefix] + value.slice(colon + 1) : value;
}

function cbvTerm(value, vocabulary) {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") return value;
  const match = CBV_URI.exec(expand(value));
  return match && match[1] === vocabulary ? match[2] : value;
}

export const bizStepTerm = (value) => cbvTerm(value, "BizStep");
export const dispositionTerm = (value) => cbvTerm(value, "Disp");
