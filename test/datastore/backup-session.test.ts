import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotRef } from '../../src/core/backup-ref.ts';
import { isHoldfastError } from '../../src/core/errors.ts';
import { SYNC_LEVELS } from '../../src/core/sync-level.ts';
import type { Fs, FileHandle } from '../../src/storage/fs-port.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';
import { fail } from '../../src/core/errors.ts';
import { backupChunks, pseudoRandom, tempStore } from '../helpers/datastore-fixture.ts';
import { snapshotDir } from '../../src/datastore/layout.ts';

const ref = (time: number, id = 'a'): SnapshotRef => ({ ns: '', type: 'host', id, time });
const N = 6;
const chunks = Array.from({ length: N }, (_, i) => pseudoRandom(64 * 1024, i + 1));

test('BackupSession.finish makes no sync call at sync-level none', async () => {
  const t = await tempStore('none');
  try {
    await backupChunks(t.store, ref(1000), chunks);
    assert.deepEqual(t.store.syncCounts(), { fsyncFile: 0, fsyncDir: 0, syncfs: 0 });
  } finally {
    t.cleanup();
  }
});

test('BackupSession.finish at sync-level filesystem: no per-chunk fsync, one syncfs, then a durable manifest', async () => {
  const t = await tempStore('filesystem');
  try {
    const before = t.store.syncCounts();
    await backupChunks(t.store, ref(1000), chunks);
    const after = t.store.syncCounts();
    assert.equal(after.syncfs - before.syncfs, 1);
    // the manifest: one file fsync and one directory fsync, nothing else
    assert.equal(after.fsyncFile - before.fsyncFile, 1);
    assert.equal(after.fsyncDir - before.fsyncDir, 1);
  } finally {
    t.cleanup();
  }
});

test('BackupSession at sync-level file fsyncs every new chunk and its directory, the index and the manifest', async () => {
  const t = await tempStore('file');
  try {
    const before = t.store.syncCounts();
    await backupChunks(t.store, ref(1000), chunks);
    const after = t.store.syncCounts();
    assert.equal(after.syncfs - before.syncfs, 0);
    // N chunks + 1 index + 1 owner file + 1 manifest
    assert.equal(after.fsyncFile - before.fsyncFile, N + 3);
    assert.ok(after.fsyncDir - before.fsyncDir >= N + 3, `dir fsyncs: ${after.fsyncDir - before.fsyncDir}`);
  } finally {
    t.cleanup();
  }
});

/** An Fs whose syncfs, or whose Nth fsync, fails with EIO. */
function failingFs(what: 'syncfs' | 'fsync', nth = 1): Fs {
  const inner = new NodeFs();
  let n = 0;
  const eio = () => fail('SYNC_FAILED', `${what} failed: EIO`, { errno: 'EIO' });
  return new Proxy(inner, {
    get(target, prop, recv) {
      if (prop === 'syncfs' && what === 'syncfs') return async () => Promise.reject(eio());
      if (prop === 'open' && what === 'fsync') {
        return async (path: string, mode: 'r' | 'w' | 'wx' | 'r+', perm?: number): Promise<FileHandle> => {
          const h = await target.open(path, mode, perm);
          return { ...wrap(h), sync: async () => (++n === nth ? Promise.reject(eio()) : h.sync()) };
        };
      }
      const v: unknown = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function wrap(h: FileHandle): FileHandle {
  return { write: (d, p) => h.write(d, p), read: (p, l) => h.read(p, l), truncate: (l) => h.truncate(l), stat: () => h.stat(), sync: () => h.sync(), startWriteback: () => h.startWriteback(), close: () => h.close() };
}

for (const [level, what] of [['filesystem', 'syncfs'], ['file', 'fsync']] as const) {
  test(`BackupSession.finish fails and leaves no manifest when ${what} fails at sync-level ${level}`, async () => {
    const t = await tempStore(level, { fs: failingFs(what, 3) });
    try {
      await assert.rejects(backupChunks(t.store, ref(1000), chunks), (e) => isHoldfastError(e, 'SYNC_FAILED'));
      const dir = snapshotDir(t.store.base, ref(1000));
      assert.equal(existsSync(join(dir, 'index.json.blob')), false);
      assert.equal(existsSync(dir), false);
      assert.deepEqual((await t.store.listSnapshots(ref(0))).filter((s) => s.finished), []);
    } finally {
      t.cleanup();
    }
  });
}

test('BackupSession.abort removes the unfinished snapshot', async () => {
  const t = await tempStore('filesystem');
  try {
    const s = await backupChunks(t.store, ref(1000), chunks, { finish: false });
    assert.equal(existsSync(s.dir), true);
    assert.equal(existsSync(join(s.dir, 'index.json.blob')), false, 'manifest is held until finish');
    await s.abort();
    assert.equal(existsSync(s.dir), false);
  } finally {
    t.cleanup();
  }
});

test('BackupSession.begin refuses a second backup of the same group and an older time', async () => {
  const t = await tempStore('none');
  try {
    const s = await backupChunks(t.store, ref(1000), chunks, { finish: false });
    await assert.rejects(backupChunks(t.store, ref(2000), chunks), (e) => isHoldfastError(e, 'LOCKED'));
    await s.finish();
    await assert.rejects(backupChunks(t.store, ref(900), chunks), (e) => isHoldfastError(e, 'BACKUP_TIME_NOT_NEWER'));
    await backupChunks(t.store, ref(2000, 'other'), chunks);
  } finally {
    t.cleanup();
  }
});

for (const level of SYNC_LEVELS) {
  test(`Datastore lists a finished snapshot and reads its manifest at sync-level ${level}`, async () => {
    const t = await tempStore(level);
    try {
      await backupChunks(t.store, ref(1000), chunks);
      const snaps = await t.store.listSnapshots({ ns: '', type: 'host', id: 'a' });
      assert.equal(snaps.length, 1);
      assert.equal(snaps[0]?.finished, true);
      const m = await t.store.readManifest(ref(1000));
      assert.equal(m.files[0]?.filename, 'data.didx');
      assert.deepEqual(m.unprotected['chunk_upload_stats'], { count: N, size: N * 65536, compressed_size: (m.unprotected['chunk_upload_stats'] as { compressed_size: number }).compressed_size, duplicates: 0 });
    } finally {
      t.cleanup();
    }
  });
}

test('after a failed sync the datastore refuses new backups until restarted', async () => {
  const t = await tempStore('filesystem', { fs: failingFs('syncfs') });
  try {
    await assert.rejects(backupChunks(t.store, ref(1000), chunks), (e) => isHoldfastError(e, 'SYNC_FAILED'));
    await assert.rejects(backupChunks(t.store, ref(2000, 'other'), chunks), (e) => isHoldfastError(e, 'SYNC_FAILED') && /refused until the server restarts/.test(e.message));
  } finally {
    t.cleanup();
  }
});

/** An Fs that records which files had their writeback started (FileHandle.startWriteback). */
function writebackRecordingFs(): { fs: Fs; started: string[] } {
  const inner = new NodeFs();
  const started: string[] = [];
  const fs = new Proxy(inner, {
    get(target, prop, recv) {
      if (prop === 'open') {
        return async (path: string, mode: 'r' | 'w' | 'wx' | 'r+', perm?: number): Promise<FileHandle> => {
          const h = await target.open(path, mode, perm);
          return { ...wrap(h), startWriteback: async () => (await h.startWriteback(), void started.push(path)) };
        };
      }
      const v: unknown = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { fs, started };
}

for (const [level, expected] of [['filesystem', N], ['none', 0], ['file', 0]] as const) {
  test(`BackupSession at sync-level ${level} starts the writeback of ${expected === 0 ? 'no' : 'every new'} chunk as it is inserted`, async () => {
    const rec = writebackRecordingFs();
    const t = await tempStore(level, { fs: rec.fs });
    try {
      await backupChunks(t.store, ref(1000), chunks);
      assert.equal(rec.started.filter((p) => p.includes('/.chunks/')).length, expected);
      assert.equal(rec.started.filter((p) => !p.includes('/.chunks/')).length, 0, 'only chunks: the rest is small and synced by the barrier');
    } finally {
      t.cleanup();
    }
  });
}
