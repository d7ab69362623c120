import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listPxar } from '../format/pxar/decoder.ts';
import type { RestoreReader } from '../remote/restore-reader.ts';
import { createSplitPxar } from './pxar-create.ts';
import { once } from './pxar-test-tree.ts';
import { EMPTY_ACL, EMPTY_XATTRS, type PxarMetadata } from '../format/pxar/metadata.ts';
import { FileIdentityTable, FileIdentityWriter } from './file-identities.ts';
import { loadPreviousArchive, pathKey, PreviousFiles, walkBefore } from './previous-archive.ts';

const U64_MAX = 2n ** 64n - 1n;

function plain(i: number): PxarMetadata {
  return {
    stat: { mode: 0o100644 + (i % 8), flags: i % 3 === 0 ? 0n : BigInt(i), uid: 4_294_967_295 - i, gid: i, mtime: { secs: i % 2 === 0 ? -BigInt(i) : 1_700_000_000n + BigInt(i), nanos: 999_999_999 - i } },
    xattrs: EMPTY_XATTRS,
    acl: EMPTY_ACL,
  };
}

/** `m` with one field changed, each way a file's metadata can differ */
function variants(m: PxarMetadata): PxarMetadata[] {
  const st = m.stat;
  return [
    { ...m, stat: { ...st, mode: st.mode ^ 1 } },
    { ...m, stat: { ...st, uid: st.uid ^ 1 } },
    { ...m, stat: { ...st, gid: st.gid ^ 1 } },
    { ...m, stat: { ...st, flags: st.flags ^ 1n } },
    { ...m, stat: { ...st, flags: st.flags + 2n ** 60n } },
    { ...m, stat: { ...st, mtime: { ...st.mtime, secs: st.mtime.secs + 1n } } },
    { ...m, stat: { ...st, mtime: { ...st.mtime, secs: st.mtime.secs + 2n ** 62n } } },
    { ...m, stat: { ...st, mtime: { ...st.mtime, nanos: (st.mtime.nanos + 1) % 1e9 } } },
    { ...m, xattrs: [{ name: Buffer.from('user.b'), value: Buffer.from('2') }] },
    { ...m, acl: { ...EMPTY_ACL, users: [{ id: 1n, permissions: 4n }] } },
    { ...m, fcaps: Buffer.from([4]) },
    { ...m, quotaProjectId: 3n },
  ];
}

test('PreviousFiles keeps every file as added, across growth: size, offset, metadata and identity in archive order', () => {
  const files = new PreviousFiles();
  const ids = new FileIdentityWriter();
  const n = 5000; // past the first columns' 1024 files
  const rich: PxarMetadata = { ...plain(7), xattrs: [{ name: Buffer.from('user.a'), value: Buffer.from('1') }], fcaps: Buffer.from([1, 2, 3]), quotaProjectId: 9n };
  const huge: PxarMetadata = { ...plain(9), stat: { ...plain(9).stat, flags: U64_MAX, mtime: { secs: 2n ** 62n, nanos: 1 } } };
  const meta = (i: number): PxarMetadata => (i === 4242 ? rich : i === 4243 ? huge : plain(i));
  const id = (i: number): { ino: bigint; ctimeNs: bigint } => ({ ino: i === 1 ? U64_MAX : BigInt(i) * 7n, ctimeNs: i === 2 ? -5n : BigInt(i) * 1_000_000_007n });
  for (let i = 0; i < n; i++) {
    files.add(pathKey(Buffer.from(`d/${i}`)), meta(i), i * 3, i * 1000 + 1);
    ids.add(id(i));
  }
  assert.equal(files.size, n);
  const one = files.find(pathKey(Buffer.from('d/1')));
  assert.equal(one, 1);
  assert.equal(files.identityIs(1, id(1).ino, id(1).ctimeNs), false, 'no identity before setIdentities');
  files.setIdentities(new FileIdentityTable(ids.bytes()));
  for (const i of [0, 1, 2, 3, 1023, 1024, 1025, 4242, 4243, n - 1]) {
    const f = files.find(pathKey(Buffer.from(`d/${i}`)));
    assert.equal(f, i);
    assert.deepEqual(files.metadataOf(i), meta(i), `metadata of ${i}`);
    assert.equal(files.metadataIs(i, meta(i)), true, `metadataIs of ${i}`);
    for (const [k, v] of variants(meta(i)).entries()) assert.equal(files.metadataIs(i, v), false, `variant ${k} of ${i}`);
    assert.equal(files.sizeOf(i), i * 3);
    assert.equal(files.payloadOffsetOf(i), i * 1000 + 1);
    assert.equal(files.identityIs(i, id(i).ino, id(i).ctimeNs), true);
    assert.equal(files.identityIs(i, id(i).ino + 1n, id(i).ctimeNs), false);
    assert.equal(files.identityIs(i, id(i).ino, id(i).ctimeNs - 1n), false);
  }
  assert.equal(files.find(pathKey(Buffer.from('d/5000'))), undefined);
  assert.equal(files.find(pathKey(Buffer.from('d'))), undefined);
});

test('PreviousFiles refuses an identity record of another length', () => {
  const files = new PreviousFiles();
  files.add('a', plain(1), 1, 0);
  const ids = new FileIdentityWriter();
  assert.throws(() => files.setIdentities(new FileIdentityTable(ids.bytes())), /0 identities for 1 files/);
});

/** Paths of a tree in archive order: depth first, each directory's names in byte order. */
function archiveOrder(tree: Record<string, unknown>, prefix = ''): string[] {
  const names = Object.keys(tree).sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
  return names.flatMap((name) => {
    const path = prefix === '' ? name : `${prefix}/${name}`;
    const sub = tree[name];
    return sub === null ? [path] : archiveOrder(sub as Record<string, unknown>, path);
  });
}

test('walkBefore is the archive order: depth first, names in byte order, a subtree before a longer sibling name', () => {
  const tree = { a: { x: null, 'y.txt': null, z: { '0': null } }, 'a.b': null, 'a-c': null, ab: { q: null }, b: null, '\u00ff': null, A: null, '.h': null };
  const order = archiveOrder(tree);
  assert.deepEqual(order, ['.h', 'A', 'a/x', 'a/y.txt', 'a/z/0', 'a-c', 'a.b', 'ab/q', 'b', '\u00ff']);
  for (let i = 0; i < order.length; i++) {
    for (let j = 0; j < order.length; j++) assert.equal(walkBefore(order[i]!, order[j]!), i < j, `${order[i]} before ${order[j]}`);
  }
  assert.equal(walkBefore('a', 'a/b'), true, 'a path comes before the paths below it');
});

test('PreviousFiles finds files in archive order with a cursor, and in any other order, deleted and new files included', () => {
  const tree: Record<string, unknown> = {};
  for (let d = 0; d < 12; d++) {
    const dir: Record<string, unknown> = {};
    for (let f = 0; f < 30; f++) dir[`f${f}${f % 4 === 0 ? '.txt' : ''}`] = null;
    dir['sub'] = { inner: null, 'inner.2': null };
    tree[`d${d}`] = dir;
    tree[`d${d}.log`] = null;
  }
  const keys = archiveOrder(tree);
  const files = new PreviousFiles();
  keys.forEach((k, i) => files.add(k, plain(i), i, i));
  // an unchanged walk: every lookup hits the cursor's guess
  const walk = files.cursor();
  keys.forEach((k, i) => assert.equal(files.find(k, walk), i));
  // a changed walk: every third file deleted, new files in between
  const changed = files.cursor();
  keys.forEach((k, i) => {
    if (i % 3 === 1) return;
    assert.equal(files.find(`${k}.new`, changed), undefined, `${k}.new is new`);
    assert.equal(files.find(k, changed), i, k);
  });
  // any order, and no cursor at all
  const jumpy = files.cursor();
  for (const i of [keys.length - 1, 0, 200, 3, 199, 201]) assert.equal(files.find(keys[i]!, jumpy), i);
  for (const [i, k] of keys.entries()) assert.equal(files.find(k), i);
  for (const missing of ['', 'd0', 'd0/sub', 'd99/f1', 'zzz', 'd0/f1/x']) assert.equal(files.find(missing, files.cursor()), undefined, missing);
});

test('PreviousFiles still finds every file when an archive is not in archive order', () => {
  const files = new PreviousFiles();
  const keys = ['b', 'a', 'c/d', 'c', 'a/b'];
  keys.forEach((k, i) => files.add(k, plain(i), i, i));
  const cursor = files.cursor();
  keys.forEach((k, i) => assert.equal(files.find(k, cursor), i));
  assert.equal(files.find('zz', cursor), undefined);
  assert.equal(files.ordered, false);
});

test('PreviousFiles keeps its numbers across pages of 65,536 files', () => {
  const files = new PreviousFiles();
  const n = 140_000;
  const key = (i: number): string => `d/${String(i).padStart(6, '0')}`;
  for (let i = 0; i < n; i++) files.add(key(i), plain(i), i * 3, i * 1000 + 1);
  assert.equal(files.ordered, true);
  const cursor = files.cursor();
  for (const i of [0, 1023, 1024, 65_535, 65_536, 65_537, 131_071, 131_072, n - 1]) {
    assert.equal(files.find(key(i), cursor), i);
    assert.equal(files.sizeOf(i), i * 3, `size of ${i}`);
    assert.equal(files.payloadOffsetOf(i), i * 1000 + 1, `offset of ${i}`);
    assert.deepEqual(files.metadataOf(i), plain(i), `metadata of ${i}`);
    assert.equal(files.metadataIs(i, plain(i)), true);
    assert.equal(files.metadataIs(i, plain(i + 1)), false);
  }
});

test('loadPreviousArchive reads the previous metadata archive from recycled chunks the same as from fresh ones', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'holdfast-prev-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (let d = 0; d < 6; d++) {
    mkdirSync(join(root, `dir-${d}`, 'sub'), { recursive: true });
    for (let f = 0; f < 25; f++) writeFileSync(join(root, `dir-${d}`, f % 5 === 0 ? `sub/f${f}` : `file-with-a-longer-name-${f}`), 'x'.repeat(f * 7));
  }
  writeFileSync(join(root, 'top'), 'top');
  const split = createSplitPxar(root);
  const pieces: Uint8Array[] = [];
  const gathered = (async () => {
    for await (const p of split.metadata) pieces.push(Buffer.from(p));
  })();
  for await (const item of split.payload) void item;
  await gathered;
  const mpxar = Buffer.concat(pieces);
  const identities = split.identities();
  /** A reader whose metadata archive arrives in 7-byte chunks; with `recycle`, in one buffer that is scribbled over once the next chunk is asked for. */
  const reader = {
    manifest: { files: ['data.mpxar.didx', 'data.ppxar.didx', 'data.fileid.blob'].map((filename) => ({ filename })) },
    chunkList: () => Promise.resolve({ chunks: [], size: 0, fixed: false }),
    readBlob: () => Promise.resolve(identities),
    async *stream(_name: string, _ahead: unknown, o: { recycle?: boolean } = {}): AsyncGenerator<Uint8Array> {
      const reused = new Uint8Array(7);
      for (let at = 0; at < mpxar.length; at += 7) {
        const piece = mpxar.subarray(at, at + 7);
        const out = o.recycle === true ? reused.subarray(0, piece.length) : new Uint8Array(piece.length);
        out.set(piece);
        yield out;
        if (o.recycle === true) reused.fill(0xaa);
      }
    },
  } as unknown as RestoreReader;
  const recycled = (await loadPreviousArchive(reader, 'data')).files;
  const fresh = (await loadPreviousArchive({ ...reader, stream: (n: string, a: unknown) => (reader as unknown as { stream: (n: string, a: unknown, o: object) => AsyncGenerator<Uint8Array> }).stream(n, a, {}) } as unknown as RestoreReader, 'data')).files;
  assert.equal(recycled.size, 6 * 25 + 1);
  assert.equal(recycled.size, fresh.size);
  const entries = await listPxar(once(mpxar));
  const files = entries.filter((e) => e.kind === 'file');
  assert.equal(files.length, recycled.size);
  const cursor = recycled.cursor();
  for (const [i, e] of files.entries()) {
    const key = pathKey(e.path);
    assert.equal(recycled.find(key, cursor), i, key);
    assert.equal(fresh.find(key), i);
    assert.equal(recycled.sizeOf(i), fresh.sizeOf(i));
    assert.equal(recycled.payloadOffsetOf(i), fresh.payloadOffsetOf(i));
    assert.deepEqual(recycled.metadataOf(i), fresh.metadataOf(i));
  }
});
