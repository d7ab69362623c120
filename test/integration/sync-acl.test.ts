/**
 * A sync job acts as its owner in every namespace it reaches, each checked on its own ACL path,
 * between two real servers on loopback (`b` pulls from `a`; `a` pushes to `b`):
 * - pull: a local namespace is made only where the owner holds Datastore.Modify on its parent;
 *   without it that namespace fails (FORBIDDEN, in the report) and the rest syncs; once granted,
 *   the next run makes it;
 * - push: a namespace an ACL closes to the owner (NoAccess below a grant) is not pushed, and the
 *   log does not name it; a push job made without an owner reads as its maker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupRef } from '../../src/core/backup-ref.ts';
import type { SyncReport } from '../../src/jobs/sync/pull.ts';
import type { TestServer } from '../helpers/server-fixture.ts';
import { closePair, createJob, listed, runJob, snap, startSyncPair } from '../helpers/sync-fixture.ts';
import { tokenClient } from '../helpers/users-fixture.ts';

const TIMEOUT = { timeout: 180_000 };
let a: TestServer;
let b: TestServer;

before(async () => {
  [a, b] = await startSyncPair({ push: true });
});

after(() => closePair(a, b));

const host = (id: string, ns = ''): GroupRef => ({ ns, type: 'host', id });

test('pull makes a local namespace only where its owner may (Datastore.Modify on the parent)', TIMEOUT, async () => {
  await snap(a, host('top', 'x'), 1000, [1]);
  await snap(a, host('deep', 'x/sub'), 1000, [2]);
  const admin = await b.admin();
  await admin.post('admin/datastore/default/namespace', { name: 'in' });
  await admin.post('access/users', { userid: 'puller@pbs', password: 'puller-secret' });
  await admin.put('access/acl', { path: '/datastore/default/in', role: 'DatastoreBackup', 'auth-id': 'puller@pbs' });
  await createJob(b, 'pull-acl', { 'remote-ns': 'x', ns: 'in', owner: 'puller@pbs' });

  const first = await runJob(b, 'pull-acl');
  const r = first.result as SyncReport;
  assert.deepEqual(r.failures.map((f) => `${f.item} ${f.code}`), ["namespace 'in/sub' FORBIDDEN"]);
  assert.deepEqual((await listed(b)).filter((s) => s.startsWith('in')), ['in:host/top/1000'], 'the namespace it may use is synced');

  await admin.put('access/acl', { path: '/datastore/default/in', role: 'DatastoreAdmin', 'auth-id': 'puller@pbs' });
  const second = await runJob(b, 'pull-acl');
  assert.deepEqual((second.result as SyncReport).failures, []);
  assert.deepEqual((await listed(b)).filter((s) => s.startsWith('in')), ['in/sub:host/deep/1000', 'in:host/top/1000']);
});

test('push reads as its owner: a namespace an ACL closes is not pushed, nor named', TIMEOUT, async () => {
  await snap(a, host('open', 'team'), 1000, [3]);
  await snap(a, host('secret', 'team/locked'), 1000, [4]);
  await snap(a, host('fine', 'team/ok'), 1000, [5]);
  const admin = await a.admin();
  const pusher = await tokenClient(a, 'pusher@pbs', [
    ['/datastore/default/team', 'DatastoreReader'],
    ['/datastore/default/team/locked', 'NoAccess'],
    ['/remote/dst', 'RemoteSyncPushOperator'],
  ]);
  await (await b.admin()).post('admin/datastore/default/namespace', { name: 'copy' });

  // made by the token itself, without an owner: the job reads as its maker, not as the server
  await pusher.post('config/sync', { id: 'push-acl', store: 'default', ns: 'team', remote: 'dst', 'remote-store': 'default', 'remote-ns': 'copy', 'sync-direction': 'push' });
  const job = (await admin.get('config/sync/push-acl')) as { owner?: string };
  assert.equal(job.owner, 'pusher@pbs!t');

  const task = await runJob(a, 'push-acl');
  const log = (await a.hs.jobs.tasks.readLog(task.upid)).lines.join('\n');
  const there = (await listed(b)).filter((s) => s.startsWith('copy'));
  assert.deepEqual(there, ['copy/ok:host/fine/1000', 'copy:host/open/1000']);
  assert.doesNotMatch(log, /locked|secret/);
  assert.match(log, /skipped 1 namespace\(s\)/);
});
