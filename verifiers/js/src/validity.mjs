/** A claim's validity period as its body states it (the schema's own fields, or validFrom and
 * validUntil) and its on-chain expiry, whichever ends first — what a claim's status is checked
 * against. A day named as the last valid one lasts until its end; a PACT footprint without a
 * period is valid for 3 years from its reference period's end; an unreadable field fails closed. */

import { bodyMoment, dayOf, fromSeconds, minusMicro, plusDays, yearsOn } from "./moments.mjs";

export const VALIDITY_FIELDS = {
  "product-carbon-footprint": ["validityPeriodStart", "validityPeriodEnd"],
  "labour-audit": ["auditDate", "nextAuditDue"],
};
/** The body fields that bound a claim's validity besides validFrom and validUntil, by schema. */
export const VALIDITY_CONSULTED = {
  "product-carbon-footprint": ["validityPeriodStart", "validityPeriodEnd", "referencePeriodEnd"],
  "labour-audit": ["auditDate", "nextAuditDue"],
};
const PACT_VALIDITY_YEARS = 3;

/** Python's truthiness, which decides which validity field is read. */
export function truthy(value) {
  if (value === null || value === undefined || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

const present = (body, name) => Object.prototype.hasOwnProperty.call(body, name) && body[name] !== null;

export function validityOf(schemaName, body, expiresAt) {
  const [first, last] = VALIDITY_FIELDS[schemaName] ?? ["validFrom", "validUntil"];
  const consulted = [...new Set([first, "validFrom", last, "validUntil", ...(schemaName === "product-carbon-footprint" ? ["referencePeriodEnd"] : [])])];
  const unreadable = consulted.filter((name) => present(body, name) && bodyMoment(body[name]) === null);
  let starts = bodyMoment(body[first]) ?? bodyMoment(body.validFrom);
  const lastValue = truthy(body[last]) ? body[last] : body.validUntil;
  let ends = bodyMoment(lastValue);
  if (ends !== null && typeof lastValue === "string" && lastValue.length === 10) ends = plusDays(ends, 1);
  if (schemaName === "product-carbon-footprint" && starts === null) {
    starts = bodyMoment(body.referencePeriodEnd);
    if (starts !== null && ends === null) ends = yearsOn(starts, PACT_VALIDITY_YEARS);
  }
  if (expiresAt) {
    const onChain = fromSeconds(expiresAt);
    ends = ends === null || onChain.us < ends.us ? onChain : ends;
  }
  return {
    validFrom: starts ? dayOf(starts) : null,
    validUntil: ends ? dayOf(minusMicro(ends)) : null,
    startsAt: starts,
    endsAt: ends,
    unreadable,
  };
}
