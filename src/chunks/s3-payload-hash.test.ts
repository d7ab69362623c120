import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { OFF_THREAD_BYTES, PayloadHasher, payloadHashes } from './s3-payload-hash.ts';

test('PayloadHasher answers the MD5 and SHA-256 of small bodies inline and of large ones from its worker, alike', async () => {
  const hasher = new PayloadHasher();
  try {
    for (const size of [0, 1000, OFF_THREAD_BYTES, 4 * 1024 * 1024]) {
      const body = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
      const h = await hasher.hash(body);
      assert.equal(h.sha256Hex, createHash('sha256').update(body).digest('hex'), `sha256 of ${size}`);
      assert.equal(body.byteLength, size, 'the caller keeps its buffer');
      assert.deepEqual(h, payloadHashes(body));
    }
  } finally {
    await hasher.close();
  }
  assert.equal((await hasher.hash(new Uint8Array(OFF_THREAD_BYTES))).sha256Hex, payloadHashes(new Uint8Array(OFF_THREAD_BYTES)).sha256Hex, 'inline after close');
});
