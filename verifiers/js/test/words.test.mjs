import assert from "node:assert/strict";
import { test } from "node:test";

import { explain } from "../src/words.mjs";

const journey = {
  steps: [
    { ref: "0xa", event: { "constellate:record": { capture: { signedBy: "self" } } } },
    { ref: "0xb", event: { "constellate:record": { capture: { signedBy: "self" } } } },
  ],
  claims: [{ uid: "0xc1", status: "valid", title: "Fairtrade", issuer: { name: "FLOCERT" } }],
  summary: { withheldFields: 3 },
  footprint: { kgCO2ePerDeclaredUnit: 1.8 },
};

function verdict(overrides = {}, status = "verified") {
  const checks = [
    { name: "pins", ok: true },
    { name: "structure", ok: true },
    ...[1, 2].flatMap((step) =>
      ["disclosed_fields", "field_list", "leaf", "authorship", "signer_role", "merkle_proof", "anchored", "summary"].map((name) => ({ name, ok: true, step })),
    ),
    { name: "order", ok: true },
    { name: "completeness", ok: true },
    ...["claim.signature", "claim.uid", "claim.disclosed_fields", "claim.on_chain", "claim.status", "claim.summary"].map((name) => ({ name, ok: true, claim: "0xc1" })),
    { name: "footprint", ok: true },
  ];
  for (const c of checks) {
    const key = c.step ? `${c.name}:${c.step}` : c.name;
    if (key in overrides) c.ok = overrides[key];
  }
  return { status, checks, recordsNotShown: 2 };
}

test("all green: one line per thing a shopper cares about, in words", () => {
  const said = explain(verdict(), journey, { titles: { "0xc1": { title: "Fairtrade", about: "Lot L1" } } });
  assert.equal(said.headline, "Everything this page shows checks out against the chain.");
  assert.deepEqual(
    said.lines.map((l) => [l.state, l.text]),
    [
      ["ok", "Every step was signed by the company named."],
      ["ok", "What each step shows is exactly what was recorded (3 details are not shown to you)."],
      ["ok", "Every step is sealed on the chain by a company allowed to record it, so it cannot be changed afterwards."],
      ["ok", "No step is missing from what this page shows (2 records are not shown to you)."],
      ["ok", "The steps belong to this product and are listed in the order they happened."],
      ["ok", "“Fairtrade” for Lot L1 was issued by FLOCERT and is not revoked."],
      ["ok", "The carbon figure follows from the certified figures it is based on."],
      ["ok", "This page names the same chain and contracts the check relies on."],
    ],
  );
});

test("a failure comes first and names the step as the page names it", () => {
  const said = explain(verdict({ "authorship:2": false }, "failed"), journey, { titles: { "0xb": "Shipped" } });
  assert.equal(said.headline, "Something on this page does not match the chain.");
  assert.deepEqual(said.lines[0], { topic: "signed", state: "bad", text: "Not signed by the company named: step 2 (Shipped)." });
});

test("an unreachable chain is said as such, never as verified", () => {
  const open = { "anchored:1": null, "anchored:2": null, "signer_role:1": null, "signer_role:2": null, completeness: null, "claim.on_chain": null, "claim.status": null };
  const said = explain(verdict(open, "unavailable"), journey, { rpcUrl: "https://rpc.example" });
  assert.equal(said.headline, "Could not reach the chain at https://rpc.example. Nothing on this page was confirmed.");
  assert.equal(said.lines[0].text, "The seals on the chain could not be checked: the chain did not answer.");
  assert.ok(said.lines.every((l) => l.state !== "bad"));
});

test("German: the same lines in the page's language; a managed key is said as such", () => {
  const managed = { ...journey, steps: journey.steps.map((s) => ({ ...s, event: { "constellate:record": { capture: { signedBy: "service" } } } })) };
  const said = explain(verdict(), managed, { lang: "de" });
  assert.equal(said.headline, "Alles, was diese Seite zeigt, stimmt mit der Blockchain überein.");
  assert.equal(said.lines[0].text, "Jeder Schritt wurde mit dem Schlüssel des genannten Unternehmens signiert (einem Schlüssel, den diese Website für es verwahrt).");
  assert.ok(said.lines.some((l) => l.text === "„Fairtrade“ wurde von FLOCERT ausgestellt und ist nicht widerrufen."));
});

test("a claim shown revoked that the chain holds revoked is a verified fact", () => {
  const revoked = { ...journey, claims: [{ ...journey.claims[0], status: "revoked" }] };
  const said = explain(verdict(), revoked, {});
  assert.ok(said.lines.some((l) => l.state === "ok" && l.text === "“Fairtrade” was issued by FLOCERT and was revoked, as this page says."));
});
