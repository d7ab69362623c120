/**
 * Group moves on a real filesystem (datastore/group-move.ts): every snapshot arrives whole with the
 * owner and notes, the source group is gone, and the renames are durable where a manifest is; the
 * merge rules (same owner, no snapshot at the same time, `merge` asked for) refuse with nothing
 * moved and no target group left behind; a held snapshot lock refuses the move. And garbage
 * collection beside a move: a group moved during phase 1 into a namespace GC has walked already
 * keeps every chunk (the move journal), which without the journal the sweep would have removed.
 * And failed syncs (FaultFs): the move fails with SYNC_FAILED, never reports a snapshot moved whose
 * rename was not made durable, leaves each snapshot whole in one of the groups, and the same move
 * then finishes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GroupRef, SnapshotRef } from '../../src/core/backup-ref.ts';
import { silentLogger } from '../../src/core/log.ts';
import { chunkPath } from '../../src/chunks/chunk-path.ts';
import type { Datastore } from '../../src/datastore/datastore.ts';
import { moveGroup } from '../../src/datastore/group-move.ts';
import { groupDir, snapshotDir } from '../../src/datastore/layout.ts';
import { garbageCollect } from '../../src/jobs/gc.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';
import type { Fs } from '../../src/storage/fs-port.ts';
import { FaultFs, type SyncCall } from '../../src/storage/testing/fault-fs.ts';
import { isHoldfastError } from '../../src/core/errors.ts';
import { backupChunks, pseudoRandom, sha256, tempStore } from '../helpers/datastore-fixture.ts';

const DAY_MS = 86_400_000;
const hex = (b: Uint8Array): string => Buffer.from(sha256(b)).toString('hex');
const chunksOf = (seeds: readonly number[]): Uint8Array[] => seeds.map((s) => pseudoRandom(8 * 1024, s));
const web = (ns: string, time: number): SnapshotRef => ({ ns, type: 'host', id: 'web', time });
const group = (ns: string): GroupRef => ({ ns, type: 'host', id: 'web' });

/** Every file of every snapshot of `g`, by snapshot time and name (none when the group is not there). */
function contents(store: Datastore, g: GroupRef): Map<string, string> {
  const out = new Map<string, string>();
  const dir = groupDir(store.base, g);
  if (!existsSync(dir)) return out;
  for (const snap of readdirSync(dir).filter((n) => /^\d{4}-/.test(n)).sort()) {
    for (const f of readdirSync(join(dir, snap)).sort()) out.set(`${snap}/${f}`, readFileSync(join(dir, snap, f)).toString('hex'));
  }
  return out;
}

async function storeWithGroup(level: 'filesystem' | 'file' = 'filesystem', fs?: Fs) {
  const t = await tempStore(level, fs ? { fs } : {});
  for (const ns of ['a', 'b']) await t.store.createNamespace(ns);
  await backupChunks(t.store, web('', 1_700_000_000), chunksOf([1, 2]));
  await backupChunks(t.store, web('', 1_700_003_600), chunksOf([2, 3]));
  await t.store.setGroupNotes(group(''), 'the web server\n');
  return t;
}

test('a group moves to a new namespace whole: its snapshots, owner and notes; the source is gone; the renames are fsynced', async () => {
  const t = await storeWithGroup();
  try {
    const store = t.store;
    const before = contents(store, group(''));
    const syncs = store.syncCounts().fsyncDir;
    const moved: string[] = [];
    const r = await moveGroup(store, group(''), 'a', { merge: true, onSnapshot: (_, to) => moved.push(store.show(to)) });
    assert.deepEqual(r, { target: group('a'), movedSnapshots: 2, merged: false });
    assert.equal(moved.length, 2);
    assert.deepEqual(contents(store, group('a')), before);
    assert.equal(await store.getOwner(group('a')), 'test@pbs');
    assert.equal(await store.getGroupNotes(group('a')), 'the web server\n');
    assert.deepEqual(await store.listGroups(''), []);
    assert.equal(await store.getOwner(group('')), undefined);
    assert.ok(store.syncCounts().fsyncDir >= syncs + 4, 'both parents of each rename are fsynced at filesystem');
    const m = await store.readManifest(web('a', 1_700_000_000));
    assert.ok(m.files.some((f) => f.filename === 'data.didx'));
  } finally {
    t.cleanup();
  }
});

test('merge rules: into an existing group only with merge, the same owner and no snapshot at the same time; a refusal moves nothing and leaves no group behind', async () => {
  const t = await storeWithGroup();
  try {
    const store = t.store;
    await backupChunks(store, web('b', 1_700_000_000), chunksOf([5])); // the time of a source snapshot
    await backupChunks(store, web('b', 1_700_007_200), chunksOf([4]));
    await assert.rejects(moveGroup(store, group(''), 'b', { merge: false }), { code: 'ALREADY_EXISTS' });
    await store.setOwner(group('b'), 'someone@pbs');
    await assert.rejects(moveGroup(store, group(''), 'b', { merge: true }), { code: 'OWNER_MISMATCH' });
    await store.setOwner(group('b'), 'test@pbs');
    await assert.rejects(moveGroup(store, group(''), 'b', { merge: true }), { code: 'ALREADY_EXISTS' });
    assert.equal((await store.listSnapshots(group(''))).length, 2, 'nothing moved');
    await assert.rejects(moveGroup(store, group(''), 'nope', { merge: true }), { code: 'NOT_FOUND' });
    await assert.rejects(moveGroup(store, group(''), '', { merge: true }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(moveGroup(store, { ns: '', type: 'host', id: 'nobody' }, 'a', { merge: true }), { code: 'NOT_FOUND' });

    await store.deleteSnapshot(web('b', 1_700_000_000));
    const r = await moveGroup(store, group(''), 'b', { merge: true });
    assert.deepEqual(r, { target: group('b'), movedSnapshots: 2, merged: true });
    assert.deepEqual((await store.listSnapshots(group('b'))).map((s) => s.ref.time), [1_700_000_000, 1_700_003_600, 1_700_007_200]);
  } finally {
    t.cleanup();
  }
});

test('a snapshot in use (a reader holds it) or a backup in the group refuses the move with LOCKED, and nothing moves', async () => {
  const t = await storeWithGroup();
  try {
    const store = t.store;
    const reader = await store.locker.lockDir(snapshotDir(store.base, web('', 1_700_003_600)), 'shared', 'a reader');
    await assert.rejects(moveGroup(store, group(''), 'a', { merge: true }), { code: 'LOCKED' });
    await reader.release();
    assert.deepEqual(await store.listGroups('a'), [], 'no target group left behind');
    const backup = await store.locker.lockDir(groupDir(store.base, group('')), 'exclusive', 'a backup');
    await assert.rejects(moveGroup(store, group(''), 'a', { merge: true }), { code: 'LOCKED' });
    await backup.release();
    assert.equal((await store.listSnapshots(group(''))).length, 2);
    assert.equal((await moveGroup(store, group(''), 'a', { merge: true })).movedSnapshots, 2);
  } finally {
    t.cleanup();
  }
});

test('GC beside a move: a group moved during phase 1 into a namespace already walked keeps its chunks', async () => {
  const t = await tempStore('filesystem');
  try {
    const store = t.store;
    for (const ns of ['a', 'z']) await store.createNamespace(ns);
    // `a` is walked before `z`; the group in `z` moves to `a` once GC has walked `a`
    await backupChunks(store, { ns: 'a', type: 'host', id: 'first', time: 1_700_000_000 }, chunksOf([1]));
    const moving = chunksOf([20, 21, 22]);
    await backupChunks(store, web('z', 1_700_000_000), moving);
    const nodeFs = new NodeFs();
    for (const c of [...moving, ...chunksOf([1])]) await nodeFs.touchAtime(chunkPath(store.base, hex(c)), Date.now() - 3 * DAY_MS);

    let movedDuringGc = false;
    const status = await garbageCollect(store, {
      cutoffMinutes: 60,
      cacheCapacity: 1024,
      atimeSafetyCheck: false,
      log: silentLogger,
      afterGroupMarked: async (g) => {
        if (g.ns === 'a' && g.id === 'first' && !movedDuringGc) {
          await moveGroup(store, group('z'), 'a', { merge: true });
          movedDuringGc = true;
        }
      },
    });
    assert.ok(movedDuringGc);
    assert.equal(status['removed-chunks'], 0, 'the moved group kept every chunk');
    for (const c of moving) assert.ok(existsSync(chunkPath(store.base, hex(c))), `chunk ${hex(c)} survived`);
    assert.equal((await store.listSnapshots(group('a'))).length, 1);
  } finally {
    t.cleanup();
  }
});

/** A store over FaultFs whose sync rule is armed only while the move runs. */
async function storeWithFaults(level: 'filesystem' | 'file', rule: (call: SyncCall, target: string) => boolean) {
  let armed = false;
  let target = '';
  const fs = new FaultFs(new NodeFs(), { failSync: (call) => armed && rule(call, target) });
  const t = await storeWithGroup(level, fs);
  target = groupDir(t.store.base, group('a'));
  return { ...t, arm: () => (armed = true), disarm: () => (armed = false) };
}

// which sync fails: the one syncfs before the first rename, or the fsync of the new parent after
// the first or the second snapshot's rename; and how many snapshots the move reported moved
for (const [level, kind, nth, reported] of [
  ['filesystem', 'syncfs', 1, 0],
  ['file', 'syncfs', 1, 0],
  ['filesystem', 'fsyncDir', 2, 1],
  ['file', 'fsyncDir', 1, 0],
] as const) {
  test(`a failed ${kind} ${kind === 'fsyncDir' ? `after rename ${nth} ` : ''}of a move at ${level} fails it with SYNC_FAILED, every snapshot whole in one group; the same move then finishes`, async () => {
    let hits = 0;
    const t = await storeWithFaults(level, (call, target) => call.kind === kind && (kind === 'syncfs' || call.path === target) && ++hits === nth);
    try {
      const store = t.store;
      const before = contents(store, group(''));
      const moved: string[] = [];
      t.arm();
      await assert.rejects(moveGroup(store, group(''), 'a', { merge: true, onSnapshot: (_, to) => moved.push(store.show(to)) }), (e) => isHoldfastError(e, 'SYNC_FAILED'));
      t.disarm();
      assert.equal(moved.length, reported, 'a snapshot whose rename was not made durable is not reported moved');
      assert.deepEqual(new Map([...contents(store, group('')), ...contents(store, group('a'))]), before, 'each snapshot is whole in the source or the target');
      assert.equal(await store.getOwner(group('')), 'test@pbs', 'the source group stays until the move is done');
      await moveGroup(store, group(''), 'a', { merge: true });
      assert.deepEqual(contents(store, group('a')), before);
      assert.deepEqual(await store.listGroups(''), []);
    } finally {
      t.cleanup();
    }
  });
}
