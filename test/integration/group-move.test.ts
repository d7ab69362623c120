/**
 * `holdfast group move` and `holdfast namespace move` through the real CLI and server (POST
 * …/move-group and …/move-namespace, tasks). `group move`:
 * a group moves to another namespace and restores from there byte for byte; a second move merges
 * into the group it made; `--no-merge` and a snapshot at the same time are refused with nothing
 * moved. Privileges: a DatastorePowerUser moves its own group, not another user's (FORBIDDEN), and
 * needs Datastore.Backup on the target namespace; a missing namespace is NOT_FOUND before any
 * task exists. `namespace move`: a tree moves into another namespace (made when missing) and the
 * emptied source goes; it needs Datastore.Modify on both sides.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliOk, startTestServer, type CliResult, type TestServer } from '../helpers/server-fixture.ts';
import { addUsers, assertRefused as refused, cliAs, smallSource } from '../helpers/users-fixture.ts';

let srv: TestServer;
let src = '';
let time = 1_800_000_000;

before(async () => {
  srv = await startTestServer();
  src = smallSource(srv);
  writeFileSync(join(src, 'f'), 'first\n');
  for (const ns of ['a', 'b']) cliOk(await srv.cli(['namespace', 'create', ns]), `namespace ${ns}`);
  // on the root namespace only, and on namespace a (so not on b)
  await addUsers(srv, ['alice@pbs', 'bob@pbs'], 'DatastorePowerUser', '/datastore/default', { propagate: false });
  const c = await srv.admin();
  for (const userid of ['alice@pbs', 'bob@pbs']) await c.put('access/acl', { path: '/datastore/default/a', role: 'DatastorePowerUser', 'auth-id': userid });
});

after(async () => {
  await srv?.close();
});

const as = (who: 'alice' | 'bob' | 'admin', args: readonly string[]): Promise<CliResult> => (who === 'admin' ? srv.cli(args) : cliAs(srv, `${who}@pbs`, args));

async function times(ns: string, group: string): Promise<number[]> {
  const r = await srv.cli(['snapshot', 'list', group, ...(ns ? ['--ns', ns] : []), '--output-format', 'json']);
  if (r.code !== 0) return [];
  return (JSON.parse(r.stdout) as { 'backup-time': number }[]).map((s) => s['backup-time']).sort();
}

test('a group moves to another namespace with its snapshots, restores from there, and a later move merges into it', { timeout: 120_000 }, async () => {
  const first = (time += 60);
  cliOk(await srv.cli(['backup', `root.pxar:${src}`, '--backup-id', 'web', '--backup-time', String(first)]), 'backup 1');
  writeFileSync(join(src, 'f'), 'second\n');
  const second = (time += 60);
  cliOk(await srv.cli(['backup', `root.pxar:${src}`, '--backup-id', 'web', '--backup-time', String(second)]), 'backup 2');

  const out = cliOk(await srv.cli(['group', 'move', 'host/web', 'a']), 'move');
  assert.match(out.stdout, /moved 2 snapshot\(s\) into the new group ns\/a\/host\/web/);
  assert.deepEqual(await times('a', 'host/web'), [first, second]);
  assert.deepEqual(await times('', 'host/web'), []);
  const target = join(srv.dir, 'restored');
  cliOk(await srv.cli(['restore', `host/web/${first}`, 'root.pxar', target, '--ns', 'a']), 'restore from the new namespace');
  assert.equal(readFileSync(join(target, 'f'), 'utf8'), 'first\n');

  const third = (time += 60);
  cliOk(await srv.cli(['backup', `root.pxar:${src}`, '--backup-id', 'web', '--backup-time', String(third)]), 'backup 3, in the root again');
  refused(await srv.cli(['group', 'move', 'host/web', 'a', '--no-merge']), 'ALREADY_EXISTS');
  const merged = JSON.parse(cliOk(await srv.cli(['group', 'move', 'host/web', 'a', '--output-format', 'json']), 'merge').stdout) as { result: { merged: boolean; 'moved-snapshots': number } };
  assert.deepEqual(merged.result, { 'target-ns': 'a', 'moved-snapshots': 1, merged: true });
  assert.deepEqual(await times('a', 'host/web'), [first, second, third]);

  cliOk(await srv.cli(['backup', `root.pxar:${src}`, '--backup-id', 'web', '--backup-time', String(first)]), 'a root snapshot at the time of one in a');
  refused(await srv.cli(['group', 'move', 'host/web', 'a']), 'ALREADY_EXISTS');
  assert.deepEqual(await times('', 'host/web'), [first], 'nothing moved');
  refused(await srv.cli(['group', 'move', 'host/web', 'nope']), 'NOT_FOUND');
  refused(await srv.cli(['group', 'move', 'host/nobody', 'b']), 'NOT_FOUND');
});

test("a DatastorePowerUser moves its own group where it may back up, never another user's", { timeout: 120_000 }, async () => {
  cliOk(await as('alice', ['backup', `root.pxar:${src}`, '--backup-id', 'alice', '--backup-time', String((time += 60))]), "alice's backup");
  refused(await as('bob', ['group', 'move', 'host/alice', 'a']), 'FORBIDDEN');
  const noTarget = await as('alice', ['group', 'move', 'host/alice', 'b']);
  refused(noTarget, 'FORBIDDEN');
  assert.match(noTarget.stderr, /target/);
  cliOk(await as('alice', ['group', 'move', 'host/alice', 'a']), 'alice moves her group where she may back up');
  assert.equal((await times('a', 'host/alice')).length, 1);
  cliOk(await as('admin', ['group', 'move', 'host/alice', '/', '--ns', 'a']), 'the admin moves it back to the root');
  assert.equal((await times('', 'host/alice')).length, 1);
});

test('namespace move: a tree into another namespace, which is made; the emptied source goes; Datastore.Modify on both sides', { timeout: 120_000 }, async () => {
  cliOk(await srv.cli(['namespace', 'create', 'b/deep']), 'b/deep');
  cliOk(await srv.cli(['backup', `root.pxar:${src}`, '--ns', 'b', '--backup-id', 'top', '--backup-time', String((time += 60))]), 'into b');
  cliOk(await srv.cli(['backup', `root.pxar:${src}`, '--ns', 'b/deep', '--backup-id', 'low', '--backup-time', String((time += 60))]), 'into b/deep');
  refused(await as('alice', ['namespace', 'move', 'b', 'a/b']), 'FORBIDDEN'); // DatastorePowerUser has no Datastore.Modify
  refused(await srv.cli(['namespace', 'move', 'b', 'b/deep/x']), 'INVALID_ARGUMENT');
  const out = cliOk(await srv.cli(['namespace', 'move', 'b', 'archive/b', '--output-format', 'json']), 'namespace move');
  const r = JSON.parse(out.stdout) as { result: Record<string, unknown> };
  assert.deepEqual(r.result, { 'target-ns': 'archive/b', 'moved-groups': 2, 'moved-snapshots': 2, 'removed-namespaces': 2 });
  const listed = cliOk(await srv.cli(['namespace', 'list']), 'list').stdout.split('\n').sort();
  assert.ok(listed.includes('archive/b/deep') && !listed.includes('b'), listed.join(' '));
  assert.equal((await times('archive/b/deep', 'host/low')).length, 1);
});
