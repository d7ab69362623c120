/**
 * Namespace moves on a real filesystem (datastore/namespace-move.ts): a tree's groups land at the
 * mapped places with every snapshot, the emptied source goes (or stays, asked to); `maxDepth`
 * leaves what is deeper, with the namespaces above it; a clash without merge, a move into itself,
 * the root, and a tree that would grow too deep are refused with nothing moved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupRef } from '../../src/core/backup-ref.ts';
import type { Datastore } from '../../src/datastore/datastore.ts';
import { moveNamespace } from '../../src/datastore/namespace-move.ts';
import { backupChunks, pseudoRandom, tempStore } from '../helpers/datastore-fixture.ts';

const g = (ns: string, id: string): GroupRef => ({ ns, type: 'host', id });

async function tree() {
  const t = await tempStore('filesystem');
  for (const ns of ['a', 'a/b', 'a/b/c', 'n']) await t.store.createNamespace(ns);
  let seed = 1;
  for (const [ns, id] of [['a', 'x'], ['a/b', 'y'], ['a/b/c', 'z']] as const) {
    for (const time of [1_700_000_000, 1_700_003_600]) await backupChunks(t.store, { ...g(ns, id), time }, [pseudoRandom(4096, seed++)]);
  }
  return t;
}

async function layout(store: Datastore): Promise<string[]> {
  const out: string[] = [];
  for (const ns of await store.listNamespaces()) {
    const groups = await store.listGroups(ns);
    if (groups.length === 0) out.push(`${ns || '/'}`);
    for (const x of groups) out.push(`${ns}:${x.id}(${(await store.listSnapshots(x)).length})`);
  }
  return out.sort();
}

test('a namespace tree moves into another: groups with all their snapshots at the mapped places, the emptied source removed', async () => {
  const t = await tree();
  try {
    const r = await moveNamespace(t.store, 'a', 'n', { merge: true, deleteSource: true });
    assert.deepEqual(r, { movedGroups: 3, movedSnapshots: 6, removedNamespaces: 3 });
    assert.deepEqual(await layout(t.store), ['/', 'n/b/c:z(2)', 'n/b:y(2)', 'n:x(2)']);
  } finally {
    t.cleanup();
  }
});

test('max-depth leaves the deeper namespaces, and the namespaces above them; keep-source keeps the emptied ones', async () => {
  const t = await tree();
  try {
    const r = await moveNamespace(t.store, 'a', 'n', { maxDepth: 1, merge: true, deleteSource: true });
    assert.deepEqual(r, { movedGroups: 2, movedSnapshots: 4, removedNamespaces: 0 });
    assert.deepEqual(await layout(t.store), ['/', 'a', 'a/b', 'a/b/c:z(2)', 'n/b:y(2)', 'n:x(2)']);
    const kept = await moveNamespace(t.store, 'a/b/c', 'n/b/c', { merge: true, deleteSource: false });
    assert.equal(kept.removedNamespaces, 0);
    assert.deepEqual(await layout(t.store), ['/', 'a', 'a/b', 'a/b/c', 'n/b/c:z(2)', 'n/b:y(2)', 'n:x(2)']);
  } finally {
    t.cleanup();
  }
});

test('refused with nothing moved: a clash without merge, into itself, the root, too deep, a missing source', async () => {
  const t = await tree();
  try {
    await t.store.createNamespace('n/b');
    await backupChunks(t.store, { ...g('n/b', 'y'), time: 1_600_000_000 }, [pseudoRandom(4096, 99)]);
    const before = await layout(t.store);
    await assert.rejects(moveNamespace(t.store, 'a', 'n', { merge: false, deleteSource: true }), { code: 'ALREADY_EXISTS' });
    await assert.rejects(moveNamespace(t.store, 'a', 'a/b', { merge: true, deleteSource: true }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(moveNamespace(t.store, '', 'n', { merge: true, deleteSource: true }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(moveNamespace(t.store, 'a', 'n/1/2/3/4/5', { merge: true, deleteSource: true }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(moveNamespace(t.store, 'nope', 'n', { merge: true, deleteSource: true }), { code: 'NOT_FOUND' });
    await assert.rejects(moveNamespace(t.store, 'a', 'n', { maxDepth: 9, merge: true, deleteSource: true }), { code: 'INVALID_ARGUMENT' });
    assert.deepEqual(await layout(t.store), before);
    // with merge the older snapshot joins the group that is there
    await moveNamespace(t.store, 'a', 'n', { merge: true, deleteSource: true });
    assert.deepEqual(await layout(t.store), ['/', 'n/b/c:z(2)', 'n/b:y(3)', 'n:x(2)']);
  } finally {
    t.cleanup();
  }
});
