import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatRfc3339, parseRfc3339 } from '../core/time.ts';
import { isHoldfastError } from '../core/errors.ts';
import { computePrune, type PrunePolicy, type PruneSnapshot } from './prune-policy.ts';

/** A snapshot list from RFC 3339 times; `*` suffix = protected, `?` suffix = unfinished. */
function snapshots(times: string[]): PruneSnapshot[] {
  return times.map((t) => ({
    time: parseRfc3339(t.replace(/[*?]$/, '')),
    finished: !t.endsWith('?'),
    protected: t.endsWith('*'),
  }));
}

/** Like upstream's harness: the result list reversed (oldest first), filtered by keep/remove. */
function pruned(list: PruneSnapshot[], policy: PrunePolicy, want: 'keep' | 'remove'): string[] {
  return computePrune(list, policy, 'UTC')
    .reverse()
    .filter((d) => d.keep === (want === 'keep'))
    .map((d) => formatRfc3339(d.time));
}

test('computePrune never removes protected snapshots (VECTORS §8.1)', () => {
  const list = snapshots(['2019-11-15T09:39:15Z*', '2019-11-15T10:39:15Z', '2019-11-15T10:49:15Z', '2019-11-15T10:59:15Z*']);
  assert.deepEqual(pruned(list, { keepLast: 1 }, 'remove'), ['2019-11-15T10:39:15Z']);
  assert.deepEqual(pruned(list, { keepHourly: 1 }, 'remove'), ['2019-11-15T10:39:15Z']);
});

test('computePrune keeps the newest snapshot of each hour (VECTORS §8.2)', () => {
  const list = snapshots(['09:39:15', '10:49:15', '10:59:15', '11:39:15', '11:49:15', '11:59:15'].map((t) => `2019-11-15T${t}Z`));
  assert.deepEqual(pruned(list, { keepHourly: 3 }, 'remove'), ['10:49:15', '11:39:15', '11:49:15'].map((t) => `2019-11-15T${t}Z`));
  assert.deepEqual(pruned(list, { keepHourly: 2 }, 'keep'), ['10:59:15', '11:59:15'].map((t) => `2019-11-15T${t}Z`));
});

test('computePrune combines daily, weekly, monthly and yearly rules (VECTORS §8.3)', () => {
  const days = ['2018-11-15', '2019-11-15', '2019-11-21', '2019-11-22', '2019-11-29', '2019-12-01', '2019-12-02', '2019-12-03', '2019-12-04'];
  const list = snapshots(days.map((d) => `${d}T11:59:15Z`));
  const keep = (policy: PrunePolicy): string[] => pruned(list, policy, 'keep').map((t) => t.slice(0, 10));
  assert.deepEqual(keep({ keepDaily: 1 }), ['2019-12-04']);
  assert.deepEqual(keep({ keepLast: 1, keepDaily: 1 }), ['2019-12-03', '2019-12-04']);
  assert.deepEqual(keep({ keepDaily: 1, keepWeekly: 1 }), ['2019-12-01', '2019-12-04']);
  assert.deepEqual(keep({ keepDaily: 1, keepWeekly: 1, keepMonthly: 1 }), ['2019-11-22', '2019-12-01', '2019-12-04']);
  assert.deepEqual(keep({ keepMonthly: 1, keepYearly: 1 }), ['2018-11-15', '2019-12-04']);
});

test('computePrune matches the simple keep-last/daily/weekly/monthly/yearly table (VECTORS §8.4)', () => {
  const list = snapshots(['2019-12-02T11:59:15Z', '2019-12-03T11:59:15Z', '2019-12-04T11:59:15Z', '2019-12-04T12:59:15Z']);
  const short: Record<string, string> = {
    '2019-12-02T11:59:15Z': '12-02',
    '2019-12-03T11:59:15Z': '12-03',
    '2019-12-04T11:59:15Z': '12-04T11',
    '2019-12-04T12:59:15Z': '12-04T12',
  };
  const remove = (policy: PrunePolicy): string[] => pruned(list, policy, 'remove').map((t) => short[t] ?? t);
  const cases: [PrunePolicy, string[]][] = [
    [{ keepLast: 4 }, []],
    [{ keepLast: 3 }, ['12-02']],
    [{ keepLast: 2 }, ['12-02', '12-03']],
    [{ keepLast: 1 }, ['12-02', '12-03', '12-04T11']],
    [{ keepLast: 2, keepDaily: 2 }, []],
    [{ keepDaily: 3 }, ['12-04T11']],
    [{ keepDaily: 2 }, ['12-02', '12-04T11']],
    [{ keepWeekly: 5 }, ['12-02', '12-03', '12-04T11']],
    [{ keepDaily: 1, keepWeekly: 5 }, ['12-02', '12-03', '12-04T11']],
    [{ keepMonthly: 6 }, ['12-02', '12-03', '12-04T11']],
    [{ keepYearly: 7 }, ['12-02', '12-03', '12-04T11']],
    [{ keepWeekly: 5, keepMonthly: 6, keepYearly: 7 }, ['12-02', '12-03', '12-04T11']],
  ];
  for (const [policy, expected] of cases) assert.deepEqual(remove(policy), expected, JSON.stringify(policy));
});

test('computePrune with no keep option > 0 keeps everything (keep-all); keep-last=0 alone too', () => {
  const list = snapshots(['2019-12-02T11:59:15Z', '2019-12-03T11:59:15Z?', '2019-12-04T11:59:15Z*']);
  for (const policy of [{}, { keepLast: 0 }]) {
    assert.deepEqual(
      computePrune(list, policy, 'UTC').map((d) => d.reason),
      ['protected', 'keep-all', 'keep-all'],
    );
  }
});

test('computePrune keeps only the newest unfinished snapshot, and only if nothing finished is newer', () => {
  const list = snapshots(['2019-12-01T00:00:00Z?', '2019-12-02T00:00:00Z', '2019-12-03T00:00:00Z?', '2019-12-04T00:00:00Z?']);
  assert.deepEqual(
    computePrune(list, { keepLast: 5 }, 'UTC').map((d) => [formatRfc3339(d.time).slice(0, 10), d.reason]),
    [
      ['2019-12-04', 'keep-partial'],
      ['2019-12-03', 'remove'],
      ['2019-12-02', 'keep-last'],
      ['2019-12-01', 'remove'],
    ],
  );
  const older = snapshots(['2019-12-01T00:00:00Z?', '2019-12-02T00:00:00Z']);
  assert.deepEqual(computePrune(older, { keepLast: 5 }, 'UTC').map((d) => d.reason), ['keep-last', 'remove']);
});

test('computePrune evaluates periods in the given time zone', () => {
  // 23:30Z and 00:30Z are two days in UTC but one day (01:30, 02:30 on Dec 2) in UTC+2
  const list = snapshots(['2019-12-01T23:30:00Z', '2019-12-02T00:30:00Z']);
  const reasons = (tz: string): string[] => computePrune(list, { keepDaily: 5 }, tz).map((d) => d.reason);
  assert.deepEqual(reasons('UTC'), ['keep-daily', 'keep-daily']);
  assert.deepEqual(reasons('Etc/GMT-2'), ['keep-daily', 'remove']);
});

test('computePrune rejects negative or fractional keep counts', () => {
  for (const policy of [{ keepLast: -1 }, { keepDaily: 1.5 }]) {
    assert.throws(() => computePrune([], policy, 'UTC'), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT'));
  }
});

test('computePrune invariants: protected kept, keep-last N keeps the N newest finished (property)', () => {
  const snap = fc.record({ time: fc.integer({ min: 1, max: 2e9 }), finished: fc.boolean(), protected: fc.boolean() });
  const list = fc.uniqueArray(snap, { selector: (s) => s.time, maxLength: 30 });
  fc.assert(
    fc.property(list, fc.integer({ min: 1, max: 10 }), (snaps, n) => {
      const result = computePrune(snaps, { keepLast: n }, 'UTC');
      assert.equal(result.length, snaps.length);
      for (let i = 1; i < result.length; i++) assert.ok(result[i - 1]!.time > result[i]!.time);
      const byTime = new Map(snaps.map((s) => [s.time, s]));
      for (const d of result) if (byTime.get(d.time)?.protected === true) assert.equal(d.reason, 'protected');
      const eligible = result.filter((d) => byTime.get(d.time)?.finished === true && byTime.get(d.time)?.protected !== true);
      const kept = eligible.filter((d) => d.reason === 'keep-last').map((d) => d.time);
      assert.deepEqual(kept, eligible.slice(0, n).map((d) => d.time));
    }),
  );
});
