import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lchownSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHoldfastError } from '../core/errors.ts';
import { PxarEncoder } from '../format/pxar/encoder.ts';
import { FIXTURE_SKIP, readFixture } from '../format/pxar/fixtures.ts';
import { plainMetadata, type PxarMetadata } from '../format/pxar/metadata.ts';
import { createPxarStream } from './pxar-create.ts';
import { extractPxar } from './pxar-extract.ts';
import { mknod, setMtime, setXattr } from './pxar-native.ts';
import { collect, once, snapshotTree, aclXattrBytes } from './pxar-test-tree.ts';
import type { PxarWarning } from './pxar-warnings.ts';
import { pseudoRandom } from '../../test/helpers/seeded.ts';

const IS_ROOT = process.getuid?.() === 0;
const enc = new TextEncoder();

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-pxar-'));
  t.after(() => {
    chmodTree(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Read-only directories would block cleanup as non-root. */
function chmodTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && !e.isSymbolicLink()) {
      chmodSync(join(dir, e.name), 0o700);
      chmodTree(join(dir, e.name));
    }
  }
}



const NONE = 0xffffffff;

function trySetXattr(path: string, name: string, value: Buffer): boolean {
  try {
    setXattr(Buffer.from(path), Buffer.from(name), value);
    return true;
  } catch (e) {
    const errno = isHoldfastError(e) ? e.details['errno'] : undefined;
    if (errno === 'ENOTSUP' || errno === 'EOPNOTSUPP' || errno === 'EPERM') return false;
    throw e;
  }
}

/** The required round-trip tree; returns notes on what the environment could not create. */
function buildTree(root: string): string[] {
  const notes: string[] = [];
  const p = (...parts: string[]): string => join(root, ...parts);
  mkdirSync(p('d1', 'd2', 'd3'), { recursive: true });
  mkdirSync(p('empty-dir'));
  mkdirSync(p('ro-dir'));
  mkdirSync(p('sticky-dir'));
  writeFileSync(p('empty'), '');
  writeFileSync(p('small.txt'), 'hello pxar\n');
  writeFileSync(p('big.bin'), pseudoRandom(3 * 1024 * 1024 + 17, 42));
  writeFileSync(p('with space'), 'spaces');
  writeFileSync(p('ünïcødé ☃'), 'utf-8');
  writeFileSync(Buffer.from(`${root}/latin1-\xff-name`, 'latin1'), 'not utf-8');
  writeFileSync(p('d1', 'd2', 'd3', 'deep'), pseudoRandom(70000, 7));
  writeFileSync(p('ro-dir', 'inside'), 'x');
  writeFileSync(p('ro'), 'read only');
  writeFileSync(p('suid'), '#!/bin/sh\n');
  writeFileSync(p('hl-a'), 'shared inode');
  linkSync(p('hl-a'), p('d1', 'hl-b'));
  symlinkSync('does/not/exist', p('dangling'));
  symlinkSync('/etc/passwd', p('absolute'));
  symlinkSync('d1/d2', p('d1-link'));
  chmodSync(p('ro'), 0o444);
  chmodSync(p('suid'), 0o4755);
  chmodSync(p('sticky-dir'), 0o1777);
  if (!trySetXattr(p('small.txt'), 'user.comment', Buffer.from('a value'))) notes.push('user xattrs unsupported');
  else {
    trySetXattr(p('d1'), 'user.dir', Buffer.from([0, 1, 2, 255]));
    trySetXattr(p('big.bin'), 'user.empty', Buffer.alloc(0));
  }
  writeFileSync(p('acl-file'), 'acl');
  const access = aclXattrBytes([[1, 6, NONE], [2, 6, 1001], [4, 4, NONE], [0x10, 6, NONE], [0x20, 4, NONE]]);
  if (!trySetXattr(p('acl-file'), 'system.posix_acl_access', access)) notes.push('ACLs unsupported');
  mkdirSync(p('acl-dir'));
  trySetXattr(p('acl-dir'), 'system.posix_acl_default', aclXattrBytes([[1, 7, NONE], [2, 5, 1001], [4, 5, NONE], [0x10, 5, NONE], [0x20, 5, NONE]]));
  if (IS_ROOT) {
    chownSync(p('small.txt'), 1234, 5678);
    chownSync(p('d1'), 4321, 8765);
    lchownSync(p('dangling'), 99, 98);
    trySetXattr(p('with space'), 'trusted.t', Buffer.from('root only'));
    mknod(Buffer.from(p('fifo')), 0o10640, 0n);
    mknod(Buffer.from(p('sock')), 0o140755, 0n);
    try {
      mknod(Buffer.from(p('null-dev')), 0o20666, 0x103n);
      mknod(Buffer.from(p('block-dev')), 0o60600, 0x700n);
    } catch {
      notes.push('mknod of devices refused');
    }
  } else {
    notes.push('not root: no owners, fifos or devices');
  }
  chmodSync(p('ro-dir'), 0o555);
  // mtimes last, children before parents: nanoseconds, negative, far future.
  const times: [string, bigint, number][] = [
    ['small.txt', 1234567890n, 123456789], ['big.bin', -1000n, 500000000], ['empty', 4102444800n, 1],
    ['dangling', 1500000000n, 999999999], ['d1/d2/d3/deep', 0n, 0], ['d1/d2/d3', 1n, 2], ['d1/d2', 3n, 4],
    ['d1', 5n, 6], ['ro-dir', 7n, 8], ['empty-dir', 9n, 10], ['', 1700000000n, 42],
  ];
  for (const [rel, secs, nanos] of times) setMtime(Buffer.from(p(rel)), { secs, nanos });
  return notes;
}

test('extractPxar(createPxarStream(tree)) restores every byte and all metadata of a rich tree', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  for (const note of buildTree(src)) t.diagnostic(note);
  const before = await snapshotTree(src);
  const archive = await collect(createPxarStream(src, { readSize: 1024 * 1024 }));
  const warnings: PxarWarning[] = [];
  const report = await extractPxar(once(archive, 100_000), join(dir, 'out'), { onWarning: (w) => warnings.push(w) });
  assert.deepEqual(warnings, []);
  assert.deepEqual(await snapshotTree(join(dir, 'out')), before);
  assert.equal(await snapshotTree(src).then((s) => s.size), before.size, 'the source was not modified');
  assert.equal(report.entries, before.size);
  assert.equal(report.skipped, 0);
});

test('extractPxar refuses a non-empty target with DIRECTORY_NOT_EMPTY unless overwrite is set', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'sub', 'x'), 'new');
  writeFileSync(join(src, 'f'), 'new f');
  const archive = await collect(createPxarStream(src));
  const out = join(dir, 'out');
  const outside = join(dir, 'outside');
  mkdirSync(out);
  mkdirSync(outside);
  writeFileSync(join(out, 'f'), 'old');
  symlinkSync(outside, join(out, 'sub')); // must be replaced, never followed
  await assert.rejects(extractPxar(once(archive), out), (e) => isHoldfastError(e, 'DIRECTORY_NOT_EMPTY'));
  await extractPxar(once(archive), out, { overwrite: true });
  assert.equal(readFileSync(join(out, 'f'), 'utf8'), 'new f');
  assert.ok(statSync(join(out, 'sub')).isDirectory());
  assert.equal(readFileSync(join(out, 'sub', 'x'), 'utf8'), 'new');
  assert.deepEqual(readdirSync(outside), []);
});

const meta = (mode: number): PxarMetadata => plainMetadata({ mode, flags: 0n, uid: 0, gid: 0, mtime: { secs: 0n, nanos: 0 } });

test('extractPxar refuses path traversal: ".." names, hardlinks out of the target or through symlinks', async (t) => {
  const dir = tempDir(t);
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'secret');
  // A FILENAME ".." (patched in: the encoder refuses to write it).
  const e1 = new PxarEncoder(meta(0o40755));
  e1.beginFile(enc.encode('xy'), meta(0o100644), 1);
  e1.writeFileData(enc.encode('!'));
  e1.endFile();
  e1.finish();
  const dotdot = Buffer.from(await collect(once(Buffer.concat(e1.takeArchive()))));
  dotdot.set(enc.encode('..'), dotdot.indexOf('xy'));
  await assert.rejects(extractPxar(once(dotdot), join(dir, 'out1')), (e) => isHoldfastError(e, 'CORRUPT'));
  // Hardlink targets leaving the tree, or passing through an archived symlink.
  for (const [i, target] of ['../outside/secret', 'evil/secret', '/../outside/secret'].entries()) {
    const e2 = new PxarEncoder(meta(0o40755));
    e2.addSymlink(enc.encode('evil'), meta(0o120777), enc.encode(outside));
    e2.addHardlink(enc.encode('link'), enc.encode(target), 0);
    e2.finish();
    await assert.rejects(extractPxar(once(Buffer.concat(e2.takeArchive())), join(dir, `out-h${i}`)), (e) => isHoldfastError(e, 'CORRUPT'), target);
  }
  assert.deepEqual(readdirSync(outside), ['secret']);
  assert.equal(statSync(join(outside, 'secret')).nlink, 1);
  assert.equal(existsSync(join(dir, 'x')), false);
});

test('extractPxar restores a split archive from derived/example-v2.mpxar + .ppxar', { skip: FIXTURE_SKIP }, async (t) => {
  const out = join(tempDir(t), 'out');
  await extractPxar(once(readFixture('derived/example-v2.mpxar')), out, { payload: once(readFixture('derived/example-v2.ppxar')) });
  assert.equal(readFileSync(join(out, 'a'), 'utf8'), 'hi');
  assert.equal(statSync(join(out, 'a')).mode, 0o100644);
  assert.equal(statSync(join(out, 'a')).mtimeMs, 0);
});

test('extractPxar skips device nodes with a device-skipped warning when devices are disabled', async (t) => {
  const e = new PxarEncoder(meta(0o40755));
  e.addDevice(enc.encode('null'), meta(0o20666), { major: 1n, minor: 3n });
  e.finish();
  const warnings: PxarWarning[] = [];
  const out = join(tempDir(t), 'out');
  const report = await extractPxar(once(Buffer.concat(e.takeArchive())), out, { devices: false, onWarning: (w) => warnings.push(w) });
  assert.deepEqual(warnings.map((w) => [w.code, w.path]), [['device-skipped', 'null']]);
  assert.equal(report.skipped, 1);
  assert.deepEqual(readdirSync(out), []);
});

test('extractPxar leaves out owners, xattrs or ACLs when asked (restore --ignore-ownership, --ignore-xattrs, --ignore-acls)', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'f'), 'x');
  const hasXattr = trySetXattr(join(src, 'f'), 'user.k', Buffer.from('v'));
  const hasAcl = trySetXattr(join(src, 'f'), 'system.posix_acl_access', aclXattrBytes([[1, 6, NONE], [2, 6, 1001], [4, 4, NONE], [0x10, 6, NONE], [0x20, 4, NONE]]));
  if (!hasXattr || !hasAcl) return t.skip('this filesystem takes no user xattrs or ACLs');
  if (IS_ROOT) chownSync(join(src, 'f'), 1234, 5678);
  const archive = await collect(createPxarStream(src));
  const restored = async (name: string, opts: { owner?: boolean; xattrs?: boolean; acls?: boolean }): Promise<{ xattrs: string[]; owner: string }> => {
    await extractPxar(once(archive), join(dir, name), opts);
    const e = (await snapshotTree(join(dir, name))).get('f');
    return { xattrs: (e?.xattrs ?? []).map((x) => x.split('=')[0]!), owner: e?.owner ?? '' };
  };
  assert.deepEqual((await restored('all', {})).xattrs, ['system.posix_acl_access', 'user.k']);
  assert.deepEqual((await restored('no-xattrs', { xattrs: false })).xattrs, ['system.posix_acl_access']);
  assert.deepEqual((await restored('no-acls', { acls: false })).xattrs, ['user.k']);
  if (IS_ROOT) {
    assert.equal((await restored('owners', {})).owner, '1234:5678');
    assert.equal((await restored('no-owners', { owner: false })).owner, '0:0');
  }
});
