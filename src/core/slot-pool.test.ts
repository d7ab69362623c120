import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Gate, SlotPool, TieredSlotPool } from './slot-pool.ts';
import { isAligned } from './aligned-pool.ts';
import { nativeFunction } from './native-addon.ts';

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
  assert.equal(a.bytes.buffer.byteLength, 1024, 'every slot has the full capacity');
  const buffer = a.bytes.buffer;
  a.release();
  const b = await pool.acquire(1000);
  assert.equal(b.bytes.buffer, buffer, 'the free slot is handed out again, whatever the length');
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

test('best fit: a lease gets the free slot already used for the most similar length', async () => {
  const pool = new SlotPool(3, 1000);
  const leases = await Promise.all([pool.acquire(100), pool.acquire(500), pool.acquire(900)]);
  const [small, mid, big] = leases.map((l) => l.bytes.buffer);
  for (const l of leases) l.release();
  const pick = async (n: number): Promise<ArrayBufferLike> => {
    const l = await pool.acquire(n);
    l.release();
    return l.bytes.buffer;
  };
  assert.equal(await pick(50), small, 'the smallest slot that holds it');
  assert.equal(await pick(400), mid);
  assert.equal(await pick(600), big);
  assert.equal(await pick(950), big, 'none holds it: the largest grows least');
});

test('a slot released with reuse: false is not kept', async () => {
  const pool = new SlotPool(1, 64);
  const a = await pool.acquire(10);
  const first = a.bytes.buffer;
  a.release({ reuse: false });
  const b = await pool.acquire(10);
  assert.notEqual(b.bytes.buffer, first);
  b.release();
});

test('unshared slots can be lent to a worker by transfer and adopted back', async () => {
  const pool = new SlotPool(1, 64, { shared: false });
  const a = await pool.acquire(8);
  assert.ok(a.bytes.buffer instanceof ArrayBuffer);
  a.bytes.set([1, 2, 3]);
  const { port1, port2 } = new MessageChannel();
  const back = new Promise<Uint8Array>((resolve) => port2.once('message', (v: Uint8Array) => resolve(v)));
  port1.postMessage(a.bytes, [a.bytes.buffer]);
  assert.equal(a.bytes.byteLength, 0, 'detached while lent');
  const returned = await back;
  a.adopt(returned.buffer);
  assert.deepEqual([...a.bytes.subarray(0, 3)], [1, 2, 3]);
  a.release();
  const b = await pool.acquire(8);
  assert.equal(b.bytes.buffer, returned.buffer, 'the adopted buffer is the one reused');
  b.release();
  port1.close();
  assert.throws(() => a.adopt(new ArrayBuffer(3)), RangeError);
});

test('an aligned pool starts every lease at an aligned address, also after a transfer to a worker and back', async (t) => {
  if (nativeFunction('misalign') === undefined) return t.skip('the native addon is not built: addresses cannot be known (npm run build:native)');
  const pool = new SlotPool(2, 10_000, { shared: false, align: 4096 });
  const a = await pool.acquire(9000);
  const b = await pool.acquire(10_000);
  for (const l of [a, b]) assert.ok(isAligned(l.bytes), 'lease starts at a 4096-aligned address');
  assert.equal(b.bytes.byteLength, 10_000, 'the full capacity fits after the aligned start');
  a.bytes.fill(7);
  const { port1, port2 } = new MessageChannel();
  const back = new Promise<Uint8Array>((resolve) => port2.once('message', (v: Uint8Array) => resolve(v)));
  assert.ok(a.bytes.buffer instanceof ArrayBuffer);
  port1.postMessage(a.bytes, [a.bytes.buffer]);
  a.adopt((await back).buffer);
  port1.close();
  assert.ok(isAligned(a.bytes), 'still aligned after adopt');
  assert.equal(a.bytes.byteLength, 9000);
  assert.ok(a.bytes.every((v) => v === 7));
  a.release();
  b.release();
  const c = await pool.acquire(1);
  assert.ok(isAligned(c.bytes), 'a reused slot is aligned too');
  c.release();
  assert.throws(() => new SlotPool(1, 10, { align: 3 }), RangeError);
});

test('bad arguments are refused', async () => {
  assert.throws(() => new SlotPool(0, 10), RangeError);
  assert.throws(() => new SlotPool(1, 0), RangeError);
  await assert.rejects(new SlotPool(1, 10).acquire(-1), RangeError);
  await assert.rejects(new SlotPool(1, 10).acquire(11), RangeError);
});

test('a tiered pool serves each length from the smallest tier that holds it, each tier bounded on its own', async () => {
  const pool = new TieredSlotPool([
    { count: 1, capacity: 1000 },
    { count: 2, capacity: 100 },
  ]);
  assert.equal(pool.capacity, 1000);
  assert.equal(pool.maxBytes, 1200);
  const a = await pool.acquire(100);
  const b = await pool.acquire(50);
  assert.equal(a.bytes.buffer.byteLength, 100);
  const third = pool.acquire(10);
  assert.equal(await settled(third), false, 'the small tier is full');
  const big = await pool.acquire(500);
  assert.equal(big.bytes.buffer.byteLength, 1000, 'the large tier is separate');
  assert.equal(pool.inUse, 3);
  a.release();
  (await third).release();
  for (const l of [b, big]) l.release();
  assert.equal(pool.inUse, 0);
  await assert.rejects(pool.acquire(1001), RangeError);
});

test('SlotPool.trim drops free buffers, so the next lease gets a fresh one', async () => {
  const pool = new SlotPool(2, 1024, { shared: false });
  const a = await pool.acquire(100);
  const first = a.bytes.buffer;
  a.release();
  const b = await pool.acquire(100);
  assert.equal(b.bytes.buffer, first, 'a released buffer is reused');
  b.release();
  pool.trim();
  const c = await pool.acquire(100);
  assert.notEqual(c.bytes.buffer, first, 'trim dropped it');
  c.release();
});

test('Gate lets count holders in and the next waiter in first come, first served', async () => {
  const gate = new Gate(2);
  const l1 = await gate.enter();
  const l2 = await gate.enter();
  const order: number[] = [];
  const w3 = gate.enter().then((l) => (order.push(3), l));
  const w4 = gate.enter().then((l) => (order.push(4), l));
  assert.equal(gate.inside, 2);
  l1();
  l1(); // idempotent
  const l3 = await w3;
  assert.deepEqual(order, [3]);
  l2();
  const l4 = await w4;
  assert.deepEqual(order, [3, 4]);
  l3();
  l4();
  assert.equal(gate.inside, 0);
});
