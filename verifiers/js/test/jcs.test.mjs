import assert from "node:assert/strict";
import { test } from "node:test";

import { canonical, jcs } from "../src/jcs.mjs";

function fromBits(hex) {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt("0x" + hex));
  return view.getFloat64(0);
}

test("RFC 8785 appendix B: IEEE 754 numbers as ECMAScript writes them", () => {
  const table = {
    "0000000000000000": "0",
    "8000000000000000": "0",
    "0000000000000001": "5e-324",
    "8000000000000001": "-5e-324",
    "7fefffffffffffff": "1.7976931348623157e+308",
    ffefffffffffffff: "-1.7976931348623157e+308",
    "4340000000000000": "9007199254740992",
    c340000000000000: "-9007199254740992",
    "4430000000000000": "295147905179352830000",
    "44b52d02c7e14af5": "9.999999999999997e+22",
    "44b52d02c7e14af6": "1e+23",
    "44b52d02c7e14af7": "1.0000000000000001e+23",
    "444b1ae4d6e2ef4e": "999999999999999700000",
    "444b1ae4d6e2ef4f": "999999999999999900000",
    "444b1ae4d6e2ef50": "1e+21",
    "3eb0c6f7a0b5ed8c": "9.999999999999997e-7",
    "3eb0c6f7a0b5ed8d": "0.000001",
    "41b3de4355555553": "333333333.3333332",
    "41b3de4355555554": "333333333.33333325",
    "41b3de4355555555": "333333333.3333333",
    "41b3de4355555556": "333333333.3333334",
    "41b3de4355555557": "333333333.33333343",
    becbf647612f3696: "-0.0000033333333333333333",
    "43143ff3c1cb0959": "1424953923781206.2",
  };
  for (const [bits, text] of Object.entries(table)) assert.equal(jcs(fromBits(bits)), text, bits);
});

test("numbers a JSON reader parses: 12.0 is 12, 1e21 is 1e+21, -0 is 0", () => {
  const parsed = JSON.parse('[12.0, 1e21, 1E30, 0.1, -0, -0.0, 4.50, 2e-3, 0.000000000000000000000000001, 1e-7, 100]');
  assert.equal(jcs(parsed), "[12,1e+21,1e+30,0.1,0,0,4.5,0.002,1e-27,1e-7,100]");
});

test("NaN and Infinity have no canonical form", () => {
  assert.throws(() => jcs(NaN));
  assert.throws(() => jcs([Infinity]));
  assert.throws(() => jcs(undefined));
});

test("RFC 8785 §3.2.2 example: numbers, strings and literals", () => {
  const input = JSON.parse(
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
  );
  assert.equal(
    jcs(input),
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
});

test("RFC 8785 §3.2.3 example: members sorted by UTF-16 code units", () => {
  const input = {
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    1: "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis",
  };
  assert.equal(
    jcs(input),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
      '"€":"Euro Sign","😀":"Emoji: Grinning Face","דּ":"Hebrew Letter Dalet With Dagesh"}',
  );
});

test("canonical is the UTF-8 bytes of the JCS text", () => {
  assert.deepEqual([...canonical({ b: "é", a: 1 })], [...new TextEncoder().encode('{"a":1,"b":"é"}')]);
});
