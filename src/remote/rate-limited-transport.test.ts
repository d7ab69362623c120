/**
 * rateLimited: request bodies are paid for before they go, answers once they have arrived, from
 * one bucket; without a bucket the transport is returned as it is. The clock is fake: the test
 * reads the waits the bucket asked for instead of waiting.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from '../core/token-bucket.ts';
import type { ProtocolTransport } from './protocol-transport.ts';
import { rateLimited } from './rate-limited-transport.ts';

function fakeTransport(log: string[]): ProtocolTransport {
  return {
    call: async (method, path, _q, body) => {
      log.push(`${method} ${path} ${body?.length ?? 0}`);
      return null;
    },
    download: async (path) => {
      log.push(`GET ${path}`);
      return new Uint8Array(path === 'chunk' ? 4000 : 10);
    },
    close: async () => undefined,
  };
}

test('rateLimited charges uploads before sending and downloads after receiving, from one bucket', async () => {
  const log: string[] = [];
  let now = 0;
  const bucket = new TokenBucket({ rate: 1000, now: () => now, sleep: async (ms) => void log.push(`wait ${ms}`) });
  const t = rateLimited(fakeTransport(log), bucket);
  await t.call('POST', 'dynamic_chunk', {}, new Uint8Array(3000)); // 1000 in the bucket: 2000 owed
  now += 2000; // the wait the bucket asked for has passed
  await t.call('POST', 'dynamic_close', {});
  await t.download('chunk', {});
  assert.deepEqual(log, ['wait 2000', 'POST dynamic_chunk 3000', 'POST dynamic_close 0', 'GET chunk', 'wait 4000']);
  assert.equal(bucket.taken, 7000);
});

test('rateLimited without a bucket is the transport itself', () => {
  const t = fakeTransport([]);
  assert.equal(rateLimited(t, undefined), t);
});
