import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from '../core/errors.ts';
import { matchesEvent, nextEvent, parseCalendarEvent } from './calendar-event.ts';

const T0 = 0;
const MIN = 60;
const HOUR = 3600;
const DAY = 86400;
const JUL31 = 1596153600;
const DEC31 = 1609372800;

/** Upstream appends ` UTC` to every event in its test. */
function next(event: string, last: number): number | undefined {
  return nextEvent(parseCalendarEvent(`${event} UTC`), last);
}

test('nextEvent matches the single-step upstream vectors (VECTORS §15.2)', () => {
  const cases: [string, number, number][] = [
    ['0', T0, T0 + HOUR],
    ['*', T0, T0 + MIN],
    ['*:0', T0, T0 + HOUR],
    ['*:*', T0, T0 + MIN],
    ['*:*:*', T0, T0 + 1],
    ['*:3:5', T0, T0 + 3 * MIN + 5],
    ['mon *:*', T0, T0 + 4 * DAY],
    ['mon 2:*', T0, T0 + 4 * DAY + 2 * HOUR],
    ['mon 2:50', T0, T0 + 4 * DAY + 2 * HOUR + 50 * MIN],
    ['tue', T0, T0 + 5 * DAY],
    ['wed', T0, T0 + 6 * DAY],
    ['thu', T0, T0 + 7 * DAY],
    ['fri', T0, T0 + 1 * DAY],
    ['sat', T0, T0 + 2 * DAY],
    ['sun', T0, T0 + 3 * DAY],
    ['4..10/2:0', T0, T0 + 4 * HOUR],
    ['4..10/2:0', T0 + 5 * HOUR, T0 + 6 * HOUR],
    ['4..10/2:0', T0 + 11 * HOUR, T0 + DAY + 4 * HOUR],
    ['5,10:4,8', T0, T0 + 5 * HOUR + 4 * MIN],
    ['10,5:8,4', T0, T0 + 5 * HOUR + 4 * MIN],
    ['6,4..10:23,5/5', T0, T0 + 4 * HOUR + 5 * MIN],
    ['4..10,6:5/5,23', T0, T0 + 4 * HOUR + 5 * MIN],
    ['daily', T0, T0 + DAY],
    ['daily', T0 + 1, T0 + DAY],
    ['2020-07-31', 0, JUL31],
    ['02-28', 0, 58 * DAY],
    ['02-29', 0, (2 * 365 + 59) * DAY],
    ['1965/5-01-01', -1, T0],
    ['2020-7..9-2/2', JUL31, JUL31 + 2 * DAY],
    ['2020,2021-12-31', JUL31, DEC31],
    ['minutely', T0, T0 + MIN],
    ['hourly', T0, T0 + HOUR],
    ['weekly', T0, T0 + 4 * DAY],
    ['monthly', 0, 31 * DAY],
    ['quarterly', 0, 90 * DAY],
    ['semiannually', 0, 181 * DAY],
    ['semi-annually', 0, 181 * DAY],
    ['yearly', 0, 365 * DAY],
    ['annually', 0, 365 * DAY],
  ];
  for (const [event, last, expected] of cases) assert.equal(next(event, last), expected, `${event} after ${last}`);
});

test('nextEvent walks the weekdays after JUL31 and DEC31 (VECTORS §15.2)', () => {
  ['sat', 'sun', 'mon', 'tue', 'wed', 'thu', 'fri'].forEach((day, i) => assert.equal(next(day, JUL31), JUL31 + (i + 1) * DAY, day));
  ['fri', 'sat', 'sun', 'mon', 'tue', 'wed', 'thu'].forEach((day, i) => assert.equal(next(day, DEC31), DEC31 + (i + 1) * DAY, day));
});

test('nextEvent chains like upstream (VECTORS §15.2)', () => {
  const chain = (event: string, start: number, steps: number): number[] => {
    const out: number[] = [];
    let t = start;
    for (let i = 0; i < steps; i++) {
      t = next(event, t) ?? Number.NaN;
      out.push(t);
    }
    return out;
  };
  assert.deepEqual(chain('5/2:0', T0, 4), [5, 7, 9, 11].map((h) => T0 + h * HOUR));
  assert.deepEqual(chain('*:*', T0, 99), Array.from({ length: 99 }, (_, i) => T0 + (i + 1) * MIN));
  assert.deepEqual(chain('*:0', T0, 99), Array.from({ length: 99 }, (_, i) => T0 + (i + 1) * HOUR));
  assert.deepEqual(chain('1:0', T0 + 15 * HOUR, 99), Array.from({ length: 99 }, (_, i) => T0 + (i + 1) * DAY + HOUR));
});

test('nextEvent returns undefined for dates that never happen (VECTORS §15.2)', () => {
  assert.equal(next('2021-02-29', 0), undefined);
  assert.equal(next('02-30', 0), undefined);
});

test('parseCalendarEvent accepts the upstream weekday spellings (VECTORS §15.2)', () => {
  const tokens = ['mon,wed..fri', 'fri..mon', 'MON', 'monDay', 'Tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'mon..fri', 'mon,tue,fri', 'mon,tue..wednesday,fri..sat'];
  for (const t of tokens) parseCalendarEvent(t);
  assert.equal(parseCalendarEvent('fri..mon').weekdays, 0b1100011);
  assert.equal(parseCalendarEvent('mon..fri').weekdays, 0b0111110);
});

test('parseCalendarEvent accepts the documented examples', () => {
  for (const e of ['*:0/15', 'mon..fri 8..17,22:0/15', 'fri 12..13:5/20', '12,14,16,18,20,22:5', '*/2:5', '2021-*-*', 'sat *-1..7 15:00', '*-*-* *:*:*/10']) {
    parseCalendarEvent(e);
  }
  assert.equal(next('*:0/15', T0 + MIN), T0 + 15 * MIN);
  assert.equal(next('2021-*-*', 0), 1609459200);
});

test('parseCalendarEvent rejects bad events with a coded error naming them', () => {
  for (const bad of ['', 'UTC', 'funday', '25:00', '*:60', '13-01', '02-32', '5..3:0', 'mon tue', '1:2:3:4', '*-*-*-*', 'daily 5:00', '1/0:0', 'x-y']) {
    assert.throws(
      () => parseCalendarEvent(bad),
      (e: unknown) => isHoldfastError(e, 'INVALID_CALENDAR_EVENT') && e.message.includes(`'${bad}'`),
      bad,
    );
  }
});

test('nextEvent with utc=false follows the local time zone', () => {
  const ev = parseCalendarEvent('daily');
  const t = nextEvent(ev, 1700000000, false) ?? 0;
  const d = new Date(t * 1000);
  assert.deepEqual([d.getHours(), d.getMinutes(), d.getSeconds()], [0, 0, 0]);
  assert.ok(t > 1700000000 && t <= 1700000000 + 25 * HOUR);
});

test('nextEvent finds the first match, checked by brute force over three days (property)', () => {
  const list = (max: number) =>
    fc.oneof(
      fc.constant('*'),
      fc.integer({ min: 0, max }).map(String),
      fc.tuple(fc.integer({ min: 0, max }), fc.integer({ min: 1, max: 7 })).map(([a, s]) => `${a}/${s}`),
      fc.tuple(fc.integer({ min: 0, max }), fc.integer({ min: 0, max })).map(([a, b]) => `${Math.min(a, b)}..${Math.max(a, b)}`),
    );
  const weekday = fc.option(fc.constantFrom('mon', 'tue..thu', 'fri..mon', 'sat,sun'), { nil: undefined });
  const event = fc.tuple(weekday, list(23), list(59)).map(([w, h, m]) => `${w ?? ''} ${h}:${m}`.trim());
  fc.assert(
    fc.property(event, fc.integer({ min: 0, max: 4e9 }), (text, after) => {
      const ev = parseCalendarEvent(`${text} UTC`);
      const got = nextEvent(ev, after);
      const horizon = after + 3 * DAY;
      let brute: number | undefined;
      for (let t = (Math.floor(after / MIN) + 1) * MIN; t <= horizon; t += MIN) {
        if (matchesEvent(ev, t)) {
          brute = t;
          break;
        }
      }
      if (brute !== undefined) assert.equal(got, brute, text);
      else assert.ok(got !== undefined && got > horizon, text);
    }),
    { numRuns: 40 },
  );
});
