/**
 * Push sync jobs, and the remote and sync-job commands as a user runs them: server `a` holds the
 * snapshots and runs the job (configured with the real CLI), server `b` is its remote `peer` and
 * receives them through its backup protocol. Also: the privilege checks of the remote and sync
 * API routes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SyncReport } from '../../src/jobs/sync/pull.ts';
import { cliOk, describeCli, type TestServer } from '../helpers/server-fixture.ts';
import { closePair, content, expected, listed, snap, startPair, store } from '../helpers/sync-fixture.ts';

const TIMEOUT = { timeout: 180_000 };
let a: TestServer;
let b: TestServer;

before(async () => {
  [a, b] = await startPair();
});

after(() => closePair(a, b));

async function runPush(): Promise<SyncReport> {
  const r = cliOk(await a.cli(['sync-job', 'run', 'push1', '--output-format', 'json']), 'sync-job run');
  return (JSON.parse(r.stdout) as { result: SyncReport }).result;
}

const host = (id: string, ns = ''): { ns: string; type: 'host'; id: string } => ({ ns, type: 'host', id });

test('holdfast remote and sync-job set up a push; it uploads only chunks the remote group lacks, manifest last, and remove-vanished deletes there', TIMEOUT, async () => {
  await snap(a, host('p'), 1000, [50, 51]);
  await snap(a, host('p'), 2000, [50, 51, 52]);
  await snap(a, host('q', 'pns'), 1000, [53]);

  cliOk(await a.cli(['remote', 'create', 'peer', '--host', `127.0.0.1:${b.port}`, '--auth-id', 'admin@pbs', '--fingerprint', b.fingerprint], 'default', { HOLDFAST_REMOTE_PASSWORD: b.password }), 'remote create');
  const remotes = JSON.parse(cliOk(await a.cli(['remote', 'list', '--output-format', 'json']), 'remote list').stdout) as Record<string, unknown>[];
  assert.deepEqual(remotes, [{ name: 'peer', host: '127.0.0.1', port: b.port, 'auth-id': 'admin@pbs', fingerprint: b.fingerprint.toLowerCase() }]);
  assert.ok(!JSON.stringify(remotes).includes(b.password), 'no listing shows the password');
  cliOk(await a.cli(['sync-job', 'create', 'push1', '--store', 'default', '--remote', 'peer', '--remote-store', 'default', '--sync-direction', 'push', '--remote-ns', 'mirror', '--worker-threads', '2']), 'sync-job create');

  const first = await runPush();
  assert.deepEqual([first.snapshotsSynced, first.chunksTransferred, first.chunksReused], [3, 4, 2], 'the second snapshot of host/p reuses the first one\'s chunks on the remote');
  assert.deepEqual(await listed(b), ['mirror/pns:host/q/1000', 'mirror:host/p/1000', 'mirror:host/p/2000']);
  assert.ok((await content(b, { ...host('p', 'mirror'), time: 2000 })).equals(expected([50, 51, 52])));

  await snap(a, host('p'), 3000, [50, 52, 54]);
  cliOk(await a.cli(['sync-job', 'update', 'push1', '--rate-out', '1GiB', '--burst-out', '64MiB']), 'sync-job update --rate-out');
  const second = await runPush();
  assert.deepEqual([second.snapshotsSynced, second.chunksTransferred, second.chunksReused], [1, 1, 2], 'only chunk 54 is uploaded');
  assert.ok(second.rateLimitedBytes > 32 * 1024 && second.rateLimitedBytes === second.bytes, 'every byte the push writes is drawn from the rate-out bucket');
  cliOk(await a.cli(['sync-job', 'update', 'push1', '--delete', 'rate-out', 'burst-out']), 'sync-job update --delete');

  await (await store(a)).deleteSnapshot({ ...host('p'), time: 1000 });
  cliOk(await a.cli(['sync-job', 'update', 'push1', '--remove-vanished']), 'sync-job update');
  const third = await runPush();
  assert.equal(third.snapshotsRemoved, 1);
  assert.deepEqual(await listed(b), ['mirror/pns:host/q/1000', 'mirror:host/p/2000', 'mirror:host/p/3000']);

  const tasks = JSON.parse(cliOk(await a.cli(['task', 'list', '--output-format', 'json']), 'task list').stdout) as { worker_type: string; worker_id: string }[];
  assert.equal(tasks.filter((t) => t.worker_type === 'syncjob' && t.worker_id === 'push1').length, 3, 'each run is a syncjob task');

  const refused = await a.cli(['remote', 'delete', 'peer']);
  assert.equal(refused.code, 4, describeCli(refused));
  assert.match(refused.stderr, /used by sync job push1/);
  const jobs = JSON.parse(cliOk(await a.cli(['sync-job', 'list', '--output-format', 'json']), 'sync-job list').stdout) as Record<string, unknown>[];
  assert.deepEqual(jobs, [{ id: 'push1', store: 'default', remote: 'peer', 'remote-store': 'default', 'remote-ns': 'mirror', 'sync-direction': 'push', 'remove-vanished': 'true', 'worker-threads': '2' }]);
  cliOk(await a.cli(['sync-job', 'delete', 'push1']), 'sync-job delete');
  cliOk(await a.cli(['remote', 'delete', 'peer']), 'remote delete');
  for (const cmd of [['remote', 'create'], ['remote', 'update'], ['sync-job', 'create'], ['sync-job', 'run'], ['sync-job', 'update']]) {
    const help = cliOk(await a.cli([...cmd, '--help']), `${cmd.join(' ')} --help`);
    assert.match(help.stdout, /Usage: holdfast/);
  }
});

test('the remote and sync routes check privileges: Remote.Modify to create, Remote.Audit to see, the job privileges to run', TIMEOUT, async () => {
  const admin = await a.admin();
  await admin.post('access/users', { userid: 'op@pbs', password: 'op-password-1' });
  const op = a.http();
  await op.login('op@pbs', 'op-password-1');
  const forbidden = (p: Promise<unknown>, why?: string): Promise<void> => assert.rejects(p, (e: unknown) => (e as { code?: string }).code === 'FORBIDDEN', why);
  await forbidden(op.post('config/remote', { name: 'peer2', host: '127.0.0.1', port: b.port, 'auth-id': 'admin@pbs', password: b.password }));
  await admin.post('config/remote', { name: 'peer2', host: '127.0.0.1', port: b.port, 'auth-id': 'admin@pbs', password: b.password, fingerprint: b.fingerprint });
  assert.deepEqual(await op.get('config/remote'), [], 'a user without Remote.Audit sees no remote');
  await admin.put('access/acl', { path: '/remote/peer2', role: 'RemoteAudit', 'auth-id': 'op@pbs' });
  assert.deepEqual(((await op.get('config/remote')) as { name: string }[]).map((r) => r.name), ['peer2']);
  await forbidden(op.delete('config/remote/peer2'));

  await admin.post('config/sync', { id: 'pull2', store: 'default', remote: 'peer2', 'remote-store': 'default' });
  await forbidden(op.post('admin/sync/pull2/run'));
  await forbidden(op.post('config/sync', { id: 'pull3', store: 'default', remote: 'peer2', 'remote-store': 'default' }));
  await admin.put('access/acl', { path: '/datastore/default', role: 'DatastoreBackup', 'auth-id': 'op@pbs' });
  await forbidden(op.post('admin/sync/pull2/run'), 'Remote.Read on the remote path is still missing');
  await admin.put('access/acl', { path: '/remote/peer2', role: 'RemoteSyncOperator', 'auth-id': 'op@pbs' });
  await forbidden(op.post('admin/sync/pull2/run'), 'the owner root@pam is not op@pbs: Datastore.Modify is needed');
  await admin.put('config/sync/pull2', { owner: 'op@pbs' });
  const upid = (await op.post('admin/sync/pull2/run')) as string;
  assert.equal((await a.hs.jobs.tasks.wait(upid)).task.authId, 'op@pbs');
  await assert.rejects(admin.post('config/remote', { name: 'x!', host: 'h', 'auth-id': 'a@pbs', password: 'p' }), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT');
});

test('Remote.Modify cannot point a remote elsewhere without giving its password again (the stored one would follow)', TIMEOUT, async () => {
  const admin = await a.admin();
  await admin.post('access/users', { userid: 'mover@pbs', password: 'mover-password-1' });
  await admin.post('config/remote', { name: 'peer3', host: '127.0.0.1', port: b.port, 'auth-id': 'admin@pbs', password: b.password, fingerprint: b.fingerprint });
  await admin.put('access/acl', { path: '/remote/peer3', role: 'RemoteAdmin', 'auth-id': 'mover@pbs' });
  const mover = a.http();
  await mover.login('mover@pbs', 'mover-password-1');
  const refused = (p: Promise<unknown>): Promise<void> => assert.rejects(p, (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT');
  await refused(mover.put('config/remote/peer3', { host: 'attacker.example' }));
  await refused(mover.put('config/remote/peer3', { port: 1 }));
  await refused(mover.put('config/remote/peer3', { delete: 'fingerprint' }));
  await refused(mover.put('config/remote/peer3', { 'auth-id': 'other@pbs' }));
  const kept = (await admin.get('config/remote/peer3')) as { host: string; port?: number; fingerprint?: string };
  assert.deepEqual([kept.host, kept.port, kept.fingerprint], ['127.0.0.1', b.port, b.fingerprint], 'nothing changed');
  await mover.put('config/remote/peer3', { comment: 'a comment needs no password' });
  await mover.put('config/remote/peer3', { host: 'localhost', password: 'the-new-servers-password' });
  assert.equal(((await admin.get('config/remote/peer3')) as { host: string }).host, 'localhost');
  await admin.delete('config/remote/peer3');
});
