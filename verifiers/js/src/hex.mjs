/** Strict readers of the hex values a document carries: 0x and exactly so many bytes. */

const patterns = new Map();

function pattern(size) {
  if (!patterns.has(size)) patterns.set(size, new RegExp(`^0x[0-9a-fA-F]{${size * 2}}$`));
  return patterns.get(size);
}

/** Whether `value` is 0x and exactly `size` bytes of hex. */
export function isHex(value, size) {
  return typeof value === "string" && pattern(size).test(value);
}

/** `value` in lowercase, or a MalformedDocument naming `name`. */
export function hexOf(value, size, name) {
  if (!isHex(value, size)) throw new MalformedDocument(`${name} is not 0x and ${size} bytes of hex`);
  return value.toLowerCase();
}

/** A document that is not what its verifier reads (not a chain finding: the input is unreadable). */
export class MalformedDocument extends Error {
  constructor(message) {
    super(message);
    this.name = "MalformedDocument";
  }
}

const NIBBLES = new Uint8Array(128);
for (let i = 0; i < 10; i++) NIBBLES[48 + i] = i;
for (let i = 0; i < 6; i++) NIBBLES[65 + i] = NIBBLES[97 + i] = 10 + i;

/** Writes the 32 bytes of `hash` (0x and 64 hex digits, already checked) into `out` at `offset`:
 * the hot path of every Merkle proof and chain, without a hex parser's checks and copies. */
export function hash32Into(out, offset, hash) {
  for (let i = 0, j = 2; i < 32; i++, j += 2) out[offset + i] = (NIBBLES[hash.charCodeAt(j)] << 4) | NIBBLES[hash.charCodeAt(j + 1)];
}
