/**
 * Calendar arithmetic and the time texts PBS uses: RFC 3339 (snapshot directory names are
 * `YYYY-MM-DDTHH:MM:SSZ`, UTC, second precision), and systemd-style time spans (`1h 30m`).
 *
 * Dates are proleptic Gregorian, computed with integer day counts (not `Date`, which maps years
 * 0..99 to 1900..1999). The RFC 3339 range is upstream's: 0000-01-01T00:00:00Z ..
 * 9999-12-31T23:59:59Z. A leap second (`:60`) is read as the next second, as upstream does.
 */
import { fail } from './errors.ts';

/** A wall-clock time broken into fields; month 1..12, day 1..31, weekday 0 = Sunday. */
export interface CivilTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

export const MIN_RFC3339_EPOCH = -62167219200;
export const MAX_RFC3339_EPOCH = 253402300799;

const DAY = 86400;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** The date of a day count since 1970-01-01. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayOfDays(days: number): number {
  return (((days + 4) % 7) + 7) % 7;
}

export function civilFromEpoch(epoch: number): CivilTime {
  const days = Math.floor(epoch / DAY);
  const secs = epoch - days * DAY;
  return { ...civilFromDays(days), hour: Math.floor(secs / 3600), minute: Math.floor((secs % 3600) / 60), second: secs % 60 };
}

/** Epoch seconds of a UTC civil time; out-of-range fields carry over (second 60 = next minute). */
export function epochFromCivil(c: CivilTime): number {
  return daysFromCivil(c.year, c.month, c.day) * DAY + c.hour * 3600 + c.minute * 60 + c.second;
}

/** ISO 8601 week-numbering year and week (`%G/%V`) of a date. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const days = daysFromCivil(year, month, day);
  const isoWeekday = ((weekdayOfDays(days) + 6) % 7) + 1; // Monday 1 … Sunday 7
  const thursday = days + 4 - isoWeekday;
  const weekYear = civilFromDays(thursday).year;
  return { year: weekYear, week: Math.floor((thursday - daysFromCivil(weekYear, 1, 1)) / 7) + 1 };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DDTHH:MM:SSZ` of an integer epoch in the RFC 3339 range. */
export function formatRfc3339(epoch: number): string {
  if (!Number.isInteger(epoch) || epoch < MIN_RFC3339_EPOCH || epoch > MAX_RFC3339_EPOCH) {
    throw fail('INVALID_ARGUMENT', `epoch ${epoch} is outside the RFC 3339 range (years 0000..9999)`, { value: epoch });
  }
  const c = civilFromEpoch(epoch);
  const date = `${pad(c.year, 4)}-${pad(c.month, 2)}-${pad(c.day, 2)}`;
  return `${date}T${pad(c.hour, 2)}:${pad(c.minute, 2)}:${pad(c.second, 2)}Z`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function badTime(text: string, why: string): never {
  throw fail('INVALID_ARGUMENT', `invalid RFC 3339 time '${text}': ${why}`, { value: text });
}

/** Epoch seconds of an RFC 3339 time with `Z` or `±HH:MM`; a fraction of a second is dropped. */
export function parseRfc3339(text: string): number {
  const m = RFC3339.exec(text);
  if (m === null) return badTime(text, 'expected YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)');
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) badTime(text, 'no such date');
  if (hour > 23 || minute > 59 || second > 60) badTime(text, 'no such time of day');
  const zone = m[7] ?? 'Z';
  const offset = /^[Zz]$/.test(zone) ? 0 : offsetSeconds(text, zone);
  const epoch = epochFromCivil({ year, month, day, hour, minute, second }) - offset;
  if (epoch < MIN_RFC3339_EPOCH || epoch > MAX_RFC3339_EPOCH) badTime(text, 'outside years 0000..9999 UTC');
  return epoch;
}

function offsetSeconds(text: string, zone: string): number {
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (hours > 23 || minutes > 59) badTime(text, `bad offset '${zone}'`);
  return (zone.startsWith('-') ? -1 : 1) * (hours * 3600 + minutes * 60);
}

/**
 * Parses a snapshot directory time: exactly `YYYY-MM-DDTHH:MM:SSZ` and canonical (no leap
 * second, no offset), so that formatting the result gives the same text back.
 */
export function parseBackupTime(text: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text)) badTime(text, 'expected YYYY-MM-DDTHH:MM:SSZ');
  const epoch = parseRfc3339(text);
  if (formatRfc3339(epoch) !== text) badTime(text, 'not a canonical snapshot time');
  return epoch;
}

// ---- time spans (systemd.time(7), VECTORS.md §15.3)

const SPAN_UNITS: ReadonlyMap<string, number> = new Map([
  ...['nsec', 'ns'].map((u) => [u, 1e-9] as const),
  ...['usec', 'us', '\u00b5s', '\u03bcs'].map((u) => [u, 1e-6] as const),
  ...['msec', 'ms'].map((u) => [u, 1e-3] as const),
  ...['seconds', 'second', 'sec', 's'].map((u) => [u, 1] as const),
  ...['minutes', 'minute', 'min', 'm'].map((u) => [u, 60] as const),
  ...['hours', 'hour', 'hr', 'h'].map((u) => [u, 3600] as const),
  ...['days', 'day', 'd'].map((u) => [u, DAY] as const),
  ...['weeks', 'week', 'w'].map((u) => [u, 7 * DAY] as const),
  ...['months', 'month', 'M'].map((u) => [u, 30.44 * DAY] as const),
  ...['years', 'year', 'y'].map((u) => [u, 365.25 * DAY] as const),
]);

/** Seconds in a time span such as `1h 30m`, `55s500ms` or a bare `300` (seconds). */
export function parseTimeSpan(text: string): number {
  const part = /\s*(\d+(?:\.\d+)?)\s*([A-Za-z\u00b5\u03bc]*)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length && text.slice(pos).trim() !== '') {
    part.lastIndex = pos;
    const m = part.exec(text);
    const unit = SPAN_UNITS.get(m?.[2] === '' ? 's' : (m?.[2] ?? ''));
    if (m === null || unit === undefined) {
      throw fail('INVALID_ARGUMENT', `invalid time span '${text}' at '${text.slice(pos).trim()}'`, { value: text });
    }
    total += Number(m[1]) * unit;
    pos = part.lastIndex;
  }
  if (pos === 0) throw fail('INVALID_ARGUMENT', `invalid time span '${text}': empty`, { value: text });
  return total;
}
