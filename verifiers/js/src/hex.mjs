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
