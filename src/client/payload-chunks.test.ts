import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pseudoRandom } from '../../test/helpers/seeded.ts';
import type { KnownChunk } from '../remote/backup-writer.ts';
import { ChunkBuffers } from '../remote/chunk-buffers.ts';
import { payloadChunks, type PayloadItem } from './payload-chunks.ts';

const KIB = 1024;

async function run(items: PayloadItem[]): Promise<(number | string)[]> {
  const buffers = new ChunkBuffers(4);
  async function* source(): AsyncGenerator<PayloadItem> {
    yield* items;
  }
  const out: (number | string)[] = [];
  for await (const c of payloadChunks(source(), buffers, 64 * KIB)) {
    if ('known' in c) out.push(`known:${c.size}`);
    else {
      out.push(c.data.length);
      c.release();
    }
  }
  return out;
}

test('payloadChunks cuts at a suggested boundary and passes injected chunks through after a forced cut', async () => {
  const data = pseudoRandom(100 * KIB, 3);
  const injected: KnownChunk[] = [{ known: new Uint8Array(32), size: 5000 }, { known: new Uint8Array(32).fill(1), size: 7000 }];
  const sizes = await run([{ suggest: 40 * KIB }, data.subarray(0, 50 * KIB), { inject: injected }, { suggest: 50 * KIB + 12_000 + 30 * KIB }, data.subarray(50 * KIB)]);
  assert.equal(sizes[0], 40 * KIB, 'cut at the suggestion');
  assert.equal(sizes[1], 10 * KIB, 'forced cut before the injection');
  assert.deepEqual(sizes.slice(2, 4), ['known:5000', 'known:7000']);
  assert.equal(sizes[4], 30 * KIB, 'suggestions count injected bytes');
  assert.equal(sizes.slice(5).reduce<number>((a, b) => a + (b as number), 0), 20 * KIB);
});

test('payloadChunks with only bytes and no suggestion cuts like the plain chunker (sizes add up)', async () => {
  const data = pseudoRandom(600 * KIB, 9);
  const sizes = (await run([data.subarray(0, 123_457), data.subarray(123_457)])) as number[];
  assert.equal(sizes.reduce((a, b) => a + b, 0), data.length);
  for (const s of sizes.slice(0, -1)) assert.ok(s >= 16 * KIB && s <= 256 * KIB, `chunk of ${s} within [min, max]`);
});

test('payloadChunks cuts at a suggestion that arrives just after the bytes before it were scanned', async () => {
  const data = new Uint8Array(100 * KIB); // zeros: the hash alone never cuts before max
  const sizes = (await run([data.subarray(0, 50 * KIB), { suggest: 50 * KIB }, data.subarray(50 * KIB, 52 * KIB), { suggest: 52 * KIB }, data.subarray(52 * KIB)])) as number[];
  const ends = sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0));
  assert.ok(ends.includes(50 * KIB), `a chunk ends at the suggestion: ${ends.join(',')}`);
  assert.ok(!ends.includes(52 * KIB), 'no chunk below min (16 KiB) is cut at a suggestion');
});
