/** A verdict in a shopper's words (the journey page's "check it on this phone"): one line per
 * thing a reader cares about — signed, complete, unchanged, sealed, each claim, the carbon
 * figure — each ok, bad or unknown, failures first. English and German, as the pages are. */

const WORDS = {
  en: {
    verified: "Everything this page shows checks out against the chain.",
    failed: "Something on this page does not match the chain.",
    unavailable: (rpc) => `Could not reach the chain at ${rpc}. Nothing on this page was confirmed.`,
    pending: "Some of this page is not sealed on the chain yet, so it cannot all be confirmed.",
    signedOk: (managed, all) =>
      !managed ? "Every step was signed by the company named."
        : managed === all ? "Every step was signed with the key of the company named (a key this site keeps for it)."
        : `Every step was signed with the key of the company named (${managed} with a key this site keeps for the company).`,
    signedBad: (steps) => `Not signed by the company named: ${steps}.`,
    signedUnknown: "Whether every step was signed by the company named could not be checked.",
    contentOk: (n) => (n ? `What each step shows is exactly what was recorded (${n} details are not shown to you).` : "What each step shows is exactly what was recorded."),
    contentBad: (steps) => `Shows something other than what was recorded: ${steps}.`,
    contentUnknown: "Whether each step shows what was recorded could not be checked.",
    sealedOk: "Every step is sealed on the chain by a company allowed to record it, so it cannot be changed afterwards.",
    sealedBad: (steps) => `Not sealed on the chain as this page says: ${steps}.`,
    sealedUnavailable: "The seals on the chain could not be checked: the chain did not answer.",
    sealedPending: (steps) => `Not sealed on the chain yet: ${steps}.`,
    completeOk: (n) => (n ? `No step is missing from what this page shows (${n} ${n === 1 ? "record is" : "records are"} not shown to you).` : "No step is missing from what this page shows."),
    completeBad: "A step is missing from this page, or the page hides how many records it does not show.",
    completeUnknown: "Whether a step is missing could not be checked.",
    orderOk: "The steps belong to this product and are listed in the order they happened.",
    orderBad: "Some steps do not belong to this product, or are out of order.",
    pinsOk: "This page names the same chain and contracts the check relies on.",
    pinsBad: "This page names another chain or other contracts than the check relies on.",
    claimOk: {
      valid: (t, by) => `${t} was issued by ${by} and is not revoked.`,
      expired: (t, by) => `${t} was issued by ${by}; it has expired, as this page says.`,
      revoked: (t, by) => `${t} was issued by ${by} and was revoked, as this page says.`,
      disputed: (t, by) => `${t} was issued by ${by} and is not revoked; this page says it is disputed.`,
      "not-yet-valid": (t, by) => `${t} was issued by ${by}; it is not valid yet, as this page says.`,
      pending: (t, by) => `${t} by ${by} is not on the chain yet.`,
    },
    claimBad: (t, by) => `${t} by ${by} could not be confirmed: its signature, contents or status do not match the chain.`,
    claimUnknown: (t, by) => `${t} by ${by} could not be checked against the chain.`,
    footprintOk: "The carbon figure follows from the certified figures it is based on.",
    footprintBad: "The carbon figure does not follow from the figures it is based on.",
    footprintUnknown: "The carbon figure could not be checked yet.",
    step: (n, title) => (title ? `step ${n} (${title})` : `step ${n}`),
    claimTitle: (title, about) => (about ? `“${title}” for ${about}` : `“${title}”`),
    someone: "its issuer",
  },
  de: {
    verified: "Alles, was diese Seite zeigt, stimmt mit der Blockchain überein.",
    failed: "Etwas auf dieser Seite stimmt nicht mit der Blockchain überein.",
    unavailable: (rpc) => `Die Blockchain unter ${rpc} war nicht erreichbar. Nichts auf dieser Seite wurde bestätigt.`,
    pending: "Ein Teil dieser Seite ist noch nicht auf der Blockchain versiegelt und kann daher noch nicht ganz bestätigt werden.",
    signedOk: (managed, all) =>
      !managed ? "Jeder Schritt wurde von dem genannten Unternehmen signiert."
        : managed === all ? "Jeder Schritt wurde mit dem Schlüssel des genannten Unternehmens signiert (einem Schlüssel, den diese Website für es verwahrt)."
        : `Jeder Schritt wurde mit dem Schlüssel des genannten Unternehmens signiert (${managed} mit einem Schlüssel, den diese Website für das Unternehmen verwahrt).`,
    signedBad: (steps) => `Nicht von dem genannten Unternehmen signiert: ${steps}.`,
    signedUnknown: "Ob jeder Schritt von dem genannten Unternehmen signiert wurde, konnte nicht geprüft werden.",
    contentOk: (n) => (n ? `Jeder Schritt zeigt genau das, was aufgezeichnet wurde (${n} Angaben werden Ihnen nicht gezeigt).` : "Jeder Schritt zeigt genau das, was aufgezeichnet wurde."),
    contentBad: (steps) => `Zeigt etwas anderes als aufgezeichnet: ${steps}.`,
    contentUnknown: "Ob jeder Schritt zeigt, was aufgezeichnet wurde, konnte nicht geprüft werden.",
    sealedOk: "Jeder Schritt ist auf der Blockchain versiegelt, von einem Unternehmen, das ihn aufzeichnen darf, und lässt sich nachträglich nicht ändern.",
    sealedBad: (steps) => `Nicht so auf der Blockchain versiegelt, wie diese Seite sagt: ${steps}.`,
    sealedUnavailable: "Die Siegel auf der Blockchain konnten nicht geprüft werden: die Blockchain hat nicht geantwortet.",
    sealedPending: (steps) => `Noch nicht auf der Blockchain versiegelt: ${steps}.`,
    completeOk: (n) => (n ? `Kein Schritt fehlt in dem, was diese Seite zeigt (${n} ${n === 1 ? "Eintrag wird" : "Einträge werden"} Ihnen nicht gezeigt).` : "Kein Schritt fehlt in dem, was diese Seite zeigt."),
    completeBad: "Auf dieser Seite fehlt ein Schritt, oder sie verschweigt, wie viele Einträge sie nicht zeigt.",
    completeUnknown: "Ob ein Schritt fehlt, konnte nicht geprüft werden.",
    orderOk: "Die Schritte gehören zu diesem Produkt und stehen in der Reihenfolge, in der sie geschahen.",
    orderBad: "Einige Schritte gehören nicht zu diesem Produkt oder stehen in falscher Reihenfolge.",
    pinsOk: "Diese Seite nennt dieselbe Blockchain und dieselben Verträge, auf die sich die Prüfung stützt.",
    pinsBad: "Diese Seite nennt eine andere Blockchain oder andere Verträge als die, auf die sich die Prüfung stützt.",
    claimOk: {
      valid: (t, by) => `${t} wurde von ${by} ausgestellt und ist nicht widerrufen.`,
      expired: (t, by) => `${t} wurde von ${by} ausgestellt; es ist abgelaufen, wie diese Seite sagt.`,
      revoked: (t, by) => `${t} wurde von ${by} ausgestellt und widerrufen, wie diese Seite sagt.`,
      disputed: (t, by) => `${t} wurde von ${by} ausgestellt und ist nicht widerrufen; diese Seite sagt, dass es angefochten ist.`,
      "not-yet-valid": (t, by) => `${t} wurde von ${by} ausgestellt; es gilt noch nicht, wie diese Seite sagt.`,
      pending: (t, by) => `${t} von ${by} ist noch nicht auf der Blockchain.`,
    },
    claimBad: (t, by) => `${t} von ${by} konnte nicht bestätigt werden: Signatur, Inhalt oder Status stimmen nicht mit der Blockchain überein.`,
    claimUnknown: (t, by) => `${t} von ${by} konnte nicht mit der Blockchain abgeglichen werden.`,
    footprintOk: "Der CO₂-Wert folgt aus den bestätigten Werten, auf denen er beruht.",
    footprintBad: "Der CO₂-Wert folgt nicht aus den Werten, auf denen er beruht.",
    footprintUnknown: "Der CO₂-Wert konnte noch nicht geprüft werden.",
    step: (n, title) => (title ? `Schritt ${n} (${title})` : `Schritt ${n}`),
    claimTitle: (title, about) => (about ? `„${title}“ für ${about}` : `„${title}“`),
    someone: "seinem Aussteller",
  },
};

const STEP_GROUPS = {
  signed: ["authorship"],
  content: ["disclosed_fields", "field_list", "leaf", "summary"],
  sealed: ["merkle_proof", "anchored", "signer_role"],
};

/** ok when all are true, bad when any is false, else unknown. */
function stateOf(checks) {
  if (checks.some((c) => c.ok === false)) return "bad";
  return checks.length && checks.every((c) => c.ok === true) ? "ok" : "unknown";
}

export function wordsFor(lang) {
  return WORDS[lang] ?? WORDS.en;
}

/** The verdict as lines a shopper reads: {status, headline, lines: [{state, text, topic}]}.
 * `journey` the document checked; `titles` the page's own names of steps (by ref) and claims
 * (by uid: {title, about}), in the page's language; `rpcUrl` the endpoint asked. */
export function explain(verdict, journey, { lang = "en", titles = {}, rpcUrl = "" } = {}) {
  const w = wordsFor(lang);
  const checks = verdict.checks;
  const steps = Array.isArray(journey?.steps) ? journey.steps : [];
  const stepName = (n) => w.step(n, titles[steps[n - 1]?.ref]);
  const lines = [];
  const add = (topic, state, text) => lines.push({ topic, state, text });
  const stepChecks = (names) => checks.filter((c) => c.step && names.includes(c.name));
  const failedSteps = (names) => [...new Set(stepChecks(names).filter((c) => c.ok === false).map((c) => c.step))].map(stepName).join(", ");
  const byName = (name) => checks.filter((c) => c.name === name && !c.step && !c.claim);

  for (const [topic, names] of Object.entries(STEP_GROUPS)) {
    const group = stepChecks(names);
    if (!group.length) continue;
    const state = stateOf(group);
    if (topic === "signed") {
      const managed = steps.filter((s) => s?.event?.["constellate:record"]?.capture?.signedBy === "service").length;
      add(topic, state, state === "ok" ? w.signedOk(managed, steps.length) : state === "bad" ? w.signedBad(failedSteps(names)) : w.signedUnknown);
    } else if (topic === "content") {
      const withheld = Number(journey?.summary?.withheldFields) || 0;
      add(topic, state, state === "ok" ? w.contentOk(withheld) : state === "bad" ? w.contentBad(failedSteps(names)) : w.contentUnknown);
    } else if (state === "ok") {
      add(topic, state, w.sealedOk);
    } else if (state === "bad") {
      add(topic, state, w.sealedBad(failedSteps(names)));
    } else if (verdict.status === "unavailable") {
      add(topic, state, w.sealedUnavailable);
    } else {
      const open = [...new Set(group.filter((c) => c.ok === null).map((c) => c.step))].map(stepName).join(", ");
      add(topic, state, w.sealedPending(open));
    }
  }
  const complete = byName("completeness");
  if (complete.length) {
    const state = stateOf(complete);
    add("completeness", state, state === "ok" ? w.completeOk(verdict.recordsNotShown) : state === "bad" ? w.completeBad : w.completeUnknown);
  }
  const order = [...byName("structure"), ...byName("order")];
  if (order.length) add("order", stateOf(order), stateOf(order) === "bad" ? w.orderBad : w.orderOk);
  const claims = Array.isArray(journey?.claims) ? journey.claims : [];
  const uids = [...new Set(checks.filter((c) => c.claim).map((c) => c.claim))];
  for (const uid of uids) {
    const claim = claims.find((c) => c?.uid === uid) ?? {};
    const named = titles[uid] ?? {};
    const title = w.claimTitle(named.title || claim.title || uid.slice(0, 10), named.about);
    const by = claim.issuer?.name || w.someone;
    const state = stateOf(checks.filter((c) => c.claim === uid));
    const ok = w.claimOk[claim.status] ?? w.claimOk.valid;
    add(`claim:${uid}`, state, state === "ok" ? ok(title, by) : state === "bad" ? w.claimBad(title, by) : w.claimUnknown(title, by));
  }
  const footprint = byName("footprint");
  const headline = journey?.footprint?.kgCO2ePerDeclaredUnit;
  if (footprint.length && (headline !== null && headline !== undefined || footprint[0].ok !== true)) {
    const state = stateOf(footprint);
    add("footprint", state, state === "ok" ? w.footprintOk : state === "bad" ? w.footprintBad : w.footprintUnknown);
  }
  const pins = byName("pins");
  if (pins.length) add("pins", stateOf(pins), stateOf(pins) === "ok" ? w.pinsOk : w.pinsBad);
  const rank = { bad: 0, unknown: 1, ok: 2 };
  lines.sort((a, b) => rank[a.state] - rank[b.state]);
  const headlineText = verdict.status === "unavailable" ? w.unavailable(rpcUrl) : w[verdict.status];
  return { status: verdict.status, headline: headlineText, lines };
}
