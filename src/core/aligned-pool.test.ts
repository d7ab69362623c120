import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALIGN, AlignedPool, alignedBuffer, koffiAlignedBuffer } from './aligned-pool.ts';
import { nativeFunction } from './native-addon.ts';

const misalign = nativeFunction<(bytes: Uint8Array, alignment: number) => number>('misalign');

test('aligned buffers start on a 4096-byte boundary, from the addon and from koffi alike, and hold what is written', { skip: misalign === undefined ? 'the native addon is not built (npm run build)' : false }, () => {
  for (const make of [alignedBuffer, koffiAlignedBuffer]) {
    for (const size of [ALIGN, 5 * ALIGN, 4 * 1024 * 1024 + 64 * 1024]) {
      const b = make(ALIGN, size);
      assert.equal(b.byteLength, size);
      assert.equal(misalign!(b, ALIGN), 0, `${make.name} ${size}: aligned`);
      b.fill(7);
      assert.equal(b[size - 1], 7);
    }
  }
  assert.equal(misalign!(new Uint8Array(new ArrayBuffer(64)).subarray(1), 2), 1, 'misalign sees a view\'s offset');
});

test('AlignedPool hands out at most max aligned buffers and gives a returned one to the next waiter', async () => {
  const pool = new AlignedPool(2, 2 * ALIGN);
  const a = await pool.take();
  const b = await pool.take();
  if (misalign !== undefined) for (const x of [a, b]) assert.equal(misalign(x, ALIGN), 0);
  let third: Uint8Array | undefined;
  const waiting = pool.take().then((x) => (third = x));
  await Promise.resolve();
  assert.equal(third, undefined, 'a third waits');
  pool.give(a);
  await waiting;
  assert.equal(third, a);
});
