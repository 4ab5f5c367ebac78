/** The canonical GS1 Digital Link URI of an identifier written as an EPC URN or a Digital Link
 * URI on any host (CBV 2.0 §8.9 rules 17 and 18), as the service writes a journey's items: a
 * step's named items are compared with the journey's item, lineage and containers in this form.
 * Anything that is no recognisable GS1 identifier comes back unchanged. */

const HOST = "https://id.gs1.org";
const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$/;
const CSET39 = /^[#\-/0-9A-Z]+$/;
const DIGITS = /^[0-9]+$/;
const KEEP = /^[A-Za-z0-9_.\-~';=]$/;

class NotAnIdentifier extends Error {}

function fail(message) {
  throw new NotAnIdentifier(message);
}

/** Percent-decoding as Python's urllib.parse.unquote does it (a bad escape stays as written). */
function unquote(raw) {
  if (!raw.includes("%")) return raw;
  const bytes = [];
  for (let i = 0; i < raw.length; ) {
    if (raw[i] === "%" && /^[0-9a-fA-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      const code = raw.codePointAt(i);
      const char = String.fromCodePoint(code);
      bytes.push(...new TextEncoder().encode(char));
      i += char.length;
    }
  }
  return new TextDecoder("utf-8").decode(new Uint8Array(bytes));
}

/** Every character but letters, digits and -._~';= percent-encoded (the value is ASCII). */
function quote(value) {
  let out = "";
  for (const char of value) {
    out += KEEP.test(char) ? char : [...new TextEncoder().encode(char)].map((b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join("");
  }
  return out;
}

function component(raw, maxLength, charset = CSET82) {
  const value = unquote(raw);
  if ([...value].length > maxLength || !charset.test(value)) fail(`${value} is not a GS1 component`);
  return quote(value);
}

function digits(raw, lengths) {
  if (!lengths.includes(raw.length) || !DIGITS.test(raw)) fail(`${raw} is not the digits of a key`);
  return raw;
}

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function withCheckDigit(body) {
  let total = 0;
  for (let i = body.length - 1, weight = 3; i >= 0; i--, weight = 4 - weight) total += weight * Number(body[i]);
  return body + String((10 - (total % 10)) % 10);
}

function prefix(gcp) {
  if (gcp.length < 6 || gcp.length > 12) fail(`the company prefix ${gcp} is not 6 to 12 digits`);
  return gcp;
}

function key(gcp, reference, length) {
  const all = prefix(gcp) + reference;
  if (all.length !== length) fail(`${gcp} and ${reference} make ${all.length} digits, not ${length}`);
  return all;
}

function gtin(gcp, indicatorAndItem) {
  key(gcp, indicatorAndItem, 13);
  return withCheckDigit(indicatorAndItem[0] + gcp + indicatorAndItem.slice(1));
}

function sgln(gcp, location, extension) {
  const gln = withCheckDigit(key(gcp, location, 12));
  return extension === "0" ? `/414/${gln}` : `/414/${gln}/254/${component(extension, 20)}`;
}

function serialShipping(gcp, extensionAndSerial) {
  key(gcp, extensionAndSerial, 17);
  return `/00/${withCheckDigit(extensionAndSerial[0] + gcp + extensionAndSerial.slice(1))}`;
}

const cpi = (gcp, part) => component(prefix(gcp) + part, 30, CSET39);

const N = "([0-9]+)";
const N0 = "([0-9]*)";
const S = "(.+)";
const URN_BUILDERS = {
  "id:sgtin": [`${N}\\.${N}\\.${S}`, (c, r, s) => `/01/${gtin(c, r)}/21/${component(s, 20)}`],
  "id:sscc": [`${N}\\.${N}`, serialShipping],
  "id:sgln": [`${N}\\.${N0}\\.${S}`, sgln],
  "id:grai": [`${N}\\.${N0}\\.${S}`, (c, r, s) => `/8003/0${withCheckDigit(key(c, r, 12))}${component(s, 16)}`],
  "id:giai": [`${N}\\.${S}`, (c, s) => `/8004/${prefix(c)}${component(s, 30 - c.length)}`],
  "id:gsrn": [`${N}\\.${N}`, (c, r) => `/8018/${withCheckDigit(key(c, r, 17))}`],
  "id:gsrnp": [`${N}\\.${N}`, (c, r) => `/8017/${withCheckDigit(key(c, r, 17))}`],
  "id:gdti": [`${N}\\.${N0}\\.${S}`, (c, r, s) => `/253/${withCheckDigit(key(c, r, 12))}${component(s, 17)}`],
  "id:cpi": [`${N}\\.([^.]*)\\.${N}`, (c, p, s) => `/8010/${cpi(c, p)}/8011/${digits(s, range(1, 12))}`],
  "id:sgcn": [`${N}\\.${N0}\\.${N}`, (c, r, s) => `/255/${withCheckDigit(key(c, r, 12))}${digits(s, range(1, 12))}`],
  "id:ginc": [`${N}\\.${S}`, (c, s) => `/401/${prefix(c)}${component(s, 30 - c.length)}`],
  "id:gsin": [`${N}\\.${N}`, (c, r) => `/402/${withCheckDigit(key(c, r, 16))}`],
  "id:itip": [
    `${N}\\.${N}\\.([0-9]{2})\\.([0-9]{2})\\.${S}`,
    (c, r, piece, total, s) => `/8006/${gtin(c, r)}${piece}${total}/21/${component(s, 20)}`,
  ],
  "id:upui": [`${N}\\.${N}\\.${S}`, (c, r, s) => `/01/${gtin(c, r)}/235/${component(s, 28)}`],
  "id:pgln": [`${N}\\.${N0}`, (c, r) => `/417/${withCheckDigit(key(c, r, 12))}`],
  "class:lgtin": [`${N}\\.${N}\\.${S}`, (c, r, lot) => `/01/${gtin(c, r)}/10/${component(lot, 20)}`],
  "idpat:sgtin": [`${N}\\.${N}\\.\\*`, (c, r) => `/01/${gtin(c, r)}`],
  "idpat:grai": [`${N}\\.${N0}\\.\\*`, (c, r) => `/8003/0${withCheckDigit(key(c, r, 12))}`],
  "idpat:gdti": [`${N}\\.${N0}\\.\\*`, (c, r) => `/253/${withCheckDigit(key(c, r, 12))}`],
  "idpat:sgcn": [`${N}\\.${N0}\\.\\*`, (c, r) => `/255/${withCheckDigit(key(c, r, 12))}`],
  "idpat:cpi": [`${N}\\.([^.]*)\\.\\*`, (c, p) => `/8010/${cpi(c, p)}`],
  "idpat:itip": [`${N}\\.${N}\\.([0-9]{2})\\.([0-9]{2})\\.\\*`, (c, r, piece, total) => `/8006/${gtin(c, r)}${piece}${total}`],
  "idpat:upui": [`${N}\\.${N}\\.\\*`, (c, r) => `/01/${gtin(c, r)}`],
};
const URN = /^urn:epc:(id|class|idpat):([a-z]+):(.+)$/;
const URN_PARSERS = Object.fromEntries(
  Object.entries(URN_BUILDERS).map(([scheme, [pattern, build]]) => [scheme, [new RegExp(`^${pattern}$`), build]]),
);

function urnPath(urn) {
  const match = URN.exec(urn);
  const parser = match && URN_PARSERS[`${match[1]}:${match[2]}`];
  if (!parser) fail("not an EPC URN of a GS1 key");
  const parts = parser[0].exec(match[3]);
  if (!parts) fail("not of its scheme's form");
  return parser[1](...parts.slice(1));
}

const KEY_CODES = {
  "00": "00", sscc: "00", "01": "01", gtin: "01", 253: "253", gdti: "253", 255: "255", gcn: "255",
  401: "401", ginc: "401", 402: "402", gsin: "402", 414: "414", gln: "414", 417: "417",
  party: "417", 8003: "8003", grai: "8003", 8004: "8004", giai: "8004", 8006: "8006",
  itip: "8006", 8010: "8010", cpid: "8010", 8017: "8017", gsrnp: "8017", 8018: "8018", gsrn: "8018",
};
const QUALIFIER_CODES = {
  22: "22", cpv: "22", 10: "10", lot: "10", 21: "21", ser: "21", 235: "235",
  254: "254", glnx: "254", 8011: "8011", cpsn: "8011",
};
const numericKey = (...lengths) => (raw) => digits(raw, lengths).padStart(Math.max(...lengths), "0");
const numericThen = (count, tail) => (raw) => digits(raw.slice(0, count), [count]) + (raw.length > count ? tail(raw.slice(count)) : "");
const text = (maxLength, charset = CSET82) => (raw) => component(raw, maxLength, charset);
const serialDigits = (raw) => digits(raw, range(1, 12));
const KEY_FORMATS = {
  "00": numericKey(18),
  "01": numericKey(8, 12, 13, 14),
  253: numericThen(13, text(17)),
  255: numericThen(13, serialDigits),
  401: text(30),
  402: numericKey(17),
  414: numericKey(13),
  417: numericKey(13),
  8003: numericThen(14, text(16)),
  8004: text(30),
  8006: numericKey(18),
  8010: text(30, CSET39),
  8017: numericKey(18),
  8018: numericKey(18),
};
const QUALIFIER_FORMATS = { 22: text(20), 10: text(20), 21: text(20), 235: text(28), 254: text(20), 8011: serialDigits };
const QUALIFIER_ORDERS = { "01": [["22", "10", "21"], ["235"]], 8006: [["22", "10", "21"]], 8010: [["8011"]], 414: [["254"]] };
const KEPT_QUALIFIERS = ["21", "235", "10", "8011", "254"];
const DIGITAL_LINK = /^https?:\/\/[^/?#]+(\/[^?#]*)(?:\?[^#]*)?(?:#.*)?$/;
const own = (object, name) => Object.prototype.hasOwnProperty.call(object, name);

function inOrder(codes, order) {
  let at = 0;
  return codes.every((code) => {
    const found = order.indexOf(code, at);
    if (found < 0) return false;
    at = found + 1;
    return true;
  });
}

function gs1Path(segments) {
  const code = KEY_CODES[segments[0]];
  let path = `/${code}/${KEY_FORMATS[code](segments[1])}`;
  const qualifiers = new Map();
  for (let i = 2; i < segments.length; i += 2) {
    const qualifier = own(QUALIFIER_CODES, segments[i]) ? QUALIFIER_CODES[segments[i]] : undefined;
    if (qualifier === undefined || qualifiers.has(qualifier)) fail(`${segments[i]} is not a key qualifier, or comes twice`);
    qualifiers.set(qualifier, QUALIFIER_FORMATS[qualifier](segments[i + 1]));
  }
  const orders = own(QUALIFIER_ORDERS, code) ? QUALIFIER_ORDERS[code] : [];
  if (qualifiers.size && !orders.some((order) => inOrder([...qualifiers.keys()], order))) fail("qualifiers out of order");
  const kept = KEPT_QUALIFIERS.find((q) => qualifiers.has(q));
  if (kept) path += `/${kept}/${qualifiers.get(kept)}`;
  return path;
}

function digitalLinkPath(uri) {
  const match = DIGITAL_LINK.exec(uri);
  if (!match) fail("not an http(s) URI with a path");
  const trimmed = match[1].endsWith("/") ? match[1].slice(0, -1) : match[1];
  const segments = trimmed.split("/").slice(1);
  let problem = new NotAnIdentifier("no GS1 key followed by its value and qualifiers");
  for (let start = 0; start < segments.length - 1; start++) {
    if (own(KEY_CODES, segments[start]) && (segments.length - start) % 2 === 0) {
      try {
        return gs1Path(segments.slice(start));
      } catch (error) {
        if (!(error instanceof NotAnIdentifier)) throw error;
        problem = error;
      }
    }
  }
  throw problem;
}

const cache = new Map();

/** The canonical form of `uri` (unchanged when it is no GS1 identifier). */
export function canonicalId(uri) {
  if (typeof uri !== "string" || !/^(urn:epc:|https:\/\/|http:\/\/)/.test(uri)) return uri;
  if (cache.has(uri)) return cache.get(uri);
  let found;
  try {
    found = HOST + (uri.startsWith("urn:") ? urnPath(uri) : digitalLinkPath(uri));
  } catch (error) {
    if (!(error instanceof NotAnIdentifier)) throw error;
    found = uri;
  }
  if (cache.size > 65536) cache.clear();
  cache.set(uri, found);
  return found;
}
