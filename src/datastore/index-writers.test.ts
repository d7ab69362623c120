import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../core/errors.ts';
import { FIXED_CHUNK_SIZE } from '../format/fixed-index.ts';
import { FixedIndexWriter, MAX_FIXED_IMAGE_SIZE } from './index-writers.ts';

test('FixedIndexWriter refuses an image size past 16 TiB, or not a safe integer, before anything is allocated', () => {
  for (const size of [MAX_FIXED_IMAGE_SIZE + 1, 2 ** 53, Number.MAX_SAFE_INTEGER, -1, 1.5]) {
    assert.throws(() => new FixedIndexWriter('disk.img.fidx', size), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'), String(size));
  }
  assert.doesNotThrow(() => new FixedIndexWriter('disk.img.fidx', MAX_FIXED_IMAGE_SIZE));
});

test('FixedIndexWriter of a growing image refuses a chunk past 16 TiB', () => {
  const w = new FixedIndexWriter('disk.img.fidx', undefined);
  assert.throws(() => w.append(new Uint8Array(32), MAX_FIXED_IMAGE_SIZE, FIXED_CHUNK_SIZE), (e) => isHoldfastError(e, 'PROTOCOL_ERROR'));
});
