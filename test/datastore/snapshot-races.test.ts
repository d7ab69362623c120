/**
 * Races between operations on a snapshot and a concurrent prune or forget that removes it, each
 * driven in a chosen order (never by timing). The rule under test (issue #16): an operation on a
 * vanished snapshot fails with a clear code or skips it, and never leaves anything at its path;
 * an entry of a group directory that is not a snapshot is a warning, never a failed job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, promises as fsp, constants as fsc, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotRef } from '../../src/core/backup-ref.ts';
import { isHoldfastError } from '../../src/core/errors.ts';
import { BackupSession } from '../../src/datastore/backup-session.ts';
import { groupDir, snapshotDir } from '../../src/datastore/layout.ts';
import { DEFAULT_TUNING } from '../../src/format/tuning.ts';
import { runGcJob } from '../../src/jobs/gc-job.ts';
import { pruneDatastore } from '../../src/jobs/prune.ts';
import { verifySnapshot } from '../../src/jobs/verify.ts';
import { runVerifyJob } from '../../src/jobs/verify-job.ts';
import { ReaderProtocol } from '../../src/server/protocol/reader-protocol.ts';
import { lockOpened, tryLock } from '../../src/storage/file-lock.ts';
import { FlockLocker, type HeldLock, type LockKind, type Locker } from '../../src/storage/locker.ts';
import { backupChunks, pseudoRandom, tempStore } from '../helpers/datastore-fixture.ts';
import { taskDouble, TEST_UPID } from '../jobs/job-fixture.ts';

const ref = (time: number, id = 'a'): SnapshotRef => ({ ns: '', type: 'host', id, time });
const chunks = [pseudoRandom(32 * 1024, 1), pseudoRandom(32 * 1024, 2)];
const VANISHED = (e: unknown): boolean => isHoldfastError(e, 'NOT_FOUND');

test('FlockLocker.lockDir on a snapshot a prune removed fails NOT_FOUND and creates nothing at its path', async () => {
  const t = await tempStore('none');
  try {
    await backupChunks(t.store, ref(1000), chunks);
    await backupChunks(t.store, ref(2000), chunks);
    const dir = snapshotDir(t.store.base, ref(1000));
    await t.store.deleteSnapshot(ref(1000)); // the prune wins
    for (const kind of ['shared', 'exclusive'] as const) {
      await assert.rejects(t.store.locker.lockDir(dir, kind, 'snapshot'), VANISHED);
    }
    // the operations that lock a snapshot, in the order a user could start them after the prune
    await assert.rejects(ReaderProtocol.open(t.store, ref(1000)), VANISHED);
    await assert.rejects(t.store.setProtected(ref(1000), true), VANISHED);
    await assert.rejects(t.store.deleteSnapshot(ref(1000)), VANISHED);
    const v = await verifySnapshot(t.store, ref(1000), { upid: TEST_UPID, log: t.store.log });
    assert.equal(v.state, 'skipped');
    assert.equal(existsSync(dir), false, 'nothing may appear where the snapshot was');
    assert.deepEqual((await t.store.listSnapshots(ref(0))).map((s) => s.ref.time), [2000]);
  } finally {
    t.cleanup();
  }
});

test('tryLock on a directory replaced between open and flock fails NOT_FOUND', async () => {
  const t = await tempStore('none');
  try {
    const dir = join(t.dir, 'obj');
    for (const remake of [false, true]) {
      mkdirSync(dir);
      const h = await fsp.open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
      rmdirSync(dir); // a forget removes it after our open …
      if (remake) mkdirSync(dir); // … and a new object of the same name may appear
      await assert.rejects(lockOpened(h, dir, 'shared', 'object', 'directory'), VANISHED);
      assert.equal(existsSync(dir), remake);
      if (remake) rmdirSync(dir);
    }
    // A lock file is still created on demand.
    const l = await tryLock(join(t.dir, 'x.lck'), 'exclusive', 'x');
    await l.release();
    assert.ok(existsSync(join(t.dir, 'x.lck')));
  } finally {
    t.cleanup();
  }
});

test('Datastore listings skip a group-directory entry that is not a snapshot, with a warning naming it; GC, verify, prune and backup go on', async () => {
  const t = await tempStore('filesystem');
  try {
    for (const time of [1000, 2000, 3000]) await backupChunks(t.store, ref(time), chunks);
    const gdir = groupDir(t.store.base, ref(0));
    // debris of the old bug: empty files named like snapshots, a group and a namespace
    writeFileSync(join(gdir, '2026-12-03T10:44:42Z'), '');
    writeFileSync(join(t.store.base, 'host', 'not-a-group'), '');
    mkdirSync(join(t.store.base, 'ns'));
    writeFileSync(join(t.store.base, 'ns', 'not-a-namespace'), '');

    const warnings: string[] = [];
    const listed = await t.store.listSnapshots(ref(0), (m) => warnings.push(m));
    assert.deepEqual(listed.map((s) => s.ref.time), [1000, 2000, 3000]);
    assert.match(warnings.join('\n'), /host\/a\/2026-12-03T10:44:42Z.*not a directory/);
    assert.deepEqual((await t.store.listGroups('')).map((g) => g.id), ['a']);
    assert.deepEqual(await t.store.listNamespaces(), ['']);

    const gc = taskDouble();
    await runGcJob(t.store, gc, { tuning: DEFAULT_TUNING });
    assert.ok(gc.lines.some((l) => l.startsWith('WARN:') && l.includes('2026-12-03T10:44:42Z')), gc.lines.join('\n'));

    const verify = taskDouble();
    const report = await runVerifyJob(t.store, { kind: 'datastore' }, verify, { filter: { ignoreVerified: false }, tuning: DEFAULT_TUNING });
    assert.equal(report.failed, 0);
    assert.ok(verify.lines.some((l) => l.startsWith('WARN:') && l.includes('not-a-group')), verify.lines.join('\n'));

    const prune = taskDouble();
    const entries = await pruneDatastore(t.store, { keepLast: 1 }, { dryRun: false, log: prune });
    assert.deepEqual(entries.filter((e) => e.outcome === 'removed').map((e) => e.ref.time).sort(), [1000, 2000]);

    await backupChunks(t.store, ref(4000), chunks);
    assert.deepEqual((await t.store.listSnapshots(ref(0))).map((s) => s.ref.time), [3000, 4000]);
  } finally {
    t.cleanup();
  }
});

/** A FlockLocker that runs `before` once, just before the first lock of `path` is taken. */
class RacingLocker implements Locker {
  readonly #inner = new FlockLocker();
  #path: string | undefined;
  #before: () => Promise<void> = async () => undefined;

  raceOnce(path: string, before: () => Promise<void>): void {
    this.#path = path;
    this.#before = before;
  }

  async lockDir(path: string, kind: LockKind, what: string): Promise<HeldLock> {
    if (path === this.#path) {
      this.#path = undefined;
      await this.#before();
    }
    return this.#inner.lockDir(path, kind, what);
  }

  lockFile(path: string, kind: LockKind, what: string): Promise<HeldLock> {
    return this.#inner.lockFile(path, kind, what);
  }
}

test('BackupSession.begin: a prune that removes the base between lookup and lock makes the backup take the next older base', async () => {
  const locker = new RacingLocker();
  const t = await tempStore('none', { locker });
  try {
    await backupChunks(t.store, ref(1000), chunks);
    await backupChunks(t.store, ref(2000), chunks);
    locker.raceOnce(snapshotDir(t.store.base, ref(2000)), () => t.store.deleteSnapshot(ref(2000)));
    const s = await BackupSession.begin(t.store, ref(3000), { owner: 'test@pbs' });
    assert.deepEqual(s.previous, ref(1000));
    await s.abort();
    assert.equal(existsSync(snapshotDir(t.store.base, ref(2000))), false);
  } finally {
    t.cleanup();
  }
});

test('BackupSession.begin: a base that a prune is removing right now (LOCKED) means a backup without a base, not a failure', async () => {
  const t = await tempStore('none');
  try {
    await backupChunks(t.store, ref(1000), chunks);
    const pruning = await t.store.locker.lockDir(snapshotDir(t.store.base, ref(1000)), 'exclusive', 'prune');
    const s = await BackupSession.begin(t.store, ref(2000), { owner: 'test@pbs' });
    assert.equal(s.previous, undefined);
    assert.ok(t.logLines.some((l) => l.includes('is being removed')), t.logLines.join('\n'));
    await s.abort();
    await pruning.release();
  } finally {
    t.cleanup();
  }
});
