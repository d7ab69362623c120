import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePutConcurrency, s3BackendType } from './s3-backend-type.ts';
import { DEFAULT_PUT_CONCURRENCY } from './s3-chunk-backend.ts';

test('parsePutConcurrency takes 0 to 64 and the default when absent; anything else is INVALID_ARGUMENT', () => {
  assert.equal(parsePutConcurrency(undefined), DEFAULT_PUT_CONCURRENCY);
  assert.equal(parsePutConcurrency('0'), 0);
  assert.equal(parsePutConcurrency('64'), 64);
  for (const bad of ['65', '-1', '1.5', '', 'eight', '0x8']) assert.throws(() => parsePutConcurrency(bad), { code: 'INVALID_ARGUMENT' }, bad);
});

test('s3BackendType.checkOptions accepts put-concurrency and checks its value', () => {
  const opts = (extra: Record<string, string>) => new Map(Object.entries({ client: 'ceph', bucket: 'backups', ...extra }));
  s3BackendType.checkOptions(opts({ 'put-concurrency': '16' }));
  assert.throws(() => s3BackendType.checkOptions(opts({ 'put-concurrency': '100' })), { code: 'INVALID_ARGUMENT' });
});
