import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, progressLine, progressStatus } from './render.ts';
import type { CliContext } from './context.ts';

test('progressStatus shows bytes done of total, the throughput and the ETA at that pace', () => {
  assert.equal(progressStatus(512 * 1024 * 1024, 1024 * 1024 * 1024, 4, 'bytes'), '512 MiB/1 GiB, 128 MiB/s, ETA 4s');
  assert.equal(progressStatus(3 * 1024 * 1024, undefined, 1, 'bytes'), '3 MiB, 3 MiB/s');
  assert.equal(progressStatus(5, 10, 0, 'items'), '5/10');
});

test('formatDuration writes seconds, minutes and hours compactly', () => {
  assert.equal(formatDuration(7.4), '7s');
  assert.equal(formatDuration(65), '1m05s');
  assert.equal(formatDuration(7380), '2h03m');
});

test('progressLine draws nothing and needs no end() when output is not a terminal', () => {
  const ctx: CliContext = { env: {}, isTTY: false, out: () => undefined, err: () => undefined };
  const bar = progressLine(ctx, 'x', 'bytes');
  bar.update(1, 2);
  bar.end();
  bar.end();
});
