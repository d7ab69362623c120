/**
 * Prune and verify of a group on a datastore that two users share, with PBS's owner rules, through
 * the real CLI and server: with DatastorePowerUser (Datastore.Prune and Datastore.Backup) each user
 * prunes and verifies its own group and is refused (FORBIDDEN, nothing removed) on the other's; a
 * verify of the whole datastore needs Datastore.Verify; an admin (Datastore.Modify) prunes any
 * group. Before, Datastore.Prune alone let one user prune another user's backups away. Group
 * notes follow the same rules (Datastore.Backup as owner), and their first line is the group's
 * comment in `holdfast list`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cliOk, startTestServer, type CliResult, type TestServer } from '../helpers/server-fixture.ts';
import { addUsers, assertRefused as refused, cliAs, smallSource } from '../helpers/users-fixture.ts';

let srv: TestServer;
let src = '';

before(async () => {
  srv = await startTestServer();
  src = smallSource(srv);
  await addUsers(srv, ['alice@pbs', 'bob@pbs'], 'DatastorePowerUser');
  let time = 1_800_000_000;
  for (const who of ['alice', 'bob'] as const) {
    for (let i = 0; i < 2; i++) cliOk(await as(who, ['backup', `root.pxar:${src}`, '--backup-id', who, '--backup-time', String((time += 60))]), `${who}'s backup ${i}`);
  }
});

after(async () => {
  await srv?.close();
});

const as = (who: 'alice' | 'bob', args: readonly string[]): Promise<CliResult> => cliAs(srv, `${who}@pbs`, args);

async function snapshotsOf(id: string): Promise<number> {
  const list = JSON.parse(cliOk(await srv.cli(['snapshot', 'list', `host/${id}`, '--output-format', 'json']), 'list').stdout) as unknown[];
  return list.length;
}

test("Datastore.Prune prunes the caller's own group only; Datastore.Modify any", { timeout: 120_000 }, async () => {
  refused(await as('bob', ['prune', 'host/alice', '--keep-last', '1']), 'FORBIDDEN');
  refused(await as('bob', ['prune', 'host/alice', '--keep-last', '1', '--dry-run']), 'FORBIDDEN');
  assert.equal(await snapshotsOf('alice'), 2, "bob removed nothing of alice's");
  cliOk(await as('bob', ['prune', 'host/bob', '--keep-last', '1']), 'bob prunes his own');
  assert.equal(await snapshotsOf('bob'), 1);
  cliOk(await srv.cli(['prune', 'host/alice', '--keep-last', '1']), 'the admin prunes any group');
  assert.equal(await snapshotsOf('alice'), 1);
});

test("Datastore.Backup verifies the groups it owns: its own group, or the datastore (its groups only); another user's group needs Datastore.Verify", { timeout: 120_000 }, async () => {
  refused(await as('bob', ['verify', 'default', '--group', 'host/alice']), 'FORBIDDEN');
  const own = JSON.parse(cliOk(await as('bob', ['verify', 'default', '--group', 'host/bob', '--output-format', 'json']), 'bob verifies his own group').stdout) as { result: { snapshots: { snapshot: string }[] } };
  assert.equal(own.result.snapshots.length, 1);
  const whole = JSON.parse(cliOk(await as('bob', ['verify', 'default', '--output-format', 'json']), 'bob verifies the datastore').stdout) as { result: { snapshots: { snapshot: string }[] } };
  assert.deepEqual(whole.result.snapshots.map((x) => x.snapshot.split('/').slice(0, 2).join('/')), ['host/bob'], "only bob's group");
  const all = JSON.parse(cliOk(await srv.cli(['verify', 'default', '--output-format', 'json']), 'the admin verifies everything').stdout) as { result: { snapshots: unknown[] } };
  assert.equal(all.result.snapshots.length, 2);
});

test("group notes: the owner reads and sets its group's notes, another user may do neither; the first line is the comment in listings", { timeout: 120_000 }, async () => {
  cliOk(await as('alice', ['group', 'notes', 'update', 'host/alice', 'the web server\nbacked up nightly']), 'alice sets her notes');
  assert.equal(cliOk(await as('alice', ['group', 'notes', 'show', 'host/alice']), 'show').stdout.trim(), 'the web server\nbacked up nightly');
  refused(await as('bob', ['group', 'notes', 'show', 'host/alice']), 'FORBIDDEN');
  refused(await as('bob', ['group', 'notes', 'update', 'host/alice', 'mine now']), 'FORBIDDEN');
  refused(await srv.cli(['group', 'notes', 'show', 'host/nobody']), 'NOT_FOUND');
  const groups = JSON.parse(cliOk(await srv.cli(['list', '--output-format', 'json']), 'list').stdout) as { 'backup-id': string; comment?: string }[];
  assert.deepEqual(groups.map((g) => [g['backup-id'], g.comment ?? null]), [['alice', 'the web server'], ['bob', null]]);
  assert.match(cliOk(await srv.cli(['list']), 'list').stdout, /host\/alice .* the web server/);
});
