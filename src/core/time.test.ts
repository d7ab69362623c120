import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from './errors.ts';
import {
  MAX_RFC3339_EPOCH,
  MIN_RFC3339_EPOCH,
  civilFromDays,
  daysFromCivil,
  formatRfc3339,
  isoWeek,
  parseBackupTime,
  parseRfc3339,
  parseTimeSpan,
} from './time.ts';

function assertBadArgument(fn: () => unknown, mentions: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isHoldfastError(e, 'INVALID_ARGUMENT'), String(e));
    assert.ok(e.message.includes(mentions), `'${e.message}' should mention '${mentions}'`);
    return true;
  });
}

test('formatRfc3339 and parseRfc3339 hit the upstream range bounds (VECTORS §15.1)', () => {
  assert.equal(formatRfc3339(-62167219200), '0000-01-01T00:00:00Z');
  assert.equal(parseRfc3339('0000-01-01T00:00:00Z'), -62167219200);
  assert.equal(formatRfc3339(253402300799), '9999-12-31T23:59:59Z');
  assert.equal(parseRfc3339('9999-12-31T23:59:59Z'), 253402300799);
  assertBadArgument(() => formatRfc3339(MIN_RFC3339_EPOCH - 1), String(MIN_RFC3339_EPOCH - 1));
  assertBadArgument(() => formatRfc3339(MAX_RFC3339_EPOCH + 1), String(MAX_RFC3339_EPOCH + 1));
  assertBadArgument(() => parseRfc3339('0000-01-01T00:00:00+00:01'), '0000-01-01T00:00:00+00:01');
  assertBadArgument(() => parseRfc3339('9999-12-31T23:59:59-00:01'), '9999-12-31T23:59:59-00:01');
});

test('formatRfc3339 pads years below 1000 (VECTORS §15.1)', () => {
  assert.equal(formatRfc3339(-59011459201), '0099-12-31T23:59:59Z');
  assert.equal(formatRfc3339(-59011459200), '0100-01-01T00:00:00Z');
});

test('parseRfc3339 reads a leap second as the next second (VECTORS §15.1)', () => {
  assert.equal(parseRfc3339('2005-12-31T23:59:60Z'), 1136073600);
  for (const t of [1136073599, 1136073600, 1136073601]) assert.equal(parseRfc3339(formatRfc3339(t)), t);
});

test('parseRfc3339 applies a numeric offset (VECTORS §15.1)', () => {
  assert.equal(parseRfc3339('2020-12-30T00:00:00+06:30'), 1609263000);
  assert.equal(formatRfc3339(1609263000), '2020-12-29T17:30:00Z');
  assert.equal(parseRfc3339('2020-06-26T15:56:05.123+02:00'), 1593179765);
});

test('parseRfc3339 rejects impossible dates and malformed text, naming the text', () => {
  for (const bad of ['2021-02-29T00:00:00Z', '2020-13-01T00:00:00Z', '2020-01-01T24:00:00Z', '2020-01-01', '2020-01-01T00:00:00']) {
    assertBadArgument(() => parseRfc3339(bad), bad);
  }
});

test('parseBackupTime accepts only canonical snapshot directory names', () => {
  assert.equal(parseBackupTime('2020-06-26T13:56:05Z'), 1593179765);
  for (const bad of ['2020-06-26T13:56:05+00:00', '2005-12-31T23:59:60Z', '2020-06-26 13:56:05Z', '2020-06-26T13:56:05.5Z']) {
    assertBadArgument(() => parseBackupTime(bad), bad);
  }
});

test('formatRfc3339 then parseRfc3339 round-trips over the whole range (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: MIN_RFC3339_EPOCH, max: MAX_RFC3339_EPOCH }), (epoch) => {
      assert.equal(parseRfc3339(formatRfc3339(epoch)), epoch);
      assert.equal(parseBackupTime(formatRfc3339(epoch)), epoch);
    }),
  );
});

test('formatRfc3339 agrees with Date for years 1970..9999 (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: MAX_RFC3339_EPOCH }), (epoch) => {
      assert.equal(formatRfc3339(epoch), new Date(epoch * 1000).toISOString().replace('.000Z', 'Z'));
    }),
  );
});

test('daysFromCivil and civilFromDays are inverse (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: -800000, max: 3000000 }), (days) => {
      const c = civilFromDays(days);
      assert.equal(daysFromCivil(c.year, c.month, c.day), days);
    }),
  );
});

test('isoWeek gives ISO 8601 week numbers at year edges', () => {
  assert.deepEqual(isoWeek(2019, 12, 30), { year: 2020, week: 1 });
  assert.deepEqual(isoWeek(2021, 1, 3), { year: 2020, week: 53 });
  assert.deepEqual(isoWeek(2021, 1, 4), { year: 2021, week: 1 });
  assert.deepEqual(isoWeek(2019, 12, 1), { year: 2019, week: 48 });
  assert.deepEqual(isoWeek(2019, 12, 2), { year: 2019, week: 49 });
});

test('parseTimeSpan reads the upstream span vectors (VECTORS §15.3)', () => {
  const DAY = 86400;
  const cases: [string, number][] = [
    ['2', 2],
    ['2s', 2],
    ['2sec', 2],
    ['2second', 2],
    ['2seconds', 2],
    [' 2s 2 s 2', 6],
    ['1msec 1ms', 0.002],
    ['1usec 1us 1\u00b5s', 0.000003],
    ['1nsec 1ns', 2e-9],
    ['1minutes 1minute 1min 1m', 240],
    ['1hours 1hour 1hr 1h', 14400],
    ['1days 1day 1d', 3 * DAY],
    ['1weeks 1 week 1w', 21 * DAY],
    ['1months 1month 1M', 3 * 30.44 * DAY],
    ['1years 1year 1y', 3 * 365.25 * DAY],
    ['2h', 7200],
    [' 2 h', 7200],
    ['2hours', 7200],
    ['48hr', 172800],
    ['1y 12month', 365.25 * DAY + 12 * 30.44 * DAY],
    ['55s500ms', 55.5],
    ['300ms20s 5day', 432020.3],
    ['1h 1m 3s', 3663],
    ['1 hour 1 minute 3 second', 3663],
    ['0y 0M 0w 1h 1m 3s', 3663],
    ['1h1m3s', 3663],
    ['3s 1m 1h', 3663],
    ['120s', 120],
    ['90m', 5400],
    ['300', 300],
    ['1h 1h', 7200],
  ];
  for (const [text, seconds] of cases) {
    const got = parseTimeSpan(text);
    assert.ok(Math.abs(got - seconds) <= 1e-9 * Math.max(1, seconds), `${text}: ${got} != ${seconds}`);
  }
});

test('parseTimeSpan rejects unknown units and empty text', () => {
  for (const bad of ['', '  ', '5 parsecs', 'h', '1h x']) assertBadArgument(() => parseTimeSpan(bad), `'${bad}'`);
});
