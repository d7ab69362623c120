import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupChunks, tempStore } from '../../test/helpers/datastore-fixture.ts';
import type { GroupRef } from '../core/backup-ref.ts';
import { groupDir, nsDir } from './layout.ts';
import { removeEmptyNamespace, removeGroup, removeNamespaceTree } from './removal.ts';

const data = [Buffer.from('removal test chunk')];
const host = (id: string, ns = ''): GroupRef => ({ ns, type: 'host', id });

test('removeGroup removes every unprotected snapshot, then the group; a protected one keeps the group', async () => {
  const t = await tempStore('file');
  try {
    const s = t.store;
    for (const time of [1, 2]) await backupChunks(s, { ...host('a'), time }, data);
    await backupChunks(s, { ...host('p'), time: 1 }, data);
    await backupChunks(s, { ...host('p'), time: 2 }, data);
    await s.setProtected({ ...host('p'), time: 2 }, true);
    const heard: string[] = [];
    assert.deepEqual(await removeGroup(s, host('a'), (r, o) => heard.push(`${r.time}:${o}`)), { removedGroups: 1, removedSnapshots: 2, protectedSnapshots: 0 });
    assert.deepEqual(heard, ['1:removed', '2:removed']);
    assert.equal(existsSync(groupDir(s.base, host('a'))), false);
    assert.deepEqual(await removeGroup(s, host('p')), { removedGroups: 0, removedSnapshots: 1, protectedSnapshots: 1 });
    assert.deepEqual((await s.listSnapshots(host('p'))).map((x) => x.ref.time), [2]);
    await assert.rejects(removeGroup(s, host('missing')), (e: unknown) => (e as { code?: string }).code === 'NOT_FOUND');
  } finally {
    t.cleanup();
  }
});

test('removeGroup refuses a group a backup is writing (LOCKED) and leaves it whole', async () => {
  const t = await tempStore('none');
  try {
    await backupChunks(t.store, { ...host('busy'), time: 1 }, data);
    const running = await backupChunks(t.store, { ...host('busy'), time: 2 }, data, { finish: false });
    await assert.rejects(removeGroup(t.store, host('busy')), (e: unknown) => (e as { code?: string }).code === 'LOCKED');
    await running.finish();
    assert.equal((await t.store.listSnapshots(host('busy'))).length, 2);
  } finally {
    t.cleanup();
  }
});

test('removeEmptyNamespace removes only an empty namespace, never the root, and never a stray file with it', async () => {
  const t = await tempStore('file');
  try {
    const s = t.store;
    await s.createNamespace('a');
    await s.createNamespace('a/b');
    await backupChunks(s, { ...host('x', 'a/b'), time: 1 }, data);
    assert.equal(await removeEmptyNamespace(s, 'a'), false, 'a child namespace is left');
    assert.equal(await removeEmptyNamespace(s, 'a/b'), false, 'a group is left');
    await removeGroup(s, host('x', 'a/b'));
    assert.equal(await removeEmptyNamespace(s, 'a/b'), true);
    assert.deepEqual(await s.listNamespaces(), ['', 'a']);
    assert.equal(existsSync(join(nsDir(s.base, 'a'), 'ns')), false, "the parent's empty ns directory goes too");
    mkdirSync(join(nsDir(s.base, 'a'), 'vm'));
    writeFileSync(join(nsDir(s.base, 'a'), 'vm', 'stray'), 'x');
    assert.equal(await removeEmptyNamespace(s, 'a'), false, 'rmdir keeps a namespace holding a stray file');
    assert.equal(existsSync(join(nsDir(s.base, 'a'), 'vm', 'stray')), true);
    await assert.rejects(removeEmptyNamespace(s, ''), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT');
  } finally {
    t.cleanup();
  }
});

test('removeNamespaceTree removes the namespaces below first; a protected snapshot keeps its namespace and those above', async () => {
  const t = await tempStore('none');
  try {
    const s = t.store;
    for (const ns of ['t', 't/keep', 't/gone', 't/gone/deep']) await s.createNamespace(ns);
    await backupChunks(s, { ...host('g', 't/gone/deep'), time: 1 }, data);
    await backupChunks(s, { ...host('k', 't/keep'), time: 1 }, data);
    await s.setProtected({ ...host('k', 't/keep'), time: 1 }, true);
    const without = await removeNamespaceTree(s, 't/gone', false);
    assert.deepEqual(without, { removedGroups: 0, removedSnapshots: 0, protectedSnapshots: 0, removedAll: false });
    assert.deepEqual(await removeNamespaceTree(s, 't/gone', true), { removedGroups: 1, removedSnapshots: 1, protectedSnapshots: 0, removedAll: true });
    assert.deepEqual(await removeNamespaceTree(s, 't', true), { removedGroups: 0, removedSnapshots: 0, protectedSnapshots: 1, removedAll: false });
    assert.deepEqual(await s.listNamespaces(), ['', 't', 't/keep']);
  } finally {
    t.cleanup();
  }
});
