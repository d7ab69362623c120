import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupRef, SnapshotRef } from '../../src/core/backup-ref.ts';
import { memoryLogger } from '../../src/core/log.ts';
import { parseRfc3339 } from '../../src/core/time.ts';
import type { Datastore } from '../../src/datastore/datastore.ts';
import { snapshotDir } from '../../src/datastore/layout.ts';
import { pruneDatastore, pruneGroup } from '../../src/jobs/prune.ts';
import { computePrune, type PrunePolicy } from '../../src/jobs/prune-policy.ts';
import { backupChunks, pseudoRandom, tempStore } from '../helpers/datastore-fixture.ts';

const TIMES = ['2024-03-01T10:00:00Z', '2024-03-01T18:00:00Z', '2024-03-02T09:00:00Z', '2024-03-02T21:00:00Z', '2024-03-03T08:00:00Z', '2024-03-04T08:00:00Z', '2024-03-04T12:00:00Z'];

async function fillGroup(store: Datastore, g: GroupRef): Promise<SnapshotRef[]> {
  const refs = TIMES.map((t) => ({ ...g, time: parseRfc3339(t) }));
  for (const [i, ref] of refs.entries()) await backupChunks(store, ref, [pseudoRandom(1024, i + 1)]);
  return refs;
}

async function timesOf(store: Datastore, g: GroupRef): Promise<number[]> {
  return (await store.listSnapshots(g)).map((s) => s.ref.time);
}

test('pruneGroup keeps and removes exactly what computePrune decides; protected snapshots survive; dry-run removes nothing', async () => {
  const t = await tempStore('filesystem');
  try {
    const store = t.store;
    const g: GroupRef = { ns: '', type: 'host', id: 'db' };
    const refs = await fillGroup(store, g);
    await store.setProtected(refs[0]!, true);
    const policy: PrunePolicy = { keepLast: 2, keepDaily: 2 };
    const expected = computePrune((await store.listSnapshots(g)).map((s) => ({ time: s.ref.time, finished: s.finished, protected: s.protected })), policy, 'UTC');

    const dry = await pruneGroup(store, g, policy, { dryRun: true, log: memoryLogger(), timeZone: 'UTC' });
    assert.deepEqual(dry.map((e) => [e.ref.time, e.keep, e.reason]), expected.map((d) => [d.time, d.keep, d.reason]));
    assert.ok(dry.some((e) => e.outcome === 'would-remove'));
    assert.equal((await timesOf(store, g)).length, TIMES.length, 'a dry run removes nothing');

    const syncsBefore = store.syncCounts().syncfs;
    const done = await pruneGroup(store, g, policy, { dryRun: false, log: memoryLogger(), timeZone: 'UTC' });
    assert.deepEqual(done.map((e) => e.outcome), expected.map((d) => (d.keep ? 'kept' : 'removed')));
    assert.deepEqual(await timesOf(store, g), expected.filter((d) => d.keep).map((d) => d.time).sort((a, b) => a - b));
    assert.ok((await timesOf(store, g)).includes(refs[0]!.time), 'the protected snapshot survives');
    assert.equal(store.syncCounts().syncfs - syncsBefore, 1, 'filesystem level: one syncfs makes the removals durable');
  } finally {
    t.cleanup();
  }
});

test('pruneGroup skips a locked snapshot with a warning and removes the others', async () => {
  const t = await tempStore('file');
  try {
    const store = t.store;
    const g: GroupRef = { ns: '', type: 'ct', id: '101' };
    const refs = await fillGroup(store, g);
    const reader = await store.locker.lockDir(snapshotDir(store.base, refs[1]!), 'shared', 'a reader');
    try {
      const log = memoryLogger();
      const entries = await pruneGroup(store, g, { keepLast: 1 }, { dryRun: false, log });
      const locked = entries.find((e) => e.ref.time === refs[1]!.time);
      assert.equal(locked?.outcome, 'skipped');
      assert.ok(log.lines.some((l) => l.startsWith('warn: not removing ct/101/')), log.lines.join('\n'));
      assert.deepEqual(await timesOf(store, g), [refs[1]!.time, refs.at(-1)!.time]);
      assert.equal(store.syncCounts().syncfs, 0, 'file level: removals are fsynced one by one, no syncfs');
    } finally {
      await reader.release();
    }
  } finally {
    t.cleanup();
  }
});

test('pruneDatastore prunes every group of a namespace and the namespaces below it', async () => {
  const t = await tempStore('none');
  try {
    const store = t.store;
    await store.createNamespace('a');
    await store.createNamespace('a/b');
    const groups: GroupRef[] = [
      { ns: '', type: 'vm', id: 'root' },
      { ns: 'a', type: 'vm', id: 'x' },
      { ns: 'a/b', type: 'vm', id: 'y' },
    ];
    for (const g of groups) await fillGroup(store, g);
    const entries = await pruneDatastore(store, { keepLast: 3 }, { dryRun: false, log: memoryLogger(), ns: 'a' });
    assert.equal(entries.filter((e) => e.outcome === 'removed').length, 2 * (TIMES.length - 3));
    assert.equal((await timesOf(store, groups[0]!)).length, TIMES.length, 'the root namespace is outside the scope');
    assert.equal((await timesOf(store, groups[1]!)).length, 3);
    assert.equal((await timesOf(store, groups[2]!)).length, 3);
  } finally {
    t.cleanup();
  }
});
