import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../core/errors.ts';
import { ArchiveAccess } from './archive-access.ts';
import type { ChunkRef } from './restore-reader.ts';

/** An archive of `sizes` chunks whose byte at offset o is o & 0xff; counts fetches per chunk. */
function fixture(sizes: readonly number[], fail?: (i: number, n: number) => boolean) {
  const chunks: ChunkRef[] = sizes.map((size, i) => ({ digest: new Uint8Array([i]), size }));
  const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const fetched = sizes.map(() => 0);
  const fetch = async (c: ChunkRef): Promise<Uint8Array> => {
    const i = c.digest[0]!;
    fetched[i]!++;
    if (fail?.(i, fetched[i]!)) throw new Error(`chunk ${i} failed`);
    return Uint8Array.from({ length: c.size }, (_, k) => (starts[i]! + k) & 0xff);
  };
  const size = sizes.reduce((a, b) => a + b, 0);
  return { chunks, size, fetch, fetched };
}

const expected = (offset: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, k) => (offset + k) & 0xff);

test('read gives exactly the bytes asked for, within a chunk and across several', async () => {
  const f = fixture([100, 50, 300, 7]);
  const a = new ArchiveAccess(f.chunks, f.size, f.fetch);
  for (const [o, n] of [[0, 10], [95, 10], [90, 360], [449, 8], [0, 457], [456, 1], [200, 0]] as const) {
    assert.deepEqual(await a.read(o, n), expected(o, n), `${o}+${n}`);
  }
});

test('a chunk is fetched once while cached, the next one is read ahead, and the cache is bounded', async () => {
  const f = fixture(Array.from({ length: 10 }, () => 64));
  const a = new ArchiveAccess(f.chunks, f.size, f.fetch, 3);
  for (let o = 0; o < 64 * 4; o += 16) await a.read(o, 16); // chunks 0..3, in order
  assert.deepEqual(f.fetched.slice(0, 5), [1, 1, 1, 1, 1], 'each once, and chunk 4 ahead of need');
  await a.read(0, 1);
  assert.equal(f.fetched[0], 2, 'chunk 0 was evicted (3 kept) and is fetched again');
});

test('a failed fetch fails its read and is not cached; the next read asks again', async () => {
  const f = fixture([32], (_, n) => n === 1);
  const a = new ArchiveAccess(f.chunks, f.size, f.fetch);
  await assert.rejects(a.read(0, 8), /chunk 0 failed/);
  assert.deepEqual(await a.read(0, 8), expected(0, 8));
});

test('a chunk read ahead that fails fails no read that did not ask for it', async () => {
  const f = fixture([32, 32], (i) => i === 1);
  const a = new ArchiveAccess(f.chunks, f.size, f.fetch);
  assert.deepEqual(await a.read(0, 8), expected(0, 8)); // chunk 1 is asked for ahead and fails, unawaited
  await assert.rejects(a.read(32, 8), /chunk 1 failed/);
});

test('reads outside the archive are INVALID_ARGUMENT', async () => {
  const f = fixture([10]);
  const a = new ArchiveAccess(f.chunks, f.size, f.fetch);
  for (const [o, n] of [[-1, 1], [5, 6], [11, 0], [0.5, 1]] as const) {
    await assert.rejects(a.read(o, n), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'), `${o}+${n}`);
  }
});
