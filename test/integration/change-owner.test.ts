/**
 * `holdfast change-owner` and its route through the real CLI and server, with PBS's rules: a user
 * with Datastore.Backup may hand its group to its own token and back, but not to another user,
 * and its token may not give the group away; Datastore.Modify may hand any group to anyone; the
 * new owner must be an active account; after the change the new owner backs up into the group
 * and the old one is refused. `holdfast group forget` removes a group only with --yes, keeps
 * protected snapshots (and the group with them), and needs Datastore.Prune as owner.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cliOk, describeCli, startTestServer, type CliResult, type TestServer } from '../helpers/server-fixture.ts';
import { addUsers, assertRefused, cliAs, smallSource } from '../helpers/users-fixture.ts';
import { mayHandOver } from '../../src/server/routes/group-owner.ts';

let srv: TestServer;
let src = '';
let token = '';
let time = 1_800_000_000;

before(async () => {
  srv = await startTestServer();
  src = smallSource(srv);
  await addUsers(srv, ['alice@pbs', 'bob@pbs'], 'DatastoreBackup');
  const c = await srv.admin();
  token = ((await c.post('access/users/alice@pbs/token/t1')) as { value: string }).value;
  await c.put('access/acl', { path: '/datastore/default', role: 'DatastoreBackup', 'auth-id': 'alice@pbs!t1' });
});

after(async () => {
  await srv?.close();
});

/** The CLI as `who` (a user with its password, or alice's token with its secret). */
function as(who: 'alice' | 'bob' | 'token' | 'admin', args: readonly string[]): Promise<CliResult> {
  if (who === 'admin') return srv.cli(args);
  if (who !== 'token') return cliAs(srv, `${who}@pbs`, args);
  return srv.cli(args, 'default', { HOLDFAST_REPOSITORY: `alice@pbs!t1@127.0.0.1:${srv.port}:default`, HOLDFAST_PASSWORD: token });
}

const backup = (who: 'alice' | 'bob' | 'token'): Promise<CliResult> => as(who, ['backup', `root.pxar:${src}`, '--backup-id', 'laptop', '--backup-time', String((time += 60))]);

const refused = assertRefused;

test('mayHandOver: without Datastore.Modify only between a user and its own tokens, by the user', () => {
  assert.equal(mayHandOver('a@pbs', 'a@pbs', 'a@pbs!t'), true);
  assert.equal(mayHandOver('a@pbs', 'a@pbs!t', 'a@pbs'), true);
  assert.equal(mayHandOver('a@pbs', 'a@pbs!t', 'a@pbs!u'), true);
  assert.equal(mayHandOver('a@pbs', 'a@pbs', 'a@pbs'), false); // user to user
  assert.equal(mayHandOver('a@pbs', 'a@pbs', 'b@pbs'), false);
  assert.equal(mayHandOver('a@pbs', 'b@pbs', 'a@pbs'), false);
  assert.equal(mayHandOver('a@pbs', 'a@pbs', 'b@pbs!t'), false);
  assert.equal(mayHandOver('a@pbs!t', 'a@pbs!t', 'a@pbs'), false); // a token gives nothing away
});

test('a user hands its group to its token, which then backs up into it; the token cannot give it away', { timeout: 120_000 }, async () => {
  cliOk(await backup('alice'), 'alice makes the group');
  refused(await backup('bob'), 'OWNER_MISMATCH');
  refused(await as('alice', ['change-owner', 'host/laptop', 'bob@pbs']), 'FORBIDDEN');
  refused(await as('bob', ['change-owner', 'host/laptop', 'bob@pbs']), 'FORBIDDEN');
  const moved = cliOk(await as('alice', ['change-owner', 'host/laptop', 'alice@pbs!t1']), 'to the token');
  assert.match(moved.stdout, /host\/laptop now belongs to alice@pbs!t1/);
  cliOk(await backup('token'), 'the token backs up into the group');
  refused(await as('token', ['change-owner', 'host/laptop', 'alice@pbs']), 'FORBIDDEN');
  const groups = JSON.parse(cliOk(await as('admin', ['list', '--output-format', 'json']), 'list').stdout) as { owner?: string }[];
  assert.deepEqual(groups.map((g) => g.owner), ['alice@pbs!t1']);
});

test('Datastore.Modify hands any group to any active account; an unknown owner, a bad id or a missing group is refused', { timeout: 120_000 }, async () => {
  refused(await as('admin', ['change-owner', 'host/laptop', 'nobody@pbs']), 'INVALID_ARGUMENT');
  refused(await as('admin', ['change-owner', 'host/laptop', 'alice@pbs!nope']), 'INVALID_ARGUMENT');
  refused(await as('admin', ['change-owner', 'host/laptop', 'not an id']), 'INVALID');
  refused(await as('admin', ['change-owner', 'host/nothing', 'bob@pbs']), 'NOT_FOUND');
  cliOk(await as('admin', ['change-owner', 'host/laptop', 'bob@pbs']), 'admin gives it to bob');
  cliOk(await backup('bob'), 'bob backs up into it');
  refused(await backup('token'), 'OWNER_MISMATCH');
});

test('group forget: asks for --yes, keeps protected snapshots and the group with them, refuses a group one does not own', { timeout: 120_000 }, async () => {
  const mine = (JSON.parse(cliOk(await as('alice', ['snapshot', 'list', '--output-format', 'json']), 'list').stdout) as { 'backup-id': string; 'backup-time': number }[]).filter((x) => x['backup-id'] === 'laptop');
  assert.equal(mine.length, 0, 'alice sees none of bob\'s snapshots');
  refused(await as('bob', ['group', 'forget', 'host/laptop', '--yes']), 'FORBIDDEN'); // Datastore.Backup has no Prune
  await (await srv.admin()).put('access/acl', { path: '/datastore/default', role: 'DatastorePowerUser', 'auth-id': 'bob@pbs' });
  const unconfirmed = await as('bob', ['group', 'forget', 'host/laptop']);
  assert.equal(unconfirmed.code, 2, describeCli(unconfirmed));
  assert.match(unconfirmed.stderr, /removes host\/laptop and its \d+ snapshot\(s\) for good; add --yes/);
  refused(await as('alice', ['group', 'forget', 'host/laptop', '--yes']), 'NOT_FOUND|FORBIDDEN');
  refused(await as('admin', ['group', 'forget', 'host/nothing', '--yes']), 'NOT_FOUND');

  const all = JSON.parse(cliOk(await as('admin', ['snapshot', 'list', 'host/laptop', '--output-format', 'json']), 'list').stdout) as { 'backup-time': number }[];
  const newest = all.at(-1)!['backup-time'];
  cliOk(await as('admin', ['snapshot', 'protected', 'update', `host/laptop/${newest}`, 'true']), 'protect');
  const partial = cliOk(await as('bob', ['group', 'forget', 'host/laptop', '--yes']), 'forget with one protected');
  assert.match(partial.stdout, new RegExp(`removed ${all.length - 1} snapshot\\(s\\) of host/laptop; 1 protected snapshot\\(s\\) keep the group`));
  cliOk(await as('admin', ['snapshot', 'protected', 'update', `host/laptop/${newest}`, 'false']), 'unprotect');
  assert.match(cliOk(await as('bob', ['group', 'forget', 'host/laptop', '--yes']), 'forget').stdout, /removed host\/laptop and its 1 snapshot\(s\)/);
  const groups = JSON.parse(cliOk(await as('admin', ['list', '--output-format', 'json']), 'list').stdout) as unknown[];
  assert.deepEqual(groups, []);
});
