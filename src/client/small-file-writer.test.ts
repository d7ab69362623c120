import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { EMPTY_ACL, EMPTY_XATTRS, type PxarMetadata } from '../format/pxar/metadata.ts';
import { isPlainFile, smallFileWriter } from './small-file-writer.ts';

const write = smallFileWriter();
const skip = write === undefined ? 'the native addon is not built (npm run build)' : false;
const isRoot = process.getuid?.() === 0;

function meta(mode: number, uid = 0, gid = 0): PxarMetadata {
  return { stat: { mode: 0o100000 | mode, flags: 0n, uid, gid, mtime: { secs: 1_700_000_000n, nanos: 123_456_789 } }, xattrs: EMPTY_XATTRS, acl: EMPTY_ACL };
}

test('a small file is written whole in one task: bytes, a zero block as a hole, mode and a nanosecond mtime', { skip }, async () => {
  const dir = makeTempDir('holdfast-small-');
  const path = Buffer.from(join(dir, 'f'));
  const data = Buffer.alloc(3 * 4096 + 100, 0);
  data.fill(1, 0, 4096);
  data.fill(2, 2 * 4096);
  const r = await write!(path, data, meta(0o640), false);
  assert.deepEqual(r, { ok: true, ownerSkipped: false });
  const st = lstatSync(path, { bigint: true });
  assert.deepEqual(readFileSync(path), data);
  assert.equal(st.mode & 0o7777n, 0o640n);
  assert.equal(st.mtimeNs, 1_700_000_000_123_456_789n);
  assert.ok(st.blocks * 512n < 3n * 4096n + 100n, `the zero block is a hole (${st.blocks} blocks)`);

  // a file ending in a zero block still has its full size
  const tail = Buffer.from(join(dir, 'tail'));
  const zeros = Buffer.concat([Buffer.from('head'), Buffer.alloc(2 * 4096)]);
  assert.equal((await write!(tail, zeros, meta(0o600), false)).ok, true);
  assert.deepEqual(readFileSync(tail), zeros);

  // empty
  const empty = Buffer.from(join(dir, 'empty'));
  assert.equal((await write!(empty, new Uint8Array(0), meta(0o644), false)).ok, true);
  assert.equal(lstatSync(empty).size, 0);
});

test('a small file never replaces what is there, and says whether it created anything', { skip }, async () => {
  const dir = makeTempDir('holdfast-small-');
  const path = join(dir, 'taken');
  writeFileSync(path, 'theirs');
  const r = await write!(Buffer.from(path), Buffer.from('ours'), meta(0o644), false);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.created, false);
    assert.equal(r.error.code, 'ALREADY_EXISTS');
    assert.equal(r.error.details['op'], 'open');
  }
  assert.equal(readFileSync(path, 'utf8'), 'theirs');
  const missing = await write!(Buffer.from(join(dir, 'no', 'such')), Buffer.from('x'), meta(0o644), false);
  assert.equal(missing.ok, false);
});

test('a small file gets its owner before its mode, so set-id bits survive the chown', { skip: skip || (isRoot ? false : 'needs root to give files away') }, async () => {
  const dir = makeTempDir('holdfast-small-');
  const path = Buffer.from(join(dir, 'suid'));
  const r = await write!(path, Buffer.from('#!/bin/sh\n'), meta(0o4755, 1234, 5678), true);
  assert.deepEqual(r, { ok: true, ownerSkipped: false });
  const st = lstatSync(path);
  assert.equal(st.uid, 1234);
  assert.equal(st.gid, 5678);
  assert.equal(st.mode & 0o7777, 0o4755);
});

test('only files with nothing but owner, mode and mtime to apply take the one-task path', () => {
  assert.equal(isPlainFile(meta(0o644)), true);
  assert.equal(isPlainFile({ ...meta(0o644), xattrs: [{ name: Buffer.from('user.a'), value: Buffer.from('1') }] }), false);
  assert.equal(isPlainFile({ ...meta(0o644), acl: { ...EMPTY_ACL, users: [{ id: 7n, permissions: 6n }] } }), false);
  assert.equal(isPlainFile({ ...meta(0o644), fcaps: Buffer.from([1]) }), false);
});
