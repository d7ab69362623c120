import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from './buffer-pool.ts';
import { isAligned } from './aligned-pool.ts';
import { nativeFunction } from './native-addon.ts';

const MIB = 1024 * 1024;

test('BufferPool.take hands out the smallest idle buffer that fits, else a new one in whole MiB', () => {
  const pool = new BufferPool(4);
  const small = pool.take(100);
  const big = pool.take(5 * MIB + 1);
  assert.equal(small.byteLength, MIB);
  assert.equal(big.byteLength, 6 * MIB);
  pool.give(big);
  pool.give(small);
  assert.equal(pool.take(10), small);
  assert.equal(pool.take(2 * MIB), big);
  assert.equal(pool.idle, 0);
  assert.notEqual(pool.take(10), small); // none idle: a new one
});

test('BufferPool.give keeps at most `keep` idle buffers', () => {
  const pool = new BufferPool(2);
  const bufs = [pool.take(1), pool.take(1), pool.take(1)];
  for (const b of bufs) pool.give(b);
  assert.equal(pool.idle, 2);
});

test('an aligned BufferPool hands out page-aligned buffers of whole MiB', (t) => {
  if (nativeFunction('misalign') === undefined) return t.skip('the native addon is not built: addresses cannot be known (npm run build:native)');
  const pool = new BufferPool(2, { aligned: true });
  for (const n of [1, MIB, 3 * MIB + 5]) {
    const b = pool.take(n);
    assert.ok(isAligned(b), `buffer for ${n} bytes starts at a 4096-aligned address`);
    assert.equal(b.byteLength, Math.ceil(n / MIB) * MIB);
    b.fill(1); // all of it is usable
  }
});
