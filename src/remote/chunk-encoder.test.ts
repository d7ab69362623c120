import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Crc32 from '@node-rs/crc32';
import { toHex } from '../core/digest.ts';
import { blobHeader, decodeBlob, verifyBlobCrc } from '../format/blob.ts';
import { CryptConfig } from '../format/crypt-config.ts';
import { generateKey } from '../format/key-file.ts';
import { ChunkBuffers } from './chunk-buffers.ts';
import { INLINE_CHUNK_BYTES, inlineChunkEncoder, pooledChunkEncoder, type ChunkEncoder } from './chunk-encoder.ts';

const { crc32 } = createRequire(import.meta.url)('@node-rs/crc32') as typeof Crc32;

/** Incompressible and compressible data, each over several of the fused pass's 64 KiB pieces. */
const DATA = [randomBytes(300_000), Buffer.alloc(300_000, 'holdfast keeps backups ')];

for (const [name, make] of [['inline', (key?: Uint8Array) => inlineChunkEncoder(key)], ['pooled', (key?: Uint8Array) => pooledChunkEncoder(key, 1)]] as const) {
  test(`the ${name} encoder's digest also answers the data's CRC-32, and encode with it makes blobs whose CRC verifies, plain and compressed`, async () => {
    const encoder: ChunkEncoder = make();
    const buffers = new ChunkBuffers(1);
    try {
      const kinds: string[] = [];
      for (const data of DATA) {
        const c = await buffers.take(data.length);
        c.data.set(data);
        const d = await encoder.digest(c);
        assert.equal(toHex(d.digest), createHash('sha256').update(data).digest('hex'));
        assert.equal(d.plainCrc, crc32(data));
        const blob = await encoder.encode(c, d.plainCrc);
        verifyBlobCrc(blob);
        kinds.push(blobHeader(blob).kind);
        assert.deepEqual(Buffer.from(decodeBlob(blob)), data);
        c.release();
      }
      assert.deepEqual(kinds, ['plain', 'compressed']);
    } finally {
      await encoder.close();
    }
  });

  test(`the ${name} encoder answers no CRC when encrypting (the blob's CRC is over the ciphertext), and its blobs verify`, async () => {
    const key = generateKey();
    const encoder: ChunkEncoder = make(key);
    const buffers = new ChunkBuffers(1);
    try {
      const c = await buffers.take(DATA[0]!.length);
      c.data.set(DATA[0]!);
      const d = await encoder.digest(c);
      assert.equal(d.plainCrc, undefined);
      assert.deepEqual(d.digest, new CryptConfig(key).digest(DATA[0]!));
      const blob = await encoder.encode(c, d.plainCrc);
      verifyBlobCrc(blob);
      assert.deepEqual(Buffer.from(decodeBlob(blob, new CryptConfig(key))), DATA[0]);
      c.release();
    } finally {
      await encoder.close();
    }
  });
}

test('the pooled encoder hashes and encodes chunks under 64 KiB on the main thread: an unchanged re-backup starts no worker', async () => {
  const encoder = pooledChunkEncoder(undefined, 1);
  const buffers = new ChunkBuffers(1);
  try {
    const small = await buffers.take(INLINE_CHUNK_BYTES - 1);
    small.data.fill(3);
    const d = await encoder.digest(small);
    assert.equal(toHex(d.digest), createHash('sha256').update(small.data).digest('hex'));
    verifyBlobCrc(await encoder.encode(small, d.plainCrc));
    small.release();
    assert.equal(encoder.workersStarted, 0);
    const large = await buffers.take(INLINE_CHUNK_BYTES);
    large.data.fill(4);
    await encoder.digest(large);
    large.release();
    assert.equal(encoder.workersStarted, 1, 'a chunk of 64 KiB goes to a worker');
  } finally {
    await encoder.close();
  }
});
