import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PXAR_GOODBYE_TAIL_MARKER } from './constants.ts';
import { bstPermutation, bstSearch, goodbyeTable, parseGoodbyeItems } from './goodbye.ts';
import { isHoldfastError } from '../../core/errors.ts';
import { pxarNameHash } from './siphash.ts';

const VECTORS: readonly (readonly number[])[] = [
  [], [0], [1, 0], [1, 0, 2], [2, 1, 3, 0], [3, 1, 4, 0, 2], [3, 1, 5, 0, 2, 4], [3, 1, 5, 0, 2, 4, 6],
  [4, 2, 6, 1, 3, 5, 7, 0], [5, 3, 7, 1, 4, 6, 8, 0, 2], [6, 3, 8, 1, 5, 7, 9, 0, 2, 4],
  [7, 3, 9, 1, 5, 8, 10, 0, 2, 4, 6], [7, 3, 10, 1, 5, 9, 11, 0, 2, 4, 6, 8],
  [7, 3, 11, 1, 5, 9, 12, 0, 2, 4, 6, 8, 10], [7, 3, 11, 1, 5, 9, 13, 0, 2, 4, 6, 8, 10, 12],
  [7, 3, 11, 1, 5, 9, 13, 0, 2, 4, 6, 8, 10, 12, 14], [8, 4, 12, 2, 6, 10, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0],
  [9, 5, 13, 3, 7, 11, 15, 1, 4, 6, 8, 10, 12, 14, 16, 0, 2],
];

test('bstPermutation reproduces the upstream permutations for n = 0..17 (VECTORS.md §2.4)', () => {
  VECTORS.forEach((expected, n) => assert.deepEqual(bstPermutation(n), expected, `n=${n}`));
});

test('bstPermutation is a complete permutation forming a valid search tree for n = 18..999', () => {
  for (let n = 18; n < 1000; n++) {
    const perm = bstPermutation(n);
    assert.deepEqual([...perm].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i), `n=${n}`);
    // In-order traversal of the implicit tree must visit the sorted indices in order.
    const inOrder: number[] = [];
    const walk = (i: number): void => {
      if (i >= n) return;
      walk(2 * i + 1);
      inOrder.push(perm[i] as number);
      walk(2 * i + 2);
    };
    walk(0);
    assert.deepEqual(inOrder, Array.from({ length: n }, (_, i) => i), `n=${n}`);
  }
});

test('bstPermutation and bstSearch reproduce the upstream doc-test (duplicates, skip counts)', () => {
  const sorted = [0, 1, 2, 2, 2, 3, 4, 5, 6, 6, 7, 8, 8, 8];
  const tree = bstPermutation(sorted.length).map((i) => sorted[i] as number);
  assert.deepEqual(tree, [5, 2, 8, 1, 3, 6, 8, 0, 2, 2, 4, 6, 7, 8]);
  const search = (find: number, start: number, skip: number): number | undefined => bstSearch(tree, start, skip, (v) => find - v);
  assert.equal(search(8, 0, 0), 2);
  assert.equal(search(8, 2, 1), 6);
  assert.equal(search(8, 6, 1), 13);
  assert.equal(search(5, 0, 1), undefined);
  assert.equal(search(5, tree.length, 0), undefined);
  assert.equal(search(5, tree.length + 1, 0), undefined);
});

test('goodbyeTable orders test_goodbye_sort_order as file4, file3, file2, file1 (VECTORS.md §2.9)', () => {
  const names = ['file1', 'file2', 'file3', 'file4'];
  const children = names.map((n, i) => ({ hash: pxarNameHash(new TextEncoder().encode(n)), fileOffset: 100 + 10 * i, size: 10 }));
  const items = parseGoodbyeItems(goodbyeTable(children, 1000, 40).subarray(16));
  const byHash = new Map(children.map((c, i) => [c.hash, names[i]]));
  assert.deepEqual(items.slice(0, 4).map((it) => byHash.get(it.hash)), ['file4', 'file3', 'file2', 'file1']);
  assert.deepEqual(items[4], { hash: PXAR_GOODBYE_TAIL_MARKER, offset: 960, size: 16 + 24 * 5 });
  assert.equal(items[0]?.offset, 1000 - 130);
});

test('parseGoodbyeItems rejects a table whose size is not a positive multiple of 24 with CORRUPT', () => {
  for (const size of [0, 23, 25]) assert.throws(() => parseGoodbyeItems(new Uint8Array(size)), (e) => isHoldfastError(e, 'CORRUPT'));
});
