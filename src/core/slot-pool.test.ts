import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlotPool } from './slot-pool.ts';

const settled = async <T>(p: Promise<T>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise<void>((r) => setImmediate(r));
  return done;
};

test('leases are shared memory of the asked length, and a released slot is reused', async () => {
  const pool = new SlotPool(2, 1024);
  const a = await pool.acquire(100);
  assert.equal(a.bytes.byteLength, 100);
  assert.ok(a.bytes.buffer instanceof SharedArrayBuffer);
  const buffer = a.bytes.buffer;
  a.release();
  const b = await pool.acquire(80);
  assert.equal(b.bytes.buffer, buffer, 'the free slot is handed out again');
  b.release();
});

test('at most count leases are out; waiters are served in order as slots come back', async () => {
  const pool = new SlotPool(2, 1024);
  const a = await pool.acquire(10);
  const b = await pool.acquire(10);
  const third = pool.acquire(10);
  const fourth = pool.acquire(10);
  assert.equal(await settled(third), false);
  assert.equal(pool.inUse, 2);
  a.release();
  assert.equal(await settled(third), true);
  assert.equal(await settled(fourth), false);
  a.release(); // a second release of the same lease is a no-op
  assert.equal(await settled(fourth), false);
  b.release();
  assert.equal(await settled(fourth), true);
  (await third).release();
  (await fourth).release();
  assert.equal(pool.inUse, 0);
});

test('a slot grown past keepBytes, or released with reuse: false, is not kept', async () => {
  const pool = new SlotPool(1, 64);
  const big = await pool.acquire(100);
  const bigBuffer = big.bytes.buffer;
  big.release();
  const next = await pool.acquire(10);
  assert.notEqual(next.bytes.buffer, bigBuffer);
  const small = next.bytes.buffer;
  next.release({ reuse: false });
  const after = await pool.acquire(10);
  assert.notEqual(after.bytes.buffer, small);
  after.release();
});

test('slots are made keepBytes large, so requests of varying size up to it reuse one buffer', async () => {
  const pool = new SlotPool(1, 1024);
  const s = await pool.acquire(10);
  assert.equal(s.bytes.buffer.byteLength, 1024);
  s.release();
  const l = await pool.acquire(1000);
  assert.equal(l.bytes.byteLength, 1000);
  assert.equal(l.bytes.buffer, s.bytes.buffer);
  l.release();
  const big = await pool.acquire(5000);
  assert.equal(big.bytes.buffer.byteLength, 5000, 'a larger request gets a buffer of its own size');
  big.release();
  const again = await pool.acquire(20);
  assert.notEqual(again.bytes.buffer, big.bytes.buffer, 'and that buffer was not kept');
  again.release();
});

test('bad arguments are refused', async () => {
  assert.throws(() => new SlotPool(0, 10), RangeError);
  await assert.rejects(new SlotPool(1, 10).acquire(-1), RangeError);
});
