import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import type { SnapshotRef } from '../../src/core/backup-ref.ts';
import { fail, isHoldfastError } from '../../src/core/errors.ts';
import { indexChunks } from '../../src/datastore/index-files.ts';
import { runVerifyJob, type VerifyReport } from '../../src/jobs/verify-job.ts';
import { pseudoRandom, tempStore } from '../helpers/datastore-fixture.ts';
import { backupData, restoreData, taskDouble, TEST_UPID } from './job-fixture.ts';
import { verifySnapshot } from '../../src/jobs/verify.ts';
import { memoryLogger } from '../../src/core/log.ts';
import { LocalChunkBackend } from '../../src/chunks/local-chunk-backend.ts';
import { chunkPath } from '../../src/chunks/chunk-path.ts';
import { pooledChunkChecker, type ChunkChecker } from '../../src/chunks/chunk-check.ts';

const TUNING = { verificationReaders: 2, verificationWorkers: 2 };
const PIECE = 16 * 1024;

/** Chunks checked on this thread, and on a job's own worker threads as the server does. */
const CHECKERS = [
  ['inline', {}],
  ['on worker threads', { checkerPool: (n: number) => pooledChunkChecker(n) }],
] as const;

for (const [how, checking] of CHECKERS) {
  test(`runVerifyJob (checks ${how}) names and quarantines a flipped, a truncated, an empty and a missing chunk, fails the snapshot, and the next backup heals it`, async () => {
    const t = await tempStore('filesystem');
    try {
      const store = t.store;
      const data = pseudoRandom(8 * PIECE, 42);
      const first: SnapshotRef = { ns: '', type: 'host', id: 'web', time: 1_700_000_000 };
      await backupData(store, first, data, PIECE);
      const digests = indexChunks('data.pxar.didx', await store.readSnapshotFile(first, 'data.pxar.didx')).map((c) => c.digest);
      const [flipped, truncated, emptied, missing] = digests as [string, string, string, string];
      const path = (d: string): string => chunkPath(store.base, d);
      const bytes = readFileSync(path(flipped));
      bytes[bytes.length - 5]! ^= 0x10;
      writeFileSync(path(flipped), bytes);
      truncateSync(path(truncated), Math.floor(readFileSync(path(truncated)).length / 2));
      truncateSync(path(emptied), 0);
      unlinkSync(path(missing));

      const task = taskDouble();
      await assert.rejects(runVerifyJob(store, { kind: 'datastore' }, task, { filter: { ignoreVerified: false }, tuning: TUNING, ...checking }), (e) => isHoldfastError(e, 'CORRUPT'));
      const report = task.results.at(-1) as VerifyReport;
      assert.equal(report.failed, 1);
      const errors = report.snapshots[0]?.errors.join('\n') ?? '';
      for (const d of [flipped, truncated, emptied, missing]) assert.ok(errors.includes(d), `the report does not name ${d}:\n${errors}`);
      for (const d of [flipped, truncated, emptied]) {
        assert.ok(existsSync(`${path(d)}.0.bad`), `${d} was not quarantined`);
        assert.equal(existsSync(path(d)), false);
      }
      const state = (await store.readManifest(first)).unprotected['verify_state'];
      assert.deepEqual(state, { upid: task.upid, state: 'failed' });

      // the next backup of the same data does not build on the failed snapshot: it re-uploads
      const second: SnapshotRef = { ...first, time: first.time + 3600 };
      const { uploadedChunks } = await backupData(store, second, data, PIECE);
      assert.equal(uploadedChunks, digests.length);
      const again = taskDouble();
      const healed = await runVerifyJob(store, { kind: 'snapshot', snapshot: second }, again, { filter: { ignoreVerified: false }, tuning: TUNING, ...checking });
      assert.deepEqual([healed.ok, healed.failed], [1, 0]);
      assert.deepEqual(await restoreData(store, second), Buffer.from(data));
    } finally {
      t.cleanup();
    }
  });
}

/** The local backend with a hook that runs once, inside the first chunk read after it is armed. */
class HookedBackend extends LocalChunkBackend {
  onRead: (() => Promise<void>) | undefined;

  override async get(key: string): Promise<Uint8Array> {
    const hook = this.onRead;
    this.onRead = undefined;
    if (hook) await hook();
    return super.get(key);
  }
}

test('verifySnapshot keeps notes set while it runs: it records its state through updateManifest', async () => {
  let backend: HookedBackend | undefined;
  const t = await tempStore('file', { makeBackend: (fs, base) => (backend = new HookedBackend({ fs, base })) });
  try {
    const store = t.store;
    const ref: SnapshotRef = { ns: '', type: 'host', id: 'notes', time: 1_700_000_000 };
    await backupData(store, ref, pseudoRandom(4 * PIECE, 7), PIECE);
    backend!.onRead = async () => {
      await store.updateManifest(ref, (m) => {
        m.unprotected['notes'] = 'set during verify';
      });
    };
    const r = await verifySnapshot(store, ref, { upid: TEST_UPID, log: memoryLogger() });
    assert.equal(r.state, 'ok');
    assert.equal(backend!.onRead, undefined, 'the hook ran inside the verify');
    const m = await store.readManifest(ref);
    assert.equal(m.unprotected['notes'], 'set during verify');
    assert.deepEqual(m.unprotected['verify_state'], { upid: TEST_UPID, state: 'ok' });
  } finally {
    t.cleanup();
  }
});

test('verifySnapshot tells a fetch error from corruption: the snapshot fails, no chunk is quarantined, the recorded state stays', async () => {
  let backend: HookedBackend | undefined;
  const t = await tempStore('filesystem', { makeBackend: (fs, base) => (backend = new HookedBackend({ fs, base })) });
  try {
    const store = t.store;
    const ref: SnapshotRef = { ns: '', type: 'host', id: 'net', time: 1_700_000_000 };
    await backupData(store, ref, pseudoRandom(4 * PIECE, 9), PIECE);
    const ok = await verifySnapshot(store, ref, { upid: TEST_UPID, log: memoryLogger() });
    assert.equal(ok.state, 'ok');
    // what the S3 client throws when a GET fails after its retries (network error, 5xx)
    backend!.onRead = async () => {
      throw fail('OBJECT_STORE_ERROR', 'S3 GET failed: 503 SlowDown', { op: 'GET' });
    };
    const r = await verifySnapshot(store, ref, { upid: 'UPID:later', log: memoryLogger() });
    assert.equal(r.state, 'failed');
    assert.match(r.errors.join('\n'), /could not be read \(OBJECT_STORE_ERROR/);
    assert.deepEqual(r.quarantined, []);
    for await (const e of store.chunks.list()) assert.equal(e.kind, 'chunk', `nothing is marked bad: ${e.key}`);
    assert.deepEqual((await store.readManifest(ref)).unprotected['verify_state'], { upid: TEST_UPID, state: 'ok' });
    assert.equal((await verifySnapshot(store, ref, { upid: 'UPID:again', log: memoryLogger() })).state, 'ok', 'the next verify judges the chunk');
  } finally {
    t.cleanup();
  }
});

test('runVerifyJob with ignore-verified skips verified snapshots; scopes select group and namespace', async () => {
  const t = await tempStore('none');
  try {
    const store = t.store;
    await store.createNamespace('dept');
    const refs: SnapshotRef[] = [
      { ns: '', type: 'vm', id: '1', time: 1_700_000_000 },
      { ns: '', type: 'vm', id: '2', time: 1_700_000_000 },
      { ns: 'dept', type: 'vm', id: '1', time: 1_700_000_000 },
    ];
    for (const [i, ref] of refs.entries()) await backupData(store, ref, pseudoRandom(2 * PIECE, i + 1), PIECE);
    const run = (scope: Parameters<typeof runVerifyJob>[1], ignoreVerified = false) =>
      runVerifyJob(store, scope, taskDouble(), { filter: { ignoreVerified }, tuning: TUNING, now: () => 1_800_000_000_000 });
    assert.equal((await run({ kind: 'group', group: refs[1]! })).snapshots.length, 1);
    assert.deepEqual((await run({ kind: 'namespace', ns: 'dept' })).snapshots.map((s) => s.snapshot), ['ns/dept/vm/1/2023-11-14T22:13:20Z']);
    const all = await run({ kind: 'datastore' }, true);
    assert.deepEqual([all.ok, all.filtered], [1, 2], 'only the never-verified snapshot is verified');
    assert.equal((await run({ kind: 'datastore' })).ok, 3);
    await assert.rejects(run({ kind: 'snapshot', snapshot: { ...refs[0]!, time: 1 } }), (e) => isHoldfastError(e, 'NOT_FOUND'));
  } finally {
    t.cleanup();
  }
});

test('a checker that cannot run is not corruption: the snapshot fails, nothing is quarantined, the recorded state stays', async () => {
  const t = await tempStore('filesystem');
  try {
    const store = t.store;
    const ref: SnapshotRef = { ns: '', type: 'host', id: 'lost-worker', time: 1_700_000_000 };
    await backupData(store, ref, pseudoRandom(4 * PIECE, 9), PIECE);
    // a worker that died: its check rejects with no verdict on the bytes
    const broken: ChunkChecker = { check: async () => Promise.reject(fail('INTERNAL', 'worker exited')), close: async () => undefined };
    const task = taskDouble();
    await assert.rejects(runVerifyJob(store, { kind: 'snapshot', snapshot: ref }, task, { filter: { ignoreVerified: false }, tuning: TUNING, checkerPool: () => broken }), (e) => isHoldfastError(e, 'CORRUPT'));
    const report = task.results.at(-1) as VerifyReport;
    assert.match(report.snapshots[0]?.errors.join('\n') ?? '', /could not be read \(INTERNAL: worker exited\); not judged/);
    for (const c of indexChunks('data.pxar.didx', await store.readSnapshotFile(ref, 'data.pxar.didx'))) {
      assert.ok(existsSync(chunkPath(store.base, c.digest)), 'no chunk was quarantined');
    }
    assert.equal((await store.readManifest(ref)).unprotected['verify_state'], undefined);
  } finally {
    t.cleanup();
  }
});
