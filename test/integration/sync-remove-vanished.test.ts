/**
 * remove-vanished between two real servers on loopback, for whole groups and namespaces: `b`
 * pulls from `a` (its remote `src`), and `a` pushes to `b` as a user of `b` whose privileges the
 * tests raise step by step. What vanishes on the source is removed on the next run with
 * remove-vanished, and only then; protected snapshots, groups of other owners and what a refused
 * request could not remove stay, with a log line, and the rest of the run goes on.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupRef } from '../../src/core/backup-ref.ts';
import { removeGroup, removeNamespaceTree } from '../../src/datastore/removal.ts';
import type { SyncReport } from '../../src/jobs/sync/pull.ts';
import { formatTaskState } from '../../src/jobs/task-log.ts';
import type { TaskInfo } from '../../src/jobs/task-registry.ts';
import type { TestServer } from '../helpers/server-fixture.ts';
import { closePair, createJob, listed, runJob, snap, startSyncPair, store } from '../helpers/sync-fixture.ts';

const TIMEOUT = { timeout: 180_000 };
let a: TestServer;
let b: TestServer;

before(async () => {
  [a, b] = await startSyncPair();
});

after(() => closePair(a, b));

const host = (id: string, ns = ''): GroupRef => ({ ns, type: 'host', id });
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

interface Run {
  readonly report: SyncReport;
  readonly log: string;
  /** ended without an error (warnings, e.g. what stays, are fine) */
  readonly ok: boolean;
}

async function run(x: TestServer, id: string): Promise<Run> {
  const task: TaskInfo = await runJob(x, id);
  const log = (await x.hs.jobs.tasks.readLog(task.upid)).lines.join('\n');
  return { report: task.result as SyncReport, log, ok: /^(OK|WARNINGS: \d+)$/.test(formatTaskState(task.state!)) };
}

const removed = (r: SyncReport): number[] => [r.snapshotsRemoved, r.groupsRemoved, r.namespacesRemoved];

test('pull remove-vanished removes vanished groups and namespaces below ns on the next run; protected snapshots and uncovered groups keep theirs', TIMEOUT, async () => {
  await snap(a, host('stay', 'v'), 1000, [1]);
  await snap(a, host('gx', 'v'), 1000, [2]);
  await snap(a, host('g1', 'v/gone'), 1000, [3]);
  await snap(a, host('g2', 'v/gone/deep'), 1000, [4]);
  await snap(a, host('p', 'v/prot'), 1000, [5]);
  await snap(a, host('m', 'v/mixed'), 1000, [6]);
  await createJob(b, 'pull-rv', { 'remote-ns': 'v', ns: 'lv' });
  assert.equal((await run(b, 'pull-rv')).report.snapshotsSynced, 6);
  const d = await store(b);
  await d.setProtected({ ...host('p', 'lv/prot'), time: 1000 }, true);
  await snap(b, host('local', 'lv/mixed'), 1000, [7]); // owned by test@pbs, not the job's owner root@pam

  // the source loses a group and three namespaces, through the API (as PBS's)
  const srcAdmin = await a.admin();
  assert.deepEqual(await srcAdmin.delete('admin/datastore/default/groups', { ns: 'v', 'backup-type': 'host', 'backup-id': 'gx' }), { 'removed-groups': 1, 'removed-snapshots': 1, 'protected-snapshots': 0 });
  await assert.rejects(srcAdmin.delete('admin/datastore/default/namespace', { ns: 'v/gone' }), code('NAMESPACE_NOT_EMPTY'), 'without delete-groups a namespace with groups stays');
  assert.deepEqual(await srcAdmin.delete('admin/datastore/default/namespace', { ns: 'v/gone', 'delete-groups': true }), { 'removed-groups': 2, 'removed-snapshots': 2, 'protected-snapshots': 0 });
  for (const ns of ['v/prot', 'v/mixed']) await srcAdmin.delete('admin/datastore/default/namespace', { ns, 'delete-groups': true });
  const before = await listed(b);

  const plain = await run(b, 'pull-rv');
  assert.ok(plain.ok, plain.log);
  assert.deepEqual(removed(plain.report), [0, 0, 0], 'without remove-vanished nothing is removed');
  assert.deepEqual(await listed(b), before);

  await (await b.admin()).put('config/sync/pull-rv', { 'remove-vanished': true });
  const r = await run(b, 'pull-rv');
  assert.ok(r.ok, r.log);
  assert.deepEqual(removed(r.report), [4, 4, 2], 'gx, g1, g2 and m with their snapshots; lv/gone/deep, then lv/gone');
  assert.deepEqual((await listed(b)).filter((s) => s.startsWith('lv')), ['lv/mixed:host/local/1000', 'lv/prot:host/p/1000', 'lv:host/stay/1000']);
  assert.deepEqual(await d.listNamespaces('lv'), ['lv', 'lv/mixed', 'lv/prot'], 'the anchor stays; a namespace that still holds something stays');
  assert.match(r.log, /namespace 'lv\/gone\/deep': vanished from the source: removed[\s\S]*namespace 'lv\/gone': vanished from the source: removed/, 'the deepest first');
  assert.match(r.log, /ns\/lv\/prot\/host\/p\/\S+: vanished from the source, but protected: kept/);
  assert.match(r.log, /namespace 'lv\/prot': vanished from the source, but kept/);
  assert.match(r.log, /namespace 'lv\/mixed': vanished from the source, but kept/);

  const again = await run(b, 'pull-rv');
  assert.deepEqual(removed(again.report), [0, 0, 0], 'what stays is not counted again');
  const dstAdmin = await b.admin();
  await assert.rejects(dstAdmin.delete('admin/datastore/default/namespace', { ns: 'lv/prot', 'delete-groups': true }), code('PROTECTED'));
  assert.deepEqual(await dstAdmin.delete('admin/datastore/default/namespace', { ns: 'lv/prot', 'delete-groups': true, 'error-on-protected': false }), { 'removed-groups': 0, 'removed-snapshots': 0, 'protected-snapshots': 1 });
  await assert.rejects(dstAdmin.delete('admin/datastore/default/namespace', { ns: '' }), code('INVALID_ARGUMENT'));
});

test('push remove-vanished removes groups and namespaces on the remote as the remote user may; a refusal is reported and the push goes on', TIMEOUT, async () => {
  const peer = await b.admin();
  await peer.post('access/users', { userid: 'pusher@pbs', password: 'pusher-password-1' });
  await peer.put('access/acl', { path: '/datastore/default', role: 'DatastoreBackup', 'auth-id': 'pusher@pbs' });
  const bs = await store(b);
  for (const ns of ['pm', 'pm/sub', 'pm/sub2']) await bs.createNamespace(ns);
  await (await a.admin()).post('config/remote', { name: 'low', host: '127.0.0.1', port: b.port, 'auth-id': 'pusher@pbs', password: 'pusher-password-1', fingerprint: b.fingerprint });
  await (await a.admin()).post('config/sync', { id: 'pushv', store: 'default', remote: 'low', 'remote-store': 'default', 'sync-direction': 'push', ns: 'pv', 'remote-ns': 'pm' });
  await snap(a, host('x', 'pv'), 1000, [40]);
  await snap(a, host('y', 'pv'), 1000, [41]);
  await snap(a, host('z', 'pv/sub'), 1000, [42]);
  await snap(a, host('w', 'pv/sub2'), 1000, [43]);
  assert.equal((await run(a, 'pushv')).report.snapshotsSynced, 4);
  assert.equal(await bs.getOwner(host('x', 'pm')), 'pusher@pbs');
  await bs.setProtected({ ...host('w', 'pm/sub2'), time: 1000 }, true);
  await snap(b, host('foreign', 'pm/sub'), 1000, [44]); // owned by test@pbs

  const as = await store(a);
  await removeGroup(as, host('y', 'pv'));
  for (const ns of ['pv/sub', 'pv/sub2']) await removeNamespaceTree(as, ns, true);
  await snap(a, host('x', 'pv'), 2000, [45]);
  const plain = await run(a, 'pushv');
  assert.ok(plain.ok, plain.log);
  assert.deepEqual([plain.report.snapshotsSynced, ...removed(plain.report)], [1, 0, 0, 0], 'without remove-vanished nothing is removed');

  await (await a.admin()).put('config/sync/pushv', { 'remove-vanished': true });
  await snap(a, host('x', 'pv'), 3000, [46]);
  const refused = await run(a, 'pushv');
  assert.equal(refused.ok, false, 'SYNC_INCOMPLETE');
  assert.equal(refused.report.snapshotsSynced, 1, 'the push goes on past the refusals');
  assert.deepEqual(refused.report.failures.map((f) => `${f.item} ${f.code}`).sort(), ['ns/pm/host/y FORBIDDEN', 'ns/pm/sub/host/z FORBIDDEN', 'ns/pm/sub2/host/w FORBIDDEN'], 'DatastoreBackup cannot prune');
  assert.match(refused.log, /ns\/pm\/host\/y: remove-vanished failed: \[FORBIDDEN\]/);
  assert.deepEqual(removed(refused.report), [0, 0, 0]);

  await peer.put('access/acl', { path: '/datastore/default', role: 'DatastorePowerUser', 'auth-id': 'pusher@pbs' });
  const pruner = await run(a, 'pushv');
  assert.deepEqual(removed(pruner.report), [2, 2, 0], 'y and z go; the protected w keeps its group');
  assert.deepEqual(pruner.report.failures.map((f) => `${f.item} ${f.code}`), ["namespace 'pm/sub' on the remote FORBIDDEN"], 'a namespace needs Datastore.Modify there');
  assert.match(pruner.log, /ns\/pm\/sub2\/host\/w: vanished locally, but 1 protected snapshot\(s\) there: group kept/);

  await peer.put('access/acl', { path: '/datastore/default', role: 'DatastoreAdmin', 'auth-id': 'pusher@pbs' });
  const admin = await run(a, 'pushv');
  assert.ok(admin.ok, admin.log);
  assert.deepEqual(removed(admin.report), [0, 0, 0], "another owner's group keeps pm/sub, a protected snapshot keeps pm/sub2");
  assert.match(admin.log, /namespace 'pm\/sub' on the remote: vanished locally, but kept/);
  assert.deepEqual((await listed(b)).filter((s) => s.startsWith('pm')), ['pm/sub2:host/w/1000', 'pm/sub:host/foreign/1000', 'pm:host/x/1000', 'pm:host/x/2000', 'pm:host/x/3000']);

  await peer.delete('admin/datastore/default/groups', { ns: 'pm/sub', 'backup-type': 'host', 'backup-id': 'foreign' });
  await bs.setProtected({ ...host('w', 'pm/sub2'), time: 1000 }, false);
  const last = await run(a, 'pushv');
  assert.ok(last.ok, last.log);
  assert.deepEqual(removed(last.report), [1, 1, 2]);
  assert.deepEqual(await bs.listNamespaces('pm'), ['pm'], 'the anchor stays');
});
