/** Moments as the journey states them: EPCIS date-times with an offset (a step's eventTime, a
 * claim's expiry), and the RFC 3339 dates and date-times that bound a claim's validity. A moment
 * is {us, offset}: microseconds since the epoch (a BigInt) and the offset it was written in,
 * in minutes (a day named by a claim is the day in that offset). */

const DAY_US = 86_400_000_000n;

function daysInMonth(year, month) {
  return [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** Days from 1970-01-01 to a civil date (proleptic Gregorian). */
function daysFromCivil(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days) {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

/** A moment from civil fields, or null when they name no real time. */
export function moment(year, month, day, hour = 0, minute = 0, second = 0, micro = 0, offset = 0) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const local = BigInt(daysFromCivil(year, month, day)) * DAY_US + BigInt(((hour * 60 + minute) * 60 + second) * 1e6 + micro);
  return { us: local - BigInt(offset) * 60_000_000n, offset };
}

/** The day (YYYY-MM-DD) a moment falls on in its own offset. */
export function dayOf(m) {
  const local = m.us + BigInt(m.offset) * 60_000_000n;
  let days = local / DAY_US;
  if (local < 0n && local % DAY_US !== 0n) days -= 1n;
  const [y, mo, d] = civilFromDays(Number(days));
  return `${String(y).padStart(4, "0")}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/** The same wall time `years` later (29 February becomes the 28th). */
export function yearsOn(m, years) {
  const local = m.us + BigInt(m.offset) * 60_000_000n;
  let days = local / DAY_US;
  if (local < 0n && local % DAY_US !== 0n) days -= 1n;
  const within = local - days * DAY_US;
  const [y, mo, d] = civilFromDays(Number(days));
  const target = y + years;
  const day = mo === 2 && d === 29 && daysInMonth(target, 2) === 28 ? 28 : d;
  if (target > 9999) return null;
  return { us: BigInt(daysFromCivil(target, mo, day)) * DAY_US + within - BigInt(m.offset) * 60_000_000n, offset: m.offset };
}

export const fromSeconds = (seconds) => ({ us: BigInt(seconds) * 1_000_000n, offset: 0 });
export const nowMoment = (ms) => ({ us: BigInt(Math.floor(ms)) * 1000n, offset: 0 });
export const plusDays = (m, days) => ({ us: m.us + BigInt(days) * DAY_US, offset: m.offset });
export const minusMicro = (m) => ({ us: m.us - 1n, offset: m.offset });

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?)?$/;

/** A claim body's RFC 3339 full-date or date-time (a date: its midnight UTC; no offset: UTC; a
 * leap second: the second before it), or null when unreadable. */
export function bodyMoment(value) {
  const parts = typeof value === "string" ? RFC3339.exec(value) : null;
  if (!parts) return null;
  const [, year, month, day, hour, minute, second, fraction, zone] = parts;
  if (hour === undefined) return moment(+year, +month, +day);
  let offset = 0;
  if (zone && zone !== "Z" && zone !== "z") {
    const hours = +zone.slice(1, 3);
    const minutes = +zone.slice(4, 6);
    if (hours > 23 || minutes > 59) return null;
    offset = (zone[0] === "-" ? -1 : 1) * (hours * 60 + minutes);
  }
  const micro = +(fraction || "0").slice(0, 6).padEnd(6, "0");
  const leap = +second === 60;
  return moment(+year, +month, +day, +hour, +minute, leap ? 59 : +second, micro, offset);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d{1,6}))?)?)$/;

/** An ISO 8601 date-time with an offset (an EPCIS eventTime, a claim's expiry) as an instant, or
 * null (no offset, or no date-time). */
export function instant(value) {
  const parts = typeof value === "string" ? ISO.exec(value) : null;
  if (!parts) return null;
  const [, year, month, day, hour, minute, second, fraction, z, sign, oh, om, os] = parts;
  let offset = 0;
  if (!z) {
    if (+oh > 23 || +om > 59 || (os !== undefined && +os > 59)) return null;
    offset = (sign === "-" ? -1 : 1) * (+oh * 60 + +om + (os ? +os / 60 : 0));
  }
  const micro = +(fraction || "0").slice(0, 6).padEnd(6, "0");
  const m = moment(+year, +month, +day, +hour, +minute, +(second || 0), micro, 0);
  return m === null ? null : { us: m.us - BigInt(Math.round(offset * 60_000_000)), offset: 0 };
}
