import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tbfArgs } from './netns.ts';

test('tbfArgs gives tbf a burst of 10 ms of the rate, at least 32 KiB, and a 50 ms queue', () => {
  assert.deepEqual(tbfArgs(1e9), ['tbf', 'rate', '1000000000bit', 'burst', '1250000', 'latency', '50ms']);
  assert.deepEqual(tbfArgs(1e6).slice(3, 5), ['burst', String(32 * 1024)]);
});
