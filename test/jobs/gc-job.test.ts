import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotRef } from '../../src/core/backup-ref.ts';
import { isHoldfastError } from '../../src/core/errors.ts';
import { memoryLogger, silentLogger } from '../../src/core/log.ts';
import { encodeBlob } from '../../src/format/blob.ts';
import { dynamicIndexCsum } from '../../src/format/dynamic-index.ts';
import { encodeManifestBlob } from '../../src/format/manifest.ts';
import { DEFAULT_TUNING } from '../../src/format/tuning.ts';
import { inlineChunkChecker } from '../../src/chunks/chunk-check.ts';
import { BackupSession } from '../../src/datastore/backup-session.ts';
import { createDatastoreTree } from '../../src/datastore/create-datastore.ts';
import { Datastore } from '../../src/datastore/datastore.ts';
import { GC_STATUS_NAME } from '../../src/datastore/layout.ts';
import { runGcJob } from '../../src/jobs/gc-job.ts';
import { TaskRegistry } from '../../src/jobs/task-registry.ts';
import { verifySnapshot } from '../../src/jobs/verify.ts';
import { BackupProtocol } from '../../src/server/protocol/backup-protocol.ts';
import { MemoryLocker } from '../../src/storage/locker.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';
import { SimFs } from '../../src/storage/testing/sim-fs.ts';
import { backupChunks, pseudoRandom, sha256, tempStore } from '../helpers/datastore-fixture.ts';
import { taskDouble } from './job-fixture.ts';
import { chunkPath } from '../../src/chunks/chunk-path.ts';

const DAY_MS = 86_400_000;
const hex = (b: Uint8Array): string => Buffer.from(sha256(b)).toString('hex');
const chunksOf = (seeds: readonly number[]): Uint8Array[] => seeds.map((s) => pseudoRandom(8 * 1024, s));

/** Makes these chunk-store files look `ageMs` old (atime), as if nothing touched them since. */
async function age(paths: readonly string[], ageMs: number): Promise<void> {
  for (const p of paths) await new NodeFs().touchAtime(p, Date.now() - ageMs);
}

const pathsOf = (store: Datastore, digests: Iterable<string>): string[] => [...digests].map((d) => chunkPath(store.base, d));

async function insertGarbage(store: Datastore, seeds: readonly number[]): Promise<string[]> {
  const out: string[] = [];
  for (const c of chunksOf(seeds)) {
    await store.chunks.insert(hex(c), encodeBlob(c, { compress: true }));
    out.push(hex(c));
  }
  return out;
}

test('runGcJob beside a running backup (new, deduplicated and reused chunks, cutoff forced short) removes only garbage; every snapshot verifies', async () => {
  const t = await tempStore('filesystem');
  try {
    const store = t.store;
    const first: SnapshotRef = { ns: '', type: 'host', id: 'a', time: 1_700_000_000 };
    const firstChunks = chunksOf([1, 2, 3, 4, 5, 6]);
    await backupChunks(store, first, firstChunks);
    const garbage = await insertGarbage(store, [901, 902, 903]);
    await age(pathsOf(store, [...firstChunks.map(hex), ...garbage]), 3 * DAY_MS);

    // the second backup: its previous is `first`; it reuses chunks 1-2 by digest (no upload),
    // uploads 3-4 again (deduplicated: touched) and 5 new chunks
    const session = await BackupSession.begin(store, { ...first, time: first.time + 3600 }, { owner: 'test@pbs' });
    await new BackupProtocol(session, inlineChunkChecker).previous('data.didx');
    const uploads = [...firstChunks.slice(2, 4), ...chunksOf([11, 12, 13, 14, 15])];
    const insertOne = async (c: Uint8Array): Promise<void> => session.insertChunk(hex(c), encodeBlob(c, { compress: true }), c.length);
    await insertOne(uploads[0]!);

    // GC believes it is three days later; with a 1-minute cutoff only the writer clamp saves the
    // backup's fresh chunks. More chunks arrive while phase 1 marks and between mark and sweep.
    const inserts: Promise<void>[] = [];
    const task = taskDouble(undefined, (line) => {
      if (line.startsWith('starting garbage collection')) inserts.push(insertOne(uploads[1]!), insertOne(uploads[2]!));
      if (line.startsWith('phase 1 done')) for (const c of uploads.slice(3)) inserts.push(insertOne(c));
    });
    const tuning = { ...DEFAULT_TUNING, gcAtimeCutoffMinutes: 1 };
    const status = await runGcJob(store, task, { tuning, now: () => Date.now() + 3 * DAY_MS });
    await Promise.all(inserts);
    assert.equal(inserts.length, uploads.length - 1);

    const wid = session.createDynamicIndex('data.didx');
    const all = [...firstChunks.slice(0, 2), ...uploads];
    let offset = 0;
    const entries: { end: number; digest: Uint8Array }[] = [];
    for (const c of all) {
      session.appendToIndex(wid, [hex(c)], [offset]);
      offset += c.length;
      entries.push({ end: offset, digest: sha256(c) });
    }
    const csum = Buffer.from(dynamicIndexCsum(entries).csum).toString('hex');
    await session.closeIndex(wid, { chunkCount: all.length, size: offset, csumHex: csum });
    const manifest = { backupType: 'host' as const, backupId: 'a', backupTime: session.ref.time, files: [{ filename: 'data.didx', cryptMode: 'none' as const, size: offset, csum }], unprotected: {}, signature: null };
    await session.writeBlob('index.json.blob', encodeManifestBlob(manifest));
    await session.finish();

    assert.equal(status['removed-chunks'], garbage.length, task.lines.join('\n'));
    for (const g of garbage) assert.equal(await store.chunks.state(g), 'missing', `garbage chunk ${g} survived`);
    for (const ref of [first, session.ref]) {
      const r = await verifySnapshot(store, ref, { upid: task.upid, log: silentLogger });
      assert.equal(r.state, 'ok', `${store.show(ref)}: ${r.errors.join('; ')}`);
    }
  } finally {
    t.cleanup();
  }
});

test('runGcJob removes exactly the unreferenced chunks, old .bad files and leftover temp files, and writes .gc-status', async () => {
  const t = await tempStore('file');
  try {
    const store = t.store;
    const refs: SnapshotRef[] = [1_700_000_000, 1_700_003_600].map((time) => ({ ns: '', type: 'vm', id: '7', time }));
    await backupChunks(store, refs[0]!, chunksOf([1, 2, 3]));
    await backupChunks(store, refs[1]!, chunksOf([2, 3, 4]));
    const referenced = new Set(chunksOf([1, 2, 3, 4]).map(hex));
    const garbage = await insertGarbage(store, [50, 51, 52, 53]);
    const badPath = `${chunkPath(store.base, garbage[0]!)}.0.bad`;
    writeFileSync(badPath, 'quarantined long ago');
    const tempPath = `${chunkPath(store.base, garbage[1]!)}.tmp_leftover`;
    writeFileSync(tempPath, 'half an insert');
    await age([...pathsOf(store, [...referenced, ...garbage]), badPath], 2 * DAY_MS);
    utimesSync(tempPath, new Date(Date.now() - 2 * DAY_MS), new Date(Date.now() - 2 * DAY_MS));

    const task = taskDouble();
    // the process clock half a second ahead of the filesystem's: the kernel stamps atimes from a
    // coarse clock that can lag, and a chunk marked in this GC must still count as on disk
    const status = await runGcJob(store, task, { tuning: DEFAULT_TUNING, now: () => Date.now() + 500 });

    // every chunk the store holds is referenced, garbage, or the atime check's zero chunk (fresh)
    for (const d of garbage) assert.equal(await store.chunks.state(d), 'missing', `garbage chunk ${d} survived`);
    for (const d of referenced) assert.equal(await store.chunks.state(d), 'intact', `referenced chunk ${d} was removed`);
    assert.equal(status['disk-chunks'], referenced.size + 1, JSON.stringify(status));
    assert.equal(status['pending-chunks'], 0, JSON.stringify(status));
    assert.equal(existsSync(badPath), false);
    assert.equal(existsSync(tempPath), false);
    assert.equal(status['removed-chunks'], garbage.length);
    assert.equal(status['removed-bad'], 1);
    assert.equal(status['removed-temp'], 1);
    assert.equal(status.upid, task.upid);
    const written = JSON.parse(readFileSync(join(store.base, GC_STATUS_NAME), 'utf8')) as Record<string, unknown>;
    assert.equal(written['removed-chunks'], garbage.length);
    assert.ok(task.lines.some((l) => l.includes('phase 2 done')));
  } finally {
    t.cleanup();
  }
});

test('a GC task on a filesystem that drops explicit atime updates ends in ERROR (ATIME_UNSUPPORTED) and removes nothing', async () => {
  let now = 1_700_000_000_000;
  const fs = new SimFs({ now: () => now, ignoreAtime: true });
  await createDatastoreTree(fs, '/srv/store');
  const store = new Datastore({ name: 'sim', base: '/srv/store', fs, locker: new MemoryLocker(fs), log: silentLogger, syncLevel: 'filesystem' });
  const garbage = await insertGarbage(store, [77]);
  now += 3 * DAY_MS;
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-tasks-'));
  try {
    const tasks = await TaskRegistry.open({ fs: new NodeFs(), dir, log: memoryLogger() });
    const upid = await tasks.spawn({ type: 'garbage_collection', id: 'sim', authId: 'root@pam' }, (task) => runGcJob(store, task, { tuning: DEFAULT_TUNING, now: () => now }));
    const info = await tasks.wait(upid);
    assert.equal(info.state?.kind, 'error');
    assert.equal(info.errorCode, 'ATIME_UNSUPPORTED');
    assert.match((await tasks.readLog(upid)).lines.at(-1) ?? '', /TASK ERROR: .*does not store explicit atime updates/);
    assert.equal(await store.chunks.state(garbage[0]!), 'intact');
    await assert.rejects(runGcJob(store, taskDouble(), { tuning: DEFAULT_TUNING }), (e) => isHoldfastError(e, 'ATIME_UNSUPPORTED'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
