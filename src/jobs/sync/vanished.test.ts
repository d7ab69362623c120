import { test } from 'node:test';
import assert from 'node:assert/strict';
import { depthBelow, vanishedNamespaces } from './vanished.ts';

test('depthBelow counts the levels below the anchor, and only below it', () => {
  assert.equal(depthBelow('', ''), 0);
  assert.equal(depthBelow('a/b', ''), 2);
  assert.equal(depthBelow('a', 'a'), 0);
  assert.equal(depthBelow('a/b/c', 'a'), 2);
  assert.equal(depthBelow('ab/c', 'a'), undefined, 'a sibling with the same prefix is not below');
  assert.equal(depthBelow('b', 'a'), undefined);
});

test('vanishedNamespaces lists the covered namespaces the source lacks, deepest first, never the anchor', () => {
  const present = ['m', 'm/gone', 'm/gone/deeper', 'm/kept', 'm/kept/x/y', 'mm', 'other'];
  const synced = new Set(['m', 'm/kept']);
  assert.deepEqual(vanishedNamespaces(present, synced, 'm', undefined), ['m/kept/x/y', 'm/gone/deeper', 'm/gone']);
  assert.deepEqual(vanishedNamespaces(present, synced, 'm', 1), ['m/gone'], 'max-depth bounds what the job covers');
  assert.deepEqual(vanishedNamespaces(present, new Set(), 'm', 0), [], 'max-depth 0: the anchor only, which is never removed');
  assert.deepEqual(vanishedNamespaces(['', 'a', 'a/b'], new Set(['']), '', undefined), ['a/b', 'a'], 'the root anchor stays');
});
