import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatUpid } from '../core/upid.ts';
import { needsVerify } from './verify-job.ts';

const DAY = 86_400;
const NOW = 1_700_000_000;
const stateAt = (startTime: number, state = 'ok') => ({
  upid: formatUpid({ node: 'n', pid: 1, pstart: 1, taskId: 0, startTime, workerType: 'verify', workerId: 'store', authId: 'root@pam' }),
  state,
});

test('needsVerify: without ignore-verified every snapshot is verified', () => {
  assert.equal(needsVerify(stateAt(NOW), { ignoreVerified: false }, NOW), true);
  assert.equal(needsVerify(undefined, { ignoreVerified: false }, NOW), true);
});

test('needsVerify: ignore-verified skips a verified snapshot (ok or failed) and takes an unverified one', () => {
  assert.equal(needsVerify(stateAt(NOW - 400 * DAY), { ignoreVerified: true }, NOW), false);
  assert.equal(needsVerify(stateAt(NOW, 'failed'), { ignoreVerified: true }, NOW), false);
  assert.equal(needsVerify(undefined, { ignoreVerified: true }, NOW), true);
});

test('needsVerify: outdated-after verifies again once the last verification is older than N days', () => {
  const filter = { ignoreVerified: true, outdatedAfterDays: 30 };
  assert.equal(needsVerify(stateAt(NOW - 29 * DAY), filter, NOW), false);
  assert.equal(needsVerify(stateAt(NOW - 31 * DAY), filter, NOW), true);
  assert.equal(needsVerify({ upid: 'garbage', state: 'ok' }, filter, NOW), true, 'an unreadable UPID counts as outdated');
});
