/**
 * Metadata change detection end to end, in process (BackupWriter → BackupProtocol → datastore →
 * ReaderProtocol → RestoreReader): generations of a tree that changes in every way are backed up
 * as split archives, each restored and compared with its source (content, mode, owner, mtime,
 * xattrs, symlinks, hardlinks); unchanged files are reused without being read, and a file
 * rewritten with the same size and mtime is read again (ctime/inode). Also the fallbacks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, chmodSync, linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { BackupWriter } from '../../src/remote/backup-writer.ts';
import { inlineChunkEncoder } from '../../src/remote/chunk-encoder.ts';
import { extractPxar } from '../../src/client/pxar-extract.ts';
import { setMtime, setXattr } from '../../src/client/pxar-native.ts';
import { timeFromNs } from '../../src/format/pxar/metadata.ts';
import { snapshotTree } from '../../src/client/pxar-test-tree.ts';
import { RestoreReader } from '../../src/remote/restore-reader.ts';
import { uploadSplitPxar, type SplitUploadReport } from '../../src/client/split-upload.ts';
import { CryptConfig } from '../../src/format/crypt-config.ts';
import { generateKey } from '../../src/format/key-file.ts';
import { inlineChunkChecker } from '../../src/chunks/chunk-check.ts';
import type { SnapshotRef } from '../../src/core/backup-ref.ts';
import { toHex } from '../../src/core/digest.ts';
import { BackupSession } from '../../src/datastore/backup-session.ts';
import type { Datastore } from '../../src/datastore/datastore.ts';
import { BackupProtocol } from '../../src/server/protocol/backup-protocol.ts';
import { ReaderProtocol } from '../../src/server/protocol/reader-protocol.ts';
import { backupTransport, readerTransport } from '../helpers/in-process-transport.ts';
import { pseudoRandom, tempStore, type TempStore } from '../helpers/datastore-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { chunkPath } from '../../src/chunks/chunk-path.ts';

const KIB = 1024;
const MIB = 1024 * KIB;
const T0 = 1_700_000_000;

interface Gen {
  readonly report: SplitUploadReport;
  readonly warnings: string[];
  readonly ref: SnapshotRef;
}

class Cycle {
  readonly store: Datastore;
  #time = T0;

  constructor(t: TempStore) {
    this.store = t.store;
  }

  async backup(dir: string, mode: 'data' | 'metadata' = 'metadata', key?: Uint8Array): Promise<Gen> {
    const crypt = key === undefined ? undefined : new CryptConfig(key);
    const ref: SnapshotRef = { ns: '', type: 'host', id: 'cd', time: (this.#time += 60) };
    const session = await BackupSession.begin(this.store, ref, { owner: 'test@pbs' });
    const t = backupTransport(new BackupProtocol(session, inlineChunkChecker));
    const warnings: string[] = [];
    try {
      const w = await BackupWriter.start(t, { backupType: ref.type, backupId: ref.id, backupTime: ref.time, encoder: inlineChunkEncoder(key), ...(crypt ? { crypt } : {}) });
      const report = await uploadSplitPxar(w, 'root', dir, {
        mode,
        ...(crypt ? { crypt } : {}),
        openPrevious: async (time) => readerTransport(await ReaderProtocol.open(this.store, { ...ref, time })),
        onFallback: (why) => warnings.push(why),
      });
      await w.finish();
      return { report, warnings, ref };
    } finally {
      await t.close();
    }
  }

  async restore(ref: SnapshotRef, target: string, key?: Uint8Array): Promise<void> {
    const t = readerTransport(await ReaderProtocol.open(this.store, ref));
    try {
      const r = await RestoreReader.open(t, key === undefined ? undefined : new CryptConfig(key));
      await extractPxar(r.stream('root.mpxar.didx'), target, { payload: r.stream('root.ppxar.didx') });
    } finally {
      await t.close();
    }
  }

  /** Backs up `src`, restores the snapshot and checks the restored tree equals the source. */
  async roundTrip(src: string, work: string, mode: 'data' | 'metadata' = 'metadata', key?: Uint8Array): Promise<Gen> {
    const gen = await this.backup(src, mode, key);
    const target = join(work, `restore-${gen.ref.time}`);
    await this.restore(gen.ref, target, key);
    assert.deepEqual(await snapshotTree(target, { skipRootOwner: true }), await snapshotTree(src, { skipRootOwner: true }), `generation ${gen.ref.time} restores identically`);
    rmSync(target, { recursive: true, force: true });
    return gen;
  }
}

function workDir(t: { after: (fn: () => void) => void }): string {
  const dir = makeTempDir('holdfast-cd-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A work dir, a datastore at level none and a backup/restore cycle over it, all removed after `t`. */
async function rig(t: { after: (fn: () => void) => void }): Promise<{ work: string; store: TempStore; cycle: Cycle; src: string }> {
  const work = workDir(t);
  const store = await tempStore('none');
  t.after(() => store.cleanup());
  return { work, store, cycle: new Cycle(store), src: join(work, 'src') };
}

/** Sets the mtime back to the nanosecond, as `touch -r` or `cp -p` would. */
function keepMtime(path: string, mtimeNs: bigint): void {
  setMtime(Buffer.from(path), timeFromNs(mtimeNs));
  assert.equal(statSync(path, { bigint: true }).mtimeNs, mtimeNs);
}

function xattrsSupported(path: string): boolean {
  try {
    setXattr(Buffer.from(path), Buffer.from('user.probe'), Buffer.from('1'));
    return true;
  } catch {
    return false;
  }
}

/** Files of 0 B .. 2 MiB in two directories, a symlink, a hardlink pair, an xattr. */
function buildTree(src: string): void {
  mkdirSync(join(src, 'a/deep'), { recursive: true });
  mkdirSync(join(src, 'b'));
  writeFileSync(join(src, 'empty'), '');
  for (let i = 0; i < 12; i++) writeFileSync(join(src, 'a', `f${i}`), pseudoRandom(100 * KIB + i * 37 * KIB, i));
  for (let i = 0; i < 6; i++) writeFileSync(join(src, 'a/deep', `g${i}`), pseudoRandom(MIB + i * 91 * KIB, 100 + i));
  for (let i = 0; i < 20; i++) writeFileSync(join(src, 'b', `small${i}.txt`), `small file ${i}\n`.repeat(i + 1));
  writeFileSync(join(src, 'b/xattr.txt'), 'has an xattr\n');
  symlinkSync('a/f1', join(src, 'link'));
  writeFileSync(join(src, 'hard1'), pseudoRandom(300 * KIB, 9));
  linkSync(join(src, 'hard1'), join(src, 'b/hard2'));
  if (xattrsSupported(join(src, 'b/xattr.txt'))) setXattr(Buffer.from(join(src, 'b/xattr.txt')), Buffer.from('user.note'), Buffer.from('one'));
}

const FILES_IN_TREE = 1 + 12 + 6 + 20 + 1 + 1; // regular files, hardlink second names excluded

test('uploadSplitPxar in metadata mode: generations that change in every way restore identically, unchanged files are not read', async (t) => {
  const { work, cycle, src } = await rig(t);
  buildTree(src);

  const first = await cycle.roundTrip(src, work);
  assert.equal(first.report.files.readFiles, FILES_IN_TREE);
  assert.match(first.warnings.join('\n'), /no previous snapshot/);

  const unchanged = await cycle.roundTrip(src, work);
  assert.deepEqual(unchanged.warnings, []);
  assert.equal(unchanged.report.files.readFiles, 0);
  assert.equal(unchanged.report.files.reusedFiles, FILES_IN_TREE);
  assert.ok(unchanged.report.payload.uploadedChunks <= 2, 'only the new start and tail markers make new chunks');

  // every kind of change at once
  writeFileSync(join(src, 'a/new'), pseudoRandom(200 * KIB, 77)); // new
  unlinkSync(join(src, 'a/f3')); // deleted
  renameSync(join(src, 'a/f4'), join(src, 'b/f4-renamed')); // renamed
  appendFileSync(join(src, 'a/f5'), pseudoRandom(10 * KIB, 5)); // grown
  truncateSync(join(src, 'a/f6'), 50 * KIB); // shrunk
  const same = join(src, 'a/deep/g2'); // same size, same mtime, new content
  const before = statSync(same, { bigint: true });
  writeFileSync(same, pseudoRandom(Number(before.size), 999));
  keepMtime(same, before.mtimeNs);
  chmodSync(join(src, 'a/f7'), 0o600); // mode only
  if (xattrsSupported(join(src, 'b/xattr.txt'))) setXattr(Buffer.from(join(src, 'b/xattr.txt')), Buffer.from('user.note'), Buffer.from('two')); // xattr only
  unlinkSync(join(src, 'link'));
  symlinkSync('b/small1.txt', join(src, 'link')); // symlink retargeted
  writeFileSync(join(src, 'empty2'), ''); // another empty file
  linkSync(join(src, 'a/f9'), join(src, 'a/f9-link')); // a new hardlink
  unlinkSync(join(src, 'b/hard2')); // the first name of a linked pair goes, the other stays

  const changed = await cycle.roundTrip(src, work);
  assert.deepEqual(changed.warnings, []);
  // read at least: new, grown, shrunk, same-size-same-mtime, mode-only, xattr-only, empty2
  assert.ok(changed.report.files.readFiles >= 7, `read ${changed.report.files.readFiles}`);
  assert.ok(changed.report.files.reusedFiles >= 5, `reused ${JSON.stringify(changed.report.files)}`); // at least a/deep/g0, g1, g3, g4, g5

  // and once more unchanged after the changes
  const again = await cycle.roundTrip(src, work);
  assert.equal(again.report.files.readFiles, 0);
});

test('uploadSplitPxar metadata mode reuses every file of a tree of small files, hundreds to a chunk, unchanged', async (t) => {
  // 3,000 files of 0..4 KiB: runs of 512 files fill a quarter of a 4 MiB chunk, so a run cut
  // anywhere but at a chunk start left padding over the 10% limit and its files were read again
  const { work, cycle, src } = await rig(t);
  for (let d = 0; d < 3; d++) {
    mkdirSync(join(src, `d${d}`), { recursive: true });
    for (let i = 0; i < 1000; i++) writeFileSync(join(src, `d${d}`, `f${i}`), pseudoRandom((i * 37 + d * 11) % 4097, d * 1000 + i));
  }
  const first = await cycle.backup(src);
  assert.equal(first.report.files.readFiles, 3000);
  const unchanged = await cycle.roundTrip(src, work);
  assert.equal(unchanged.report.files.readFiles, 0, JSON.stringify(unchanged.report.files));
  assert.equal(unchanged.report.files.reusedFiles, 3000);
  assert.equal(unchanged.report.files.paddingFallbacks, 0);
});

test('uploadSplitPxar metadata mode: 1% of a tree of small files changed, the runs the padding rule refuses are read (ahead) and restore identically', async (t) => {
  // 3,000 files of 0..4 KiB, ~1,000 to a 4 MiB chunk: one changed file in every 100 breaks every
  // previous chunk, so the unchanged files around them are read after all, through the split
  // encoder's read-ahead (pxar-split-encoder.ts)
  const { work, cycle, src } = await rig(t);
  for (let d = 0; d < 3; d++) {
    mkdirSync(join(src, `d${d}`), { recursive: true });
    for (let i = 0; i < 1000; i++) writeFileSync(join(src, `d${d}`, `f${i}`), pseudoRandom((i * 37 + d * 11) % 4097, d * 1000 + i));
  }
  await cycle.roundTrip(src, work);
  for (let d = 0; d < 3; d++) for (let i = 5; i < 1000; i += 100) appendFileSync(join(src, `d${d}`, `f${i}`), 'changed');
  const gen = await cycle.roundTrip(src, work);
  const f = gen.report.files;
  assert.ok(f.paddingFallbacks > 0, JSON.stringify(f));
  assert.ok(f.readFiles > 30 && f.readFiles + f.reusedFiles === 3000, JSON.stringify(f));
  assert.deepEqual(gen.warnings, []);
});

test('uploadSplitPxar metadata mode re-reads a file whose content changed with the same size and mtime (ctime differs)', async (t) => {
  const { work, cycle, src } = await rig(t);
  mkdirSync(src);
  const file = join(src, 'data.bin');
  writeFileSync(file, pseudoRandom(2 * MIB, 1));
  await cycle.roundTrip(src, work);
  const st = statSync(file, { bigint: true });
  writeFileSync(file, pseudoRandom(2 * MIB, 2));
  keepMtime(file, st.mtimeNs);
  const gen = await cycle.roundTrip(src, work);
  assert.equal(gen.report.files.readFiles, 1);
  assert.equal(gen.report.files.reusedFiles, 0);
});

test('uploadSplitPxar falls back to reading every file, with a warning, when the previous metadata archive is corrupt', async (t) => {
  const { work, cycle, src } = await rig(t);
  buildTree(src);
  const first = await cycle.roundTrip(src, work);
  writeFileSync(join(src, 'b/changed'), 'so the new metadata archive needs a chunk of its own\n');
  // flip a byte in every chunk of the previous metadata archive
  const list = await (async () => {
    const rt = readerTransport(await ReaderProtocol.open(cycle.store, first.ref));
    try {
      return (await (await RestoreReader.open(rt)).chunkList('root.mpxar.didx')).chunks;
    } finally {
      await rt.close();
    }
  })();
  for (const c of list) {
    const path = chunkPath(cycle.store.base, toHex(c.digest));
    const bytes = readFileSync(path);
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(path, bytes);
  }
  const gen = await cycle.roundTrip(src, work);
  assert.match(gen.warnings.join('\n'), /could not be read.*reading every file/);
  assert.equal(gen.report.files.reusedFiles, 0);
  assert.equal(gen.report.files.readFiles, FILES_IN_TREE + 1);
});

test('uploadSplitPxar falls back to reading every file, with a warning, when the previous snapshot was made with another key', async (t) => {
  const { work, cycle, src } = await rig(t);
  buildTree(src);
  const [keyA, keyB] = [generateKey(), generateKey()];
  await cycle.roundTrip(src, work, 'metadata', keyA);
  const same = await cycle.roundTrip(src, work, 'metadata', keyA);
  assert.equal(same.report.files.readFiles, 0, 'the same key reuses everything');
  const other = await cycle.roundTrip(src, work, 'metadata', keyB);
  assert.match(other.warnings.join('\n'), /another key.*reading every file/);
  assert.equal(other.report.files.reusedFiles, 0);
  assert.equal(other.report.files.readFiles, FILES_IN_TREE);
});

test('uploadSplitPxar in data mode reads every file and writes the identities metadata mode needs next', async (t) => {
  const { work, cycle, src } = await rig(t);
  buildTree(src);
  await cycle.roundTrip(src, work, 'data');
  const data = await cycle.roundTrip(src, work, 'data');
  assert.equal(data.report.files.readFiles, FILES_IN_TREE);
  const meta = await cycle.roundTrip(src, work, 'metadata');
  assert.equal(meta.report.files.reusedFiles, FILES_IN_TREE);
});

type Mutation = { kind: 'write' | 'append' | 'delete' | 'chmod' | 'rename' | 'same-size'; file: number; seed: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('write', 'append', 'delete', 'chmod', 'rename', 'same-size'),
  file: fc.integer({ min: 0, max: 15 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

function applyMutation(src: string, m: Mutation): void {
  const dir = join(src, m.file % 2 === 0 ? 'x' : 'y');
  const path = join(dir, `file${m.file}`);
  const exists = (() => { try { statSync(path); return true; } catch { return false; } })();
  const size = 1 + (m.seed % (700 * KIB));
  switch (m.kind) {
    case 'write':
      writeFileSync(path, pseudoRandom(size, m.seed));
      break;
    case 'append':
      if (exists) appendFileSync(path, pseudoRandom(1 + (m.seed % 5000), m.seed));
      break;
    case 'delete':
      if (exists) unlinkSync(path);
      break;
    case 'chmod':
      if (exists) chmodSync(path, 0o600 | (m.seed & 0o77));
      break;
    case 'rename':
      if (exists) renameSync(path, join(src, m.file % 2 === 0 ? 'y' : 'x', `file${(m.file + 1) % 16}`));
      break;
    case 'same-size':
      if (exists) {
        const st = statSync(path, { bigint: true });
        writeFileSync(path, pseudoRandom(Number(st.size), m.seed));
        keepMtime(path, st.mtimeNs);
      }
      break;
  }
}

test('uploadSplitPxar metadata mode: random mutations over 5 generations always restore identically (property)', async (t) => {
  const work = workDir(t);
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(mutationArb, { maxLength: 6 }), { minLength: 5, maxLength: 5 }), async (gens) => {
      const store = await tempStore('none');
      const src = mkdtempSync(join(work, 'src-'));
      try {
        const cycle = new Cycle(store);
        mkdirSync(join(src, 'x'));
        mkdirSync(join(src, 'y'));
        for (let i = 0; i < 16; i++) writeFileSync(join(src, i % 2 === 0 ? 'x' : 'y', `file${i}`), pseudoRandom(1 + i * 50 * KIB, i));
        for (const muts of gens) {
          for (const m of muts) applyMutation(src, m);
          await cycle.roundTrip(src, work);
        }
      } finally {
        rmSync(src, { recursive: true, force: true });
        store.cleanup();
      }
    }),
    { numRuns: 3 },
  );
});
