/**
 * PBS calendar events (schedules such as `gc-schedule daily`), a subset of systemd.time(7):
 *
 *     [WEEKDAYS] [[YEARS-]MONTHS-DAYS] [HOURS:MINUTES[:SECONDS] | MINUTES] [UTC]
 *
 * Supported, and tested against every vector of VECTORS.md §15.2:
 * - weekdays: `mon`…`sun` or full names, any case; lists and ranges, ranges may wrap
 *   (`fri..mon`); e.g. `mon,wed..fri`.
 * - every numeric field: `*`, a value, `a..b`, repetitions `a/step`, `a..b/step`, `*\/step`, and
 *   comma lists of these (`6,4..10:23,5/5`). Years may repeat without end (`1965/5`).
 * - date `MONTHS-DAYS` or `YEARS-MONTHS-DAYS`; time `H:M`, `H:M:S`, or a lone `M` (minutes of
 *   every hour, as upstream: `0` is hourly). A missing time means 00:00:00; missing seconds 0.
 * - words: minutely, hourly, daily, weekly, monthly, yearly/annually, quarterly,
 *   semiannually/semi-annually.
 * - a trailing `UTC` evaluates the event in UTC; otherwise in the process's local time zone.
 * Not supported: `~` (last days of month), fractional seconds, time zone names other than UTC,
 * unix timestamps (`@123`).
 *
 * `nextEvent` searches field by field (year → month → day → hour → minute → second), so even an
 * event that never happens (`02-30`) ends at year 9999 after a few hundred thousand cheap steps.
 */
import { fail } from '../core/errors.ts';
import { daysFromCivil, daysInMonth, epochFromCivil, civilFromEpoch, weekdayOfDays, type CivilTime } from '../core/time.ts';

interface YearRange {
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

export interface CalendarEvent {
  readonly text: string;
  /** Bit n set = weekday n allowed (0 = Sunday). */
  readonly weekdays: number;
  /** undefined = every year. */
  readonly years: readonly YearRange[] | undefined;
  /** Index = value; true = allowed. months 1..12, days 1..31. */
  readonly months: readonly boolean[];
  readonly days: readonly boolean[];
  readonly hours: readonly boolean[];
  readonly minutes: readonly boolean[];
  readonly seconds: readonly boolean[];
  readonly utc: boolean;
}

const WEEKDAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const MAX_YEAR = 9999;

const WORDS: ReadonlyMap<string, string> = new Map([
  ['minutely', '*:*:00'],
  ['hourly', '*:00:00'],
  ['daily', '00:00:00'],
  ['weekly', 'mon 00:00:00'],
  ['monthly', '*-*-01 00:00:00'],
  ['yearly', '*-01-01 00:00:00'],
  ['annually', '*-01-01 00:00:00'],
  ['quarterly', '*-01,04,07,10-01 00:00:00'],
  ['semiannually', '*-01,07-01 00:00:00'],
  ['semi-annually', '*-01,07-01 00:00:00'],
]);

class CalendarSyntaxError extends Error {}

function parseNumber(text: string, min: number, max: number): number {
  if (!/^\d{1,4}$/.test(text)) throw new CalendarSyntaxError(`'${text}' is not a number`);
  const n = Number(text);
  if (n < min || n > max) throw new CalendarSyntaxError(`${n} is outside ${min}..${max}`);
  return n;
}

/** Parses one comma list item of a numeric field into a range with a step. */
function parseRange(item: string, min: number, max: number): YearRange {
  const [rangeText = '', stepText, extra] = item.split('/');
  if (extra !== undefined) throw new CalendarSyntaxError(`'${item}' has two repetitions`);
  const step = stepText === undefined ? 1 : parseNumber(stepText, 1, Number.MAX_SAFE_INTEGER);
  if (rangeText === '*') return { start: min, end: max, step };
  const [from = '', to, more] = rangeText.split('..');
  if (more !== undefined) throw new CalendarSyntaxError(`'${item}' is not a range`);
  const start = parseNumber(from, min, max);
  if (to === undefined) return { start, end: stepText === undefined ? start : max, step };
  const end = parseNumber(to, min, max);
  if (end < start) throw new CalendarSyntaxError(`'${item}' is an empty range`);
  return { start, end, step };
}

function parseSet(text: string, min: number, max: number): boolean[] {
  const set = new Array<boolean>(max + 1).fill(false);
  for (const item of text.split(',')) {
    const r = parseRange(item, min, max);
    for (let v = r.start; v <= r.end; v += r.step) set[v] = true;
  }
  return set;
}

function parseYears(text: string): YearRange[] | undefined {
  if (text === '*') return undefined;
  return text.split(',').map((item) => {
    const r = parseRange(item, 0, MAX_YEAR);
    return item.includes('/') && !item.includes('..') ? { ...r, end: Number.POSITIVE_INFINITY } : r;
  });
}

function weekdayIndex(name: string): number {
  const lower = name.toLowerCase();
  const i = WEEKDAY_NAMES.findIndex((full) => lower === full || lower === full.slice(0, 3));
  if (i === -1) throw new CalendarSyntaxError(`'${name}' is not a weekday`);
  return i;
}

function parseWeekdays(text: string): number {
  let mask = 0;
  for (const item of text.split(',')) {
    const [from = '', to, more] = item.split('..');
    if (more !== undefined) throw new CalendarSyntaxError(`'${item}' is not a weekday range`);
    const start = weekdayIndex(from);
    const end = to === undefined ? start : weekdayIndex(to);
    for (let d = start; ; d = (d + 1) % 7) {
      mask |= 1 << d;
      if (d === end) break;
    }
  }
  return mask;
}

type Fields = Omit<CalendarEvent, 'text' | 'utc'>;

function allOf(max: number, min = 0): boolean[] {
  return parseSet(`${min}..${max}`, min, max);
}

function applyDate(fields: Fields, text: string): Fields {
  const parts = text.split('-');
  if (parts.length < 2 || parts.length > 3) throw new CalendarSyntaxError(`'${text}' is not a date`);
  const [days = '', months = '', years] = parts.reverse();
  return {
    ...fields,
    years: years === undefined ? undefined : parseYears(years),
    months: parseSet(months, 1, 12),
    days: parseSet(days, 1, 31),
  };
}

function applyTime(fields: Fields, text: string): Fields {
  const parts = text.split(':');
  if (parts.length > 3) throw new CalendarSyntaxError(`'${text}' is not a time`);
  // a lone value is the minutes of every hour, as upstream reads it (`0` = hourly)
  const [hours = '', minutes = '', seconds = '0'] = parts.length === 1 ? ['*', text] : parts;
  return {
    ...fields,
    hours: parseSet(hours, 0, 23),
    minutes: parseSet(minutes, 0, 59),
    seconds: parseSet(seconds, 0, 59),
  };
}

function parseFields(tokens: string[]): Fields {
  let fields: Fields = {
    weekdays: 0x7f,
    years: undefined,
    months: allOf(12, 1),
    days: allOf(31, 1),
    hours: parseSet('0', 0, 23),
    minutes: parseSet('0', 0, 59),
    seconds: parseSet('0', 0, 59),
  };
  let rest = tokens;
  if (rest[0] !== undefined && /^[A-Za-z]/.test(rest[0])) {
    fields = { ...fields, weekdays: parseWeekdays(rest[0]) };
    rest = rest.slice(1);
  }
  if (rest[0]?.includes('-') === true) {
    fields = applyDate(fields, rest[0]);
    rest = rest.slice(1);
  }
  if (rest[0] !== undefined) {
    fields = applyTime(fields, rest[0]);
    rest = rest.slice(1);
  }
  if (rest.length > 0) throw new CalendarSyntaxError(`unexpected '${rest.join(' ')}'`);
  return fields;
}

export function parseCalendarEvent(text: string): CalendarEvent {
  let tokens = text.trim().split(/\s+/).filter((t) => t !== '');
  const utc = tokens.length > 0 && tokens.at(-1)?.toUpperCase() === 'UTC';
  if (utc) tokens = tokens.slice(0, -1);
  try {
    if (tokens.length === 0) throw new CalendarSyntaxError('empty');
    const word = tokens.length === 1 ? WORDS.get(tokens[0]?.toLowerCase() ?? '') : undefined;
    if (word !== undefined) tokens = word.split(' ');
    return { text, utc, ...parseFields(tokens) };
  } catch (e) {
    if (!(e instanceof CalendarSyntaxError)) throw e;
    throw fail('INVALID_CALENDAR_EVENT', `invalid calendar event '${text}': ${e.message}`, { value: text });
  }
}

// ---- evaluation

function nextYear(ev: CalendarEvent, year: number): number | undefined {
  if (ev.years === undefined) return year;
  let best: number | undefined;
  for (const r of ev.years) {
    const k = year <= r.start ? 0 : Math.ceil((year - r.start) / r.step);
    const v = r.start + k * r.step;
    if (v <= r.end && (best === undefined || v < best)) best = v;
  }
  return best;
}

function nextIn(set: readonly boolean[], from: number): number | undefined {
  for (let v = from; v < set.length; v++) if (set[v] === true) return v;
  return undefined;
}

function dayMatches(ev: CalendarEvent, year: number, month: number, day: number): boolean {
  return ev.days[day] === true && (ev.weekdays & (1 << weekdayOfDays(daysFromCivil(year, month, day)))) !== 0;
}

/** Mutable cursor over civil time. */
interface Cursor {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const FIELD_ORDER = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const;
const FIRST_VALUE: Readonly<Cursor> = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0 };

/** Sets one field and resets every finer field to its first value. */
function moveTo(c: Cursor, field: keyof Cursor, value: number): void {
  c[field] = value;
  for (let i = FIELD_ORDER.indexOf(field) + 1; i < FIELD_ORDER.length; i++) {
    const finer = FIELD_ORDER[i] ?? 'second';
    c[finer] = FIRST_VALUE[finer];
  }
}

/** Moves the cursor (see `moveTo`) and reports "no match yet". */
function advance(c: Cursor, field: keyof Cursor, value: number): false {
  moveTo(c, field, value);
  return false;
}

/** Brings overflowing fields back into range by carrying into the next coarser field. */
function normalize(c: Cursor): void {
  if (c.second > 59) moveTo(c, 'minute', c.minute + 1);
  if (c.minute > 59) moveTo(c, 'hour', c.hour + 1);
  if (c.hour > 23) moveTo(c, 'day', c.day + 1);
  if (c.day > daysInMonth(c.year, c.month)) moveTo(c, 'month', c.month + 1);
  if (c.month > 12) moveTo(c, 'year', c.year + 1);
}

/**
 * Checks the cursor field by field, coarsest first. The first field that does not match is moved
 * to its next allowed value (or past its end, to carry) and false is returned; true means match.
 */
function matchOrAdvance(ev: CalendarEvent, c: Cursor): boolean {
  const year = nextYear(ev, c.year) ?? MAX_YEAR + 1;
  if (year !== c.year) return advance(c, 'year', year);
  const month = nextIn(ev.months, c.month) ?? 13;
  if (month !== c.month) return advance(c, 'month', month);
  if (!dayMatches(ev, c.year, c.month, c.day)) return advance(c, 'day', c.day + 1);
  const fields = [
    ['hour', ev.hours, 24],
    ['minute', ev.minutes, 60],
    ['second', ev.seconds, 60],
  ] as const;
  for (const [field, set, past] of fields) {
    const next = nextIn(set, c[field]) ?? past;
    if (next !== c[field]) return advance(c, field, next);
  }
  return true;
}

/** The first civil time at or after `from` that the event matches. */
function findCivil(ev: CalendarEvent, from: CivilTime): CivilTime | undefined {
  const c: Cursor = { ...from };
  for (;;) {
    normalize(c);
    if (c.year > MAX_YEAR) return undefined;
    if (matchOrAdvance(ev, c)) return { ...c };
  }
}

function localCivil(epoch: number): CivilTime {
  const d = new Date(epoch * 1000);
  return {
    year: d.getFullYear(),
    month: d.getMonth() + 1,
    day: d.getDate(),
    hour: d.getHours(),
    minute: d.getMinutes(),
    second: d.getSeconds(),
  };
}

function localEpoch(c: CivilTime): number {
  const d = new Date(2000, 0, 1);
  d.setFullYear(c.year, c.month - 1, c.day);
  d.setHours(c.hour, c.minute, c.second, 0);
  return Math.floor(d.getTime() / 1000);
}

/**
 * The first event time strictly after `afterEpochSeconds`, or undefined if there is none up to
 * year 9999. `utc` (or a `UTC` suffix in the event) evaluates in UTC, otherwise in local time.
 */
export function nextEvent(event: CalendarEvent | string, afterEpochSeconds: number, utc = false): number | undefined {
  const ev = typeof event === 'string' ? parseCalendarEvent(event) : event;
  const inUtc = utc || ev.utc;
  const toCivil = inUtc ? civilFromEpoch : localCivil;
  const toEpoch = inUtc ? epochFromCivil : localEpoch;
  let from = toCivil(Math.floor(afterEpochSeconds) + 1);
  for (;;) {
    const found = findCivil(ev, from);
    if (found === undefined) return undefined;
    const epoch = toEpoch(found);
    // a local time repeated by a DST change can map to or before `after`: search on
    if (epoch > afterEpochSeconds) return epoch;
    from = { ...found, second: found.second + 1 };
  }
}

/** Whether the event fires at exactly this second (a direct field check, not a search). */
export function matchesEvent(event: CalendarEvent, epochSeconds: number, utc = false): boolean {
  const c = (utc || event.utc ? civilFromEpoch : localCivil)(epochSeconds);
  return (
    nextYear(event, c.year) === c.year &&
    event.months[c.month] === true &&
    dayMatches(event, c.year, c.month, c.day) &&
    event.hours[c.hour] === true &&
    event.minutes[c.minute] === true &&
    event.seconds[c.second] === true
  );
}
