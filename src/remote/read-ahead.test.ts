import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchInOrder } from './read-ahead.ts';

/** A fetch the test answers by hand, recording what is outstanding when each request starts. */
function manualFetch(): { fetch: (item: { id: number; size: number }) => Promise<number>; pending: Map<number, () => void>; peak: { count: number } } {
  const pending = new Map<number, () => void>();
  const peak = { count: 0 };
  const fetch = (item: { id: number; size: number }): Promise<number> =>
    new Promise((resolve) => {
      pending.set(item.id, () => {
        pending.delete(item.id);
        resolve(item.id);
      });
      peak.count = Math.max(peak.count, pending.size);
    });
  return { fetch, pending, peak };
}

/** Consumes the generator, answering requests in reverse order of issue each time it waits. */
async function drain(gen: AsyncGenerator<number>, pending: Map<number, () => void>, onRequestSet: (ids: number[]) => void): Promise<number[]> {
  const out: number[] = [];
  for (;;) {
    const step = gen.next(); // runs the generator up to its wait: its requests are issued now
    onRequestSet([...pending.keys()]);
    for (const id of [...pending.keys()].reverse()) pending.get(id)!();
    const r = await step;
    if (r.done) return out;
    out.push(r.value);
  }
}

test('fetchInOrder yields answers in item order whatever order they arrive in', async () => {
  const items = Array.from({ length: 20 }, (_, id) => ({ id, size: 1 }));
  const { fetch, pending } = manualFetch();
  const got = await drain(fetchInOrder(items, fetch, { bytes: 5, minChunks: 2, maxChunks: 4 }), pending, () => undefined);
  assert.deepEqual(got, items.map((i) => i.id));
});

test('fetchInOrder keeps outstanding bytes within the target plus one item, and requests within maxChunks', async () => {
  const items = Array.from({ length: 40 }, (_, id) => ({ id, size: 3 }));
  const { fetch, pending } = manualFetch();
  const sizes: number[] = [];
  await drain(fetchInOrder(items, fetch, { bytes: 10, minChunks: 1, maxChunks: 8 }), pending, (ids) => sizes.push(ids.length * 3));
  assert.ok(Math.max(...sizes) <= 10 + 3, `outstanding ${Math.max(...sizes)} bytes`);
  assert.equal(Math.max(...sizes), 12, 'fills up to the target');
  const many = manualFetch();
  await drain(fetchInOrder(items, many.fetch, { bytes: 1e9, minChunks: 1, maxChunks: 8 }), many.pending, () => undefined);
  assert.equal(many.peak.count, 8);
});

test('fetchInOrder keeps minChunks outstanding even when they exceed the byte target', async () => {
  const items = Array.from({ length: 10 }, (_, id) => ({ id, size: 100 }));
  const { fetch, pending, peak } = manualFetch();
  await drain(fetchInOrder(items, fetch, { bytes: 1, minChunks: 5, maxChunks: 30 }), pending, () => undefined);
  assert.equal(peak.count, 5);
});

test('fetchInOrder rejects with the first failed item when its turn comes', async () => {
  const items = [0, 1, 2].map((id) => ({ id, size: 1 }));
  const fetch = (i: { id: number }): Promise<number> => (i.id === 1 ? Promise.reject(new Error('chunk 1 is bad')) : Promise.resolve(i.id));
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const v of fetchInOrder(items, fetch, { bytes: 10, minChunks: 3, maxChunks: 3 })) got.push(v);
    })(),
    /chunk 1 is bad/,
  );
  assert.deepEqual(got, [0]);
});
