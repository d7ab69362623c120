import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync, chownSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogWriter, listCatalog } from '../format/pxar/catalog.ts';
import { decodePxar, listPxar } from '../format/pxar/decoder.ts';
import { FIXTURE_SKIP, readFixture } from '../format/pxar/fixtures.ts';
import { plainMetadata } from '../format/pxar/metadata.ts';
import { pathText } from '../format/pxar/names.ts';
import { createPxarStream } from './pxar-create.ts';
import { pathKey, PreviousFiles, walkBefore } from './previous-archive.ts';
import { classifyXattr } from './pxar-read-meta.ts';
import { collect, once } from './pxar-test-tree.ts';
import type { PxarWarning } from './pxar-warnings.ts';

const IS_ROOT = process.getuid?.() === 0;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-pxar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('createPxarStream encodes the example tree to exactly derived/example-v1.pxar', { skip: FIXTURE_SKIP || (IS_ROOT ? false : 'needs root to give the files uid/gid 0') }, async (t) => {
  const root = join(tempDir(t), 'root');
  mkdirSync(root);
  writeFileSync(join(root, 'a'), 'hi');
  chmodSync(join(root, 'a'), 0o644);
  chmodSync(root, 0o755);
  for (const p of [join(root, 'a'), root]) {
    chownSync(p, 0, 0);
    utimesSync(p, 0, 0);
  }
  assert.deepEqual(await collect(createPxarStream(root)), readFixture('derived/example-v1.pxar'));
});

test('createPxarStream lists like upstream pxar for test_files_and_subdirs (VECTORS.md §2.8)', async (t) => {
  const root = join(tempDir(t), 'test_files_and_subdirs');
  mkdirSync(join(root, 'subdir1'), { recursive: true });
  symlinkSync('file2', join(root, 'a-test-symlink'));
  writeFileSync(join(root, 'file1'), 'ABC\n');
  writeFileSync(join(root, 'file2'), 'CDEFG\n');
  writeFileSync(join(root, 'subdir1', 'subfile1'), 'test subdir1 content\n');
  writeFileSync(join(root, 'subdir1', 'subfile2'), 'another test subdir1 content\n');
  const entries = await listPxar(createPxarStream(root));
  assert.deepEqual(entries.map((e) => `/${pathText(e.path)}`), ['/', '/a-test-symlink', '/file1', '/file2', '/subdir1', '/subdir1/subfile1', '/subdir1/subfile2']);
  const link = entries[1];
  assert.ok(link?.kind === 'symlink' && pathText(link.target) === 'file2');
});

test('createPxarStream sorts children by raw name bytes and archives non-UTF-8 names exactly', async (t) => {
  const root = join(tempDir(t), 'r');
  mkdirSync(root);
  const names = [Buffer.from('b'), Buffer.from('B'), Buffer.from('ä'), Buffer.from([0x61, 0xff, 0x62]), Buffer.from('a b')];
  for (const n of names) writeFileSync(Buffer.concat([Buffer.from(root + '/'), n]), n);
  const entries = await listPxar(createPxarStream(root));
  const sorted = [...names].sort((a, b) => Buffer.compare(a, b));
  assert.deepEqual(entries.slice(1).map((e) => Buffer.from(e.path).toString('hex')), sorted.map((n) => n.toString('hex')));
});

test('createPxarStream writes entries in walkBefore order, the order PreviousFiles finds paths in without a map', async (t) => {
  const root = join(tempDir(t), 'r');
  for (const d of ['a', 'a.b', 'a-c', 'ab', 'a/z', 'A']) mkdirSync(join(root, d), { recursive: true });
  for (const f of ['a/x', 'a/x.y', 'a/z/0', 'a.b/q', 'a-c/q', 'ab/q', 'a0', 'A/q', '.h', '\u00e4']) writeFileSync(join(root, f), f);
  const paths = (await listPxar(createPxarStream(root))).slice(1).map((e) => pathKey(e.path));
  for (let i = 1; i < paths.length; i++) assert.equal(walkBefore(paths[i - 1]!, paths[i]!), true, `${paths[i - 1]} before ${paths[i]}`);
  const files = new PreviousFiles();
  paths.forEach((p, i) => files.add(p, plainMetadata({ mode: 0o100644, flags: 0n, uid: 0, gid: 0, mtime: { secs: 0n, nanos: 0 } }), 0, i));
  assert.equal(files.ordered, true, 'the keys are kept sorted, not in a map');
});

test('createPxarStream zero-fills a file that shrinks while it is read and warns file-changed', async (t) => {
  const root = join(tempDir(t), 'r');
  mkdirSync(root);
  const file = join(root, 'f');
  const original = Buffer.alloc(96 * 1024, 7);
  writeFileSync(file, original);
  const warnings: PxarWarning[] = [];
  const pieces: Uint8Array[] = [];
  let truncated = false;
  for await (const piece of createPxarStream(root, { readSize: 32 * 1024, onWarning: (w) => warnings.push(w) })) {
    pieces.push(piece);
    if (!truncated && piece.length === 32 * 1024) {
      // The walker is paused at this yield, mid-file, with the next piece (32..64 KiB) being read
      // ahead: cut beyond it, so the piece after it comes up short whatever the timing.
      truncateSync(file, 72 * 1024);
      truncated = true;
    }
  }
  assert.ok(truncated);
  const data: Uint8Array[] = [];
  for await (const ev of decodePxar(once(Buffer.concat(pieces)))) if (ev.type === 'data') data.push(ev.bytes);
  const expected = Buffer.concat([original.subarray(0, 72 * 1024), Buffer.alloc(24 * 1024)]);
  assert.deepEqual(Buffer.concat(data), expected);
  assert.deepEqual(warnings.map((w) => [w.code, w.path]), [['file-changed', 'f']]);
});

test('createPxarStream yields file data in pieces of at most readSize without holding whole files', async (t) => {
  const root = join(tempDir(t), 'r');
  mkdirSync(root);
  writeFileSync(join(root, 'big'), Buffer.alloc(3 * 1024 * 1024 + 5, 1));
  let largest = 0;
  for await (const piece of createPxarStream(root, { readSize: 1024 * 1024 })) largest = Math.max(largest, piece.length);
  assert.equal(largest, 1024 * 1024);
});

test('createPxarStream with reuseReadBuffer reads one piece ahead into a second buffer and gives the same archive to a consumer that copies each piece', async (t) => {
  const root = join(tempDir(t), 'r');
  mkdirSync(join(root, 'd'), { recursive: true });
  writeFileSync(join(root, 'big'), Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 5 }, (_, i) => (i * 7) % 251)));
  writeFileSync(join(root, 'd', 'mid'), Buffer.alloc(1024 * 1024 + 3, 9));
  writeFileSync(join(root, 'd', 'small'), 'x');
  const copied: Buffer[] = [];
  const big: ArrayBufferLike[] = [];
  for await (const piece of createPxarStream(root, { readSize: 1024 * 1024, reuseReadBuffer: true })) {
    if (piece.length >= 1024 * 1024) big.push(piece.buffer);
    copied.push(Buffer.from(piece));
  }
  // the 4 full pieces of `mid` and `big` alternate between the same two buffers
  assert.equal(big.length, 4);
  assert.equal(new Set(big).size, 2, 'file data pieces share two buffers');
  // within `big` (its first 3 pieces), consecutive pieces sit in different buffers
  for (let i = 1; i < 3; i++) assert.notEqual(big[i], big[i - 1], 'consecutive pieces of a file sit in different buffers');
  assert.deepEqual(Buffer.concat(copied), Buffer.from(await collect(createPxarStream(root, { readSize: 1024 * 1024 }))));
});

test('createPxarStream fills a catalog whose listing matches the archive (types, sizes, mtimes)', async (t) => {
  const root = join(tempDir(t), 'r');
  mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(root, 'sub', 'f'), '12345');
  utimesSync(join(root, 'sub', 'f'), 1700000000, 1700000000);
  symlinkSync('f', join(root, 'sub', 'l'));
  writeFileSync(join(root, 'top'), '');
  const catalog = new CatalogWriter();
  catalog.startDirectory(Buffer.from('root.pxar.didx'));
  const entries = await listPxar(createPxarStream(root, { catalog }));
  catalog.endDirectory();
  const listed = listCatalog(Buffer.concat(catalog.finish()));
  assert.deepEqual(listed.map((e) => pathText(e.path)), ['root.pxar.didx', ...entries.slice(1).map((e) => `root.pxar.didx/${pathText(e.path)}`)]);
  assert.deepEqual(listed.map((e) => e.entry.type), ['directory', 'directory', 'directory', 'file', 'symlink', 'file']);
  assert.deepEqual(listed[3]?.entry, { type: 'file', name: Buffer.from('f'), size: 5n, mtime: 1700000000n });
});

test('classifyXattr keeps user.*, trusted.*, security.NTACL; routes capability and ACLs; drops the rest (VECTORS.md §16)', () => {
  const c = (s: string): string => classifyXattr(Buffer.from(s));
  assert.equal(c('user.attr'), 'xattr');
  assert.equal(c('trusted.attr'), 'xattr');
  assert.equal(c('security.NTACL'), 'xattr');
  assert.equal(c('security.capability'), 'fcaps');
  assert.equal(c('system.posix_acl_access'), 'acl-access');
  assert.equal(c('system.posix_acl_default'), 'acl-default');
  assert.equal(c('system.attr'), 'skip');
  assert.equal(c('security.selinux'), 'skip');
  assert.equal(c(`user.${'x'.repeat(260)}`), 'skip');
});
