import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sha256, toHex } from '../core/digest.ts';
import { isHoldfastError } from '../core/errors.ts';
import { encodeBlob, storedCrc } from '../format/blob.ts';
import { checkFetchedChunk, inlineChunkChecker, pooledChunkChecker, type ChunkChecker } from './chunk-check.ts';

/** A stored chunk as a source server sends it: its own buffer, a correct CRC. */
function chunk(size: number): { digestHex: string; size: number; bytes: Uint8Array } {
  const data = randomBytes(size);
  const encoded = encodeBlob(data, { compress: false });
  const bytes = new Uint8Array(new ArrayBuffer(encoded.length));
  bytes.set(encoded);
  return { digestHex: toHex(sha256(data)), size, bytes };
}

const upload = (c: ReturnType<typeof chunk>) => ({ ...c, encodedSize: c.bytes.length });

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => isHoldfastError(e) && e.code === code);
}

for (const [name, make] of [['inline', () => inlineChunkChecker], ['pooled', () => pooledChunkChecker(1)]] as const) {
  test(`checkFetchedChunk (${name}) passes a good chunk with its bytes intact`, async () => {
    const checker: ChunkChecker = make();
    try {
      const c = chunk(64 * 1024);
      const copy = Buffer.from(c.bytes);
      const checked = await checkFetchedChunk(checker, upload(c));
      assert.deepEqual(Buffer.from(checked), copy);
    } finally {
      await checker.close();
    }
  });

  test(`checkFetchedChunk (${name}) refuses a wrong stored CRC (BAD_CRC) and data that is not the digest's (DIGEST_MISMATCH)`, async () => {
    const checker: ChunkChecker = make();
    try {
      const badCrc = chunk(4096);
      new DataView(badCrc.bytes.buffer).setUint32(8, storedCrc(badCrc.bytes) ^ 1, true);
      await rejectsWith(checkFetchedChunk(checker, upload(badCrc)), 'BAD_CRC');
      const other = chunk(4096);
      await rejectsWith(checkFetchedChunk(checker, { ...upload(other), digestHex: chunk(4096).digestHex }), 'DIGEST_MISMATCH');
      await rejectsWith(checkFetchedChunk(checker, { digestHex: other.digestHex, size: 4096, encodedSize: 5, bytes: new Uint8Array(5) }), 'CORRUPT');
    } finally {
      await checker.close();
    }
  });
}

test('checkFetchedChunk copies a view into a shared buffer to the worker instead of lending (and detaching) it', async () => {
  const checker = pooledChunkChecker(1);
  try {
    const c = chunk(4096);
    const shared = new Uint8Array(c.bytes.length + 16);
    shared.set(c.bytes, 16);
    const view = shared.subarray(16);
    await checkFetchedChunk(checker, { ...c, bytes: view, encodedSize: view.length });
    assert.equal(shared.buffer.byteLength, c.bytes.length + 16, 'the shared buffer was not transferred away');
  } finally {
    await checker.close();
  }
});
