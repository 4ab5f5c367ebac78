/** The journey page's "Check it on this phone" (served as /static/phone-check.js, a few kB): it
 * shows the form only where scripts run, and loads the verifier (/static/verifier.js) only when
 * the reader asks for a check. Words in the page's language; the page works without any of it. */

const WORDS = {
  en: {
    title: "Check it on this phone",
    intro: "Your phone checks every step and claim of this page against the public chain itself, not against this site's word.",
    endpoint: "Chain endpoint (JSON-RPC)",
    button: "Check now",
    checking: "Checking against the chain…",
    againstPins: "Checked against chain {chain}, ProvenanceAnchor {anchor}. These contract addresses come from this site: compare them with the ones the brand publishes, or check with your own (constellate verify journey --trust).",
    broken: "The check could not run: {why}",
    details: "Every check",
    badUrl: "Enter an http:// or https:// address.",
  },
  de: {
    title: "Auf diesem Telefon prüfen",
    intro: "Ihr Telefon prüft jeden Schritt und jede Angabe dieser Seite selbst an der öffentlichen Blockchain, nicht am Wort dieser Website.",
    endpoint: "Blockchain-Zugang (JSON-RPC)",
    button: "Jetzt prüfen",
    checking: "Prüfung an der Blockchain läuft…",
    againstPins: "Geprüft an Blockchain {chain}, ProvenanceAnchor {anchor}. Diese Vertragsadressen nennt diese Website: Vergleichen Sie sie mit denen, die die Marke veröffentlicht, oder prüfen Sie mit Ihren eigenen (constellate verify journey --trust).",
    broken: "Die Prüfung konnte nicht laufen: {why}",
    details: "Alle Prüfungen",
    badUrl: "Geben Sie eine http://- oder https://-Adresse ein.",
  },
};
const MARKS = { ok: "✓", bad: "✗", unknown: "?" };

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

/** The page's own names of its steps (by ref) and claims (by uid: title and what it is about). */
function titles() {
  const found = {};
  for (const step of document.querySelectorAll("[data-testid=step][data-ref]")) {
    const title = step.querySelector("[data-testid=step-title]");
    if (title) found[step.dataset.ref] = title.textContent.trim();
  }
  for (const claim of document.querySelectorAll("[data-testid=claim][data-uid]")) {
    const title = claim.querySelector("[data-testid=claim-title]");
    const about = claim.querySelector("[data-testid=claim-about]")?.dataset.about?.trim();
    if (title) found[claim.dataset.uid] = { title: title.textContent.trim(), about: about || null };
  }
  return found;
}

function start(section) {
  const lang = document.documentElement.lang in WORDS ? document.documentElement.lang : "en";
  const w = WORDS[lang];
  const input = element("input", { type: "url", id: "phone-check-rpc", name: "rpc", inputmode: "url", autocomplete: "off", spellcheck: "false", required: "", "data-testid": "phone-check-rpc" });
  input.value = section.dataset.rpcUrl || "";
  const button = element("button", { type: "submit", "data-testid": "phone-check-run" }, w.button);
  const result = element("div", { class: "phone-result", "aria-live": "polite", "data-testid": "phone-check-result" });
  const form = element(
    "form",
    { class: "phone-check-form", novalidate: "" },
    element("label", { for: "phone-check-rpc" }, w.endpoint),
    input,
    button,
  );
  section.replaceChildren(element("h2", { id: "phone-check-title" }, w.title), element("p", {}, w.intro), form, result);
  section.hidden = false;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const rpcUrl = input.value.trim();
    if (!/^https?:\/\/[^\s]+$/.test(rpcUrl)) {
      result.replaceChildren(element("p", { class: "phone-headline bad", "data-testid": "phone-check-headline", "data-status": "invalid" }, w.badUrl));
      return;
    }
    button.disabled = true;
    result.setAttribute("aria-busy", "true");
    result.replaceChildren(element("p", { class: "phone-headline", "data-testid": "phone-check-progress" }, w.checking));
    try {
      const { checkOnThisPhone } = await import(section.dataset.verifier);
      const found = await checkOnThisPhone({ journeyUrl: section.dataset.journey, trustUrl: section.dataset.trust, rpcUrl, lang, titles: titles() });
      const state = found.status === "verified" ? "ok" : found.status === "failed" ? "bad" : "unknown";
      const list = element("ul", { class: "phone-lines", "data-testid": "phone-check-lines" });
      for (const line of found.lines) {
        list.append(element("li", { class: line.state, "data-state": line.state, "data-topic": line.topic, "data-testid": "phone-check-line" }, element("span", { class: "mark", "aria-hidden": "true" }, MARKS[line.state]), " ", line.text));
      }
      const every = element("details", { class: "tech" }, element("summary", {}, w.details));
      const checks = element("ul", { class: "mono" });
      for (const c of found.verdict.checks) {
        const where = c.step ? ` ${c.step}` : c.claim ? ` ${c.claim.slice(0, 10)}…` : "";
        checks.append(element("li", { "data-ok": String(c.ok) }, `${MARKS[c.ok === true ? "ok" : c.ok === false ? "bad" : "unknown"]} ${c.name}${where}: ${c.detail}`));
      }
      every.append(checks);
      const [before, after] = w.againstPins.replace("{chain}", found.pins.chainId).split("{anchor}");
      const pins = element("p", { class: "muted" }, before, element("span", { class: "mono" }, found.pins.provenanceAnchor), after);
      result.replaceChildren(
        element("p", { class: `phone-headline ${state}`, role: state === "bad" ? "alert" : "status", "data-testid": "phone-check-headline", "data-status": found.status }, found.headline),
        list,
        pins,
        every,
      );
    } catch (error) {
      result.replaceChildren(element("p", { class: "phone-headline bad", role: "alert", "data-testid": "phone-check-headline", "data-status": "error" }, w.broken.replace("{why}", error.message)));
    } finally {
      button.disabled = false;
      result.removeAttribute("aria-busy");
    }
  });
}

const section = document.getElementById("phone-check");
if (section && section.dataset.verifier) start(section);
