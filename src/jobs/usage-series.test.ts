import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../core/errors.ts';
import { RESOLUTIONS, UsageSeries } from './usage-series.ts';

const T = 1_800_000_000 - (1_800_000_000 % 21600);

test('UsageSeries.add averages the samples of one slot and starts a new slot each step', () => {
  const s = new UsageSeries();
  s.add(T, { used: 100, chunks: 1 });
  s.add(T + 30, { used: 200, chunks: 3, dedup: 2 });
  s.add(T + 60, { used: 500 });
  assert.deepEqual(s.points('hour'), [{ time: T, used: 150, chunks: 2, dedup: 2 }, { time: T + 60, used: 500 }]);
  assert.deepEqual(s.points('day'), [{ time: T, used: 800 / 3, chunks: 2, dedup: 2 }]);
});

test('UsageSeries keeps at most its slot count per resolution, dropping the oldest', () => {
  const s = new UsageSeries();
  for (let i = 0; i < 200; i++) s.add(T + i * 60, { used: i });
  const hour = s.points('hour');
  assert.equal(hour.length, RESOLUTIONS.hour.slots);
  assert.equal(hour[0]?.used, 140);
  assert.equal(hour.at(-1)?.time, T + 199 * 60);
  assert.equal(s.points('day').length, Math.ceil(200 / 15));
});

test('UsageSeries.fromJson restores toJson and drops malformed slots; non-JSON is CORRUPT', () => {
  const s = new UsageSeries();
  s.add(T, { used: 1, 'fs-total': 10 });
  s.add(T + 900, { used: 2 });
  assert.deepEqual(UsageSeries.fromJson(s.toJson()).points('day'), s.points('day'));
  const junk = JSON.stringify({ series: { hour: [{ time: T + 1, count: 1, values: {} }, { time: T, count: 1, values: { used: 'x', chunks: 4 } }, 'nope'] } });
  assert.deepEqual(UsageSeries.fromJson(junk).points('hour'), [{ time: T, chunks: 4 }]);
  assert.throws(() => UsageSeries.fromJson('{'), (e) => isHoldfastError(e, 'CORRUPT'));
});
