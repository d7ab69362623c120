import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkfsArgs } from './loop-fs.ts';

test('mkfsArgs forces, quiets, and gives ext4 enough inodes for a datastore', () => {
  assert.deepEqual(mkfsArgs('ext4', '/dev/loop3'), ['-q', '-F', '-N', '400000', '/dev/loop3']);
  assert.deepEqual(mkfsArgs('xfs', '/dev/loop3'), ['-q', '-f', '/dev/loop3']);
  assert.deepEqual(mkfsArgs('btrfs', '/dev/loop3'), ['-q', '-f', '/dev/loop3']);
});
