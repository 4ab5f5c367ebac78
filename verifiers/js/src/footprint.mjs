/** The carbon headline recomputed from verified figures (docs/proof-format.md §8): an attested
 * headline is the verified pCfExcludingBiogenic of a valid claim about the item; a rolled-up one
 * is the sum over counted inputs of amount × intensity (each input's intensity a verified claim's
 * figure, or its own roll-up), allocated by the output quantities of the step that made it. */

import { canonicalId } from "./identifiers.mjs";

const TOLERANCE = 1e-6;
const ITEM_PREFIX = "https://id.gs1.org/01/";
const UNITS = {
  KGM: ["kilogram", 1.0],
  GRM: ["kilogram", 0.001],
  TNE: ["kilogram", 1000.0],
  LTR: ["liter", 1.0],
  MLT: ["liter", 0.001],
  MTQ: ["cubic meter", 1.0],
  KWH: ["kilowatt hour", 1.0],
  "3B": ["megajoule", 1.0],
  MTK: ["square meter", 1.0],
};
const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const isNumber = (value) => typeof value === "number" && Number.isFinite(value);
const own = (object, name) => Object.prototype.hasOwnProperty.call(object, name);
/** str() of a JSON value as the Python verifier reads it (null is "None"). */
const str = (value) => (value === null ? "None" : value === true ? "True" : value === false ? "False" : String(value));
const round6 = (x) => Math.round(x * 1e6) / 1e6;

export function close(a, b) {
  return isNumber(a) && isNumber(b) && Math.abs(a - b) <= TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b));
}

export function classOf(identifier) {
  return identifier.startsWith(ITEM_PREFIX) ? ITEM_PREFIX + identifier.slice(ITEM_PREFIX.length).split("/")[0] : identifier;
}

export function lotOf(identifier) {
  return identifier.startsWith(ITEM_PREFIX) && identifier.includes("/10/") && identifier.includes("/21/") ? identifier.split("/21/")[0] : null;
}

function netContents(raw) {
  const found = new Map();
  if (!isObject(raw)) return found;
  for (const [klass, entry] of Object.entries(raw)) {
    if (isObject(entry) && isNumber(entry.value) && typeof entry.unit === "string") found.set(klass, [entry.value, entry.unit]);
  }
  return found;
}

/** Each item of one side of a transformation with its amount in declared units ([value, unit],
 * or null where it cannot be known); entries of one item summed. */
export function amounts(event, epcField, quantityField, net) {
  const found = new Map();
  const add = (identifier, amount) => {
    if (!found.has(identifier)) return void found.set(identifier, amount);
    const before = found.get(identifier);
    found.set(identifier, before && amount && before[1] === amount[1] ? [before[0] + amount[0], amount[1]] : null);
  };
  for (const entry of Array.isArray(event[quantityField]) ? event[quantityField] : []) {
    if (!isObject(entry)) continue;
    const identifier = canonicalId(own(entry, "epcClass") ? str(entry.epcClass) : "");
    const quantity = entry.quantity;
    const unit = typeof entry.uom === "string" && own(UNITS, entry.uom) ? UNITS[entry.uom] : null;
    if (isNumber(quantity) && unit) add(identifier, [quantity * unit[1], unit[0]]);
    else if (isNumber(quantity)) {
      const per = net.get(classOf(identifier));
      add(identifier, per ? [quantity * per[0], per[1]] : null);
    } else add(identifier, null);
  }
  for (const epc of Array.isArray(event[epcField]) ? event[epcField] : []) {
    const identifier = canonicalId(str(epc));
    add(identifier, net.get(classOf(identifier)) ?? null);
  }
  return found;
}

function speaksFor(subject, item) {
  return subject === item || subject === classOf(item) || (lotOf(item) !== null && subject === lotOf(item));
}

/** The verified figure of a valid footprint claim about `item` in `unit`: [figure, why]. */
function figure(claim, item, unit) {
  if (!claim) return [null, "names no claim of this journey"];
  const value = claim.body.pCfExcludingBiogenic;
  if (claim.ok === false) return [null, `rests on claim ${claim.uid}, which fails verification`];
  if (claim.shownStatus !== "valid") return [null, `counts claim ${claim.uid}, shown ${JSON.stringify(claim.shownStatus)}, not valid`];
  if (!speaksFor(claim.subject, item)) return [null, `counts claim ${claim.uid}, which is about ${claim.subject}, not ${item}`];
  if (!isNumber(value) || (unit !== null && claim.body.declaredUnit !== unit)) return [null, `counts claim ${claim.uid}, which shows no pCfExcludingBiogenic per ${unit}`];
  return [value, ""];
}

function rolledUp(footprint, item, steps, claims, net, depth = 0) {
  if (depth > 25) return [null, ["the roll-up nests deeper than 25 levels"]];
  const madeBy = steps.get(str(footprint.madeBy ?? "").toLowerCase());
  if (!madeBy) return [null, [`the transformation that made ${item} (${JSON.stringify(footprint.madeBy ?? null)}) is not a step of the journey`]];
  const outputs = amounts(madeBy, "outputEPCList", "outputQuantityList", net);
  const inputs = amounts(madeBy, "inputEPCList", "inputQuantityList", net);
  const mine = outputs.get(item) ?? null;
  if (mine === null) return [null, [`the step that made ${item} does not say how much of it it made`]];
  let totalOut = 0;
  for (const a of outputs.values()) if (a !== null && a[1] === mine[1]) totalOut += a[0];
  const problems = [];
  const listed = Array.isArray(footprint.inputs) ? footprint.inputs : [];
  const named = new Set(listed.filter(isObject).map((i) => str(i.identifier)));
  if (named.size !== inputs.size || ![...named].every((n) => inputs.has(n))) problems.push(`the inputs listed for ${item} are not the inputs of the step that made it`);
  let emitted = 0;
  for (const entry of listed) {
    if (!isObject(entry)) continue;
    const source = str(entry.identifier);
    if (!entry.counted) {
      if (entry.kgCO2e !== null && entry.kgCO2e !== undefined) problems.push(`input ${source} is not counted, yet adds ${entry.kgCO2e} kg`);
      continue;
    }
    const amount = inputs.get(source) ?? null;
    if (amount === null || !close(amount[0], entry.amount) || amount[1] !== entry.unit) {
      problems.push(`the amount of input ${source} is not what the step that made ${item} says`);
      continue;
    }
    let intensity;
    if (isObject(entry.footprint)) {
      let more;
      [intensity, more] = rolledUp(entry.footprint, source, steps, claims, net, depth + 1);
      problems.push(...more);
      if (intensity !== null && !close(round6(intensity), entry.footprint.kgCO2ePerDeclaredUnit)) problems.push(`the footprint of input ${source} is not what its verified inputs add up to`);
    } else {
      const uid = str(own(entry, "claimUid") ? entry.claimUid : "").toLowerCase();
      let why;
      [intensity, why] = figure(claims.get(uid), source, amount[1]);
      if (intensity === null) problems.push(`input ${source} ${why}`);
    }
    if (intensity === null) continue;
    const kg = amount[0] * intensity;
    if (!close(kg, entry.kgCO2e)) problems.push(`input ${source} adds ${entry.kgCO2e} kg; its verified figures give ${round6(kg)}`);
    emitted += kg;
  }
  if (totalOut <= 0) return [null, [...problems, `the step that made ${item} names no amount made`]];
  return [emitted / totalOut, problems];
}

/** The `footprint` check: [ok, detail]. `claims` maps lowercase uid → {uid, ok, shownStatus, subject, body}. */
export function checkFootprint(document, claims, stepEvents) {
  const footprint = document.footprint;
  const headline = isObject(footprint) ? footprint.kgCO2ePerDeclaredUnit : null;
  if (!isObject(footprint) || headline === null || headline === undefined) return [true, "the journey states no carbon headline"];
  const item = canonicalId(str(isObject(document.item) && own(document.item, "digitalLink") ? document.item.digitalLink : ""));
  const source = footprint.source;
  const problems = [];
  if (canonicalId(str(own(footprint, "identifier") ? footprint.identifier : "")) !== item) problems.push("the footprint is not the journey item's");
  const unit = footprint.declaredUnit;
  let expected = null;
  if (source === "attested") {
    const uid = str(own(footprint, "claimUid") ? footprint.claimUid : "").toLowerCase();
    const claim = claims.get(uid);
    let why;
    [expected, why] = figure(claim, item, typeof unit === "string" ? unit : null);
    if (expected === null && claim && claim.shownStatus === "pending" && claim.ok !== false) {
      return [null, `the headline rests on claim ${uid}, not on chain yet`];
    }
    if (expected === null) problems.push(`the headline ${why}`);
  } else if (source === "rolled up") {
    let more;
    [expected, more] = rolledUp(footprint, item, stepEvents, claims, netContents(footprint.netContent));
    problems.push(...more);
  } else {
    problems.push(`a headline of source ${JSON.stringify(source ?? null)} cannot be recomputed`);
  }
  if (expected !== null && !close(round6(expected), headline)) problems.push(`the headline ${headline} is not the ${round6(expected)} verified figures give`);
  const product = isObject(document.product) ? document.product : {};
  const perUnit = footprint.kgCO2ePerUnit;
  if (perUnit !== null && perUnit !== undefined) {
    const net = product.netContent;
    if (!(product.netContentUnit === unit && isNumber(net) && isNumber(headline) && close(perUnit, headline * net))) {
      problems.push("the figure per unit is not the headline times the product's net content");
    }
  }
  return problems.length
    ? [false, problems.join("; ")]
    : [true, `the headline ${headline} kg CO2e per ${unit} follows from verified figures (${source})`];
}
