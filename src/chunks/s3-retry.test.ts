import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fail } from '../core/errors.ts';
import { backoffFor, isTransient, withRetries } from './s3-retry.ts';

const status = (code: number, name = 'X') => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: code } });
const noSleep = { retries: 3, backoffMs: 10, sleep: async () => undefined };

test('isTransient retries no-answer, 5xx, 429, 408 and S3 RequestTimeout, and nothing else', () => {
  assert.equal(isTransient(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), true);
  for (const c of [500, 502, 503, 429, 408]) assert.equal(isTransient(status(c)), true, String(c));
  assert.equal(isTransient(status(400, 'RequestTimeout')), true);
  for (const c of [400, 403, 404, 409, 412]) assert.equal(isTransient(status(c)), false, String(c));
  assert.equal(isTransient(fail('UNTRUSTED_CERTIFICATE', 'pinned fingerprint differs')), false);
});

test('backoffFor doubles per attempt and adds at most the same again', () => {
  assert.deepEqual([0, 1, 2].map((n) => backoffFor({ backoffMs: 100 }, n, () => 0)), [100, 200, 400]);
  assert.equal(backoffFor({ backoffMs: 100 }, 2, () => 0.999), 800);
});

test('withRetries retries transient failures and resolves with the first success', async () => {
  let calls = 0;
  const slept: number[] = [];
  const v = await withRetries({ ...noSleep, sleep: async (ms) => void slept.push(ms) }, 'PUT', 'k', async () => {
    if (++calls < 3) throw status(503, 'SlowDown');
    return 'ok';
  });
  assert.equal(v, 'ok');
  assert.equal(calls, 3);
  assert.equal(slept.length, 2);
});

test('withRetries never reports success when every attempt failed: OBJECT_STORE_ERROR with outcome unknown', async () => {
  let calls = 0;
  await assert.rejects(
    withRetries(noSleep, 'PUT', 'store/.chunks/abcd/abcd', async () => {
      calls++;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }),
    (e: Error & { code?: string; details?: Record<string, unknown> }) =>
      e.code === 'OBJECT_STORE_ERROR' && e.details?.['outcome'] === 'unknown' && e.details['attempts'] === 4 && /PUT store\/\.chunks/.test(e.message),
  );
  assert.equal(calls, 4);
});

test('withRetries gives up at once on a final failure such as 403', async () => {
  let calls = 0;
  await assert.rejects(
    withRetries(noSleep, 'GET', 'k', async () => {
      calls++;
      throw status(403, 'AccessDenied');
    }),
    (e: Error & { code?: string; details?: Record<string, unknown> }) => e.code === 'OBJECT_STORE_ERROR' && e.details?.['status'] === 403,
  );
  assert.equal(calls, 1);
});
