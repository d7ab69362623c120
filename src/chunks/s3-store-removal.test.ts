import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../core/errors.ts';
import { FaultyS3Objects, MemoryS3Objects } from '../../test/helpers/memory-s3-objects.ts';
import { storeMarkerKey } from './s3-chunk-backend.ts';
import { removeS3Store } from './s3-store-removal.ts';

const EMPTY = new Uint8Array(0);

async function bucketWith(keys: readonly string[]): Promise<MemoryS3Objects> {
  const objects = new MemoryS3Objects();
  for (const k of keys) await objects.put(k, EMPTY);
  return objects;
}

test('removeS3Store deletes every key under <store>/ and none of a store whose name it prefixes', async () => {
  const mine = [storeMarkerKey('a'), 'a/.chunks/abcd/abcd01', 'a/.cnt/vm/100/owner', 'a/.cnt/ns/x/.namespace'];
  const others = [storeMarkerKey('ab'), 'ab/.chunks/abcd/abcd01', 'a.chunks', 'other/a/x'];
  const objects = await bucketWith([...mine, ...others]);
  const seen: number[] = [];
  assert.equal(await removeS3Store(objects, 'a', (n) => seen.push(n)), mine.length);
  assert.deepEqual([...objects.objects.keys()].sort(), [...others].sort());
  assert.equal(seen.at(-1), mine.length);
});

test('removeS3Store deletes a page of 1000 keys at a time, reporting progress after each, the store marker last', async () => {
  const chunks = Array.from({ length: 2345 }, (_, i) => `s/.chunks/0000/${String(i).padStart(8, '0')}`);
  const objects = await bucketWith([storeMarkerKey('s'), ...chunks]);
  const seen: number[] = [];
  assert.equal(await removeS3Store(objects, 's', (n) => seen.push(n)), 2346);
  assert.deepEqual(seen, [1000, 2000, 2345, 2346]);
  assert.equal(objects.objects.size, 0);
});

test('removeS3Store rejects with OBJECT_STORE_ERROR naming what went when the store cannot be reached, and keeps the store marker', async () => {
  const inner = await bucketWith([storeMarkerKey('s'), 's/.chunks/0000/1', 's/.chunks/0000/2']);
  const objects = new FaultyS3Objects(inner);
  objects.failing.add('list');
  await assert.rejects(removeS3Store(objects, 's'), (e) => isHoldfastError(e, 'OBJECT_STORE_ERROR') && /failed after 0 object/.test(e.message) && e.details['removed'] === 0);
  assert.equal(inner.objects.size, 3);
  objects.failing.clear();
  objects.failWhen = (op) => op === 'deleteMany';
  await assert.rejects(removeS3Store(objects, 's'), (e) => isHoldfastError(e, 'OBJECT_STORE_ERROR'));
  assert.ok(inner.objects.has(storeMarkerKey('s')), 'a failed removal leaves the prefix recognisably a store');
});

test('removeS3Store refuses a store name that is not one prefix component', async () => {
  await assert.rejects(removeS3Store(new MemoryS3Objects(), ''), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'));
  await assert.rejects(removeS3Store(new MemoryS3Objects(), 'a/b'), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'));
});
