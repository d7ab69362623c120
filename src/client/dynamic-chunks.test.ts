import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pseudoRandom } from '../../test/helpers/seeded.ts';
import { BuzhashChunker } from './buzhash-chunker.ts';
import { ChunkBuffers } from '../remote/chunk-buffers.ts';
import { dynamicChunks } from './dynamic-chunks.ts';

const AVG = 4096;

/** Pieces of `data` in one buffer that is overwritten for every piece, as pxar-create's reads are. */
async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  const reused = new Uint8Array(size);
  for (let at = 0; at < data.length; at += size) {
    const piece = data.subarray(at, at + size);
    reused.set(piece);
    yield reused.subarray(0, piece.length);
    reused.fill(0xee); // a consumer still holding the last piece would now see garbage
  }
}

/** Cut points of the whole input in one scan pass per cut, as a reference. */
function referenceCuts(data: Uint8Array, avg = AVG): number[] {
  const chunker = new BuzhashChunker(avg);
  const cuts: number[] = [];
  let at = 0;
  while (at < data.length) {
    const cut = chunker.scan(data.subarray(at));
    if (cut === 0) break;
    at += cut;
    cuts.push(at);
  }
  if (cuts.at(-1) !== data.length) cuts.push(data.length);
  return cuts;
}

test('dynamicChunks cuts where the chunker does, whatever the input pieces, and never holds a piece past the next', async () => {
  const data = pseudoRandom(300_000, 7);
  const expected = referenceCuts(data);
  for (const pieceSize of [1000, 4096, 65536, data.length]) {
    const buffers = new ChunkBuffers(2);
    const cuts: number[] = [];
    const joined = new Uint8Array(data.length);
    let at = 0;
    for await (const chunk of dynamicChunks(pieces(data, pieceSize), buffers, AVG)) {
      assert.ok(chunk.region.buffer instanceof SharedArrayBuffer);
      joined.set(chunk.data, at);
      at += chunk.data.length;
      cuts.push(at);
      chunk.release(); // with 2 buffers, the generator would wait forever without this
    }
    assert.deepEqual(cuts, expected, `piece size ${pieceSize}`);
    assert.ok(Buffer.from(joined).equals(data));
    assert.equal(buffers.inUse, 0);
  }
});

test('dynamicChunks at the default average seals chunks over 4 MiB in place and copies smaller ones', async () => {
  const data = pseudoRandom(40 * 1024 * 1024, 11);
  const expected = referenceCuts(data, 4 * 1024 * 1024);
  const buffers = new ChunkBuffers(2);
  const cuts: number[] = [];
  const sizes = new Set<string>();
  let at = 0;
  for await (const chunk of dynamicChunks(pieces(data, 1024 * 1024), buffers)) {
    assert.ok(Buffer.from(chunk.data).equals(data.subarray(at, at + chunk.data.length)), `chunk at ${at}`);
    assert.equal(chunk.region.byteLength, chunk.data.length + 44, 'the region is headroom and the chunk');
    sizes.add(chunk.data.length > 4 * 1024 * 1024 ? 'large' : 'small');
    at += chunk.data.length;
    cuts.push(at);
    chunk.release();
  }
  assert.deepEqual(cuts, expected);
  assert.deepEqual([...sizes].sort(), ['large', 'small'], 'both paths were taken');
  assert.equal(buffers.inUse, 0);
});

test('dynamicChunks refuses an average that allows chunks over 16 MiB', async () => {
  await assert.rejects(dynamicChunks(pieces(new Uint8Array(10), 10), new ChunkBuffers(1), 8 * 1024 * 1024).next(), /over the protocol/);
});
